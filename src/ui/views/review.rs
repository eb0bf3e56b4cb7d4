//! The reviewer agent's verdict in the diff view: a box above the diff
//! (approve / changes requested, round, reviewer, summary, and comments on
//! files the diff does not show), and each comment drawn under the row of
//! the line it names (new-side line number) in either layout; a comment
//! whose line is not in the diff goes under its file's header. Pure: the
//! notes are computed from the diff model and the verdict on each draw.

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::core::team::ReviewVerdict;
use crate::sanitize::sanitize;
use crate::ui::diff::{DiffModel, RowKind, draw_diff};
use crate::ui::theme::Theme;

/// The comments of a verdict placed on a diff layout.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// Under row N of the layout: these comments' texts.
    pub by_row: BTreeMap<usize, Vec<String>>,
    /// Comments on files the diff does not show: `file:line text`.
    pub elsewhere: Vec<String>,
}

impl Notes {
    /// Places `review`'s comments on `model`'s layout (`split` or unified).
    pub fn place(model: &DiffModel, split: bool, review: &ReviewVerdict) -> Notes {
        let mut notes = Notes::default();
        if review.comments.is_empty() {
            return notes;
        }
        let layout = model.layout(split);
        let rows = layout.rows(0, layout.len());
        for c in &review.comments {
            let text = sanitize(&c.text).replace('\n', " ");
            let Some(fi) = model.files().iter().position(|f| f.path == c.file) else {
                let at = c.line.map(|l| format!(":{l}")).unwrap_or_default();
                notes
                    .elsewhere
                    .push(format!("{}{at} {text}", sanitize(&c.file)));
                continue;
            };
            let on_line = c.line.and_then(|l| {
                let want = (l as usize).checked_sub(1)?;
                rows.iter()
                    .position(|r| r.file() == fi && r.new_line() == Some(want))
            });
            let row = on_line.or_else(|| {
                rows.iter()
                    .position(|r| r.file() == fi && r.kind() == RowKind::FileHeader)
            });
            let text = match (on_line, c.line) {
                (None, Some(l)) => format!("line {l}: {text}"),
                _ => text,
            };
            if let Some(row) = row {
                notes.by_row.entry(row).or_default().push(text);
            }
        }
        notes
    }

    /// The rows with comments, in order (for jumping between them).
    pub fn rows(&self) -> Vec<usize> {
        self.by_row.keys().copied().collect()
    }
}

/// Rows the verdict box takes above a diff of `height` rows: its heading,
/// up to two lines of summary, the comments on files not in the diff (at
/// most 3), its borders; never more than a third of the height.
pub fn box_height(review: &ReviewVerdict, elsewhere: usize, height: u16) -> u16 {
    let summary = sanitize(review.summary.trim()).lines().count().min(2) as u16;
    let want = 3 + summary + elsewhere.min(3) as u16;
    want.min(height / 3)
}

/// Draws the verdict box into `area`.
pub fn verdict_box(buf: &mut Buffer, area: Rect, review: &ReviewVerdict, notes: &Notes, t: &Theme) {
    if area.height < 3 || area.width < 4 {
        return;
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(" Review ", t.title));
    let inner = block.inner(area);
    block.render(area, buf);
    let mut lines = super::team::verdict_lines(review, t);
    lines.truncate(3);
    for e in notes.elsewhere.iter().take(3) {
        lines.push(Line::from(Span::styled(format!("  ▎ {e}"), t.warning)));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

/// Draws the diff rows from `top` into `area` with each comment's lines
/// under the row it belongs to.
#[allow(clippy::too_many_arguments)]
pub fn draw_with_notes(
    buf: &mut Buffer,
    area: Rect,
    model: &DiffModel,
    split: bool,
    top: usize,
    left: usize,
    notes: &Notes,
    t: &Theme,
) {
    let area = area.intersection(buf.area);
    if notes.by_row.is_empty() || model.is_empty() || area.is_empty() {
        draw_diff(buf, area, model, split, top, left, t);
        return;
    }
    let len = model.layout(split).len();
    let (mut y, mut row) = (area.y, top);
    while y < area.bottom() && row < len {
        draw_diff(
            buf,
            Rect {
                y,
                height: 1,
                ..area
            },
            model,
            split,
            row,
            left,
            t,
        );
        y += 1;
        for text in notes.by_row.get(&row).into_iter().flatten() {
            if y >= area.bottom() {
                break;
            }
            let line = format!("  ▎ review: {text}");
            buf.set_style(
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                t.dialog,
            );
            buf.set_stringn(area.x, y, &line, area.width as usize, t.warning);
            y += 1;
        }
        row += 1;
    }
}
