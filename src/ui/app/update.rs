//! The update keys on a task card or detail: `u` updates a task in review
//! onto the target (and, on an update conflict, sends the agent to resolve
//! it); `E` and `!` let the user resolve the conflict in `$EDITOR` or a shell.

use super::{App, Intent, Origin};
use crate::core::{Command, MergeBlock, Status, TaskId};
use crate::ui::keymap::Action;

impl App {
    /// When one of the update keys is pressed on task `id` in `status`.
    pub(super) fn update_action(
        &mut self,
        action: Action,
        id: TaskId,
        status: &Status,
    ) -> Vec<Intent> {
        let conflict = match status {
            Status::Review {
                block: Some(MergeBlock::UpdateConflict { files }),
                ..
            } => Some(files.clone()),
            _ => None,
        };
        match (action, conflict) {
            (Action::Update, _) if matches!(status, Status::Review { .. }) => {
                vec![Intent::Command {
                    command: Command::Update { task: id },
                    origin: Origin::Key,
                }]
            }
            // Updating (the one status besides review the rule allows): it is under way.
            (Action::Update, _) => self.toast(format!(
                "`{id}` is {status}: its update onto the target is under way"
            )),
            (_, Some(files)) => vec![Intent::EditConflicts {
                task: id,
                files,
                shell: action == Action::ResolveShell,
            }],
            (_, None) => self.toast(format!(
                "`{id}` has no update conflict to resolve (u updates a task in review onto the target)"
            )),
        }
    }
}
