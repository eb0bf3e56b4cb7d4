//! One changed file: its two sides' text with a line index, and its line
//! diff grouped into hunks.

use std::ops::Range;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, DiffTag};

use crate::git::FileChange;

/// Lines of unchanged context around each change, as in `git diff`.
pub const CONTEXT_LINES: usize = 3;

/// How long the line diff of one file may take before similar approximates
/// (the result stays a correct diff, only possibly not a minimal one).
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);

/// A text and the byte offsets where its lines start: lines are addressed
/// by index without being copied.
#[derive(Debug, Default)]
pub(crate) struct Text {
    text: String,
    /// Start offset of every line, then the end of the text.
    starts: Vec<u32>,
}

impl Text {
    /// Indexes `text`; `None` when it is too large for 32-bit offsets (4 GiB).
    fn new(text: String) -> Option<Text> {
        let end = u32::try_from(text.len()).ok()?;
        let mut starts = Vec::with_capacity(text.len() / 32 + 2);
        starts.push(0);
        // Offsets fit in u32 because the whole text does.
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(i, b)| b == b'\n' && i + 1 < text.len())
                .map(|(i, _)| (i + 1) as u32),
        );
        if text.is_empty() {
            starts.clear();
        }
        starts.push(end);
        Some(Text { text, starts })
    }

    /// The number of lines (a final line without `\n` counts).
    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Line `i` with its terminator (`\n`, if any): what the diff compares.
    fn raw_line(&self, i: usize) -> &str {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.text.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }

    /// Line `i` without its `\n` or `\r\n`; empty when out of range.
    fn line(&self, i: usize) -> &str {
        let raw = self.raw_line(i);
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        raw.strip_suffix('\r').unwrap_or(raw)
    }

    fn lines(&self) -> Vec<&str> {
        (0..self.len()).map(|i| self.raw_line(i)).collect()
    }
}

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Absent at the merge base.
    Added,
    /// Absent on the task branch.
    Deleted,
    /// Present on both sides under the same path.
    Modified,
    /// Moved from [`FileDiff::old_path`] (its content may also have changed).
    Renamed,
}

impl FileStatus {
    /// One letter, as in `git status --short`.
    pub fn letter(self) -> char {
        match self {
            FileStatus::Added => 'A',
            FileStatus::Deleted => 'D',
            FileStatus::Modified => 'M',
            FileStatus::Renamed => 'R',
        }
    }
}

/// A hunk: a run of changes with their context, in 0-based line indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunk {
    /// Index of the file in [`DiffModel::files`](super::DiffModel::files).
    pub file: usize,
    /// First old line of the hunk and how many old lines it spans.
    pub old_start: usize,
    pub old_len: usize,
    /// First new line of the hunk and how many new lines it spans.
    pub new_start: usize,
    pub new_len: usize,
}

impl Hunk {
    /// The `@@ -a,b +c,d @@` header, 1-based as in `git diff` (a side with
    /// no lines names the line before it).
    pub fn header(&self) -> String {
        let side = |start: usize, len: usize| {
            let first = if len == 0 { start } else { start + 1 };
            format!("{first},{len}")
        };
        format!(
            "@@ -{} +{} @@",
            side(self.old_start, self.old_len),
            side(self.new_start, self.new_len)
        )
    }
}

/// One run of lines inside a hunk, in 0-based line indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// Lines present on both sides.
    Same { old: usize, new: usize, len: usize },
    /// Old lines replaced by new lines (either range may be empty).
    Change {
        old: Range<usize>,
        new: Range<usize>,
    },
}

/// One changed file with both sides' text and its diff statistics.
#[derive(Debug)]
pub struct FileDiff {
    /// The path on the task's side.
    pub path: String,
    /// The path before a rename.
    pub old_path: Option<String>,
    /// How the file changed. A binary file is `Modified` (or `Renamed`)
    /// even when added or deleted: [`FileChange`] keeps no side of it.
    pub status: FileStatus,
    /// True for binary files (and files too large to index): no text.
    pub binary: bool,
    /// Lines added and removed.
    pub added: usize,
    pub removed: usize,
    old: Text,
    new: Text,
}

impl FileDiff {
    /// Old line `i`, without its terminator.
    pub fn old_line(&self, i: usize) -> &str {
        self.old.line(i)
    }

    /// New line `i`, without its terminator.
    pub fn new_line(&self, i: usize) -> &str {
        self.new.line(i)
    }

    /// Lines on the old and the new side.
    pub fn line_counts(&self) -> (usize, usize) {
        (self.old.len(), self.new.len())
    }
}

/// Builds a file's model and its hunks as runs of blocks.
pub(crate) fn build(change: FileChange) -> (FileDiff, Vec<Vec<Block>>) {
    let status = match (&change.old_path, change.old.is_some(), change.new.is_some()) {
        (Some(_), _, _) => FileStatus::Renamed,
        _ if change.binary => FileStatus::Modified,
        (None, false, true) => FileStatus::Added,
        (None, true, false) => FileStatus::Deleted,
        (None, _, _) => FileStatus::Modified,
    };
    let old = Text::new(change.old.unwrap_or_default());
    let new = Text::new(change.new.unwrap_or_default());
    let (old, new, binary) = match (old, new) {
        (Some(old), Some(new)) if !change.binary => (old, new, false),
        _ => (Text::default(), Text::default(), true),
    };
    let mut file = FileDiff {
        path: change.path,
        old_path: change.old_path,
        status,
        binary,
        added: 0,
        removed: 0,
        old,
        new,
    };
    if binary {
        return (file, Vec::new());
    }
    let ops = {
        let old_lines = file.old.lines();
        let new_lines = file.new.lines();
        similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &old_lines,
            &new_lines,
            Instant::now().checked_add(DIFF_TIMEOUT),
        )
    };
    for op in &ops {
        match op.tag() {
            DiffTag::Equal => {}
            _ => {
                file.removed += op.old_range().len();
                file.added += op.new_range().len();
            }
        }
    }
    let hunks = similar::group_diff_ops(ops, CONTEXT_LINES)
        .into_iter()
        .map(|group| blocks(&group))
        .collect();
    (file, hunks)
}

/// Turns one group of ops into blocks, merging adjacent non-equal ops into
/// one change so deletions pair with the insertions that replace them.
fn blocks(group: &[DiffOp]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for op in group {
        let (old, new) = (op.old_range(), op.new_range());
        if op.tag() == DiffTag::Equal {
            out.push(Block::Same {
                old: old.start,
                new: new.start,
                len: old.len(),
            });
            continue;
        }
        match out.last_mut() {
            Some(Block::Change { old: o, new: n }) => {
                o.end = o.end.max(old.end);
                n.end = n.end.max(new.end);
            }
            _ => out.push(Block::Change { old, new }),
        }
    }
    out
}
