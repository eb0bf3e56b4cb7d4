//! The task detail: a title line, tabs (Transcript, Diff, Info), the body.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{board::status_style, chrome, info, transcript};
use crate::ui::app::{App, Detail, Tab};
use crate::ui::layout;

pub fn render(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let t = &app.theme;
    let l = layout::detail(area);
    let task = app.model.task(d.task.as_str());
    let mut title = vec![Span::styled(format!(" {} ", d.task), t.title)];
    if let Some(task) = task {
        title.push(Span::styled(
            format!("[{}] ", task.status),
            status_style(&task.status, t),
        ));
        title.push(Span::styled(
            crate::sanitize::sanitize(&task.spec.title).replace('\n', " "),
            t.text,
        ));
        title.push(Span::styled(format!("  {}", task.spec.agent), t.muted));
        if let Some(reason) = app.model.fleet.reason(task, app.now_ms) {
            title.push(Span::styled(
                format!("  — {}", crate::sanitize::sanitize(&reason)),
                t.warning,
            ));
        }
    } else {
        title.push(Span::styled("(this task no longer exists)", t.error));
    }
    frame.render_widget(Paragraph::new(Line::from(title)).style(t.header), l.title);

    let w = layout::DETAIL_TAB_WIDTH as usize;
    let mut tabs = vec![];
    for tab in Tab::ALL {
        let style = if tab == d.tab { t.selected } else { t.muted };
        tabs.push(Span::styled(format!("{:^w$}", tab.title()), style));
    }
    frame.render_widget(Paragraph::new(Line::from(tabs)), l.tabs);
    // The transcript search's "3/17", at the right of the tabs.
    if let (Tab::Transcript, Some(counter)) = (d.tab, app.search_counter()) {
        let label = format!(" search {counter} ");
        let w = (label.chars().count() as u16).min(l.tabs.width);
        let at = Rect::new(l.tabs.right() - w, l.tabs.y, w, 1);
        frame.render_widget(Paragraph::new(Span::styled(label, t.search_match)), at);
    }

    match d.tab {
        Tab::Transcript => transcript::render(frame, l.body, app, d),
        Tab::Diff => match &app.diff {
            Some(loaded) if loaded.task == d.task => match &loaded.result {
                Ok(model) => crate::ui::views::diff::render_reviewed(
                    frame,
                    l.body,
                    model,
                    &loaded.view,
                    t,
                    task.and_then(|t| t.review.as_ref()),
                ),
                Err(message) => frame.render_widget(
                    Paragraph::new(Span::styled(format!(" {message}"), t.muted)),
                    l.body,
                ),
            },
            _ => frame.render_widget(
                Paragraph::new(Span::styled(" loading the diff…", t.muted)),
                l.body,
            ),
        },
        Tab::Info => info::render(frame, l.body, app, d),
    }

    chrome::footer(frame, l.footer, app);
}
