//! Updating a task's branch onto the current target tip, in its worktree.
//!
//! Called when a task in review cannot be merged (a conflict with the
//! target, or the user's changes in the way) and the user (or
//! `auto_update`) asks for an update. The task's own work is what its branch
//! adds to the merge base with the target; it is merged onto the target tip
//! `T` in memory:
//!
//! - **clean**: the branch becomes one commit whose only parent is `T`, whose
//!   tree is the merged result and whose message is the attempt's
//!   (attributed, see [`attempt_message`]); the worktree's files, index and
//!   HEAD follow. Its base is now `T`, so the diff against the target holds
//!   only the task's own changes, and a later merge of the target into the
//!   branch by an agent can never be squashed back onto an old base.
//! - **conflict**: the branch, HEAD and index are put at `T`, and the
//!   worktree holds the merged files, the conflicting ones with conflict
//!   markers (`<<<<<<<`, `=======`, `>>>>>>>`), for an agent or the user to
//!   resolve. Each conflicting file says which commits of the target changed
//!   it since the old base (with the `Fleet-Task` they merged, if any).
//!
//! Either way the old tip is saved first under `refs/fleet/updated/<id>/<n>`.
//! Calling again after a crash is safe: a branch that is already on `T`
//! with nothing of its own (a conflict update that finished) is recomputed
//! from the newest saved tip.

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{Commit, DiffFormat, DiffOptions, ErrorCode, Index, Oid, Repository, StatusOptions};

use super::error::{Context, GitError};
use super::message::{attempt_message, author, committer, parse_trailers};
use super::refs::{head_symbolic_target, is_reachable, local_branch_tip};
use super::{Attribution, open_task_worktree, task_branch};

/// Most target commits looked at for what changed a conflicting file.
const HISTORY_LIMIT: usize = 500;
/// Most lines of the target's diff kept per conflicting file.
const DIFF_LINES: usize = 40;

/// A commit on the target that changed a conflicting file since the task's base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetChange {
    /// The first-parent commit of the target that changed the file.
    pub commit: Oid,
    /// Its `Fleet-Task` trailer: the task whose merge it is, if any.
    pub task: Option<String>,
    /// Its subject line.
    pub subject: String,
}

/// A file the update could not merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictFile {
    /// The path, relative to the worktree.
    pub path: String,
    /// Target commits that changed it since the old base, newest first.
    pub changed_by: Vec<TargetChange>,
    /// What the target changed there (a unified diff from the old base to
    /// the target tip, cut after a few dozen lines).
    pub target_diff: String,
}

/// What [`update_task`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The branch is `commit`, one commit on `onto` (the target tip).
    Clean { commit: Oid, onto: Oid },
    /// The branch is at `onto` (the target tip) and the worktree holds the
    /// merged files, these with conflict markers.
    Conflict { onto: Oid, files: Vec<ConflictFile> },
}

/// The ref under which the `n`th update of `task` saves the old branch tip.
pub fn updated_ref(task: &str, n: u32) -> String {
    format!("refs/fleet/updated/{task}/{n}")
}

/// Brings branch `fleet/<attr.task>` onto the tip of `target`, in the task's
/// worktree (see the module documentation). `attr` attributes the new
/// commit (the attempt it replaces). Refuses with
/// [`GitError::WorktreeChanged`] when tracked files of the worktree differ
/// from its branch (they would be overwritten).
pub fn update_task(
    root: &Path,
    target: &str,
    attr: &Attribution,
) -> Result<UpdateOutcome, GitError> {
    let (repo, _) = open_task_worktree(root, attr.task)?;
    let onto = local_branch_tip(&repo, target)?;
    let branch = task_branch(attr.task);
    let tip = local_branch_tip(&repo, &branch)?;
    let last_saved = newest_save(&repo, attr.task)?;
    // The task's work: the branch, or (after a conflict update finished and
    // left the branch at the target) the tip that update saved.
    let work = match last_saved {
        Some((_, saved)) if is_reachable(&repo, onto, tip)? => saved,
        _ => {
            refuse_changed_files(&repo, attr.task)?;
            tip
        }
    };
    let onto_commit = find(&repo, onto)?;
    let work_commit = find(&repo, work)?;
    let base = merge_base(&repo, attr.task, onto, work)?;
    let tree_of = |id: Oid| {
        find(&repo, id)?
            .tree()
            .ctx(|| format!("read the tree of {id}"))
    };
    let mut merged = repo
        .merge_trees(&tree_of(base)?, &tree_of(onto)?, &tree_of(work)?, None)
        .ctx(|| format!("merge {branch} onto {target} in memory"))?;
    let save = || -> Result<(), GitError> {
        if last_saved.map(|(_, id)| id) == Some(work) {
            return Ok(());
        }
        let n = last_saved.map_or(1, |(n, _)| n + 1);
        let name = updated_ref(attr.task, n);
        repo.reference(&name, work, false, "fleetdeck: the tip before an update")
            .ctx(|| format!("save {work} under {name}"))?;
        Ok(())
    };
    let branch_ref = format!("refs/heads/{branch}");
    if merged.has_conflicts() {
        save()?;
        let files = conflict_paths(&merged)?;
        move_branch(&repo, &branch_ref, tip, onto)?;
        checkout_merge(&repo, onto, &mut merged, target, &branch)?;
        let files = describe_conflicts(&repo, onto, Some(base), files)?;
        return Ok(UpdateOutcome::Conflict { onto, files });
    }
    let tree_id = merged
        .write_tree_to(&repo)
        .ctx(|| format!("write the merged tree of {branch}"))?;
    let reuse = work_commit.parent_ids().eq([onto]) && work_commit.tree_id() == tree_id;
    let commit = if reuse {
        work
    } else {
        save()?;
        let tree = repo
            .find_tree(tree_id)
            .ctx(|| format!("read merged tree {tree_id}"))?;
        repo.commit(
            None,
            &author(attr)?,
            &committer(&repo)?,
            &attempt_message(attr),
            &tree,
            &[&onto_commit],
        )
        .ctx(|| format!("commit the update of {branch} onto {target}"))?
    };
    move_branch(&repo, &branch_ref, tip, commit)?;
    checkout_commit(&repo, commit)?;
    Ok(UpdateOutcome::Clean { commit, onto })
}

/// The ancestor for merging `work` onto `onto`: their merge base, unless an
/// agent of this task merged the target by itself. Such merge commits were
/// squashed by the gate (they stay under `refs/fleet/agent/<id>/<n>`), so
/// for each attempt commit on `work`'s first-parent chain, the agent's own
/// commits of that attempt count when they grew from that commit's parent
/// (the attempt's base): the newest target commit they merged is the base.
fn merge_base(repo: &Repository, task: &str, onto: Oid, work: Oid) -> Result<Oid, GitError> {
    let mut best = repo
        .merge_base(onto, work)
        .ctx(|| format!("find the merge base of {onto} and {work}"))?;
    let mut at = find(repo, work)?;
    for _ in 0..HISTORY_LIMIT {
        if is_reachable(repo, best, at.id())? {
            break;
        }
        let Ok(parent) = at.parent(0) else { break };
        let attempt = at
            .message()
            .ok()
            .and_then(parse_trailers)
            .filter(|t| t.task == task);
        if let Some(t) = attempt
            && let Ok(agent) = repo.refname_to_id(&super::agent_ref(task, t.attempt))
            && is_reachable(repo, agent, parent.id())?
            && let Ok(merged) = repo.merge_base(onto, agent)
            && is_reachable(repo, merged, best)?
        {
            best = merged;
        }
        at = parent;
    }
    Ok(best)
}

/// Which of `files` (relative to task `task`'s worktree) still hold a
/// conflict marker line (starting with `<<<<<<<` or `>>>>>>>`). A missing
/// file holds none. Called before fleetdeck takes a user's resolution.
pub fn files_with_markers(
    root: &Path,
    task: &str,
    files: &[String],
) -> Result<Vec<String>, GitError> {
    let (_, path) = open_task_worktree(root, task)?;
    let mut left = Vec::new();
    for file in files {
        let full = path.join(file);
        let bytes = match std::fs::read(&full) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).ctx(|| format!("read {}", full.display())),
        };
        let text = String::from_utf8_lossy(&bytes);
        if text
            .lines()
            .any(|l| l.starts_with("<<<<<<<") || l.starts_with(">>>>>>>"))
        {
            left.push(file.clone());
        }
    }
    Ok(left)
}

fn find(repo: &Repository, id: Oid) -> Result<Commit<'_>, GitError> {
    repo.find_commit(id).ctx(|| format!("read commit {id}"))
}

/// The highest-numbered `refs/fleet/updated/<task>/<n>` and its commit.
fn newest_save(repo: &Repository, task: &str) -> Result<Option<(u32, Oid)>, GitError> {
    let prefix = format!("refs/fleet/updated/{task}/");
    let refs = repo
        .references_glob(&format!("{prefix}*"))
        .ctx(|| format!("list {prefix}*"))?;
    let mut best: Option<(u32, Oid)> = None;
    for r in refs.flatten() {
        let n = r
            .name()
            .ok()
            .and_then(|name| name.strip_prefix(&prefix))
            .and_then(|n| n.parse::<u32>().ok());
        if let (Some(n), Some(id)) = (n, r.target())
            && best.is_none_or(|(b, _)| n > b)
        {
            best = Some((n, id));
        }
    }
    Ok(best)
}

/// Fails when tracked files of the worktree differ from HEAD (untracked
/// files, e.g. an agent's state, are left alone by the update).
fn refuse_changed_files(repo: &Repository, task: &str) -> Result<(), GitError> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(false).include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut opts))
        .ctx(|| format!("read the status of the worktree of {task}"))?;
    let files: Vec<String> = statuses
        .iter()
        .filter(|s| !s.status().is_empty())
        .filter_map(|s| s.path().ok().map(str::to_owned))
        .take(10)
        .collect();
    if files.is_empty() {
        Ok(())
    } else {
        Err(GitError::WorktreeChanged {
            task: task.to_owned(),
            files,
        })
    }
}

/// The conflicting paths of an in-memory merge, sorted, each once.
pub(super) fn conflict_paths(index: &Index) -> Result<Vec<String>, GitError> {
    let mut files: Vec<String> = Vec::new();
    for c in index.conflicts().ctx(|| "list the merge conflicts")? {
        let c = c.ctx(|| "read a merge conflict")?;
        let entry = c.our.or(c.their).or(c.ancestor);
        if let Some(e) = entry {
            files.push(String::from_utf8_lossy(&e.path).into_owned());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Moves `branch_ref` from `from` to `to` (compare-and-swap) and attaches HEAD to it.
fn move_branch(repo: &Repository, branch_ref: &str, from: Oid, to: Oid) -> Result<(), GitError> {
    if from != to {
        repo.reference_matching(
            branch_ref,
            to,
            true,
            from,
            "fleetdeck: update onto the target",
        )
        .ctx(|| format!("move {branch_ref} from {from} to {to}"))?;
    }
    if head_symbolic_target(repo)?.as_deref() != Some(branch_ref) {
        repo.set_head(branch_ref)
            .ctx(|| format!("point the worktree HEAD at {branch_ref}"))?;
    }
    Ok(())
}

/// Files and index of the worktree to `commit`'s tree (untracked files stay).
fn checkout_commit(repo: &Repository, commit: Oid) -> Result<(), GitError> {
    let tree = find(repo, commit)?
        .tree()
        .ctx(|| format!("read the tree of {commit}"))?;
    let mut checkout = CheckoutBuilder::new();
    checkout.force();
    repo.checkout_tree(tree.as_object(), Some(&mut checkout))
        .ctx(|| format!("update the worktree files to {commit}"))?;
    let mut index = repo.index().ctx(|| "open the worktree index")?;
    index
        .read_tree(&tree)
        .and_then(|()| index.write())
        .ctx(|| format!("reset the worktree index to {commit}"))?;
    repo.cleanup_state().ctx(|| "clean up repository state")
}

/// The worktree at `onto` (index too), then the merged files written over
/// it, the conflicting ones with markers labelled with the two branches.
fn checkout_merge(
    repo: &Repository,
    onto: Oid,
    merged: &mut Index,
    target: &str,
    branch: &str,
) -> Result<(), GitError> {
    checkout_commit(repo, onto)?;
    let mut checkout = CheckoutBuilder::new();
    checkout
        .force()
        .allow_conflicts(true)
        .conflict_style_merge(true)
        .update_index(false)
        .our_label(target)
        .their_label(branch);
    repo.checkout_index(Some(merged), Some(&mut checkout))
        .ctx(|| format!("write the merged files of {branch} with conflict markers"))?;
    // The index stays at `onto`: the markers are unstaged changes.
    let tree = find(repo, onto)?
        .tree()
        .ctx(|| format!("read the tree of {onto}"))?;
    let mut index = repo.index().ctx(|| "open the worktree index")?;
    index
        .read_tree(&tree)
        .and_then(|()| index.write())
        .ctx(|| format!("reset the worktree index to {onto}"))
}

/// For each conflicting path: the target's first-parent commits since
/// `base` that changed it, and the target's diff there.
fn describe_conflicts(
    repo: &Repository,
    onto: Oid,
    base: Option<Oid>,
    files: Vec<String>,
) -> Result<Vec<ConflictFile>, GitError> {
    let mut out: Vec<ConflictFile> = files
        .into_iter()
        .map(|path| ConflictFile {
            path,
            changed_by: Vec::new(),
            target_diff: String::new(),
        })
        .collect();
    let mut at = onto;
    for _ in 0..HISTORY_LIMIT {
        if base.is_some_and(|b| b == at) {
            break;
        }
        if let Some(b) = base
            && is_reachable(repo, b, at)?
        {
            break;
        }
        let commit = find(repo, at)?;
        let Ok(parent) = commit.parent(0) else {
            break;
        };
        let changed = changed_among(repo, Some(&parent), &commit, &out)?;
        let message = commit.message().unwrap_or_default();
        for i in changed {
            out[i].changed_by.push(TargetChange {
                commit: at,
                task: parse_trailers(message).map(|t| t.task),
                subject: commit
                    .summary()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        at = parent.id();
    }
    let base_tree = match base {
        Some(b) => Some(
            find(repo, b)?
                .tree()
                .ctx(|| format!("read the tree of {b}"))?,
        ),
        None => None,
    };
    let onto_tree = find(repo, onto)?
        .tree()
        .ctx(|| format!("read the tree of {onto}"))?;
    for file in &mut out {
        file.target_diff = file_diff(repo, base_tree.as_ref(), &onto_tree, &file.path)?;
    }
    Ok(out)
}

/// Indices of `files` whose path differs between `parent` and `commit`.
fn changed_among(
    repo: &Repository,
    parent: Option<&Commit>,
    commit: &Commit,
    files: &[ConflictFile],
) -> Result<Vec<usize>, GitError> {
    let old = match parent {
        Some(p) => Some(p.tree().ctx(|| format!("read the tree of {}", p.id()))?),
        None => None,
    };
    let new = commit
        .tree()
        .ctx(|| format!("read the tree of {}", commit.id()))?;
    let mut opts = DiffOptions::new();
    for f in files {
        opts.pathspec(&f.path);
    }
    opts.disable_pathspec_match(true);
    let diff = repo
        .diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut opts))
        .ctx(|| format!("diff {} against its parent", commit.id()))?;
    let paths = super::refs::diff_paths(&diff);
    Ok((0..files.len())
        .filter(|&i| paths.contains(&files[i].path))
        .collect())
}

/// The unified diff of `path` from `old` to `new`, at most [`DIFF_LINES`] lines.
fn file_diff(
    repo: &Repository,
    old: Option<&git2::Tree>,
    new: &git2::Tree,
    path: &str,
) -> Result<String, GitError> {
    let mut opts = DiffOptions::new();
    opts.pathspec(path).disable_pathspec_match(true);
    let diff = repo
        .diff_tree_to_tree(old, Some(new), Some(&mut opts))
        .ctx(|| format!("diff {path} on the target"))?;
    let mut lines: Vec<String> = Vec::new();
    let mut cut = 0usize;
    let printed = diff.print(DiffFormat::Patch, |_, _, line| {
        let text = String::from_utf8_lossy(line.content());
        let prefix = match line.origin() {
            c @ ('+' | '-' | ' ') => c.to_string(),
            _ => String::new(),
        };
        for l in format!("{prefix}{text}").lines() {
            if lines.len() < DIFF_LINES {
                lines.push(l.to_owned());
            } else {
                cut += 1;
            }
        }
        true
    });
    match printed {
        Ok(()) => {}
        Err(e) if e.code() == ErrorCode::User => {}
        Err(e) => return Err(e).ctx(|| format!("print the diff of {path}")),
    }
    if cut > 0 {
        lines.push(format!("[... {cut} more lines ...]"));
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
