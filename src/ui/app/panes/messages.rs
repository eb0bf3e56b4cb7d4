//! The messages pane's keys: moving through the agents' messages (the
//! newest at the bottom, followed unless the user moved up), `t` to keep
//! only one task's, `/` to filter by text, Enter to read one in full. The
//! view is `src/ui/views/messages.rs`.

use ratatui_textarea::TextArea;

use super::{Handled, Hint};
use crate::core::TaskId;
use crate::core::team::Message;
use crate::ui::app::{App, Overlay, Screen};
use crate::ui::keymap::Action;
use crate::ui::model::{TeamModel, cursor, matches};

/// Where the user is in the messages pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagesView {
    /// The id of the selected message; None: the newest (follows new ones).
    pub selected: Option<u64>,
    /// Only this task's messages.
    pub task: Option<TaskId>,
    /// Only messages whose task, kind or text contains this.
    pub query: Option<String>,
    /// The selected message shown in full.
    pub expanded: bool,
}

impl MessagesView {
    /// The pane opened on the newest blocker of `task`, if it sent one.
    pub fn on_blocker(team: &TeamModel, task: &TaskId) -> MessagesView {
        MessagesView {
            selected: team.last_blocker(task).map(|i| team.messages[i].id),
            ..MessagesView::default()
        }
    }

    /// The messages shown (filtered), oldest first.
    pub fn shown<'a>(&self, team: &'a TeamModel) -> Vec<&'a Message> {
        let q = self.query.as_deref().unwrap_or("");
        team.messages
            .iter()
            .filter(|m| self.task.as_ref().is_none_or(|t| &m.task == t))
            .filter(|m| {
                matches(&m.text, q) || matches(m.task.as_str(), q) || matches(m.kind.name(), q)
            })
            .collect()
    }

    /// The index of the selected message among `shown`.
    pub fn cursor(&self, shown: &[&Message]) -> Option<usize> {
        cursor(shown.iter().map(|m| m.id), self.selected)
    }
}

/// Carries out a Messages-context action.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let page = app.size.1.saturating_sub(6).max(1) as usize;
    let Screen::Messages(view) = &app.screen else {
        return None;
    };
    let shown = view.shown(&app.model.team);
    let at = view.cursor(&shown);
    let last = shown.len().saturating_sub(1);
    let pick = |i: usize| shown.get(i.min(last)).map(|m| m.id);
    let selected_task = at.and_then(|i| shown.get(i)).map(|m| m.task.clone());
    let moved = at.map(|at| match action {
        Action::Up => pick(at.saturating_sub(1)),
        Action::Down => pick(at + 1),
        Action::PageUp => pick(at.saturating_sub(page)),
        Action::PageDown => pick(at + page),
        Action::Top => pick(0),
        _ => None,
    });
    let Screen::Messages(view) = &mut app.screen else {
        return None;
    };
    match action {
        Action::Back if view.expanded => view.expanded = false,
        Action::Back => app.screen = Screen::Board,
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top => {
            let to = moved.flatten();
            // On the newest again: follow what comes.
            view.selected = if to.is_some() && to == pick(last) {
                None
            } else {
                to.or(view.selected)
            };
        }
        Action::Bottom => view.selected = None,
        Action::Expand => view.expanded = !view.expanded,
        Action::FilterTask => {
            view.task = match view.task {
                Some(_) => None,
                None => selected_task,
            };
        }
        Action::Search => {
            let mut area = TextArea::default();
            area.set_placeholder_text("filter the messages (enter to apply, empty: all)");
            app.overlay = Some(Overlay::Search(area));
        }
        _ => return None,
    }
    super::done()
}

/// The pane's hints.
pub(in crate::ui::app) fn hints(view: &MessagesView) -> Vec<Hint> {
    let task = if view.task.is_some() {
        "all tasks"
    } else {
        "this task"
    };
    vec![
        (Action::Back, "back"),
        (Action::Expand, "read"),
        (Action::FilterTask, task),
        (Action::Search, "filter"),
        (Action::Bottom, "newest"),
        (Action::Help, "help"),
    ]
}
