//! Committing an attempt's result in its worktree, and rolling an
//! interrupted attempt back without losing its work.

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{Commit, ErrorCode, IndexAddOption, Oid, Repository};

use super::error::{Context, GitError};
use super::message::{attempt_message, author, committer, parse_trailers, saved_message};
use super::refs::head_symbolic_target;
use super::{Attribution, agent_ref, open_task_worktree, task_branch};

/// What [`commit_attempt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The attempt's work is the commit with this id (created now, or found
    /// already made by an earlier call).
    Committed(Oid),
    /// The worktree ended exactly where the attempt started: nothing to commit.
    NoChanges,
}

/// Records what an agent did once it has exited: stages every change in task
/// `attr.task`'s worktree (additions, modifications, deletions, untracked
/// files; `.gitignore`d files are left out) and commits it on top of `base`,
/// the branch head when the attempt started, with `attr`'s attribution.
///
/// - The new commit has exactly one parent, `base`, and the worktree's
///   current content as its tree. Commits the agent made by itself are thus
///   squashed; they stay reachable under `refs/fleet/agent/<task>/<attempt>`.
/// - [`CommitOutcome::NoChanges`] when that tree equals `base`'s tree; the
///   branch is then put back at `base` (agent commits still saved).
/// - Afterwards branch `fleet/<task>`, HEAD, the index and the files all agree
///   on the result.
/// - Idempotent: when HEAD already is an attributed commit of this task and
///   attempt whose only parent is `base` and the worktree is clean, returns
///   that commit, so a caller that crashed after committing can call again.
pub fn commit_attempt(
    root: &Path,
    base: Oid,
    attr: &Attribution,
) -> Result<CommitOutcome, GitError> {
    commit_attempt_excluding(root, base, attr, &[])
}

/// [`commit_attempt`], leaving out untracked paths that match one of
/// `exclude` (gitignore-style patterns: the agent's own state files, see
/// `AgentProfile::excludes`). A file the repository already tracks stays
/// tracked and its changes are committed even when a pattern matches it.
/// A worktree holding nothing but excluded files has
/// [`CommitOutcome::NoChanges`].
pub fn commit_attempt_excluding(
    root: &Path,
    base: Oid,
    attr: &Attribution,
    exclude: &[String],
) -> Result<CommitOutcome, GitError> {
    let (repo, _) = open_task_worktree(root, attr.task)?;
    let branch_ref = format!("refs/heads/{}", task_branch(attr.task));
    let head = head_commit_id(&repo)?;
    let tree_id = stage_excluding(&repo, base, exclude)?;
    let base_commit = repo
        .find_commit(base)
        .ctx(|| format!("read base commit {base}"))?;

    if head != base {
        let head_commit = repo
            .find_commit(head)
            .ctx(|| format!("read HEAD commit {head}"))?;
        if is_attempt_commit(&head_commit, base, attr) && head_commit.tree_id() == tree_id {
            attach_branch(&repo, &branch_ref, head)?;
            return Ok(CommitOutcome::Committed(head));
        }
        let saved = agent_ref(attr.task, attr.attempt);
        repo.reference(
            &saved,
            head,
            true,
            "fleetdeck: keep the agent's own commits",
        )
        .ctx(|| format!("save agent commits under {saved}"))?;
    }

    if tree_id == base_commit.tree_id() {
        attach_branch(&repo, &branch_ref, base)?;
        repo.cleanup_state().ctx(|| "clean up repository state")?;
        return Ok(CommitOutcome::NoChanges);
    }

    let tree = repo
        .find_tree(tree_id)
        .ctx(|| format!("read staged tree {tree_id}"))?;
    let new = repo
        .commit(
            None,
            &author(attr)?,
            &committer(&repo)?,
            &attempt_message(attr),
            &tree,
            &[&base_commit],
        )
        .ctx(|| format!("commit attempt {} of {}", attr.attempt, attr.task))?;
    attach_branch(&repo, &branch_ref, new)?;
    repo.cleanup_state().ctx(|| "clean up repository state")?;
    Ok(CommitOutcome::Committed(new))
}

/// Rolls task `attr.task`'s worktree back to `to` after an interrupted
/// attempt, so the attempt is not half-done twice, without losing its work.
///
/// When the worktree holds anything beyond `to` (commits on its branch,
/// staged, unstaged or untracked non-ignored files), all of it is first saved
/// as one commit under `save_ref` (e.g. [`interrupted_ref`](super::interrupted_ref)):
/// its tree is the worktree's content, its first parent the worktree's HEAD
/// (so the agent's commits stay reachable), plus the previous `save_ref`
/// commit if there was one (calling again never drops an earlier save; an
/// identical save is reused). Then branch `fleet/<task>`, HEAD, the index and
/// the files are hard-reset to `to` and untracked non-ignored files are
/// deleted; ignored files (build caches) stay.
///
/// Returns the saved commit, or `None` when there was nothing to save.
pub fn save_and_reset(
    root: &Path,
    to: Oid,
    save_ref: &str,
    attr: &Attribution,
) -> Result<Option<Oid>, GitError> {
    let (repo, _) = open_task_worktree(root, attr.task)?;
    let branch_ref = format!("refs/heads/{}", task_branch(attr.task));
    let head = head_commit_id(&repo)?;
    let tree_id = stage_all(&repo)?;
    let to_commit = repo
        .find_commit(to)
        .ctx(|| format!("read reset target {to}"))?;

    let saved = if head == to && tree_id == to_commit.tree_id() {
        None
    } else {
        Some(save_work(&repo, head, tree_id, to, save_ref, attr)?)
    };

    attach_branch(&repo, &branch_ref, to)?;
    let tree = to_commit.tree().ctx(|| format!("read the tree of {to}"))?;
    let mut checkout = CheckoutBuilder::new();
    checkout.force().remove_untracked(true);
    repo.checkout_tree(tree.as_object(), Some(&mut checkout))
        .ctx(|| format!("reset the worktree files to {to}"))?;
    let mut index = repo.index().ctx(|| "open the worktree index")?;
    if index.write_tree().ok() != Some(tree.id()) {
        index
            .read_tree(&tree)
            .and_then(|()| index.write())
            .ctx(|| format!("reset the worktree index to {to}"))?;
    }
    repo.cleanup_state().ctx(|| "clean up repository state")?;
    Ok(saved)
}

/// Commits `tree_id` under `save_ref` (see [`save_and_reset`]).
fn save_work(
    repo: &Repository,
    head: Oid,
    tree_id: Oid,
    to: Oid,
    save_ref: &str,
    attr: &Attribution,
) -> Result<Oid, GitError> {
    let previous = match repo.refname_to_id(save_ref) {
        Ok(id) => Some(id),
        Err(e) if e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(e).ctx(|| format!("read {save_ref}")),
    };
    let head_commit = repo
        .find_commit(head)
        .ctx(|| format!("read HEAD commit {head}"))?;
    let mut parents = vec![head_commit];
    if let Some(prev) = previous {
        let prev_commit = repo
            .find_commit(prev)
            .ctx(|| format!("read previous save {prev}"))?;
        if prev_commit.tree_id() == tree_id && prev_commit.parent_id(0).ok() == Some(head) {
            return Ok(prev);
        }
        if prev != head {
            parents.push(prev_commit);
        }
    }
    let tree = repo
        .find_tree(tree_id)
        .ctx(|| format!("read staged tree {tree_id}"))?;
    let parent_refs: Vec<&Commit> = parents.iter().collect();
    let saved = repo
        .commit(
            None,
            &author(attr)?,
            &committer(repo)?,
            &saved_message(attr, to, saved_why(save_ref)),
            &tree,
            &parent_refs,
        )
        .ctx(|| format!("save the work of {} attempt {}", attr.task, attr.attempt))?;
    repo.reference(save_ref, saved, true, "fleetdeck: save interrupted work")
        .ctx(|| format!("point {save_ref} at {saved}"))?;
    Ok(saved)
}

/// What a save under `save_ref` is, for its message: work a reviewer
/// rejected (`refs/fleet/discarded/...`), or an interrupted attempt's.
fn saved_why(save_ref: &str) -> &'static str {
    if save_ref.starts_with("refs/fleet/discarded/") {
        "rejected"
    } else {
        "interrupted"
    }
}

/// Stages everything in the worktree like `git add -A` (ignored files stay
/// out), writes the index and returns its tree.
fn stage_all(repo: &Repository) -> Result<Oid, GitError> {
    let mut index = repo.index().ctx(|| "open the worktree index")?;
    index
        .add_all(["*"], IndexAddOption::DEFAULT, None)
        .ctx(|| "stage new and modified files")?;
    index
        .update_all(["*"], None)
        .ctx(|| "stage deleted files")?;
    index.write().ctx(|| "write the worktree index")?;
    index.write_tree().ctx(|| "write the staged tree")
}

/// [`stage_all`] without the paths matching `exclude` that `base` does not
/// have: untracked ones are skipped (the patterns are in-memory ignore rules
/// of `repo`), and ones the agent committed by itself are taken out of the
/// index again. Paths `base` has stay, whatever the patterns.
pub(super) fn stage_excluding(
    repo: &Repository,
    base: Oid,
    exclude: &[String],
) -> Result<Oid, GitError> {
    if exclude.is_empty() {
        return stage_all(repo);
    }
    repo.add_ignore_rule(&exclude.join("\n"))
        .ctx(|| format!("use the exclude patterns {exclude:?}"))?;
    let staged = stage_all(repo)?;
    let base_tree = repo
        .find_commit(base)
        .and_then(|c| c.tree())
        .ctx(|| format!("read the tree of base commit {base}"))?;
    let mut index = repo.index().ctx(|| "open the worktree index")?;
    let added: Vec<String> = index
        .iter()
        .filter_map(|e| String::from_utf8(e.path).ok())
        .filter(|p| base_tree.get_path(Path::new(p)).is_err())
        .filter(|p| repo.is_path_ignored(p).unwrap_or(false))
        .collect();
    if added.is_empty() {
        return Ok(staged);
    }
    for path in &added {
        index
            .remove_path(Path::new(path))
            .ctx(|| format!("leave the excluded {path} out of the commit"))?;
    }
    index.write().ctx(|| "write the worktree index")?;
    index.write_tree().ctx(|| "write the staged tree")
}

/// The commit HEAD resolves to (attached or detached).
pub(super) fn head_commit_id(repo: &Repository) -> Result<Oid, GitError> {
    repo.head()
        .and_then(|h| h.peel_to_commit())
        .map(|c| c.id())
        .ctx(|| "resolve the worktree HEAD to a commit")
}

/// True when `commit` is this attempt's attributed commit on top of `base`.
fn is_attempt_commit(commit: &Commit, base: Oid, attr: &Attribution) -> bool {
    let parents: Vec<Oid> = commit.parent_ids().collect();
    parents == [base]
        && commit
            .message()
            .ok()
            .and_then(parse_trailers)
            .is_some_and(|t| t.task == attr.task && t.attempt == attr.attempt)
}

/// Points `branch_ref` at `oid` (compare-and-swap from its current value) and
/// makes HEAD a symbolic ref to it again (an agent may have detached HEAD or
/// switched branches). The index and files are not touched.
fn attach_branch(repo: &Repository, branch_ref: &str, oid: Oid) -> Result<(), GitError> {
    match repo.refname_to_id(branch_ref) {
        Ok(current) if current == oid => {}
        Ok(current) => {
            repo.reference_matching(branch_ref, oid, true, current, "fleetdeck: attempt result")
                .ctx(|| format!("move {branch_ref} from {current} to {oid}"))?;
        }
        Err(e) if e.code() == ErrorCode::NotFound => {
            repo.reference(branch_ref, oid, false, "fleetdeck: attempt result")
                .ctx(|| format!("create {branch_ref} at {oid}"))?;
        }
        Err(e) => return Err(e).ctx(|| format!("read {branch_ref}")),
    }
    if head_symbolic_target(repo)?.as_deref() != Some(branch_ref) {
        repo.set_head(branch_ref)
            .ctx(|| format!("point the worktree HEAD at {branch_ref}"))?;
    }
    Ok(())
}
