//! What flows in and out of the scheduler: user commands, runtime reports,
//! effects for the runtime to carry out, and events for the log and the UI.
//!
//! All of these are plain serializable data, so a viewer in another process
//! can later drive and watch a fleet over a socket.

use serde::{Deserialize, Serialize};

use super::outcome::AttemptOutcome;
use super::planner::Action;
use super::status::Status;
use super::supervisor::{Origin, Proposal, ReportKind, Trigger};
use super::task::{TaskId, TaskPatch, TaskSpec};
use super::team::{ContextEntry, ContextKind, Message, MessageKind, ReviewVerdict, Scope};
use crate::agent::FailureClass;

/// A request from the user (cockpit key, CLI subcommand).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Stop a running task's agent with SIGSTOP, or hold a queued task.
    PauseTask {
        task: TaskId,
    },
    /// Undo [`Command::PauseTask`].
    ResumeTask {
        task: TaskId,
    },
    /// No new starts; running agents are stopped (SIGSTOP) until resumed.
    PauseFleet,
    ResumeFleet,
    /// Run the task with another agent profile from now on. A running attempt is stopped.
    Reassign {
        task: TaskId,
        agent: String,
    },
    /// Change a task that is not running (queued or failed).
    Edit {
        task: TaskId,
        patch: TaskPatch,
    },
    Add {
        spec: TaskSpec,
    },
    /// Remove a task from the plan; its branch is kept.
    Drop {
        task: TaskId,
    },
    /// Queue a failed task again, with a fresh allowance of attempts.
    Retry {
        task: TaskId,
    },
    /// Merge a task in review (or retry a merge that was blocked).
    Approve {
        task: TaskId,
    },
    /// Send a task in review back to its agent with this feedback.
    RequestChanges {
        task: TaskId,
        feedback: String,
    },
    /// Refuse a task's work: it becomes Failed and a retry starts over from the target.
    Reject {
        task: TaskId,
    },
    /// Bring a task in review onto the target's tip (after a merge conflict
    /// or refusal, or any time). On a task whose update conflicted, send the
    /// agent to resolve the conflict markers instead.
    Update {
        task: TaskId,
    },
    /// The user resolved a task's update conflict in its worktree: gate
    /// that (the engine refuses while conflict markers remain).
    Resolved {
        task: TaskId,
    },
    /// Several commands applied all together or not at all (a replan).
    Batch {
        commands: Vec<Command>,
    },
    /// Set a task's budget (`task`), or the whole fleet's (`task` is None).
    /// None leaves that limit unchanged; a task paused by its budget resumes
    /// when it is back under it.
    SetBudget {
        task: Option<TaskId>,
        usd: Option<f64>,
        tokens: Option<u64>,
    },
    /// Use an agent profile again after it failed authentication (once the user fixed it).
    ReviveAgent {
        agent: String,
    },
    /// Ask the supervisor for a plan for `goal`: a first plan, or a scope
    /// change that keeps what is done and running.
    Plan {
        goal: String,
    },
    /// Apply a proposal of the supervisor, without the changes numbered in
    /// `off` (change numbers as shown, from 1).
    ConfirmProposal {
        proposal: u64,
        off: Vec<usize>,
    },
    /// Throw a proposal away.
    DiscardProposal {
        proposal: u64,
    },
    /// Send the user's feedback on a proposal to the supervisor for another round.
    ProposalFeedback {
        proposal: u64,
        feedback: String,
    },
    /// Tell a running agent something: its attempt is stopped and its
    /// session resumed with `message` (no attempt counted); without a
    /// session to resume, the next attempt is told.
    Nudge {
        task: TaskId,
        message: String,
    },
    /// Stop a running attempt and start the task over (not counted as a try).
    Restart {
        task: TaskId,
    },
    /// The supervisor's question about a task for the user (the task shows
    /// it as needs input until the user's next decision on it).
    Ask {
        task: TaskId,
        question: String,
    },
    /// Add an entry to the shared context store (the user's, from the
    /// cockpit or `fleetdeck context --add`); `supersedes` retires that entry.
    AddContext {
        kind: ContextKind,
        text: String,
        #[serde(default)]
        scope: Scope,
        #[serde(default)]
        supersedes: Option<u64>,
    },
    /// Change the text and scope of a context entry that is not retired.
    EditContext {
        id: u64,
        text: String,
        #[serde(default)]
        scope: Scope,
    },
    /// Retire a context entry: kept for history, never in a prompt again.
    RetireContext {
        id: u64,
    },
    /// Run a queued task once per profile in `agents` (at least two), each
    /// candidate a task of its own; the user picks one in review.
    FanOut {
        task: TaskId,
        agents: Vec<String>,
    },
    /// Pick `candidate` of the fan-out task `task` (comparing): it is
    /// approved and lands as the task's work; the other candidates' work
    /// is saved under `refs/fleet/discarded/<task>/...` and dropped.
    Pick {
        task: TaskId,
        candidate: TaskId,
    },
}

impl Command {
    /// A short description for messages: "edit `api`", "add `docs`"...
    pub fn describe(&self) -> String {
        match self {
            Command::PauseTask { task } => format!("pause `{task}`"),
            Command::ResumeTask { task } => format!("resume `{task}`"),
            Command::PauseFleet => "pause the fleet".into(),
            Command::ResumeFleet => "resume the fleet".into(),
            Command::Reassign { task, agent } => format!("reassign `{task}` to `{agent}`"),
            Command::Edit { task, .. } => format!("edit `{task}`"),
            Command::Add { spec } => format!("add `{}`", spec.id),
            Command::Drop { task } => format!("drop `{task}`"),
            Command::Retry { task } => format!("retry `{task}`"),
            Command::Approve { task } => format!("approve `{task}`"),
            Command::RequestChanges { task, .. } => format!("request changes to `{task}`"),
            Command::Reject { task } => format!("reject `{task}`"),
            Command::Update { task } => format!("update `{task}`"),
            Command::Resolved { task } => format!("take the resolution of `{task}`"),
            Command::Batch { commands } => format!("{} changes", commands.len()),
            Command::SetBudget {
                task: Some(task), ..
            } => format!("budget of `{task}`"),
            Command::SetBudget { task: None, .. } => "the fleet's budget".into(),
            Command::ReviveAgent { agent } => format!("revive agent `{agent}`"),
            Command::Plan { .. } => "plan a goal".into(),
            Command::ConfirmProposal { proposal, .. } => format!("confirm proposal {proposal}"),
            Command::DiscardProposal { proposal } => format!("discard proposal {proposal}"),
            Command::ProposalFeedback { proposal, .. } => {
                format!("send feedback on proposal {proposal}")
            }
            Command::Nudge { task, .. } => format!("nudge `{task}`"),
            Command::Restart { task } => format!("restart `{task}`"),
            Command::Ask { task, .. } => format!("ask about `{task}`"),
            Command::AddContext { kind, .. } => format!("add a {kind} to the context"),
            Command::EditContext { id, .. } => format!("edit context entry {id}"),
            Command::RetireContext { id } => format!("retire context entry {id}"),
            Command::FanOut { task, agents } => {
                format!("fan `{task}` out to {}", agents.join(", "))
            }
            Command::Pick { task, candidate } => format!("pick `{candidate}` for `{task}`"),
        }
    }
}

/// A status name as said after "is": "in review", else the name itself.
fn in_words(status: &str) -> String {
    match status {
        "review" => "in review".to_owned(),
        other => other.to_owned(),
    }
}

/// Why a command was refused; the scheduler state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("there is no task `{0}`")]
    UnknownTask(String),
    #[error("task `{task}` is {}: {action} needs a task that is {needs}", in_words(.status))]
    WrongStatus {
        task: TaskId,
        status: &'static str,
        action: &'static str,
        needs: &'static str,
    },
    #[error(
        "there is no agent profile `{0}` (profiles are defined as [agents.NAME] in fleet.toml)"
    )]
    UnknownAgent(String),
    #[error("{0}")]
    Invalid(String),
}

/// How an agent process ended, as seen by the runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AgentResult {
    /// Exit code 0 and the agent's own verdict was success.
    Succeeded,
    /// The agent failed (or could not be started); `message` says why.
    Failed {
        class: FailureClass,
        message: String,
    },
    /// The process was stopped at the scheduler's request (reassign, drop).
    Stopped,
}

/// Outcome of committing an attempt's changes and running the verify gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum GateResult {
    /// Committed as `commit` and every verify command passed.
    Passed { commit: String },
    /// The agent left the worktree exactly as it found it.
    NoChanges,
    /// A verify command failed; `output` is its (trimmed) output.
    VerifyFailed { command: String, output: String },
    /// Committing or running the gate failed for a reason outside the agent's work.
    Error { message: String },
    /// Committing failed because fleetdeck's environment did (disk full,
    /// read-only file system, permissions), not the agent's work: the fleet
    /// pauses and the gate runs again when it is resumed.
    Environment { message: String },
}

/// Outcome of a merge into the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MergeResult {
    Merged { commit: String },
    Conflict { files: Vec<String> },
    Refused { files: Vec<String> },
    Error { message: String },
}

/// Outcome of bringing a task's branch onto the target's tip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum UpdateResult {
    /// The branch is `commit`, one commit on `onto` (the target tip).
    Clean { commit: String, onto: String },
    /// The branch is at `onto`; the worktree holds these files with conflict markers.
    Conflict {
        onto: String,
        files: Vec<super::feedback::ConflictFile>,
    },
    /// Nothing changed; `message` says why.
    Error { message: String },
}

/// A result from the runtime, for work the scheduler asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum Report {
    AgentExited {
        task: TaskId,
        attempt: u32,
        result: AgentResult,
    },
    Gated {
        task: TaskId,
        attempt: u32,
        result: GateResult,
    },
    Merged {
        task: TaskId,
        result: MergeResult,
    },
    Updated {
        task: TaskId,
        attempt: u32,
        result: UpdateResult,
    },
    /// Running totals of the live attempt (for budgets).
    Usage {
        task: TaskId,
        attempt: u32,
        spend: Spend,
    },
    /// The supervisor answered consultation `consult` (or could not).
    Proposed {
        consult: u64,
        result: ConsultResult,
    },
    /// A running attempt made no progress for `stall_after` or repeats
    /// itself; `why` from its progress ledger.
    Stalled {
        task: TaskId,
        attempt: u32,
        why: String,
    },
    /// An agent ran `fleetdeck report KIND TEXT` in its worktree.
    AgentNote {
        task: TaskId,
        attempt: u32,
        kind: ReportKind,
        text: String,
    },
    /// A typed message an agent sent (`fleetdeck msg KIND "TEXT"`), taken
    /// from the inbox: checked, not yet numbered.
    Message {
        task: TaskId,
        attempt: u32,
        kind: MessageKind,
        text: String,
        #[serde(default)]
        paths: Vec<String>,
        time_ms: i64,
    },
    /// The reviewer agent finished reviewing `attempt` of `task`.
    Reviewed {
        task: TaskId,
        attempt: u32,
        round: u32,
        result: ReviewResult,
    },
    /// The group's members were merged onto its integration branch and
    /// the group's gate ran there.
    Integrated {
        group: String,
        result: IntegrationResult,
    },
    /// A group's integration branch landed on the target (or did not).
    GroupMerged {
        group: String,
        result: MergeResult,
    },
    /// The worktree watcher saw `task` change `file`, which `other` (a
    /// running task of the same group) changed too.
    Overlap {
        task: TaskId,
        other: TaskId,
        file: String,
    },
}

/// What a review run gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ReviewResult {
    /// The reviewer answered with a valid verdict.
    Verdict {
        verdict: ReviewVerdict,
        #[serde(default)]
        spend: Spend,
    },
    /// The reviewer could not be run or gave no valid verdict: the task
    /// goes to the human with this message.
    Failed {
        message: String,
        #[serde(default)]
        spend: Spend,
    },
}

/// What integrating a group gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum IntegrationResult {
    /// Every member merged and the group's gate passed on the result.
    Passed {
        commit: String,
    },
    /// Members' work conflicts: the files, and the members that changed them.
    Conflict {
        files: Vec<String>,
        members: Vec<TaskId>,
    },
    /// The group's gate failed on the integration branch; `changed` is
    /// what each member changed (for deciding whose failure it is).
    VerifyFailed {
        command: String,
        output: String,
        changed: Vec<(TaskId, Vec<String>)>,
    },
    Error {
        message: String,
    },
}

/// What a consultation of the supervisor came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ConsultResult {
    /// A plan that passed validation (after `rounds` answers).
    Answer {
        reasoning: Option<String>,
        specs: Vec<TaskSpec>,
        actions: Vec<Action>,
        warnings: Vec<String>,
        rounds: u32,
        spend: Spend,
    },
    /// Every answer up to the re-ask limit was refused: the last answer
    /// (capped) and its problems, for the user to read.
    Refused {
        answer: String,
        problems: Vec<String>,
        rounds: u32,
        spend: Spend,
    },
    /// The planner could not run or failed (its message says why).
    Failed { message: String, spend: Spend },
}

/// Money and tokens spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub usd: f64,
    pub tokens: u64,
}

impl std::ops::Add for Spend {
    type Output = Spend;
    fn add(self, o: Spend) -> Spend {
        Spend {
            usd: self.usd + o.usd,
            tokens: self.tokens + o.tokens,
        }
    }
}

/// How the next attempt treats the task's worktree.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Workspace {
    /// Keep the branch and whatever the previous attempts left (the usual case).
    #[default]
    Continue,
    /// Start over from the target's tip (after a rejection); the old state
    /// is saved under `refs/fleet/discarded/<task>/<rejected>` (the number of
    /// the rejected attempt; None in states written by older versions).
    Fresh {
        #[serde(default)]
        rejected: Option<u32>,
    },
    /// Undo the interrupted `attempt` (saving it under a ref) and start from
    /// the commit it started from. When that attempt never began (the engine
    /// died while preparing it, before it was recorded), what it was started
    /// with still applies: `otherwise` (its own reset may not have finished).
    Rollback {
        attempt: u32,
        #[serde(default)]
        otherwise: Box<Workspace>,
    },
}

/// Everything the runtime needs to start one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRequest {
    pub task: TaskId,
    pub attempt: u32,
    pub agent: String,
    pub prompt: String,
    pub workspace: Workspace,
    /// When the attempt continues an earlier one (changes requested, reassigned).
    #[serde(default)]
    pub continues: Option<Continuation>,
}

/// How an attempt follows an earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Continuation {
    /// The earlier attempt.
    pub attempt: u32,
    /// Set after a review: if the profile can resume the earlier attempt's
    /// session, resume it with just this as the prompt. Otherwise (or when
    /// None) the runtime adds a summary of the earlier attempt to the full prompt.
    pub resume_prompt: Option<String>,
}

/// A signal for a live agent's process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// SIGSTOP the group.
    Pause,
    /// SIGCONT the group.
    Resume,
    /// SIGTERM, a grace period, then SIGKILL; the runtime reports [`AgentResult::Stopped`].
    Stop,
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    User,
    Engine,
}

/// Something that happened, for the event log and for observers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Every status change of a task.
    Status {
        task: TaskId,
        from: Status,
        to: Status,
    },
    /// An attempt's agent was asked to start.
    AgentStarted {
        task: TaskId,
        attempt: u32,
        agent: String,
    },
    /// An attempt's agent process ended; `message` says why when it failed.
    /// The attempt's outcome follows in [`Event::AttemptEnded`].
    AgentEnded {
        task: TaskId,
        attempt: u32,
        message: Option<String>,
    },
    /// The outcome of an attempt, once it is known: when its agent failed
    /// or was stopped, when its gate finished, or when it was interrupted.
    /// A reviewer's reject sends a later one for the same attempt
    /// ([`AttemptOutcome::Rejected`]), which replaces the first.
    AttemptEnded {
        task: TaskId,
        attempt: u32,
        outcome: AttemptOutcome,
        message: Option<String>,
    },
    /// An attempt failed (agent error, no changes, verify failure); `retrying`
    /// says whether the task was queued again or is now Failed.
    AttemptFailed {
        task: TaskId,
        attempt: u32,
        reason: String,
        retrying: bool,
    },
    /// On start-up: `attempt` was running when the previous engine died.
    Interrupted {
        task: TaskId,
        attempt: u32,
    },
    TaskAdded {
        task: TaskId,
    },
    TaskEdited {
        task: TaskId,
    },
    Reassigned {
        task: TaskId,
        from: String,
        to: String,
    },
    ChangesRequested {
        task: TaskId,
        feedback: String,
    },
    FleetPaused {
        reason: String,
    },
    FleetResumed,
    /// The agent was rate limited; the task retries at `retry_at_ms` (Unix ms) without using an attempt.
    RateLimited {
        task: TaskId,
        attempt: u32,
        retry_at_ms: i64,
    },
    /// An agent profile failed authentication or billing: its tasks wait until it is revived.
    AgentUnusable {
        agent: String,
        reason: String,
    },
    AgentRevived {
        agent: String,
    },
    /// A task (or the fleet, when `task` is None) crossed its budget.
    BudgetExceeded {
        task: Option<TaskId>,
        spent: Spend,
    },
    /// A task's branch was brought onto the target's tip (`onto`), cleanly
    /// or with `conflicts`; or the update failed (`error`).
    Updated {
        task: TaskId,
        attempt: u32,
        onto: Option<String>,
        conflicts: Vec<String>,
        error: Option<String>,
    },
    /// A budget was changed by the user.
    BudgetChanged {
        task: Option<TaskId>,
        usd: Option<f64>,
        tokens: Option<u64>,
    },
    /// The supervisor was asked (consultation `consult`) about `trigger`.
    Consulting {
        consult: u64,
        trigger: Trigger,
    },
    /// The supervisor proposed a change to the plan, waiting to be
    /// confirmed (viewers compute its diff with
    /// [`rules::diff`](crate::core::supervisor::rules::diff)).
    Proposed {
        proposal: Box<Proposal>,
    },
    /// A consultation ended (after its [`Event::Proposed`], if it made a
    /// proposal to show): what came of it and what it cost.
    ConsultEnded {
        consult: u64,
        /// "proposed 3 changes", "applied by itself: ...", "no change",
        /// "refused after 3 answers: ...", "could not plan: ...".
        message: String,
        /// The proposal it made and that waits for the user, if any.
        #[serde(default)]
        proposal: Option<u64>,
        #[serde(default)]
        spend: Spend,
        /// It came to nothing usable: the answers were refused, or the
        /// planner could not run.
        #[serde(default)]
        failed: bool,
    },
    /// The plan changed: who proposed it, why, and each change in words.
    /// `fleetdeck plan --history` lists these.
    PlanChanged {
        origin: Origin,
        reason: String,
        proposal: Option<u64>,
        /// Applied without asking (`[supervisor] autonomy = "auto"`).
        auto: bool,
        changes: Vec<String>,
    },
    /// A proposal was thrown away by the user.
    ProposalDiscarded {
        proposal: u64,
    },
    /// A running attempt stalled (see [`Report::Stalled`]).
    Stalled {
        task: TaskId,
        attempt: u32,
        why: String,
    },
    /// An agent reported hidden complexity or new work.
    AgentReported {
        task: TaskId,
        attempt: u32,
        kind: ReportKind,
        text: String,
    },
    /// The supervisor asks the user about a task (it shows as needs input).
    Question {
        task: TaskId,
        question: String,
    },
    /// A running agent was told `message` in its resumed session.
    Nudged {
        task: TaskId,
        message: String,
    },
    /// An agent's message, as taken and numbered.
    Message {
        message: Message,
    },
    /// A context entry was added (by an agent's message or the user).
    ContextAdded {
        entry: ContextEntry,
    },
    /// A context entry's text or scope changed.
    ContextEdited {
        entry: ContextEntry,
    },
    ContextRetired {
        id: u64,
    },
    /// Running agents were told of new context entries (`resumed`: into
    /// their session; otherwise at their next attempt).
    ContextTold {
        task: TaskId,
        entries: Vec<u64>,
        resumed: bool,
    },
    /// The reviewer agent's verdict.
    Reviewed {
        task: TaskId,
        verdict: ReviewVerdict,
    },
    /// The reviewer agent could not give a verdict.
    ReviewFailed {
        task: TaskId,
        attempt: u32,
        message: String,
    },
    /// A task was fanned out to candidates.
    FannedOut {
        task: TaskId,
        candidates: Vec<TaskId>,
    },
    /// The user picked a candidate; the others were discarded.
    Picked {
        task: TaskId,
        candidate: TaskId,
        discarded: Vec<TaskId>,
    },
    /// A group's integration ran.
    GroupIntegrated {
        group: String,
        passed: bool,
        message: String,
    },
    /// A group landed on the target as one change.
    GroupLanded {
        group: String,
        commit: String,
    },
    /// Two running tasks changed the same file.
    Overlap {
        task: TaskId,
        other: TaskId,
        file: String,
    },
}

impl Event {
    /// The task an event is about, if any.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Event::Status { task, .. }
            | Event::AgentStarted { task, .. }
            | Event::AgentEnded { task, .. }
            | Event::AttemptEnded { task, .. }
            | Event::AttemptFailed { task, .. }
            | Event::Interrupted { task, .. }
            | Event::TaskAdded { task }
            | Event::TaskEdited { task }
            | Event::Reassigned { task, .. }
            | Event::ChangesRequested { task, .. }
            | Event::Updated { task, .. }
            | Event::Stalled { task, .. }
            | Event::AgentReported { task, .. }
            | Event::Question { task, .. }
            | Event::Nudged { task, .. }
            | Event::ContextTold { task, .. }
            | Event::Reviewed { task, .. }
            | Event::ReviewFailed { task, .. }
            | Event::FannedOut { task, .. }
            | Event::Picked { task, .. }
            | Event::Overlap { task, .. } => Some(task),
            Event::Message { message } => Some(&message.task),
            Event::RateLimited { task, .. } => Some(task),
            Event::BudgetExceeded { task, .. } | Event::BudgetChanged { task, .. } => task.as_ref(),
            Event::FleetPaused { .. }
            | Event::FleetResumed
            | Event::AgentUnusable { .. }
            | Event::AgentRevived { .. }
            | Event::Consulting { .. }
            | Event::Proposed { .. }
            | Event::ConsultEnded { .. }
            | Event::PlanChanged { .. }
            | Event::ProposalDiscarded { .. }
            | Event::ContextAdded { .. }
            | Event::ContextEdited { .. }
            | Event::ContextRetired { .. }
            | Event::GroupIntegrated { .. }
            | Event::GroupLanded { .. } => None,
        }
    }

    /// The `event` tag as stored in the log (`status`, `agent_started`...).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Status { .. } => "status",
            Event::AgentStarted { .. } => "agent_started",
            Event::AgentEnded { .. } => "agent_ended",
            Event::AttemptEnded { .. } => "attempt_ended",
            Event::AttemptFailed { .. } => "attempt_failed",
            Event::Interrupted { .. } => "interrupted",
            Event::TaskAdded { .. } => "task_added",
            Event::TaskEdited { .. } => "task_edited",
            Event::Reassigned { .. } => "reassigned",
            Event::ChangesRequested { .. } => "changes_requested",
            Event::FleetPaused { .. } => "fleet_paused",
            Event::FleetResumed => "fleet_resumed",
            Event::RateLimited { .. } => "rate_limited",
            Event::AgentUnusable { .. } => "agent_unusable",
            Event::AgentRevived { .. } => "agent_revived",
            Event::BudgetExceeded { .. } => "budget_exceeded",
            Event::BudgetChanged { .. } => "budget_changed",
            Event::Updated { .. } => "updated",
            Event::Consulting { .. } => "consulting",
            Event::Proposed { .. } => "proposed",
            Event::ConsultEnded { .. } => "consult_ended",
            Event::PlanChanged { .. } => "plan_changed",
            Event::ProposalDiscarded { .. } => "proposal_discarded",
            Event::Stalled { .. } => "stalled",
            Event::AgentReported { .. } => "agent_reported",
            Event::Question { .. } => "question",
            Event::Nudged { .. } => "nudged",
            Event::Message { .. } => "message",
            Event::ContextAdded { .. } => "context_added",
            Event::ContextEdited { .. } => "context_edited",
            Event::ContextRetired { .. } => "context_retired",
            Event::ContextTold { .. } => "context_told",
            Event::Reviewed { .. } => "reviewed",
            Event::ReviewFailed { .. } => "review_failed",
            Event::FannedOut { .. } => "fanned_out",
            Event::Picked { .. } => "picked",
            Event::GroupIntegrated { .. } => "group_integrated",
            Event::GroupLanded { .. } => "group_landed",
            Event::Overlap { .. } => "overlap",
        }
    }
}

/// Work for the runtime, returned by the scheduler in the order to carry it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Create/prepare the worktree and launch the agent.
    StartAgent(StartRequest),
    /// Signal a live agent.
    SignalAgent { task: TaskId, signal: Signal },
    /// Commit the attempt's changes with attribution trailers, then run the verify gate.
    Gate { task: TaskId, attempt: u32 },
    /// Merge the task's branch into the target.
    Merge { task: TaskId, attempt: u32 },
    /// Bring the task's branch onto the target's tip in its worktree
    /// (`git::update_task`), then report [`Report::Updated`].
    Update { task: TaskId, attempt: u32 },
    /// The task is finished (merged or dropped): its worktree directory may go (the branch stays).
    RemoveWorktree { task: TaskId },
    /// Persist this task's current state.
    SaveTask { task: TaskId },
    /// Persist whether the fleet is paused.
    SaveFleet { paused: bool },
    /// Append to the event log and tell observers.
    Record { actor: Actor, event: Event },
    /// Call [`crate::core::Scheduler::tick`] at this time (Unix ms) or soon after.
    WakeAt { at_ms: i64 },
    /// Persist the fleet's budget (changed by the user; wins over fleet.toml).
    SaveFleetBudget {
        usd: Option<f64>,
        tokens: Option<u64>,
    },
    /// Run the supervisor's planner for `trigger` on the plan as it is now,
    /// then report [`Report::Proposed`] with the same `consult`.
    Consult { consult: u64, trigger: Trigger },
    /// Persist the supervisor's state (consultations, pending proposals).
    SaveSupervisor {
        state: Box<crate::core::scheduler::SupervisorState>,
    },
    /// Write this context entry (new or changed) to the store.
    SaveContext { entry: ContextEntry },
    /// Run the reviewer agent on `attempt` of `task` (its gated commit).
    Review {
        task: TaskId,
        attempt: u32,
        round: u32,
    },
    /// Save a candidate's work under `refs/fleet/discarded/<parent>/<task>/<n>`
    /// (then its worktree is removed).
    DiscardCandidate { task: TaskId, parent: TaskId },
    /// Merge the members' gated commits onto the group's integration
    /// branch from the target's tip and run the group's gate there.
    Integrate {
        group: String,
        members: Vec<(TaskId, u32)>,
    },
    /// Land the group's integration branch on the target as one change.
    MergeGroup {
        group: String,
        members: Vec<(TaskId, u32)>,
    },
}
