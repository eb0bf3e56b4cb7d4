//! The header (repository, target, capacity, review queue, cost) and the
//! footer (the keys that apply here, or a message).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::core::Status;
use crate::ui::app::App;

/// The top bar. What needs the user (a paused fleet, an unusable profile, a
/// warning such as an environment fault) comes right after the name, before
/// the repository and the counts, so that it is seen in 80 columns too.
pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let m = &app.model;
    let tasks = m.fleet.tasks();
    let running = m.fleet.live_agents();
    let review = tasks
        .iter()
        .filter(|x| matches!(x.status, Status::Review { .. }))
        .count();
    let sep = Span::styled(" │ ", t.muted);
    let mut alerts = Vec::new();
    if m.fleet.paused() {
        alerts.push(Span::styled("FLEET PAUSED", t.paused));
    }
    for (agent, why) in m.fleet.unusable() {
        alerts.push(Span::styled(
            format!("{agent} unusable: {}", crate::sanitize::sanitize(why)),
            t.error,
        ));
    }
    if let Some(w) = &m.warning {
        alerts.push(Span::styled(
            crate::sanitize::sanitize(w).into_owned(),
            t.warning,
        ));
    }
    let place = vec![
        Span::styled(m.root_label(), t.text),
        Span::styled(" → ", t.muted),
        Span::styled(m.target.clone(), t.text),
    ];
    let counts = vec![
        Span::styled(format!("running {running}/{}", m.max_parallel), t.running),
        sep.clone(),
        Span::styled(format!("review {review}"), t.review),
        sep.clone(),
        Span::styled(format!("${:.4}", m.total_cost()), t.text),
    ];
    let mut spans = vec![Span::styled(" fleetdeck ", t.title)];
    let mut groups = Vec::new();
    if alerts.is_empty() {
        groups.extend([place, counts]);
    } else {
        for alert in alerts {
            groups.push(vec![alert]);
        }
        groups.extend([counts, place]);
    }
    for group in groups {
        spans.push(sep.clone());
        spans.extend(group);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.header), area);
}

/// The bottom bar: a toast if there is one, else the focused component's
/// hints ([`App::footer_hints`]: each key once), as many as fit.
pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    if let Some(toast) = &app.toast {
        let style = if toast.error { t.error } else { t.text };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {}", toast.text), style)).style(t.footer),
            area,
        );
        return;
    }
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1usize;
    for (key, label) in app.footer_hints() {
        let width = key.chars().count() + label.chars().count() + 3;
        if used + width > area.width as usize {
            break;
        }
        used += width;
        spans.push(Span::styled(key, t.key));
        spans.push(Span::styled(format!(" {label}  "), t.footer));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.footer), area);
}

/// "4.2s", "42s", "3m05s", "1h02m".
pub fn elapsed(ms: i64) -> String {
    let ms = ms.max(0);
    let s = (ms / 1000) as u64;
    match s {
        0..10 => format!("{:.1}s", ms as f64 / 1000.0),
        10..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Cuts `s` to `width` characters, ending with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_cuts_read_well() {
        assert_eq!(elapsed(42_900), "42s");
        assert_eq!(elapsed(185_000), "3m05s");
        assert_eq!(elapsed(3_720_000), "1h02m");
        assert_eq!(elapsed(-5), "0.0s");
        assert_eq!(elapsed(4_240), "4.2s");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("abc", 0), "");
    }
}
