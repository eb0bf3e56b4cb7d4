//! The plan diff overlay: who proposed it and why (origin, trigger,
//! reasoning, warnings), then either the changes — one row each with its
//! check box, refused ones with their refusal, expanded ones with their
//! fields and dependencies — or the graph of the proposed plan (scrolled).
//! Pure: it draws the [`PlanView`] the app keeps.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::core::plan_diff::{Change, ChangeKind};
use crate::core::plan_graph::{cut, proposed_tasks, render_graph};
use crate::core::supervisor::rules::change_line;
use crate::sanitize::sanitize;
use crate::ui::app::{App, PlanTab, PlanView};

/// Lines the reasoning may take at most (the rest is cut with `…`).
const MAX_REASONING: usize = 4;

pub fn render(frame: &mut Frame, area: Rect, app: &App, view: &PlanView) {
    let t = &app.theme;
    let rect = crate::ui::layout::centered(
        area,
        area.width.saturating_sub(2).max(1),
        area.height.saturating_sub(2).max(1),
    );
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(format!(" {} ", title(view)), t.title))
        .style(t.dialog);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let width = inner.width as usize;
    let mut top = head(app, view, width, inner.height as usize);
    let mut bottom = Vec::new();
    if let Some(e) = &view.error {
        for l in wrap(&sanitize(e), width).into_iter().take(3) {
            bottom.push(Line::from(Span::styled(l, t.error)));
        }
    } else if view.pending {
        bottom.push(Line::from(Span::styled("sending…", t.muted)));
    }
    bottom.extend(hints(app, view, width));
    let room = (inner.height as usize).saturating_sub(top.len() + bottom.len());
    let body = match view.tab {
        PlanTab::Changes => changes(app, view, width, room),
        PlanTab::Graph => graph(app, view, width, room),
    };
    let pad = room.saturating_sub(body.len());
    top.extend(body);
    top.extend(std::iter::repeat_n(Line::default(), pad));
    top.extend(bottom);
    top.truncate(inner.height as usize);
    frame.render_widget(Paragraph::new(top), inner);
}

fn title(view: &PlanView) -> String {
    let (added, dropped, edited) = view.diff.counts();
    let what = match view.proposal_id() {
        Some(id) => format!("Proposal {id} from the {}", view.origin().name()),
        None => "Your replan".to_owned(),
    };
    format!("{what}: +{added} ~{edited} -{dropped}")
}

/// The trigger, the tabs, the reasoning and the warnings, at most half the height.
fn head<'a>(app: &App, view: &PlanView, width: usize, height: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    if let Some(trigger) = view.trigger() {
        lines.push(Line::from(Span::styled(
            cut(&sanitize(&trigger.describe()), width),
            t.text,
        )));
    }
    let on = (0..view.diff.changes.len())
        .filter(|i| view.is_on(*i))
        .count();
    let tab = |label: String, active: bool| {
        let style = if active { t.selected } else { t.muted };
        Span::styled(format!(" {label} "), style)
    };
    lines.push(Line::from(vec![
        tab(
            format!("Changes ({on} of {} on)", view.diff.changes.len()),
            view.tab == PlanTab::Changes,
        ),
        Span::raw(" "),
        tab("Graph".into(), view.tab == PlanTab::Graph),
    ]));
    let budget = height / 2;
    if let PlanTab::Changes = view.tab
        && let crate::ui::app::PlanSource::Proposal(p) = &view.source
    {
        if let Some(reasoning) = &p.reasoning {
            let mut wrapped = wrap(&sanitize(reasoning), width);
            if wrapped.len() > MAX_REASONING {
                wrapped.truncate(MAX_REASONING);
                if let Some(last) = wrapped.last_mut() {
                    *last = cut(&format!("{last} …"), width);
                }
            }
            lines.extend(
                wrapped
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, t.text))),
            );
        }
        for w in &p.warnings {
            let text = cut(&format!("⚠ {}", sanitize(w)), width);
            lines.push(Line::from(Span::styled(text, t.warning)));
        }
    }
    for cycle in &view.diff.cycles {
        let names: Vec<&str> = cycle.iter().map(|c| c.as_str()).collect();
        let text = cut(&format!("! dependency cycle: {}", names.join(" → ")), width);
        lines.push(Line::from(Span::styled(text, t.error)));
    }
    lines.truncate(budget.max(1));
    lines
}

/// One row per change (and its expansion), scrolled so that the selected one shows.
fn changes<'a>(app: &App, view: &PlanView, width: usize, room: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    if view.diff.is_empty() {
        return vec![Line::from(Span::styled(
            "no change: the proposed plan is the current one",
            t.muted,
        ))];
    }
    let mut lines: Vec<Line<'a>> = Vec::new();
    let mut selected_at = (0, 0);
    for (i, c) in view.diff.changes.iter().enumerate() {
        let start = lines.len();
        let box_ = match (&c.refused, view.is_on(i)) {
            (Some(_), _) => "[-]",
            (None, true) => "[x]",
            (None, false) => "[ ]",
        };
        let (sign, style) = kind_style(app, c);
        let row = cut(&format!("{box_} {sign} {}", summary(c)), width);
        let mut style = if view.is_on(i) || c.refused.is_some() {
            style
        } else {
            t.muted
        };
        if i == view.selected {
            style = style.patch(t.selected);
        }
        let pad = width.saturating_sub(row.chars().count());
        lines.push(Line::from(Span::styled(
            format!(
                "{row}{}",
                " ".repeat(if i == view.selected { pad } else { 0 })
            ),
            style,
        )));
        if let Some(why) = &c.refused {
            for l in wrap(
                &format!("refused: {}", sanitize(why)),
                width.saturating_sub(6),
            ) {
                lines.push(Line::from(Span::styled(format!("      {l}"), t.error)));
            }
        }
        if view.expanded.contains(&crate::ui::app::change_key(c)) {
            for l in details(c, width.saturating_sub(6)) {
                lines.push(Line::from(Span::styled(format!("      {l}"), t.muted)));
            }
        }
        if i == view.selected {
            selected_at = (start, lines.len());
        }
    }
    // Scroll so that the selected change (with what is under it) is in view.
    let (from, to) = selected_at;
    let first = if to <= room {
        0
    } else {
        from.min(to.saturating_sub(room))
    };
    lines.into_iter().skip(first).take(room).collect()
}

fn kind_style(app: &App, c: &Change) -> (&'static str, Style) {
    let t = &app.theme;
    match (&c.kind, &c.refused) {
        (_, Some(_)) => ("✗", t.error),
        (ChangeKind::Add { .. }, None) => ("+", t.added),
        (ChangeKind::Drop { .. }, None) => ("-", t.removed),
        (ChangeKind::Edit { .. }, None) => ("~", t.warning),
        (ChangeKind::Action { .. }, None) => ("!", t.notice),
    }
}

/// A change on one line, in the history's words ([`change_line`]), with
/// an added task's dependencies and what a drop throws away.
fn summary(c: &Change) -> String {
    let extra = match &c.kind {
        ChangeKind::Add { spec } if !spec.deps.is_empty() => format!(" ← {}", ids(&spec.deps)),
        ChangeKind::Drop {
            discards: Some(d), ..
        } => format!(" ({d})"),
        _ => String::new(),
    };
    sanitize(&format!("{}{extra}", change_line(c))).into_owned()
}

/// What an expanded change shows: each field old → new (long values
/// shortened), dependency changes, an added task's agent and prompt.
fn details(c: &Change, width: usize) -> Vec<String> {
    let half = width.saturating_sub(12) / 2;
    let value = |s: &str, room: usize| cut(&sanitize(s), room.max(4));
    let mut out = Vec::new();
    match &c.kind {
        ChangeKind::Action { action } => {
            if let Some(m) = &action.message {
                out.extend(wrap(&sanitize(m), width));
            }
        }
        ChangeKind::Add { spec } => {
            if let Some(from) = &spec.split_from {
                out.push(format!("part of: {from} (continues its work)"));
            }
            out.push(format!("agent: {}", value(&spec.agent, width)));
            if let Some(role) = &spec.role {
                out.push(format!("role: {}", value(role, width)));
            }
            out.push(format!(
                "prompt: {}",
                value(&spec.prompt, width.saturating_sub(8))
            ));
        }
        ChangeKind::Drop { deps, .. } => {
            if !deps.is_empty() {
                out.push(format!("depended on: {}", ids(deps)));
            }
        }
        ChangeKind::Edit {
            fields,
            deps_added,
            deps_removed,
            ..
        } => {
            for f in fields {
                out.push(format!(
                    "{}: {} → {}",
                    f.field,
                    value(&f.old, half),
                    value(&f.new, half)
                ));
            }
            if !deps_added.is_empty() {
                out.push(format!("deps added: {}", ids(deps_added)));
            }
            if !deps_removed.is_empty() {
                out.push(format!("deps removed: {}", ids(deps_removed)));
            }
        }
    }
    out.into_iter().map(|l| cut(&l, width)).collect()
}

/// The proposed plan's graph from the scroll position.
fn graph<'a>(app: &App, view: &PlanView, width: usize, room: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    let current = app.model.fleet.tasks();
    let tasks = proposed_tasks(current, &view.plan(current));
    let changed = view.diff.changed_tasks();
    let all = render_graph(&tasks, &changed, width, tasks.len() * 3 + 16);
    let first = view.scroll.min(all.len().saturating_sub(room));
    all.into_iter()
        .skip(first)
        .take(room)
        .map(|l| {
            let style = if l.starts_with("layer") || l.starts_with("in a dependency") {
                t.title
            } else if l.contains('*') {
                t.added
            } else {
                t.text
            };
            Line::from(Span::styled(sanitize(&l).into_owned(), style))
        })
        .collect()
}

/// The overlay's keys, on two lines when one is too narrow for all of them.
fn hints<'a>(app: &App, view: &PlanView, width: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    let mut lines: Vec<Vec<Span<'a>>> = vec![Vec::new()];
    let mut used = 0;
    for (action, label) in crate::ui::app::plan_hints(view) {
        let key = app.keymap.key_label(action);
        let w = key.chars().count() + label.chars().count() + 3;
        if used + w > width {
            if lines.len() == 2 {
                break;
            }
            lines.push(Vec::new());
            used = 0;
        }
        if w > width {
            break;
        }
        used += w;
        if let Some(line) = lines.last_mut() {
            line.push(Span::styled(key, t.key));
            line.push(Span::styled(format!(" {label}  "), t.muted));
        }
    }
    lines
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(Line::from)
        .collect()
}

fn ids(ids: &[crate::core::TaskId]) -> String {
    ids.iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` broken at spaces into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&cut(word, width));
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
