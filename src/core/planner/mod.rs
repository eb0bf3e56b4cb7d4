//! The planner's output contract and what fleetdeck does with an answer:
//! the serde types of a plan answer and their JSON Schema ([`schema`]),
//! extraction from an agent's final message or structured-output envelope
//! ([`extract`]), validation with the plan rules and conversion to
//! [`TaskSpec`](super::task::TaskSpec)s ([`validate`]), the follow-up that
//! re-asks with the errors ([`reask_prompt`]) and the planning prompt itself
//! ([`planning_prompt`]). Pure: the caller supplies every input.

mod answer;
mod prompt;
mod schema;
mod validate;

use serde::{Deserialize, Serialize};

pub use answer::{AnswerError, ShapeProblem, extract};
pub use prompt::{AgentProfile, PlanningContext, RepoSummary, planning_prompt, reask_prompt};
pub use schema::schema;
pub use validate::{PlanProblem, Validated, validate};

/// The planner's whole answer: the tasks of the plan and optional notes
/// (reasoning, questions) shown to the user with the plan diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanAnswer {
    pub tasks: Vec<PlannedTask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
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
}

/// The fields of [`PlanAnswer`], in schema order.
pub const ANSWER_FIELDS: [&str; 2] = ["tasks", "notes"];
/// The fields of [`PlannedTask`], in schema order.
pub const TASK_FIELDS: [&str; 9] = [
    "id",
    "title",
    "prompt",
    "deps",
    "agent",
    "role",
    "files",
    "acceptance",
    "verify",
];
/// The fields a task must have.
pub const REQUIRED_TASK_FIELDS: [&str; 4] = ["id", "title", "prompt", "agent"];
