//! A transcript pane: a header naming the attempt shown (`[`/`]` step
//! through the task's attempts, newest last), then only the visible lines,
//! laid out as they are drawn. It follows new output unless the user
//! scrolled up; search matches are highlighted; a tool result's output is
//! folded under its line (errors open) and Enter opens or closes the first
//! one in view; `v` jumps to the verify gate's section; paths inside the
//! task's worktree are shown relative to it. Lines above the tail in memory
//! show a note until they are read from the transcript file (in the
//! background, asked by the app).
//!
//! [`Pane::handle`] owns the pane's keys; positions are line numbers of the
//! transcript, and moving skips the lines folded away.

use std::collections::HashMap;
use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::chrome::fit;
use crate::core::TaskId;
use crate::core::worktree_paths::relative_to_worktree;
use crate::ui::app::{App, Detail, Intent, Screen, Toast};
use crate::ui::keymap::{Action, Keymap};
use crate::ui::model::{AttemptInfo, LineKind, Transcript, WINDOW_LINES};
use crate::ui::theme::Theme;

/// Rows of the pane above the transcript's lines: the attempt header.
pub const HEADER_ROWS: usize = 1;

/// Rows of transcript lines in a pane `pane_height` rows high.
pub fn body_height(pane_height: usize) -> usize {
    pane_height.saturating_sub(HEADER_ROWS)
}

/// The top line a pane `height` rows high shows (`scroll`: the user's, or
/// None to follow), and the top line at the bottom of the transcript.
pub fn top_and_bottom(t: &Transcript, scroll: Option<usize>, height: usize) -> (usize, usize) {
    let bottom = t.folds().bottom(height.max(1), t.len());
    let top = scroll.map_or(bottom, |s| t.folds().shown(s.min(bottom)));
    (top.min(bottom), bottom)
}

/// The line numbers the view needs in memory: those of its rows, up to the
/// first far jump over a folded result (the lines beyond it are read once
/// the view gets there, so one window of lines always covers the request).
pub fn lines_needed(t: &Transcript, scroll: Option<usize>, height: usize) -> Range<usize> {
    let (top, _) = top_and_bottom(t, scroll, height);
    let rows = t.folds().rows(top, height, t.len());
    let Some(first) = rows.first().copied() else {
        return top..top;
    };
    let last = rows
        .iter()
        .take_while(|r| **r - first < WINDOW_LINES / 2)
        .last()
        .copied()
        .unwrap_or(first);
    first..last + 1
}

/// The tool result Enter opens or closes: the first one in view.
fn fold_in_view(t: &Transcript, rows: &[usize]) -> Option<usize> {
    rows.iter().copied().find(|r| t.folds().at(*r).is_some())
}

/// The transcript pane's state, borrowed from the app for one key.
pub struct Pane<'a> {
    pub detail: &'a mut Detail,
    /// The task's attempts, oldest first.
    pub attempts: &'a [AttemptInfo],
    pub transcripts: &'a mut HashMap<(TaskId, u32), Transcript>,
    /// Rows of transcript lines ([`body_height`]).
    pub height: usize,
    /// What to tell the user after a key (a toast).
    pub note: Option<String>,
}

impl Pane<'_> {
    /// Handles a key of the transcript pane: moving (over folded lines),
    /// following, stepping through attempts, folding, the verify section.
    /// False when the key is not the pane's (search, task commands).
    pub fn handle(&mut self, action: Action) -> bool {
        use Action::*;
        match action {
            OlderAttempt | NewerAttempt => self.step_attempt(action == OlderAttempt),
            Bottom | Follow => self.detail.scroll = None,
            Up | Down | PageUp | PageDown | Top | ToggleFold | VerifyOutput => self.act(action),
            _ => return false,
        }
        true
    }

    /// A key that needs the shown transcript (nothing happens before it is loaded).
    fn act(&mut self, action: Action) {
        let height = self.height.max(1);
        let d = &mut *self.detail;
        let shown = match d.attempt {
            Some(n) => self.attempts.iter().find(|a| a.n == n),
            None => self.attempts.last(),
        };
        let Some(n) = shown.map(|a| a.n) else {
            return;
        };
        let Some(t) = self.transcripts.get_mut(&(d.task.clone(), n)) else {
            return;
        };
        let (top, bottom) = top_and_bottom(t, d.scroll, height);
        let len = t.len();
        let moved = |delta: isize| t.folds().step(top, delta, len);
        let to = match action {
            Action::Up => moved(-1),
            Action::Down => moved(1),
            Action::PageUp => moved(-(height as isize)),
            Action::PageDown => moved(height as isize),
            Action::Top => 0,
            Action::ToggleFold => {
                let rows = t.folds().rows(top, height, len);
                let Some(header) = fold_in_view(t, &rows) else {
                    self.note = Some("no tool output in view to fold or unfold".into());
                    return;
                };
                t.toggle_fold(header);
                if d.scroll.is_none() {
                    // Following stays at the bottom; else the view keeps its top.
                    return;
                }
                top
            }
            Action::VerifyOutput => {
                let Some(v) = t.verify_start() else {
                    self.note = Some(format!(
                        "attempt {n} has no verify output (its gate did not run)"
                    ));
                    return;
                };
                // Kept in view as new output arrives (no following).
                d.scroll = Some(v.min(bottom));
                return;
            }
            _ => return,
        };
        let bottom = t.folds().bottom(height, len);
        d.scroll = (to < bottom).then_some(to);
    }

    /// Shows the attempt before (or after) the one shown; the newest one
    /// is shown as None, so that it follows the live attempt.
    fn step_attempt(&mut self, older: bool) {
        let last = self.attempts.len().saturating_sub(1);
        let at = match self.detail.attempt {
            Some(n) => self.attempts.iter().position(|a| a.n == n).unwrap_or(last),
            None => last,
        };
        let to = if older {
            at.checked_sub(1)
        } else {
            Some(at + 1).filter(|i| *i <= last)
        };
        let Some(to) = to else {
            self.note = Some(if older {
                "this is the task's first attempt".into()
            } else {
                "this is the task's newest attempt".into()
            });
            return;
        };
        self.detail.attempt = (to < last).then(|| self.attempts[to].n);
        self.detail.scroll = None;
    }
}

impl App {
    /// The transcript pane's keys ([`Pane::handle`]): the reads the view
    /// then needs, or None when the key is not the pane's.
    pub(crate) fn transcript_pane_action(&mut self, action: Action) -> Option<Vec<Intent>> {
        let pane = crate::ui::layout::detail_body(self.area()).height as usize;
        let Screen::Detail(d) = &mut self.screen else {
            return None;
        };
        let task = d.task.clone();
        let mut pane = Pane {
            detail: d,
            attempts: self.model.attempts.get(&task).map_or(&[], Vec::as_slice),
            transcripts: &mut self.model.transcripts,
            height: body_height(pane),
            note: None,
        };
        if !pane.handle(action) {
            return None;
        }
        if let Some(text) = pane.note.take() {
            self.toast = Some(Toast { text, error: false });
        }
        // Moved: a read that failed is tried again, what the view lacks is read.
        for t in self.model.transcripts.values_mut() {
            t.retry();
        }
        Some(self.pending_loads())
    }
}

/// What the header says of an attempt: its number among the task's
/// attempts and how it ended.
pub fn attempt_header(attempts: &[AttemptInfo], shown: &AttemptInfo) -> String {
    let outcome = match (&shown.outcome, &shown.message) {
        (None, _) => "running".to_owned(),
        (Some(o), Some(m)) if !m.is_empty() => format!("{}: {m}", o.describe()),
        (Some(o), _) => o.describe(),
    };
    let latest = attempts.last().is_some_and(|a| a.n == shown.n);
    let which = if latest { "" } else { " (older)" };
    format!(
        " attempt {} of {}{which} · {} · {outcome}",
        shown.n,
        attempts.len(),
        shown.agent
    )
}

fn header_line<'a>(
    app: &App,
    attempts: &[AttemptInfo],
    shown: &AttemptInfo,
    width: usize,
) -> Line<'a> {
    let t = &app.theme;
    let hint = hints(&app.keymap);
    let title = attempt_header(attempts, shown);
    let room = width.saturating_sub(hint.chars().count() + 1);
    let title = fit(&title, room.max(width.min(20)));
    let pad = width.saturating_sub(title.chars().count() + hint.chars().count());
    let mut spans = vec![Span::styled(title, t.title)];
    if pad > 0 {
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(hint, t.muted));
    }
    Line::from(spans)
}

/// The pane's own keys, for its header.
fn hints(keys: &Keymap) -> String {
    format!(
        "{} {} attempts · {} fold · {} verify ",
        keys.key_label(Action::OlderAttempt),
        keys.key_label(Action::NewerAttempt),
        keys.key_label(Action::ToggleFold),
        keys.key_label(Action::VerifyOutput),
    )
}

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
    let attempts = app.model.attempts_of(&d.task);
    let width = area.width as usize;
    let mut lines: Vec<Line> = vec![header_line(app, attempts, attempt, width)];
    let Some(transcript) = app.model.transcripts.get(&(d.task.clone(), attempt.n)) else {
        lines.push(Line::from(Span::styled(
            " loading the transcript…",
            t.muted,
        )));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    let height = body_height(area.height as usize);
    let len = transcript.len();
    let (top, bottom) = top_and_bottom(transcript, d.scroll, height);
    let rows = transcript.folds().rows(top, height, len);
    let target = fold_in_view(transcript, &rows);
    let query = d.search.as_deref().map(str::to_lowercase);
    let current = app.current_match();
    for (k, &i) in rows.iter().enumerate() {
        let Some(line) = transcript.get(i) else {
            // Only in the file: one note where the missing lines start.
            let note = if k > 0 && transcript.get(rows[k - 1]).is_none() {
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
        let row = Row {
            task: &d.task,
            started_ms: attempt.started_ms,
            fold: transcript
                .folds()
                .at(i)
                .map(|f| (f.open, target == Some(i))),
            query: query.as_deref(),
            width,
        };
        let mut drawn = row.draw(line, t);
        // The current match: its whole line marked, unlike the others.
        if current == Some(i) {
            drawn.spans = drawn
                .spans
                .into_iter()
                .map(|s| s.patch_style(t.selected))
                .collect();
        }
        lines.push(drawn);
    }
    if len == 0 {
        lines.push(Line::from(Span::styled(" no output yet", t.muted)));
    }
    if top < bottom && lines.len() == height + HEADER_ROWS && height > 1 {
        // Scrolled up: the last line says how much is below and how to follow again.
        let below = transcript.folds().shown_between(top, bottom);
        let key = app.keymap.key_label(Action::Follow);
        lines.pop();
        lines.push(Line::from(Span::styled(
            format!(" ↓ {below} more lines below — {key} follows"),
            t.notice,
        )));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// How one transcript line is drawn.
struct Row<'a> {
    task: &'a TaskId,
    /// When the attempt started (time stamps count from it).
    started_ms: i64,
    /// The line is a tool result with output: (unfolded, Enter acts on it).
    fold: Option<(bool, bool)>,
    /// The search, lower-cased.
    query: Option<&'a str>,
    width: usize,
}

impl Row<'_> {
    /// The time stamp, then the text with worktree paths made relative, a
    /// tool result's fold mark and search matches marked.
    fn draw<'l>(&self, line: &crate::ui::model::Line, t: &Theme) -> Line<'l> {
        let stamp = if line.at_ms > 0 {
            let s = ((line.at_ms - self.started_ms).max(0) / 1000) as u64;
            format!("{:>2}:{:02} ", s / 60, s % 60)
        } else {
            "      ".to_owned()
        };
        let shown = relative_to_worktree(&line.text, self.task.as_str());
        let (shown, target) = match self.fold {
            Some((open, target)) => {
                let mark = if open { "-" } else { "+" };
                let rest = shown.strip_prefix("  ↳").unwrap_or(&shown);
                (format!("  {mark}{rest}"), target)
            }
            None => (shown.into_owned(), false),
        };
        let text = fit(&shown, self.width.saturating_sub(stamp.len()));
        let stamp_style = if target { t.selected } else { t.line_number };
        let mut spans = vec![Span::styled(stamp, stamp_style)];
        spans.extend(highlight(
            &text,
            kind_style(line.kind, t),
            self.query,
            t.search_match,
        ));
        Line::from(spans)
    }
}

pub(crate) fn kind_style(kind: LineKind, t: &Theme) -> Style {
    match kind {
        LineKind::Message => t.text,
        LineKind::Tool => t.tool,
        LineKind::ToolOk => t.tool_ok,
        LineKind::ToolError | LineKind::Error => t.tool_error,
        LineKind::ToolOutput => t.muted,
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
