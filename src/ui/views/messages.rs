//! The messages pane: the agents' typed messages, newest at the bottom,
//! one line each (time, task, kind coloured by kind, text cut to the
//! width); the selected one in full below the list when expanded. Pure: it
//! draws the model and the [`MessagesView`].

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::chrome::{self, fit};
use crate::core::team::{Message, MessageKind};
use crate::sanitize::sanitize;
use crate::ui::app::{App, MessagesView};
use crate::ui::theme::Theme;

/// The header, footer and body of a team pane; None when there is no room.
pub(super) fn frame(frame: &mut Frame, area: Rect, app: &App) -> Option<Rect> {
    if area.height == 0 || area.width == 0 {
        return None;
    }
    chrome::header(frame, Rect { height: 1, ..area }, app);
    if area.height < 3 {
        return None;
    }
    let footer = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    chrome::footer(frame, footer, app);
    Some(Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    })
}

/// A bordered block titled `title` (cut to fit).
pub(super) fn block<'a>(app: &App, title: &str, width: u16) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.border)
        .title(Span::styled(
            fit(title, width.saturating_sub(2) as usize),
            app.theme.title,
        ))
}

/// The style of a message kind: blockers and conflicts stand out.
pub fn kind_style(kind: MessageKind, t: &Theme) -> Style {
    match kind {
        MessageKind::Blocker => t.warning,
        MessageKind::Conflict => t.conflict,
        MessageKind::Decision | MessageKind::Contract | MessageKind::Constraint => t.review,
        MessageKind::ReviewRequest | MessageKind::ReviewResult => t.running,
        MessageKind::Replan => t.notice,
        MessageKind::Progress | MessageKind::Checkpoint => t.muted,
        MessageKind::Artifact | MessageKind::Query => t.text,
    }
}

/// `14:03:07`: the time of day (UTC) of a Unix millisecond time.
pub fn clock(ms: i64) -> String {
    let s = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// One message's line: time, task (padded to `task_w`), kind, text.
fn row<'a>(app: &App, m: &Message, task_w: usize, width: usize, selected: bool) -> Line<'a> {
    let t = &app.theme;
    let head = format!("{} {:<task_w$} ", clock(m.time_ms), m.task.as_str());
    let kind = format!("{:<13} ", m.kind.name());
    let text = sanitize(&m.text).replace('\n', " ");
    let rest = width.saturating_sub(head.chars().count() + kind.chars().count());
    let mut spans = vec![
        Span::styled(fit(&head, width), t.muted),
        Span::styled(
            fit(&kind, width.saturating_sub(head.chars().count())),
            kind_style(m.kind, t),
        ),
        Span::styled(fit(&text, rest), t.text),
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

/// What a team pane's list shows: its title, how many items, the
/// selected one, what to say when empty, whether the selected one is read
/// in full below.
pub(super) struct List<'a> {
    pub title: String,
    pub len: usize,
    pub at: Option<usize>,
    pub empty: &'a str,
    pub expanded: bool,
}

/// Draws a team pane's list into `body`: the rows around the selected one
/// (`rows(first, count, width)` draws them), or `empty`. Returns the area
/// below it for the selected item in full, when expanded and there is room.
pub(super) fn list_pane(
    frame_: &mut Frame,
    body: Rect,
    app: &App,
    list: List<'_>,
    rows: impl Fn(usize, usize, usize) -> Vec<Line<'static>>,
) -> Option<Rect> {
    let detail = list.at.is_some() && list.expanded && body.height >= 8;
    let list_h = if detail { body.height / 2 } else { body.height };
    let top = Rect {
        height: list_h,
        ..body
    };
    let b = block(app, &list.title, top.width);
    let inner = b.inner(top);
    frame_.render_widget(b, top);
    let (width, count) = (inner.width as usize, inner.height as usize);
    let lines = match list.at {
        Some(at) if list.len > 0 => rows((at + 1).saturating_sub(count), count, width),
        _ => vec![Line::from(Span::styled(
            fit(list.empty, width),
            app.theme.muted,
        ))],
    };
    frame_.render_widget(Paragraph::new(lines), inner);
    detail.then(|| Rect {
        y: top.bottom(),
        height: body.height - list_h,
        ..body
    })
}

pub fn render(frame_: &mut Frame, area: Rect, app: &App, view: &MessagesView) {
    let Some(body) = frame(frame_, area, app) else {
        return;
    };
    let shown = view.shown(&app.model.team);
    let at = view.cursor(&shown);
    let mut title = format!(" Messages ({}", shown.len());
    if let Some(task) = &view.task {
        title.push_str(&format!(" · task {task}"));
    }
    if let Some(q) = &view.query {
        title.push_str(&format!(" · /{}", sanitize(q)));
    }
    title.push_str(") ");
    let empty = if app.model.team.messages.is_empty() {
        "no message yet: agents send them with `fleetdeck msg KIND \"text\"`"
    } else {
        "no message matches: / with nothing shows them all, t every task"
    };
    let list = List {
        title,
        len: shown.len(),
        at,
        empty,
        expanded: view.expanded,
    };
    let rows = |first: usize, count: usize, width: usize| {
        let window = || shown.iter().enumerate().skip(first).take(count);
        let task_w = window()
            .map(|(_, m)| m.task.as_str().chars().count())
            .max()
            .unwrap_or(0)
            .min(16);
        window()
            .map(|(i, m)| row(app, m, task_w, width, Some(i) == at))
            .collect()
    };
    let rest = list_pane(frame_, body, app, list, rows);
    if let (Some(rest), Some(m)) = (rest, at.and_then(|i| shown.get(i))) {
        full(frame_, rest, app, m);
    }
}

/// The selected message in full: who, when, which attempt, paths, text.
fn full(frame: &mut Frame, area: Rect, app: &App, m: &Message) {
    let t = &app.theme;
    let title = format!(
        " {} from {} (attempt {}) at {} ",
        m.kind,
        m.task,
        m.attempt,
        clock(m.time_ms)
    );
    let b = block(app, &title, area.width);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let mut lines: Vec<Line> = sanitize(&m.text)
        .split('\n')
        .map(|l| Line::from(Span::styled(l.to_owned(), t.text)))
        .collect();
    if !m.paths.is_empty() {
        let paths: Vec<String> = m.paths.iter().map(|p| sanitize(p).into_owned()).collect();
        lines.push(Line::from(Span::styled(
            format!("paths: {}", paths.join(", ")),
            t.muted,
        )));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_reads_the_time_of_day() {
        assert_eq!(super::clock(0), "00:00:00");
        assert_eq!(super::clock(1_800_000_000_000), "08:00:00");
        assert_eq!(super::clock(-1000), "23:59:59");
    }
}
