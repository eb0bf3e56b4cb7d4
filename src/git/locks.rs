//! Stale git lock files: a git process killed while it wrote the index or a
//! ref leaves `<file>.lock` behind, and every later write of that file fails
//! ("the index is locked") until someone removes it.
//!
//! fleetdeck removes the locks it could have left itself, and only when no
//! live process can be holding them: the engine holds the fleet lock (no
//! other fleetdeck runs for this fleet), and no process has its working
//! directory in the task's worktree. The user's own locks (the main index,
//! the target branch, `packed-refs`) are removed only when they are older
//! than this engine and, for the main index, no other process works in the
//! repository at all; otherwise they are left alone with a warning.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::error::{Context, GitError};
use super::{open, validate_task_id, worktree_path};

/// Removes the lock files of task `task` that nobody holds: everything
/// ending in `.lock` in its admin directory `.git/worktrees/<task>/` (the
/// worktree's index and HEAD), its branch ref lock
/// `refs/heads/fleet/<task>.lock`, and locks under `refs/fleet/*/<task>/`.
/// Does nothing while a process has its working directory in the task's
/// worktree. Called before every attempt of the task, when the previous
/// attempt's processes are gone. Returns the removed files.
pub fn clear_task_locks(root: &Path, task: &str) -> Result<Vec<PathBuf>, GitError> {
    validate_task_id(task)?;
    let repo = open(root)?;
    let wt = worktree_path(root, task);
    if let Some(pids) = processes_in(&wt)
        && !pids.is_empty()
    {
        tracing::warn!(
            task,
            ?pids,
            "processes still work in the worktree: its locks stay"
        );
        return Ok(Vec::new());
    }
    let common = repo.commondir().to_path_buf();
    let mut removed = Vec::new();
    remove_locks_in(
        &common.join("worktrees").join(task),
        false,
        None,
        &mut removed,
    )?;
    let branch_lock = common.join("refs/heads/fleet").join(format!("{task}.lock"));
    remove_lock(&branch_lock, None, &mut removed)?;
    if let Ok(kinds) = fs::read_dir(common.join("refs/fleet")) {
        for kind in kinds.flatten() {
            remove_locks_in(&kind.path().join(task), true, None, &mut removed)?;
        }
    }
    Ok(removed)
}

/// Removes, when the engine opens a fleet, the stale locks fleetdeck could
/// have left: [`clear_task_locks`] for every task in `tasks`, every lock
/// under `refs/heads/fleet/` and `refs/fleet/`, and, when older than
/// `started` (this engine's start), the lock of the target branch and
/// `packed-refs.lock`. The main `index.lock` (fleetdeck writes the main
/// index when it applies a merge) is removed only when it is older than
/// `started` and no process has it open (git holds a lock open while it
/// writes); otherwise it is left with a warning that names it. The
/// caller must hold the fleet lock. Returns the removed files.
pub fn sweep_stale_locks(
    root: &Path,
    tasks: &[&str],
    target: &str,
    started: SystemTime,
) -> Result<Vec<PathBuf>, GitError> {
    let repo = open(root)?;
    let common = repo.commondir().to_path_buf();
    let mut removed = Vec::new();
    for task in tasks {
        removed.extend(clear_task_locks(root, task)?);
    }
    remove_locks_in(&common.join("refs/heads/fleet"), true, None, &mut removed)?;
    remove_locks_in(&common.join("refs/fleet"), true, None, &mut removed)?;
    let target_lock = common.join("refs/heads").join(format!("{target}.lock"));
    remove_lock(&target_lock, Some(started), &mut removed)?;
    remove_lock(
        &common.join("packed-refs.lock"),
        Some(started),
        &mut removed,
    )?;
    let index_lock = common.join("index.lock");
    if index_lock.exists() {
        // git and libgit2 keep a lock open for as long as they hold it: one
        // that no process has open, older than this engine, was left by a
        // process that died (e.g. fleetdeck killed while updating your files).
        if held_open(&index_lock) == Some(false) {
            remove_lock(&index_lock, Some(started), &mut removed)?;
        }
        if index_lock.exists() {
            tracing::warn!(
                "{} exists: a git command may be running in your checkout; if none is, remove it (merges into it fail until then)",
                index_lock.display()
            );
        }
    }
    Ok(removed)
}

/// Removes the `*.lock` files directly in `dir` (and below it when `deep`),
/// those older than `older_than` when given.
fn remove_locks_in(
    dir: &Path,
    deep: bool,
    older_than: Option<SystemTime>,
    removed: &mut Vec<PathBuf>,
) -> Result<(), GitError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(()); // absent: nothing to remove
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && deep {
            remove_locks_in(&path, true, older_than, removed)?;
        } else if !is_dir && path.extension().is_some_and(|e| e == "lock") {
            remove_lock(&path, older_than, removed)?;
        }
    }
    Ok(())
}

/// Removes one lock file if it exists (and is older than `older_than`).
fn remove_lock(
    path: &Path,
    older_than: Option<SystemTime>,
    removed: &mut Vec<PathBuf>,
) -> Result<(), GitError> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    if let Some(limit) = older_than
        && meta.modified().is_ok_and(|m| m >= limit)
    {
        return Ok(());
    }
    match fs::remove_file(path) {
        Ok(()) => {
            tracing::warn!("removed a stale git lock: {}", path.display());
            removed.push(path.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).ctx(|| format!("remove the stale lock {}", path.display())),
    }
}

/// Processes other than this one whose working directory is `dir` or below
/// it; `None` when that cannot be known (no `/proc`).
fn processes_in(dir: &Path) -> Option<Vec<i32>> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let me = std::process::id() as i32;
    let entries = fs::read_dir("/proc").ok()?;
    let pids = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
        })
        .collect();
    Some(pids)
}

/// Whether any process (this one included) has `path` open; `None` when
/// that cannot be known (no `/proc`).
fn held_open(path: &Path) -> Option<bool> {
    let path = path.canonicalize().ok()?;
    let entries = fs::read_dir("/proc").ok()?;
    let open = entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .any(|e| {
            fs::read_dir(e.path().join("fd")).is_ok_and(|fds| {
                fds.flatten()
                    .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == path))
            })
        });
    Some(open)
}
