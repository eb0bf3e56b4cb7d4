//! The scheduler: a pure state machine over the plan.
//!
//! It takes one input at a time — a user [`Command`], a runtime [`Report`] —
//! updates the tasks and returns the [`Effect`]s the runtime must carry out
//! (start this agent, signal that one, run this gate, merge this branch, save
//! this task, record this event). It never does I/O, so every rule is tested
//! with plain unit tests (see `tests.rs`).

mod commands;
mod reports;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::feedback::{Feedback, compose_prompt};
use super::messages::{Actor, Effect, Event, Report, Signal, StartRequest, Workspace};
use super::status::Status;
use super::task::{TaskId, TaskSpec};

/// Capacity and policy knobs, from `[fleet]` and `[agents.*]` in fleet.toml.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Agents running (or paused) at once, across the fleet.
    pub max_parallel: usize,
    /// Attempts per task (since the last human decision) before it is Failed.
    pub max_attempts: u32,
    /// No new agent starts while this many tasks wait in Review.
    pub max_review: Option<usize>,
    /// Per-profile caps, for the profiles that have one.
    pub agent_caps: BTreeMap<String, usize>,
    /// Approve every task that passes its gate (headless `--auto-approve`).
    pub auto_approve: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_parallel: 4,
            max_attempts: 3,
            max_review: None,
            agent_caps: BTreeMap::new(),
            auto_approve: false,
        }
    }
}

/// What to do when an agent we asked to stop has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterStop {
    /// Queue the task again (it was reassigned).
    Requeue,
    /// Drop the task.
    Drop,
}

/// A task as the scheduler tracks it: the spec plus everything that changes while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub spec: TaskSpec,
    pub status: Status,
    /// Number of the latest attempt started (attempts are numbered from 1).
    #[serde(default)]
    pub attempts: u32,
    /// Attempts since the last human decision; reaching `max_attempts` fails the task.
    #[serde(default)]
    pub tries: u32,
    /// What the next attempt is told about the previous one.
    #[serde(default)]
    pub feedback: Option<Feedback>,
    /// How the next attempt treats the worktree.
    #[serde(default)]
    pub workspace: Workspace,
    /// Set while a stop we asked for is in progress.
    #[serde(default)]
    pub after_stop: Option<AfterStop>,
}

impl Task {
    /// A task that has never run.
    pub fn new(spec: TaskSpec) -> Self {
        Self {
            spec,
            status: Status::Queued { held: false },
            attempts: 0,
            tries: 0,
            feedback: None,
            workspace: Workspace::Continue,
            after_stop: None,
        }
    }

    /// The prompt the next attempt gets: the task's prompt plus any feedback.
    pub fn next_prompt(&self) -> String {
        compose_prompt(&self.spec.prompt, self.feedback.as_ref())
    }

    pub fn id(&self) -> &TaskId {
        &self.spec.id
    }
}

/// The state machine. See the module documentation.
#[derive(Debug)]
pub struct Scheduler {
    tasks: Vec<Task>,
    index: HashMap<TaskId, usize>,
    limits: Limits,
    agents: BTreeSet<String>,
    fleet_paused: bool,
    /// The task whose merge is in flight (merges run one at a time).
    merging: Option<TaskId>,
    /// Tasks whose gate is in flight.
    gating: HashSet<TaskId>,
}

/// Collects effects for one input.
#[derive(Default)]
struct Out {
    fx: Vec<Effect>,
}

impl Out {
    fn record(&mut self, actor: Actor, event: Event) {
        self.fx.push(Effect::Record { actor, event });
    }
}

impl Scheduler {
    /// A scheduler over `tasks` (in plan order) as loaded from the store.
    /// Call [`Scheduler::start`] once before anything else.
    pub fn new(
        limits: Limits,
        agents: impl IntoIterator<Item = String>,
        tasks: Vec<Task>,
        fleet_paused: bool,
    ) -> Self {
        let index = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.spec.id.clone(), i))
            .collect();
        Self {
            tasks,
            index,
            limits,
            agents: agents.into_iter().collect(),
            fleet_paused,
            merging: None,
            gating: HashSet::new(),
        }
    }

    /// Recovers from an engine that died, then starts what can start.
    ///
    /// Attempts that were running are interrupted: their tasks go back to
    /// Queued, to redo the attempt from where it began, and the fleet is
    /// paused so nothing starts by surprise. Tasks that were verifying are
    /// verified again and approved merges are finished.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut out = Out::default();
        let mut interrupted = 0;
        for i in 0..self.tasks.len() {
            let Some(attempt) = self.live_attempt(i) else {
                continue;
            };
            interrupted += 1;
            let task = &mut self.tasks[i];
            task.tries = task.tries.saturating_sub(1);
            out.record(
                Actor::Engine,
                Event::Interrupted {
                    task: task.spec.id.clone(),
                    attempt,
                },
            );
            match task.after_stop.take() {
                Some(AfterStop::Drop) => self.finish_drop(i, &mut out),
                Some(AfterStop::Requeue) => self.requeue(i, Workspace::Continue, &mut out),
                None => self.requeue(i, Workspace::Rollback { attempt }, &mut out),
            }
        }
        if interrupted > 0 && !self.fleet_paused {
            let reason = format!(
                "{interrupted} running attempt(s) were interrupted when the previous run stopped; resume the fleet to continue"
            );
            self.set_fleet_paused(true, Actor::Engine, reason, &mut out);
        }
        self.pump(&mut out);
        out.fx
    }

    /// Takes a runtime report and returns what to do next. Reports that no
    /// longer match the task's state (a stale attempt) are ignored.
    pub fn report(&mut self, report: Report) -> Vec<Effect> {
        let mut out = Out::default();
        match report {
            Report::AgentExited {
                task,
                attempt,
                result,
            } => self.agent_exited(&task, attempt, result, &mut out),
            Report::Gated {
                task,
                attempt,
                result,
            } => self.gated(&task, attempt, result, &mut out),
            Report::Merged { task, result } => self.merged(&task, result, &mut out),
        }
        self.pump(&mut out);
        out.fx
    }

    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.index.get(id).map(|&i| &self.tasks[i])
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn fleet_paused(&self) -> bool {
        self.fleet_paused
    }

    /// Whether an agent profile is known.
    pub fn has_agent(&self, name: &str) -> bool {
        self.agents.contains(name)
    }

    /// True when nothing is in flight: no agent process, gate or merge. After
    /// any input the scheduler has already started all it could, so an idle
    /// scheduler changes only on a new command.
    pub fn is_idle(&self) -> bool {
        self.merging.is_none()
            && self.gating.is_empty()
            && !self.tasks.iter().any(|t| t.status.has_agent())
    }

    /// Dependencies of `task` that are not Done yet.
    pub fn pending_deps<'a>(&'a self, task: &'a Task) -> impl Iterator<Item = &'a TaskId> + 'a {
        task.spec.deps.iter().filter(|d| !self.is_done(d))
    }

    /// Why a task is failed, held or blocked, in words; None when it is simply progressing.
    pub fn reason(&self, task: &Task) -> Option<String> {
        match &task.status {
            Status::Failed { reason } => Some(reason.clone()),
            Status::Review {
                block: Some(block), ..
            } => Some(block.to_string()),
            Status::Paused { .. } => Some("paused by the user".into()),
            Status::Verifying { .. } if self.fleet_paused && !self.gating.contains(task.id()) => {
                Some("verify waits for the fleet to resume".into())
            }
            Status::Queued { held: true } => Some("held by the user".into()),
            Status::Queued { held: false } | Status::Merging { .. } => {
                let pending: Vec<&str> = self.pending_deps(task).map(TaskId::as_str).collect();
                if !pending.is_empty() {
                    let what = if matches!(task.status, Status::Merging { .. }) {
                        "merge waits for"
                    } else {
                        "waiting for"
                    };
                    Some(format!("{what} {}", pending.join(", ")))
                } else if !self.agents.contains(&task.spec.agent) {
                    Some(format!("agent `{}` is not defined", task.spec.agent))
                } else if self.fleet_paused && matches!(task.status, Status::Queued { .. }) {
                    Some("the fleet is paused".into())
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn is_done(&self, id: &TaskId) -> bool {
        self.index
            .get(id)
            .is_some_and(|&i| matches!(self.tasks[i].status, Status::Done { .. }))
    }

    fn live_attempt(&self, i: usize) -> Option<u32> {
        match self.tasks[i].status {
            Status::Running { attempt } | Status::Paused { attempt } => Some(attempt),
            _ => None,
        }
    }

    fn set_status(&mut self, i: usize, to: Status, actor: Actor, out: &mut Out) {
        let task = &mut self.tasks[i];
        let from = std::mem::replace(&mut task.status, to.clone());
        let id = task.spec.id.clone();
        out.fx.push(Effect::SaveTask { task: id.clone() });
        out.record(actor, Event::Status { task: id, from, to });
    }

    fn set_fleet_paused(&mut self, paused: bool, actor: Actor, reason: String, out: &mut Out) {
        self.fleet_paused = paused;
        out.fx.push(Effect::SaveFleet { paused });
        let event = if paused {
            Event::FleetPaused { reason }
        } else {
            Event::FleetResumed
        };
        out.record(actor, event);
    }

    fn requeue(&mut self, i: usize, workspace: Workspace, out: &mut Out) {
        self.tasks[i].workspace = workspace;
        self.set_status(i, Status::Queued { held: false }, Actor::Engine, out);
    }

    fn finish_drop(&mut self, i: usize, out: &mut Out) {
        self.set_status(i, Status::Dropped, Actor::User, out);
        out.fx.push(Effect::RemoveWorktree {
            task: self.tasks[i].spec.id.clone(),
        });
    }

    /// Starts merges, pending gates and agents, as capacity and policy allow.
    fn pump(&mut self, out: &mut Out) {
        if self.merging.is_none() {
            let next = (0..self.tasks.len()).find(|&i| {
                matches!(self.tasks[i].status, Status::Merging { .. })
                    && self.pending_deps(&self.tasks[i]).next().is_none()
            });
            if let Some(i) = next {
                let Status::Merging { attempt } = self.tasks[i].status else {
                    return;
                };
                let id = self.tasks[i].spec.id.clone();
                self.merging = Some(id.clone());
                out.fx.push(Effect::Merge { task: id, attempt });
            }
        }
        if self.fleet_paused {
            return;
        }
        for task in &self.tasks {
            if let Status::Verifying { attempt } = task.status
                && self.gating.insert(task.spec.id.clone())
            {
                out.fx.push(Effect::Gate {
                    task: task.spec.id.clone(),
                    attempt,
                });
            }
        }
        let reviewing = self
            .tasks
            .iter()
            .filter(|t| matches!(t.status, Status::Review { .. }))
            .count();
        if self.limits.max_review.is_some_and(|max| reviewing >= max) {
            return;
        }
        let mut running = 0;
        let mut per_agent: HashMap<&str, usize> = HashMap::new();
        for t in self.tasks.iter().filter(|t| t.status.has_agent()) {
            running += 1;
            *per_agent.entry(t.spec.agent.as_str()).or_default() += 1;
        }
        if running >= self.limits.max_parallel {
            return;
        }
        let mut ready: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| {
                let t = &self.tasks[i];
                t.status == Status::Queued { held: false }
                    && self.agents.contains(&t.spec.agent)
                    && self.pending_deps(t).next().is_none()
            })
            .collect();
        ready.sort_by_key(|&i| (std::cmp::Reverse(self.tasks[i].spec.priority), i));
        let mut to_start = Vec::new();
        for i in ready {
            if running >= self.limits.max_parallel {
                break;
            }
            let agent = self.tasks[i].spec.agent.as_str();
            let used = per_agent.entry(agent).or_default();
            if self
                .limits
                .agent_caps
                .get(agent)
                .is_some_and(|cap| *used >= *cap)
            {
                continue;
            }
            *used += 1;
            running += 1;
            to_start.push(i);
        }
        for i in to_start {
            self.start_attempt(i, out);
        }
    }

    fn start_attempt(&mut self, i: usize, out: &mut Out) {
        let task = &mut self.tasks[i];
        task.attempts += 1;
        task.tries += 1;
        let attempt = task.attempts;
        let request = StartRequest {
            task: task.spec.id.clone(),
            attempt,
            agent: task.spec.agent.clone(),
            prompt: task.next_prompt(),
            workspace: std::mem::take(&mut task.workspace),
        };
        let event = Event::AgentStarted {
            task: request.task.clone(),
            attempt,
            agent: request.agent.clone(),
        };
        self.set_status(i, Status::Running { attempt }, Actor::Engine, out);
        out.record(Actor::Engine, event);
        out.fx.push(Effect::StartAgent(request));
    }

    fn signal(&self, i: usize, signal: Signal, out: &mut Out) {
        out.fx.push(Effect::SignalAgent {
            task: self.tasks[i].spec.id.clone(),
            signal,
        });
    }
}
