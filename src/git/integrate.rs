//! Task groups in git: the members' work merged onto the group's
//! integration branch `fleet/group/<name>` (one commit per member, with
//! its trailers and `Fleet-Group`), checked out in the detached worktree
//! `.fleet/worktrees/_group-<name>` where the group's gate runs; and the
//! landing of that branch on the target as one merge commit that carries
//! every member's `Fleet-Task` trailer.
//!
//! Like `merge.rs`: merges are computed in memory, the target moves by
//! compare-and-swap, the user's checkout is updated only for the changed
//! paths and refused when the user changed one of them, and a group whose
//! members are all on the target's first-parent history is never landed
//! again.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::error::{Context, GitError};
use super::history::task_merge;
use super::merge::{
    MAX_ATTEMPTS, MergeOutcome, checkout_paths, finish_leftover, land, merge_lock, merged_tree,
    task_commit,
};
use super::message::{author, committer, group_member_message, group_merge_message};
use super::refs::{commit_tree, diff_paths, local_branch_tip};
use super::scratch::prepare_detached;
use super::{Attribution, open, task_branch, validate_task_id};
use crate::core::team::group::{integration_branch, run_name, valid_name};

/// What [`integrate_group`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrateOutcome {
    /// The integration branch points at `commit` (one commit per member on
    /// the target's tip), checked out in `worktree`; `changed` is what each
    /// member changed, in plan order.
    Integrated {
        commit: Oid,
        worktree: PathBuf,
        changed: Vec<(String, Vec<String>)>,
    },
    /// Merging `members[0]`'s work onto the members before it conflicts in
    /// `files`; the rest of `members` are those earlier members that
    /// changed those files too. Nothing was written.
    Conflict {
        files: Vec<String>,
        members: Vec<String>,
    },
}

/// `<root>/.fleet/worktrees/_group-<name>`.
pub fn group_worktree_path(root: &Path, group: &str) -> PathBuf {
    root.join(".fleet").join("worktrees").join(run_name(group))
}

fn check_name(group: &str) -> Result<(), GitError> {
    if valid_name(group) {
        Ok(())
    } else {
        Err(GitError::InvalidGroupName {
            name: group.to_owned(),
        })
    }
}

/// Merges the work of every member (`members`, in plan order: each the
/// attempt that passed its own gate, on branch `fleet/<task>`) onto the
/// tip of `target`, one commit per member, points `fleet/group/<group>`
/// at the result and checks it out (detached) in the group's worktree.
/// Called when every member of the group waits for it.
pub fn integrate_group(
    root: &Path,
    target: &str,
    group: &str,
    members: &[Attribution],
) -> Result<IntegrateOutcome, GitError> {
    check_name(group)?;
    for m in members {
        validate_task_id(m.task)?;
    }
    let repo = open(root)?;
    let tip = local_branch_tip(&repo, target)?;
    let mut acc = repo
        .find_commit(tip)
        .ctx(|| format!("read {target} tip {tip}"))?;
    let mut changed: Vec<(String, Vec<String>)> = Vec::new();
    for m in members {
        let branch = task_branch(m.task);
        let theirs = local_branch_tip(&repo, &branch)?;
        let work = task_commit(&repo, m, tip, theirs)?;
        let files = work_files(&repo, &work)?;
        let what = format!("{branch} onto the integration of group {group}");
        let merged = merged_tree(&repo, &acc, &work, &what)?;
        let tree = match merged {
            Ok(tree) => tree,
            Err(files) => {
                let mut named = vec![m.task.to_owned()];
                named.extend(
                    changed
                        .iter()
                        .filter(|(_, theirs)| theirs.iter().any(|f| files.contains(f)))
                        .map(|(t, _)| t.clone()),
                );
                return Ok(IntegrateOutcome::Conflict {
                    files,
                    members: named,
                });
            }
        };
        let id = repo
            .commit(
                None,
                &author(m)?,
                &committer(&repo)?,
                &group_member_message(m, group),
                &tree,
                &[&acc],
            )
            .ctx(|| format!("commit {branch} onto the integration of group {group}"))?;
        acc = repo.find_commit(id).ctx(|| format!("read commit {id}"))?;
        changed.push((m.task.to_owned(), files));
    }
    let branch = integration_branch(group);
    repo.branch(&branch, &acc, true)
        .ctx(|| format!("point {branch} at {}", acc.id()))?;
    let worktree = group_worktree_path(root, group);
    prepare_detached(root, &run_name(group), &worktree, acc.id())?;
    Ok(IntegrateOutcome::Integrated {
        commit: acc.id(),
        worktree,
        changed,
    })
}

/// The paths `work` (one commit on its base) changes.
fn work_files(repo: &Repository, work: &git2::Commit<'_>) -> Result<Vec<String>, GitError> {
    let tree = work
        .tree()
        .ctx(|| format!("read the tree of {}", work.id()))?;
    let base = match work.parent_id(0) {
        Ok(p) => Some(commit_tree(repo, p)?),
        Err(_) => None,
    };
    let diff = repo
        .diff_tree_to_tree(base.as_ref(), Some(&tree), None)
        .ctx(|| format!("diff {} against its base", work.id()))?;
    Ok(diff_paths(&diff))
}

/// Lands `fleet/group/<group>` on `target` as one merge commit (first
/// parent the target's tip, second the integration branch's tip) whose
/// message names the group (`title`) and carries every member's trailers.
/// [`MergeOutcome::AlreadyMerged`] when every member is on the target's
/// first-parent history already (a landing finished before a crash).
/// Called when the group is approved.
pub fn land_group(
    root: &Path,
    target: &str,
    group: &str,
    title: &str,
    members: &[Attribution],
) -> Result<MergeOutcome, GitError> {
    check_name(group)?;
    let repo = open(root)?;
    let _serial = merge_lock();
    finish_leftover(&repo)?;
    for _ in 0..MAX_ATTEMPTS {
        let tip = local_branch_tip(&repo, target)?;
        match land_on(&repo, target, group, title, members, tip) {
            Err(GitError::TargetMoved { .. }) => continue,
            other => return other,
        }
    }
    Err(GitError::TargetUnstable {
        target: target.to_owned(),
        attempts: MAX_ATTEMPTS,
    })
}

fn land_on(
    repo: &Repository,
    target: &str,
    group: &str,
    title: &str,
    members: &[Attribution],
    tip: Oid,
) -> Result<MergeOutcome, GitError> {
    let mut landed = None;
    for m in members {
        match task_merge(repo, tip, m.task)? {
            Some(commit) => landed = landed.or(Some(commit)),
            None => {
                landed = None;
                break;
            }
        }
    }
    if let Some(commit) = landed.filter(|_| !members.is_empty()) {
        return Ok(MergeOutcome::AlreadyMerged { commit });
    }
    let branch = integration_branch(group);
    let theirs_id = local_branch_tip(repo, &branch)?;
    let ours = repo
        .find_commit(tip)
        .ctx(|| format!("read {target} tip {tip}"))?;
    let theirs = repo
        .find_commit(theirs_id)
        .ctx(|| format!("read {branch} tip {theirs_id}"))?;
    let tree = match merged_tree(repo, &ours, &theirs, &format!("{branch} into {target}"))? {
        Ok(tree) => tree,
        Err(files) => return Ok(MergeOutcome::Conflict { files }),
    };
    let changed = match checkout_paths(repo, target, &ours, &tree, &branch)? {
        Ok(changed) => changed,
        Err(blocked) => return Ok(MergeOutcome::Refused { files: blocked }),
    };
    let sig = committer(repo)?;
    let commit = repo
        .commit(
            None,
            &sig,
            &sig,
            &group_merge_message(group, title, members),
            &tree,
            &[&ours, &theirs],
        )
        .ctx(|| format!("create the merge commit of {branch}"))?;
    land(repo, target, tip, commit, &tree, &changed, &branch)?;
    Ok(MergeOutcome::Merged { commit })
}

#[cfg(test)]
#[path = "integrate_tests.rs"]
mod tests;
