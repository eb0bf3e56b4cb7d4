//! `fleetdeck status`: every task with its column, cost and reason. Reads the
//! database without taking the lock, so it works while a run is active.

use std::path::Path;

use crate::config::Config;
use crate::core::team::fanout::DiffStat;
use crate::core::{Scheduler, Task};
use crate::store::{DB_FILE, Store};
use crate::summary::{self, StatusDoc, TaskRow};

pub fn main(root: &Path, json: bool) -> i32 {
    match document(root) {
        Ok(mut doc) => {
            let live = crate::store::FleetLock::is_held(&root.join(".fleet"));
            mark_interrupted(&mut doc, live);
            if json {
                match serde_json::to_string_pretty(&doc) {
                    Ok(doc) => println!("{doc}"),
                    Err(e) => {
                        eprintln!("fleetdeck: {e}");
                        return 1;
                    }
                }
            } else {
                print_table(&doc, live);
            }
            0
        }
        Err((code, message)) => {
            eprintln!("fleetdeck: {message}");
            code
        }
    }
}

fn document(root: &Path) -> Result<StatusDoc, (i32, String)> {
    let config = Config::load(root);
    let db = root.join(".fleet").join(DB_FILE);
    let (tasks, attempts, paused, why) = if db.exists() {
        let store = Store::open(&root.join(".fleet")).map_err(|e| (1, e.to_string()))?;
        let tasks = store.load_tasks().map_err(|e| (1, e.to_string()))?;
        let attempts = store.all_attempts().map_err(|e| (1, e.to_string()))?;
        let why = store.fleet_paused_reason().ok().flatten();
        (tasks, attempts, store.fleet_paused().unwrap_or(false), why)
    } else {
        // Nothing ran yet: show the plan as written, without creating .fleet/.
        let config = config
            .as_ref()
            .map_err(|e| (if e.is_missing() { 1 } else { 2 }, no_fleet(e)))?;
        (
            config.tasks.iter().cloned().map(Task::new).collect(),
            Vec::new(),
            false,
            None,
        )
    };
    let (limits, agents): (_, Vec<String>) = match &config {
        Ok(c) => (c.limits(false), c.agents.keys().cloned().collect()),
        Err(e) => {
            eprintln!("fleetdeck: warning: {e}");
            (
                Default::default(),
                tasks.iter().map(|t| t.spec.agent.clone()).collect(),
            )
        }
    };
    let mut scheduler = Scheduler::new(limits, agents, tasks, paused);
    scheduler.set_clock(crate::store::now_ms());
    let mut doc = summary::document(&scheduler, &attempts);
    let target = config
        .as_ref()
        .ok()
        .and_then(|c| c.fleet.target.clone())
        .or_else(|| crate::git::current_branch(root).ok().flatten());
    if let Some(target) = target {
        diff_stats(root, &target, &mut doc);
    }
    if let (Some(paused), Some(why)) = (doc.fleet_paused.as_mut(), why) {
        *paused = why;
    }
    Ok(doc)
}

/// Fills the diff stats of fan-out candidates from their branches (a
/// candidate without a branch yet has none, nor has the merged one: its
/// branch is on the target).
fn diff_stats(root: &Path, target: &str, doc: &mut StatusDoc) {
    for row in &mut doc.tasks {
        for c in &mut row.candidates {
            if c.status == "done" {
                continue;
            }
            if let Ok(changes) = crate::git::task_changes(root, c.task.as_str(), target) {
                let texts = changes.iter().map(|f| (f.old.as_deref(), f.new.as_deref()));
                c.diff = Some(DiffStat::of_texts(texts));
            }
        }
    }
}

fn no_fleet(e: &crate::config::ConfigError) -> String {
    if e.is_missing() {
        format!(
            "{e}\nThis repository has no fleet yet: `fleetdeck init` writes a fleet.toml to start from."
        )
    } else {
        e.to_string()
    }
}

/// A task the store records as running, verifying or updating while no
/// engine holds the fleet: that work was interrupted and is redone on the
/// next run (see `Scheduler::start`), so the table does not say it runs.
fn interrupted(row: &TaskRow, live: bool) -> bool {
    !live && matches!(row.status.as_str(), "running" | "verifying" | "updating")
}

/// Marks what `live` (an engine holds the fleet) says of the stored
/// statuses: with no engine, a task recorded running or verifying is
/// interrupted, and so is its unfinished attempt.
fn mark_interrupted(doc: &mut StatusDoc, live: bool) {
    doc.engine_running = live;
    for row in &mut doc.tasks {
        row.interrupted = interrupted(row, live);
        if row.interrupted {
            row.stalled = None; // the stall was the interrupted attempt's
        }
        if row.interrupted
            && let Some(last) = row.history.last_mut()
            && last.detail.is_none()
        {
            last.outcome = "interrupted".into();
        }
    }
}

fn print_table(doc: &StatusDoc, live: bool) {
    print_tasks(&doc.tasks, live);
    match doc.fleet_paused.as_deref() {
        None => {}
        Some("") => println!(
            "\nthe fleet is paused: resume it with P in the cockpit, or `fleetdeck run --resume`"
        ),
        Some(why) => println!("\nthe fleet is paused: {}", crate::sanitize::sanitize(why)),
    }
    if !doc.agents.is_empty() {
        println!();
        for a in &doc.agents {
            println!(
                "  {:<12} {:>3} attempt(s)  ${:>9.4}  {:>10} tokens",
                a.agent, a.attempts, a.cost_usd, a.tokens
            );
        }
        println!(
            "  {:<12} {:>14}  ${:>9.4}  {:>10} tokens",
            "total", "", doc.total.cost_usd, doc.total.tokens
        );
    }
}

fn print_tasks(rows: &[TaskRow], live: bool) {
    // A candidate's row says how it compares (outcome, gate, time, cost, diff).
    let compared = |r: &TaskRow| {
        rows.iter()
            .flat_map(|p| &p.candidates)
            .find(|c| c.task.as_str() == r.id)
            .map(|c| c.describe())
    };
    if rows.is_empty() {
        println!("no tasks: add [[task]] tables to fleet.toml or use `fleetdeck add`");
        return;
    }
    // A fan-out task's candidates are indented under it.
    let id = |r: &TaskRow| match r.candidate_of {
        Some(_) => format!("  {}", r.id),
        None => r.id.clone(),
    };
    let width = rows.iter().map(|r| id(r).len()).max().unwrap_or(2).max(2);
    println!(
        "{:<width$}  {:<11}  {:<7}  {:<10}  {:>3}  {:>8}  {:>8}  WHY / TITLE",
        "ID", "STATUS", "COLUMN", "AGENT", "TRY", "COST", "TOKENS"
    );
    for r in rows {
        let (status, why) = if interrupted(r, live) {
            let why = format!("interrupted (resumes on the next run; it was {})", r.status);
            ("interrupted", why)
        } else if let Some(stalled) = &r.stalled {
            (r.status.as_str(), format!("stalled: {stalled}"))
        } else if let (None, Some(compared)) = (&r.reason, compared(r)) {
            (r.status.as_str(), compared)
        } else {
            let why = r.reason.as_deref().unwrap_or(&r.title).to_owned();
            (r.status.as_str(), why)
        };
        println!(
            "{:<width$}  {:<11}  {:<7}  {:<10}  {:>3}  {:>8}  {:>8}  {}",
            id(r),
            status,
            r.column.to_string(),
            r.agent,
            r.attempts,
            format!("${:.4}", r.cost_usd),
            r.tokens,
            crate::sanitize::sanitize(&why)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_in_flight_without_an_engine_is_interrupted() {
        let row = |status: &str| TaskRow {
            id: "a".into(),
            title: "A".into(),
            status: status.into(),
            column: crate::core::Column::Running,
            agent: "sim".into(),
            attempts: 1,
            tries: 1,
            stalled: None,
            blocker: None,
            review: None,
            cost_usd: 0.0,
            tokens: 0,
            reason: None,
            history: Vec::new(),
            interrupted: false,
            candidate_of: None,
            candidates: Vec::new(),
        };
        for s in ["running", "verifying", "updating"] {
            assert!(interrupted(&row(s), false), "{s}");
            assert!(!interrupted(&row(s), true), "{s} with an engine");
        }
        for s in ["queued", "review", "done"] {
            assert!(!interrupted(&row(s), false), "{s}");
        }
    }
}
