//! What git itself remembers of a fleet, independent of `.fleet/fleet.db`:
//! the `Fleet-Task` commits (merges, squashed or rebased commits) on the
//! target's first-parent history, the
//! `fleet/<id>` branches and the refs under `refs/fleet/`.
//!
//! Read before every merge ([`task_merge`]: a task merged once is never merged
//! again), when the engine opens an empty database ([`scan_fleet`]: refuse to
//! start a fleet over an old one), and by `fleetdeck recover` (rebuild the
//! database from this).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;

use git2::{BranchType, Oid, Repository};

use super::error::{Context, GitError};
use super::message::{FleetTrailers, parse_trailer_sets, parse_trailers};
use super::open;
use super::refs::{is_reachable, local_branch_tip};

/// How far back along the target's first parents fleetdeck looks for a
/// task's merge commit.
pub(crate) const FIRST_PARENT_SEARCH_LIMIT: usize = 10_000;

/// A task merge found on the target's first-parent history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedTask {
    /// The newest commit on the first-parent history carrying the task's
    /// `Fleet-Task` trailer (its merge commit, or its squashed or rebased commit).
    pub commit: Oid,
    /// Its `Fleet-Attempt`.
    pub attempt: u32,
}

/// A `fleet/<id>` branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskBranch {
    /// The branch tip.
    pub tip: Oid,
    /// True when the tip is not on the target: the branch has commits of its own.
    pub ahead: bool,
    /// The `Fleet-Attempt` of the tip when it is a commit of this task.
    pub attempt: Option<u32>,
}

/// Everything git holds of a fleet, by task id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetScan {
    /// The target branch scanned.
    pub target: String,
    /// Tasks merged into the target (within the search limit).
    pub merged: BTreeMap<String, MergedTask>,
    /// `fleet/<id>` branches.
    pub branches: BTreeMap<String, TaskBranch>,
    /// Refs under `refs/fleet/<kind>/<id>/...` (full names), by task id.
    pub saved: BTreeMap<String, Vec<String>>,
}

impl FleetScan {
    /// True when git holds nothing of a fleet: no task merges, branches or saved refs.
    pub fn is_empty(&self) -> bool {
        self.merged.is_empty() && self.branches.is_empty() && self.saved.is_empty()
    }

    /// Every task id git knows, sorted.
    pub fn task_ids(&self) -> BTreeSet<&str> {
        self.merged
            .keys()
            .chain(self.branches.keys())
            .chain(self.saved.keys())
            .map(String::as_str)
            .collect()
    }

    /// The highest attempt number git records for `task` (merge trailer,
    /// branch tip trailer, `refs/fleet/{agent,interrupted,discarded}/<id>/<n>`); 0 if none.
    pub fn last_attempt(&self, task: &str) -> u32 {
        let merged = self.merged.get(task).map(|m| m.attempt);
        let branch = self.branches.get(task).and_then(|b| b.attempt);
        let saved = self.saved.get(task).into_iter().flatten().filter_map(|r| {
            let rest = r.strip_prefix("refs/fleet/")?;
            let (kind, rest) = rest.split_once('/')?;
            let numbered = matches!(kind, "agent" | "interrupted" | "discarded");
            numbered.then(|| rest.rsplit('/').next()?.parse().ok())?
        });
        merged
            .into_iter()
            .chain(branch)
            .chain(saved)
            .max()
            .unwrap_or(0)
    }

    /// True when a dropped task's work or branch was saved for `task`
    /// (`refs/fleet/dropped/<id>/...`, by the engine or `fleetdeck gc`), or
    /// its work as a split task's (`refs/fleet/split/<id>`).
    pub fn was_dropped(&self, task: &str) -> bool {
        let prefix = format!("refs/fleet/dropped/{task}/");
        let split = super::split_ref(task);
        self.saved
            .get(task)
            .is_some_and(|refs| refs.iter().any(|r| r.starts_with(&prefix) || *r == split))
    }

    /// What git holds of `task`, in a few words ("merged in 1a2b3c4, branch
    /// fleet/x, 2 saved ref(s)").
    pub fn describe_task(&self, task: &str) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.merged.get(task) {
            parts.push(format!("merged in {}", short(m.commit)));
        }
        if let Some(b) = self.branches.get(task) {
            let own = if b.ahead {
                "with work"
            } else {
                "no commit of its own"
            };
            parts.push(format!("branch fleet/{task} ({own})"));
        }
        if let Some(refs) = self.saved.get(task) {
            parts.push(format!("{} saved ref(s) under refs/fleet/", refs.len()));
        }
        parts.join(", ")
    }

    /// One sentence listing what was found, for an error message.
    pub fn summary(&self) -> String {
        let list = |ids: Vec<String>| {
            const SHOWN: usize = 5;
            let more = ids.len().saturating_sub(SHOWN);
            let mut text = ids.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
            text
        };
        let mut found = Vec::new();
        if !self.merged.is_empty() {
            found.push(format!(
                "{} task merge(s) on `{}` ({})",
                self.merged.len(),
                self.target,
                list(self.merged.keys().cloned().collect())
            ));
        }
        if !self.branches.is_empty() {
            found.push(format!(
                "{} task branch(es) ({})",
                self.branches.len(),
                list(self.branches.keys().map(|b| format!("fleet/{b}")).collect())
            ));
        }
        let saved: usize = self.saved.values().map(Vec::len).sum();
        if saved > 0 {
            found.push(format!("{saved} saved ref(s) under refs/fleet/"));
        }
        found.join(", ")
    }
}

/// Short hex form of a commit id, for messages.
fn short(id: Oid) -> String {
    id.to_string().chars().take(10).collect()
}

/// Calls `visit` with each commit carrying the three `Fleet-*` trailers on
/// `tip`'s first-parent history (a task's merge commit, or its squashed or
/// rebased commit: every style lands its trailers there), newest first, up
/// to [`FIRST_PARENT_SEARCH_LIMIT`] commits back, until it breaks.
fn each_task_merge(
    repo: &Repository,
    tip: Oid,
    mut visit: impl FnMut(Oid, FleetTrailers) -> ControlFlow<()>,
) -> Result<(), GitError> {
    let mut walk = repo.revwalk().ctx(|| "start a history walk")?;
    walk.push(tip)
        .and_then(|()| walk.simplify_first_parent())
        .ctx(|| format!("walk the first-parent history of {tip}"))?;
    for id in walk.take(FIRST_PARENT_SEARCH_LIMIT) {
        let id = id.ctx(|| format!("walk the first-parent history of {tip}"))?;
        let commit = repo.find_commit(id).ctx(|| format!("read commit {id}"))?;
        // A group's landing commit carries one set per member.
        let sets = commit.message().map(parse_trailer_sets).unwrap_or_default();
        if sets
            .into_iter()
            .any(|trailers| visit(id, trailers).is_break())
        {
            break;
        }
    }
    Ok(())
}

/// The newest commit of `task` (merge, squashed or rebased) on `tip`'s
/// first-parent history, if any.
pub(crate) fn task_merge(repo: &Repository, tip: Oid, task: &str) -> Result<Option<Oid>, GitError> {
    let mut found = None;
    each_task_merge(repo, tip, |id, trailers| {
        if trailers.task == task {
            found = Some(id);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    Ok(found)
}

/// Reads what git holds of the fleet whose target is `target` in the
/// repository at `root`. Called when the engine finds an empty database and
/// by `fleetdeck recover`.
pub fn scan_fleet(root: &Path, target: &str) -> Result<FleetScan, GitError> {
    let repo = open(root)?;
    let tip = local_branch_tip(&repo, target)?;
    let mut scan = FleetScan {
        target: target.to_owned(),
        ..FleetScan::default()
    };
    each_task_merge(&repo, tip, |commit, trailers| {
        scan.merged.entry(trailers.task).or_insert(MergedTask {
            commit,
            attempt: trailers.attempt,
        });
        ControlFlow::Continue(())
    })?;
    let branches = repo
        .branches(Some(BranchType::Local))
        .ctx(|| "list the local branches")?;
    for branch in branches {
        let (branch, _) = branch.ctx(|| "read a local branch")?;
        let Some(id) = branch
            .name()
            .ok()
            .flatten()
            .and_then(|n| n.strip_prefix("fleet/"))
            .filter(|id| !id.contains('/')) // fleet/group/<name>: a group's, not a task's
            .map(str::to_owned)
        else {
            continue;
        };
        let head = branch
            .get()
            .peel_to_commit()
            .ctx(|| format!("resolve branch fleet/{id}"))?;
        let attempt = head
            .message()
            .ok()
            .and_then(parse_trailers)
            .filter(|t| t.task == id)
            .map(|t| t.attempt);
        let ahead = !is_reachable(&repo, tip, head.id())?;
        scan.branches.insert(
            id,
            TaskBranch {
                tip: head.id(),
                ahead,
                attempt,
            },
        );
    }
    let mut refs = repo
        .references_glob("refs/fleet/*")
        .ctx(|| "list the refs under refs/fleet/")?;
    for name in refs.names() {
        let name = name.ctx(|| "read a ref under refs/fleet/")?;
        let id = name
            .strip_prefix("refs/fleet/")
            .and_then(|r| r.split('/').nth(1));
        if let Some(id) = id {
            scan.saved
                .entry(id.to_owned())
                .or_default()
                .push(name.to_owned());
        }
    }
    Ok(scan)
}
