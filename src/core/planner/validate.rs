//! Validating a planner's answer with the plan rules and turning it into
//! [`TaskSpec`]s: ids valid and unique, deps and agents known, no cycle, no
//! proposed id that collides with a done task. Two tasks expecting the same
//! file with no dependency path between them is a warning, not an error.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{ActionKind, AnswerError, PlanAnswer, PlannedTask};
use crate::core::fleet::Task;
use crate::core::plan::{cycle_text, dep_edges, find_cycles};
use crate::core::status::Status;
use crate::core::task::{BadId, TaskId, TaskSpec};

/// One reason a plan answer is refused; the messages are sent back to the
/// planner by [`reask_prompt`](super::reask_prompt) as they are.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanProblem {
    #[error("{0}")]
    Answer(#[from] AnswerError),
    #[error("the plan has no tasks")]
    NoTasks,
    #[error("{0}")]
    Group(crate::core::team::group::GroupProblem),
    #[error("tasks[{index}]: {error}")]
    BadId { index: usize, error: BadId },
    #[error("tasks[{index}]: `{field}` of task `{id}` is empty")]
    EmptyField {
        index: usize,
        id: String,
        field: &'static str,
    },
    #[error("tasks[{index}]: id `{id}` is already used by tasks[{first}]")]
    DuplicateId {
        index: usize,
        first: usize,
        id: String,
    },
    #[error("tasks[{index}]: id `{id}` belongs to a task that is already done; choose a new id")]
    DoneCollision { index: usize, id: String },
    #[error("task `{task}` depends on `{dep}`, which is not a task in the plan")]
    UnknownDep { task: String, dep: String },
    #[error("task `{task}` depends on `{dep}`, which was dropped from the plan")]
    DroppedDep { task: String, dep: String },
    #[error("task `{task}` depends on itself")]
    SelfDep { task: String },
    #[error("dependency cycle: {}", cycle_text(.tasks))]
    Cycle { tasks: Vec<TaskId> },
    #[error("actions[{index}]: `{task}` is not a task of the current plan")]
    ActionUnknownTask { index: usize, task: String },
    #[error("actions[{index}]: a `{}` action needs a `message`", .kind.name())]
    ActionNeedsMessage { index: usize, kind: ActionKind },
    #[error("task `{task}` is split from `{from}`, {why}")]
    BadSplit {
        task: String,
        from: String,
        why: &'static str,
    },
    #[error("task `{task}` uses agent `{agent}`, which is not a profile (known: {})", list(.known))]
    UnknownAgent {
        task: String,
        agent: String,
        known: Vec<String>,
    },
    #[error("task `{task}`: {why}")]
    BadFanout { task: String, why: String },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// An accepted answer: the tasks as specs, in the answer's order, and what
/// the user should know before confirming.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub specs: Vec<TaskSpec>,
    pub warnings: Vec<String>,
    /// The answer's actions, on tasks of the current plan.
    pub actions: Vec<Action>,
}

/// One checked action of an answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Action {
    pub kind: ActionKind,
    pub task: TaskId,
    pub message: Option<String>,
}

/// Checks `answer` against the plan rules. `known_agents` are the profile
/// names, `roles` the known role labels (an unknown role is a warning; no
/// roles means any), `existing` the tasks of the current plan: deps may name
/// them, a done one may not be proposed again. A proposed task with the id of
/// an existing one keeps that task's priority, budgets, auto-approve and merge
/// style (the contract has no such fields). Returns every problem found.
pub fn validate(
    answer: &PlanAnswer,
    known_agents: &[String],
    roles: &[String],
    existing: &[Task],
) -> Result<Validated, Vec<PlanProblem>> {
    let mut problems = Vec::new();
    if answer.tasks.is_empty() {
        problems.push(PlanProblem::NoTasks);
    }
    let ids = check_ids(answer, existing, &mut problems);
    let old: HashMap<&str, &Task> = existing.iter().map(|t| (t.spec.id.as_str(), t)).collect();
    let proposed: HashSet<&str> = answer.tasks.iter().map(|t| t.id.as_str()).collect();
    let mut deps: Vec<Vec<TaskId>> = Vec::with_capacity(answer.tasks.len());
    for task in &answer.tasks {
        deps.push(check_deps(task, &proposed, &old, &mut problems));
        if !known_agents.iter().any(|a| a == &task.agent) {
            problems.push(PlanProblem::UnknownAgent {
                task: task.id.clone(),
                agent: task.agent.clone(),
                known: known_agents.to_vec(),
            });
        }
        if !task.fanout.is_empty() {
            let known = |a: &str| known_agents.iter().any(|k| k == a);
            if let Err(why) = crate::core::team::fanout::check_profiles(&task.fanout, &known) {
                problems.push(PlanProblem::BadFanout {
                    task: task.id.clone(),
                    why,
                });
            }
        }
    }
    // The graph: the proposed tasks, then the existing ones they do not redefine.
    let kept: Vec<&Task> = existing
        .iter()
        .filter(|t| !proposed.contains(t.spec.id.as_str()))
        .collect();
    check_splits(answer, &proposed, &old, &mut problems);
    let actions = check_actions(answer, &old, &mut problems);
    let mut graph: Vec<(&TaskId, &[TaskId])> = Vec::new();
    for (id, d) in ids.iter().zip(&deps) {
        if let Some(id) = id {
            graph.push((id, d.as_slice()));
        }
    }
    let answer_nodes = graph.len();
    graph.extend(kept.iter().map(|t| (&t.spec.id, t.spec.deps.as_slice())));
    problems.extend(
        find_cycles(&graph)
            .into_iter()
            .map(|tasks| PlanProblem::Cycle { tasks }),
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut warnings = role_warnings(answer, roles);
    warnings.extend(overlap_warnings(&graph, answer_nodes, answer));
    let specs: Vec<TaskSpec> = answer
        .tasks
        .iter()
        .zip(ids)
        .zip(deps)
        .filter_map(|((task, id), deps)| Some(to_spec(task, id?, deps, old.get(task.id.as_str()))))
        .collect();
    // Groups over the whole plan: the proposed tasks and the kept ones.
    let mut whole = specs.clone();
    whole.extend(
        kept.iter()
            .filter(|t| t.status != Status::Dropped)
            .map(|t| t.spec.clone()),
    );
    let groups = crate::core::team::group::check(&whole, []);
    if !groups.is_empty() {
        return Err(groups.into_iter().map(PlanProblem::Group).collect());
    }
    Ok(Validated {
        specs,
        warnings,
        actions,
    })
}

/// A task may be split only from a task of the current plan that is not
/// done and is itself left out of the plan.
fn check_splits(
    answer: &PlanAnswer,
    proposed: &HashSet<&str>,
    old: &HashMap<&str, &Task>,
    problems: &mut Vec<PlanProblem>,
) {
    for task in &answer.tasks {
        let Some(from) = &task.split_from else {
            continue;
        };
        let why = match old.get(from.as_str()) {
            _ if from == &task.id => Some("itself"),
            None => Some("which is not a task of the current plan"),
            Some(t) if matches!(t.status, Status::Done { .. }) => {
                Some("which is already done (add a new task instead)")
            }
            Some(t) if matches!(t.status, Status::Dropped) => Some("which was dropped"),
            Some(_) if proposed.contains(from.as_str()) => {
                Some("which is still in the plan (leave the split task out: its parts replace it)")
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            problems.push(PlanProblem::BadSplit {
                task: task.id.clone(),
                from: from.clone(),
                why,
            });
        }
    }
}

/// The actions with their task ids; each must name a task of the current
/// plan, and a nudge or question must say something.
fn check_actions(
    answer: &PlanAnswer,
    old: &HashMap<&str, &Task>,
    problems: &mut Vec<PlanProblem>,
) -> Vec<Action> {
    let mut out = Vec::new();
    for (index, a) in answer.actions.iter().enumerate() {
        let Some(task) = old.get(a.task.as_str()).map(|t| t.spec.id.clone()) else {
            problems.push(PlanProblem::ActionUnknownTask {
                index,
                task: a.task.clone(),
            });
            continue;
        };
        let message = a
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        if a.kind.needs_message() && message.is_none() {
            problems.push(PlanProblem::ActionNeedsMessage {
                index,
                kind: a.kind,
            });
            continue;
        }
        out.push(Action {
            kind: a.kind,
            task,
            message,
        });
    }
    out
}

/// Parses every id; reports bad, empty-field, duplicate and done-colliding ones.
fn check_ids(
    answer: &PlanAnswer,
    existing: &[Task],
    problems: &mut Vec<PlanProblem>,
) -> Vec<Option<TaskId>> {
    let done: HashSet<&str> = existing
        .iter()
        .filter(|t| matches!(t.status, Status::Done { .. }))
        .map(|t| t.spec.id.as_str())
        .collect();
    let mut first_at: HashMap<&str, usize> = HashMap::new();
    let mut ids = Vec::with_capacity(answer.tasks.len());
    for (index, task) in answer.tasks.iter().enumerate() {
        for (field, value) in [("title", &task.title), ("prompt", &task.prompt)] {
            if value.trim().is_empty() {
                problems.push(PlanProblem::EmptyField {
                    index,
                    id: task.id.clone(),
                    field,
                });
            }
        }
        match TaskId::parse(&task.id) {
            Err(error) => {
                problems.push(PlanProblem::BadId { index, error });
                ids.push(None);
                continue;
            }
            Ok(id) => ids.push(Some(id)),
        }
        if let Some(&first) = first_at.get(task.id.as_str()) {
            problems.push(PlanProblem::DuplicateId {
                index,
                first,
                id: task.id.clone(),
            });
        } else {
            first_at.insert(&task.id, index);
        }
        if done.contains(task.id.as_str()) {
            problems.push(PlanProblem::DoneCollision {
                index,
                id: task.id.clone(),
            });
        }
    }
    ids
}

/// The task's deps as ids (deduplicated), reporting unknown, dropped and self deps.
fn check_deps(
    task: &PlannedTask,
    proposed: &HashSet<&str>,
    old: &HashMap<&str, &Task>,
    problems: &mut Vec<PlanProblem>,
) -> Vec<TaskId> {
    let mut out: Vec<TaskId> = Vec::new();
    for dep in &task.deps {
        let problem = if dep == &task.id {
            Some(PlanProblem::SelfDep {
                task: task.id.clone(),
            })
        } else if proposed.contains(dep.as_str()) {
            None
        } else {
            match old.get(dep.as_str()) {
                Some(t) if matches!(t.status, Status::Dropped) => Some(PlanProblem::DroppedDep {
                    task: task.id.clone(),
                    dep: dep.clone(),
                }),
                Some(_) => None,
                None => Some(PlanProblem::UnknownDep {
                    task: task.id.clone(),
                    dep: dep.clone(),
                }),
            }
        };
        match problem {
            Some(p) => {
                if !problems.contains(&p) {
                    problems.push(p);
                }
            }
            None => {
                if let Some(id) = TaskId::parse(dep).ok().filter(|id| !out.contains(id)) {
                    out.push(id);
                }
            }
        }
    }
    out
}

fn role_warnings(answer: &PlanAnswer, roles: &[String]) -> Vec<String> {
    if roles.is_empty() {
        return Vec::new();
    }
    answer
        .tasks
        .iter()
        .filter_map(|t| {
            let role = t.role.as_ref()?;
            (!roles.contains(role)).then(|| {
                format!(
                    "task `{}` has role `{role}`, which is not a known role (known: {})",
                    t.id,
                    roles.join(", ")
                )
            })
        })
        .collect()
}

/// A repository path as written by the planner, for comparison: trimmed,
/// without a leading `./`.
fn normalize(path: &str) -> &str {
    let p = path.trim();
    p.strip_prefix("./").unwrap_or(p)
}

/// Pairs of tasks listed in overlap warnings; the rest are counted.
const MAX_OVERLAP_PAIRS: usize = 200;

/// One warning per pair of proposed tasks that expect a common file while
/// neither depends (directly or not) on the other. `graph` is acyclic here;
/// its first `answer_nodes` nodes are the answer's tasks, in order.
fn overlap_warnings(
    graph: &[(&TaskId, &[TaskId])],
    answer_nodes: usize,
    answer: &PlanAnswer,
) -> Vec<String> {
    let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut node = 0;
    let mut node_of_task = Vec::new(); // answer task index -> graph node
    for task in &answer.tasks {
        if TaskId::parse(&task.id).is_ok() && node < answer_nodes {
            node_of_task.push(Some(node));
            for file in &task.files {
                let f = normalize(file);
                let entry = by_file.entry(f).or_default();
                if !f.is_empty() && entry.last() != Some(&node) {
                    entry.push(node);
                }
            }
            node += 1;
        } else {
            node_of_task.push(None);
        }
    }
    if by_file.values().all(|nodes| nodes.len() < 2) {
        return Vec::new();
    }
    let ancestors = ancestor_sets(graph);
    let related = |a: usize, b: usize| {
        let has = |set: &[u64], n: usize| set[n / 64] & (1 << (n % 64)) != 0;
        has(&ancestors[a], b) || has(&ancestors[b], a)
    };
    let mut pairs: BTreeMap<(usize, usize), Vec<&str>> = BTreeMap::new();
    let mut unlisted = 0usize;
    for (file, nodes) in &by_file {
        for (i, &a) in nodes.iter().enumerate() {
            for &b in nodes[i + 1..].iter().filter(|&&b| !related(a, b)) {
                let key = (a.min(b), a.max(b));
                if pairs.len() < MAX_OVERLAP_PAIRS || pairs.contains_key(&key) {
                    pairs.entry(key).or_default().push(file);
                } else {
                    unlisted += 1;
                }
            }
        }
    }
    let mut warnings: Vec<String> = pairs
        .into_iter()
        .map(|((a, b), files)| {
            let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
            format!(
                "tasks `{}` and `{}` both expect to touch {} but neither depends on the other: their changes may conflict (add a dependency or merge them)",
                graph[a].0,
                graph[b].0,
                files.join(", ")
            )
        })
        .collect();
    if unlisted > 0 {
        warnings.push(format!(
            "{unlisted} more cases of unordered tasks expecting the same file are not listed"
        ));
    }
    warnings
}

/// For each node, the bit set of the nodes it depends on, directly or not.
/// Nodes on a cycle or behind an unknown dep only get what is reachable.
fn ancestor_sets(graph: &[(&TaskId, &[TaskId])]) -> Vec<Vec<u64>> {
    let n = graph.len();
    let words = n.div_ceil(64).max(1);
    let deps = dep_edges(graph);
    // Kahn's order over "dependency before dependant".
    let mut pending: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in deps.iter().enumerate() {
        for &d in d {
            dependants[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    let mut sets = vec![vec![0u64; words]; n];
    while let Some(i) = ready.pop() {
        for &d in &deps[i] {
            let (dep_set, own) = if d < i {
                let (lo, hi) = sets.split_at_mut(i);
                (&lo[d], &mut hi[0])
            } else {
                let (lo, hi) = sets.split_at_mut(d);
                (&hi[0], &mut lo[i])
            };
            for (w, v) in own.iter_mut().zip(dep_set) {
                *w |= v;
            }
            own[d / 64] |= 1 << (d % 64);
        }
        for &next in &dependants[i] {
            pending[next] -= 1;
            if pending[next] == 0 {
                ready.push(next);
            }
        }
    }
    sets
}

fn to_spec(task: &PlannedTask, id: TaskId, deps: Vec<TaskId>, old: Option<&&Task>) -> TaskSpec {
    let mut files: Vec<String> = Vec::new();
    for f in task
        .files
        .iter()
        .map(|f| normalize(f))
        .filter(|f| !f.is_empty())
    {
        if !files.iter().any(|have| have == f) {
            files.push(f.to_owned());
        }
    }
    let old = old.map(|t| &t.spec);
    TaskSpec {
        id,
        title: task.title.clone(),
        prompt: task.prompt.clone(),
        deps,
        agent: task.agent.clone(),
        role: task.role.clone(),
        verify: task.verify.clone(),
        priority: old.map_or(0, |s| s.priority),
        auto_approve: task.auto_approve || old.is_some_and(|s| s.auto_approve),
        budget_usd: old.and_then(|s| s.budget_usd),
        budget_tokens: old.and_then(|s| s.budget_tokens),
        merge_style: old.and_then(|s| s.merge_style),
        files,
        acceptance: task.acceptance.clone(),
        split_from: task
            .split_from
            .as_deref()
            .and_then(|f| TaskId::parse(f).ok()),
        // A replan that says nothing of a fan-out keeps it.
        fanout: if task.fanout.is_empty() {
            old.map(|s| s.fanout.clone()).unwrap_or_default()
        } else {
            task.fanout.clone()
        },
        candidate_of: old.and_then(|s| s.candidate_of.clone()),
        group: task.group.clone(),
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
