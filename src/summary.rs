//! A read model of the fleet for listings: one row per task with its
//! column, cost and the reason it is held or failed. Used by
//! `fleetdeck status` and the headless summary.

use std::collections::HashMap;

use serde::Serialize;

use crate::core::outcome::{AttemptOutcome, attempt_word};
use crate::core::team::fanout::{CandidateAttempt, CandidateRow, compare};
use crate::core::{Column, Scheduler};
use crate::store::{AttemptRecord, Usage};

/// One task as `fleetdeck status --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRow {
    pub id: String,
    pub title: String,
    pub status: String,
    pub column: Column,
    pub agent: String,
    pub attempts: u32,
    /// Attempts counted against `max_attempts` since the last human decision
    /// (a nudged, restarted or rate-limited attempt is not counted).
    pub tries: u32,
    /// Set while the live attempt is stalled: why (its progress ledger).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stalled: Option<String>,
    /// An agent's open blocker (`fleetdeck msg blocker`), until the user's
    /// next decision on the task or its next attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocker: Option<String>,
    pub cost_usd: f64,
    pub tokens: u64,
    /// Why the task is failed, held or blocked (naming the files of a conflict or refused merge).
    pub reason: Option<String>,
    /// Every attempt of the task, oldest first, with its outcome.
    pub history: Vec<AttemptRow>,
    /// Recorded as running or verifying while no engine holds the fleet
    /// (set by `status`): its attempt was interrupted and is redone on the
    /// next run.
    pub interrupted: bool,
    /// The fan-out task this one is a candidate of (its row follows the parent's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_of: Option<String>,
    /// A fan-out task's candidates compared (`core::team::fanout::compare`;
    /// their diff stats filled by `status`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CandidateRow>,
    /// The reviewer agent's latest verdict on the task's work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<crate::core::team::ReviewVerdict>,
}

/// One attempt of a task as `status --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRow {
    pub attempt: u32,
    pub agent: String,
    /// The outcome's word ("succeeded", "verify failed", "running"...).
    pub outcome: String,
    /// The typed outcome (None while running or verifying).
    pub detail: Option<AttemptOutcome>,
    pub message: Option<String>,
    pub cost_usd: f64,
    pub tokens: u64,
}

/// Spending of one agent profile, over all its attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    pub agent: String,
    pub attempts: usize,
    pub cost_usd: f64,
    pub tokens: u64,
}

/// The fleet's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub cost_usd: f64,
    pub tokens: u64,
}

/// The `{"tasks": [...], "agents": [...], "total": {...}, "fleet_paused": ...}` document.
#[derive(Debug, Clone, Serialize)]
pub struct StatusDoc {
    pub tasks: Vec<TaskRow>,
    pub agents: Vec<AgentRow>,
    pub total: Totals,
    /// None while the fleet runs; when it is paused, why (empty when unknown).
    pub fleet_paused: Option<String>,
    /// Whether an engine (a run or the cockpit) holds the fleet now (set by `status`).
    pub engine_running: bool,
}

/// Spending per agent profile (by the profile that ran each attempt), sorted by name.
pub fn agent_rows(attempts: &[AttemptRecord]) -> Vec<AgentRow> {
    let mut by: std::collections::BTreeMap<&str, AgentRow> = Default::default();
    for a in attempts {
        let row = by.entry(a.agent.as_str()).or_insert_with(|| AgentRow {
            agent: a.agent.clone(),
            attempts: 0,
            cost_usd: 0.0,
            tokens: 0,
        });
        row.attempts += 1;
        row.cost_usd += a.usage.cost_usd;
        row.tokens += a.usage.tokens();
    }
    by.into_values().collect()
}

/// The whole document for `fleetdeck status --json`.
pub fn document(scheduler: &Scheduler, attempts: &[AttemptRecord]) -> StatusDoc {
    let agents = agent_rows(attempts);
    let total = Totals {
        cost_usd: agents.iter().map(|a| a.cost_usd).sum(),
        tokens: agents.iter().map(|a| a.tokens).sum(),
    };
    StatusDoc {
        tasks: rows(scheduler, attempts),
        agents,
        total,
        fleet_paused: scheduler.fleet_paused().then(String::new),
        engine_running: false,
    }
}

/// Rows for every task, in plan order (a fan-out task's candidates right
/// after it), with usage summed over `attempts`.
pub fn rows(scheduler: &Scheduler, attempts: &[AttemptRecord]) -> Vec<TaskRow> {
    let rows = plan_rows(scheduler, attempts);
    let (candidates, mut rest): (Vec<TaskRow>, Vec<TaskRow>) =
        rows.into_iter().partition(|r| r.candidate_of.is_some());
    let mut ordered = Vec::with_capacity(rest.len() + candidates.len());
    let mut placed = vec![false; candidates.len()];
    for row in rest.drain(..) {
        let id = row.id.clone();
        ordered.push(row);
        for (k, c) in candidates.iter().enumerate() {
            if c.candidate_of.as_deref() == Some(id.as_str()) {
                ordered.push(c.clone());
                placed[k] = true;
            }
        }
    }
    let orphans = candidates.into_iter().zip(placed).filter(|(_, p)| !p);
    ordered.extend(orphans.map(|(c, _)| c));
    ordered
}

/// The compare rows of `parent`'s candidates (none for other tasks).
fn candidate_rows(
    scheduler: &Scheduler,
    parent: &crate::core::Task,
    attempts: &[AttemptRecord],
) -> Vec<CandidateRow> {
    let candidates: Vec<&crate::core::Task> = scheduler
        .tasks()
        .iter()
        .filter(|t| t.spec.candidate_of.as_ref() == Some(parent.id()))
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let own: Vec<CandidateAttempt> = attempts
        .iter()
        .filter(|a| candidates.iter().any(|c| c.id().as_str() == a.task))
        .filter_map(|a| {
            Some(CandidateAttempt {
                task: crate::core::TaskId::parse(&a.task).ok()?,
                n: a.n,
                started_ms: a.started_ms,
                ended_ms: a.ended_ms,
                outcome: a.outcome.clone(),
            })
        })
        .collect();
    let now = crate::store::now_ms();
    compare(parent.id(), &candidates, &own, &Default::default(), now)
}

fn plan_rows(scheduler: &Scheduler, attempts: &[AttemptRecord]) -> Vec<TaskRow> {
    let mut usage: HashMap<&str, Usage> = HashMap::new();
    let mut history: HashMap<&str, Vec<&AttemptRecord>> = HashMap::new();
    for a in attempts {
        *usage.entry(a.task.as_str()).or_default() += a.usage;
        history.entry(a.task.as_str()).or_default().push(a);
    }
    scheduler
        .tasks()
        .iter()
        .map(|t| {
            let u = usage.get(t.id().as_str()).copied().unwrap_or_default();
            TaskRow {
                id: t.id().to_string(),
                title: t.spec.title.clone(),
                status: t.status.name().to_owned(),
                column: t.status.column(),
                agent: t.spec.agent.clone(),
                attempts: t.attempts,
                tries: t.tries,
                stalled: t.stalled.clone(),
                blocker: t.blocker.clone(),
                review: t.review.clone(),
                cost_usd: u.cost_usd,
                tokens: u.tokens(),
                reason: scheduler.reason(t),
                history: history
                    .get(t.id().as_str())
                    .into_iter()
                    .flatten()
                    .map(|a| AttemptRow {
                        attempt: a.n,
                        agent: a.agent.clone(),
                        outcome: attempt_word(a.outcome.as_ref(), a.n, &t.status),
                        detail: a.outcome.clone(),
                        message: a.message.clone(),
                        cost_usd: a.usage.cost_usd,
                        tokens: a.usage.tokens(),
                    })
                    .collect(),
                interrupted: false,
                candidate_of: t.spec.candidate_of.as_ref().map(ToString::to_string),
                candidates: candidate_rows(scheduler, t, attempts),
            }
        })
        .collect()
}
