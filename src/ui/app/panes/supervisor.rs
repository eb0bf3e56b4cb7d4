//! The supervisor pane's keys: choosing a consultation, scrolling its
//! transcript (the bottom follows new output), the waiting proposal. The
//! view is `src/ui/views/supervisor.rs`.

use super::{Handled, Hint};
use crate::ui::app::{App, Screen};
use crate::ui::keymap::Action;

/// Where the user is in the supervisor pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupervisorView {
    /// The consultation shown (index in the model's list); None: the newest.
    pub selected: Option<usize>,
    /// Top line of its transcript when scrolled; None follows new output.
    pub scroll: Option<usize>,
}

impl SupervisorView {
    /// The index of the consultation shown, among `len`.
    pub fn shown(&self, len: usize) -> Option<usize> {
        let last = len.checked_sub(1)?;
        Some(self.selected.map_or(last, |i| i.min(last)))
    }
}

/// Carries out a Supervisor-context action.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let len = app.model.supervisor.consults.len();
    let page = app.size.1.saturating_sub(8).max(1) as usize;
    let lines = |app: &App, i: Option<usize>| {
        i.and_then(|i| app.model.supervisor.consults.get(i))
            .map_or(0, |c| c.transcript.len())
    };
    let Screen::Supervisor(view) = &mut app.screen else {
        return None;
    };
    let shown = view.shown(len);
    match action {
        Action::Back => {
            app.screen = Screen::Board;
            return super::done();
        }
        Action::ShowProposal => return Some(app.show_proposal()),
        Action::Up => {
            view.selected = shown.map(|i| i.saturating_sub(1));
            view.scroll = None;
        }
        Action::Down => {
            view.selected = shown.map(|i| (i + 1).min(len.saturating_sub(1)));
            view.scroll = None;
        }
        Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            let total = lines(app, shown);
            let Screen::Supervisor(view) = &mut app.screen else {
                return None;
            };
            let bottom = total.saturating_sub(page);
            let at = view.scroll.unwrap_or(bottom);
            view.scroll = match action {
                Action::PageUp => Some(at.saturating_sub(page)),
                Action::PageDown if at + page >= bottom => None,
                Action::PageDown => Some(at + page),
                Action::Top => Some(0),
                _ => None,
            };
        }
        _ => return None,
    }
    super::done()
}

/// The pane's hints.
pub(in crate::ui::app) fn hints() -> Vec<Hint> {
    vec![
        (Action::Back, "back"),
        (Action::Up, "consultation"),
        (Action::PageUp, "scroll"),
        (Action::Bottom, "follow"),
        (Action::ShowProposal, "proposal"),
        (Action::Help, "help"),
    ]
}
