//! A fan-out candidate that was not picked (`Effect::DiscardCandidate`):
//! its branch and uncommitted work saved under
//! `refs/fleet/discarded/<parent>/<candidate>/<attempt>`, then its worktree
//! removed, in a blocking job like every worktree removal.

use super::Msg;
use super::engine::Engine;
use crate::core::TaskId;
use crate::git;

impl Engine {
    /// Saves the work of candidate `task` of `parent`, then removes its worktree.
    pub(super) fn discard_candidate(&mut self, task: TaskId, parent: TaskId) {
        self.removals += 1;
        let owner = self.owner(&task).map(|(owner, _)| owner);
        let (root, target, tx) = (self.root.clone(), self.target.clone(), self.tx.clone());
        self.jobs.spawn(async move {
            let t = task.clone();
            let r = tokio::task::spawn_blocking(move || {
                if let Some(owner) = &owner {
                    let attr = owner.attribution();
                    let saved = git::save_candidate_work(
                        &root,
                        &target,
                        parent.as_str(),
                        &attr,
                        &owner.exclude,
                    )?;
                    if let Some(saved) = saved {
                        tracing::info!(
                            task = t.as_str(),
                            "kept the work of candidate `{t}` of `{parent}` under {}",
                            saved.saved_as
                        );
                    }
                }
                git::remove_worktree(&root, t.as_str())
            })
            .await;
            let error = match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            let _ = tx.send(Msg::WorktreeRemoved { task, error });
        });
    }
}
