//! The context pane: the shared context store's entries (id, kind,
//! author, scope, text), retired ones dimmed when shown; the selected one
//! in full when expanded. And the kind picker of the add editor. Pure: it
//! draws the model and the [`ContextView`].

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::chrome::fit;
use super::messages::{List, block, frame, list_pane};
use crate::core::team::{Author, ContextEntry, ContextKind};
use crate::sanitize::sanitize;
use crate::ui::app::{App, ContextView, KindPicker, scope_text};
use crate::ui::keymap::Action;

/// `user` or `api/claude`: who wrote an entry, short.
pub fn author(a: &Author) -> String {
    match a {
        Author::User => "user".into(),
        Author::Task { task, agent, .. } => format!("{task}/{agent}"),
    }
}

fn row<'a>(app: &App, e: &ContextEntry, width: usize, selected: bool) -> Line<'a> {
    let t = &app.theme;
    let (kind_style, text_style) = if e.retired {
        (t.muted, t.muted)
    } else {
        (t.review, t.text)
    };
    let retired = if e.retired { "retired " } else { "" };
    let head = format!(
        "#{:<3} {:<10} {} · {} · {retired}",
        e.id,
        e.kind.name(),
        author(&e.author),
        scope_text(&e.scope)
    );
    let head = sanitize(&head).into_owned();
    let text = sanitize(&e.text).replace('\n', " ");
    let rest = width.saturating_sub(head.chars().count());
    let mut spans = vec![
        Span::styled(fit(&head, width), kind_style),
        Span::styled(fit(&text, rest), text_style),
    ];
    if selected {
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used))));
        for s in &mut spans {
            s.style = s.style.patch(t.selected);
        }
    }
    Line::from(spans)
}

pub fn render(frame_: &mut Frame, area: Rect, app: &App, view: &ContextView) {
    let Some(body) = frame(frame_, area, app) else {
        return;
    };
    let shown = view.shown(&app.model.team);
    let at = view.cursor(&shown);
    let active = app.model.team.context.iter().filter(|e| !e.retired).count();
    let mut title = format!(" Team context ({active} active");
    if view.retired {
        let retired = app.model.team.context.len() - active;
        title.push_str(&format!(", {retired} retired shown"));
    }
    if let Some(q) = &view.query {
        title.push_str(&format!(" · /{}", sanitize(q)));
    }
    title.push_str(") ");
    let empty = if app.model.team.context.is_empty() {
        "no entry yet: a adds a decision, contract, constraint or convention"
    } else {
        "no entry matches: / with nothing shows them all, h the retired ones"
    };
    let list = List {
        title,
        len: shown.len(),
        at,
        empty,
        expanded: view.expanded,
    };
    let rows = |first: usize, count: usize, width: usize| {
        shown
            .iter()
            .enumerate()
            .skip(first)
            .take(count)
            .map(|(i, e)| row(app, e, width, Some(i) == at))
            .collect()
    };
    let rest = list_pane(frame_, body, app, list, rows);
    if let (Some(rest), Some(e)) = (rest, at.and_then(|i| shown.get(i))) {
        full(frame_, rest, app, e);
    }
}

/// The selected entry in full.
fn full(frame: &mut Frame, area: Rect, app: &App, e: &ContextEntry) {
    let t = &app.theme;
    let title = format!(" Entry {} · {} by {} ", e.id, e.kind, e.author.short());
    let b = block(app, &sanitize(&title), area.width);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let mut lines = vec![Line::from(Span::styled(
        format!("scope: {}", sanitize(&scope_text(&e.scope))),
        t.muted,
    ))];
    if let Some(old) = e.supersedes {
        lines.push(Line::from(Span::styled(
            format!("supersedes entry {old}"),
            t.muted,
        )));
    }
    if e.retired {
        lines.push(Line::from(Span::styled(
            "retired: never in a prompt again",
            t.muted,
        )));
    }
    lines.extend(
        sanitize(&e.text)
            .split('\n')
            .map(|l| Line::from(Span::styled(l.to_owned(), t.text))),
    );
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The kind picker: one line per kind.
pub fn kind_picker(frame: &mut Frame, area: Rect, app: &App, p: &KindPicker) {
    let height = (ContextKind::ALL.len() as u16).saturating_add(4);
    let rect = crate::ui::layout::centered(area, 48, height);
    frame.render_widget(Clear, rect);
    let b = super::dialogs::frame_box(app, "Add to the team context:".to_owned());
    let inner = b.inner(rect);
    frame.render_widget(b, rect);
    let mut lines: Vec<Line> = ContextKind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let style = if i == p.selected {
                app.theme.selected
            } else {
                app.theme.text
            };
            Line::from(Span::styled(format!(" {k}"), style))
        })
        .collect();
    lines.push(Line::default());
    lines.push(super::dialogs::hints(
        app,
        &[(Action::Open, "write it"), (Action::Back, "cancel")],
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}
