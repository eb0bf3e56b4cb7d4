//! The selected task's keys, the same on the board and in the detail:
//! pause, retry, approve, request changes, reject, reassign, edit, budget,
//! drop. A key whose verb the task's status does not allow says why (the
//! scheduler's words) and sends nothing.

use super::{Handled, Hint};
use crate::core::{Command, Status};
use crate::ui::app::forms::{budget_text, edit_text};
use crate::ui::app::{App, EditorKind, Intent, Origin, Overlay, Picker};
use crate::ui::keymap::Action;

fn send(command: Command) -> Handled {
    Some(vec![Intent::Command {
        command,
        origin: Origin::Key,
    }])
}

/// Carries out a task action on the selected task; None when `action` is
/// not a task action. With no task selected, a task action says so.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    if !is_task_action(action) {
        return None;
    }
    let Some(task) = app.selected_task() else {
        return Some(app.toast("no task selected"));
    };
    let (id, status) = (task.id().clone(), task.status.clone());
    match action {
        Action::Pause => match status {
            Status::Paused { .. } | Status::Queued { held: true } => {
                send(Command::ResumeTask { task: id })
            }
            _ => send(Command::PauseTask { task: id }),
        },
        // A task waiting for a profile that failed authentication: t revives the profile.
        Action::Retry if app.model.fleet.unusable().contains_key(&task.spec.agent) => {
            send(Command::ReviveAgent {
                agent: task.spec.agent.clone(),
            })
        }
        Action::Retry => send(Command::Retry { task: id }),
        Action::Budget => {
            let (usd, tokens) = (task.spec.budget_usd, task.spec.budget_tokens);
            let spent = task.spent + task.live;
            let text = budget_text(&format!("`{id}`"), spent, usd, tokens);
            Some(app.open_editor(EditorKind::Budget(Some(id)), &text))
        }
        Action::Approve => send(Command::Approve { task: id }),
        Action::Reassign => {
            let agents: Vec<String> = app.model.fleet.agents().map(str::to_owned).collect();
            let current = agents
                .iter()
                .position(|a| *a == task.spec.agent)
                .unwrap_or(0);
            app.overlay = Some(Overlay::Picker(Picker {
                task: id,
                agents,
                selected: current,
            }));
            super::done()
        }
        Action::Edit => match status {
            Status::Queued { .. } | Status::Failed { .. } => {
                let text = edit_text(task);
                Some(app.open_editor(EditorKind::Task(id), &text))
            }
            other => Some(app.toast(format!(
                "`{id}` is {other}: only queued or failed tasks can be edited"
            ))),
        },
        Action::RequestChanges => match status {
            Status::Review { .. } => Some(app.open_editor(EditorKind::Feedback(id), "")),
            other => Some(app.toast(format!(
                "`{id}` is {other}: changes can be requested in review"
            ))),
        },
        Action::Reject => match status {
            Status::Review { .. } => {
                app.overlay = Some(Overlay::Confirm {
                    question: format!(
                        "Reject the work of `{id}`? It becomes failed; a retry starts over from the target (the work is kept under refs/fleet/discarded/)."
                    ),
                    yes: send(Command::Reject { task: id }).unwrap_or_default(),
                });
                super::done()
            }
            other => Some(app.toast(format!(
                "`{id}` is {other}: only a task in review can be rejected"
            ))),
        },
        Action::Drop => {
            app.overlay = Some(Overlay::Confirm {
                question: format!("Drop `{id}`? A running agent is stopped; its branch is kept."),
                yes: send(Command::Drop { task: id }).unwrap_or_default(),
            });
            super::done()
        }
        _ => None,
    }
}

/// Actions that need a selected task.
fn is_task_action(action: Action) -> bool {
    matches!(
        action,
        Action::Pause
            | Action::Reassign
            | Action::Edit
            | Action::Drop
            | Action::Retry
            | Action::Approve
            | Action::RequestChanges
            | Action::Reject
            | Action::Budget
    )
}

/// The keys worth showing for a task in `status`, most useful first.
pub fn hints(status: Option<&Status>) -> Vec<Hint> {
    let mut hints = Vec::new();
    match status {
        Some(Status::Review { .. }) => hints.extend([
            (Action::Approve, "approve"),
            (Action::RequestChanges, "changes"),
            (Action::Reject, "reject"),
        ]),
        Some(Status::Failed { .. }) => hints.extend([
            (Action::Retry, "retry"),
            (Action::Reassign, "reassign"),
            (Action::Edit, "edit"),
        ]),
        Some(Status::Running { .. }) => {
            hints.extend([(Action::Pause, "pause"), (Action::Reassign, "reassign")])
        }
        Some(Status::Paused { .. }) => hints.extend([
            (Action::Pause, "resume"),
            (Action::Budget, "budget"),
            (Action::Reassign, "reassign"),
        ]),
        Some(Status::Queued { held: true }) => {
            hints.extend([(Action::Pause, "release"), (Action::Edit, "edit")])
        }
        Some(Status::Queued { .. }) => {
            hints.extend([(Action::Edit, "edit"), (Action::Pause, "hold")])
        }
        _ => {}
    }
    if status.is_some_and(|s| !s.is_final()) {
        hints.push((Action::Drop, "drop"));
    }
    hints
}
