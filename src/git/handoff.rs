//! A split task's work, handed to its parts.
//!
//! When a task is split (its parts name it in `split_from`, and it is
//! dropped in the same batch), what it had is kept before its worktree
//! goes ([`save_task_work`]): the commits on its branch (an attempt whose
//! gate failed) and the uncommitted changes in its worktree (an attempt that
//! failed as an agent), as one commit under `refs/fleet/split/<id>`, whose
//! message names the commit the work started from (`Fleet-Base`: the merge
//! base of its branch and the target). A task dropped without being split is
//! saved the same way under `refs/fleet/dropped/<id>/<commit>`.
//!
//! Each part, when it starts with no work of its own, inherits that work
//! ([`hand_over`]): the changes base → saved are merged in memory onto the
//! part's HEAD (the target's tip) and, when clean, written into its worktree
//! as uncommitted changes, so the part's own attempt commits the inherited
//! work together with its own. When they do not apply cleanly nothing is
//! written, and the conflicting files are named.

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{Commit, ErrorCode, Oid, Repository};

use super::commit::{head_commit_id, stage_excluding};
use super::error::{Context, GitError};
use super::message::{author, committer, dropped_message, parse_base};
use super::refs::{diff_paths, is_reachable, local_branch_tip};
use super::update::conflict_paths;
use super::worktree::worktree_lock;
use super::{Attribution, open, open_task_worktree, task_branch, validate_task_id, worktree_path};

/// Where a split task's work is kept: `refs/fleet/split/<task>`.
pub fn split_ref(task: &str) -> String {
    format!("refs/fleet/split/{task}")
}

/// Which kind of drop [`save_task_work`] saves for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveAs {
    /// The task was split: its work goes to `refs/fleet/split/<id>`, where
    /// its parts find it.
    Split,
    /// The task was dropped: its work goes to `refs/fleet/dropped/<id>/<commit>`.
    Dropped,
}

/// A dropped task's work as [`save_task_work`] kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedWork {
    /// The commit holding the work (tree: the worktree's content).
    pub commit: Oid,
    /// The commit the work started from.
    pub base: Oid,
    /// The ref it is kept under.
    pub saved_as: String,
}

/// What [`hand_over`] did to a part's worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handoff {
    /// The split task had no work (no worktree, no commit, no change).
    Nothing,
    /// Its changes are now uncommitted changes in the part's worktree.
    Applied {
        /// The files its work changed.
        files: Vec<String>,
        /// Where the work stays saved.
        saved_as: String,
    },
    /// Its changes conflict with the part's HEAD (the target moved): nothing
    /// was written.
    Conflict {
        /// The conflicting files.
        files: Vec<String>,
        /// Where the work stays saved.
        saved_as: String,
    },
}

/// Keeps everything dropped task `attr.task` has — its branch's commits and
/// its worktree's uncommitted changes (leaving out untracked paths matching
/// the profile's `exclude`) — as one commit, before its worktree is removed.
///
/// Its tree is the worktree's content (the branch tip's when the worktree is
/// gone), its first parent the worktree's HEAD, its base the merge base of
/// that HEAD and `target`. For [`SaveAs::Split`], a save already under
/// `refs/fleet/split/<id>` is kept when the worktree is gone or holds the
/// same, and otherwise becomes the second parent of the new one (nothing is
/// dropped by saving twice). `None` when the task has no branch or nothing
/// beyond its base, and for [`SaveAs::Dropped`] when its branch already
/// holds all of it (no uncommitted changes, HEAD on the branch).
pub fn save_task_work(
    root: &Path,
    target: &str,
    save_as: SaveAs,
    attr: &Attribution,
    exclude: &[String],
) -> Result<Option<SavedWork>, GitError> {
    save_work(root, target, save_as, None, attr, exclude)
}

/// Where a fan-out candidate that was not picked keeps its work:
/// `refs/fleet/discarded/<parent>/<candidate>/<attempt>`.
pub fn candidate_ref(parent: &str, candidate: &str, attempt: u32) -> String {
    format!("refs/fleet/discarded/{parent}/{candidate}/{attempt}")
}

/// Saves the work of a fan-out candidate that was not picked (`attr`:
/// the candidate and its last attempt) like a dropped task's — its branch
/// and its worktree's uncommitted changes as one commit — under
/// [`candidate_ref`], always (also when the branch holds all of it), before
/// its worktree is removed. `None` when it has nothing beyond its base.
pub fn save_candidate_work(
    root: &Path,
    target: &str,
    parent: &str,
    attr: &Attribution,
    exclude: &[String],
) -> Result<Option<SavedWork>, GitError> {
    validate_task_id(parent)?;
    let saved_as = candidate_ref(parent, attr.task, attr.attempt);
    save_work(root, target, SaveAs::Dropped, Some(saved_as), attr, exclude)
}

/// [`save_task_work`], or under `candidate` (a discarded candidate's ref).
fn save_work(
    root: &Path,
    target: &str,
    save_as: SaveAs,
    candidate: Option<String>,
    attr: &Attribution,
    exclude: &[String],
) -> Result<Option<SavedWork>, GitError> {
    validate_task_id(attr.task)?;
    let _serial = worktree_lock();
    let repo = open(root)?;
    let target_tip = local_branch_tip(&repo, target)?;
    let previous = match save_as {
        SaveAs::Split => saved_commit(&repo, &split_ref(attr.task))?,
        SaveAs::Dropped => None,
    };
    let has_worktree = worktree_path(root, attr.task).is_dir();
    if let (Some(prev), false) = (&previous, has_worktree) {
        return Ok(Some(saved_work(&repo, prev, split_ref(attr.task))?));
    }
    let branch_tip = match local_branch_tip(&repo, &task_branch(attr.task)) {
        Ok(tip) => Some(tip),
        Err(GitError::BranchNotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let (head, base, tree) = if has_worktree {
        let (wt, _) = open_task_worktree(root, attr.task)?;
        let head = head_commit_id(&wt)?;
        let base = merge_base(&repo, head, target_tip)?;
        (head, base, stage_excluding(&wt, base, exclude)?)
    } else {
        let Some(head) = branch_tip else {
            return Ok(None);
        };
        let base = merge_base(&repo, head, target_tip)?;
        (head, base, find(&repo, head)?.tree_id())
    };
    // A plain drop whose branch holds everything: the branch is the save
    // (`fleetdeck gc` keeps its tip under refs/fleet/dropped/ before deleting it).
    if save_as == SaveAs::Dropped
        && candidate.is_none()
        && branch_tip == Some(head)
        && tree == find(&repo, head)?.tree_id()
    {
        return Ok(None);
    }
    if let Some(prev) = &previous
        && prev.tree_id() == tree
        && prev.parent_id(0).ok() == Some(head)
    {
        return Ok(Some(saved_work(&repo, prev, split_ref(attr.task))?));
    }
    if previous.is_none() && tree == find(&repo, base)?.tree_id() {
        return Ok(None);
    }
    let mut parents = vec![find(&repo, head)?];
    if let Some(prev) = previous.filter(|p| p.id() != head) {
        parents.push(prev);
    }
    let why = match (save_as, &candidate) {
        (_, Some(_)) => "discarded candidate",
        (SaveAs::Split, None) => "split",
        (SaveAs::Dropped, None) => "dropped",
    };
    let tree = repo
        .find_tree(tree)
        .ctx(|| format!("read the staged tree {tree} of `{}`", attr.task))?;
    let parent_refs: Vec<&Commit> = parents.iter().collect();
    let commit = repo
        .commit(
            None,
            &author(attr)?,
            &committer(&repo)?,
            &dropped_message(attr, base, why),
            &tree,
            &parent_refs,
        )
        .ctx(|| format!("save the work of `{}`", attr.task))?;
    let saved_as = match (save_as, candidate) {
        (_, Some(name)) => name,
        (SaveAs::Split, None) => split_ref(attr.task),
        (SaveAs::Dropped, None) => super::gc::saved_ref("dropped", attr.task, commit),
    };
    repo.reference(
        &saved_as,
        commit,
        true,
        "fleetdeck: save a dropped task's work",
    )
    .ctx(|| format!("point {saved_as} at {commit}"))?;
    Ok(Some(SavedWork {
        commit,
        base,
        saved_as,
    }))
}

/// Gives part `part` the work of the task it was split from (`from.task`),
/// when the part has no work of its own yet: its worktree is clean and its
/// HEAD is on `target`. Otherwise (a later attempt, or work already
/// inherited) `None`, and nothing changes.
///
/// The split task's work is the save under `refs/fleet/split/<id>`, made now
/// by [`save_task_work`] when its worktree has not been removed yet. Its
/// changes (base → saved) are merged in memory onto the part's HEAD; a clean
/// result is written into the worktree's files, the index and the branch
/// staying at HEAD. A conflict writes nothing.
pub fn hand_over(
    root: &Path,
    part: &str,
    target: &str,
    from: &Attribution,
    exclude: &[String],
) -> Result<Option<Handoff>, GitError> {
    validate_task_id(from.task)?;
    let (wt, path) = open_task_worktree(root, part)?;
    let head = head_commit_id(&wt)?;
    let target_tip = local_branch_tip(&wt, target)?;
    if !is_reachable(&wt, target_tip, head)? || super::gc::uncommitted_paths(&wt, &path)? > 0 {
        return Ok(None);
    }
    let Some(saved) = save_task_work(root, target, SaveAs::Split, from, exclude)? else {
        return Ok(Some(Handoff::Nothing));
    };
    let tree = |id: Oid| {
        find(&wt, id)?
            .tree()
            .ctx(|| format!("read the tree of {id}"))
    };
    let (base, ours, theirs) = (tree(saved.base)?, tree(head)?, tree(saved.commit)?);
    let changes = wt
        .diff_tree_to_tree(Some(&base), Some(&theirs), None)
        .ctx(|| format!("diff the work of `{}`", from.task))?;
    let files = diff_paths(&changes);
    if files.is_empty() {
        return Ok(Some(Handoff::Nothing));
    }
    let mut merged = wt
        .merge_trees(&base, &ours, &theirs, None)
        .ctx(|| format!("merge the work of `{}` onto {head} in memory", from.task))?;
    let saved_as = saved.saved_as;
    if merged.has_conflicts() {
        let files = conflict_paths(&merged)?;
        return Ok(Some(Handoff::Conflict { files, saved_as }));
    }
    let result = merged
        .write_tree_to(&wt)
        .ctx(|| format!("write the work of `{}` onto {head}", from.task))?;
    let result = wt
        .find_tree(result)
        .ctx(|| format!("read the merged tree {result}"))?;
    let mut checkout = CheckoutBuilder::new();
    checkout.force().update_index(false);
    wt.checkout_tree(result.as_object(), Some(&mut checkout))
        .ctx(|| format!("write the work of `{}` into {}", from.task, path.display()))?;
    Ok(Some(Handoff::Applied { files, saved_as }))
}

/// The commit `name` points at, if it exists.
fn saved_commit<'r>(repo: &'r Repository, name: &str) -> Result<Option<Commit<'r>>, GitError> {
    match repo.refname_to_id(name) {
        Ok(id) => Ok(Some(find(repo, id)?)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).ctx(|| format!("read {name}")),
    }
}

/// A save read back: its base from its message (its first parent when the
/// message has none).
fn saved_work(repo: &Repository, saved: &Commit, saved_as: String) -> Result<SavedWork, GitError> {
    let base = match saved.message().ok().and_then(parse_base) {
        Some(base) => base,
        None => saved
            .parent_id(0)
            .ctx(|| format!("read the parent of the save {}", saved.id()))?,
    };
    find(repo, base)?;
    Ok(SavedWork {
        commit: saved.id(),
        base,
        saved_as,
    })
}

fn merge_base(repo: &Repository, a: Oid, b: Oid) -> Result<Oid, GitError> {
    repo.merge_base(a, b)
        .ctx(|| format!("find the merge base of {a} and {b}"))
}

fn find(repo: &Repository, id: Oid) -> Result<Commit<'_>, GitError> {
    repo.find_commit(id).ctx(|| format!("read commit {id}"))
}

#[cfg(test)]
#[path = "handoff_tests.rs"]
mod tests;
