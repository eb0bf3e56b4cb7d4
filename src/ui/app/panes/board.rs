//! The board's keys: moving between columns and cards, opening a task.
//! The view is `src/ui/views/board.rs`.

use super::{Handled, Hint};
use crate::core::{Status, Task};
use crate::ui::app::{App, COLUMNS, ContextView, EditorKind, MessagesView, Screen, SupervisorView};
use crate::ui::keymap::Action;
use crate::ui::layout;

/// Carries out a Board-context action; None when it is not one of the board's.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let col = app.board.column;
    let len = app.column_tasks(COLUMNS[col]).len();
    let sel = app.selected_index(col);
    let page = layout::cards_per_page(app.size);
    match action {
        Action::Up => app.select(col, sel.saturating_sub(1)),
        Action::Down => app.select(col, (sel + 1).min(len.saturating_sub(1))),
        Action::PageUp => app.select(col, sel.saturating_sub(page)),
        Action::PageDown => app.select(col, sel + page),
        Action::Top => app.select(col, 0),
        Action::Bottom => app.select(col, len.saturating_sub(1)),
        Action::Left | Action::PrevTab => app.board.column = col.saturating_sub(1),
        Action::Right | Action::NextTab => app.board.column = (col + 1).min(COLUMNS.len() - 1),
        Action::Open => return Some(super::compare::open(app)),
        Action::Goal => return Some(open_goal(app)),
        Action::ShowProposal => return Some(app.show_proposal()),
        Action::SupervisorPane => app.screen = Screen::Supervisor(SupervisorView::default()),
        Action::MessagesPane => {
            // From a task with an open blocker: its blocker selected.
            let view = match app.selected_task().filter(|t| t.blocker.is_some()) {
                Some(t) => MessagesView::on_blocker(&app.model.team, t.id()),
                None => MessagesView::default(),
            };
            app.screen = Screen::Messages(view);
        }
        Action::TeamContext => app.screen = Screen::Context(ContextView::default()),
        _ => return None,
    }
    super::done()
}

/// `o`: the goal editor, or why there is no supervisor to plan it.
fn open_goal(app: &mut App) -> Vec<crate::ui::app::Intent> {
    if app.model.supervisor.profile.is_none() {
        return app.toast(
            "no supervisor: add [supervisor] with agent = \"<profile>\" to fleet.toml to plan goals",
        );
    }
    app.open_editor(EditorKind::Goal, "")
}

/// The board's own hints (before the selected task's): a task the
/// supervisor asks about is answered with request changes (in review) or
/// by editing its prompt and retrying (failed); enter shows the question.
pub(in crate::ui::app) fn hints(task: Option<&Task>) -> Vec<Hint> {
    match task.filter(|t| t.question.is_some()).map(|t| &t.status) {
        Some(Status::Review { .. }) => vec![
            (Action::Open, "read the question"),
            (Action::RequestChanges, "answer"),
        ],
        Some(_) => vec![
            (Action::Open, "read the question"),
            (Action::Edit, "answer in the prompt"),
            (Action::Retry, "retry"),
        ],
        None => vec![(Action::Open, "open")],
    }
}

/// The fleet-wide hints the board shows after the task's; the
/// supervisor's first when the fleet has one (else last: they only say so).
pub(in crate::ui::app) fn fleet_hints(app: &App) -> Vec<Hint> {
    let mut supervisor = Vec::new();
    if !app.model.supervisor.pending.is_empty() {
        supervisor.push((Action::ShowProposal, "proposal"));
    }
    supervisor.extend([
        (Action::Goal, "goal"),
        (Action::SupervisorPane, "supervisor"),
    ]);
    let fleet = [
        (Action::NewTask, "new"),
        (Action::Replan, "replan"),
        (Action::PauseFleet, "fleet"),
        (Action::MessagesPane, "messages"),
        (Action::TeamContext, "context"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ];
    if app.model.supervisor.profile.is_some() {
        supervisor.extend(fleet);
        supervisor
    } else {
        let mut hints = fleet.to_vec();
        hints.extend(supervisor);
        hints
    }
}
