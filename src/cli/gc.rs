//! `fleetdeck gc`: removes the worktrees and `fleet/*` branches of done and
//! dropped tasks once nothing of them can be lost (see `git::plan_gc` for
//! the rules). Without `--yes` it only prints what it would remove, each with
//! the reason it is safe; it lists what it keeps, and why, with `--verbose`
//! or when nothing is removable. Takes the fleet lock, so it refuses while an
//! engine runs the fleet.

use std::path::Path;

use super::logging;
use crate::config::{AgentProfile, Config};
use crate::core::{Status, Task};
use crate::git::{self, GcPlan, GcTask, GcTaskState, Removal};
use crate::store::Store;

/// Runs `fleetdeck gc [--yes] [--verbose]`; the exit code (2 for a bad fleet.toml).
pub fn main(root: &Path, yes: bool, verbose: bool) -> i32 {
    logging::init(root);
    super::recover::print_lines(gc(root, yes, verbose))
}

/// Plans (and with `yes` does) the cleanup; the lines to print.
fn gc(root: &Path, yes: bool, verbose: bool) -> Result<Vec<String>, (i32, String)> {
    let fail = |e: &dyn std::fmt::Display| (1, e.to_string());
    let config = Config::load(root).map_err(|e| (2, e.to_string()))?;
    let fleet_dir = root.join(".fleet");
    if !fleet_dir.join("fleet.db").exists() {
        return Err((
            1,
            format!(
                "there is no fleet state at {}, so no task is known to be done or dropped: nothing to clean",
                fleet_dir.display()
            ),
        ));
    }
    let (_lock, target) = super::recover::lock_fleet(root, &config)?;
    let store = Store::open(&fleet_dir).map_err(|e| fail(&e))?;
    let tasks = store.load_tasks().map_err(|e| fail(&e))?;
    let gc_tasks: Vec<GcTask> = tasks.iter().map(|t| gc_task(t, &config)).collect();
    let plan = git::plan_gc(root, &target, &gc_tasks).map_err(|e| fail(&e))?;

    let mut lines = Vec::new();
    if plan.remove.is_empty() {
        lines.push("nothing to remove".to_owned());
    } else if yes {
        git::remove_gc(root, &plan.remove).map_err(|e| fail(&e))?;
        tracing::info!(removed = plan.remove.len(), "gc removed finished work");
        lines.push("removed:".to_owned());
        lines.extend(plan.remove.iter().map(|r| removal_line(root, r)));
    } else {
        lines.push("would remove (run `fleetdeck gc --yes` to remove):".to_owned());
        lines.extend(plan.remove.iter().map(|r| removal_line(root, r)));
    }
    if verbose || plan.remove.is_empty() {
        lines.extend(kept_lines(&plan));
    }
    Ok(lines)
}

/// What `plan_gc` needs of a task.
fn gc_task(task: &Task, config: &Config) -> GcTask {
    let state = match &task.status {
        Status::Done { .. } => GcTaskState::Done,
        Status::Dropped => GcTaskState::Dropped,
        other => GcTaskState::Open {
            status: other.to_string(),
        },
    };
    let exclude = config
        .agents
        .get(&task.spec.agent)
        .map(AgentProfile::excludes)
        .unwrap_or_default();
    GcTask {
        id: task.spec.id.to_string(),
        state,
        exclude,
    }
}

/// `  worktree .fleet/worktrees/a  (a: no uncommitted changes)`.
fn removal_line(root: &Path, removal: &Removal) -> String {
    let what = match removal {
        Removal::Worktree { path, .. } => {
            let shown = path.strip_prefix(root).unwrap_or(path);
            format!("worktree {}", shown.display())
        }
        Removal::Branch { task, tip, .. } => {
            let short: String = tip.to_string().chars().take(12).collect();
            format!("branch {} at {short}", git::task_branch(task))
        }
    };
    format!("  {what}  ({}: {})", removal.task(), removal.safe())
}

/// `kept:` and one line per thing kept; nothing when nothing is kept.
fn kept_lines(plan: &GcPlan) -> Vec<String> {
    if plan.keep.is_empty() {
        return Vec::new();
    }
    let mut lines = vec!["kept:".to_owned()];
    for kept in &plan.keep {
        let what = if kept.worktree {
            format!("worktree of {}", kept.task)
        } else {
            format!("branch {}", git::task_branch(&kept.task))
        };
        lines.push(format!("  {what}: {}", kept.why));
    }
    lines
}
