//! The cockpit's components: each pane and overlay owns its keys and its
//! footer hints. `handle` gets an action (already resolved through the
//! keymap in the focused context) and returns `Some(intents)` when it
//! consumed it, `None` when the caller should try the next component
//! (task actions, then the fleet-wide ones). `hints` lists the keys worth
//! showing in the footer, most useful first.
//!
//! A new tab is a new file here plus one line in [`super::Tab`] and in
//! [`focused_hints`]/the dispatch in `keys.rs`.

pub(super) mod board;
pub(super) mod compare;
pub(super) mod context;
pub(super) mod diff;
pub(super) mod info;
pub(super) mod messages;
pub(super) mod overlays;
pub(super) mod plan_diff;
pub(super) mod supervisor;
pub(super) mod task;
pub(super) mod transcript;

use super::{App, Intent, Screen, Tab};
use crate::ui::keymap::Action;

/// One footer hint: the action (its key is looked up in the context) and a label.
pub type Hint = (Action, &'static str);

/// What a component did with an action: consumed it (with what must happen
/// outside the app), or left it to the next component.
pub type Handled = Option<Vec<Intent>>;

/// Consumed, with nothing to do outside the app.
pub(super) fn done() -> Handled {
    Some(Vec::new())
}

/// The hints of what has the focus, then the selected task's, then the
/// fleet-wide ones; the footer shows each key once (see [`App::footer_hints`]).
pub(super) fn focused_hints(app: &App) -> Vec<Hint> {
    let task = app.selected_task();
    let status = task.map(|t| &t.status);
    let mut hints = match &app.screen {
        Screen::Board => board::hints(task),
        Screen::Supervisor(_) => supervisor::hints(),
        Screen::Messages(v) => messages::hints(v),
        Screen::Context(v) => context::hints(v),
        Screen::Compare(_) => compare::hints(),
        Screen::Detail(d) => {
            let mut h = vec![(Action::Back, "back"), (Action::NextTab, "tab")];
            h.extend(match d.tab {
                Tab::Transcript => transcript::hints(app),
                Tab::Diff => diff::hints(),
                Tab::Info => info::hints(),
            });
            h
        }
    };
    hints.extend(task::hints(status));
    if matches!(app.screen, Screen::Board) {
        hints.extend(board::fleet_hints(app));
    } else {
        hints.push((Action::Help, "help"));
    }
    hints
}

#[cfg(test)]
mod tests;
