//! The compare view of a fan-out task: its candidates side by side (as
//! many columns of at least 38 cells as fit, at most 4; ←/→ move the
//! focus and the window), each with its agent, status, outcome, gate,
//! cost, time and the reviewer's verdict and rank. And the fan-out
//! profile picker. Pure: it draws the model and the [`CompareView`].

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::board::status_style;
use super::chrome::{elapsed, fit};
use super::messages::frame;
use crate::core::Task;
use crate::core::team::Verdict;
use crate::sanitize::sanitize;
use crate::ui::app::{App, CompareView, FanOutPicker};
use crate::ui::keymap::Action;
use crate::ui::model::candidates;

/// The narrowest a candidate's column gets.
const COLUMN: u16 = 38;

/// How many columns fit in `width`, for `n` candidates.
pub fn columns(width: u16, n: usize) -> usize {
    ((width / COLUMN).clamp(1, 4) as usize).min(n.max(1))
}

pub fn render(frame_: &mut Frame, area: Rect, app: &App, view: &CompareView) {
    let Some(body) = frame(frame_, area, app) else {
        return;
    };
    let t = &app.theme;
    let list = candidates(&app.model.fleet, &view.task);
    let n = columns(body.width, list.len());
    let focus = view.focus.min(list.len().saturating_sub(1));
    let first = (focus + 1).saturating_sub(n);
    let title = Rect { height: 1, ..body };
    let mut head = format!(" Compare `{}`: {} candidate(s)", view.task, list.len());
    if list.len() > n {
        head.push_str(&format!(
            " · {}–{} shown, ←/→ for the others",
            first + 1,
            first + n
        ));
    }
    frame_.render_widget(
        Paragraph::new(Span::styled(fit(&head, body.width as usize), t.title)),
        title,
    );
    if body.height < 2 {
        return;
    }
    let cols = Rect {
        y: body.y + 1,
        height: body.height - 1,
        ..body
    };
    if list.is_empty() {
        let why = "no candidate yet: they appear as the fan-out starts them";
        frame_.render_widget(
            Paragraph::new(Span::styled(fit(why, cols.width as usize), t.muted)),
            cols,
        );
        return;
    }
    let w = cols.width / n as u16;
    for (k, cand) in list.iter().enumerate().skip(first).take(n) {
        let i = (k - first) as u16;
        let width = if k - first == n - 1 {
            cols.width - w * i
        } else {
            w
        };
        let rect = Rect {
            x: cols.x + w * i,
            width,
            ..cols
        };
        column(frame_, rect, app, cand, k == focus);
    }
}

/// One candidate's column.
fn column(frame: &mut Frame, rect: Rect, app: &App, task: &Task, focused: bool) {
    let t = &app.theme;
    let border = if focused { t.border_focus } else { t.border };
    let title_style = if focused {
        t.title.patch(t.selected)
    } else {
        t.title
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(
            fit(
                &format!(" {} ", task.id()),
                rect.width.saturating_sub(2) as usize,
            ),
            title_style,
        ));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    frame.render_widget(
        Paragraph::new(lines(app, task)).wrap(Wrap { trim: false }),
        inner,
    );
}

/// What a candidate's column says.
fn lines<'a>(app: &App, task: &Task) -> Vec<Line<'a>> {
    let t = &app.theme;
    let field = |name: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!("{name:<8}"), t.muted),
            Span::styled(value, style),
        ])
    };
    let attempts = app.model.attempts_of(task.id());
    let last = attempts.last();
    let outcome = last
        .and_then(|a| a.outcome.as_ref())
        .map_or_else(|| "—".to_owned(), |o| o.word());
    let gate = match (&task.verified, last.and_then(|a| a.outcome.as_ref())) {
        (Some(v), _) => format!("passed ({})", v.commit.chars().take(7).collect::<String>()),
        (None, Some(crate::core::AttemptOutcome::VerifyFailed { command })) => {
            format!("failed: {}", sanitize(command))
        }
        _ => "—".to_owned(),
    };
    let usage = app.model.usage(task.id());
    let time: i64 = attempts
        .iter()
        .map(|a| a.ended_ms.unwrap_or(app.now_ms) - a.started_ms)
        .sum();
    let mut out = vec![
        field("agent", sanitize(&task.spec.agent).into_owned(), t.text),
        field(
            "status",
            task.status.to_string(),
            status_style(&task.status, t),
        ),
        field("outcome", outcome, t.text),
        field("gate", gate, t.text),
        field(
            "cost",
            format!(
                "${:.3} · {} tok",
                usage.cost_usd,
                usage.input_tokens + usage.output_tokens
            ),
            t.text,
        ),
        field(
            "time",
            format!("{} · {} attempt(s)", elapsed(time), attempts.len()),
            t.text,
        ),
    ];
    match &task.review {
        Some(r) => {
            let (word, style) = match r.verdict {
                Verdict::Approve => ("approve", t.done),
                Verdict::Changes => ("changes requested", t.warning),
            };
            let rank = r.rank.map(|n| format!(" · rank {n}")).unwrap_or_default();
            out.push(field("review", format!("{word}{rank}"), style));
            out.push(field(
                "",
                format!(
                    "round {}, {} comment(s), by {}",
                    r.round,
                    r.comments.len(),
                    sanitize(&r.agent)
                ),
                t.muted,
            ));
            if !r.summary.trim().is_empty() {
                out.push(Line::default());
                out.push(Line::from(Span::styled(
                    sanitize(r.summary.trim()).into_owned(),
                    t.text,
                )));
            }
        }
        None => out.push(field("review", "—".to_owned(), t.muted)),
    }
    out
}

/// The fan-out picker: every profile with a check box.
pub fn fanout_picker(frame: &mut Frame, area: Rect, app: &App, p: &FanOutPicker) {
    let height = (p.agents.len() as u16).saturating_add(5);
    let rect = crate::ui::layout::centered(area, 52, height);
    frame.render_widget(Clear, rect);
    let b = super::dialogs::frame_box(app, format!("Fan `{}` out to", p.task));
    let inner = b.inner(rect);
    frame.render_widget(b, rect);
    let mut lines: Vec<Line> = p
        .agents
        .iter()
        .zip(&p.chosen)
        .enumerate()
        .map(|(i, (a, on))| {
            let style = if i == p.selected {
                app.theme.selected
            } else {
                app.theme.text
            };
            let mark = if *on { "[x]" } else { "[ ]" };
            Line::from(Span::styled(format!(" {mark} {}", sanitize(a)), style))
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        format!("{} chosen (at least 2) · space toggles", p.picked().len()),
        app.theme.muted,
    )));
    lines.push(super::dialogs::hints(
        app,
        &[(Action::Open, "fan out"), (Action::Back, "cancel")],
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}
