//! The runtime: a thin tokio shell around the pure scheduler.
//!
//! The [`Engine`] owns the scheduler, the store and the fleet lock. It handles
//! one message at a time (a user command, a result from a job, agent output),
//! feeds it to the scheduler, and carries out the effects it returns by
//! spawning jobs: agent runs ([`agent_run`]), gates ([`gate`]), merges and
//! worktree removals. Jobs report back through the same channel.
//! Environment faults (writes the machine refuses) pause the fleet once per
//! episode ([`faults`]).

mod agent_run;
mod consult;
pub mod contain;
pub mod editor;
mod engine;
mod fanout;
mod faults;
mod gate;
mod group;
mod handoff;
pub mod inbox;
mod jobs;
mod live_log;
mod open;
mod overlap;
mod planner_run;
pub mod process;
mod repair;
mod review_job;
mod review_run;
mod roles;
mod summary;
pub mod team;

use tokio::sync::oneshot;

pub use engine::{Engine, EngineError, EngineHandle, EngineOptions, Notification, Snapshot};
pub use summary::session_baseline;

use crate::agent::AgentEvent;
use crate::core::{Command, CommandError, Report, TaskId};

/// Everything the engine loop receives.
// `Command` grew past clippy's size limit with the team layer's TaskSpec
// fields (at 120e84b already); one message at a time, so no box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Msg {
    /// A user command; the reply says whether the scheduler accepted it.
    Command {
        command: Command,
        reply: Option<oneshot::Sender<Result<(), CommandError>>>,
    },
    /// A job finished.
    Report(Report),
    /// An agent run prepared its worktree and is about to launch: record the
    /// attempt (with the commit it starts from) before anything can change.
    AttemptBegan {
        task: TaskId,
        attempt: u32,
        agent: String,
        prompt: String,
        base: String,
        transcript: String,
        ack: oneshot::Sender<()>,
    },
    /// Parsed agent output.
    Agent {
        task: TaskId,
        attempt: u32,
        event: AgentEvent,
    },
    /// A transcript line other than agent stdout (stderr, notes, verify output).
    Line {
        task: TaskId,
        attempt: u32,
        stream: crate::store::transcript::Stream,
        line: String,
    },
    /// A transcript line of supervisor consultation `consult` (every stream).
    Supervisor {
        consult: u64,
        stream: crate::store::transcript::Stream,
        line: String,
    },
    /// The gate committed the attempt.
    Committed {
        task: TaskId,
        attempt: u32,
        commit: String,
    },
    /// A write under `.fleet` failed outside the engine loop (a transcript
    /// line: disk full, read-only...); `message` names the path and the OS error.
    EnvironmentFault { message: String },
    /// A worktree removal finished.
    WorktreeRemoved { task: TaskId, error: Option<String> },
    /// The inbox directory changed: take what arrived.
    Inbox,
    /// What a running attempt did so far ([`Ledger::summary`](crate::core::supervisor::ledger::Ledger::summary)),
    /// after each count of its worktree's files.
    Progress {
        task: TaskId,
        attempt: u32,
        summary: String,
    },
    /// Stop: agents are stopped and will be interrupted attempts on the next start.
    Shutdown,
}
