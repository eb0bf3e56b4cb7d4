//! Merging a task branch `fleet/<id>` into the target branch.
//!
//! The merge is computed in memory (`merge_commits`), so a conflict touches
//! nothing. The target ref moves only by compare-and-swap from the commit the
//! merge was computed on; when someone else moved it meanwhile, the merge is
//! recomputed on the new tip. When the target is checked out in the user's
//! working tree, the merge is refused if it would touch a file the user
//! changed, and otherwise applied to exactly the paths it changes; the
//! update is recorded durably before the ref moves (`pending`), so a crash in
//! between is finished on the next start.
//!
//! Git is the second source of truth: a task whose `Fleet-Task` merge is on
//! the target's first-parent history is never merged again, whatever the
//! database says or its branch holds.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use git2::{ErrorCode, Index, Oid, Repository, RepositoryState};

use super::checkout::{apply, blocking_paths, target_is_checked_out};
use super::error::{Context, GitError};
use super::history::task_merge;
use super::message::{author, committer, merge_message};
use super::pending::{self, CrashPoint, Pending};
use super::refs::{diff_paths, is_reachable, local_branch_tip};
use super::{Attribution, open, task_branch, validate_task_id};

/// How many times [`merge_task`] recomputes a merge when the target moves.
const MAX_ATTEMPTS: u32 = 5;

/// Serializes merges within this process. The compare-and-swap keeps refs
/// correct without it, but between moving the ref and updating the checkout
/// the user's files lag behind HEAD, and a concurrent merge into the same
/// checked-out branch would read that as user changes and refuse.
static MERGE_LOCK: Mutex<()> = Mutex::new(());

/// Takes [`MERGE_LOCK`]; a panic in another merge does not poison it for good.
pub(crate) fn merge_lock() -> MutexGuard<'static, ()> {
    MERGE_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What [`merge_task`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The target now points at this new merge commit (first parent: the old
    /// target tip, second parent: the task branch tip).
    Merged {
        /// The merge commit.
        commit: Oid,
    },
    /// Nothing was done: a merge commit carrying `Fleet-Task: <id>` is on the
    /// target's first-parent history (within 10,000 commits; the merge
    /// finished before a crash, or the database was lost and the task ran
    /// again), or else the branch tip is already reachable from the target
    /// (the branch has no commits of its own). `commit` is that newest merge
    /// commit, else the target tip.
    AlreadyMerged {
        /// The task's merge commit, or the target tip.
        commit: Oid,
    },
    /// The merge has conflicts in these paths (sorted, each once). Computed
    /// in memory: the target ref, the index and the user's files are untouched.
    Conflict {
        /// Conflicted paths.
        files: Vec<String>,
    },
    /// The target is checked out in the user's working tree and the merge
    /// would change these paths, which the user modified, staged, deleted, or
    /// has untracked there: nothing was touched.
    Refused {
        /// The user's paths in the way.
        files: Vec<String>,
    },
}

/// Merges branch `fleet/<attr.task>` into `target` with a merge commit
/// attributed to `attr` (never a fast-forward, so
/// `git log --first-parent <target>` shows one merge per task).
///
/// Reads the target tip and calls [`merge_task_at`]; when the target moved
/// between computing the merge and moving the ref, recomputes on the new tip,
/// up to 5 times, then fails with [`GitError::TargetUnstable`]. Someone
/// else's update of the target is never overwritten. Merges in one process
/// run one at a time. A checkout update an earlier merge left pending is
/// finished first (see [`finish_pending_checkout`](super::finish_pending_checkout)).
pub fn merge_task(root: &Path, target: &str, attr: &Attribution) -> Result<MergeOutcome, GitError> {
    validate_task_id(attr.task)?;
    let repo = open(root)?;
    let _serial = merge_lock();
    finish_leftover(&repo)?;
    for _ in 0..MAX_ATTEMPTS {
        let tip = local_branch_tip(&repo, target)?;
        match merge_onto(&repo, target, attr, tip) {
            Err(GitError::TargetMoved { .. }) => continue,
            other => return other,
        }
    }
    Err(GitError::TargetUnstable {
        target: target.to_owned(),
        attempts: MAX_ATTEMPTS,
    })
}

/// One merge attempt computed on `expected_tip`, the target tip the caller
/// saw: the target ref moves only if it still points there at that moment,
/// else [`GitError::TargetMoved`] and nothing changed. [`merge_task`] is this
/// in a retry loop; call this directly to control the expected tip.
pub fn merge_task_at(
    root: &Path,
    target: &str,
    attr: &Attribution,
    expected_tip: Oid,
) -> Result<MergeOutcome, GitError> {
    validate_task_id(attr.task)?;
    let repo = open(root)?;
    let _serial = merge_lock();
    finish_leftover(&repo)?;
    merge_onto(&repo, target, attr, expected_tip)
}

/// Finishes the checkout update of an earlier merge of this repository that
/// did not complete (its update failed, or the process died before the engine
/// could finish it), so its files do not count as the user's changes.
fn finish_leftover(repo: &Repository) -> Result<(), GitError> {
    if let Some(message) = pending::finish_locked(repo)?.message() {
        tracing::warn!("{message}");
    }
    Ok(())
}

/// See [`merge_task_at`].
fn merge_onto(
    repo: &Repository,
    target: &str,
    attr: &Attribution,
    tip: Oid,
) -> Result<MergeOutcome, GitError> {
    if let Some(commit) = task_merge(repo, tip, attr.task)? {
        return Ok(MergeOutcome::AlreadyMerged { commit });
    }
    let branch = task_branch(attr.task);
    let theirs_id = local_branch_tip(repo, &branch)?;
    if is_reachable(repo, tip, theirs_id)? {
        return Ok(MergeOutcome::AlreadyMerged { commit: tip });
    }

    let ours = repo
        .find_commit(tip)
        .ctx(|| format!("read {target} tip {tip}"))?;
    let theirs = repo
        .find_commit(theirs_id)
        .ctx(|| format!("read {branch} tip {theirs_id}"))?;
    let mut index = repo
        .merge_commits(&ours, &theirs, None)
        .ctx(|| format!("merge {branch} into {target}"))?;
    if index.has_conflicts() {
        return Ok(MergeOutcome::Conflict {
            files: conflict_paths(&index)?,
        });
    }
    let tree_id = index
        .write_tree_to(repo)
        .ctx(|| format!("write the merged tree of {branch} into {target}"))?;
    let tree = repo
        .find_tree(tree_id)
        .ctx(|| format!("read merged tree {tree_id}"))?;

    let checked_out = target_is_checked_out(repo, target)?;
    let changed = if checked_out {
        let current = local_branch_tip(repo, target)?;
        if current != tip {
            return Err(moved(target, tip, current));
        }
        let state = repo.state();
        if state != RepositoryState::Clean {
            return Err(GitError::CheckoutBusy {
                path: repo.workdir().unwrap_or(repo.path()).to_path_buf(),
                state: format!("{state:?}"),
            });
        }
        let old_tree = ours.tree().ctx(|| format!("read the tree of {tip}"))?;
        let diff = repo
            .diff_tree_to_tree(Some(&old_tree), Some(&tree), None)
            .ctx(|| format!("diff {target} against the merge of {branch}"))?;
        let changed = diff_paths(&diff);
        let blocked = blocking_paths(repo, &changed)?;
        if !blocked.is_empty() {
            return Ok(MergeOutcome::Refused { files: blocked });
        }
        changed
    } else {
        Vec::new()
    };

    let commit = repo
        .commit(
            None,
            &author(attr)?,
            &committer(repo)?,
            &merge_message(attr),
            &tree,
            &[&ours, &theirs],
        )
        .ctx(|| format!("create the merge commit of {branch}"))?;
    land(repo, target, tip, commit, &tree, &changed, &branch)?;
    Ok(MergeOutcome::Merged { commit })
}

/// Moves `target` from `tip` to the merge `commit` and writes the merged
/// `tree` into the checkout for the `changed` paths (empty when the target is
/// not checked out). The checkout lags behind the ref from the moment it
/// moves until it is updated, so what is owed is recorded first.
fn land(
    repo: &Repository,
    target: &str,
    tip: Oid,
    commit: Oid,
    tree: &git2::Tree<'_>,
    changed: &[String],
    branch: &str,
) -> Result<(), GitError> {
    let workdir = repo.workdir().filter(|_| !changed.is_empty());
    if let Some(workdir) = workdir {
        let owed = Pending {
            target: target.to_owned(),
            old_tip: tip.to_string(),
            commit: commit.to_string(),
            paths: changed.to_vec(),
        };
        pending::record(workdir, &owed)?;
        pending::crash_point(CrashPoint::Recorded);
    }
    if let Err(e) = move_target(repo, target, tip, commit, branch) {
        if let Some(workdir) = workdir {
            pending::clear(workdir)?;
        }
        return Err(e);
    }
    pending::crash_point(CrashPoint::RefMoved);

    apply(repo, tree, changed).map_err(|source| GitError::CheckoutUpdate {
        target: target.to_owned(),
        commit,
        files: changed.to_vec(),
        source,
    })?;
    if let Some(workdir) = workdir
        && let Err(e) = pending::clear(workdir)
    {
        // The merge is complete; a later finish finds nothing left to do.
        tracing::warn!("{e}");
    }
    Ok(())
}

/// Moves `target` from `tip` to `commit` by compare-and-swap;
/// [`GitError::TargetMoved`] when it no longer points at `tip`.
fn move_target(
    repo: &Repository,
    target: &str,
    tip: Oid,
    commit: Oid,
    branch: &str,
) -> Result<(), GitError> {
    let target_ref = format!("refs/heads/{target}");
    match repo.reference_matching(
        &target_ref,
        commit,
        true,
        tip,
        &format!("fleetdeck: merge {branch}"),
    ) {
        Ok(_) => Ok(()),
        Err(e) if e.code() == ErrorCode::Modified => {
            let actual = local_branch_tip(repo, target)?;
            Err(moved(target, tip, actual))
        }
        Err(e) => Err(e).ctx(|| format!("move {target} from {tip} to {commit}")),
    }
}

fn moved(target: &str, expected: Oid, actual: Oid) -> GitError {
    GitError::TargetMoved {
        target: target.to_owned(),
        expected,
        actual,
    }
}

/// Each conflicted path once, sorted.
fn conflict_paths(index: &Index) -> Result<Vec<String>, GitError> {
    let mut files = std::collections::BTreeSet::new();
    for conflict in index.conflicts().ctx(|| "list merge conflicts")? {
        let conflict = conflict.ctx(|| "read a merge conflict")?;
        for entry in [conflict.our, conflict.their, conflict.ancestor]
            .into_iter()
            .flatten()
        {
            files.insert(String::from_utf8_lossy(&entry.path).into_owned());
        }
    }
    Ok(files.into_iter().collect())
}
