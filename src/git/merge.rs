//! Merging a task branch `fleet/<id>` into the target branch.
//!
//! The target receives one commit per task: the branch tip's tree on the
//! merge base of the branch and the target, attributed to the approved
//! attempt. The commits of failed attempts stay on the branch (and are saved
//! under `refs/fleet/merged/<id>/...` when `fleetdeck gc` removes it), so
//! `git bisect` on the target never lands on one. `MergeStyle` says whether
//! a merge commit follows (`merge`), the result is squashed into one commit
//! on the tip (`squash`) or the commit is replayed onto the tip (`rebase`).
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
//! Git is the second source of truth: a task whose `Fleet-Task` commit is on
//! the target's first-parent history is never merged again, whatever the
//! database says or its branch holds.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use git2::{Commit, ErrorCode, Index, Oid, Repository, RepositoryState};

use super::checkout::{apply, blocking_paths, target_is_checked_out};
use super::error::{Context, GitError};
use super::history::task_merge;
use super::message::{
    attempt_message, author, committer, merge_message, parse_trailers, squash_message,
};
use super::pending::{self, CrashPoint, Pending};
use super::refs::{diff_paths, is_reachable, local_branch_tip};
use super::{Attribution, open, task_branch, validate_task_id};
use crate::core::MergeStyle;

/// How many times [`merge_task`] recomputes a merge when the target moves.
pub(super) const MAX_ATTEMPTS: u32 = 5;

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
    /// The target now points at this new commit: the merge commit (first
    /// parent: the old target tip, second parent: the task's one commit),
    /// the squashed commit, or the rebased commit, per the style.
    Merged {
        /// The commit the target moved to.
        commit: Oid,
    },
    /// Nothing was done: a commit carrying `Fleet-Task: <id>` (a merge, a
    /// squashed or a rebased commit) is on the target's first-parent history (within 10,000 commits; the merge
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

/// [`merge_task_with`] in the default style, [`MergeStyle::Merge`].
pub fn merge_task(root: &Path, target: &str, attr: &Attribution) -> Result<MergeOutcome, GitError> {
    merge_task_with(root, target, attr, MergeStyle::Merge)
}

/// Lands the work of branch `fleet/<attr.task>` on `target` as one commit
/// attributed to `attr` (the approved attempt), in `style`: the branch tip's
/// tree on the base the task started from, never the commits of earlier
/// attempts. [`MergeStyle::Merge`] adds a merge commit (never a
/// fast-forward, so `git log --first-parent <target>` shows one merge per
/// task); [`MergeStyle::Squash`] one commit on the target tip;
/// [`MergeStyle::Rebase`] that commit replayed onto the target tip. Called
/// when an approved task's merge job runs.
///
/// Reads the target tip and merges on it (see [`merge_task_at`]); when the
/// target moved between computing the merge and moving the ref, recomputes
/// on the new tip, up to 5 times, then fails with
/// [`GitError::TargetUnstable`]. Someone else's update of the target is
/// never overwritten. Merges in one process run one at a time. A checkout
/// update an earlier merge left pending is finished first (see
/// [`finish_pending_checkout`](super::finish_pending_checkout)).
pub fn merge_task_with(
    root: &Path,
    target: &str,
    attr: &Attribution,
    style: MergeStyle,
) -> Result<MergeOutcome, GitError> {
    validate_task_id(attr.task)?;
    let repo = open(root)?;
    let _serial = merge_lock();
    finish_leftover(&repo)?;
    for _ in 0..MAX_ATTEMPTS {
        let tip = local_branch_tip(&repo, target)?;
        match merge_onto(&repo, target, attr, tip, style) {
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
/// in a retry loop; call this directly to control the expected tip. Lands in
/// the [`MergeStyle::Merge`] style.
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
    merge_onto(&repo, target, attr, expected_tip, MergeStyle::Merge)
}

/// Finishes the checkout update of an earlier merge of this repository that
/// did not complete (its update failed, or the process died before the engine
/// could finish it), so its files do not count as the user's changes.
pub(super) fn finish_leftover(repo: &Repository) -> Result<(), GitError> {
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
    style: MergeStyle,
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
    let work = task_commit(repo, attr, tip, theirs_id)?;
    let tree = match merged_tree(repo, &ours, &work, &format!("{branch} into {target}"))? {
        Ok(tree) => tree,
        Err(files) => return Ok(MergeOutcome::Conflict { files }),
    };

    let changed = match checkout_paths(repo, target, &ours, &tree, &branch)? {
        Ok(changed) => changed,
        Err(blocked) => return Ok(MergeOutcome::Refused { files: blocked }),
    };
    let commit = landing_commit(repo, attr, style, &ours, &work, &tree)?;
    land(repo, target, tip, commit, &tree, &changed, &branch)?;
    Ok(MergeOutcome::Merged { commit })
}

/// The task's work as one commit: the tree of the branch tip `theirs_id` on
/// the merge base of the branch and the target `tip` (the base the work sits
/// on), with the approved attempt's attribution. The commits of earlier
/// (failed) attempts stay on the branch only. The tip itself when it already
/// is that commit (one attributed commit of this attempt on the base).
pub(super) fn task_commit<'r>(
    repo: &'r Repository,
    attr: &Attribution,
    tip: Oid,
    theirs_id: Oid,
) -> Result<Commit<'r>, GitError> {
    let branch = task_branch(attr.task);
    let theirs = repo
        .find_commit(theirs_id)
        .ctx(|| format!("read {branch} tip {theirs_id}"))?;
    let base_id = repo
        .merge_base(tip, theirs_id)
        .ctx(|| format!("find the merge base of {branch} and {tip}"))?;
    let parents: Vec<Oid> = theirs.parent_ids().collect();
    let attributed = theirs
        .message()
        .ok()
        .and_then(parse_trailers)
        .is_some_and(|t| t.task == attr.task && t.attempt == attr.attempt);
    if parents == [base_id] && attributed {
        return Ok(theirs);
    }
    let base = repo
        .find_commit(base_id)
        .ctx(|| format!("read merge base {base_id}"))?;
    let tree = theirs
        .tree()
        .ctx(|| format!("read the tree of {branch} tip {theirs_id}"))?;
    let id = repo
        .commit(
            None,
            &author(attr)?,
            &committer(repo)?,
            &attempt_message(attr),
            &tree,
            &[&base],
        )
        .ctx(|| format!("make the one commit of {branch} on {base_id}"))?;
    repo.find_commit(id)
        .ctx(|| format!("read the new commit {id} of {branch}"))
}

/// The commit the target moves to, per `style`, whose tree is the merged
/// `tree` of the target tip `ours` and the task's one commit `work`.
fn landing_commit(
    repo: &Repository,
    attr: &Attribution,
    style: MergeStyle,
    ours: &Commit<'_>,
    work: &Commit<'_>,
    tree: &git2::Tree<'_>,
) -> Result<Oid, GitError> {
    let branch = task_branch(attr.task);
    let made = match style {
        MergeStyle::Merge => repo.commit(
            None,
            &author(attr)?,
            &committer(repo)?,
            &merge_message(attr),
            tree,
            &[ours, work],
        ),
        MergeStyle::Squash => repo.commit(
            None,
            &author(attr)?,
            &committer(repo)?,
            &squash_message(attr),
            tree,
            &[ours],
        ),
        // The work already sits on the tip: the target fast-forwards to it.
        MergeStyle::Rebase if work.parent_ids().eq([ours.id()]) => return Ok(work.id()),
        MergeStyle::Rebase => repo.commit(
            None,
            &work.author(),
            &committer(repo)?,
            &String::from_utf8_lossy(work.message_bytes()),
            tree,
            &[ours],
        ),
    };
    made.ctx(|| format!("create the {style} commit of {branch}"))
}

/// The paths the merge changes in the user's checkout when `target` is
/// checked out there (empty otherwise), or `Err` with the user's changed
/// paths that are in the way.
pub(super) fn checkout_paths(
    repo: &Repository,
    target: &str,
    ours: &Commit<'_>,
    tree: &git2::Tree<'_>,
    branch: &str,
) -> Result<Result<Vec<String>, Vec<String>>, GitError> {
    if !target_is_checked_out(repo, target)? {
        return Ok(Ok(Vec::new()));
    }
    let tip = ours.id();
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
        .diff_tree_to_tree(Some(&old_tree), Some(tree), None)
        .ctx(|| format!("diff {target} against the merge of {branch}"))?;
    let changed = diff_paths(&diff);
    let blocked = blocking_paths(repo, &changed)?;
    if blocked.is_empty() {
        Ok(Ok(changed))
    } else {
        Ok(Err(blocked))
    }
}

/// Moves `target` from `tip` to the merge `commit` and writes the merged
/// `tree` into the checkout for the `changed` paths (empty when the target is
/// not checked out). The checkout lags behind the ref from the moment it
/// moves until it is updated, so what is owed is recorded first.
pub(super) fn land(
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

/// The tree of `theirs` merged in memory onto `ours` (`what`: which
/// merge, for errors), or `Err` with the conflicting paths.
pub(super) fn merged_tree<'r>(
    repo: &'r Repository,
    ours: &Commit<'_>,
    theirs: &Commit<'_>,
    what: &str,
) -> Result<Result<git2::Tree<'r>, Vec<String>>, GitError> {
    let mut index = repo
        .merge_commits(ours, theirs, None)
        .ctx(|| format!("merge {what}"))?;
    if index.has_conflicts() {
        return Ok(Err(conflict_paths(&index)?));
    }
    let tree_id = index
        .write_tree_to(repo)
        .ctx(|| format!("write the merged tree of {what}"))?;
    let tree = repo
        .find_tree(tree_id)
        .ctx(|| format!("read merged tree {tree_id}"))?;
    Ok(Ok(tree))
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
