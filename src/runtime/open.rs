//! Opening a fleet: the lock, the store, the plan, and whatever a crashed
//! predecessor left (processes, interrupted attempts, a checkout update,
//! stale locks, deleted branches), before the scheduler starts.

use std::collections::HashMap;
use std::path::Path;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::contain;
use super::engine::{Engine, EngineError, EngineOptions, Notification};
use crate::config::Config;
use crate::core::{AttemptOutcome, Limits, Scheduler, Task};
use crate::git;
use crate::store::{AttemptRecord, FleetLock, Store, StoreError};

impl Engine {
    pub(super) fn open_with(
        root: &Path,
        options: EngineOptions,
        held: bool,
    ) -> Result<Engine, EngineError> {
        let started = std::time::SystemTime::now();
        let root = root.canonicalize().map_err(|source| StoreError::Io {
            path: root.to_owned(),
            source,
        })?;
        let config = Config::load(&root)?;
        let fleet_dir = root.join(".fleet");
        let lock = FleetLock::acquire(&fleet_dir)?;
        let target = git::prepare_fleet(&root, config.fleet.target.as_deref())?
            .ok_or(EngineError::NoTarget)?;
        let mut store = Store::open(&fleet_dir)?;
        refuse_lost_state(&store, &root, &target)?;
        let worktrees = fleet_dir.join("worktrees");
        crate::store::private::create_dir_private(&worktrees).map_err(|source| StoreError::Io {
            path: worktrees,
            source,
        })?;
        let added = store.import_plan(&config.tasks)?;
        if !added.is_empty() {
            tracing::info!(count = added.len(), "imported new tasks from fleet.toml");
        }
        let open = store.open_attempts()?;
        let tasks = store.load_tasks()?;
        clean_up_after_a_crash(&fleet_dir, &store, &open, &tasks)?;
        // Stale locks go first: a kill while your files were being updated
        // leaves the index locked, and finishing that update needs it.
        let repairs = super::repair::at_open(&root, &target, &store, &tasks, started);
        let mut notes = finish_checkout(&root)?;
        notes.extend(
            repairs
                .into_iter()
                .map(|message| Notification::Warning { message }),
        );
        if held && !open.is_empty() {
            store.set_fleet_paused(true)?;
        }
        let really_paused = store.fleet_paused()?;
        let paused = held || really_paused;
        let limits = limits_with_saved_budget(&config, &store, options.auto_approve)?;
        let mut scheduler = Scheduler::new(limits, config.agents.keys().cloned(), tasks, paused);
        if let Some(state) = saved_supervisor(&store, &mut notes)? {
            scheduler.restore_supervisor(state);
        }
        scheduler.restore_team(store.load_team()?);
        offer_config_edits(&mut scheduler, &config, &store)?;
        scheduler.set_clock(crate::store::now_ms());
        if held && !really_paused {
            scheduler.gate_while_held();
        }
        let contain = contain::FleetContainment::open(&fleet_dir, None);
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Engine {
            root,
            fleet_dir,
            config,
            target,
            store,
            scheduler,
            _lock: lock,
            _contain: contain,
            tx,
            rx,
            agents: HashMap::new(),
            observers: Vec::new(),
            jobs: JoinSet::new(),
            shutdown: watch::channel(false).0,
            removals: 0,
            wake_at: None,
            started: false,
            notes,
            fault: false,
            options,
            held,
            inbox_taken: Default::default(),
            progress: HashMap::new(),
            team: Default::default(),
            overlap_watches: Default::default(),
        })
    }
}

/// Kills what a crashed predecessor left running and marks its open attempts
/// interrupted. A previous engine left processes behind only if it died with
/// agents or gates running (or leftover cgroup leaves say so); a clean start
/// skips the scan of /proc.
fn clean_up_after_a_crash(
    fleet_dir: &Path,
    store: &Store,
    open: &[AttemptRecord],
    tasks: &[Task],
) -> Result<(), StoreError> {
    let gating = tasks
        .iter()
        .any(|t| matches!(t.status, crate::core::Status::Verifying { .. }));
    if !open.is_empty() || gating || contain::has_leftovers(fleet_dir) {
        let killed = contain::kill_leftovers(fleet_dir);
        if !killed.is_empty() {
            tracing::warn!(
                ?killed,
                "killed processes left running by a previous fleetdeck"
            );
        }
    }
    for attempt in open {
        store.set_attempt_outcome(
            &attempt.task,
            attempt.n,
            &AttemptOutcome::Interrupted,
            Some("fleetdeck stopped while it ran"),
        )?;
    }
    Ok(())
}

/// The scheduler's limits: fleet.toml's, except a fleet budget raised in the
/// cockpit or with `fleetdeck budget`, which wins.
/// fleet.toml's tasks as the fleet last saw them (meta `config_tasks`):
/// the edits since are offered as a proposal, then the new ones are kept.
/// The first open of a fleet only records them.
fn offer_config_edits(
    scheduler: &mut Scheduler,
    config: &Config,
    store: &Store,
) -> Result<(), StoreError> {
    let seen: Option<Vec<crate::core::TaskSpec>> = store
        .meta("config_tasks")?
        .and_then(|json| serde_json::from_str(&json).ok());
    if let Some(seen) = &seen {
        scheduler.offer_config(&config.tasks, seen);
    }
    if seen.as_ref() != Some(&config.tasks) {
        let json = serde_json::to_string(&config.tasks).unwrap_or_default();
        store.set_meta("config_tasks", &json)?;
    }
    Ok(())
}

/// The supervisor's saved state; one that cannot be read is kept under
/// `supervisor.unreadable` (never lost) and the fleet starts without it.
fn saved_supervisor(
    store: &Store,
    notes: &mut Vec<Notification>,
) -> Result<Option<crate::core::scheduler::SupervisorState>, StoreError> {
    let Some(json) = store.meta("supervisor")? else {
        return Ok(None);
    };
    match serde_json::from_str(&json) {
        Ok(state) => Ok(Some(state)),
        Err(e) => {
            store.set_meta("supervisor.unreadable", &json)?;
            notes.push(Notification::Warning {
                message: format!(
                    "the supervisor's saved state in .fleet/fleet.db could not be read ({e}); its pending proposals are kept under meta `supervisor.unreadable` and it starts afresh"
                ),
            });
            Ok(None)
        }
    }
}

fn limits_with_saved_budget(
    config: &Config,
    store: &Store,
    auto_approve: bool,
) -> Result<Limits, StoreError> {
    let mut limits = config.limits(auto_approve);
    if let Some(saved) = store
        .meta("fleet_budget")?
        .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
    {
        limits.budget.fleet_usd = saved["usd"].as_f64().or(limits.budget.fleet_usd);
        limits.budget.fleet_tokens = saved["tokens"].as_u64().or(limits.budget.fleet_tokens);
    }
    Ok(limits)
}

/// Finishes the checkout update of a merge that an earlier process did not
/// complete; what it did, for the observers. When the engine opens.
fn finish_checkout(root: &Path) -> Result<Vec<Notification>, EngineError> {
    let finished = git::finish_pending_checkout(root)?;
    Ok(finished
        .message()
        .into_iter()
        .map(|message| {
            tracing::warn!("{message}");
            Notification::Warning { message }
        })
        .collect())
}

/// [`EngineError::LostState`] when the store holds no fleet but git does
/// (task merges on `target`, `fleet/*` branches, `refs/fleet/*`). When the
/// engine opens, before the plan is imported.
fn refuse_lost_state(store: &Store, root: &Path, target: &str) -> Result<(), EngineError> {
    if !store.is_empty()? {
        return Ok(());
    }
    let scan = git::scan_fleet(root, target)?;
    if scan.is_empty() {
        return Ok(());
    }
    Err(EngineError::LostState {
        db: store.path().to_owned(),
        found: scan.summary(),
        refs: !scan.branches.is_empty() || !scan.saved.is_empty(),
    })
}
