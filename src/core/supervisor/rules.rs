//! What a proposal may change, and what it changes. The planner answers
//! with a whole plan; the rules here turn it into a plan diff that never
//! discards committed work or a running attempt unless it says so:
//! - a task the answer leaves out is kept when it is running, in review,
//!   merging, done, or has verified work; it is dropped only by a `drop`
//!   action or by being split (its parts name it in `split_from`);
//! - a queued or failed task the answer leaves out is dropped (the answer
//!   is the whole plan);
//! - ids stay stable: a dropped id cannot come back (see
//!   [`PlanDiff::between`]), and a done one cannot be proposed again (see
//!   [`validate`](crate::core::planner::validate));
//! - actions become changes of their own, refused where their task's state
//!   does not allow them.
//!
//! Each change has a [`DecisionKind`]; a proposal applies by itself only
//! when every one of its changes is of a kind the user set to `auto`.

use std::collections::{BTreeSet, HashSet};

use super::{Autonomy, AutonomyTable, DecisionKind, Proposal, Trigger};
use crate::core::fleet::Task;
use crate::core::plan_diff::{Change, ChangeKind, PlanDiff};
use crate::core::planner::ActionKind;
use crate::core::status::Status;
use crate::core::task::{TaskId, TaskSpec};

/// Whether `task`, left out of a proposal, stays in the plan.
fn kept_when_left_out(task: &Task) -> bool {
    match task.status {
        Status::Queued { .. } | Status::Failed { .. } => task.verified.is_some(),
        Status::Dropped => false,
        _ => true,
    }
}

/// The tasks a proposal drops explicitly: by a `drop` action or by a split.
fn explicit_drops(proposal: &Proposal) -> HashSet<&TaskId> {
    let mut out: HashSet<&TaskId> = proposal
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Drop)
        .map(|a| &a.task)
        .collect();
    out.extend(proposal.specs.iter().filter_map(|s| s.split_from.as_ref()));
    out
}

/// The whole plan the proposal stands for: its tasks, then every current
/// task it leaves out that is kept ([`kept_when_left_out`]) and not dropped
/// explicitly.
pub fn proposed_plan(current: &[Task], proposal: &Proposal) -> Vec<TaskSpec> {
    let named: HashSet<&TaskId> = proposal.specs.iter().map(|s| &s.id).collect();
    let drops = explicit_drops(proposal);
    // Fan-out candidates belong to the scheduler (made from their parent):
    // a planner's version of one changes nothing, and one left out stays
    // as it is (a dropped one stays dropped).
    let is_candidate = |id: &TaskId| {
        current
            .iter()
            .any(|t| t.id() == id && t.spec.candidate_of.is_some())
    };
    let mut plan: Vec<TaskSpec> = proposal
        .specs
        .iter()
        .filter(|s| !is_candidate(&s.id))
        .cloned()
        .collect();
    plan.extend(
        current
            .iter()
            .filter(|t| !drops.contains(t.id()))
            .filter(|t| {
                if t.spec.candidate_of.is_some() {
                    !matches!(t.status, Status::Dropped)
                } else {
                    !named.contains(t.id()) && kept_when_left_out(t)
                }
            })
            .map(|t| t.spec.clone()),
    );
    plan
}

/// The plan diff of `proposal` against the plan as it is now, with its
/// actions as changes after the plan's own (a `drop` action is a drop).
pub fn diff(current: &[Task], proposal: &Proposal) -> PlanDiff {
    let mut diff = PlanDiff::between(current, &proposed_plan(current, proposal));
    for action in proposal
        .actions
        .iter()
        .filter(|a| a.kind != ActionKind::Drop)
    {
        let task = current.iter().find(|t| t.id() == &action.task);
        let refused = match task {
            None => Some(format!("task `{}` is no longer in the plan", action.task)),
            Some(t) => action_refusal(t, action.kind),
        };
        diff.push_change(
            ChangeKind::Action {
                action: action.clone(),
            },
            refused,
        );
    }
    diff
}

/// Why `kind` cannot be done to `task` now, in the scheduler's words.
fn action_refusal(task: &Task, kind: ActionKind) -> Option<String> {
    use crate::core::verbs::Verb;
    let running = matches!(task.status, Status::Running { .. } | Status::Paused { .. });
    match kind {
        ActionKind::Retry => task.allows(Verb::Retry).err().map(|r| r.to_string()),
        ActionKind::Restart | ActionKind::Nudge if !running => Some(format!(
            "task `{}` is {}: {} needs a task that is running",
            task.id(),
            task.status.name(),
            kind.name()
        )),
        ActionKind::Ask if matches!(task.status, Status::Done { .. } | Status::Dropped) => {
            Some(format!(
                "task `{}` is {}: there is nothing to ask about",
                task.id(),
                task.status.name()
            ))
        }
        _ => None,
    }
}

/// Whether the trigger is about the plan as a whole (a goal, fleet.toml).
fn is_planning(trigger: &Trigger) -> bool {
    match trigger {
        Trigger::Goal { .. } | Trigger::Config => true,
        Trigger::Feedback { on, .. } => is_planning(on),
        _ => false,
    }
}

/// The tasks split by the changes of `diff`.
fn split_parents(diff: &PlanDiff) -> HashSet<&TaskId> {
    diff.changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::Add { spec } => spec.split_from.as_ref(),
            _ => None,
        })
        .collect()
}

/// The kind of decision `change` is, for autonomy; None for a question
/// (asking changes nothing).
pub fn kind_of(change: &Change, diff: &PlanDiff, trigger: &Trigger) -> Option<DecisionKind> {
    kind_with(change, &split_parents(diff), is_planning(trigger))
}

fn kind_with(
    change: &Change,
    split_parents: &HashSet<&TaskId>,
    planning: bool,
) -> Option<DecisionKind> {
    Some(match &change.kind {
        ChangeKind::Add { spec } if spec.split_from.is_some() => DecisionKind::Split,
        ChangeKind::Add { .. } if planning => DecisionKind::Plan,
        ChangeKind::Add { .. } => DecisionKind::Add,
        ChangeKind::Drop { task, .. } if split_parents.contains(task) => DecisionKind::Split,
        ChangeKind::Drop { .. } => DecisionKind::Drop,
        ChangeKind::Edit { fields, .. } if fields.iter().any(|f| f.field == "agent") => {
            DecisionKind::Reassign
        }
        ChangeKind::Edit { .. } if planning => DecisionKind::Plan,
        ChangeKind::Edit { .. } => DecisionKind::Retry,
        ChangeKind::Action { action } => match action.kind {
            ActionKind::Ask => return None,
            ActionKind::Drop => DecisionKind::Drop,
            ActionKind::Retry | ActionKind::Restart | ActionKind::Nudge => DecisionKind::Retry,
        },
    })
}

/// The kinds of decision among the applicable changes of `diff`.
pub fn kinds(diff: &PlanDiff, trigger: &Trigger) -> BTreeSet<DecisionKind> {
    let parents = split_parents(diff);
    let planning = is_planning(trigger);
    diff.changes
        .iter()
        .filter(|c| c.refused.is_none())
        .filter_map(|c| kind_with(c, &parents, planning))
        .collect()
}

/// Whether the proposal applies without asking: it has something to
/// apply, nothing refused, no cycle, and every kind of decision in it is
/// set to `auto`. A question alone is shown, never applied by itself.
pub fn applies_by_itself(diff: &PlanDiff, trigger: &Trigger, autonomy: &AutonomyTable) -> bool {
    let kinds = kinds(diff, trigger);
    !kinds.is_empty()
        && diff.cycles.is_empty()
        && diff.changes.iter().all(|c| c.refused.is_none())
        && kinds.iter().all(|k| autonomy.get(*k) == Autonomy::Auto)
}

/// One line per change for the history and the event log: "add `api`:
/// Build the API", "drop `old`", "edit `docs`: prompt, agent", "nudge `x`".
pub fn change_line(change: &Change) -> String {
    match &change.kind {
        ChangeKind::Add { spec } => match &spec.split_from {
            Some(from) => format!("add `{}`: {} (part of `{from}`)", spec.id, spec.title),
            None => format!("add `{}`: {}", spec.id, spec.title),
        },
        ChangeKind::Drop { task, title, .. } => format!("drop `{task}`: {title}"),
        ChangeKind::Edit {
            task,
            fields,
            deps_added,
            deps_removed,
            ..
        } => {
            let mut what: Vec<&str> = fields.iter().map(|f| f.field).collect();
            if !deps_added.is_empty() || !deps_removed.is_empty() {
                what.push("deps");
            }
            format!("edit `{task}`: {}", what.join(", "))
        }
        ChangeKind::Action { action } => match &action.message {
            Some(m) => format!("{} `{}`: {}", action.kind.name(), action.task, m.trim()),
            None => format!("{} `{}`", action.kind.name(), action.task),
        },
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
