//! The domain core: tasks, statuses, plan validation, feedback and the
//! scheduler state machine. Nothing here does I/O or knows about tokio,
//! git2 or the terminal.

pub mod feedback;
pub mod fleet;
pub mod messages;
pub mod plan;
pub mod scheduler;
pub mod status;
pub mod task;
pub mod verbs;

pub use feedback::{Feedback, FeedbackKind};
pub use fleet::{AfterStop, Fleet, Task};
pub use messages::{
    Actor, AgentResult, Command, CommandError, Continuation, Effect, Event, GateResult,
    MergeResult, Report, Signal, Spend, StartRequest, Workspace,
};
pub use scheduler::{Budgets, Limits, Scheduler};
pub use status::{Column, MergeBlock, Status};
pub use task::{TaskId, TaskPatch, TaskSpec};
pub use verbs::{Refusal, Verb};
