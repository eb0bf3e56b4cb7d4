//! Overlays: the editors (feedback, task, new task, replan), the agent
//! picker, yes/no questions and the search input.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::ui::app::{App, Editor, EditorKind, Picker};
use crate::ui::keymap::Action;
use crate::ui::layout::{self, centered};

pub(super) fn frame_box<'a>(app: &App, title: String) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.border_focus)
        .title(Span::styled(format!(" {title} "), app.theme.title))
        .style(app.theme.dialog)
}

/// The hint line at the bottom of a dialog: `key label · key label`.
pub(super) fn hints<'a>(app: &App, items: &[(Action, &str)]) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (action, label)) in items.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", app.theme.muted));
        }
        spans.push(Span::styled(app.keymap.key_label(*action), app.theme.key));
        spans.push(Span::styled(format!(" {label}"), app.theme.muted));
    }
    Line::from(spans)
}

pub fn editor(frame: &mut Frame, area: Rect, app: &App, ed: &Editor) {
    let title = match &ed.kind {
        EditorKind::Feedback(id) => format!("Request changes to `{id}`"),
        EditorKind::Task(id) => format!("Edit `{id}`"),
        EditorKind::NewTask => "New task".to_owned(),
        EditorKind::Replan => "Replan".to_owned(),
        EditorKind::Budget(Some(id)) => format!("Budget of `{id}`"),
        EditorKind::Budget(None) => "Budget of the fleet".to_owned(),
        EditorKind::Goal => "Goal for the supervisor".to_owned(),
        EditorKind::ProposalFeedback(n) => format!("Feedback on proposal {n}"),
        EditorKind::Context { kind, id: None } => format!("New {kind} for the team context"),
        EditorKind::Context { kind, id: Some(id) } => format!("Edit context entry {id} ({kind})"),
    };
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2).max(6),
    );
    frame.render_widget(Clear, rect);
    let block = frame_box(app, title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height < 2 {
        return;
    }
    let status_h = if ed.error.is_some() {
        2.min(inner.height - 1)
    } else {
        1
    };
    let text_area = Rect {
        height: inner.height - status_h,
        ..inner
    };
    let status = Rect {
        y: text_area.bottom(),
        height: status_h,
        ..inner
    };
    frame.render_widget(&ed.area, text_area);
    let line = if let Some(e) = &ed.error {
        Line::from(Span::styled(
            crate::sanitize::sanitize(e).into_owned(),
            app.theme.error,
        ))
    } else if ed.pending {
        Line::from(Span::styled("sending…", app.theme.muted))
    } else {
        let save = match ed.kind {
            EditorKind::Replan => "review the changes",
            EditorKind::Goal => "send to the supervisor",
            EditorKind::ProposalFeedback(_) => "send: another round",
            _ => "save",
        };
        hints(app, &[(Action::Save, save), (Action::Back, "cancel")])
    };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), status);
}

pub fn picker(frame: &mut Frame, area: Rect, app: &App, p: &Picker) {
    let height = (p.agents.len() as u16).saturating_add(4);
    let rect = centered(area, 48, height);
    frame.render_widget(Clear, rect);
    let block = frame_box(app, format!("Reassign `{}` to", p.task));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let current = app
        .model
        .task(p.task.as_str())
        .map(|t| t.spec.agent.clone())
        .unwrap_or_default();
    let mut lines: Vec<Line> = p
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mark = if *a == current { " (current)" } else { "" };
            let style = if i == p.selected {
                app.theme.selected
            } else {
                app.theme.text
            };
            Line::from(Span::styled(format!(" {a}{mark}"), style))
        })
        .collect();
    lines.push(Line::default());
    lines.push(hints(
        app,
        &[(Action::Open, "reassign"), (Action::Back, "cancel")],
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn confirm(frame: &mut Frame, area: Rect, app: &App, question: &str) {
    let rect = centered(area, 64, 8);
    frame.render_widget(Clear, rect);
    let block = frame_box(app, "Are you sure?".to_owned());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let lines = vec![
        Line::from(Span::styled(question.to_owned(), app.theme.text)),
        Line::default(),
        hints(app, &[(Action::Yes, "yes"), (Action::No, "no")]),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub fn search(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    input: &ratatui_textarea::TextArea<'static>,
) {
    let body = layout::detail_body(area);
    if body.height == 0 {
        return;
    }
    let rect = Rect {
        y: body.bottom() - 1,
        height: 1,
        ..body
    };
    frame.render_widget(Clear, rect);
    let label = Rect {
        width: rect.width.min(2),
        ..rect
    };
    let field = Rect {
        x: rect.x + label.width,
        width: rect.width - label.width,
        ..rect
    };
    frame.render_widget(Paragraph::new(Span::styled("/ ", app.theme.key)), label);
    frame.render_widget(input, field);
}
