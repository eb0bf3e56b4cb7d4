//! Display lines read back from a transcript file, in the background (never
//! on the render path): a whole transcript into a bounded [`Transcript`], a
//! window of lines, or the lines that match a search.
//!
//! Parsers are stateful (Gemini joins streamed chunks, Claude and Codex
//! remember what they reported), so lines are always produced by parsing
//! the file from its start with a fresh parser, as live: exact by
//! construction, and cheap (~25 ms for 10 MB of Claude stream-json in a
//! release build). An index of byte offsets would let a read seek, but not
//! restore the parser's state there, so none is kept. Memory stays at one
//! record plus the lines kept. Where a capped transcript was cut (its
//! [`store::CUT_MARKER`] note), the parser starts afresh and the note shows
//! as a fleet line.

use std::collections::VecDeque;
use std::io;
use std::ops::ControlFlow;
use std::path::Path;

use super::transcript::matches_query;
use super::{
    Hits, Line, LineKind, LinesRequest, SearchRequest, Transcript, WINDOW_BYTES, Window,
    event_lines, stream_kind, text_lines,
};
use crate::agent::{Format, OutputParser, parser_for, restart_after_cut};
use crate::store::transcript::{self as store, Entry, Reader, Stream};

/// Reads an attempt's transcript file (an attempt that ran before the
/// cockpit watched): every line is counted, the last ones are kept.
pub fn load_transcript(fleet_dir: &Path, rel: &str) -> io::Result<Transcript> {
    let mut t = Transcript::default();
    walk(&fleet_dir.join(rel), |_, line| {
        t.push(line);
        ControlFlow::Continue(())
    })?;
    Ok(t)
}

/// Reads the lines a request asks for (fewer when their text exceeds
/// [`WINDOW_BYTES`]: those farthest from its focus are left out).
pub fn read_lines(fleet_dir: &Path, request: &LinesRequest) -> io::Result<Window> {
    let want = request.lines.clone();
    let focus = request.focus;
    let mut start = want.start;
    let mut lines: VecDeque<Line> = VecDeque::new();
    let mut bytes = 0;
    walk(&fleet_dir.join(&request.rel), |i, line| {
        if i < want.start {
            return ControlFlow::Continue(());
        }
        if i >= want.end {
            return ControlFlow::Break(());
        }
        bytes += line.text.len();
        lines.push_back(line);
        while bytes > WINDOW_BYTES && lines.len() > 1 {
            let last = start + lines.len() - 1;
            if focus.saturating_sub(start) >= last.saturating_sub(focus) {
                if let Some(l) = lines.pop_front() {
                    bytes -= l.text.len();
                    start += 1;
                }
            } else {
                // The newest line is the farthest: the rest would be farther still.
                if let Some(l) = lines.pop_back() {
                    bytes -= l.text.len();
                }
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(Window {
        start,
        lines: lines.into(),
    })
}

/// The lines before `request.upto` that match its query.
pub fn search_lines(fleet_dir: &Path, request: &SearchRequest) -> io::Result<Hits> {
    let mut hits = Hits::default();
    walk(&fleet_dir.join(&request.rel), |i, line| {
        if i >= request.upto {
            return ControlFlow::Break(());
        }
        if matches_query(&line.text, &request.query) {
            hits.insert(i);
        }
        ControlFlow::Continue(())
    })?;
    Ok(hits)
}

/// Numbers the display lines of a file and hands them out in order.
struct Sink<F> {
    next: usize,
    f: F,
}

impl<F: FnMut(usize, Line) -> ControlFlow<()>> Sink<F> {
    fn lines(&mut self, at_ms: i64, lines: Vec<(LineKind, String)>) -> ControlFlow<()> {
        for (kind, text) in lines {
            (self.f)(self.next, Line { at_ms, kind, text })?;
            self.next += 1;
        }
        ControlFlow::Continue(())
    }
}

/// Produces the display lines of a transcript file in order, as the
/// cockpit showed them live, until `f` breaks.
fn walk(path: &Path, f: impl FnMut(usize, Line) -> ControlFlow<()>) -> io::Result<()> {
    let mut sink = Sink { next: 0, f };
    let mut walker = Walker {
        parser: parser_for(Format::Text),
        format: Format::Text,
        started: 0,
        at: 0,
        finished: false,
    };
    for entry in Reader::open(path)? {
        let flow = match entry? {
            Entry::Header(h) => {
                walker.started = h.started_ms;
                walker.parser = parser_for(h.format);
                walker.format = h.format;
                ControlFlow::Continue(())
            }
            Entry::Line(line) => walker.record(&line, &mut sink),
        };
        if flow.is_break() {
            return Ok(());
        }
    }
    let _ = walker.finish(&mut sink);
    Ok(())
}

/// The parser's state along a transcript file.
///
/// What the cockpit receives live (see the runtime's `LiveLog`): the events
/// of the agent's stdout, every other line as it was written, and the events
/// the parser still held when stdout ended, just before the note that the
/// agent ended.
struct Walker {
    parser: Box<dyn OutputParser>,
    format: Format,
    started: i64,
    /// Unix milliseconds of the last record.
    at: i64,
    /// Whether the parser was told that stdout ended.
    finished: bool,
}

impl Walker {
    fn record<F: FnMut(usize, Line) -> ControlFlow<()>>(
        &mut self,
        line: &store::Line,
        sink: &mut Sink<F>,
    ) -> ControlFlow<()> {
        self.at = self
            .started
            .saturating_add(i64::try_from(line.t).unwrap_or(i64::MAX));
        if line.s == Stream::Fleet && line.l.starts_with(store::AGENT_ENDED) {
            self.finish(sink)?;
        }
        let at = self.at;
        if store::is_cut_marker(line) && !self.finished {
            // The tail starts afresh: a new parser, after what the old one held.
            for event in restart_after_cut(&mut self.parser, self.format) {
                sink.lines(at, event_lines(&event))?;
            }
        }
        match line.s {
            Stream::Out => {
                for event in self.parser.line(&line.l) {
                    sink.lines(at, event_lines(&event))?;
                }
                ControlFlow::Continue(())
            }
            stream => sink.lines(at, text_lines(stream_kind(stream), &line.l)),
        }
    }

    /// Stdout ended: the lines of the events the parser still held.
    fn finish<F: FnMut(usize, Line) -> ControlFlow<()>>(
        &mut self,
        sink: &mut Sink<F>,
    ) -> ControlFlow<()> {
        if self.finished {
            return ControlFlow::Continue(());
        }
        self.finished = true;
        for event in self.parser.finish() {
            sink.lines(self.at, event_lines(&event))?;
        }
        ControlFlow::Continue(())
    }
}
