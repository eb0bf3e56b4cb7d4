//! Repairs made when the engine opens a fleet, before anything starts:
//! stale git locks a killed fleetdeck left behind are removed, and a task
//! branch `fleet/<id>` that was deleted is recreated where the store says it
//! was (issue 7). Each repair is logged and returned as a note for the
//! observers.

use std::path::Path;
use std::time::SystemTime;

use crate::core::{Status, Task};
use crate::git;
use crate::store::Store;

/// Runs the repairs for the fleet at `root` (the caller holds the fleet
/// lock and has killed its predecessor's leftover processes). `started` is
/// when this engine started: older locks cannot be this engine's. Returns
/// what a human should be told; a repair that fails is a note too.
pub(super) fn at_open(
    root: &Path,
    target: &str,
    store: &Store,
    tasks: &[Task],
    started: SystemTime,
) -> Vec<String> {
    let mut notes = Vec::new();
    let ids: Vec<&str> = tasks.iter().map(|t| t.spec.id.as_str()).collect();
    match git::sweep_stale_locks(root, &ids, target, started) {
        Ok(removed) => notes.extend(removed.iter().map(|p| {
            format!(
                "removed a stale git lock left by a killed git: {}",
                p.display()
            )
        })),
        Err(e) => notes.push(format!("could not remove stale git locks: {e}")),
    }
    for task in tasks {
        if let Some(note) = restore_branch(root, store, task) {
            tracing::warn!(task = task.spec.id.as_str(), "{note}");
            notes.push(note);
        }
    }
    notes
}

/// Recreates a deleted `fleet/<id>` of a task that has attempts and is not
/// finished, at its latest attempt's commit (the branch tip after the gate
/// committed: what review saw and what merges), else that attempt's base.
/// A task without attempts needs nothing: its first start creates the
/// branch from the target.
fn restore_branch(root: &Path, store: &Store, task: &Task) -> Option<String> {
    if matches!(task.status, Status::Done { .. } | Status::Dropped) {
        return None;
    }
    let id = task.spec.id.as_str();
    let branch = git::task_branch(id);
    match git::branch_tip(root, &branch) {
        Err(git::GitError::BranchNotFound { .. }) => {}
        _ => return None,
    }
    let latest = store.attempts(id).ok()?.into_iter().max_by_key(|a| a.n)?;
    let (from, what) = match (&latest.commit, &latest.base) {
        (Some(c), _) => (c, "its commit"),
        (None, Some(b)) => (b, "the commit it started from"),
        (None, None) => return None,
    };
    let note = match git::Oid::from_str(from).map(|oid| git::restore_branch(root, id, oid)) {
        Ok(Ok(_)) => format!(
            "branch {branch} had been deleted: recreated at attempt {}'s {what} {from}",
            latest.n
        ),
        Ok(Err(e)) => format!("branch {branch} had been deleted and could not be recreated: {e}"),
        Err(e) => format!(
            "branch {branch} had been deleted; attempt {} records `{from}`: {e}",
            latest.n
        ),
    };
    Some(note)
}
