//! The engine loop. See the module documentation of [`crate::runtime`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::{Msg, contain};
use crate::agent::AgentEvent;
use crate::config::{Config, ConfigError};
use crate::core::{
    Actor, AgentResult, Command, CommandError, Effect, Event, Report, Scheduler, Signal, Task,
    TaskId,
};
use crate::git::GitError;
use crate::store::{AttemptRecord, FleetLock, LockError, Store, StoreError, Usage};

/// How the engine behaves, from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineOptions {
    /// Approve every task that passes its gate.
    pub auto_approve: bool,
    /// A running attempt without progress for this long is stalled (its
    /// progress ledger): overrides `[supervisor] stall_after_secs`.
    pub stall_after_secs: Option<u64>,
    /// Tell agents about `fleetdeck report` as if `[supervisor]` were set.
    pub supervised: bool,
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Lock(#[from] LockError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Git(#[from] GitError),
    #[error(
        "HEAD is not on a branch, so there is no default target: set [fleet] target in fleet.toml"
    )]
    NoTarget,
    /// The database holds no fleet, but git holds one: starting afresh would
    /// run and merge that work again.
    #[error(
        "{} holds no tasks, but this repository has fleet history: {found}; starting a new fleet \
         would run and merge that work again. Run `fleetdeck recover` to rebuild the state from \
         git (merged tasks become done, branches with work go to review, the rest of fleet.toml \
         is queued).{}",
        db.display(),
        if *refs { DISCARD_HINT } else { "" }
    )]
    LostState {
        /// The database file.
        db: PathBuf,
        /// What git holds, in one sentence.
        found: String,
        /// True when there are `fleet/*` branches or `refs/fleet/*` refs to discard.
        refs: bool,
    },
}

/// How to start a new fleet over an old one's branches and refs instead of recovering it.
const DISCARD_HINT: &str = " To discard the old branches and saved refs instead: \
    `rm -rf .fleet/worktrees && git worktree prune && git for-each-ref --format='delete %(refname)' \
    refs/fleet refs/heads/fleet | git update-ref --stdin` (tasks already merged stay merged and \
    are never merged again).";

impl EngineError {
    /// The process exit code for this error: 2 for a configuration the user must fix.
    pub fn exit_code(&self) -> i32 {
        match self {
            EngineError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// What observers (the headless printer, the cockpit) are told.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notification {
    /// A scheduler event (status change, agent start/end...), as recorded in the log.
    Event { actor: Actor, event: Event },
    /// Live agent output.
    Agent {
        task: TaskId,
        attempt: u32,
        event: AgentEvent,
    },
    /// A task's whole state after it changed (sent whenever it is saved).
    Task { task: Box<Task> },
    /// The fleet was paused or resumed.
    Fleet { paused: bool },
    /// A transcript line of `attempt` that is not agent stdout: agent stderr,
    /// fleetdeck's notes, verify output (stdout arrives parsed, as `Agent`).
    Line {
        task: TaskId,
        attempt: u32,
        stream: crate::store::transcript::Stream,
        line: String,
    },
    /// Something went wrong that did not stop the engine (a store write failed...).
    Warning { message: String },
    /// Live output of a supervisor consultation (its transcript is
    /// [`supervisor_path`](crate::store::transcript::supervisor_path)).
    Supervisor {
        consult: u64,
        stream: crate::store::transcript::Stream,
        line: String,
    },
}

/// The state of a fleet at one moment, for a viewer to start from.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub root: PathBuf,
    pub target: String,
    /// Tasks in plan order.
    pub tasks: Vec<Task>,
    pub fleet_paused: bool,
    /// Agent profile names.
    pub agents: Vec<String>,
    pub max_parallel: usize,
    /// Every attempt so far (outcomes, usage, transcripts).
    pub attempts: Vec<AttemptRecord>,
    /// The fleet's budget and the default task budget.
    pub budget: crate::core::Budgets,
    /// Seconds of silence after which a profile's running agent counts as stalled.
    pub stall_secs: std::collections::BTreeMap<String, u64>,
    /// The supervisor's agent profile (`[supervisor] agent`), if any.
    pub supervisor: Option<String>,
    /// The supervisor's proposals waiting for the user, oldest first.
    pub proposals: Vec<crate::core::supervisor::Proposal>,
    /// The supervisor's recent events (consultations, proposals, their
    /// ends), oldest first, with their time (Unix ms).
    pub supervisor_history: Vec<(i64, Event)>,
    /// What those consultations' planners said, from their transcripts.
    pub supervisor_lines: Vec<(u64, Vec<(crate::store::transcript::Stream, String)>)>,
    /// The agents' recent messages (at most 500), oldest first, with the
    /// time they were taken (Unix ms).
    pub messages: Vec<(i64, crate::core::team::Message)>,
    /// The shared context store, every entry (retired ones too), in id order.
    pub context: Vec<crate::core::team::ContextEntry>,
}

/// Sends commands to a running engine.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::UnboundedSender<Msg>,
}

impl EngineHandle {
    /// Applies a command and waits for the scheduler's verdict.
    pub async fn command(&self, command: Command) -> Result<(), CommandError> {
        let (reply, answer) = oneshot::channel();
        let gone = || CommandError::Invalid("the engine has stopped".into());
        self.tx
            .send(Msg::Command {
                command,
                reply: Some(reply),
            })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Asks the engine to stop its agents and return.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
    }
}

/// One fleet, owned by this process. See the module documentation.
pub struct Engine {
    pub(super) root: PathBuf,
    pub(super) fleet_dir: PathBuf,
    pub(super) config: Config,
    pub(super) target: String,
    pub(super) store: Store,
    pub(super) scheduler: Scheduler,
    pub(super) _lock: FleetLock,
    /// Contains agents and verify commands (cgroups or sweeps) and runs the watchdog.
    pub(super) _contain: contain::FleetContainment,
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    pub(super) rx: mpsc::UnboundedReceiver<Msg>,
    /// Control channels of live agent runs.
    pub(super) agents: HashMap<TaskId, mpsc::UnboundedSender<Signal>>,
    pub(super) observers: Vec<mpsc::UnboundedSender<Notification>>,
    pub(super) jobs: JoinSet<()>,
    pub(super) shutdown: watch::Sender<bool>,
    pub(super) removals: usize,
    /// When the scheduler asked to be ticked next (Unix ms).
    pub(super) wake_at: Option<i64>,
    pub(super) started: bool,
    /// Told to every observer when it subscribes (what opening finished, e.g.
    /// an interrupted checkout update).
    pub(super) notes: Vec<Notification>,
    /// Set from the first environment fault (a write under `.fleet` failed)
    /// until the fleet is resumed: one warning per episode, not per write.
    pub(super) fault: bool,
    pub(super) options: EngineOptions,
    /// Held for a one-shot command: the inbox waits for a real run.
    pub(super) held: bool,
    /// Inbox files taken but not removed (never taken twice).
    pub(super) inbox_taken: super::inbox::Taken,
    /// The progress ledger's summary of each running attempt, as last sent.
    pub(super) progress: HashMap<TaskId, (u32, String)>,
    /// The team layer's channels to running agents (note lines, progress).
    pub(super) team: super::team::TeamLinks,
    /// The worktrees of running group members watched for overlaps.
    pub(super) overlap_watches: super::overlap::Watches,
}

impl Engine {
    /// Opens the fleet of the repository at `root`: reads fleet.toml, takes
    /// the lock, opens the store, imports new plan tasks and cleans up after
    /// a crashed predecessor (its leftover processes are killed and its open
    /// attempts marked interrupted).
    pub fn open(root: &Path, options: EngineOptions) -> Result<Engine, EngineError> {
        Self::open_with(root, options, false)
    }

    /// Like [`Engine::open`], but the fleet is held for this process: no
    /// agent starts and no gate runs, while merges and plan changes proceed.
    /// For one-shot commands (`approve`, `retry`...). If the previous engine
    /// was interrupted, the fleet is also left paused for the next run.
    pub fn open_held(root: &Path, options: EngineOptions) -> Result<Engine, EngineError> {
        Self::open_with(root, options, true)
    }

    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            tx: self.tx.clone(),
        }
    }

    /// A stream of everything that happens from now on.
    pub fn subscribe(&mut self) -> mpsc::UnboundedReceiver<Notification> {
        let (tx, rx) = mpsc::unbounded_channel();
        for note in &self.notes {
            let _ = tx.send(note.clone());
        }
        self.observers.push(tx);
        rx
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Everything a viewer needs to start from; later changes arrive as
    /// notifications (subscribe first, then take the snapshot).
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let (supervisor_history, supervisor_lines) = self.supervisor_history()?;
        Ok(Snapshot {
            root: self.root.clone(),
            target: self.target.clone(),
            tasks: self.scheduler.tasks().to_vec(),
            fleet_paused: self.scheduler.fleet_paused(),
            agents: self.config.agents.keys().cloned().collect(),
            max_parallel: self.config.fleet.max_parallel,
            attempts: self.store.all_attempts()?,
            budget: self.scheduler.limits().budget,
            stall_secs: self
                .config
                .agents
                .iter()
                .filter_map(|(n, p)| p.stall_secs.map(|s| (n.clone(), s)))
                .collect(),
            supervisor: self.config.supervisor.as_ref().map(|s| s.agent.clone()),
            proposals: self.scheduler.pending_proposals().cloned().collect(),
            supervisor_history,
            supervisor_lines,
            messages: self.store.recent_messages(500)?,
            context: self.scheduler.context().entries.clone(),
        })
    }

    /// Recovers and starts what can start. Must run inside a tokio runtime; idempotent.
    pub fn start(&mut self) {
        if !self.started {
            self.started = true;
            let fx = self.scheduler.start();
            self.apply(fx);
        }
    }

    /// Applies a command directly (before or between runs).
    pub fn command(&mut self, command: Command) -> Result<(), CommandError> {
        self.start();
        self.check_resolution(&command)?;
        let fx = self.scheduler.command(command)?;
        self.apply(fx);
        Ok(())
    }

    /// True when no agent, gate, merge, removal or consultation of the
    /// supervisor is in flight (nor waiting to start).
    pub fn is_idle(&self) -> bool {
        let sup = self.scheduler.supervisor_state();
        self.scheduler.is_idle()
            && self.removals == 0
            && sup.consulting.is_none()
            && sup.queue.is_empty()
    }

    /// Runs until shut down or, with `until_idle`, until nothing is in flight.
    /// On return every agent has been stopped; what was running is an
    /// interrupted attempt for the next start.
    pub async fn run(&mut self, until_idle: bool) {
        self.start();
        // Watch first, then take what is there: nothing falls in between.
        let _watcher = self.watch_inbox();
        self.take_inbox();
        loop {
            if until_idle && self.is_idle() && self.wake_at.is_none() {
                break;
            }
            let wake = self.wake_at.map(|at| {
                let wait = (at - crate::store::now_ms()).max(0) as u64;
                tokio::time::Instant::now() + Duration::from_millis(wait)
            });
            let msg = tokio::select! {
                msg = self.rx.recv() => msg,
                () = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    self.wake_at = None;
                    let fx = self.scheduler.tick(crate::store::now_ms());
                    self.apply(fx);
                    continue;
                }
            };
            let Some(msg) = msg else {
                break;
            };
            self.scheduler.set_clock(crate::store::now_ms());
            if !self.handle_msg(msg) {
                break;
            }
            while let Some(done) = self.jobs.try_join_next() {
                if let Err(e) = done {
                    tracing::error!("a job failed: {e}");
                }
            }
        }
        self.take_inbox(); // what the last agents reported as they ended
        self.stop_everything().await;
    }

    /// Handles one message; false on shutdown.
    fn handle_msg(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Command { command, reply } => {
                let result = self
                    .check_resolution(&command)
                    .and_then(|()| self.scheduler.command(command))
                    .map(|fx| self.apply(fx));
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Msg::Report(report) => {
                if let Report::AgentExited {
                    task,
                    attempt,
                    result,
                } = &report
                {
                    self.agents.remove(task);
                    self.progress.remove(task);
                    let message = match result {
                        AgentResult::Failed { message, .. } => Some(message.as_str()),
                        AgentResult::Succeeded | AgentResult::Stopped => None,
                    };
                    let r = self.store.end_attempt(task.as_str(), *attempt, message);
                    self.check(r);
                }
                self.record_update_base(&report);
                let fault = super::faults::environment_fault_of(&report);
                let fx = self.scheduler.report(report);
                self.apply(fx);
                if let Some(message) = fault {
                    self.environment_fault(&message);
                }
            }
            Msg::EnvironmentFault { message } => self.environment_fault(&message),
            Msg::AttemptBegan {
                task,
                attempt,
                agent,
                prompt,
                base,
                transcript,
                ack,
            } => {
                let start = crate::store::AttemptStart {
                    task: task.as_str(),
                    n: attempt,
                    agent: &agent,
                    prompt: &prompt,
                    base: &base,
                    transcript: &transcript,
                };
                let r = self.store.begin_attempt(&start);
                self.check(r);
                let _ = ack.send(());
            }
            Msg::Agent {
                task,
                attempt,
                event,
            } => self.agent_event(task, attempt, event),
            Msg::Line {
                task,
                attempt,
                stream,
                line,
            } => {
                self.notify(Notification::Line {
                    task,
                    attempt,
                    stream,
                    line,
                });
            }
            Msg::Supervisor {
                consult,
                stream,
                line,
            } => self.notify(Notification::Supervisor {
                consult,
                stream,
                line,
            }),
            Msg::Committed {
                task,
                attempt,
                commit,
            } => {
                let r = self
                    .store
                    .set_attempt_commit(task.as_str(), attempt, &commit);
                self.check(r);
            }
            Msg::WorktreeRemoved { task, error } => {
                self.removals = self.removals.saturating_sub(1);
                if let Some(e) = error {
                    tracing::warn!(task = task.as_str(), "could not remove the worktree: {e}");
                }
            }
            Msg::Inbox => self.take_inbox(),
            Msg::Progress {
                task,
                attempt,
                summary,
            } => {
                self.progress.insert(task, (attempt, summary));
            }
            Msg::Shutdown => return false,
        }
        true
    }

    /// Parsed agent output: the session id and usage are stored, usage
    /// goes to the scheduler (budgets), and observers see the event.
    fn agent_event(&mut self, task: TaskId, attempt: u32, event: AgentEvent) {
        let event = plausible(&task, attempt, event);
        let r = match &event {
            AgentEvent::Session { id, .. } => {
                self.store.set_attempt_session(task.as_str(), attempt, id)
            }
            AgentEvent::Usage {
                input_tokens,
                output_tokens,
                cost_usd,
            } => self.store.set_attempt_usage(
                task.as_str(),
                attempt,
                Usage {
                    input_tokens: *input_tokens,
                    output_tokens: *output_tokens,
                    cost_usd: cost_usd.unwrap_or(0.0),
                },
            ),
            _ => Ok(()),
        };
        self.check(r);
        if let AgentEvent::Usage {
            input_tokens,
            output_tokens,
            cost_usd,
        } = &event
        {
            let spend = crate::core::Spend {
                usd: cost_usd.unwrap_or(0.0),
                tokens: input_tokens + output_tokens,
            };
            let fx = self.scheduler.report(Report::Usage {
                task: task.clone(),
                attempt,
                spend,
            });
            self.apply(fx);
        }
        self.notify(Notification::Agent {
            task,
            attempt,
            event,
        });
    }

    pub(super) fn notify(&mut self, n: Notification) {
        self.observers.retain(|o| o.send(n.clone()).is_ok());
    }

    pub(super) fn apply(&mut self, effects: Vec<Effect>) {
        // Which worktrees are watched follows the statuses: nothing to do
        // for the many batches that change none (usage, agent output).
        let statuses_changed = effects.iter().any(|e| {
            matches!(
                e,
                Effect::Record {
                    event: Event::Status { .. },
                    ..
                }
            )
        });
        for effect in effects {
            match effect {
                Effect::SaveTask { task } => {
                    if let Some(t) = self.scheduler.task(task.as_str()).cloned() {
                        let r = self.store.save_task(&t);
                        self.check(r);
                        self.notify(Notification::Task { task: Box::new(t) });
                    }
                }
                Effect::SaveFleet { paused } => {
                    let r = self.store.set_fleet_paused(paused);
                    self.check(r);
                    self.notify(Notification::Fleet { paused });
                }
                Effect::Record { actor, event } => {
                    if matches!(event, Event::FleetResumed) {
                        self.fault = false; // a new fault is a new episode
                    }
                    if let Event::AttemptEnded {
                        task,
                        attempt,
                        outcome,
                        message,
                    } = &event
                    {
                        let r = self.store.set_attempt_outcome(
                            task.as_str(),
                            *attempt,
                            outcome,
                            message.as_deref(),
                        );
                        self.check(r);
                    }
                    let r = self.store.record(actor, &event);
                    self.check(r);
                    if let Event::Message { message } = &event {
                        self.message_taken(message);
                    }
                    self.notify(Notification::Event { actor, event });
                }
                Effect::StartAgent(request) => self.start_agent(request),
                Effect::Consult { consult, trigger } => self.consult(consult, trigger),
                Effect::SaveSupervisor { state } => match serde_json::to_string(&state) {
                    Ok(json) => {
                        let r = self.store.set_meta("supervisor", &json);
                        self.check(r);
                    }
                    Err(e) => tracing::error!(error = %e, "cannot save the supervisor's state"),
                },
                Effect::WakeAt { at_ms } => {
                    self.wake_at = Some(self.wake_at.map_or(at_ms, |w| w.min(at_ms)));
                }
                Effect::SaveFleetBudget { usd, tokens } => {
                    let r = self.store.set_meta(
                        "fleet_budget",
                        &serde_json::json!({ "usd": usd, "tokens": tokens }).to_string(),
                    );
                    self.check(r);
                }
                Effect::SignalAgent { task, signal } => {
                    if let Some(control) = self.agents.get(&task) {
                        let _ = control.send(signal);
                    }
                }
                Effect::Gate { task, attempt } => self.start_gate(task, attempt),
                Effect::Merge { task, attempt } => self.start_merge(task, attempt),
                Effect::Update { task, attempt } => self.start_update(task, attempt),
                Effect::RemoveWorktree { task } => self.remove_worktree(task),
                Effect::SaveContext { entry } => self.save_context(&entry),
                Effect::DiscardCandidate { task, parent } => self.discard_candidate(task, parent),
                Effect::Review {
                    task,
                    attempt,
                    round,
                } => self.start_review(task, attempt, round),
                Effect::Integrate { group, members } => self.start_integration(group, members),
                Effect::MergeGroup { group, members } => self.start_group_merge(group, members),
            }
        }
        if statuses_changed {
            self.sync_overlap_watches();
        }
    }

    /// Stops every agent (TERM, grace, KILL) and verify command, and waits for
    /// all jobs. Results that arrive now are not applied: the next start sees
    /// the attempts as interrupted and redoes them.
    async fn stop_everything(&mut self) {
        for control in self.agents.values() {
            let _ = control.send(Signal::Stop);
        }
        let _ = self.shutdown.send(true);
        let grace =
            Duration::from_secs_f64(self.config.fleet.stop_grace_secs) + Duration::from_secs(10);
        let deadline = tokio::time::Instant::now() + grace;
        while !self.jobs.is_empty() {
            tokio::select! {
                _ = self.jobs.join_next() => {}
                msg = self.rx.recv() => match msg {
                    // Let a run that is about to launch find its Stop and return.
                    Some(Msg::AttemptBegan { ack, .. }) => drop(ack),
                    Some(Msg::WorktreeRemoved { .. }) => self.removals = self.removals.saturating_sub(1),
                    _ => {}
                },
                () = tokio::time::sleep_until(deadline) => {
                    tracing::warn!("jobs still running at shutdown; abandoning them");
                    self.jobs.abort_all();
                    break;
                }
            }
        }
        self.agents.clear();
    }
}

/// `event`, or when it is an implausible usage report (see
/// [`crate::agent::check_usage`]), an error event saying it was ignored:
/// logged, never counted, shown in the attempt's live transcript.
fn plausible(task: &TaskId, attempt: u32, event: AgentEvent) -> AgentEvent {
    match crate::agent::check_usage(&event) {
        Ok(()) => event,
        Err(anomaly) => {
            tracing::warn!(
                "attempt {attempt} of `{task}` reported {anomaly}: ignored (a parse anomaly, not counted)"
            );
            AgentEvent::Error {
                text: format!("fleetdeck ignored a usage report: {anomaly} (not counted)"),
            }
        }
    }
}
