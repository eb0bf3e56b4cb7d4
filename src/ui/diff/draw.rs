//! Drawing the visible rows of a layout and the file list into a buffer.
//!
//! Only the rows that fit the area are looked at; word highlights are
//! computed here, per visible changed pair. Nothing here mutates the model.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::text::{Marks, changed_ranges, display_line};
use super::{DiffModel, FileDiff, FileStatus, Row, RowKind};
use crate::ui::theme::Theme;

/// Characters of each side looked at beyond the visible width when finding
/// changed words, so a change just past the edge does not shift the match.
const INLINE_SLACK: usize = 64;

/// Draws the rows of the chosen layout from row `top` into `area`, or a
/// "no changes" message when the model has no file.
pub fn draw_diff(
    buf: &mut Buffer,
    area: Rect,
    model: &DiffModel,
    split: bool,
    top: usize,
    left: usize,
    theme: &Theme,
) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    if model.is_empty() {
        let msg = "no changes";
        let y = area.y + area.height / 2;
        let w = msg.len().min(area.width as usize) as u16;
        let x = area.x + (area.width - w) / 2;
        buf.set_stringn(x, y, msg, w as usize, theme.muted);
        return;
    }
    let layout = model.layout(split);
    let rows = layout.rows(top, area.height as usize);
    for (i, row) in rows.iter().enumerate() {
        let line = Rect::new(area.x, area.y + i as u16, area.width, 1);
        let Some(file) = model.files().get(row.file()) else {
            continue;
        };
        let p = Painter {
            buf,
            theme,
            model,
            left,
        };
        match row.kind() {
            RowKind::FileHeader => p.file_header(line, file),
            RowKind::HunkHeader => {
                let header = layout
                    .hunk_at_header(top + i)
                    .and_then(|h| model.hunks().get(h))
                    .map(|h| h.header())
                    .unwrap_or_default();
                p.buf.set_style(line, theme.hunk);
                p.buf
                    .set_stringn(line.x, line.y, header, line.width as usize, theme.hunk);
            }
            RowKind::Binary => p.note(line, "binary file changed"),
            RowKind::Unchanged => p.note(
                line,
                match file.status {
                    FileStatus::Renamed => "renamed without content changes",
                    FileStatus::Added => "empty file added",
                    FileStatus::Deleted => "empty file deleted",
                    FileStatus::Modified => "no content changes",
                },
            ),
            _ if split => p.split_row(line, file, row),
            _ => p.unified_row(line, file, row),
        }
    }
}

/// Draws one entry per file from the top of `area`, scrolled so that file
/// `highlighted` is visible, which is drawn in the `selected` style.
pub fn draw_file_list(
    buf: &mut Buffer,
    area: Rect,
    model: &DiffModel,
    highlighted: usize,
    theme: &Theme,
) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let height = area.height as usize;
    let offset = highlighted.saturating_add(1).saturating_sub(height);
    let files = model.files().iter().enumerate().skip(offset).take(height);
    for (i, (index, file)) in files.enumerate() {
        let line = Rect::new(area.x, area.y + i as u16, area.width, 1);
        let selected = index == highlighted;
        if selected {
            buf.set_style(line, theme.selected);
        }
        let width = line.width as usize;
        let (added, removed) = if file.binary {
            (String::new(), "bin".to_owned())
        } else {
            (format!("+{}", file.added), format!(" -{}", file.removed))
        };
        let stats_w = added.len() + removed.len();
        // "▸M path  +1 -2": the marker, the letter, a space, the path, a
        // space, the stats.
        let path_w = width.saturating_sub(stats_w + 4);
        let marker = if selected { '▸' } else { ' ' };
        let head = format!("{marker}{}", file.status.letter());
        buf.set_stringn(line.x, line.y, head, width, theme.muted);
        if width > 3 {
            let path = cut_left(&file.path, path_w);
            buf.set_stringn(line.x + 3, line.y, path, path_w, theme.text);
        }
        if width >= stats_w + 4 {
            let sx = line.right() - stats_w as u16;
            buf.set_stringn(sx, line.y, &added, added.len(), theme.added);
            let style = if file.binary {
                theme.muted
            } else {
                theme.removed
            };
            buf.set_stringn(
                sx + added.len() as u16,
                line.y,
                &removed,
                removed.len(),
                style,
            );
        }
    }
}

/// `path` made safe to draw and cut at the front to `width` characters, so
/// the file name stays visible.
fn cut_left(path: &str, width: usize) -> String {
    let clean = display_line(path, 4096);
    let n = clean.chars().count();
    if n <= width {
        return clean;
    }
    if width == 0 {
        return String::new();
    }
    let tail: String = clean.chars().skip(n - (width - 1)).collect();
    format!("…{tail}")
}

/// What every row drawer needs.
struct Painter<'a, 'b> {
    buf: &'a mut Buffer,
    theme: &'b Theme,
    model: &'b DiffModel,
    /// Columns of text scrolled off to the left.
    left: usize,
}

impl Painter<'_, '_> {
    fn file_header(self, line: Rect, file: &FileDiff) {
        let t = self.theme;
        self.buf.set_style(line, t.file_header);
        let width = line.width as usize;
        let mut name = String::new();
        name.push(file.status.letter());
        name.push(' ');
        if let Some(old) = &file.old_path {
            name.push_str(&display_line(old, width));
            name.push_str(" → ");
        }
        name.push_str(&display_line(&file.path, width));
        let (mut x, y) = self
            .buf
            .set_stringn(line.x, line.y, &name, width, t.file_header);
        let mut put = |buf: &mut Buffer, s: &str, style: Style| {
            let left = line.right().saturating_sub(x) as usize;
            x = buf.set_stringn(x, y, s, left, t.file_header.patch(style)).0;
        };
        if file.binary {
            put(self.buf, "  binary", t.muted);
        } else {
            put(self.buf, &format!("  +{}", file.added), t.added);
            put(self.buf, &format!(" -{}", file.removed), t.removed);
        }
    }

    fn note(self, line: Rect, msg: &str) {
        let w = self.model.number_width();
        let x = line.x + (2 * w + 3).min(line.width as usize) as u16;
        let left = line.right().saturating_sub(x) as usize;
        self.buf.set_stringn(x, line.y, msg, left, self.theme.muted);
    }

    /// `  12   13 +text`: old and new numbers, the sign, the text.
    fn unified_row(self, line: Rect, file: &FileDiff, row: &Row) {
        let t = self.theme;
        let w = self.model.number_width();
        let (sign, style, word) = match row.kind() {
            RowKind::Removed => ('-', t.removed, t.removed_word),
            RowKind::Added => ('+', t.added, t.added_word),
            _ => (' ', t.text, t.text),
        };
        self.buf.set_style(line, style);
        let gutter = format!(
            "{} {} ",
            number(row.old_line(), w),
            number(row.new_line(), w)
        );
        let (x, y) =
            self.buf
                .set_stringn(line.x, line.y, &gutter, line.width as usize, t.line_number);
        let cols = line.right().saturating_sub(x) as usize;
        // Enough text for what is scrolled off, the view, and one more
        // character to tell whether the line is cut.
        let want = cols + self.left + 1;
        let text = match row.kind() {
            RowKind::Added => row.new_line().map(|i| file.new_line(i)),
            _ => row.old_line().map(|i| file.old_line(i)),
        };
        let (shown, marks) = match (row.kind(), row.pair()) {
            (RowKind::Removed, Some((o, n))) => pair_marks(file, o, n, want, 0).0,
            (RowKind::Added, Some((o, n))) => pair_marks(file, o, n, 0, want).1,
            _ => (display_line(text.unwrap_or(""), want), Vec::new()),
        };
        let area = Rect::new(x, y, cols as u16, 1);
        let text = Cut {
            text: &shown,
            marks: &marks,
            left: self.left,
        };
        put_text(self.buf, area, sign, text, style, word, t.muted);
    }

    /// `12 -old text │ 13 +new text`: each side in its own half.
    fn split_row(self, line: Rect, file: &FileDiff, row: &Row) {
        let t = self.theme;
        let w = self.model.number_width();
        let left_w = line.width.saturating_sub(1) / 2;
        let left = Rect::new(line.x, line.y, left_w, 1);
        let right = Rect::new(
            line.x + left_w + 1,
            line.y,
            line.width.saturating_sub(left_w + 1),
            1,
        );
        if line.width > left_w {
            self.buf
                .set_stringn(line.x + left_w, line.y, "│", 1, t.border);
        }
        let left_cols = self.left;
        let cols = |r: Rect| (r.width as usize).saturating_sub(w + 1) + left_cols + 1;
        let changed = row.kind() == RowKind::Changed;
        let (old_marks, new_marks) = match row.pair() {
            Some((o, n)) => pair_marks(file, o, n, cols(left), cols(right)),
            None => {
                let old = row.old_line().map_or("", |i| file.old_line(i));
                let new = row.new_line().map_or("", |i| file.new_line(i));
                (
                    (display_line(old, cols(left)), Vec::new()),
                    (display_line(new, cols(right)), Vec::new()),
                )
            }
        };
        let sides = [
            (
                left,
                row.old_line(),
                '-',
                t.removed,
                t.removed_word,
                old_marks,
            ),
            (right, row.new_line(), '+', t.added, t.added_word, new_marks),
        ];
        for (half, n, sign, style, word, (shown, marks)) in sides {
            let Some(n) = n else { continue };
            let (sign, style, word) = if changed {
                (sign, style, word)
            } else {
                (' ', t.text, t.text)
            };
            self.buf.set_style(half, style);
            let gutter = format!("{} ", number(Some(n), w));
            let (x, y) =
                self.buf
                    .set_stringn(half.x, half.y, &gutter, half.width as usize, t.line_number);
            let area = Rect::new(x, y, half.right().saturating_sub(x), 1);
            let text = Cut {
                text: &shown,
                marks: &marks,
                left: self.left,
            };
            put_text(self.buf, area, sign, text, style, word, t.muted);
        }
    }
}

/// A line made safe to draw and the byte ranges of its changed words.
type Marked = (String, Marks);

/// Both sides of the changed pair (old line `o`, new line `n`) made safe,
/// each with the byte ranges of its changed words (none when the lines are
/// too different). Only the first `old_cols` and `new_cols` characters (plus
/// some slack) are compared; a side given 0 columns is compared up to the
/// other side's width.
fn pair_marks(
    file: &FileDiff,
    o: usize,
    n: usize,
    old_cols: usize,
    new_cols: usize,
) -> (Marked, Marked) {
    let budget = old_cols.max(new_cols).saturating_add(INLINE_SLACK);
    let old = display_line(file.old_line(o), budget);
    let new = display_line(file.new_line(n), budget);
    let (old_marks, new_marks) = changed_ranges(&old, &new).unwrap_or_default();
    ((old, old_marks), (new, new_marks))
}

/// A line to draw from its column `left` on, with its changed words.
struct Cut<'a> {
    text: &'a str,
    marks: &'a [Range<usize>],
    left: usize,
}

/// Draws the sign and then the text from its column `left` into the
/// one-row `area`, the marks in `word` style and the rest in `style`.
/// A line cut at an edge shows it there, in `cut` style: `‹` after the
/// sign when columns are scrolled off to the left, `›` in the last column
/// when more of it is to the right.
fn put_text(
    buf: &mut Buffer,
    area: Rect,
    sign: char,
    line: Cut<'_>,
    style: Style,
    word: Style,
    cut: Style,
) {
    if area.width == 0 {
        return;
    }
    let text = line.text;
    let mut sign_buf = [0u8; 4];
    let (mut x, y) = buf.set_stringn(area.x, area.y, sign.encode_utf8(&mut sign_buf), 1, style);
    let skip = text
        .char_indices()
        .nth(line.left)
        .map_or(text.len(), |(i, _)| i);
    let cut_left = line.left > 0 && !text.is_empty();
    if cut_left && x < area.right() {
        x = buf.set_stringn(x, y, "‹", 1, cut).0;
    }
    let room = area.right().saturating_sub(x) as usize;
    let cut_right = text[skip..].chars().count() > room;
    let end = area.right().saturating_sub(cut_right as u16);
    let mut pos = skip;
    let mut put = |buf: &mut Buffer, range: Range<usize>, style: Style| {
        let range = range.start.max(skip)..range.end;
        let Some(s) = text.get(range) else { return };
        let left = end.saturating_sub(x) as usize;
        if left > 0 && !s.is_empty() {
            x = buf.set_stringn(x, y, s, left, style).0;
        }
    };
    for mark in line.marks {
        if mark.end <= skip {
            continue;
        }
        put(buf, pos..mark.start, style);
        put(buf, mark.clone(), word);
        pos = mark.end.max(skip);
    }
    put(buf, pos..text.len(), style);
    if cut_right && end < area.right() {
        buf.set_stringn(end, y, "›", 1, cut);
    }
}

/// A 1-based line number right-aligned in `width`, or blanks.
fn number(line: Option<usize>, width: usize) -> String {
    match line {
        Some(i) => format!("{:>width$}", i + 1),
        None => " ".repeat(width),
    }
}
