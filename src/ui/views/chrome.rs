//! The header (repository, target, capacity, review queue, cost) and the
//! footer (the keys that apply here, or a message).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::core::Status;
use crate::ui::app::App;

/// The top bar: the name, then what needs the user and the fleet state,
/// then the repository and target.
///
/// Kept whatever the width: the name, FLEET PAUSED, running/cap, the
/// Review column's counts and the cost. What is left goes first to an
/// unusable profile or a warning (cut with `…`), then to the place, whose
/// path is shortened from the left (`…/shop → main`) or left out.
pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let m = &app.model;
    let sep = || Span::styled(" │ ", t.muted);
    let title = Span::styled(" fleetdeck ", t.title);
    let mut alerts = Vec::new();
    for (agent, why) in m.fleet.unusable() {
        let text = format!("{agent} unusable: {}", crate::sanitize::sanitize(why));
        alerts.push((text, t.error));
    }
    if let Some(w) = &m.warning {
        alerts.push((crate::sanitize::sanitize(w).into_owned(), t.warning));
    }
    alerts.extend(supervisor_alerts(app));
    alerts.extend(super::team::alerts(app));
    let width = |spans: &[Span]| {
        spans
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>()
    };
    let room_after = |kept: &[Span]| {
        (area.width as usize)
            .saturating_sub(title.content.chars().count() + width(kept) + 3 * kept.len())
    };
    // Short labels when an alert would otherwise have no room to be read.
    let mut kept = fleet_state(app, false);
    if !alerts.is_empty() && room_after(&kept) < ALERT_ROOM {
        kept = fleet_state(app, true);
    }
    let mut room = room_after(&kept);
    let mut cut_alerts = Vec::new();
    for (text, style) in alerts {
        if room < 3 + 8 {
            break;
        }
        let text = fit(&text, room - 3);
        room -= text.chars().count() + 3;
        cut_alerts.push(Span::styled(text, style));
    }
    let place = place(app, room.saturating_sub(3));

    let mut spans = vec![title];
    let paused = m.fleet.paused() as usize;
    if paused == 0 && cut_alerts.is_empty() && !place.is_empty() {
        // Nothing needs the user: the place first, as it reads.
        spans.push(sep());
        spans.extend(place);
        for span in kept {
            spans.push(sep());
            spans.push(span);
        }
        frame.render_widget(Paragraph::new(Line::from(spans)).style(t.header), area);
        return;
    }
    let groups = kept[..paused]
        .iter()
        .cloned()
        .chain(cut_alerts)
        .chain(kept[paused..].iter().cloned());
    for span in groups {
        spans.push(sep());
        spans.push(span);
    }
    if !place.is_empty() {
        spans.push(sep());
        spans.extend(place);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.header), area);
}

/// What the supervisor does: "proposal 3 waiting: Y" while a proposal is
/// not on screen (first: it needs the user), "supervisor: thinking" while
/// it is consulted.
fn supervisor_alerts(app: &App) -> Vec<(String, ratatui::style::Style)> {
    let (t, s) = (&app.theme, &app.model.supervisor);
    let mut out = Vec::new();
    let shown = match &app.overlay {
        Some(crate::ui::app::Overlay::PlanDiff(v)) => v.proposal_id(),
        _ => None,
    };
    let waiting: Vec<u64> = s
        .pending
        .iter()
        .map(|p| p.id)
        .filter(|id| Some(*id) != shown)
        .collect();
    if let Some(first) = waiting.first() {
        let key = app
            .keymap
            .key_label(crate::ui::keymap::Action::ShowProposal);
        let more = match waiting.len() {
            1 => String::new(),
            n => format!(" (+{})", n - 1),
        };
        out.push((format!("proposal {first}{more} waiting: {key}"), t.review));
    }
    if s.thinking() {
        out.push(("supervisor: thinking".to_owned(), t.running));
    }
    out
}

/// Room an alert needs to be read (with its separator).
const ALERT_ROOM: usize = 32;

/// The fleet state that every header keeps: PAUSED, running/cap, the
/// Review column's counts, the cost; `short` for narrow terminals.
fn fleet_state<'a>(app: &App, short: bool) -> Vec<Span<'a>> {
    let (t, m) = (&app.theme, &app.model);
    let mut kept = Vec::new();
    if m.fleet.paused() {
        let label = if short { "PAUSED" } else { "FLEET PAUSED" };
        kept.push(Span::styled(label, t.paused));
    }
    let running = if short { "run" } else { "running" };
    kept.push(Span::styled(
        format!("{running} {}/{}", m.fleet.live_agents(), m.max_parallel),
        t.running,
    ));
    let review = review_counts(app);
    let review = if short {
        review
            .replace("review", "rev")
            .replace("failed", "fail")
            .replace("merging", "merg")
    } else {
        review
    };
    kept.push(Span::styled(review, t.review));
    let cost = if short {
        format!("${:.2}", m.total_cost())
    } else {
        format!("${:.4}", m.total_cost())
    };
    kept.push(Span::styled(cost, t.text));
    kept
}

/// The Review column's count, split by what it holds: "review 2 · failed 1
/// · merging 1" (parts that are zero left out, "review 0" when empty).
pub fn review_counts(app: &App) -> String {
    let tasks = app.model.fleet.tasks();
    let count = |f: fn(&Status) -> bool| tasks.iter().filter(|t| f(&t.status)).count();
    let review = count(|s| matches!(s, Status::Review { .. }));
    let failed = count(|s| matches!(s, Status::Failed { .. }));
    let merging = count(|s| matches!(s, Status::Merging { .. }));
    let mut out = format!("review {review}");
    for (n, what) in [(failed, "failed"), (merging, "merging")] {
        if n > 0 {
            out.push_str(&format!(" · {what} {n}"));
        }
    }
    out
}

/// "path → target" in at most `room` characters: the path keeps its end
/// (`…/shop`); nothing when not even the target fits.
fn place<'a>(app: &App, room: usize) -> Vec<Span<'a>> {
    let t = &app.theme;
    let target = app.model.target.clone();
    let arrow = " → ";
    let fixed = target.chars().count() + arrow.chars().count();
    if room < fixed + 2 {
        return Vec::new();
    }
    let path = app.model.root_label();
    let path_room = room - fixed;
    let n = path.chars().count();
    let path = if n <= path_room {
        path
    } else {
        let tail: String = path.chars().skip(n - (path_room - 1)).collect();
        format!("…{tail}")
    };
    vec![
        Span::styled(path, t.text),
        Span::styled(arrow, t.muted),
        Span::styled(target, t.text),
    ]
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
