//! The diff viewer's model: a task's changed files, their line diffs grouped
//! into hunks, and a flat row index of the whole document in both layouts.
//!
//! [`DiffModel::new`] does all the expensive work once: line diffs with
//! similar's Myers algorithm (git's default), hunks with three lines of
//! context, the row indexes. Rows are indices into each file's line
//! storage, never copied strings. What depends on the screen (cleaning text for the terminal,
//! word-level highlights of changed line pairs) is computed while drawing,
//! for the visible rows only.
//!
//! Modules:
//! - `file`: one file's text with its line index, its hunks and counts.
//! - `layout`: [`Row`]s and the [`Layout`] of each presentation.
//! - `text`: making untrusted lines safe to draw; changed-word ranges.
//! - `draw`: drawing rows and the file list into a buffer.

mod draw;
mod file;
mod layout;
mod text;

pub use draw::{draw_diff, draw_file_list};
pub use file::{CONTEXT_LINES, FileDiff, FileStatus, Hunk};
pub use layout::{Layout, Row, RowKind};
pub use text::{Marks, changed_ranges, display_line};

use crate::git::FileChange;

/// A task's changes, ready to draw in either layout.
#[derive(Debug, Default)]
pub struct DiffModel {
    files: Vec<FileDiff>,
    hunks: Vec<Hunk>,
    unified: Layout,
    split: Layout,
    /// Digits of the largest line number in the document.
    number_width: usize,
}

impl DiffModel {
    /// Diffs every file and indexes both layouts; files keep the given order.
    pub fn new(changes: Vec<FileChange>) -> DiffModel {
        let mut files = Vec::with_capacity(changes.len());
        let mut hunks = Vec::new();
        let mut builder = layout::Builder::default();
        let mut max_line = 0;
        for (index, change) in changes.into_iter().enumerate() {
            let (file, blocks) = file::build(change);
            let (old_lines, new_lines) = file.line_counts();
            max_line = max_line.max(old_lines).max(new_lines);
            builder.add_file(index, file.binary, &blocks);
            for run in &blocks {
                hunks.push(hunk_of(index, run));
            }
            files.push(file);
        }
        DiffModel {
            files,
            hunks,
            unified: builder.unified,
            split: builder.split,
            number_width: digits(max_line),
        }
    }

    /// The changed files, in document order.
    pub fn files(&self) -> &[FileDiff] {
        &self.files
    }

    /// Every hunk of every file, in document order.
    pub fn hunks(&self) -> &[Hunk] {
        &self.hunks
    }

    /// True when the task changed no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The side-by-side layout when `split`, else the unified one.
    pub fn layout(&self, split: bool) -> &Layout {
        if split { &self.split } else { &self.unified }
    }

    /// Width of the line-number columns (digits of the largest line number).
    pub fn number_width(&self) -> usize {
        self.number_width
    }

    /// The row of the other layout that shows the same thing as row `row` of
    /// this one (`split` names the layout `row` is in): the same file
    /// header, hunk header or line. Used to keep the position when the
    /// layout is switched.
    pub fn map_row(&self, row: usize, split: bool) -> usize {
        let (from, to) = if split {
            (&self.split, &self.unified)
        } else {
            (&self.unified, &self.split)
        };
        let Some(r) = from.row(row) else {
            return to.len().saturating_sub(1).min(row);
        };
        let file_row = to.file_row(r.file()).unwrap_or(0);
        match r.kind() {
            RowKind::FileHeader => file_row,
            RowKind::Binary | RowKind::Unchanged => file_row + 1,
            RowKind::HunkHeader => from
                .hunk_at_header(row)
                .and_then(|h| to.hunk_row(h))
                .unwrap_or(file_row),
            RowKind::Context | RowKind::Removed | RowKind::Added | RowKind::Changed => from
                .hunk_containing(row)
                .and_then(|h| to.find_line(h, r.old_line(), r.new_line()))
                .unwrap_or(file_row),
        }
    }
}

/// The hunk that a run of blocks spans.
fn hunk_of(file: usize, blocks: &[file::Block]) -> Hunk {
    let ranges = |b: &file::Block| match b {
        file::Block::Same { old, new, len } => (*old..old + len, *new..new + len),
        file::Block::Change { old, new } => (old.clone(), new.clone()),
    };
    let (first, last) = match (blocks.first(), blocks.last()) {
        (Some(f), Some(l)) => (ranges(f), ranges(l)),
        _ => Default::default(),
    };
    Hunk {
        file,
        old_start: first.0.start,
        old_len: last.0.end.saturating_sub(first.0.start),
        new_start: first.1.start,
        new_len: last.1.end.saturating_sub(first.1.start),
    }
}

/// Decimal digits of `n` (at least 1).
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}
