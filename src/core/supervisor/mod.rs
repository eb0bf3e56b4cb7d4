//! The supervisor's rules, pure: when it is consulted ([`Trigger`]), what a
//! proposal it made is ([`Proposal`]), which kind of decision each change is
//! ([`DecisionKind`]) and whether the user chose to let it apply by itself
//! ([`Autonomy`]), and what a replan may change ([`rules`]). The runtime
//! runs the planning agent; the scheduler owns the pending proposal.

pub mod ledger;
pub mod reporting;
pub mod routing;
pub mod rules;

use serde::{Deserialize, Serialize};

use super::planner::Action;
use super::task::{TaskId, TaskSpec};

/// Whether a kind of decision waits for the user or applies by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Autonomy {
    /// Shown as a plan diff to confirm (the default).
    #[default]
    Confirm,
    /// Applied without asking; recorded with its reason like any change.
    Auto,
}

/// The kinds of decision `[supervisor] autonomy` is set for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// A plan for a goal (a first plan or a scope change).
    Plan,
    /// Run a task again (with a rewritten prompt), restart or nudge it.
    Retry,
    /// Give a task to another agent profile.
    Reassign,
    /// Replace a task by smaller ones that continue its work.
    Split,
    /// Add a task (new work found).
    Add,
    /// Drop a task.
    Drop,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 6] = [
        DecisionKind::Plan,
        DecisionKind::Retry,
        DecisionKind::Reassign,
        DecisionKind::Split,
        DecisionKind::Add,
        DecisionKind::Drop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DecisionKind::Plan => "plan",
            DecisionKind::Retry => "retry",
            DecisionKind::Reassign => "reassign",
            DecisionKind::Split => "split",
            DecisionKind::Add => "add",
            DecisionKind::Drop => "drop",
        }
    }
}

/// `[supervisor] autonomy`: one setting per kind of decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutonomyTable {
    pub plan: Autonomy,
    pub retry: Autonomy,
    pub reassign: Autonomy,
    pub split: Autonomy,
    pub add: Autonomy,
    pub drop: Autonomy,
}

impl AutonomyTable {
    pub fn get(&self, kind: DecisionKind) -> Autonomy {
        match kind {
            DecisionKind::Plan => self.plan,
            DecisionKind::Retry => self.retry,
            DecisionKind::Reassign => self.reassign,
            DecisionKind::Split => self.split,
            DecisionKind::Add => self.add,
            DecisionKind::Drop => self.drop,
        }
    }
}

/// What an agent reported about its task with `fleetdeck report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// The task is bigger or harder than planned.
    Complexity,
    /// New work the plan does not have.
    Found,
    /// The agent cannot go on without something (`fleetdeck msg blocker`).
    Blocker,
}

impl ReportKind {
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Complexity => "complexity",
            ReportKind::Found => "found",
            ReportKind::Blocker => "blocker",
        }
    }
}

/// Why the supervisor is consulted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum Trigger {
    /// The user gave a goal: a first plan, or a scope change on a plan that
    /// exists (done and running work is kept).
    Goal { goal: String },
    /// A task failed after its attempts.
    Failed { task: TaskId, reason: String },
    /// A running attempt made no progress (or loops); `why` from its ledger.
    Stalled {
        task: TaskId,
        attempt: u32,
        why: String,
    },
    /// An agent reported hidden complexity or new work.
    Reported {
        task: TaskId,
        kind: ReportKind,
        text: String,
    },
    /// The tasks of fleet.toml differ from the plan (seen at start).
    Config,
    /// The user's feedback on a proposal: another round.
    Feedback {
        /// What the proposal was consulted for.
        on: Box<Trigger>,
        feedback: String,
    },
}

impl Trigger {
    /// One line for cards, history and the supervisor pane.
    pub fn describe(&self) -> String {
        match self {
            Trigger::Goal { goal } => format!("goal: {}", first_line(goal)),
            Trigger::Config => "fleet.toml was edited".into(),
            Trigger::Failed { task, reason } => format!("`{task}` failed: {}", first_line(reason)),
            Trigger::Stalled { task, why, .. } => format!("`{task}` stalled: {why}"),
            Trigger::Reported { task, kind, text } => {
                format!("`{task}` reported {}: {}", kind.name(), first_line(text))
            }
            Trigger::Feedback { on, feedback } => {
                format!("feedback on {}: {}", on.describe(), first_line(feedback))
            }
        }
    }

    /// The task the consultation is about, if any.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Trigger::Goal { .. } | Trigger::Config => None,
            Trigger::Failed { task, .. }
            | Trigger::Stalled { task, .. }
            | Trigger::Reported { task, .. } => Some(task),
            Trigger::Feedback { on, .. } => on.task(),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or("")
}

/// Who proposed a change to the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The supervisor agent.
    Supervisor,
    /// The user (replan, add, edit, drop).
    User,
    /// An edit of fleet.toml, seen at start.
    Config,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::Supervisor => "supervisor",
            Origin::User => "user",
            Origin::Config => "fleet.toml",
        }
    }
}

/// A plan proposed by the supervisor (or found in an edited fleet.toml),
/// waiting to be confirmed (or applied by autonomy). The diff is computed
/// against the plan as it is when shown, and again when confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Numbered from 1 per fleet.
    pub id: u64,
    pub origin: Origin,
    pub trigger: Trigger,
    /// The planner's reasoning (`notes` of its answer).
    pub reasoning: Option<String>,
    /// The tasks of the proposed plan, as validated.
    pub specs: Vec<TaskSpec>,
    /// What to do besides changing the plan.
    pub actions: Vec<Action>,
    /// What the user should know before confirming (overlaps, roles).
    pub warnings: Vec<String>,
}
