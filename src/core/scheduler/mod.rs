//! The scheduler: a pure state machine over the plan.
//!
//! It takes one input at a time — a user [`Command`], a runtime [`Report`] —
//! updates the tasks and returns the [`Effect`]s the runtime must carry out
//! (start this agent, signal that one, run this gate, merge this branch, save
//! this task, record this event). It never does I/O, so every rule is tested
//! with plain unit tests (see `tests.rs`).

mod budget;
mod commands;
mod fanout;
mod group;
mod nudge;
mod reports;
mod review;
mod supervise;
mod team;
#[cfg(test)]
mod tests;
mod update;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use budget::Budgets;
pub use reports::environment_reason;
pub use review::ReviewPolicy;
pub use supervise::SupervisorState;
pub use team::TeamState;

use super::feedback::{Feedback, FeedbackKind};
pub use super::fleet::{AfterStop, Fleet, Task};
use super::messages::{
    Actor, Continuation, Effect, Event, Report, Signal, StartRequest, Workspace,
};
use super::outcome::AttemptOutcome;
use super::status::Status;
use super::task::TaskId;

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
    /// Update a task onto the target at once when its merge conflicts or is
    /// refused, and send its agent to resolve a conflicting update
    /// (`[fleet] auto_update`).
    pub auto_update: bool,
    /// First wait after a rate limit (ms); it doubles after each further one, up to 15 minutes.
    pub backoff_ms: i64,
    pub budget: Budgets,
    /// `[supervisor] autonomy`, when a supervisor is configured (None: no
    /// supervisor, nothing is consulted).
    pub supervisor: Option<crate::core::supervisor::AutonomyTable>,
    /// `[review]`, when a reviewer agent is configured (None: the human
    /// reviews alone).
    pub review: Option<ReviewPolicy>,
    /// Profiles whose sessions can be resumed: their running agents are
    /// told a new context entry at once (stopped and resumed with it);
    /// the others learn it in their next attempt's prompt.
    pub resumable: BTreeSet<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_parallel: 4,
            max_attempts: 3,
            max_review: None,
            agent_caps: BTreeMap::new(),
            auto_approve: false,
            auto_update: false,
            backoff_ms: 30_000,
            budget: Budgets::default(),
            supervisor: None,
            review: None,
            resumable: BTreeSet::new(),
        }
    }
}

/// The state machine. See the module documentation.
#[derive(Debug, Clone)]
pub struct Scheduler {
    fleet: Fleet,
    limits: Limits,
    /// The task whose merge is in flight (merges run one at a time).
    merging: Option<TaskId>,
    /// Tasks whose gate is in flight.
    gating: HashSet<TaskId>,
    /// Tasks whose update onto the target is in flight.
    updating: HashSet<TaskId>,
    /// Groups whose integration is in flight.
    integrating: HashSet<String>,
    /// The time (Unix ms) as last told by [`Scheduler::set_clock`] or [`Scheduler::tick`].
    now_ms: i64,
    /// The fleet was paused by its budget (raising the budget resumes it).
    paused_for_budget: bool,
    /// Gates run although the fleet is paused: see [`Scheduler::gate_while_held`].
    gates_while_held: bool,
    /// The supervisor's consultations and proposals.
    sup: SupervisorState,
    /// A fleet.toml proposal to show at start ([`Scheduler::offer_config`]).
    offer: Option<crate::core::supervisor::Proposal>,
    /// The team layer's state: message numbers, the context store.
    team: TeamState,
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

    /// Records the outcome of `attempt` of task `task`.
    fn ended(
        &mut self,
        task: &TaskId,
        attempt: u32,
        outcome: AttemptOutcome,
        message: Option<String>,
    ) {
        let event = Event::AttemptEnded {
            task: task.clone(),
            attempt,
            outcome,
            message,
        };
        self.record(Actor::Engine, event);
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
        Self {
            fleet: Fleet::new(
                crate::core::team::fanout::plan_order(tasks),
                agents,
                fleet_paused,
            ),
            limits,
            merging: None,
            gating: HashSet::new(),
            updating: HashSet::new(),
            integrating: HashSet::new(),
            now_ms: 0,
            paused_for_budget: false,
            gates_while_held: false,
            sup: SupervisorState::default(),
            offer: None,
            team: TeamState::default(),
        }
    }

    /// Tells the scheduler the time (Unix ms) before an input: it uses it for
    /// backoff deadlines and reasons. The scheduler never reads a clock itself.
    pub fn set_clock(&mut self, now_ms: i64) {
        self.now_ms = self.now_ms.max(now_ms);
    }

    /// Time passed (a [`Effect::WakeAt`] came due): start what may start now.
    pub fn tick(&mut self, now_ms: i64) -> Vec<Effect> {
        self.set_clock(now_ms);
        let mut out = Out::default();
        self.pump(&mut out);
        out.fx
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
        for i in 0..self.fleet.tasks.len() {
            let Some(attempt) = self.live_attempt(i) else {
                continue;
            };
            interrupted += 1;
            let task = &mut self.fleet.tasks[i];
            task.tries = task.tries.saturating_sub(1);
            // What the interrupted attempt spent was spent.
            task.spent = task.spent + task.live;
            task.live = Default::default();
            task.over_budget = None;
            task.stalled = None;
            let id = task.spec.id.clone();
            out.record(
                Actor::Engine,
                Event::Interrupted {
                    task: id.clone(),
                    attempt,
                },
            );
            let why = "fleetdeck stopped while it ran".to_owned();
            out.ended(&id, attempt, AttemptOutcome::Interrupted, Some(why));
            match task.after_stop.take() {
                Some(AfterStop::Drop) => self.finish_drop(i, &mut out),
                Some(AfterStop::Requeue) => self.requeue(i, Workspace::Continue, &mut out),
                None => {
                    let ws = self.rollback(i, attempt);
                    self.requeue(i, ws, &mut out)
                }
            }
        }
        if interrupted > 0 && !self.fleet.paused {
            let reason = format!(
                "{interrupted} running attempt(s) were interrupted when the previous run stopped; resume the fleet to continue"
            );
            self.set_fleet_paused(true, Actor::Engine, reason, &mut out);
        }
        self.resume_supervisor(&mut out);
        self.resume_reviews(&mut out);
        self.pump(&mut out);
        out.fx
    }

    /// Takes a runtime report and returns what to do next. Reports that no
    /// longer match the task's state (a stale attempt) are ignored.
    pub fn report(&mut self, report: Report) -> Vec<Effect> {
        let mut out = Out::default();
        match report {
            report @ Report::Message { .. } => self.message(report, &mut out),
            Report::Reviewed {
                task,
                attempt,
                round,
                result,
            } => self.reviewed(&task, attempt, round, result, &mut out),
            Report::Integrated { group, result } => self.integrated(&group, result, &mut out),
            Report::GroupMerged { group, result } => self.group_merged(&group, result, &mut out),
            Report::Overlap { task, other, file } => self.overlap(&task, &other, file, &mut out),
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
            Report::Updated {
                task,
                attempt,
                result,
            } => self.updated(&task, attempt, result, &mut out),
            Report::Usage {
                task,
                attempt,
                spend,
            } => {
                // The most frequent report: it can only pause (a paused agent
                // keeps its slot), so there is nothing new to start or merge.
                self.usage(&task, attempt, spend, &mut out);
                return out.fx;
            }
            Report::Proposed { consult, result } => self.proposed(consult, result, &mut out),
            Report::Stalled { task, attempt, why } => self.stalled(&task, attempt, why, &mut out),
            Report::AgentNote {
                task,
                attempt,
                kind,
                text,
            } => self.agent_note(&task, attempt, kind, text, &mut out),
        }
        self.pump(&mut out);
        out.fx
    }

    /// The tasks and the queries on them (pending dependencies, reasons...).
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    pub fn tasks(&self) -> &[Task] {
        self.fleet.tasks()
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.fleet.task(id)
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn fleet_paused(&self) -> bool {
        self.fleet.paused()
    }

    /// True when nothing will progress without a human: no merge or gate in
    /// flight and no agent actually running (paused agents, or any agent while
    /// the fleet is paused, wait for the user). After any input the scheduler
    /// has already started all it could.
    /// For the engine of a one-shot command (`update`, `resolve`, `approve`),
    /// which holds a fleet that is not paused as paused only for itself so
    /// that no agent starts: the verify gates still run (the re-gate after a
    /// clean update, the user's resolution), so the command ends with the
    /// task back in review. Ends at an environment fault.
    pub fn gate_while_held(&mut self) {
        self.gates_while_held = true;
    }

    pub fn is_idle(&self) -> bool {
        self.merging.is_none()
            && self.gating.is_empty()
            && self.updating.is_empty()
            && !self
                .fleet
                .tasks
                .iter()
                .any(|t| matches!(t.status, Status::Reviewing { .. }))
            && self.integrating.is_empty()
            && (self.fleet.paused
                || !self
                    .fleet
                    .tasks
                    .iter()
                    .any(|t| matches!(t.status, Status::Running { .. })))
    }

    /// Why a task is failed, held or blocked, in words ([`Fleet::reason`], plus
    /// a gate that waits for the fleet to resume); None when it is progressing.
    pub fn reason(&self, task: &Task) -> Option<String> {
        self.reason_when(task, self.fleet.paused)
    }

    /// [`Scheduler::reason`] as if the fleet's paused flag were `paused`:
    /// for one-shot commands (`add`, `request-changes`...), whose engine
    /// holds the fleet for itself while the fleet itself may well be running.
    pub fn reason_when(&self, task: &Task, paused: bool) -> Option<String> {
        match task.status {
            Status::Verifying { .. } if paused && !self.gating.contains(task.id()) => {
                Some("verify waits for the fleet to resume".into())
            }
            Status::Queued { held: false } if self.fleet.pending_deps(task).next().is_none() => {
                let i = self.fleet.index.get(task.id()).copied();
                match i.and_then(|i| self.task_over_budget(i)) {
                    Some(why) => Some(why),
                    None => self.fleet.reason_when(task, self.now_ms, paused),
                }
            }
            _ => self.fleet.reason_when(task, self.now_ms, paused),
        }
    }

    fn live_attempt(&self, i: usize) -> Option<u32> {
        match self.fleet.tasks[i].status {
            Status::Running { attempt } | Status::Paused { attempt } => Some(attempt),
            _ => None,
        }
    }

    fn set_status(&mut self, i: usize, to: Status, actor: Actor, out: &mut Out) {
        let task = &mut self.fleet.tasks[i];
        let from = std::mem::replace(&mut task.status, to.clone());
        if !matches!(to, Status::Running { .. } | Status::Paused { .. }) {
            task.stalled = None; // the attempt it was about has ended
        }
        let id = task.spec.id.clone();
        out.fx.push(Effect::SaveTask { task: id.clone() });
        out.record(
            actor,
            Event::Status {
                task: id.clone(),
                from,
                to: to.clone(),
            },
        );
        // A failed fan-out candidate is the user's to compare, not the supervisor's to replan.
        let candidate = self.fleet.tasks[i].spec.candidate_of.is_some();
        if let (Status::Failed { reason }, Actor::Engine, false) = (&to, actor, candidate) {
            self.failed_for_good(&id, reason, out);
        }
    }

    fn set_fleet_paused(&mut self, paused: bool, actor: Actor, reason: String, out: &mut Out) {
        self.fleet.paused = paused;
        out.fx.push(Effect::SaveFleet { paused });
        let event = if paused {
            Event::FleetPaused { reason }
        } else {
            Event::FleetResumed
        };
        out.record(actor, event);
    }

    /// Undo interrupted `attempt` of task `i`, or, if it never began, redo
    /// what it was started with.
    fn rollback(&self, i: usize, attempt: u32) -> Workspace {
        Workspace::Rollback {
            attempt,
            otherwise: Box::new(self.fleet.tasks[i].started_with.clone()),
        }
    }

    fn requeue(&mut self, i: usize, workspace: Workspace, out: &mut Out) {
        self.fleet.tasks[i].workspace = workspace;
        self.set_status(i, Status::Queued { held: false }, Actor::Engine, out);
    }

    fn finish_drop(&mut self, i: usize, out: &mut Out) {
        self.set_status(i, Status::Dropped, Actor::User, out);
        out.fx.push(Effect::RemoveWorktree {
            task: self.fleet.tasks[i].spec.id.clone(),
        });
    }

    /// Starts merges, pending gates and agents, as capacity and policy allow.
    fn pump(&mut self, out: &mut Out) {
        // Fanning out starts no agent, so it happens also while the fleet is
        // paused (a one-shot `fleetdeck fanout` or `retry` shows the candidates).
        self.pump_fan_outs(out);
        self.settle_fan_outs(out);
        // Wake up for the next task parked after a rate limit.
        let next_wake = self
            .fleet
            .tasks
            .iter()
            .filter(|t| matches!(t.status, Status::Queued { .. }))
            .filter_map(|t| t.not_before_ms)
            .filter(|at| *at > self.now_ms)
            .min();
        if let Some(at_ms) = next_wake {
            out.fx.push(Effect::WakeAt { at_ms });
        }
        if self.merging.is_none() {
            let next = (0..self.fleet.tasks.len()).find(|&i| {
                matches!(self.fleet.tasks[i].status, Status::Merging { .. })
                    && self.fleet.tasks[i].spec.group.is_none() // landed by pump_groups
                    && self
                        .fleet
                        .pending_deps(&self.fleet.tasks[i])
                        .next()
                        .is_none()
            });
            if let Some(i) = next {
                let Status::Merging { attempt } = self.fleet.tasks[i].status else {
                    return;
                };
                let id = self.fleet.tasks[i].spec.id.clone();
                self.merging = Some(id.clone());
                out.fx.push(Effect::Merge { task: id, attempt });
            }
        }
        self.pump_updates(out);
        self.pump_groups(out);
        if self.fleet.paused && !self.gates_while_held {
            return;
        }
        for task in &self.fleet.tasks {
            if let Status::Verifying { attempt } = task.status
                && self.gating.insert(task.spec.id.clone())
            {
                out.fx.push(Effect::Gate {
                    task: task.spec.id.clone(),
                    attempt,
                });
            }
        }
        if self.fleet.paused {
            return;
        }
        let reviewing = self
            .fleet
            .tasks
            .iter()
            .filter(|t| matches!(t.status, Status::Review { .. }))
            .count();
        if self.limits.max_review.is_some_and(|max| reviewing >= max) {
            return;
        }
        let mut running = 0;
        let mut per_agent: HashMap<&str, usize> = HashMap::new();
        for t in self.fleet.tasks.iter().filter(|t| t.status.has_agent()) {
            running += 1;
            *per_agent.entry(t.spec.agent.as_str()).or_default() += 1;
        }
        if running >= self.limits.max_parallel {
            return;
        }
        if self.fleet_over_budget().is_some() {
            return;
        }
        let mut ready: Vec<usize> = (0..self.fleet.tasks.len())
            .filter(|&i| {
                self.fleet.startable(&self.fleet.tasks[i], self.now_ms)
                    && self.task_over_budget(i).is_none()
            })
            .collect();
        ready.sort_by_key(|&i| (std::cmp::Reverse(self.fleet.tasks[i].spec.priority), i));
        let mut to_start = Vec::new();
        for i in ready {
            if running >= self.limits.max_parallel {
                break;
            }
            let agent = self.fleet.tasks[i].spec.agent.as_str();
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
        let task = &mut self.fleet.tasks[i];
        task.attempts += 1;
        task.tries += 1;
        let attempt = task.attempts;
        let continues = match &task.feedback {
            Some(Feedback {
                kind: FeedbackKind::Reassigned { .. },
                attempt,
                ..
            }) => Some(Continuation {
                attempt: *attempt,
                resume_prompt: None,
            }),
            Some(Feedback {
                kind: FeedbackKind::Reviewer | FeedbackKind::Review | FeedbackKind::Nudged,
                attempt,
                text,
            }) => Some(Continuation {
                attempt: *attempt,
                resume_prompt: Some(text.clone()),
            }),
            Some(
                fb @ Feedback {
                    kind: FeedbackKind::Conflict { .. },
                    ..
                },
            ) => Some(Continuation {
                attempt: fb.attempt,
                resume_prompt: Some(fb.message()),
            }),
            _ => None,
        };
        task.not_before_ms = None;
        task.unusable_agent = None;
        task.blocker = None; // a new attempt: the old one's blocker is moot
        let request = StartRequest {
            task: task.spec.id.clone(),
            attempt,
            agent: task.spec.agent.clone(),
            prompt: task.next_prompt(),
            workspace: {
                task.started_with = std::mem::take(&mut task.workspace);
                task.started_with.clone()
            },
            continues,
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
            task: self.fleet.tasks[i].spec.id.clone(),
            signal,
        });
    }
}
