//! One attempt's transcript in memory: a bounded tail window that follows
//! new output, and at most one window of older lines read back from the
//! transcript file while the user scrolls above the tail.
//!
//! Lines are numbered from the start of the transcript (0 is its first
//! display line) whether they are in memory or only in the file, so a view
//! that keeps its top line number never jumps when lines leave the tail or
//! are loaded above it.

use std::collections::VecDeque;
use std::ops::Range;

use super::folds::Folds;
use super::{Line, LineKind, event_lines, text_lines};
use crate::agent::AgentEvent;
use crate::core::TaskId;

/// Lines of the tail window: ten pages of a tall (100-line) terminal to
/// scroll back through without reading the file. For agent output such as
/// Claude's (~60 bytes of text per line) that is ~100 KB per attempt, ~5 MB
/// for fifty agents; reading further back costs ~25 ms per 10 MB of
/// transcript in the background.
pub const TAIL_LINES: usize = 1_000;
/// Bytes of text in the tail window: long lines (a minified file in a
/// message) leave the tail sooner, down to [`MIN_TAIL_LINES`].
pub const TAIL_BYTES: usize = 256 << 10;
/// Lines the tail keeps whatever their size, so that following output on a
/// tall terminal never needs the file.
pub const MIN_TAIL_LINES: usize = 256;
/// Lines of a window read from the file, centred on the view.
pub const WINDOW_LINES: usize = 2_000;
/// Bytes of text in a window read from the file: the lines farthest from
/// the view are left out beyond it.
pub const WINDOW_BYTES: usize = 1 << 20;
/// Lines above and below the view that should be in memory already: the
/// next window is read while the user still has these to scroll through.
/// A window read covers them ([`WINDOW_LINES`] ≥ 2 × this + a view), so the
/// view is settled after one read.
const PREFETCH: usize = WINDOW_LINES / 8;

/// Consecutive lines of a transcript, from line `start`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    pub start: usize,
    pub lines: Vec<Line>,
}

impl Window {
    /// The line after the last one.
    pub fn end(&self) -> usize {
        self.start + self.lines.len()
    }

    fn get(&self, i: usize) -> Option<&Line> {
        self.lines.get(i.checked_sub(self.start)?)
    }
}

/// Lines to read from an attempt's transcript file (in the background).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinesRequest {
    pub task: TaskId,
    pub attempt: u32,
    /// The transcript's path relative to `.fleet/`.
    pub rel: String,
    pub lines: Range<usize>,
    /// The line the view is centred on: when the lines are too long for
    /// [`WINDOW_BYTES`], those farthest from it are left out.
    pub focus: usize,
}

/// A search of the part of a transcript that is only in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub task: TaskId,
    pub attempt: u32,
    pub rel: String,
    /// Lower-cased.
    pub query: String,
    /// Lines `0..upto` are searched (the rest was in memory when asked).
    pub upto: usize,
}

/// A set of line numbers, one bit per line of the transcript (20 KB for
/// 160,000 lines): the matches of a search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    words: Vec<u64>,
}

impl Hits {
    pub fn insert(&mut self, i: usize) {
        let w = i / 64;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    pub fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// How many lines are in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// How many lines of the set are in `lo..hi`: whole words by their
    /// bit count, so a million lines cost a few thousand additions.
    pub fn count_in(&self, lo: usize, hi: usize) -> usize {
        if hi <= lo {
            return 0;
        }
        (lo / 64..=(hi - 1) / 64)
            .map(|w| {
                let word = self.words.get(w).copied().unwrap_or(0);
                let (first, last) = (w * 64, w * 64 + 64);
                let from = lo.max(first) - first;
                let to = hi.min(last) - first;
                let high = if to == 64 { u64::MAX } else { (1u64 << to) - 1 };
                let mask = high & !((1u64 << from) - 1);
                (word & mask).count_ones() as usize
            })
            .sum()
    }

    fn union(&mut self, other: &Hits) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= o;
        }
    }
}

/// Whether a display line matches a lower-cased query (the same test in
/// memory and in the file).
pub(super) fn matches_query(text: &str, query: &str) -> bool {
    text.to_lowercase().contains(query)
}

/// A search over the whole transcript: the lines in the tail are matched
/// in memory, the ones before it by their bit in `hits`.
#[derive(Debug, Clone, PartialEq)]
struct Search {
    /// Lower-cased.
    query: String,
    /// Lines before this one are searched in the file; the lines that left
    /// the tail since are matched as they leave.
    upto: usize,
    hits: Hits,
    file: FileSearch,
    /// A search step (true: forward) waiting for the file's matches.
    waiting: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
enum FileSearch {
    Running,
    Done,
    Failed(String),
}

/// Where a search step lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The next matching line, wrapping around.
    Found(usize),
    /// A line before it is only in the file, whose search has not answered.
    Waiting,
    NotFound,
}

/// The lines of one attempt: every line is numbered, the newest ones and
/// at most one window of older ones are in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    /// The newest lines: `tail_start()..total`.
    tail: VecDeque<Line>,
    /// Bytes of text in `tail`.
    tail_bytes: usize,
    /// Every line so far, in memory or not.
    total: usize,
    /// Older lines read from the file.
    window: Option<Window>,
    /// The lines last asked from the file, and whether they are on their way.
    asked: Option<Range<usize>>,
    loading: bool,
    /// Why the last read failed (no new read until [`Transcript::retry`]).
    error: Option<String>,
    search: Option<Search>,
    /// The tool results with output lines, for the whole transcript.
    folds: Folds,
    /// The first line of the verify gate's section (its `verify: <command>`
    /// note, or its first output line).
    verify_start: Option<usize>,
}

impl Transcript {
    /// Adds a line at the end; the oldest lines leave the tail beyond its
    /// bounds (an active search notes whether they match as they go).
    pub(super) fn push(&mut self, line: Line) {
        self.folds.push(self.total, line.kind);
        if self.verify_start.is_none()
            && (line.kind == LineKind::Verify
                || (line.kind == LineKind::Fleet && line.text.starts_with("verify: ")))
        {
            self.verify_start = Some(self.total);
        }
        self.tail_bytes += line.text.len();
        self.tail.push_back(line);
        self.total += 1;
        while self.tail.len() > TAIL_LINES
            || (self.tail_bytes > TAIL_BYTES && self.tail.len() > MIN_TAIL_LINES)
        {
            let index = self.tail_start();
            let Some(old) = self.tail.pop_front() else {
                break;
            };
            self.tail_bytes -= old.text.len();
            if let Some(s) = &mut self.search
                && matches_query(&old.text, &s.query)
            {
                s.hits.insert(index);
            }
        }
    }

    /// Adds the display lines of one agent event.
    pub fn push_event(&mut self, at_ms: i64, event: &AgentEvent) {
        for (kind, text) in event_lines(event) {
            self.push(Line { at_ms, kind, text });
        }
    }

    pub fn push_text(&mut self, at_ms: i64, kind: LineKind, text: &str) {
        for (kind, text) in text_lines(kind, text) {
            self.push(Line { at_ms, kind, text });
        }
    }

    /// Every line of the transcript so far, in memory or only in its file.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The first line of the tail window (lines before it are read from the file).
    pub fn tail_start(&self) -> usize {
        self.total - self.tail.len()
    }

    /// The tool results with output lines, and which are folded.
    pub fn folds(&self) -> &Folds {
        &self.folds
    }

    /// Opens or closes the fold of the tool result on line `header`.
    pub fn toggle_fold(&mut self, header: usize) -> bool {
        self.folds.toggle(header)
    }

    /// Shows line `i`: opens the fold that hides it.
    pub fn reveal(&mut self, i: usize) {
        self.folds.reveal(i);
    }

    /// Where the verify gate's section starts, once it has.
    pub fn verify_start(&self) -> Option<usize> {
        self.verify_start
    }

    /// Lines held in memory (the tail and the window of older lines).
    pub fn held(&self) -> usize {
        self.tail.len() + self.window.as_ref().map_or(0, |w| w.lines.len())
    }

    /// Bytes of text held in memory.
    pub fn held_bytes(&self) -> usize {
        let window = self
            .window
            .as_ref()
            .map_or(0, |w| w.lines.iter().map(|l| l.text.len()).sum::<usize>());
        self.tail_bytes + window
    }

    /// Line `i`, when it is in memory.
    pub fn get(&self, i: usize) -> Option<&Line> {
        if i >= self.total {
            return None;
        }
        match i.checked_sub(self.tail_start()) {
            Some(k) => self.tail.get(k),
            None => self.window.as_ref()?.get(i),
        }
    }

    /// Whether lines are being read from the file.
    pub fn loading(&self) -> bool {
        self.loading
    }

    /// Why the last read from the file failed.
    pub fn load_error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Forgets a failed read, so that the next view asks again.
    pub fn retry(&mut self) {
        if self.error.take().is_some() {
            self.asked = None;
        }
    }

    /// Whether every line of `r` is in memory.
    fn covered(&self, r: &Range<usize>) -> bool {
        let tail = self.tail_start();
        r.start >= r.end.min(self.total)
            || r.start >= tail
            || self
                .window
                .as_ref()
                .is_some_and(|w| reaches(&(w.start..w.end()), r, tail))
    }

    /// The lines to read so that `view` and [`PREFETCH`] lines around it are
    /// in memory, unless they are already or on their way: a window of
    /// [`WINDOW_LINES`] around the view, and the view's centre. The request
    /// counts as on its way from now on.
    pub(super) fn want(
        &mut self,
        view: Range<usize>,
        following: bool,
    ) -> Option<(Range<usize>, usize)> {
        let total = self.total;
        let view = view.start.min(total)..view.end.min(total);
        let needed = if following {
            view.clone()
        } else {
            view.start.saturating_sub(PREFETCH)..(view.end + PREFETCH).min(total)
        };
        if self.covered(&needed) || self.error.is_some() {
            return None;
        }
        if self.loading
            && self
                .asked
                .as_ref()
                .is_some_and(|a| reaches(a, &needed, self.tail_start()))
        {
            return None;
        }
        // Ahead of a user scrolling through (what is missing is on one side
        // of a view in memory): from the prefetched lines behind the view (or
        // the tail) on; else centred on the view.
        let above = !self.covered(&(needed.start..view.start));
        let below = !self.covered(&(view.end..needed.end));
        let focus = view.start + view.len() / 2;
        let start = match (self.covered(&view), above, below) {
            (true, true, false) => {
                let tail = self.tail_start();
                let end = if needed.end < tail {
                    needed.end
                } else {
                    tail.max(view.end)
                };
                end.saturating_sub(WINDOW_LINES)
            }
            (true, false, true) => needed.start,
            _ => focus.saturating_sub(WINDOW_LINES / 2),
        };
        let end = (start + WINDOW_LINES).min(total);
        let lines = end.saturating_sub(WINDOW_LINES)..end;
        if !self.loading && self.asked.as_ref() == Some(&lines) {
            // Read already: what did not fit in the byte budget stays out
            // until the view moves.
            return None;
        }
        self.asked = Some(lines.clone());
        self.loading = true;
        Some((lines, focus))
    }

    /// Installs the answer to the read of `asked`; false when another read
    /// replaced it.
    pub(super) fn install(&mut self, asked: &Range<usize>, result: Result<Window, String>) -> bool {
        if !self.loading || self.asked.as_ref() != Some(asked) {
            return false;
        }
        self.loading = false;
        match result {
            Ok(w) => {
                self.window = Some(w);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
        true
    }

    /// Frees the window of older lines (another transcript is being read).
    pub(super) fn release_window(&mut self) {
        self.window = None;
        if !self.loading {
            self.asked = None;
        }
    }

    /// Whether a search for `query` (lower-cased) is under way or done (a
    /// search of the file that failed is started again).
    pub(super) fn searching(&self, query: &str) -> bool {
        self.search
            .as_ref()
            .is_some_and(|s| s.query == query && !matches!(s.file, FileSearch::Failed(_)))
    }

    /// Starts a search for `query` (lower-cased); returns the number of
    /// lines before the tail, which the file must be searched for.
    pub(super) fn start_search(&mut self, query: &str) -> usize {
        let upto = self.tail_start();
        self.search = Some(Search {
            query: query.to_owned(),
            upto,
            hits: Hits::default(),
            file: if upto == 0 {
                FileSearch::Done
            } else {
                FileSearch::Running
            },
            waiting: None,
        });
        upto
    }

    pub(super) fn forget_search(&mut self) {
        self.search = None;
    }

    /// Installs the file's matches for a search; returns the search step
    /// that was waiting for them.
    pub(super) fn set_matches(
        &mut self,
        query: &str,
        upto: usize,
        result: Result<Hits, String>,
    ) -> Option<bool> {
        let s = self
            .search
            .as_mut()
            .filter(|s| s.query == query && s.upto == upto && s.file == FileSearch::Running)?;
        match result {
            Ok(hits) => {
                s.hits.union(&hits);
                s.file = FileSearch::Done;
            }
            Err(e) => s.file = FileSearch::Failed(e),
        }
        s.waiting.take()
    }

    /// Whether line `i` matches the current search; None while that is only
    /// known once the file is searched (and when there is no search).
    pub fn matches(&self, i: usize) -> Option<bool> {
        let s = self.search.as_ref()?;
        if i >= self.tail_start() {
            return Some(
                self.get(i)
                    .is_some_and(|l| matches_query(&l.text, &s.query)),
            );
        }
        if i >= s.upto {
            return Some(s.hits.contains(i));
        }
        match s.file {
            FileSearch::Running => None,
            FileSearch::Done => Some(s.hits.contains(i)),
            FileSearch::Failed(_) => Some(false),
        }
    }

    /// Of the lines matching the current search: how many match in all,
    /// how many of those are at or before line `upto`, and whether some
    /// lines are not known yet (the file is still being searched); None
    /// without a search. The same answer as [`Transcript::matches`] over
    /// every line, without visiting every line: it is drawn in each frame.
    pub fn match_counts(&self, upto: Option<usize>) -> Option<(usize, usize, bool)> {
        let s = self.search.as_ref()?;
        let tail = self.tail_start();
        // Before the tail the bits answer: below `s.upto` only once the file did.
        let known_from = match s.file {
            FileSearch::Done => 0,
            FileSearch::Running | FileSearch::Failed(_) => s.upto.min(tail),
        };
        let unknown = s.file == FileSearch::Running && known_from > 0;
        let mut total = s.hits.count_in(known_from, tail);
        let mut before = upto.map_or(0, |u| s.hits.count_in(known_from, (u + 1).min(tail)));
        for i in tail..self.total {
            if self
                .get(i)
                .is_some_and(|l| matches_query(&l.text, &s.query))
            {
                total += 1;
                before += usize::from(upto.is_some_and(|u| i <= u));
            }
        }
        Some((total, before, unknown))
    }

    /// Where a search step from line `from` lands (the search started).
    pub fn step(&self, from: usize, forward: bool) -> Step {
        let len = self.total;
        let decided = |i: &usize| self.matches(*i) != Some(false);
        let stop = if forward {
            (from + 1..len)
                .chain(0..=from.min(len.saturating_sub(1)))
                .find(decided)
        } else {
            (0..from).rev().chain((from..len).rev()).find(decided)
        };
        match stop.map(|i| (i, self.matches(i))) {
            Some((i, Some(true))) => Step::Found(i),
            Some(_) => Step::Waiting,
            None => Step::NotFound,
        }
    }

    /// Remembers a search step to take when the file's matches arrive.
    pub fn wait_for_matches(&mut self, forward: bool) {
        if let Some(s) = &mut self.search {
            s.waiting = Some(forward);
        }
    }

    /// Why searching the file failed.
    pub fn search_error(&self) -> Option<&str> {
        match &self.search.as_ref()?.file {
            FileSearch::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// Whether `a` (lines in memory or asked for), continued by the tail from
/// line `tail`, holds every line of `r`.
fn reaches(a: &Range<usize>, r: &Range<usize>, tail: usize) -> bool {
    a.start <= r.start && (a.end >= r.end || a.end >= tail)
}

#[cfg(test)]
mod hits_tests {
    use super::Hits;

    #[test]
    fn counting_a_range_agrees_with_testing_each_line() {
        let mut hits = Hits::default();
        let set: Vec<usize> = (0..700).filter(|i| i % 7 == 0 || i % 13 == 5).collect();
        for &i in &set {
            hits.insert(i);
        }
        for (lo, hi) in [
            (0, 0),
            (0, 700),
            (3, 64),
            (63, 65),
            (64, 128),
            (5, 641),
            (690, 900),
        ] {
            let expected = (lo..hi).filter(|i| hits.contains(*i)).count();
            assert_eq!(hits.count_in(lo, hi), expected, "{lo}..{hi}");
        }
        assert_eq!(hits.count_in(10, 3), 0, "an empty range");
    }
}
