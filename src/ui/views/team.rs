//! The team layer on cards and in the Info tab: the role's short badge,
//! the blocker, overlap, fan-out and group markers, and the reviewer's
//! verdict as lines (shared with the diff view).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::core::team::{ReviewVerdict, Verdict};
use crate::core::{Status, Task};
use crate::sanitize::sanitize;
use crate::ui::app::App;
use crate::ui::model::{candidates, group_members};
use crate::ui::theme::Theme;

/// The short badge of a role: `impl`, `test`, `docs`, `rev`, `plan`, or
/// the first four characters of another role's name.
pub fn role_badge(role: &str) -> String {
    match role {
        "implementer" => "impl".into(),
        "tester" => "test".into(),
        "documenter" => "docs".into(),
        "reviewer" => "rev".into(),
        "planner" => "plan".into(),
        other => sanitize(other).chars().take(4).collect(),
    }
}

fn one_line(s: &str) -> String {
    sanitize(s).replace('\n', " ")
}

/// The team's markers of a card: what needs the user first (a blocker,
/// an overlap), then where the task stands in a fan-out or a review.
pub fn markers(task: &Task, app: &App) -> Vec<(String, Style)> {
    let t = &app.theme;
    let mut out = Vec::new();
    if let Some(b) = &task.blocker {
        out.push((format!("blocker: {}", one_line(b)), t.warning));
    }
    if let Some(o) = task.overlaps.first() {
        let more = match task.overlaps.len() {
            1 => String::new(),
            n => format!(" +{}", n - 1),
        };
        out.push((
            format!("overlap: {} with {}{more}", one_line(&o.file), o.other),
            t.conflict,
        ));
    }
    match &task.status {
        Status::Reviewing { .. } => out.push(("reviewing".into(), t.running)),
        Status::Grouped { .. } => out.push(("waits for its group".into(), t.running)),
        Status::FannedOut | Status::Comparing => {
            let n = candidates(&app.model.fleet, task.id()).len();
            let word = if task.status == Status::Comparing {
                "pick one: enter"
            } else {
                "running"
            };
            out.push((format!("{n} candidates, {word}"), t.review));
        }
        _ => {}
    }
    if let Some(parent) = &task.spec.candidate_of {
        out.push((format!("↳ of {parent}"), t.muted));
    }
    if let Some(r) = &task.review
        && matches!(task.status, Status::Review { .. })
    {
        let word = match r.verdict {
            Verdict::Approve => ("reviewer: approve", t.done),
            Verdict::Changes => ("reviewer: changes", t.warning),
        };
        out.push((word.0.to_owned(), word.1));
    }
    out
}

/// The header's team alert: the agents' open blockers (they need the
/// user), with the key of the messages pane.
pub fn alerts(app: &App) -> Vec<(String, Style)> {
    let blocked: Vec<&str> = app
        .model
        .fleet
        .tasks()
        .iter()
        .filter(|t| t.blocker.is_some() && !t.status.is_final())
        .map(|t| t.id().as_str())
        .collect();
    if blocked.is_empty() {
        return Vec::new();
    }
    let key = app
        .keymap
        .key_label(crate::ui::keymap::Action::MessagesPane);
    vec![(
        format!("blocker: {} ({key})", blocked.join(", ")),
        app.theme.warning,
    )]
}

/// ` impl`: the role badge at the end of a card's first line (empty
/// without a role).
pub fn card_badge(task: &Task) -> String {
    task.spec
        .role
        .as_deref()
        .map(|r| format!(" {}", role_badge(r)))
        .unwrap_or_default()
}

/// ` · group login`: the group on a card's meta line.
pub fn card_group(task: &Task) -> String {
    task.spec
        .group
        .as_deref()
        .map(|g| format!(" · group {}", one_line(g)))
        .unwrap_or_default()
}

/// The verdict's heading and summary: `approve · round 1 · by rev` then
/// the summary's lines.
pub fn verdict_lines<'a>(r: &ReviewVerdict, t: &Theme) -> Vec<Line<'a>> {
    let (word, style) = match r.verdict {
        Verdict::Approve => ("✓ approved", t.done),
        Verdict::Changes => ("✗ changes requested", t.warning),
    };
    let rank = r.rank.map(|n| format!(" · rank {n}")).unwrap_or_default();
    let mut out = vec![Line::from(vec![
        Span::styled(format!("Reviewer: {word}"), style),
        Span::styled(
            format!(
                " · round {} · attempt {} · by {}{rank} · {} comment(s)",
                r.round,
                r.attempt,
                sanitize(&r.agent),
                r.comments.len()
            ),
            t.muted,
        ),
    ])];
    for l in sanitize(r.summary.trim()).lines() {
        out.push(Line::from(Span::styled(format!("  {l}"), t.text)));
    }
    out
}

/// The Info tab's team fields: group, fan-out, blocker, overlaps, review.
pub fn info_lines<'a>(app: &App, task: &Task, lines: &mut Vec<Line<'a>>) {
    let t = &app.theme;
    let field = |name: &str, value: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{name:<11}"), t.muted),
            Span::styled(value, style),
        ])
    };
    if let Some(g) = &task.spec.group {
        let members: Vec<&str> = group_members(&app.model.fleet, g)
            .iter()
            .map(|m| m.id().as_str())
            .collect();
        let value = format!("{} ({})", one_line(g), members.join(", "));
        lines.push(field("group", value, t.text));
    }
    if !task.spec.fanout.is_empty() {
        lines.push(field("fan-out", task.spec.fanout.join(", "), t.text));
    }
    let cands: Vec<String> = candidates(&app.model.fleet, task.id())
        .iter()
        .map(|c| format!("{} ({}, {})", c.id(), c.spec.agent, c.status))
        .collect();
    if !cands.is_empty() {
        lines.push(field("candidates", cands.join(", "), t.text));
    }
    if let Some(p) = &task.spec.candidate_of {
        lines.push(field("candidate", format!("of {p}"), t.text));
    }
    if let Some(b) = &task.blocker {
        for (i, l) in sanitize(b).lines().enumerate() {
            let name = if i == 0 { "blocker" } else { "" };
            lines.push(field(name, l.to_owned(), t.warning));
        }
    }
    for (i, o) in task.overlaps.iter().enumerate() {
        let name = if i == 0 { "overlaps" } else { "" };
        lines.push(field(
            name,
            format!("{} (also changed by {})", one_line(&o.file), o.other),
            t.conflict,
        ));
    }
    if let Some(r) = &task.review {
        lines.extend(verdict_lines(r, t));
        for c in &r.comments {
            let at = c.line.map(|l| format!(":{l}")).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(format!("  {}{at} ", one_line(&c.file)), t.muted),
                Span::styled(one_line(&c.text), t.text),
            ]));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn role_badges_are_short() {
        use super::role_badge;
        assert_eq!(role_badge("implementer"), "impl");
        assert_eq!(role_badge("tester"), "test");
        assert_eq!(role_badge("documenter"), "docs");
        assert_eq!(role_badge("reviewer"), "rev");
        assert_eq!(role_badge("security-auditor"), "secu");
    }
}
