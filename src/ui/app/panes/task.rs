//! The selected task's keys, the same on the board and in the detail:
//! pause, retry, approve, request changes, reject, update (and resolve an
//! update conflict), reassign, edit, budget, drop. A key whose verb the task's status does not allow says why (the
//! scheduler's words) and sends nothing.

use super::{Handled, Hint};
use crate::core::{Command, MergeBlock, Status, Verb};
use crate::ui::app::forms::{budget_text, edit_text};
use crate::ui::app::{App, EditorKind, Intent, Origin, Overlay, Picker};
use crate::ui::keymap::Action;

fn send(command: Command) -> Handled {
    Some(vec![Intent::Command {
        command,
        origin: Origin::Key,
    }])
}

/// The verb a task action asks of a task in `status` (None: no status rule).
fn verb_of(action: Action, status: &Status) -> Option<Verb> {
    Some(match action {
        Action::Pause
            if matches!(
                status,
                Status::Paused { .. } | Status::Queued { held: true }
            ) =>
        {
            Verb::Resume
        }
        Action::Pause => Verb::Pause,
        Action::Reassign => Verb::Reassign,
        Action::Edit => Verb::Edit,
        Action::Drop => Verb::Drop,
        Action::Retry => Verb::Retry,
        Action::Approve => Verb::Approve,
        Action::RequestChanges => Verb::RequestChanges,
        Action::Reject => Verb::Reject,
        Action::Update => Verb::Update,
        _ => return None,
    })
}

/// Carries out a task action on the selected task; None when `action` is
/// not a task action. With no task selected, or a task whose status does
/// not allow the verb ([`Task::allows`], the scheduler's rule), it says so
/// and sends nothing.
///
/// [`Task::allows`]: crate::core::Task::allows
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    if !is_task_action(action) {
        return None;
    }
    let Some(task) = app.selected_task() else {
        return Some(app.toast("no task selected"));
    };
    let (id, status) = (task.id().clone(), task.status.clone());
    // A task waiting for a profile that failed authentication: t revives the profile.
    if action == Action::Retry && app.model.fleet.unusable().contains_key(&task.spec.agent) {
        return send(Command::ReviveAgent {
            agent: task.spec.agent.clone(),
        });
    }
    if let Some(Err(refusal)) = verb_of(action, &status).map(|v| task.allows(v)) {
        return Some(app.toast(refusal.to_string()));
    }
    match action {
        Action::Pause => match status {
            Status::Paused { .. } | Status::Queued { held: true } => {
                send(Command::ResumeTask { task: id })
            }
            _ => send(Command::PauseTask { task: id }),
        },
        Action::Retry => send(Command::Retry { task: id }),
        Action::Budget => {
            let (usd, tokens) = (task.spec.budget_usd, task.spec.budget_tokens);
            let spent = task.spent + task.live;
            let text = budget_text(&format!("`{id}`"), spent, usd, tokens);
            Some(app.open_editor(EditorKind::Budget(Some(id)), &text))
        }
        Action::Approve => {
            app.acted = Some(id.clone());
            send(Command::Approve { task: id })
        }
        Action::Update | Action::Resolve | Action::ResolveShell => {
            Some(app.update_action(action, id, &status))
        }
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
        Action::Edit => {
            let text = edit_text(task);
            Some(app.open_editor(EditorKind::Task(id), &text))
        }
        Action::RequestChanges => Some(app.open_editor(EditorKind::Feedback(id), "")),
        Action::FanOut => super::compare::open_fanout(app, id, &status),
        Action::Reject => {
            app.overlay = Some(Overlay::Confirm {
                question: format!(
                    "Reject the work of `{id}`? It becomes failed; a retry starts over from the target (the work is kept under refs/fleet/discarded/)."
                ),
                yes: send(Command::Reject { task: id }).unwrap_or_default(),
            });
            super::done()
        }
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
            | Action::Update
            | Action::Resolve
            | Action::ResolveShell
            | Action::Budget
            | Action::FanOut
    )
}

/// The keys worth showing for a task in `status`, most useful first.
pub fn hints(status: Option<&Status>) -> Vec<Hint> {
    let mut hints = Vec::new();
    match status {
        Some(Status::Review {
            block: Some(MergeBlock::UpdateConflict { .. }),
            ..
        }) => hints.extend([
            (Action::Update, "agent resolves"),
            (Action::Resolve, "edit yourself"),
            (Action::ResolveShell, "shell"),
            (Action::Reject, "reject"),
        ]),
        Some(Status::Review { block: Some(_), .. }) => hints.extend([
            (Action::Update, "update"),
            (Action::Approve, "approve"),
            (Action::RequestChanges, "changes"),
            (Action::Reject, "reject"),
        ]),
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
        Some(Status::Queued { .. }) => hints.extend([
            (Action::Edit, "edit"),
            (Action::Pause, "hold"),
            (Action::FanOut, "fan out"),
        ]),
        _ => {}
    }
    if status.is_some_and(|s| !s.is_final()) {
        hints.push((Action::Drop, "drop"));
    }
    hints
}
