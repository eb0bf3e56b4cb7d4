//! The domain core: tasks, statuses, plan validation, feedback and the
//! scheduler state machine. Nothing here does I/O or knows about tokio,
//! git2 or the terminal.

pub mod feedback;
pub mod fleet;
pub mod handoff;
pub mod messages;
pub mod outcome;
pub mod plan;
pub mod plan_diff;
pub mod plan_graph;
pub mod planner;
pub mod scheduler;
pub mod status;
pub mod supervisor;
pub mod task;
pub mod team;
pub mod verbs;
pub mod worktree_paths;

pub use feedback::{ConflictChange, ConflictFile, Feedback, FeedbackKind};
pub use fleet::{AfterStop, Fleet, Task, Verified};
pub use messages::{
    Actor, AgentResult, Command, CommandError, ConsultResult, Continuation, Effect, Event,
    GateResult, IntegrationResult, MergeResult, Report, ReviewResult, Signal, Spend, StartRequest,
    UpdateResult, Workspace,
};
pub use outcome::AttemptOutcome;
pub use scheduler::{Budgets, Limits, Scheduler};
pub use status::{Column, MergeBlock, Status};
pub use task::{MergeStyle, TaskId, TaskPatch, TaskSpec};

pub use verbs::{Refusal, Verb};
