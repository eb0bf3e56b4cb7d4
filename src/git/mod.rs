//! The git layer: task worktrees, attributed commits and safe merges.
//!
//! Built on `git2`, synchronous, with no UI or async types: the runtime calls
//! these functions through `spawn_blocking`. Every function opens its own
//! [`git2::Repository`], so calls for different tasks may run on different
//! threads at the same time.
//!
//! Layout of what fleetdeck keeps in the user's repository (`root`):
//! - `<root>/.fleet/` is ignored through `.git/info/exclude` ([`ensure_excluded`]);
//!   the user's tracked files such as `.gitignore` are never edited.
//! - Task `<id>` works in the worktree `<root>/.fleet/worktrees/<id>` (registered
//!   as `<id>` in `.git/worktrees/`) on branch `fleet/<id>` ([`ensure_worktree`]).
//! - `refs/fleet/agent/<id>/<attempt>`: commits an agent made by itself, kept
//!   reachable after [`commit_attempt`] squashed them.
//! - `refs/fleet/interrupted/<id>/<attempt>` (by convention, see
//!   [`interrupted_ref`]): work saved by [`save_and_reset`].
//! - `refs/fleet/updated/<id>/<n>`: the branch tip before the `n`th update
//!   onto the target ([`update_task`]).
//! - `refs/fleet/stale/<id>/<unix-time>`: an old `fleet/<id>` tip saved when
//!   the branch was moved to start the task afresh.
//! - `refs/fleet/merged/<id>/<tip>`, `refs/fleet/dropped/<id>/<tip>`: the
//!   branch tip of a done or dropped task, saved before `fleetdeck gc`
//!   deleted its branch; `refs/fleet/dropped/<id>/<commit>` also holds a
//!   dropped task's uncommitted changes (with its branch) saved before its
//!   worktree was removed ([`save_task_work`]).
//! - `refs/fleet/split/<id>`: the same for a task that was split, where its
//!   parts inherit it from ([`hand_over`]).
//! - `<root>/.fleet/pending-checkout.json`: exists only while a merge updates
//!   the user's checkout (or after a crash in the middle of it).
//!
//! Modules:
//! - `error`: [`GitError`] and the context helpers.
//! - `message`: commit messages, signatures and the `Fleet-*` trailers.
//! - `refs`: branch lookups and diffs between commits.
//! - `diff`: a task's changed files with both sides' contents, for the diff viewer.
//! - `worktree`: creating, reusing and removing task worktrees.
//! - `integrity`: the ready marker, checking a worktree before an agent
//!   starts in it, and rebuilding a damaged one.
//! - `locks`: removing the stale lock files a killed git left behind.
//! - `commit`: committing an attempt and rolling an interrupted one back.
//! - `merge`: merging a task branch into the target with compare-and-swap.
//! - `update`: bringing a task branch onto the target tip in its worktree.
//! - `checkout`: refusing or applying a merge in the user's checkout.
//! - `pending`: the durable record of a checkout update in flight, finished
//!   after a crash ([`finish_pending_checkout`]).
//! - `gc`: what cleanup may remove of done and dropped tasks, and removing
//!   it ([`plan_gc`], [`remove_gc`]).
//! - `scratch`: the supervisor's detached scratch worktree at the target's
//!   tip (`.fleet/scratch/supervisor`), and the repository facts for its prompt.
//! - `handoff`: a dropped or split task's work saved before its worktree
//!   goes, and handed to the parts of a split task.
//! - `history`: what git remembers of a fleet without the database: task
//!   merges on the target, `fleet/*` branches, saved refs ([`scan_fleet`]).

mod checkout;
mod commit;
mod diff;
pub mod error;
mod exclude;
mod gc;
#[cfg(test)]
mod gc_tests;
mod handoff;
mod history;
mod integrate;
mod integrity;
mod locks;
mod merge;
#[cfg(test)]
mod merge_tests;
mod message;
mod pending;
mod refs;
mod scratch;
#[cfg(test)]
mod test_repo;
mod update;
mod worktree;

use std::path::{Path, PathBuf};

use git2::Repository;

pub use commit::{CommitOutcome, commit_attempt, commit_attempt_excluding, save_and_reset};
pub use diff::{
    FileChange, merged_changes, review_diff, task_changes, worktree_changed_paths, worktree_changes,
};
pub use error::GitError;
pub use exclude::exclude_patterns;
pub use gc::{GcPlan, GcTask, GcTaskState, KeepReason, Kept, Removal, Safe, plan_gc, remove_gc};
pub use git2::Oid;
pub use handoff::{
    Handoff, SaveAs, SavedWork, candidate_ref, hand_over, save_candidate_work, save_task_work,
    split_ref,
};
pub use history::{FleetScan, MergedTask, TaskBranch, scan_fleet};
pub use integrate::{IntegrateOutcome, group_worktree_path, integrate_group, land_group};
pub use integrity::{Expect, READY_FILE, WorktreeProblem, ensure_intact, verify_worktree};
pub use locks::{clear_task_locks, sweep_stale_locks};
pub use merge::{MergeOutcome, merge_task, merge_task_at, merge_task_with};
pub use message::{FleetTrailers, parse_trailers};
pub use pending::{CRASH_AT_ENV, PENDING_CHECKOUT_FILE, PendingCheckout, finish_pending_checkout};
pub use refs::{branch_tip, changed_files, current_branch, discover_root, prepare_fleet};
pub use scratch::{
    RepoFacts, SCRATCH_NAME, Scratch, discard_scratch_changes, prepare_review_scratch,
    prepare_scratch, remove_review_scratch, repo_facts, review_scratch_path, scratch_path,
};
pub use update::{
    ConflictFile, TargetChange, UpdateOutcome, files_with_markers, update_task, updated_ref,
};
pub use worktree::{Worktree, ensure_excluded, ensure_worktree, remove_worktree, restore_branch};

use error::Context;

/// Who made a commit and why: written into every commit fleetdeck makes as
/// the `Fleet-Task`, `Fleet-Agent` and `Fleet-Attempt` trailers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribution<'a> {
    /// The task id (a slug, see [`validate_task_id`]).
    pub task: &'a str,
    /// The agent profile name; the commit author becomes `<agent> (fleetdeck)`.
    pub agent: &'a str,
    /// The attempt number (1 for the first run).
    pub attempt: u32,
    /// The task title, used in the commit subject.
    pub title: &'a str,
}

/// The branch a task works on: `fleet/<task>`.
pub fn task_branch(task: &str) -> String {
    format!("fleet/{task}")
}

/// Where a task's worktree lives: `<root>/.fleet/worktrees/<task>`.
pub fn worktree_path(root: &Path, task: &str) -> PathBuf {
    root.join(".fleet").join("worktrees").join(task)
}

/// The ref under which [`commit_attempt`] keeps the commits an agent made by
/// itself during an attempt: `refs/fleet/agent/<task>/<attempt>`.
pub fn agent_ref(task: &str, attempt: u32) -> String {
    format!("refs/fleet/agent/{task}/{attempt}")
}

/// The conventional `save_ref` for [`save_and_reset`]:
/// `refs/fleet/interrupted/<task>/<attempt>`.
pub fn interrupted_ref(task: &str, attempt: u32) -> String {
    format!("refs/fleet/interrupted/{task}/{attempt}")
}

/// Checks that `id` is a task slug: `[a-z0-9][a-z0-9-]*`.
///
/// Every function that builds a path or a ref from a task id calls this
/// first, so an id can never escape `.fleet/worktrees/` or `refs/fleet/`.
pub fn validate_task_id(id: &str) -> Result<(), GitError> {
    let mut chars = id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(GitError::InvalidTaskId { id: id.to_owned() })
    }
}

/// Opens the repository whose working tree (or git directory) is exactly `path`.
fn open(path: &Path) -> Result<Repository, GitError> {
    Repository::open(path).ctx(|| format!("open repository {}", path.display()))
}

/// Opens a task's worktree as a repository; [`GitError::WorktreeMissing`] when
/// its directory does not exist.
pub(crate) fn open_task_worktree(
    root: &Path,
    task: &str,
) -> Result<(Repository, PathBuf), GitError> {
    validate_task_id(task)?;
    let path = worktree_path(root, task);
    if !path.is_dir() {
        return Err(GitError::WorktreeMissing {
            task: task.to_owned(),
            path,
        });
    }
    let repo = open(&path)?;
    Ok((repo, path))
}
