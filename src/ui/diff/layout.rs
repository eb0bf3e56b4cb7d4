//! The flat row index of the whole document, one per layout (unified and
//! side by side). A row is 16 bytes of indices into its file's lines, so a
//! 50,000-line diff costs under a megabyte per layout and no string copies.

use super::file::Block;

/// Marks an absent line index in a [`Row`].
const NONE: u32 = u32::MAX;

/// What a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// The file's name, status and counts; first row of every file.
    FileHeader,
    /// `@@ -a,b +c,d @@`; first row of every hunk.
    HunkHeader,
    /// An unchanged line (both sides).
    Context,
    /// Unified layout: a line only on the old side.
    Removed,
    /// Unified layout: a line only on the new side.
    Added,
    /// Side-by-side layout: a removed line on the left and/or an added line
    /// on the right, paired within one change.
    Changed,
    /// The only row under the header of a binary file.
    Binary,
    /// The only row under the header of a text file whose content did not
    /// change (a pure rename, a mode change).
    Unchanged,
}

/// One row of a layout: which file, what kind, which lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    file: u32,
    /// Old line index; for an unified `Added` row, the paired old line.
    old: u32,
    /// New line index; for an unified `Removed` row, the paired new line.
    new: u32,
    kind: RowKind,
}

fn some(i: u32) -> Option<usize> {
    (i != NONE).then_some(i as usize)
}

/// A line index as stored in a row (files over 4 Gi lines are not indexed).
fn idx(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NONE)
}

impl Row {
    fn new(file: usize, kind: RowKind, old: Option<usize>, new: Option<usize>) -> Row {
        Row {
            file: idx(file),
            old: old.map_or(NONE, idx),
            new: new.map_or(NONE, idx),
            kind,
        }
    }

    pub fn kind(&self) -> RowKind {
        self.kind
    }

    /// Index of the row's file in [`DiffModel::files`](super::DiffModel::files).
    pub fn file(&self) -> usize {
        self.file as usize
    }

    /// The old line this row shows, if any (0-based).
    pub fn old_line(&self) -> Option<usize> {
        match self.kind {
            RowKind::Context | RowKind::Removed | RowKind::Changed => some(self.old),
            _ => None,
        }
    }

    /// The new line this row shows, if any (0-based).
    pub fn new_line(&self) -> Option<usize> {
        match self.kind {
            RowKind::Context | RowKind::Added | RowKind::Changed => some(self.new),
            _ => None,
        }
    }

    /// The old and new lines of the changed pair this row belongs to, when
    /// a removed line is paired with an added one: both are needed to
    /// highlight the changed words.
    pub fn pair(&self) -> Option<(usize, usize)> {
        match self.kind {
            RowKind::Removed | RowKind::Added | RowKind::Changed => {
                Some((some(self.old)?, some(self.new)?))
            }
            _ => None,
        }
    }
}

/// The rows of one layout and where each file and hunk starts.
#[derive(Debug, Default)]
pub struct Layout {
    rows: Vec<Row>,
    /// Row of each file's header, by file index.
    file_rows: Vec<usize>,
    /// Row of each hunk's header, by global hunk index (document order).
    hunk_rows: Vec<usize>,
}

impl Layout {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `i`, if it exists.
    pub fn row(&self, i: usize) -> Option<Row> {
        self.rows.get(i).copied()
    }

    /// Rows `start..start + n`, cut at the end.
    pub fn rows(&self, start: usize, n: usize) -> &[Row] {
        let start = start.min(self.rows.len());
        let end = start.saturating_add(n).min(self.rows.len());
        &self.rows[start..end]
    }

    /// Row of file `file`'s header.
    pub fn file_row(&self, file: usize) -> Option<usize> {
        self.file_rows.get(file).copied()
    }

    /// Row of hunk `hunk`'s header.
    pub fn hunk_row(&self, hunk: usize) -> Option<usize> {
        self.hunk_rows.get(hunk).copied()
    }

    /// The file that row `row` belongs to (the last file for rows past the
    /// end); `None` when the document is empty.
    pub fn file_at(&self, row: usize) -> Option<usize> {
        let last = self.rows.len().checked_sub(1)?;
        self.rows.get(row.min(last)).map(Row::file)
    }

    /// The rows of file `file`: its header up to the next file's header.
    pub fn file_span(&self, file: usize) -> Option<std::ops::Range<usize>> {
        let start = self.file_row(file)?;
        let end = self.file_row(file + 1).unwrap_or(self.rows.len());
        Some(start..end)
    }

    /// The hunk whose header is at row `row`.
    pub fn hunk_at_header(&self, row: usize) -> Option<usize> {
        self.hunk_rows.binary_search(&row).ok()
    }

    /// The hunk that row `row` lies in (header or body); `None` for file
    /// headers and rows before the first hunk.
    pub fn hunk_containing(&self, row: usize) -> Option<usize> {
        let kind = self.row(row)?.kind();
        if matches!(
            kind,
            RowKind::FileHeader | RowKind::Binary | RowKind::Unchanged
        ) {
            return None;
        }
        self.hunk_rows.partition_point(|&r| r <= row).checked_sub(1)
    }

    /// The rows of hunk `hunk`: its header up to the next header of a hunk
    /// or file.
    pub fn hunk_span(&self, hunk: usize) -> Option<std::ops::Range<usize>> {
        let start = self.hunk_row(hunk)?;
        let file = self.row(start)?.file();
        let mut end = self.file_row(file + 1).unwrap_or(self.rows.len());
        if let Some(next) = self.hunk_row(hunk + 1) {
            end = end.min(next);
        }
        Some(start..end)
    }

    /// The first hunk header strictly after row `row`.
    pub fn next_hunk_row(&self, row: usize) -> Option<usize> {
        let i = self.hunk_rows.partition_point(|&r| r <= row);
        self.hunk_rows.get(i).copied()
    }

    /// The last hunk header strictly before row `row`.
    pub fn prev_hunk_row(&self, row: usize) -> Option<usize> {
        let i = self.hunk_rows.partition_point(|&r| r < row);
        i.checked_sub(1)
            .and_then(|i| self.hunk_rows.get(i).copied())
    }

    /// The row in this layout showing line `old` (if given) or else line
    /// `new` of hunk `hunk`; the hunk's header when no row does.
    pub fn find_line(&self, hunk: usize, old: Option<usize>, new: Option<usize>) -> Option<usize> {
        let span = self.hunk_span(hunk)?;
        let start = span.start;
        let found = self.rows[span].iter().position(|r| match old {
            Some(o) => r.old_line() == Some(o),
            None => new.is_some() && r.new_line() == new,
        });
        Some(start + found.unwrap_or(0))
    }
}

/// Builds both layouts file by file.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    pub unified: Layout,
    pub split: Layout,
}

impl Builder {
    /// Adds file `file`: a header, then its hunks (or one `Binary` or
    /// `Unchanged` row when it has none).
    pub fn add_file(&mut self, file: usize, binary: bool, hunks: &[Vec<Block>]) {
        for layout in [&mut self.unified, &mut self.split] {
            layout.file_rows.push(layout.rows.len());
            layout
                .rows
                .push(Row::new(file, RowKind::FileHeader, None, None));
            if hunks.is_empty() {
                let kind = if binary {
                    RowKind::Binary
                } else {
                    RowKind::Unchanged
                };
                layout.rows.push(Row::new(file, kind, None, None));
            }
        }
        for blocks in hunks {
            self.add_hunk(file, blocks);
        }
    }

    fn add_hunk(&mut self, file: usize, blocks: &[Block]) {
        for layout in [&mut self.unified, &mut self.split] {
            layout.hunk_rows.push(layout.rows.len());
            layout
                .rows
                .push(Row::new(file, RowKind::HunkHeader, None, None));
        }
        let (u, s) = (&mut self.unified.rows, &mut self.split.rows);
        for block in blocks {
            match block {
                Block::Same { old, new, len } => {
                    for i in 0..*len {
                        let row = Row::new(file, RowKind::Context, Some(old + i), Some(new + i));
                        u.push(row);
                        s.push(row);
                    }
                }
                Block::Change { old, new } => {
                    let paired = |i: usize, range: &std::ops::Range<usize>| {
                        (i < range.len()).then_some(range.start + i)
                    };
                    for i in 0..old.len() {
                        u.push(Row::new(
                            file,
                            RowKind::Removed,
                            Some(old.start + i),
                            paired(i, new),
                        ));
                    }
                    for i in 0..new.len() {
                        u.push(Row::new(
                            file,
                            RowKind::Added,
                            paired(i, old),
                            Some(new.start + i),
                        ));
                    }
                    for i in 0..old.len().max(new.len()) {
                        s.push(Row::new(
                            file,
                            RowKind::Changed,
                            paired(i, old),
                            paired(i, new),
                        ));
                    }
                }
            }
        }
    }
}
