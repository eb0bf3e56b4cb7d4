//! Branch lookups, ancestry and diffs between commits.

use std::collections::BTreeSet;
use std::path::Path;

use git2::{BranchType, Diff, ErrorCode, Oid, Repository};

use super::error::{Context, GitError};
use super::open;

/// The branch HEAD of the repository at `root` points at, as a short name
/// (`main`); `None` when HEAD is detached or the branch is unborn (no commit yet).
pub fn current_branch(root: &Path) -> Result<Option<String>, GitError> {
    let repo = open(root)?;
    head_branch(&repo)
}

/// The main working tree of the repository containing `start`. From inside
/// a linked worktree (one of fleetdeck's task worktrees, say) this is the
/// main repository's working tree, so every command finds the same fleet.
pub fn discover_root(start: &Path) -> Result<std::path::PathBuf, GitError> {
    let mut repo = git2::Repository::discover(start)
        .ctx(|| format!("find a git repository at or above {}", start.display()))?;
    if repo.is_worktree() {
        let common = repo.commondir().to_path_buf();
        repo = git2::Repository::open(&common)
            .ctx(|| format!("open repository {}", common.display()))?;
    }
    repo.workdir()
        .map(Path::to_path_buf)
        .ok_or_else(|| GitError::Bare {
            path: repo.path().to_path_buf(),
        })
}

/// Gets a repository ready to host a fleet, opening it once: `.fleet/` is
/// excluded, and the target branch (`configured`, else the branch checked
/// out) exists. Returns the target; None when HEAD is on no branch and no
/// target is configured.
pub fn prepare_fleet(root: &Path, configured: Option<&str>) -> Result<Option<String>, GitError> {
    let repo = open(root)?;
    super::worktree::exclude_in(&repo, root)?;
    let target = match configured {
        Some(t) => t.to_owned(),
        None => match head_branch(&repo)? {
            Some(b) => b,
            None => return Ok(None),
        },
    };
    local_branch_tip(&repo, &target)?;
    Ok(Some(target))
}

/// The tip of the local branch `branch` (short name, e.g. `main`) in the
/// repository at `root`; [`GitError::BranchNotFound`] when it does not exist.
pub fn branch_tip(root: &Path, branch: &str) -> Result<Oid, GitError> {
    let repo = open(root)?;
    local_branch_tip(&repo, branch)
}

/// The paths that differ between the trees of commits `from` and `to`
/// (added, modified, deleted, type-changed), sorted, each once. No rename
/// detection: a rename lists both the old and the new path.
pub fn changed_files(root: &Path, from: Oid, to: Oid) -> Result<Vec<String>, GitError> {
    let repo = open(root)?;
    let from_tree = commit_tree(&repo, from)?;
    let to_tree = commit_tree(&repo, to)?;
    let diff = repo
        .diff_tree_to_tree(Some(&from_tree), Some(&to_tree), None)
        .ctx(|| format!("diff {from}..{to}"))?;
    Ok(diff_paths(&diff))
}

/// Every path a diff touches (old and new side), sorted and deduplicated.
pub(crate) fn diff_paths(diff: &Diff<'_>) -> Vec<String> {
    let mut paths = BTreeSet::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = file.path() {
                paths.insert(path.to_string_lossy().into_owned());
            }
        }
    }
    paths.into_iter().collect()
}

/// Short name of the branch HEAD points at, if it is born.
pub(crate) fn head_branch(repo: &Repository) -> Result<Option<String>, GitError> {
    let Some(target) = head_symbolic_target(repo)? else {
        return Ok(None);
    };
    let Some(short) = target.strip_prefix("refs/heads/") else {
        return Ok(None);
    };
    match repo.find_reference(&target) {
        Ok(_) => Ok(Some(short.to_owned())),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).ctx(|| format!("read {target}")),
    }
}

/// The full ref name HEAD points at (`refs/heads/main`), born or not;
/// `None` when HEAD is detached.
pub(crate) fn head_symbolic_target(repo: &Repository) -> Result<Option<String>, GitError> {
    let head = repo.find_reference("HEAD").ctx(|| "read HEAD")?;
    let target = head.symbolic_target().ctx(|| "read HEAD's target")?;
    Ok(target.map(str::to_owned))
}

/// Tip commit of a local branch, or [`GitError::BranchNotFound`].
pub(crate) fn local_branch_tip(repo: &Repository, branch: &str) -> Result<Oid, GitError> {
    let found = match repo.find_branch(branch, BranchType::Local) {
        Ok(b) => b,
        Err(e) if e.code() == ErrorCode::NotFound || e.code() == ErrorCode::InvalidSpec => {
            return Err(GitError::BranchNotFound {
                branch: branch.to_owned(),
            });
        }
        Err(e) => return Err(e).ctx(|| format!("look up branch {branch}")),
    };
    let commit = found
        .get()
        .peel_to_commit()
        .ctx(|| format!("resolve branch {branch} to a commit"))?;
    Ok(commit.id())
}

/// The tree of commit `id`.
pub(crate) fn commit_tree(repo: &Repository, id: Oid) -> Result<git2::Tree<'_>, GitError> {
    repo.find_commit(id)
        .and_then(|c| c.tree())
        .ctx(|| format!("read the tree of commit {id}"))
}

/// True when `commit` is `tip` or one of its ancestors.
pub(crate) fn is_reachable(repo: &Repository, tip: Oid, commit: Oid) -> Result<bool, GitError> {
    if tip == commit {
        return Ok(true);
    }
    repo.graph_descendant_of(tip, commit)
        .ctx(|| format!("check whether {commit} is an ancestor of {tip}"))
}
