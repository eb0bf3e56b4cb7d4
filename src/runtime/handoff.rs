//! A dropped task's work kept before its worktree goes, and a split task's
//! work handed to its parts: what the engine knows of both tasks (store,
//! scheduler, config) put together for `git::save_task_work` and
//! `git::hand_over`, and the part's prompt section
//! ([`crate::core::handoff::inherited_text`]).

use std::path::{Path, PathBuf};

use super::engine::Engine;
use crate::core::handoff::{Handed, Inheritance, inherited_text};
use crate::core::{Status, TaskId};
use crate::git;

/// Who a save of a task's work is attributed to, and what it leaves out.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    pub task: TaskId,
    pub title: String,
    /// The agent of its last attempt (else the task's).
    pub agent: String,
    /// Its last attempt's number (0 when it never ran).
    pub attempt: u32,
    /// Untracked paths of that agent's profile never saved.
    pub exclude: Vec<String>,
}

impl Owner {
    pub(crate) fn attribution(&self) -> git::Attribution<'_> {
        git::Attribution {
            task: self.task.as_str(),
            agent: &self.agent,
            attempt: self.attempt,
            title: &self.title,
        }
    }
}

/// The task a part was split from, as the part's run needs it.
#[derive(Debug, Clone)]
pub(crate) struct SplitSource {
    pub owner: Owner,
    /// How its last attempt ended, in words.
    pub last_outcome: Option<String>,
    /// Its last attempt's transcript.
    pub transcript: Option<PathBuf>,
}

/// A dropped task's work to save before its worktree is removed.
#[derive(Debug, Clone)]
pub(crate) struct DroppedWork {
    pub owner: Owner,
    /// Split (a task names it in `split_from`) or simply dropped.
    pub save_as: git::SaveAs,
}

impl Engine {
    pub(super) fn owner(
        &self,
        task: &TaskId,
    ) -> Option<(Owner, Option<crate::store::AttemptRecord>)> {
        let t = self.scheduler.task(task.as_str())?;
        let last = self
            .store
            .attempts(task.as_str())
            .ok()
            .and_then(|a| a.into_iter().max_by_key(|r| r.n));
        let agent = last
            .as_ref()
            .map_or_else(|| t.spec.agent.clone(), |r| r.agent.clone());
        let exclude = self
            .config
            .agents
            .get(&agent)
            .map(crate::config::AgentProfile::excludes)
            .unwrap_or_default();
        let owner = Owner {
            task: task.clone(),
            title: t.spec.title.clone(),
            agent,
            attempt: last.as_ref().map_or(0, |r| r.n),
            exclude,
        };
        Some((owner, last))
    }

    /// What to save of `task` before its worktree goes: for a dropped task,
    /// everything; a done task's work is on the target.
    pub(super) fn dropped_work(&self, task: &TaskId) -> Option<DroppedWork> {
        let t = self.scheduler.task(task.as_str())?;
        if t.status != Status::Dropped {
            return None;
        }
        let split = self
            .scheduler
            .fleet()
            .tasks()
            .iter()
            .any(|p| p.spec.split_from.as_ref() == Some(task));
        let save_as = if split {
            git::SaveAs::Split
        } else {
            git::SaveAs::Dropped
        };
        let (owner, _) = self.owner(task)?;
        Some(DroppedWork { owner, save_as })
    }

    /// The task `part` was split from, when it names one the fleet has.
    pub(super) fn split_source(&self, part: &TaskId) -> Option<SplitSource> {
        let from = self
            .scheduler
            .task(part.as_str())?
            .spec
            .split_from
            .clone()?;
        let (owner, last) = self.owner(&from)?;
        Some(SplitSource {
            owner,
            last_outcome: last
                .as_ref()
                .and_then(|r| r.outcome.as_ref())
                .map(crate::core::AttemptOutcome::describe),
            transcript: last.map(|r| self.fleet_dir.join(r.transcript)),
        })
    }
}

/// Hands the split task's work to `part`'s freshly prepared worktree
/// (blocking). None when the part already has work of its own. A fault of
/// the machine (a write refused) is an error, so the attempt is not counted
/// and the work is handed over when it starts again; any other failure is
/// said in the prompt.
pub(crate) fn hand_over(
    root: &Path,
    part: &str,
    target: &str,
    from: &SplitSource,
) -> Result<Option<Handed>, git::GitError> {
    let attr = from.owner.attribution();
    let handed = match git::hand_over(root, part, target, &attr, &from.owner.exclude) {
        Ok(None) => None,
        Ok(Some(git::Handoff::Nothing)) => Some(Handed::Nothing),
        Ok(Some(git::Handoff::Applied { files, .. })) => Some(Handed::Applied { files }),
        Ok(Some(git::Handoff::Conflict { files, saved_as })) => {
            Some(Handed::Conflict { files, saved_as })
        }
        Err(e) if e.is_environment(root) => return Err(e),
        Err(e) => {
            tracing::warn!(
                task = part,
                "could not hand over the work of `{}`: {e}",
                from.owner.task
            );
            Some(Handed::Failed {
                message: e.to_string(),
            })
        }
    };
    Ok(handed)
}

/// The section of the part's prompt that says what it inherited.
pub(crate) fn inherited_prompt(from: &SplitSource, handed: Handed) -> String {
    let messages = from
        .transcript
        .as_deref()
        .map(super::summary::last_messages)
        .unwrap_or_default();
    inherited_text(&Inheritance {
        from: from.owner.task.clone(),
        title: from.owner.title.clone(),
        last_outcome: from.last_outcome.clone(),
        messages,
        handed,
    })
}
