//! Task worktrees: `<root>/.fleet/worktrees/<id>` on branch `fleet/<id>`,
//! and the `.git/info/exclude` entry that keeps `.fleet/` out of `git status`.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use git2::{BranchType, ErrorCode, Oid, Repository, WorktreeAddOptions, WorktreePruneOptions};

use super::error::{Context, GitError};
use super::integrity;
use super::refs::{is_reachable, local_branch_tip};
use super::{open, task_branch, validate_task_id, worktree_path};

/// The line [`ensure_excluded`] appends to `.git/info/exclude`.
const EXCLUDE_LINE: &str = "/.fleet/";

/// A task's worktree as returned by [`ensure_worktree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    /// `<root>/.fleet/worktrees/<id>`.
    pub path: PathBuf,
    /// Short branch name, `fleet/<id>`.
    pub branch: String,
    /// Tip of the branch when the call returned: the target's tip for a new
    /// worktree, the branch's current tip for a reused or rebuilt one.
    pub head: Oid,
    /// True when the worktree was (re)created by this call, so it must match
    /// its HEAD exactly.
    pub created: bool,
}

/// Makes sure `<root>/.fleet/` is ignored by appending `/.fleet/` to the
/// repository's `info/exclude` (creating `info/` when missing). Does nothing
/// when the file already has that line (or `.fleet/`, `/.fleet`, `.fleet`).
/// Never edits tracked files such as `.gitignore`.
pub fn ensure_excluded(root: &Path) -> Result<(), GitError> {
    exclude_in(&open(root)?, root)
}

/// [`ensure_excluded`] on an open repository.
pub(crate) fn exclude_in(repo: &Repository, root: &Path) -> Result<(), GitError> {
    if repo.workdir().is_none() {
        return Err(GitError::Bare {
            path: root.to_path_buf(),
        });
    }
    let (exclude, content) = super::exclude::read_info_exclude(repo)?;
    let present = content
        .lines()
        .map(str::trim)
        .any(|l| matches!(l, "/.fleet/" | ".fleet/" | "/.fleet" | ".fleet"));
    if present {
        return Ok(());
    }
    let separator = if content.is_empty() || content.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&exclude)
        .and_then(|mut f| f.write_all(format!("{separator}{EXCLUDE_LINE}\n").as_bytes()))
        .ctx(|| format!("append {EXCLUDE_LINE} to {}", exclude.display()))
}

/// Serializes adding and removing worktrees within this process: libgit2
/// creates `.git/worktrees/` with a check-then-mkdir that fails when two
/// tasks start at the same moment, and `.git/info/exclude` is read-then-appended.
static WORKTREE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(super) fn worktree_lock() -> std::sync::MutexGuard<'static, ()> {
    WORKTREE_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates the worktree of task `task`, or reuses it when it already exists
/// and is valid. Called when a task starts (and again on every later attempt).
///
/// - Reused: the registration `task` is valid and points at
///   `<root>/.fleet/worktrees/<task>`; nothing changes and `head` is the tip
///   of `fleet/<task>` (recreated at the target's tip, with a warning, when
///   the branch was deleted).
/// - Rebuilt: the registration is valid but the worktree is not the task's
///   linked worktree on its branch, or it was never recorded as completely
///   created (the ready marker, see `integrity`) and does not match its HEAD:
///   what it holds is saved, then it is added again at the branch's tip.
/// - New: a stale registration (its directory is gone, or its admin files
///   are broken) is pruned first, and what is left of its directory is moved
///   to `.fleet/stale/`; branch `fleet/<task>` is created at the tip of
///   `target`, or, when it already exists, moved there after saving its old
///   tip under `refs/fleet/stale/<task>/<unix-time>` (unless the old tip is
///   already reachable from the target, so nothing would be lost).
///
/// Errors: [`GitError::WorktreeOccupied`] when the directory exists (non-empty)
/// without being the registered worktree, [`GitError::WorktreeElsewhere`]
/// when the name is registered for another live directory,
/// [`GitError::BranchNotFound`] when `target` does not exist.
pub fn ensure_worktree(root: &Path, task: &str, target: &str) -> Result<Worktree, GitError> {
    validate_task_id(task)?;
    let _serial = worktree_lock();
    ensure_excluded(root)?;
    let repo = open(root)?;
    let path = worktree_path(root, task);
    let branch = task_branch(task);

    let was_registered = match reuse_or_prune(&repo, task, &path)? {
        Registration::Valid => {
            let head = tip_or_recreate(&repo, task, &branch, target)?;
            if let Some(problem) = integrity::reuse_problem(&repo, root, task)? {
                return integrity::rebuild(&repo, root, task, &problem);
            }
            return Ok(Worktree {
                path,
                branch,
                head,
                created: false,
            });
        }
        Registration::Pruned => true,
        Registration::Absent => false,
    };
    if was_registered && path.exists() {
        // What is left of the task's own worktree: keep it, out of the way.
        integrity::move_aside(root, task, &path)?;
    } else {
        clear_empty_dir(task, &path)?;
    }
    let target_tip = local_branch_tip(&repo, target)?;
    point_branch_at(&repo, task, &branch, target, target_tip)?;
    let head = add_on_branch(&repo, task, &path, &branch)?;
    Ok(Worktree {
        path,
        branch,
        head,
        created: true,
    })
}

/// Adds the worktree `task` at `path` on the existing `branch`, then records
/// it as completely created (the ready marker holding the branch tip).
/// Returns that tip.
pub(super) fn add_on_branch(
    repo: &Repository,
    task: &str,
    path: &Path,
    branch: &str,
) -> Result<Oid, GitError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).ctx(|| format!("create {}", parent.display()))?;
    }
    let branch_ref = format!("refs/heads/{branch}");
    let reference = repo
        .find_reference(&branch_ref)
        .ctx(|| format!("read {branch_ref}"))?;
    let tip = reference
        .peel_to_commit()
        .ctx(|| format!("resolve {branch_ref} to a commit"))?
        .id();
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(&reference));
    repo.worktree(task, path, Some(&opts))
        .ctx(|| format!("add worktree {} on {branch}", path.display()))?;
    integrity::mark_ready(&integrity::admin_dir(repo, task), tip)?;
    Ok(tip)
}

/// Recreates branch `fleet/<task>` at `at` when it does not exist; returns
/// whether it did. Called when the engine opens a fleet whose task branch
/// was deleted, with the commit the store says the branch was at.
pub fn restore_branch(root: &Path, task: &str, at: Oid) -> Result<bool, GitError> {
    validate_task_id(task)?;
    let repo = open(root)?;
    let branch = task_branch(task);
    match local_branch_tip(&repo, &branch) {
        Ok(_) => return Ok(false),
        Err(GitError::BranchNotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    let commit = repo
        .find_commit(at)
        .ctx(|| format!("read commit {at} to recreate {branch}"))?;
    repo.branch(&branch, &commit, false)
        .ctx(|| format!("recreate branch {branch} at {at}"))?;
    Ok(true)
}

/// Removes task `task`'s worktree directory and its registration in
/// `.git/worktrees/`. The branch `fleet/<task>` stays. Does nothing for the
/// parts that are already gone. Called when a task is done or dropped.
pub fn remove_worktree(root: &Path, task: &str) -> Result<(), GitError> {
    validate_task_id(task)?;
    let _serial = worktree_lock();
    let repo = open(root)?;
    let path = worktree_path(root, task);
    if path.exists() {
        fs::remove_dir_all(&path).ctx(|| format!("remove {}", path.display()))?;
    }
    match repo.find_worktree(task) {
        Ok(wt) => {
            if same_path(wt.path(), &path) || !wt.path().exists() {
                let mut opts = WorktreePruneOptions::new();
                opts.valid(true);
                wt.prune(Some(&mut opts))
                    .ctx(|| format!("prune worktree registration `{task}`"))?;
            }
            Ok(())
        }
        Err(e) if e.code() == ErrorCode::NotFound => Ok(()),
        Err(e) => Err(e).ctx(|| format!("look up worktree `{task}`")),
    }
}

/// What [`reuse_or_prune`] found registered under the task's name.
enum Registration {
    /// A valid registration at the task's path: reuse it (after checks).
    Valid,
    /// A stale registration, now pruned: the directory, if any, was the task's.
    Pruned,
    /// No registration.
    Absent,
}

/// The tip of `branch`; when the branch was deleted, recreates it at the
/// target's tip first (with a warning).
fn tip_or_recreate(
    repo: &Repository,
    task: &str,
    branch: &str,
    target: &str,
) -> Result<Oid, GitError> {
    match local_branch_tip(repo, branch) {
        Err(GitError::BranchNotFound { .. }) => {
            let tip = local_branch_tip(repo, target)?;
            tracing::warn!(
                task,
                "branch {branch} was deleted: recreated at {target} ({tip})"
            );
            point_branch_at(repo, task, branch, target, tip)?;
            Ok(tip)
        }
        other => other,
    }
}

/// Finds the registration `task`: valid and at `path`, or stale (pruned
/// now, when its directory is gone or its files are broken), or absent.
fn reuse_or_prune(repo: &Repository, task: &str, path: &Path) -> Result<Registration, GitError> {
    let wt = match repo.find_worktree(task) {
        Ok(wt) => wt,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(Registration::Absent),
        Err(e) => {
            return match remove_incomplete_registration(repo, task)? {
                true => Ok(Registration::Pruned),
                false => Err(e).ctx(|| format!("look up worktree `{task}`")),
            };
        }
    };
    let valid = wt.validate().is_ok();
    if valid && same_path(wt.path(), path) {
        return Ok(Registration::Valid);
    }
    if valid && wt.path().exists() {
        return Err(GitError::WorktreeElsewhere {
            task: task.to_owned(),
            path: wt.path().to_path_buf(),
        });
    }
    let mut opts = WorktreePruneOptions::new();
    opts.valid(true);
    wt.prune(Some(&mut opts))
        .ctx(|| format!("prune stale worktree registration `{task}`"))?;
    Ok(Registration::Pruned)
}

/// The files libgit2 writes into `.git/worktrees/<id>/` when it adds a
/// worktree; without all of them the registration cannot be looked up.
const REGISTRATION_FILES: [&str; 3] = ["gitdir", "commondir", "HEAD"];

/// Removes `.git/worktrees/<task>/` when it lacks one of
/// [`REGISTRATION_FILES`]: what a process killed in the middle of adding the
/// worktree leaves (libgit2 then fails every lookup with a misleading error).
/// No attempt ever ran in such a worktree, so nothing of value is in it.
/// True when it removed one.
fn remove_incomplete_registration(repo: &Repository, task: &str) -> Result<bool, GitError> {
    let admin = repo.commondir().join("worktrees").join(task);
    if !admin.is_dir() || REGISTRATION_FILES.iter().all(|f| admin.join(f).is_file()) {
        return Ok(false);
    }
    tracing::warn!(
        task,
        "removing the incomplete worktree registration {} (left by a process killed while adding it)",
        admin.display()
    );
    fs::remove_dir_all(&admin).ctx(|| format!("remove {}", admin.display()))?;
    Ok(true)
}

/// Removes `path` if it is an empty directory; errors if it holds anything.
fn clear_empty_dir(task: &str, path: &Path) -> Result<(), GitError> {
    let mut entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(_) if path.exists() => {
            return Err(GitError::WorktreeOccupied {
                task: task.to_owned(),
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(e).ctx(|| format!("read {}", path.display())),
    };
    if entries.next().is_some() {
        return Err(GitError::WorktreeOccupied {
            task: task.to_owned(),
            path: path.to_path_buf(),
        });
    }
    fs::remove_dir(path).ctx(|| format!("remove empty {}", path.display()))
}

/// Creates `branch` at `tip`, or moves it there, first saving an old tip that
/// `tip` does not contain under `refs/fleet/stale/<task>/<unix-time>`.
fn point_branch_at(
    repo: &Repository,
    task: &str,
    branch: &str,
    target: &str,
    tip: Oid,
) -> Result<(), GitError> {
    let commit = repo
        .find_commit(tip)
        .ctx(|| format!("read commit {tip} of {target}"))?;
    let existing = match repo.find_branch(branch, BranchType::Local) {
        Ok(b) => Some(
            b.get()
                .peel_to_commit()
                .ctx(|| format!("resolve branch {branch}"))?
                .id(),
        ),
        Err(e) if e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(e).ctx(|| format!("look up branch {branch}")),
    };
    let Some(old) = existing else {
        repo.branch(branch, &commit, false)
            .ctx(|| format!("create branch {branch} at {tip}"))?;
        return Ok(());
    };
    if old == tip {
        return Ok(());
    }
    if !is_reachable(repo, tip, old)? {
        save_stale(repo, task, old)?;
    }
    let name = format!("refs/heads/{branch}");
    repo.reference_matching(
        &name,
        tip,
        true,
        old,
        &format!("fleetdeck: restart from {target}"),
    )
    .ctx(|| format!("move {branch} from {old} to {tip}"))?;
    Ok(())
}

/// Keeps `old` reachable under a fresh `refs/fleet/stale/<task>/<unix-time>[-n]`.
pub(super) fn save_stale(repo: &Repository, task: &str, old: Oid) -> Result<(), GitError> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!("refs/fleet/stale/{task}/{secs}");
    for n in 0..1000u32 {
        let name = if n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        match repo.reference(&name, old, false, "fleetdeck: save stale task branch") {
            Ok(_) => return Ok(()),
            Err(e) if e.code() == ErrorCode::Exists => continue,
            Err(e) => return Err(e).ctx(|| format!("create {name}")),
        }
    }
    Err(git2::Error::from_str(
        "too many stale refs in the same second",
    ))
    .ctx(|| format!("save old tip {old} under {base}"))
}

/// Compares two paths after resolving symlinks (falls back to plain equality).
pub(super) fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
