//! The Info tab's keys: scrolling. The view is `src/ui/views/info.rs`.

use super::{Handled, Hint};
use crate::ui::app::{App, Screen};
use crate::ui::keymap::Action;

/// Carries out an Info-context action; None when it is not one of the pane's.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let Screen::Detail(d) = &mut app.screen else {
        return None;
    };
    match action {
        Action::Up => d.info_scroll = d.info_scroll.saturating_sub(1),
        Action::Down => d.info_scroll += 1,
        Action::PageUp => d.info_scroll = d.info_scroll.saturating_sub(10),
        Action::PageDown => d.info_scroll += 10,
        Action::Top => d.info_scroll = 0,
        _ => return None,
    }
    super::done()
}

/// The pane's footer hints (its scrolling keys go without saying).
pub(in crate::ui::app) fn hints() -> Vec<Hint> {
    Vec::new()
}
