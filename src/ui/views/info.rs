//! The Info tab: prompt, dependencies, attempts with their outcome, branch and worktree.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::board::status_style;
use super::chrome::elapsed;
use crate::core::Status;
use crate::core::outcome::{AttemptOutcome, Tone, attempt_word};
use crate::ui::app::{App, Detail};

/// The task's agent; for a task in review that was reassigned, also who
/// made the work under review (the new agent makes the next attempt).
fn agent_line(app: &App, task: &crate::core::Task) -> String {
    let Status::Review { attempt, .. } = task.status else {
        return task.spec.agent.clone();
    };
    let by = app
        .model
        .attempts_of(task.id())
        .iter()
        .find(|a| a.n == attempt)
        .map(|a| a.agent.clone());
    match by {
        Some(by) if by != task.spec.agent => format!(
            "{} (for the next attempt; the work in review is by {by})",
            task.spec.agent
        ),
        _ => task.spec.agent.clone(),
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let t = &app.theme;
    let Some(task) = app.model.task(d.task.as_str()) else {
        return;
    };
    let clean = |s: &str| crate::sanitize::sanitize(s).into_owned();
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<11}"), t.muted),
            Span::styled(value, t.text),
        ])
    };
    let mut lines = vec![
        field("title", clean(&task.spec.title)),
        Line::from(vec![
            Span::styled(format!("{:<11}", "status"), t.muted),
            Span::styled(task.status.to_string(), status_style(&task.status, t)),
            Span::styled(
                app.model
                    .fleet
                    .reason(task, app.now_ms)
                    .map(|r| format!(" — {}", clean(&r)))
                    .unwrap_or_default(),
                t.warning,
            ),
        ]),
        field("agent", agent_line(app, task)),
    ];
    // The supervisor's question in full (the card shows its start), and a stall.
    if let Some(q) = &task.question {
        for (i, l) in clean(q).lines().enumerate() {
            let name = if i == 0 { "question" } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{name:<11}"), t.muted),
                Span::styled(l.to_owned(), t.warning),
            ]));
        }
    }
    if let Some(why) = &task.stalled {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<11}", "stalled"), t.muted),
            Span::styled(clean(why), t.warning),
        ]));
    }
    if let Some(role) = &task.spec.role {
        lines.push(field("role", clean(role)));
    }
    super::team::info_lines(app, task, &mut lines);
    let deps: Vec<String> = task
        .spec
        .deps
        .iter()
        .map(|dep| {
            let status = app
                .model
                .task(dep.as_str())
                .map_or("missing".to_owned(), |x| x.status.to_string());
            format!("{dep} ({status})")
        })
        .collect();
    lines.push(field(
        "deps",
        if deps.is_empty() {
            "none".into()
        } else {
            deps.join(", ")
        },
    ));
    lines.push(field("branch", format!("fleet/{}", task.id())));
    lines.push(field(
        "worktree",
        app.model
            .root
            .join(".fleet/worktrees")
            .join(task.id().as_str())
            .display()
            .to_string(),
    ));
    let usage = app.model.usage(task.id());
    lines.push(field(
        "usage",
        format!("{} tokens, ${:.4}", usage.tokens(), usage.cost_usd),
    ));
    conflict_lines(task, t, &mut lines);
    lines.push(Line::default());
    lines.push(Line::from(Span::styled("attempts", t.title)));
    let attempts = app.model.attempts_of(task.id());
    if attempts.is_empty() {
        lines.push(Line::from(Span::styled("  none yet", t.muted)));
    }
    for a in attempts {
        let end = a.ended_ms.unwrap_or(app.now_ms);
        let outcome = attempt_word(a.outcome.as_ref(), a.n, &task.status);
        let style = match a.outcome.as_ref().map(AttemptOutcome::tone) {
            Some(Tone::Good) => t.done,
            Some(Tone::Bad) => t.failed,
            Some(Tone::Neutral) => t.warning,
            None => t.running,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  #{:<3}", a.n), t.muted),
            Span::styled(format!("{:<20}", outcome), style),
            Span::styled(
                format!(
                    "{:<10} {:>7}  ${:.4}",
                    a.agent,
                    elapsed(end - a.started_ms),
                    a.usage.cost_usd
                ),
                t.text,
            ),
        ]));
        let first = a.message.as_deref().map(|m| {
            clean(m)
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_owned()
        });
        let detail = match (&a.outcome, first) {
            (Some(AttemptOutcome::VerifyFailed { command }), Some(m)) => {
                Some(format!("`{}`: {m}", clean(command)))
            }
            (Some(AttemptOutcome::VerifyFailed { command }), None) => {
                Some(format!("`{}`", clean(command)))
            }
            (_, m) => m,
        };
        if let Some(detail) = detail {
            lines.push(Line::from(Span::styled(
                format!("       {detail}"),
                t.muted,
            )));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled("prompt", t.title)));
    for l in clean(&task.next_prompt()).lines() {
        lines.push(Line::from(Span::styled(format!("  {l}"), t.text)));
    }
    let scroll = d.info_scroll.min(lines.len().saturating_sub(1)) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

/// For a task whose update conflicted: what conflicts, who changed it on
/// the target, and the keys that resolve it.
fn conflict_lines(
    task: &crate::core::Task,
    t: &crate::ui::theme::Theme,
    lines: &mut Vec<Line<'static>>,
) {
    let crate::core::Status::Review {
        block: Some(crate::core::MergeBlock::UpdateConflict { .. }),
        ..
    } = &task.status
    else {
        return;
    };
    lines.push(Line::default());
    lines.push(Line::from(Span::styled("update conflict", t.title)));
    lines.push(Line::from(Span::styled(
        "  the conflict markers are in the worktree; u: the agent resolves them, E: your $EDITOR, !: a shell",
        t.warning,
    )));
    if let Some(fb) = &task.feedback {
        for line in fb.text.lines() {
            let line = crate::sanitize::sanitize(line).into_owned();
            lines.push(Line::from(Span::styled(format!("  {line}"), t.text)));
        }
    }
}
