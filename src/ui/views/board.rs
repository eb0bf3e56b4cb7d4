//! The board: Queued, Running, Review and Done columns of task cards (one
//! column at a time, with tabs, in a narrow terminal).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::chrome::{self, elapsed, fit};
use crate::core::{AttemptOutcome, MergeBlock, Status, Task};
use crate::ui::app::{App, COLUMNS};
use crate::ui::layout::{self, CARD_HEIGHT};
use crate::ui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let l = layout::board(area, app.board.column);
    chrome::header(frame, l.header, app);
    let t = &app.theme;
    if let Some(tabs) = l.tabs {
        let w = (tabs.width / 4).max(1) as usize;
        let spans: Vec<Span> = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let label = fit(&format!(" {} {}", c, app.column_tasks(*c).len()), w);
                let style = if i == app.board.column {
                    t.selected
                } else {
                    t.muted
                };
                Span::styled(format!("{label:<w$}"), style)
            })
            .collect();
        frame.render_widget(Paragraph::new(Line::from(spans)), tabs);
    }
    for (i, rect) in l.columns.iter().enumerate() {
        if let Some(rect) = rect {
            column(frame, *rect, app, i);
        }
    }
    chrome::footer(frame, l.footer, app);
}

fn column(frame: &mut Frame, rect: Rect, app: &App, i: usize) {
    let t = &app.theme;
    let col = COLUMNS[i];
    let tasks = app.column_tasks(col);
    let focused = i == app.board.column;
    let style = match i {
        0 => t.queued,
        1 => t.running,
        2 => t.review,
        _ => t.done,
    };
    // Focus shows in the title, not the whole border: moving between columns
    // then repaints a title and two cards, not every border cell (bytes over SSH).
    let title_style = if focused {
        style.patch(t.selected)
    } else {
        style
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(
            format!(" {col} {} ", tasks.len()),
            title_style,
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let inner = layout::column_inner(rect);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let visible = (inner.height / CARD_HEIGHT).max(1) as usize;
    let selected = app.selected_index(i);
    let first = layout::first_card(selected, visible);
    let mut lines: Vec<Line> = Vec::with_capacity(visible * 2);
    for (k, task) in tasks.iter().enumerate().skip(first).take(visible) {
        let highlight = focused && k == selected;
        lines.extend(card(task, app, inner.width as usize, highlight));
    }
    if tasks.is_empty() {
        lines.push(Line::from(Span::styled("—", t.muted)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The two lines of a card: id and title; agent, time, cost and markers.
fn card<'a>(task: &Task, app: &App, width: usize, highlight: bool) -> [Line<'a>; 2] {
    let t = &app.theme;
    let id = task.id().as_str();
    let title = crate::sanitize::sanitize(&task.spec.title).replace('\n', " ");
    let status_style = status_style(&task.status, t);
    let rest = width.saturating_sub(id.chars().count() + 1);
    // The role's badge at the right end, when it leaves the title some room.
    let badge = super::team::card_badge(task);
    let badge_w = badge.chars().count();
    let badge = if rest >= badge_w + 8 {
        badge
    } else {
        String::new()
    };
    let title = fit(&title, rest.saturating_sub(badge.chars().count()));
    let gap = rest.saturating_sub(title.chars().count() + badge.chars().count());
    let mut first = vec![
        Span::styled(fit(id, width), status_style.patch(t.title)),
        Span::raw(" "),
        Span::styled(title, t.text),
    ];
    if !badge.is_empty() {
        first.push(Span::raw(" ".repeat(gap)));
        first.push(Span::styled(badge, t.muted));
    }
    let mut meta = task.spec.agent.clone();
    meta.push_str(&super::team::card_group(task));
    let attempts = app.model.attempts_of(task.id());
    if let Some(a) = attempts.last() {
        // The attempt is not over while its agent runs or its gate verifies it.
        let end = if ticks(&task.status) {
            app.now_ms
        } else {
            a.ended_ms.unwrap_or(app.now_ms)
        };
        meta.push_str(&format!(" · {}", elapsed(end - a.started_ms)));
        if attempts.len() > 1 {
            meta.push_str(&format!(" · #{}", a.n));
        }
    }
    let cost = app.model.usage(task.id()).cost_usd;
    if cost > 0.0 {
        meta.push_str(&format!(" · ${cost:.3}"));
    }
    // Markers first: they are what needs attention; the agent, time and cost fill the rest.
    let mut second = Vec::new();
    let mut used = 0;
    for (text, style) in markers(task, app) {
        let room = width.saturating_sub(used);
        if room < 4 {
            break;
        }
        let text = fit(&text, room - 1);
        used += text.chars().count() + 1;
        second.push(Span::styled(text, style));
        second.push(Span::raw(" "));
    }
    second.push(Span::styled(
        fit(&meta, width.saturating_sub(used)),
        t.muted,
    ));
    if highlight {
        let sel = t.selected;
        let pad = |spans: &mut Vec<Span<'a>>| {
            let len: usize = spans.iter().map(|s| s.content.chars().count()).sum();
            spans.push(Span::raw(" ".repeat(width.saturating_sub(len))));
            for s in spans.iter_mut() {
                s.style = s.style.patch(sel);
            }
        };
        pad(&mut first);
        pad(&mut second);
    }
    [Line::from(first), Line::from(second)]
}

/// The markers of a card: paused, failed, conflicted, needs input, blocked...
fn markers(task: &Task, app: &App) -> Vec<(String, Style)> {
    let t = &app.theme;
    let mut out = Vec::new();
    match &task.status {
        Status::Paused { .. } if task.over_budget.is_some() => {
            out.push(("over budget".to_owned(), t.failed))
        }
        Status::Paused { .. } => out.push(("paused".to_owned(), t.paused)),
        Status::Queued { held: true } => out.push(("held".to_owned(), t.paused)),
        Status::Queued { held: false } => {
            let pending: Vec<&str> = app
                .model
                .fleet
                .pending_deps(task)
                .map(|d| d.as_str())
                .collect();
            if !pending.is_empty() {
                out.push((format!("blocked: {}", pending.join(",")), t.muted));
            } else if app.model.budget.task_over(task).is_some() {
                out.push(("over budget".to_owned(), t.failed));
            } else if app.model.fleet.unusable().contains_key(&task.spec.agent) {
                out.push((format!("{} unusable", task.spec.agent), t.failed));
            } else if let Some(at) = task.not_before_ms.filter(|at| *at > app.now_ms) {
                out.push((
                    format!("rate limited {}", elapsed(at - app.now_ms)),
                    t.warning,
                ));
            } else if app.model.fleet.paused() {
                out.push(("fleet paused".to_owned(), t.paused));
            }
        }
        Status::Verifying { .. } => out.push(("verifying".to_owned(), t.running)),
        Status::Updating { .. } => out.push(("updating".to_owned(), t.running)),
        Status::Merging { .. } => out.push(("merging".to_owned(), t.review)),
        Status::Failed { .. } => {
            // The last attempt's outcome says how it failed ("verify failed", "rejected"...).
            let last = app.model.attempts_of(task.id()).last();
            let word = last.and_then(|a| a.outcome.as_ref()).map(|o| o.word());
            out.push((word.unwrap_or_else(|| "failed".to_owned()), t.failed))
        }
        Status::Review {
            block: None,
            attempt,
        } => review_markers(task, *attempt, app, &mut out),
        Status::Review {
            block: Some(MergeBlock::Conflict { .. }),
            ..
        } => out.push(("conflict".to_owned(), t.conflict)),
        Status::Review {
            block: Some(MergeBlock::Refused { .. }),
            ..
        } => out.push(("your changes".to_owned(), t.conflict)),
        Status::Review {
            block: Some(MergeBlock::Error { .. }),
            ..
        } => out.push(("merge error".to_owned(), t.error)),
        Status::Review {
            block: Some(MergeBlock::UpdateConflict { .. }),
            ..
        } => out.push(("resolve: u agent, E edit".to_owned(), t.conflict)),
        Status::Done { commit } => out.push((commit.chars().take(7).collect(), t.done)),
        Status::Dropped => out.push(("dropped".to_owned(), t.muted)),
        _ => {}
    }
    out.extend(super::team::markers(task, app));
    if let Some(tool) = app.model.needs_input.get(task.id())
        && task.status.has_agent()
    {
        out.push((format!("needs input: {tool}"), t.warning));
    }
    if let Status::Failed { reason } = &task.status
        && reason.starts_with("needs input")
    {
        out.push(("needs input".to_owned(), t.warning));
    }
    // The supervisor's view of the task: its progress ledger says it
    // stalled, or it asks the user something (Enter / Info shows it all).
    if let Some(why) = &task.stalled {
        let why = crate::sanitize::sanitize(why).replace('\n', " ");
        out.push((format!("stalled: {why}"), t.warning));
    }
    if let Some(q) = &task.question {
        let q = crate::sanitize::sanitize(q).replace('\n', " ");
        out.push((format!("question: {q}"), t.warning));
    }
    // A running agent silent for longer than its profile's stall_secs.
    if let (Status::Running { .. }, Some(stall), Some(last)) = (
        &task.status,
        app.model.stall_secs.get(&task.spec.agent),
        app.model.last_output.get(task.id()),
    ) && app.now_ms - last > *stall as i64 * 1000
    {
        out.push((format!("stalled {}", elapsed(app.now_ms - last)), t.warning));
    }
    out
}

/// A task waiting in review: its last attempt added nothing ("no further
/// changes"), or it was reassigned (the work under review is another
/// agent's: "work by X").
fn review_markers(task: &Task, attempt: u32, app: &App, out: &mut Vec<(String, Style)>) {
    let t = &app.theme;
    let attempts = app.model.attempts_of(task.id());
    if let Some(o @ AttemptOutcome::NoFurtherChanges) =
        attempts.last().and_then(|a| a.outcome.as_ref())
    {
        out.push((o.word(), t.muted));
    }
    if let Some(a) = attempts.iter().find(|a| a.n == attempt)
        && a.agent != task.spec.agent
    {
        out.push((format!("work by {}", a.agent), t.review));
    }
}

/// True while a card's elapsed time runs: an agent runs (or is paused) or
/// the verify gate checks its work, or its branch is being updated.
pub fn ticks(status: &Status) -> bool {
    status.has_agent() || matches!(status, Status::Verifying { .. } | Status::Updating { .. })
}

/// The colour of a status.
pub fn status_style(status: &Status, t: &Theme) -> Style {
    match status {
        Status::Queued { .. } => t.queued,
        Status::Running { .. }
        | Status::Verifying { .. }
        | Status::Updating { .. }
        | Status::Reviewing { .. }
        | Status::FannedOut
        | Status::Grouped { .. } => t.running,
        Status::Paused { .. } => t.paused,
        Status::Review { block: Some(_), .. } => t.conflict,
        Status::Review { .. } | Status::Merging { .. } | Status::Comparing => t.review,
        Status::Failed { .. } => t.failed,
        Status::Done { .. } => t.done,
        Status::Dropped => t.muted,
    }
}
