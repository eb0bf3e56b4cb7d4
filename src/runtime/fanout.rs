//! A fan-out candidate that was not picked (`Effect::DiscardCandidate`):
//! its branch and uncommitted work saved under
//! `refs/fleet/discarded/<parent>/<candidate>/<attempt>`, then its worktree
//! removed, in a blocking job like every worktree removal.

use super::engine::Engine;
use crate::core::TaskId;
use crate::git;

impl Engine {
    /// Saves the work of candidate `task` of `parent`, then removes its worktree.
    pub(super) fn discard_candidate(&mut self, task: TaskId, parent: TaskId) {
        let owner = self.owner(&task).map(|(owner, _)| owner);
        self.removal(task, move |root, target| match &owner {
            Some(owner) => {
                let attr = owner.attribution();
                git::save_candidate_work(root, target, parent.as_str(), &attr, &owner.exclude)
            }
            None => Ok(None),
        });
    }
}
