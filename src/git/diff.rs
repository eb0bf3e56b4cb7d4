//! What a task changed: the files of branch `fleet/<task>` compared with its
//! merge base on the target branch, with their full old and new contents,
//! for the diff viewer.

use std::path::Path;

use git2::{Delta, DiffFile, DiffFindOptions, FileMode, Oid, Repository};

use super::error::{Context, GitError};
use super::refs::{commit_tree, local_branch_tip};
use super::{open, task_branch, validate_task_id};

/// One file a task changed, with both sides' contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The path on the task's side (the old path when the file was deleted).
    pub path: String,
    /// The path on the merge-base side when the file was renamed; `None`
    /// otherwise.
    pub old_path: Option<String>,
    /// The content at the merge base, decoded lossily as UTF-8; `None` when
    /// the file did not exist there (added) or is binary.
    pub old: Option<String>,
    /// The content on the task branch, decoded lossily as UTF-8; `None` when
    /// the file was deleted or is binary.
    pub new: Option<String>,
    /// True when either side is binary (git's heuristic: a NUL byte near the
    /// start) or is a submodule commit; neither side's text is then kept.
    pub binary: bool,
}

/// The changes of branch `fleet/<task>` since it forked from `target`.
///
/// The branch tip is compared with the merge base of the branch and
/// `target`, so commits that landed on `target` after the task branched do
/// not show up. Renames are detected (git2's `find_similar`). Files come
/// sorted by path. Only committed work is compared, not the worktree.
///
/// Fails with [`GitError::InvalidTaskId`] for a bad id,
/// [`GitError::BranchNotFound`] when either branch is missing, and
/// [`GitError::Git`] when the branches share no history or a read fails.
pub fn task_changes(root: &Path, task: &str, target: &str) -> Result<Vec<FileChange>, GitError> {
    validate_task_id(task)?;
    let repo = open(root)?;
    let branch = task_branch(task);
    let tip = local_branch_tip(&repo, &branch)?;
    let target_tip = local_branch_tip(&repo, target)?;
    let base = repo
        .merge_base(tip, target_tip)
        .ctx(|| format!("find the merge base of {branch} and {target}"))?;
    changes_between(&repo, base, tip, &format!("{base}..{branch}"))
}

/// What task merge `commit` brought into the target: the commit compared
/// with its first parent (the target before the merge). Right for every
/// merge style: a merge commit, a squash or a rebased commit all have the
/// target's previous tip as their first parent. For a Done task, whose
/// branch may be gone or merged (its own diff then empty).
///
/// Fails with [`GitError::Git`] when `commit` is not a commit of the
/// repository, has no parent, or a read fails.
pub fn merged_changes(root: &Path, commit: &str) -> Result<Vec<FileChange>, GitError> {
    let repo = open(root)?;
    let oid = Oid::from_str(commit).ctx(|| format!("read the merge commit id `{commit}`"))?;
    let merged = repo
        .find_commit(oid)
        .ctx(|| format!("find the merge commit {commit}"))?;
    let before = merged
        .parent_id(0)
        .ctx(|| format!("find the target before merge {commit} (its first parent)"))?;
    changes_between(&repo, before, oid, &format!("{before}..{commit}"))
}

/// The files that differ between commits `base` and `tip`, renames
/// detected, sorted by path; `label` names the range in errors.
/// A task's work for the reviewer: the unified diff (patch text) of
/// `commit` against its merge base with `target`, and the paths it
/// changed. Binary files are named, not shown.
pub fn review_diff(
    root: &Path,
    commit: &str,
    target: &str,
) -> Result<(String, Vec<String>), GitError> {
    let repo = open(root)?;
    let tip = Oid::from_str(commit).ctx(|| format!("read commit id {commit}"))?;
    let target_tip = local_branch_tip(&repo, target)?;
    let base = repo
        .merge_base(tip, target_tip)
        .ctx(|| format!("find the merge base of {commit} and {target}"))?;
    let (base_tree, tip_tree) = (commit_tree(&repo, base)?, commit_tree(&repo, tip)?);
    let diff = repo
        .diff_tree_to_tree(Some(&base_tree), Some(&tip_tree), None)
        .ctx(|| format!("diff {base}..{commit}"))?;
    let mut text = String::new();
    diff.print(git2::DiffFormat::Patch, |_, _, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            text.push(line.origin());
        }
        text.push_str(&String::from_utf8_lossy(line.content()));
        true
    })
    .ctx(|| format!("print the diff {base}..{commit}"))?;
    let paths = diff
        .deltas()
        .filter_map(|d| d.new_file().path().or(d.old_file().path()))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    Ok((text, paths))
}

fn changes_between(
    repo: &Repository,
    base: Oid,
    tip: Oid,
    label: &str,
) -> Result<Vec<FileChange>, GitError> {
    let base_tree = commit_tree(repo, base)?;
    let tip_tree = commit_tree(repo, tip)?;
    let mut diff = repo
        .diff_tree_to_tree(Some(&base_tree), Some(&tip_tree), None)
        .ctx(|| format!("diff {label}"))?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .ctx(|| format!("detect renames in {label}"))?;

    let mut changes = Vec::with_capacity(diff.deltas().len());
    for delta in diff.deltas() {
        let old_file = delta.old_file();
        let new_file = delta.new_file();
        let (old_side, new_side) = match delta.status() {
            Delta::Added | Delta::Untracked => (None, Some(&new_file)),
            Delta::Deleted => (Some(&old_file), None),
            Delta::Unmodified | Delta::Ignored => continue,
            _ => (Some(&old_file), Some(&new_file)),
        };
        let path = file_path(new_side.or(old_side));
        let old_path = match delta.status() {
            Delta::Renamed | Delta::Copied => Some(file_path(Some(&old_file))),
            _ => None,
        };
        let old = read_side(repo, old_side)?;
        let new = read_side(repo, new_side)?;
        let binary = old.is_binary() || new.is_binary();
        changes.push(FileChange {
            path,
            old_path,
            old: if binary { None } else { old.into_text() },
            new: if binary { None } else { new.into_text() },
            binary,
        });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// One side of a changed file as read from the object database.
enum Side {
    /// The file does not exist on this side.
    Absent,
    /// Binary content or a submodule commit: no text.
    Binary,
    /// Text, decoded lossily.
    Text(String),
}

impl Side {
    fn is_binary(&self) -> bool {
        matches!(self, Side::Binary)
    }

    fn into_text(self) -> Option<String> {
        match self {
            Side::Text(text) => Some(text),
            Side::Absent | Side::Binary => None,
        }
    }
}

/// The path of a diff side, lossily decoded (empty when git gave none).
fn file_path(file: Option<&DiffFile<'_>>) -> String {
    file.and_then(|f| f.path().map(|p| p.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// Reads one side of a delta from the object database.
fn read_side(repo: &Repository, file: Option<&DiffFile<'_>>) -> Result<Side, GitError> {
    let Some(file) = file else {
        return Ok(Side::Absent);
    };
    if file.id() == Oid::ZERO_SHA1 {
        return Ok(Side::Absent);
    }
    if file.mode() == FileMode::Commit {
        // A submodule: the "content" is a commit in another repository.
        return Ok(Side::Binary);
    }
    let id = file.id();
    let blob = repo
        .find_blob(id)
        .ctx(|| format!("read blob {id} ({})", file_path(Some(file))))?;
    if blob.is_binary() {
        return Ok(Side::Binary);
    }
    Ok(Side::Text(
        String::from_utf8_lossy(blob.content()).into_owned(),
    ))
}

/// The paths a task's worktree differs in from the merge base of its branch
/// and `target`: committed, staged, modified and untracked (not ignored)
/// files, sorted. What an attempt (possibly stopped half-way) has touched.
pub fn worktree_changed_paths(
    root: &Path,
    task: &str,
    target: &str,
) -> Result<Vec<String>, GitError> {
    let (wt, path) = super::open_task_worktree(root, task)?;
    let main = open(root)?;
    let head = wt
        .head()
        .and_then(|h| h.peel_to_commit())
        .ctx(|| format!("read HEAD of {}", path.display()))?;
    let target_tip = local_branch_tip(&main, target)?;
    let base = wt
        .merge_base(head.id(), target_tip)
        .ctx(|| format!("find the merge base of {} and {target}", task_branch(task)))?;
    let base_tree = commit_tree(&wt, base)?;
    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let diff = wt
        .diff_tree_to_workdir_with_index(Some(&base_tree), Some(&mut opts))
        .ctx(|| format!("diff {} against {base}", path.display()))?;
    let mut paths: Vec<String> = diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect();
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// What task `task`'s worktree holds beyond its HEAD, with the files' current
/// contents: for a task whose update conflicted, whose branch is the target's
/// tip and whose work (with the conflict markers) is only in the worktree.
/// Modified, added, deleted and untracked (not ignored) files, sorted by path;
/// the new side is read from the files themselves.
///
/// Fails with [`GitError::InvalidTaskId`] for a bad id, or when the worktree
/// cannot be opened or read.
pub fn worktree_changes(root: &Path, task: &str) -> Result<Vec<FileChange>, GitError> {
    validate_task_id(task)?;
    let (wt, path) = super::open_task_worktree(root, task)?;
    let head = wt
        .head()
        .and_then(|h| h.peel_to_commit())
        .ctx(|| format!("read HEAD of {}", path.display()))?;
    let head_tree = head
        .tree()
        .ctx(|| format!("read the tree of HEAD of {}", path.display()))?;
    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let diff = wt
        .diff_tree_to_workdir_with_index(Some(&head_tree), Some(&mut opts))
        .ctx(|| format!("diff {} against its HEAD", path.display()))?;
    let mut changes = Vec::with_capacity(diff.deltas().len());
    for delta in diff.deltas() {
        let (old_file, new_file) = (delta.old_file(), delta.new_file());
        let old_side = match delta.status() {
            Delta::Added | Delta::Untracked => None,
            Delta::Unmodified | Delta::Ignored => continue,
            _ => Some(&old_file),
        };
        let file = match file_path(Some(&new_file)) {
            p if p.is_empty() => file_path(Some(&old_file)),
            p => p,
        };
        let old = read_side(&wt, old_side)?;
        let new = match std::fs::read(path.join(&file)) {
            Ok(bytes) if bytes.iter().take(8000).any(|b| *b == 0) => Side::Binary,
            Ok(bytes) => Side::Text(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Side::Absent,
            Err(e) => {
                return Err(GitError::Io {
                    what: format!("read {}", path.join(&file).display()),
                    source: e,
                });
            }
        };
        let binary = old.is_binary() || new.is_binary();
        changes.push(FileChange {
            path: file,
            old_path: None,
            old: if binary { None } else { old.into_text() },
            new: if binary { None } else { new.into_text() },
            binary,
        });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}
