//! The plan diff: what turns the current plan into a proposed one (tasks
//! added, removed, changed field by field, dependencies added and removed),
//! whoever proposed it. Every change has an id so that a user can toggle
//! single changes off before the rest becomes one [`Command::Batch`]. The
//! rules of what may change are checked here, before anything is
//! confirmed, with the scheduler's own rule per verb ([`Task::allows`]).

use std::collections::{HashMap, HashSet};

use super::fleet::Task;
use super::messages::Command;
use super::plan::{cycle_text, deps_first, find_cycles};
use super::planner::{Action, ActionKind};
use super::status::Status;
use super::task::{MergeStyle, TaskId, TaskPatch, TaskSpec};
use super::verbs::Verb;

/// The number of a change in its diff (its index, in display order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeId(pub usize);

impl std::fmt::Display for ChangeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0 + 1)
    }
}

/// One field of a task that changes, in words: `old` → `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

/// What one change does.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// A task the proposed plan has and the current one does not.
    Add { spec: TaskSpec },
    /// A task of the current plan the proposed plan leaves out.
    Drop {
        task: TaskId,
        title: String,
        /// The dropped task's dependencies (to drop dependents first).
        deps: Vec<TaskId>,
        /// What dropping it throws away, in words, when it is more than a
        /// queued task: "stops its running agent", "discards its work in review".
        discards: Option<&'static str>,
    },
    /// Something to do to a task besides changing its spec (retry,
    /// restart, nudge, ask): from a supervisor's answer.
    Action { action: Action },
    /// A task in both plans whose spec differs.
    Edit {
        task: TaskId,
        fields: Vec<FieldChange>,
        deps_added: Vec<TaskId>,
        deps_removed: Vec<TaskId>,
        patch: TaskPatch,
    },
}

/// One change of a diff; `refused` says why it cannot be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: ChangeId,
    pub kind: ChangeKind,
    pub refused: Option<String>,
}

impl Change {
    /// The task the change is about.
    pub fn task(&self) -> &TaskId {
        match &self.kind {
            ChangeKind::Add { spec } => &spec.id,
            ChangeKind::Drop { task, .. } | ChangeKind::Edit { task, .. } => task,
            ChangeKind::Action { action } => &action.task,
        }
    }

    /// "add `api`", "edit `docs`", "drop `old`": how messages name it.
    pub fn describe(&self) -> String {
        let verb = match &self.kind {
            ChangeKind::Add { .. } => "add",
            ChangeKind::Drop { .. } => "drop",
            ChangeKind::Edit { .. } => "edit",
            ChangeKind::Action { action } => action.kind.name(),
        };
        format!("change {} ({verb} `{}`)", self.id, self.task())
    }
}

/// Why the enabled changes of a diff cannot become a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    #[error("{needed} is turned off, but {by} needs it ({why}); turn both off or keep both")]
    Needed {
        needed: String,
        by: String,
        why: String,
    },
    #[error("{needed} is refused ({refusal}), but {by} needs it ({why}); turn {by_short} off")]
    NeededRefused {
        needed: String,
        refusal: String,
        by: String,
        by_short: String,
        why: String,
    },
    #[error("the proposed plan has a dependency cycle: {0}; nothing can be applied")]
    Cycle(String),
    #[error("no change is turned on")]
    Empty,
}

/// Every change between a current plan and a proposed one, in plan order:
/// the proposed plan's tasks (added or edited) first, then the drops.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanDiff {
    pub changes: Vec<Change>,
    /// Dependency cycles of the proposed plan, each from its first task.
    pub cycles: Vec<Vec<TaskId>>,
    /// Tasks in both plans that stay as they are.
    pub unchanged: usize,
}

impl PlanDiff {
    /// The diff from `current` (the fleet's tasks) to `proposed` (a plan).
    pub fn between(current: &[Task], proposed: &[TaskSpec]) -> PlanDiff {
        let by_id: HashMap<&TaskId, &Task> = current.iter().map(|t| (t.id(), t)).collect();
        let proposed_ids: HashSet<&TaskId> = proposed.iter().map(|s| &s.id).collect();
        let mut diff = PlanDiff::default();
        for spec in proposed {
            let kind_refused = match by_id.get(&spec.id) {
                None => Some((ChangeKind::Add { spec: spec.clone() }, None)),
                Some(task) if task.status == Status::Dropped => Some((
                    ChangeKind::Add { spec: spec.clone() },
                    Some(format!(
                        "task `{}` was dropped; ids stay stable, so a new task needs a new id",
                        spec.id
                    )),
                )),
                Some(task) => edit_of(task, spec).map(|kind| {
                    let refused = task.allows(Verb::Edit).err().map(|r| r.to_string());
                    (kind, refused)
                }),
            };
            match kind_refused {
                Some((kind, refused)) => diff.push_change(kind, refused),
                None => diff.unchanged += 1,
            }
        }
        for task in current {
            if proposed_ids.contains(task.id()) || task.status == Status::Dropped {
                continue;
            }
            let refused = task.allows(Verb::Drop).err().map(|r| r.to_string());
            let kind = ChangeKind::Drop {
                task: task.id().clone(),
                title: task.spec.title.clone(),
                deps: task.spec.deps.clone(),
                discards: discards(&task.status),
            };
            diff.push_change(kind, refused);
        }
        let graph: Vec<(&TaskId, &[TaskId])> = proposed
            .iter()
            .map(|s| (&s.id, s.deps.as_slice()))
            .collect();
        diff.cycles = find_cycles(&graph);
        diff
    }

    /// Appends a change (numbered next).
    pub fn push_change(&mut self, kind: ChangeKind, refused: Option<String>) {
        let id = ChangeId(self.changes.len());
        self.changes.push(Change { id, kind, refused });
    }

    /// The change `id`, if the diff has it.
    pub fn change(&self, id: ChangeId) -> Option<&Change> {
        self.changes.get(id.0)
    }

    /// True when the proposed plan is the current one.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The tasks that a change adds or edits (for marking them in the graph).
    pub fn changed_tasks(&self) -> HashSet<TaskId> {
        self.changes
            .iter()
            .filter(|c| !matches!(c.kind, ChangeKind::Drop { .. }))
            .map(|c| c.task().clone())
            .collect()
    }

    /// How many changes of each kind: (added, dropped, edited).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut n = (0, 0, 0);
        for c in &self.changes {
            match c.kind {
                ChangeKind::Add { .. } => n.0 += 1,
                ChangeKind::Drop { .. } => n.1 += 1,
                ChangeKind::Edit { .. } => n.2 += 1,
                ChangeKind::Action { .. } => {}
            }
        }
        n
    }

    /// How many changes are actions (retry, restart, nudge, ask).
    pub fn actions(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| matches!(c.kind, ChangeKind::Action { .. }))
            .count()
    }

    /// The enabled changes (refused ones never are) as one batch: adds
    /// first, each after the added tasks it depends on, then edits, then
    /// drops (dependents first). Refused when an enabled change needs one
    /// that is off or refused, or when the proposed plan has a cycle.
    pub fn commands(&self, enabled: &dyn Fn(ChangeId) -> bool) -> Result<Command, DiffError> {
        if let Some(cycle) = self.cycles.first() {
            return Err(DiffError::Cycle(cycle_text(cycle)));
        }
        let on = |c: &Change| c.refused.is_none() && enabled(c.id);
        self.check_needs(&on)?;
        let mut adds: Vec<(&TaskId, &[TaskId])> = Vec::new();
        let mut specs: Vec<&TaskSpec> = Vec::new();
        let mut edits = Vec::new();
        let mut drops: Vec<(&TaskId, &[TaskId])> = Vec::new();
        let mut actions = Vec::new();
        for c in self.changes.iter().filter(|c| on(c)) {
            match &c.kind {
                ChangeKind::Add { spec } => {
                    adds.push((&spec.id, &spec.deps));
                    specs.push(spec);
                }
                ChangeKind::Edit { task, patch, .. } => edits.push(Command::Edit {
                    task: task.clone(),
                    patch: patch.clone(),
                }),
                ChangeKind::Drop { task, deps, .. } => drops.push((task, deps)),
                ChangeKind::Action { action } => actions.push(action_command(action)),
            }
        }
        let mut commands: Vec<Command> = deps_first(&adds)
            .0
            .into_iter()
            .map(|i| Command::Add {
                spec: specs[i].clone(),
            })
            .collect();
        commands.append(&mut edits);
        commands.extend(
            deps_first(&drops)
                .0
                .into_iter()
                .rev()
                .map(|i| Command::Drop {
                    task: drops[i].0.clone(),
                }),
        );
        commands.append(&mut actions);
        if commands.is_empty() {
            return Err(DiffError::Empty);
        }
        Ok(Command::Batch { commands })
    }

    /// The commands of every change that is not refused, except `off`.
    pub fn without(&self, off: &[ChangeId]) -> Result<Command, DiffError> {
        self.commands(&|id| !off.contains(&id))
    }

    /// An enabled change must not need a change that is off: an added task
    /// it depends on, or (for a drop) the edit that removes the dependency
    /// of a remaining task on the dropped one.
    fn check_needs(&self, on: &dyn Fn(&Change) -> bool) -> Result<(), DiffError> {
        let adds: HashMap<&TaskId, &Change> = self
            .changes
            .iter()
            .filter(|c| matches!(c.kind, ChangeKind::Add { .. }))
            .map(|c| (c.task(), c))
            .collect();
        let mut unlinks: HashMap<&TaskId, Vec<&Change>> = HashMap::new();
        for c in &self.changes {
            if let ChangeKind::Edit { deps_removed, .. } = &c.kind {
                for d in deps_removed {
                    unlinks.entry(d).or_default().push(c);
                }
            }
        }
        for by in self.changes.iter().filter(|c| on(c)) {
            let needs: Vec<(&Change, String)> = match &by.kind {
                ChangeKind::Action { .. } => Vec::new(),
                ChangeKind::Add { spec } => spec
                    .deps
                    .iter()
                    .filter_map(|d| adds.get(d).map(|n| (*n, format!("it depends on `{d}`"))))
                    .collect(),
                ChangeKind::Edit { deps_added, .. } => deps_added
                    .iter()
                    .filter_map(|d| {
                        adds.get(d)
                            .map(|n| (*n, format!("it adds a dependency on `{d}`")))
                    })
                    .collect(),
                ChangeKind::Drop { task, .. } => unlinks
                    .get(task)
                    .into_iter()
                    .flatten()
                    .map(|n| (*n, format!("`{}` still depends on `{task}`", n.task())))
                    .collect(),
            };
            if let Some((needed, why)) = needs.into_iter().find(|(n, _)| !on(n)) {
                return Err(match &needed.refused {
                    Some(refusal) => DiffError::NeededRefused {
                        needed: needed.describe(),
                        refusal: refusal.clone(),
                        by: by.describe(),
                        by_short: format!("change {}", by.id),
                        why,
                    },
                    None => DiffError::Needed {
                        needed: needed.describe(),
                        by: by.describe(),
                        why,
                    },
                });
            }
        }
        Ok(())
    }
}

/// The edit from `task`'s spec to `spec`, None when they are the same.
/// The command that carries out an action (after the plan's changes).
fn action_command(action: &Action) -> Command {
    let task = action.task.clone();
    let message = action.message.clone().unwrap_or_default();
    match action.kind {
        ActionKind::Retry => Command::Retry { task },
        ActionKind::Restart => Command::Restart { task },
        ActionKind::Nudge => Command::Nudge { task, message },
        ActionKind::Ask => Command::Ask {
            task,
            question: message,
        },
        ActionKind::Drop => Command::Drop { task },
    }
}

fn edit_of(task: &Task, spec: &TaskSpec) -> Option<ChangeKind> {
    let old = &task.spec;
    let mut patch = TaskPatch::default();
    let fields = changed_fields(old, spec, &mut patch);
    let deps_added: Vec<TaskId> = spec
        .deps
        .iter()
        .filter(|d| !old.deps.contains(d))
        .cloned()
        .collect();
    let deps_removed: Vec<TaskId> = old
        .deps
        .iter()
        .filter(|d| !spec.deps.contains(d))
        .cloned()
        .collect();
    if !deps_added.is_empty() || !deps_removed.is_empty() {
        patch.deps = Some(spec.deps.clone());
    }
    if fields.is_empty() && patch.deps.is_none() {
        return None;
    }
    Some(ChangeKind::Edit {
        task: spec.id.clone(),
        fields,
        deps_added,
        deps_removed,
        patch,
    })
}

/// The fields (other than deps) in which `spec` differs from `old`, each
/// also set in `patch`.
fn changed_fields(old: &TaskSpec, spec: &TaskSpec, patch: &mut TaskPatch) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut field = |name: &'static str, o: String, n: String| {
        fields.push(FieldChange {
            field: name,
            old: o,
            new: n,
        });
    };
    if old.title != spec.title {
        field("title", old.title.clone(), spec.title.clone());
        patch.title = Some(spec.title.clone());
    }
    if old.prompt != spec.prompt {
        field("prompt", old.prompt.clone(), spec.prompt.clone());
        patch.prompt = Some(spec.prompt.clone());
    }
    if old.agent != spec.agent {
        field("agent", old.agent.clone(), spec.agent.clone());
        patch.agent = Some(spec.agent.clone());
    }
    if old.role != spec.role {
        field("role", opt(&old.role), opt(&spec.role));
        patch.role = Some(spec.role.clone());
    }
    if old.verify != spec.verify {
        let words = |v: &Option<Vec<String>>| v.as_ref().map_or("default".into(), |v| v.join("; "));
        field("verify", words(&old.verify), words(&spec.verify));
        patch.verify = Some(spec.verify.clone());
    }
    if old.priority != spec.priority {
        field(
            "priority",
            old.priority.to_string(),
            spec.priority.to_string(),
        );
        patch.priority = Some(spec.priority);
    }
    if old.auto_approve != spec.auto_approve {
        field(
            "auto_approve",
            old.auto_approve.to_string(),
            spec.auto_approve.to_string(),
        );
        patch.auto_approve = Some(spec.auto_approve);
    }
    if old.budget_usd != spec.budget_usd {
        let usd = |v: Option<f64>| v.map_or("default".into(), |v| format!("${v}"));
        field("budget_usd", usd(old.budget_usd), usd(spec.budget_usd));
        patch.budget_usd = Some(spec.budget_usd);
    }
    if old.budget_tokens != spec.budget_tokens {
        let tok = |v: Option<u64>| v.map_or("default".into(), |v| v.to_string());
        field(
            "budget_tokens",
            tok(old.budget_tokens),
            tok(spec.budget_tokens),
        );
        patch.budget_tokens = Some(spec.budget_tokens);
    }
    if old.merge_style != spec.merge_style {
        let style = |v: Option<MergeStyle>| v.map_or("default".into(), |v| v.to_string());
        field(
            "merge_style",
            style(old.merge_style),
            style(spec.merge_style),
        );
        patch.merge_style = Some(spec.merge_style);
    }
    fields
}

/// What dropping a task in `status` throws away (see [`ChangeKind::Drop`]).
fn discards(status: &Status) -> Option<&'static str> {
    match status {
        Status::Running { .. } | Status::Paused { .. } => Some("stops its running agent"),
        Status::Review { .. } => Some("discards its work in review"),
        _ => None,
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".into())
}

#[cfg(test)]
#[path = "plan_diff_tests.rs"]
mod tests;
