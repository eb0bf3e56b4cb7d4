//! Cleanup of finished tasks (`fleetdeck gc`): the worktrees and `fleet/*`
//! branches of done and dropped tasks, removed only when nothing can be lost.
//!
//! [`plan_gc`] only reads: it lists what may go, each with the reason it is
//! safe, and what stays, each with the reason. [`remove_gc`] does what a plan
//! lists. The rules:
//! - Only tasks the caller says are done or dropped are touched; any other
//!   task, and any `fleet/<id>` branch no task has, is kept.
//! - A worktree goes when it has no uncommitted changes (untracked files
//!   count, ignored files and the profile's excluded paths do not) and its
//!   HEAD is on its branch's commits or the target's. Else it stays, and so
//!   does its branch.
//! - A branch goes when its tip is reachable from the target, or after its
//!   tip is saved under `refs/fleet/merged/<id>/<tip>` (a done task whose
//!   merge is on the target and whose branch holds nothing after what was
//!   merged) or `refs/fleet/dropped/<id>/<tip>` (a dropped task). A done
//!   task's branch with work that was not merged stays.

use std::fmt;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository, StatusOptions};

use super::error::{Context, GitError};
use super::history::task_merge;
use super::message::parse_trailers;
use super::refs::{is_reachable, local_branch_tip};
use super::{open, task_branch, validate_task_id, worktree_path};

/// How a task stands, as far as cleanup is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcTaskState {
    /// Merged: its work is on the target.
    Done,
    /// Dropped by the user: its work is kept under `refs/fleet/dropped/`.
    Dropped,
    /// Anything else (queued, running, review, failed...): never touched.
    /// `status` is the word shown to the user.
    Open {
        /// The task's status, for the reason it is kept.
        status: String,
    },
}

/// A task as [`plan_gc`] needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcTask {
    /// The task id.
    pub id: String,
    /// Whether it is done, dropped or still open.
    pub state: GcTaskState,
    /// Untracked paths of its agent profile that are never committed
    /// (gitignore-style): they do not count as uncommitted work.
    pub exclude: Vec<String>,
}

/// Why a [`Removal`] loses nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Safe {
    /// The worktree holds no uncommitted changes and its HEAD is on its
    /// branch or the target.
    CleanWorktree,
    /// Only the worktree's registration in `.git/worktrees/` is left.
    DirectoryGone,
    /// The branch tip is reachable from the target.
    OnTarget,
    /// The task's merge is on the target; the branch tip (with the commits
    /// of its attempts) is saved under `saved_as` first.
    MergedAndSaved {
        /// The task's commit on the target.
        merged: Oid,
        /// The ref the tip is saved under.
        saved_as: String,
    },
    /// The task was dropped; its branch tip is saved under `saved_as` first.
    DroppedAndSaved {
        /// The ref the tip is saved under.
        saved_as: String,
    },
}

/// Something [`remove_gc`] removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// The task's worktree directory and registration.
    Worktree {
        task: String,
        path: PathBuf,
        safe: Safe,
    },
    /// Branch `fleet/<task>`, whose tip is `tip` now.
    Branch { task: String, tip: Oid, safe: Safe },
}

/// Why something stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepReason {
    /// The task is not done or dropped.
    NotFinished { status: String },
    /// No task of the fleet has this id.
    UnknownTask,
    /// The worktree has this many uncommitted paths.
    UncommittedChanges { paths: usize },
    /// The worktree's HEAD is on a commit that is neither on its branch nor
    /// on the target.
    HeadElsewhere { head: Oid },
    /// The worktree directory cannot be read as a git worktree.
    Unreadable { problem: String },
    /// Its worktree stays, so the branch checked out there stays too.
    WorktreeKept,
    /// The task is done but no commit of it is on the target.
    MergeNotOnTarget,
    /// The task is done, but the branch tip is not what was merged.
    WorkAfterMerge { tip: Oid },
}

/// Something [`plan_gc`] leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The task id (or the branch's id for an unknown branch).
    pub task: String,
    /// True for the worktree, false for the branch.
    pub worktree: bool,
    /// Why it stays.
    pub why: KeepReason,
}

/// What `fleetdeck gc` would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcPlan {
    /// What goes, in the order it goes (a worktree before its branch).
    pub remove: Vec<Removal>,
    /// What stays.
    pub keep: Vec<Kept>,
}

impl fmt::Display for Safe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Safe::CleanWorktree => write!(f, "no uncommitted changes"),
            Safe::DirectoryGone => write!(f, "its directory is already gone"),
            Safe::OnTarget => write!(f, "its commits are all on the target"),
            Safe::MergedAndSaved { merged, saved_as } => write!(
                f,
                "merged as {}; its tip is saved under {saved_as}",
                short(*merged)
            ),
            Safe::DroppedAndSaved { saved_as } => {
                write!(f, "dropped; its tip is saved under {saved_as}")
            }
        }
    }
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::NotFinished { status } => {
                write!(f, "the task is {status}, not done or dropped")
            }
            KeepReason::UnknownTask => write!(f, "no task of this fleet has this id"),
            KeepReason::UncommittedChanges { paths } => write!(
                f,
                "{paths} uncommitted path(s) in the worktree: commit or delete them first"
            ),
            KeepReason::HeadElsewhere { head } => write!(
                f,
                "the worktree's HEAD {} is neither on its branch nor on the target",
                short(*head)
            ),
            KeepReason::Unreadable { problem } => write!(f, "cannot read the worktree: {problem}"),
            KeepReason::WorktreeKept => write!(f, "it is checked out in the worktree that stays"),
            KeepReason::MergeNotOnTarget => write!(
                f,
                "the task is done but no commit of it is on the target: merge the branch or drop the task"
            ),
            KeepReason::WorkAfterMerge { tip } => {
                write!(f, "its tip {} holds work that was not merged", short(*tip))
            }
        }
    }
}

impl Removal {
    /// The task this removal belongs to.
    pub fn task(&self) -> &str {
        match self {
            Removal::Worktree { task, .. } | Removal::Branch { task, .. } => task,
        }
    }

    /// Why it is safe.
    pub fn safe(&self) -> &Safe {
        match self {
            Removal::Worktree { safe, .. } | Removal::Branch { safe, .. } => safe,
        }
    }
}

/// Short hex form of a commit id, for messages and ref names.
fn short(id: Oid) -> String {
    id.to_string().chars().take(12).collect()
}

/// Lists what cleanup may remove from the repository at `root` whose target
/// branch is `target`, for the fleet's `tasks`. Reads only. Called by
/// `fleetdeck gc` (under the fleet lock) before printing or removing.
pub fn plan_gc(root: &Path, target: &str, tasks: &[GcTask]) -> Result<GcPlan, GitError> {
    let repo = open(root)?;
    let target_tip = local_branch_tip(&repo, target)?;
    let mut plan = GcPlan::default();
    for task in tasks {
        validate_task_id(&task.id)?;
        plan_task(&repo, root, target_tip, task, &mut plan)?;
    }
    for id in fleet_branch_ids(&repo)? {
        if !tasks.iter().any(|t| t.id == id) {
            plan.keep.push(Kept {
                task: id,
                worktree: false,
                why: KeepReason::UnknownTask,
            });
        }
    }
    Ok(plan)
}

/// Adds what becomes of `task`'s worktree and branch to `plan`.
fn plan_task(
    repo: &Repository,
    root: &Path,
    target_tip: Oid,
    task: &GcTask,
    plan: &mut GcPlan,
) -> Result<(), GitError> {
    let branch_tip = match local_branch_tip(repo, &task_branch(&task.id)) {
        Ok(tip) => Some(tip),
        Err(GitError::BranchNotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let path = worktree_path(root, &task.id);
    let registered = is_registered(repo, &task.id)?;
    let has_worktree = registered || path.exists();
    if let GcTaskState::Open { status } = &task.state {
        let why = KeepReason::NotFinished {
            status: status.clone(),
        };
        for (exists, worktree) in [(has_worktree, true), (branch_tip.is_some(), false)] {
            if exists {
                plan.keep.push(kept(task, worktree, why.clone()));
            }
        }
        return Ok(());
    }
    let mut worktree_stays = false;
    if has_worktree {
        match worktree_check(repo, &path, registered, branch_tip, target_tip, task)? {
            Ok(safe) => plan.remove.push(Removal::Worktree {
                task: task.id.clone(),
                path,
                safe,
            }),
            Err(why) => {
                worktree_stays = true;
                plan.keep.push(kept(task, true, why));
            }
        }
    }
    let Some(tip) = branch_tip else {
        return Ok(());
    };
    let verdict = if worktree_stays {
        Err(KeepReason::WorktreeKept)
    } else {
        branch_check(repo, target_tip, tip, task)?
    };
    match verdict {
        Ok(safe) => plan.remove.push(Removal::Branch {
            task: task.id.clone(),
            tip,
            safe,
        }),
        Err(why) => plan.keep.push(kept(task, false, why)),
    }
    Ok(())
}

fn kept(task: &GcTask, worktree: bool, why: KeepReason) -> Kept {
    Kept {
        task: task.id.clone(),
        worktree,
        why,
    }
}

/// Whether the worktree of a finished task may go, and why.
fn worktree_check(
    repo: &Repository,
    path: &Path,
    registered: bool,
    branch_tip: Option<Oid>,
    target_tip: Oid,
    task: &GcTask,
) -> Result<Result<Safe, KeepReason>, GitError> {
    if !path.exists() {
        return Ok(Ok(Safe::DirectoryGone));
    }
    let unreadable = |problem: String| Ok(Err(KeepReason::Unreadable { problem }));
    if !registered {
        return unreadable(format!(
            "{} is not a registered worktree of this repository",
            path.display()
        ));
    }
    let wt = match Repository::open(path) {
        Ok(wt) => wt,
        Err(e) => return unreadable(e.message().to_owned()),
    };
    if !task.exclude.is_empty() {
        wt.add_ignore_rule(&task.exclude.join("\n"))
            .ctx(|| format!("use the exclude patterns {:?}", task.exclude))?;
    }
    let paths = uncommitted_paths(&wt, path)?;
    if paths > 0 {
        return Ok(Err(KeepReason::UncommittedChanges { paths }));
    }
    let head = match wt.head().and_then(|h| h.peel_to_commit()) {
        Ok(c) => c.id(),
        Err(e) if e.code() == ErrorCode::UnbornBranch => return Ok(Ok(Safe::CleanWorktree)),
        Err(e) => return unreadable(e.message().to_owned()),
    };
    let on_branch = match branch_tip {
        Some(tip) => is_reachable(repo, tip, head)?,
        None => false,
    };
    if on_branch || is_reachable(repo, target_tip, head)? {
        Ok(Ok(Safe::CleanWorktree))
    } else {
        Ok(Err(KeepReason::HeadElsewhere { head }))
    }
}

/// Whether the branch of a finished task may go, and why.
fn branch_check(
    repo: &Repository,
    target_tip: Oid,
    tip: Oid,
    task: &GcTask,
) -> Result<Result<Safe, KeepReason>, GitError> {
    if is_reachable(repo, target_tip, tip)? {
        return Ok(Ok(Safe::OnTarget));
    }
    let id = task.id.as_str();
    if task.state == GcTaskState::Dropped {
        return Ok(Ok(Safe::DroppedAndSaved {
            saved_as: saved_ref("dropped", id, tip),
        }));
    }
    let Some(merged) = task_merge(repo, target_tip, id)? else {
        return Ok(Err(KeepReason::MergeNotOnTarget));
    };
    if holds_only_merged_work(repo, target_tip, merged, tip, id)? {
        Ok(Ok(Safe::MergedAndSaved {
            merged,
            saved_as: saved_ref("merged", id, tip),
        }))
    } else {
        Ok(Err(KeepReason::WorkAfterMerge { tip }))
    }
}

/// True when the branch tip `tip` is what the task's commit `merged` on the
/// target landed: the tip is the attempt named by the merge's trailers, or
/// merging the tip into the target now would change nothing.
fn holds_only_merged_work(
    repo: &Repository,
    target_tip: Oid,
    merged: Oid,
    tip: Oid,
    id: &str,
) -> Result<bool, GitError> {
    let trailers = |oid: Oid| -> Result<_, GitError> {
        let commit = repo.find_commit(oid).ctx(|| format!("read commit {oid}"))?;
        Ok(commit.message().ok().and_then(parse_trailers))
    };
    let landed = trailers(merged)?;
    let at_tip = trailers(tip)?;
    if let (Some(landed), Some(at_tip)) = (landed, at_tip)
        && at_tip.task == id
        && at_tip.attempt == landed.attempt
    {
        return Ok(true);
    }
    let ours = repo
        .find_commit(target_tip)
        .ctx(|| format!("read the target tip {target_tip}"))?;
    let theirs = repo
        .find_commit(tip)
        .ctx(|| format!("read the tip {tip} of fleet/{id}"))?;
    let mut index = repo
        .merge_commits(&ours, &theirs, None)
        .ctx(|| format!("merge fleet/{id} into the target in memory"))?;
    if index.has_conflicts() {
        return Ok(false);
    }
    let tree = index
        .write_tree_to(repo)
        .ctx(|| format!("write the merged tree of fleet/{id}"))?;
    Ok(tree == ours.tree_id())
}

/// How many paths of the worktree `wt` (at `path`) differ from its HEAD:
/// untracked files count, ignored ones do not.
pub(super) fn uncommitted_paths(wt: &Repository, path: &Path) -> Result<usize, GitError> {
    Ok(uncommitted(wt, path)?.len())
}

/// The paths of the worktree `wt` (at `path`) that differ from its HEAD:
/// untracked files included, ignored ones not.
pub(super) fn uncommitted(wt: &Repository, path: &Path) -> Result<Vec<String>, GitError> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let statuses = wt
        .statuses(Some(&mut opts))
        .ctx(|| format!("read the status of {}", path.display()))?;
    Ok(statuses
        .iter()
        .filter(|e| !e.status().is_ignored())
        .filter_map(|e| e.path().ok().map(str::to_owned))
        .collect())
}

/// `refs/fleet/<kind>/<id>/<tip>`: unique per tip, so saving again is a no-op.
pub(super) fn saved_ref(kind: &str, id: &str, tip: Oid) -> String {
    format!("refs/fleet/{kind}/{id}/{}", short(tip))
}

/// Whether a worktree named `task` is registered in `.git/worktrees/`.
fn is_registered(repo: &Repository, task: &str) -> Result<bool, GitError> {
    match repo.find_worktree(task) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(false),
        // Broken admin files: still a registration to prune.
        Err(_) => Ok(repo.path().join("worktrees").join(task).exists()),
    }
}

/// The ids of the local `fleet/<id>` branches.
fn fleet_branch_ids(repo: &Repository) -> Result<Vec<String>, GitError> {
    let mut ids = Vec::new();
    let branches = repo
        .branches(Some(git2::BranchType::Local))
        .ctx(|| "list the local branches")?;
    for branch in branches {
        let (branch, _) = branch.ctx(|| "read a local branch")?;
        if let Some(id) = branch
            .name()
            .ok()
            .flatten()
            .and_then(|n| n.strip_prefix("fleet/"))
            .filter(|id| !id.contains('/'))
        // fleet/group/<name>: a group's, not a task's
        {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

/// Does what `removals` (from [`plan_gc`], in its order) list, in the
/// repository at `root`: a worktree is removed with its registration; a
/// branch's tip is first saved under the ref its [`Safe`] names, then the
/// branch is deleted, only if it still points at the tip the plan saw (else
/// [`GitError::GcRefMoved`] and that branch stays). Called by
/// `fleetdeck gc --yes`. Removing what is already gone succeeds.
pub fn remove_gc(root: &Path, removals: &[Removal]) -> Result<(), GitError> {
    for removal in removals {
        match removal {
            Removal::Worktree { task, .. } => super::remove_worktree(root, task)?,
            Removal::Branch { task, tip, safe } => {
                let repo = open(root)?;
                if let Safe::MergedAndSaved { saved_as, .. } | Safe::DroppedAndSaved { saved_as } =
                    safe
                {
                    save_tip(&repo, saved_as, *tip)?;
                }
                delete_branch(&repo, task, *tip)?;
            }
        }
    }
    Ok(())
}

/// Creates `name` at `tip`; already there is fine, elsewhere is an error.
fn save_tip(repo: &Repository, name: &str, tip: Oid) -> Result<(), GitError> {
    match repo.refname_to_id(name) {
        Ok(id) if id == tip => return Ok(()),
        Ok(actual) => {
            return Err(GitError::GcRefMoved {
                name: name.to_owned(),
                expected: tip,
                actual,
            });
        }
        Err(e) if e.code() == ErrorCode::NotFound => {}
        Err(e) => return Err(e).ctx(|| format!("read {name}")),
    }
    repo.reference(name, tip, false, "fleetdeck gc: save the branch tip")
        .ctx(|| format!("save {tip} under {name}"))?;
    Ok(())
}

/// Deletes `refs/heads/fleet/<task>` if it points at `tip`; gone already is fine.
fn delete_branch(repo: &Repository, task: &str, tip: Oid) -> Result<(), GitError> {
    let name = format!("refs/heads/{}", task_branch(task));
    let mut reference = match repo.find_reference(&name) {
        Ok(r) => r,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(()),
        Err(e) => return Err(e).ctx(|| format!("read {name}")),
    };
    match reference.target() {
        Some(actual) if actual != tip => Err(GitError::GcRefMoved {
            name,
            expected: tip,
            actual,
        }),
        _ => reference.delete().ctx(|| format!("delete {name}")),
    }
}
