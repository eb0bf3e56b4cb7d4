//! Step one of an agent run: the task's worktree, ready for the attempt, and
//! the agent's isolated home when its profile asks for one.

use std::path::{Path, PathBuf};

use crate::core::StartRequest;
use crate::git;

/// What preparing does to the worktree's content before the attempt, as the
/// engine resolved it from the request's [`crate::core::Workspace`] and the
/// recorded attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reset {
    /// Keep the branch and whatever the previous attempts left.
    Keep,
    /// Start over from the target's tip (after a rejection), saving the old
    /// state under `refs/fleet/discarded/<task>/<n>` attributed to the
    /// rejected attempt `n` and its agent (when not known: the attempt
    /// before this one, by this one's agent).
    ToTarget { rejected: Option<(u32, String)> },
    /// Undo interrupted `attempt`: back to the commit it started from, its
    /// work saved under `refs/fleet/interrupted/<task>/<attempt>`.
    ToBase { attempt: u32, base: String },
}

/// Makes the task's worktree ready for the attempt; returns it and the commit the attempt starts from.
///
/// A fresh start (after a rejection) or the redo of an interrupted attempt
/// first saves whatever the worktree holds under a ref, so nothing is lost.
pub(super) fn prepare(
    root: &Path,
    req: &StartRequest,
    title: &str,
    target: &str,
    reset: &Reset,
) -> Result<(PathBuf, String), git::GitError> {
    let task = req.task.as_str();
    // Locks a killed git of this task's left behind would fail every attempt.
    for lock in git::clear_task_locks(root, task)? {
        tracing::warn!(task, "removed a stale git lock: {}", lock.display());
    }
    let wt = git::ensure_worktree(root, task, target)?;
    let reset_to = match reset {
        Reset::Keep => None,
        Reset::ToTarget { rejected } => {
            let (n, agent) = match rejected {
                Some((n, agent)) => (*n, agent.as_str()),
                None => (req.attempt.saturating_sub(1), req.agent.as_str()),
            };
            Some((
                git::branch_tip(root, target)?,
                format!("refs/fleet/discarded/{task}/{n}"),
                n,
                agent,
            ))
        }
        Reset::ToBase { attempt, base } => {
            let oid = git::Oid::from_str(base).map_err(|source| git::GitError::Git {
                what: format!("read the base commit `{base}` of attempt {attempt}"),
                source,
            })?;
            Some((
                oid,
                git::interrupted_ref(task, *attempt),
                *attempt,
                req.agent.as_str(),
            ))
        }
    };
    let reset = reset_to.is_some();
    let prepared = match reset_to {
        Some((to, save_ref, attempt, agent)) => {
            let attr = git::Attribution {
                task,
                agent,
                attempt,
                title,
            };
            git::save_and_reset(root, to, &save_ref, &attr)?;
            (wt.path.clone(), to.to_string())
        }
        None => (wt.path.clone(), wt.head.to_string()),
    };
    // Second line of defence: the worktree must match its HEAD (or,
    // continuing, at least hold every path of it in its index).
    let expect = if wt.created || reset {
        git::Expect::Clean
    } else {
        git::Expect::Continuing
    };
    if let Some(problem) = git::ensure_intact(root, task, expect)? {
        tracing::warn!(
            task,
            "the worktree of `{task}` was damaged ({problem}): rebuilt it"
        );
    }
    Ok(prepared)
}

/// The task's own home directory under `.fleet/homes/`, created (from
/// `template`, copied in, when given) the first time.
pub(crate) fn isolated_home(
    fleet_dir: &Path,
    task: &str,
    template: Option<&Path>,
) -> std::io::Result<PathBuf> {
    let home = fleet_dir.join("homes").join(task);
    if !home.exists() {
        crate::store::private::create_dir_private(&home)?;
        if let Some(t) = template {
            // `~/x` is in the user's home; a relative path is in the repository.
            let t = match t.strip_prefix("~") {
                Ok(rest) => std::env::var_os("HOME")
                    .map_or_else(|| t.to_path_buf(), |h| PathBuf::from(h).join(rest)),
                Err(_) if t.is_relative() => fleet_dir.parent().unwrap_or(fleet_dir).join(t),
                Err(_) => t.to_path_buf(),
            };
            crate::store::private::copy_dir_private(&t, &home)?;
        }
    }
    Ok(home)
}
