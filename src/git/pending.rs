//! The durable record of a checkout update in flight, so that a merge
//! interrupted between moving the target ref and updating the user's files
//! is finished on the next start.
//!
//! [`merge_task`](super::merge_task) writes `.fleet/pending-checkout.json`
//! (fsync'd, mode 0600) right before the compare-and-swap of the target ref,
//! and removes it once the checkout holds the merge. When the process dies in
//! between, the checkout shows the merged paths as staged reversions;
//! [`finish_pending_checkout`] (called when the engine opens) brings exactly
//! those paths to the target's tree where the user has not touched them since.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, Tree};
use serde::{Deserialize, Serialize};

use super::checkout::{apply, target_is_checked_out};
use super::error::{Context, GitError};
use super::open;
use super::refs::{commit_tree, is_reachable, local_branch_tip};

/// The record's file name inside `.fleet/`.
pub const PENDING_CHECKOUT_FILE: &str = "pending-checkout.json";

/// The environment variable of the crash test hook (see [`crash_point`]).
pub const CRASH_AT_ENV: &str = "FLEETDECK_CRASH_AT";

/// A moment inside a merge where the crash tests kill the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrashPoint {
    /// The record is written, the target ref has not moved yet.
    Recorded,
    /// The target ref moved, the checkout is not updated yet.
    RefMoved,
}

impl CrashPoint {
    fn name(self) -> &'static str {
        match self {
            CrashPoint::Recorded => "merge-recorded",
            CrashPoint::RefMoved => "merge-ref-moved",
        }
    }
}

/// Test hook: when `FLEETDECK_CRASH_AT` names `point` (`merge-recorded`,
/// `merge-ref-moved`), the process kills itself with SIGKILL here, exactly as
/// a crash at that moment would. Does nothing otherwise.
pub(crate) fn crash_point(point: CrashPoint) {
    if std::env::var_os(CRASH_AT_ENV).is_some_and(|v| v == point.name()) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        std::process::abort();
    }
}

/// A checkout update about to happen, as recorded on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The target branch (short name).
    pub target: String,
    /// The target tip the merge was computed on (hex).
    pub old_tip: String,
    /// The merge commit the target moves to (hex).
    pub commit: String,
    /// The paths the merge changes.
    pub paths: Vec<String>,
}

/// Where the record of the repository whose working tree is `workdir` lives.
fn record_path(workdir: &Path) -> PathBuf {
    workdir.join(".fleet").join(PENDING_CHECKOUT_FILE)
}

/// Writes the record durably: to a temporary file (0600), fsync'd, renamed
/// over the record, and the directory fsync'd. Called before the target moves.
pub(crate) fn record(workdir: &Path, pending: &Pending) -> Result<(), GitError> {
    let path = record_path(workdir);
    let dir = workdir.join(".fleet");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ctx(|| format!("create {}", dir.display()))?;
    let json = serde_json::to_vec(pending).map_err(|e| GitError::PendingCheckout {
        path: path.clone(),
        problem: e.to_string(),
    })?;
    let tmp = dir.join(format!("{PENDING_CHECKOUT_FILE}.tmp"));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .ctx(|| format!("create {}", tmp.display()))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .ctx(|| format!("write {}", tmp.display()))?;
    fs::rename(&tmp, &path).ctx(|| format!("rename {} to {}", tmp.display(), path.display()))?;
    sync_dir(&dir)
}

/// Removes the record (if any) durably. Called once the checkout holds the merge.
pub(crate) fn clear(workdir: &Path) -> Result<(), GitError> {
    let path = record_path(workdir);
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(&workdir.join(".fleet")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).ctx(|| format!("remove {}", path.display())),
    }
}

fn sync_dir(dir: &Path) -> Result<(), GitError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx(|| format!("sync directory {}", dir.display()))
}

/// What [`finish_pending_checkout`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingCheckout {
    /// No merge was interrupted.
    None,
    /// A merge was interrupted before the target moved: nothing had changed.
    NotMerged {
        /// The target branch.
        target: String,
    },
    /// A merge moved the target and was interrupted before the checkout was
    /// updated; the update is finished now.
    Finished {
        /// The target branch.
        target: String,
        /// The interrupted merge.
        commit: Oid,
        /// Paths brought to the target's tree.
        updated: Vec<String>,
        /// Paths the user changed since: left alone (they still hold what
        /// the user made of them).
        kept: Vec<String>,
    },
    /// The target no longer contains the interrupted merge (it was reset) or
    /// is no longer checked out: the checkout was left alone.
    Abandoned {
        /// The target branch.
        target: String,
        /// The interrupted merge.
        commit: Oid,
    },
}

impl PendingCheckout {
    /// What the user should be told, or `None` when nothing was interrupted
    /// or nothing had changed.
    pub fn message(&self) -> Option<String> {
        match self {
            PendingCheckout::None | PendingCheckout::NotMerged { .. } => None,
            PendingCheckout::Finished {
                target,
                commit,
                updated,
                kept,
            } => {
                let mut text = format!(
                    "finished updating your checkout after an interrupted merge into `{target}` ({commit}): {} file(s) updated",
                    updated.len()
                );
                if !kept.is_empty() {
                    text.push_str(&format!(
                        "; left alone because you changed them since: {} (they differ from `{target}`: see `git diff HEAD -- <file>`)",
                        kept.join(", ")
                    ));
                }
                Some(text)
            }
            PendingCheckout::Abandoned { target, commit } => Some(format!(
                "a merge into `{target}` ({commit}) was interrupted, but `{target}` no longer contains it or is not checked out: your checkout was left as it is"
            )),
        }
    }
}

/// Finishes a checkout update that an interrupted merge left pending in the
/// repository at `root` (its main working tree), idempotently. Call before
/// anything else merges (the engine does when it opens).
///
/// When the target contains the recorded merge commit and is still checked
/// out, each recorded path is brought to the target tip's tree if the user's
/// file and index entry still hold the old tip's or the new content; any
/// other path is left alone and listed in `kept`. When the target never
/// moved, the record is just removed.
pub fn finish_pending_checkout(root: &Path) -> Result<PendingCheckout, GitError> {
    let repo = open(root)?;
    let _serial = super::merge::merge_lock();
    finish_locked(&repo)
}

/// [`finish_pending_checkout`] for a caller that holds the merge lock.
pub(crate) fn finish_locked(repo: &Repository) -> Result<PendingCheckout, GitError> {
    let Some(root) = repo.workdir() else {
        return Ok(PendingCheckout::None);
    };
    let path = record_path(root);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PendingCheckout::None),
        Err(e) => return Err(e).ctx(|| format!("read {}", path.display())),
    };
    let corrupt = |problem: String| GitError::PendingCheckout {
        path: path.clone(),
        problem,
    };
    let pending: Pending = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let oid = |hex: &str| Oid::from_str(hex).map_err(|e| corrupt(e.to_string()));
    let (old_tip, commit) = (oid(&pending.old_tip)?, oid(&pending.commit)?);
    let outcome = finish(repo, &pending, old_tip, commit)?;
    clear(root)?;
    Ok(outcome)
}

/// See [`finish_pending_checkout`].
fn finish(
    repo: &Repository,
    pending: &Pending,
    old_tip: Oid,
    commit: Oid,
) -> Result<PendingCheckout, GitError> {
    let target = pending.target.clone();
    let tip = match local_branch_tip(repo, &target) {
        Ok(tip) => tip,
        Err(GitError::BranchNotFound { .. }) => {
            return Ok(PendingCheckout::Abandoned { target, commit });
        }
        Err(e) => return Err(e),
    };
    if tip == old_tip {
        return Ok(PendingCheckout::NotMerged { target });
    }
    let contains = repo.find_commit(commit).is_ok() && is_reachable(repo, tip, commit)?;
    if !contains || !target_is_checked_out(repo, &target)? {
        return Ok(PendingCheckout::Abandoned { target, commit });
    }
    let old_tree = commit_tree(repo, old_tip)?;
    let new_tree = commit_tree(repo, tip)?;
    let index = repo.index().ctx(|| "open the checkout's index")?;
    let workdir = repo.workdir().unwrap_or(repo.path());
    let (mut updated, mut kept) = (Vec::new(), Vec::new());
    for path in &pending.paths {
        let old = blob_at(&old_tree, path);
        let new = blob_at(&new_tree, path);
        let staged = index_blob(&index, path);
        let on_disk = disk_blob(workdir, path);
        let untouched = |side: &Side| *side == old || *side == new;
        // libgit2 writes a file in place (truncate, then write) and may
        // remove it first: a kill in between leaves it empty or gone while
        // the index still holds a side. That is our half-done write, and no
        // content of the user's is in it.
        let half_written = matches!(on_disk, Side::Absent) || on_disk == empty_blob();
        if untouched(&staged) && (untouched(&on_disk) || half_written) {
            updated.push(path.clone());
        } else {
            kept.push(path.clone());
        }
    }
    apply(repo, &new_tree, &updated).map_err(|source| GitError::CheckoutUpdate {
        target: target.clone(),
        commit,
        files: updated.clone(),
        source,
    })?;
    tracing::info!(
        target = target.as_str(),
        %commit,
        updated = updated.len(),
        ?kept,
        "finished the checkout update of an interrupted merge"
    );
    Ok(PendingCheckout::Finished {
        target,
        commit,
        updated,
        kept,
    })
}

/// A path's content on one side: absent, a blob, or something that is no blob.
#[derive(Debug, PartialEq, Eq)]
enum Side {
    Absent,
    Blob(Oid),
    Other,
}

/// The id of the empty blob.
fn empty_blob() -> Side {
    Oid::hash_object(ObjectType::Blob, b"").map_or(Side::Other, Side::Blob)
}

fn blob_at(tree: &Tree<'_>, path: &str) -> Side {
    match tree.get_path(Path::new(path)) {
        Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Side::Blob(entry.id()),
        Ok(_) => Side::Other,
        Err(_) => Side::Absent,
    }
}

fn index_blob(index: &git2::Index, path: &str) -> Side {
    if let Some(entry) = index.get_path(Path::new(path), 0) {
        return Side::Blob(entry.id);
    }
    // A conflict (stages 1-3) is the user's business.
    let conflicted = (1..=3).any(|stage| index.get_path(Path::new(path), stage).is_some());
    if conflicted {
        Side::Other
    } else {
        Side::Absent
    }
}

fn disk_blob(workdir: &Path, path: &str) -> Side {
    let full = workdir.join(path);
    let Ok(meta) = full.symlink_metadata() else {
        return Side::Absent;
    };
    let hashed = if meta.file_type().is_symlink() {
        fs::read_link(&full).ok().and_then(|target| {
            let bytes = target.as_os_str().as_encoded_bytes().to_vec();
            Oid::hash_object(ObjectType::Blob, &bytes).ok()
        })
    } else if meta.is_file() {
        Oid::hash_file(ObjectType::Blob, &full).ok()
    } else {
        None
    };
    hashed.map_or(Side::Other, Side::Blob)
}
