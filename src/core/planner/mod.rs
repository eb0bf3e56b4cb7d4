//! The planner's output contract and what fleetdeck does with an answer:
//! the serde types of a plan answer and their JSON Schema ([`schema`]),
//! extraction from an agent's final message or structured-output envelope
//! ([`extract`]), validation with the plan rules and conversion to
//! [`TaskSpec`](super::task::TaskSpec)s ([`validate`]), the follow-up that
//! re-asks with the errors ([`reask_prompt`]) and the planning prompt itself
//! ([`planning_prompt`]). Pure: the caller supplies every input.

mod answer;
mod prompt;
mod read_prompt;
mod schema;
mod validate;

use serde::{Deserialize, Serialize};

pub use answer::{AnswerError, ShapeProblem, extract};
pub use prompt::{AgentProfile, PlanningContext, RepoSummary, planning_prompt, reask_prompt};
pub use read_prompt::{
    CurrentTask, PLANNING_OPENING, REASK_OPENING, ReadPrompt, is_planning_prompt, is_reask,
    read_prompt,
};
pub use schema::schema;
pub use validate::{Action, PlanProblem, Validated, validate};

/// The planner's whole answer: the tasks of the plan and optional notes
/// (reasoning, questions) shown to the user with the plan diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanAnswer {
    pub tasks: Vec<PlannedTask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// What to do besides changing the plan: retry, restart or nudge a
    /// task, ask the user a question, drop a task that is running or in
    /// review (left out of `tasks`, such a task is kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<PlannedAction>,
}

/// One action of an answer, on a task of the current plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedAction {
    pub kind: ActionKind,
    pub task: String,
    /// The nudge sent to the agent, or the question for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The kinds of [`PlannedAction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Run a failed task again (its prompt rewritten in `tasks` if needed).
    Retry,
    /// Stop a running attempt and start the task over.
    Restart,
    /// Tell a running (or stalled) agent something in its session.
    Nudge,
    /// Ask the user a question about the task (it waits as needs-input).
    Ask,
    /// Drop the task even though it is running or in review.
    Drop,
}

impl ActionKind {
    /// Every kind, in schema order.
    pub const ALL: [ActionKind; 5] = [
        ActionKind::Retry,
        ActionKind::Restart,
        ActionKind::Nudge,
        ActionKind::Ask,
        ActionKind::Drop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Retry => "retry",
            ActionKind::Restart => "restart",
            ActionKind::Nudge => "nudge",
            ActionKind::Ask => "ask",
            ActionKind::Drop => "drop",
        }
    }

    /// Whether the action needs a `message`.
    pub fn needs_message(self) -> bool {
        matches!(self, ActionKind::Nudge | ActionKind::Ask)
    }
}

/// One task as the planner proposes it. Ids are kept as strings here so that
/// a bad id is reported by [`validate`] with the task it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedTask {
    pub id: String,
    pub title: String,
    pub prompt: String,
    #[serde(default)]
    pub deps: Vec<String>,
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Files the task expects to touch (repository-relative paths).
    #[serde(default)]
    pub files: Vec<String>,
    /// Acceptance criteria, one per entry.
    #[serde(default)]
    pub acceptance: Vec<String>,
    /// Verify commands for this task instead of the fleet's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Vec<String>>,
    /// The id of the current task this one is split from (that task is
    /// left out of the plan; its work so far is handed to its parts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_from: Option<String>,
    /// Merge without waiting for review once its verify gate passes (for
    /// low-risk work); shown in the plan diff for the user to confirm.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_approve: bool,
    /// Run the task once per profile named here (at least two), the user
    /// picking one candidate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fanout: Vec<String>,
    /// The task group it belongs to: members run at once and land together
    /// as one change after the group's gate passes on their merged work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl PlannedTask {
    /// A planned task with these fields and every other one at its default
    /// (no deps, role, files, acceptance, verify, split, fan-out or group;
    /// reviewed): for answers built in code (the simulated planner, tests).
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        prompt: impl Into<String>,
        agent: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            prompt: prompt.into(),
            deps: Vec::new(),
            agent: agent.into(),
            role: None,
            files: Vec::new(),
            acceptance: Vec::new(),
            verify: None,
            split_from: None,
            auto_approve: false,
            fanout: Vec::new(),
            group: None,
        }
    }
}

/// The fields of [`PlanAnswer`], in schema order.
pub const ANSWER_FIELDS: [&str; 3] = ["tasks", "notes", "actions"];
/// The fields of [`PlannedAction`], in schema order.
pub const ACTION_FIELDS: [&str; 3] = ["kind", "task", "message"];
/// The fields of [`PlannedTask`], in schema order.
pub const TASK_FIELDS: [&str; 13] = [
    "id",
    "title",
    "prompt",
    "deps",
    "agent",
    "role",
    "files",
    "acceptance",
    "verify",
    "split_from",
    "auto_approve",
    "fanout",
    "group",
];
/// The fields a task must have.
pub const REQUIRED_TASK_FIELDS: [&str; 4] = ["id", "title", "prompt", "agent"];
