//! `fleetdeck recover`: rebuilds a lost or emptied `.fleet/fleet.db` from what
//! git holds of the fleet, so that the next run goes on where the old one
//! stopped instead of running and merging everything again.
//!
//! A task of fleet.toml whose `Fleet-Task` merge is on the target's
//! first-parent history becomes Done (with that merge commit); one whose
//! `fleet/<id>` branch has commits beyond the target goes to Review (attempt
//! from the branch tip's `Fleet-Attempt`); one whose branch `fleetdeck gc`
//! saved under `refs/fleet/dropped/` stays Dropped; any other is Queued. Task ids git
//! knows but fleet.toml does not are listed, never invented.

use std::collections::BTreeSet;
use std::path::Path;

use super::logging;
use crate::config::Config;
use crate::core::{Status, Task, TaskSpec};
use crate::git::{self, FleetScan};
use crate::store::{FleetLock, Store, now_ms, transcript};

/// Runs `fleetdeck recover [--force]`; the exit code (2 for a bad fleet.toml).
pub fn main(root: &Path, force: bool) -> i32 {
    logging::init(root);
    print_lines(recover(root, force))
}

/// Prints the lines of a one-shot command that succeeded (exit code 0), or
/// its error on stderr (its exit code).
pub(super) fn print_lines(result: Result<Vec<String>, (i32, String)>) -> i32 {
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            0
        }
        Err((code, message)) => {
            eprintln!("fleetdeck: {message}");
            code
        }
    }
}

/// Rebuilds the state; the lines to print, one per task.
fn recover(root: &Path, force: bool) -> Result<Vec<String>, (i32, String)> {
    let fail = |e: &dyn std::fmt::Display| (1, e.to_string());
    let config = Config::load(root).map_err(|e| (2, e.to_string()))?;
    let fleet_dir = root.join(".fleet");
    let (_lock, target) = lock_fleet(root, &config)?;
    let store = Store::open(&fleet_dir).map_err(|e| fail(&e))?;
    let existing = store.load_tasks().map_err(|e| fail(&e))?;
    if !force && !store.is_empty().map_err(|e| fail(&e))? {
        return Err((
            1,
            format!(
                "{} already holds the state of {} task(s); recover only rebuilds a lost state. \
                 To replace the state of those tasks with what git says, run `fleetdeck recover --force`",
                store.path().display(),
                existing.len()
            ),
        ));
    }
    let scan = git::scan_fleet(root, &target).map_err(|e| fail(&e))?;

    // fleet.toml's tasks, then tasks only the database knows (added with `add`).
    let mut specs: Vec<TaskSpec> = config.tasks.clone();
    for task in &existing {
        if !specs.iter().any(|s| s.id == task.spec.id) {
            specs.push(task.spec.clone());
        }
    }
    let mut lines = Vec::new();
    for spec in specs {
        let prior = existing.iter().find(|t| t.spec.id == spec.id);
        let on_disk = transcript::last_attempt_on_disk(&fleet_dir, spec.id.as_str());
        let task = rebuilt(spec, &scan, prior, on_disk);
        if let Some(prior) = prior
            && prior.status != task.status
        {
            lines.push(format!(
                "{}: overwriting `{}` with `{}`",
                task.id(),
                prior.status,
                task.status
            ));
        }
        store.save_task(&task).map_err(|e| fail(&e))?;
        lines.push(describe(&task, &scan));
    }
    let known: BTreeSet<&str> = existing
        .iter()
        .map(|t| t.id().as_str())
        .chain(config.tasks.iter().map(|s| s.id.as_str()))
        .collect();
    for id in scan.task_ids().difference(&known) {
        lines.push(format!(
            "{id}: not in fleet.toml, left alone ({}); add it to the plan to pick it up",
            scan.describe_task(id)
        ));
    }
    store
        .set_meta("recovered", &now_ms().to_string())
        .map_err(|e| fail(&e))?;
    tracing::info!(
        target = target.as_str(),
        "rebuilt the fleet's state from git"
    );
    Ok(lines)
}

/// Takes the fleet lock of the fleet at `root` (refused while an engine or
/// another command holds it) and gets its target branch ready, for one-shot
/// commands that change the fleet's git state: `recover`, `gc`.
pub(super) fn lock_fleet(
    root: &Path,
    config: &Config,
) -> Result<(FleetLock, String), (i32, String)> {
    let fail = |e: &dyn std::fmt::Display| (1, e.to_string());
    let lock = FleetLock::acquire(&root.join(".fleet")).map_err(|e| fail(&e))?;
    let target = git::prepare_fleet(root, config.fleet.target.as_deref())
        .map_err(|e| fail(&e))?
        .ok_or_else(|| {
            (
                1,
                "HEAD is not on a branch, so there is no default target: set [fleet] target in fleet.toml".to_owned(),
            )
        })?;
    Ok((lock, target))
}

/// The task `spec` as git says it stands. A dropped task stays dropped
/// unless it was merged (also one whose branch `fleetdeck gc` removed and
/// saved under `refs/fleet/dropped/`). Its attempt count is the highest known to git, the
/// database (`prior`) or the transcript files (`on_disk`), so the next
/// attempt overwrites none of them.
fn rebuilt(spec: TaskSpec, scan: &FleetScan, prior: Option<&Task>, on_disk: u32) -> Task {
    let id = spec.id.as_str().to_owned();
    let mut task = Task::new(spec);
    task.attempts = scan
        .last_attempt(&id)
        .max(prior.map_or(0, |p| p.attempts))
        .max(on_disk);
    let branch = scan.branches.get(&id).filter(|b| b.ahead);
    // A fan-out task's work landed as one of its candidates' (`<id>--...`).
    let picked = (!task.spec.fanout.is_empty())
        .then(|| {
            let prefix = format!("{id}--");
            scan.merged
                .iter()
                .find(|(k, _)| k.starts_with(&prefix))
                .map(|(_, m)| m)
        })
        .flatten();
    task.status = if let Some(merged) = scan.merged.get(&id).or(picked) {
        Status::Done {
            commit: merged.commit.to_string(),
        }
    } else if prior.is_some_and(|p| p.status == Status::Dropped)
        || (branch.is_none() && scan.was_dropped(&id))
    {
        Status::Dropped
    } else if let Some(branch) = branch {
        let attempt = branch.attempt.unwrap_or(task.attempts).max(1);
        task.attempts = task.attempts.max(attempt);
        Status::Review {
            attempt,
            block: None,
        }
    } else {
        Status::Queued { held: false }
    };
    task
}

/// One line saying what `task` became and why.
fn describe(task: &Task, scan: &FleetScan) -> String {
    let id = task.id().as_str();
    match &task.status {
        Status::Done { commit } => {
            format!("{id}: done (merged into `{}` as {commit})", scan.target)
        }
        Status::Review { attempt, .. } => {
            format!("{id}: review (attempt {attempt} on fleet/{id}: its work waits for approval)")
        }
        Status::Queued { .. } if scan.branches.contains_key(id) => {
            format!("{id}: queued (branch fleet/{id} has no commit of its own)")
        }
        status => format!("{id}: {status}"),
    }
}
