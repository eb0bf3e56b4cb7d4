//! The supervisor pane: its profile, every consultation seen (number,
//! cost, trigger, state) and the chosen one's transcript, followed live unless
//! scrolled. Pure: it draws the model and the [`SupervisorView`].

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::chrome::{self, elapsed, fit};
use super::transcript::kind_style;
use crate::sanitize::sanitize;
use crate::ui::app::{App, SupervisorView};
use crate::ui::model::{ConsultState, Consultation};

pub fn render(frame: &mut Frame, area: Rect, app: &App, view: &SupervisorView) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let t = &app.theme;
    let header = Rect { height: 1, ..area };
    chrome::header(frame, header, app);
    if area.height < 3 {
        return;
    }
    let footer = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    chrome::footer(frame, footer, app);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    let consults = &app.model.supervisor.consults;
    let shown = view.shown(consults.len());
    // The list: at most a third of the body, the shown consultation in it.
    let list_h = (consults.len() as u16 + 2)
        .clamp(3, (body.height / 3).max(3))
        .min(body.height);
    let list = Rect {
        height: list_h,
        ..body
    };
    let profile = match &app.model.supervisor.profile {
        Some(p) => format!(" Supervisor ({}) ", sanitize(p)),
        None => " Supervisor (none: add [supervisor] to fleet.toml) ".to_owned(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(profile, t.title));
    let inner = block.inner(list);
    frame.render_widget(block, list);
    let width = inner.width as usize;
    let rows = inner.height as usize;
    let lines: Vec<Line> = if consults.is_empty() {
        vec![Line::from(Span::styled(
            fit("no consultation yet: o plans a goal", width),
            t.muted,
        ))]
    } else {
        let at = shown.unwrap_or(0);
        let first = (at + 1).saturating_sub(rows);
        consults
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, c)| row(app, c, width, Some(i) == shown))
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), inner);
    let rest = Rect {
        y: list.bottom(),
        height: body.height - list_h,
        ..body
    };
    if rest.height == 0 {
        return;
    }
    if let Some(c) = shown.and_then(|i| consults.get(i)) {
        transcript(frame, rest, app, c, view.scroll);
    }
}

/// One consultation in the list: "#2 thinking… · goal: Add OAuth".
fn row<'a>(app: &App, c: &Consultation, width: usize, selected: bool) -> Line<'a> {
    let t = &app.theme;
    let style = match &c.state {
        ConsultState::Thinking => t.running,
        ConsultState::Proposed { .. } => t.review,
        ConsultState::Ended { .. } => t.warning,
        ConsultState::Applied { .. } => t.done,
        ConsultState::Discarded { .. } => t.muted,
    };
    let state = sanitize(&c.state.describe()).into_owned();
    let cost = c
        .spend
        .map_or(String::new(), |s| format!(" · ${:.4}", s.usd));
    let text = fit(
        &format!(
            "#{}{cost} · {state} · {}",
            c.consult,
            sanitize(&c.trigger.describe())
        ),
        width,
    );
    let style = if selected {
        style.patch(t.selected)
    } else {
        style
    };
    let pad = if selected {
        width.saturating_sub(text.chars().count())
    } else {
        0
    };
    Line::from(Span::styled(format!("{text}{}", " ".repeat(pad)), style))
}

/// The consultation's trigger, state and transcript (the bottom, unless scrolled).
fn transcript(frame: &mut Frame, area: Rect, app: &App, c: &Consultation, scroll: Option<usize>) {
    let t = &app.theme;
    let age = match (&c.state, c.spend) {
        (ConsultState::Thinking, _) => format!(" · {}", elapsed(app.now_ms - c.started_ms)),
        (_, Some(s)) => format!(" · ${:.4} · {} tokens", s.usd, s.tokens),
        _ => String::new(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(
            fit(
                &format!(" Consultation {}{age} ", c.consult),
                area.width.saturating_sub(2) as usize,
            ),
            t.title,
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (width, rows) = (inner.width as usize, inner.height as usize);
    if rows == 0 {
        return;
    }
    let mut lines = vec![
        Line::from(Span::styled(
            fit(&sanitize(&c.trigger.describe()), width),
            t.text,
        )),
        Line::from(Span::styled(
            fit(&sanitize(&c.state.describe()), width),
            t.notice,
        )),
    ];
    let room = rows.saturating_sub(lines.len());
    let total = c.transcript.len();
    let first = scroll
        .unwrap_or(total.saturating_sub(room))
        .min(total.saturating_sub(room));
    if total == 0 {
        lines.push(Line::from(Span::styled("(no output yet)", t.muted)));
    }
    for i in first..(first + room).min(total) {
        let line = match c.transcript.get(i) {
            Some(l) => Line::from(Span::styled(fit(&l.text, width), kind_style(l.kind, t))),
            // Older lines left the in-memory window.
            None => Line::from(Span::styled("…", t.muted)),
        };
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
