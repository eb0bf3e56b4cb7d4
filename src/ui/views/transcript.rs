//! A transcript pane: only the visible lines are laid out; it follows new
//! output unless the user scrolled up; search matches are highlighted.
//! Lines above the tail in memory show a note until they are read from the
//! transcript file (in the background, asked by the app).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::chrome::fit;
use crate::ui::app::{App, Detail};
use crate::ui::model::LineKind;
use crate::ui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let t = &app.theme;
    if area.height == 0 {
        return;
    }
    let Some(attempt) = app.shown_attempt(d) else {
        frame.render_widget(
            Paragraph::new(Span::styled(" this task has not run yet", t.muted)),
            area,
        );
        return;
    };
    let Some(transcript) = app.model.transcripts.get(&(d.task.clone(), attempt.n)) else {
        frame.render_widget(
            Paragraph::new(Span::styled(" loading the transcript…", t.muted)),
            area,
        );
        return;
    };
    let height = area.height as usize;
    let len = transcript.len();
    let bottom = len.saturating_sub(height);
    let top = d.scroll.unwrap_or(bottom).min(bottom);
    let query = d.search.as_deref().map(str::to_lowercase);
    let current = app.current_match();
    let width = area.width as usize;
    let mut lines: Vec<Line> = Vec::with_capacity(height);
    for i in top..(top + height).min(len) {
        let Some(line) = transcript.get(i) else {
            // Only in the file: one note where the missing lines start.
            let note = if i > top && transcript.get(i - 1).is_none() {
                String::new()
            } else if let Some(e) = transcript.load_error() {
                format!(" cannot read the transcript file: {e}")
            } else if transcript.loading() {
                " loading older lines from the transcript file…".to_owned()
            } else {
                " … more lines in the transcript file: scroll to read them".to_owned()
            };
            lines.push(Line::from(Span::styled(fit(&note, width), t.muted)));
            continue;
        };
        let stamp = if line.at_ms > 0 {
            let s = ((line.at_ms - attempt.started_ms).max(0) / 1000) as u64;
            format!("{:>2}:{:02} ", s / 60, s % 60)
        } else {
            "      ".to_owned()
        };
        let text = fit(&line.text, width.saturating_sub(stamp.len()));
        let mut spans = vec![Span::styled(stamp, t.line_number)];
        spans.extend(highlight(
            &text,
            kind_style(line.kind, t),
            query.as_deref(),
            t.search_match,
        ));
        // The current match: its whole line marked, unlike the others.
        if current == Some(i) {
            spans = spans
                .into_iter()
                .map(|s| s.patch_style(t.selected))
                .collect();
        }
        lines.push(Line::from(spans));
    }
    if len == 0 {
        lines.push(Line::from(Span::styled(" no output yet", t.muted)));
    }
    if top < bottom && lines.len() == height && height > 1 {
        // Scrolled up: the last line says how much is below and how to follow again.
        let key = app.keymap.key_label(crate::ui::keymap::Action::Follow);
        lines.pop();
        lines.push(Line::from(Span::styled(
            format!(" ↓ {} more lines below — {key} follows", bottom - top),
            t.notice,
        )));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn kind_style(kind: LineKind, t: &Theme) -> Style {
    match kind {
        LineKind::Message => t.text,
        LineKind::Tool => t.tool,
        LineKind::ToolOk => t.tool_ok,
        LineKind::ToolError | LineKind::Error => t.tool_error,
        LineKind::Notice => t.notice,
        LineKind::Text => t.muted,
        LineKind::Fleet => t.title,
        LineKind::Verify => t.text,
    }
}

/// Splits `text` into spans, marking case-insensitive matches of `query`.
fn highlight<'a>(text: &str, style: Style, query: Option<&str>, mark: Style) -> Vec<Span<'a>> {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return vec![Span::styled(text.to_owned(), style)];
    };
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        // Lower-casing changed byte lengths (rare scripts): no highlighting rather than wrong cuts.
        return vec![Span::styled(text.to_owned(), style)];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(q) {
        let start = at + found;
        let end = start + q.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        spans.push(Span::styled(text[at..start].to_owned(), style));
        spans.push(Span::styled(text[start..end].to_owned(), mark));
        at = end;
    }
    spans.push(Span::styled(text[at..].to_owned(), style));
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_case_insensitively() {
        let spans = highlight(
            "Error: an error",
            Style::new(),
            Some("error"),
            Style::new().bold(),
        );
        let texts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, ["", "Error", ": an ", "error", ""]);
        assert_eq!(
            highlight("İx", Style::new(), Some("x"), Style::new()).len(),
            1
        );
    }
}
