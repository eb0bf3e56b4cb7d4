//! Plan validation: the task graph must name known tasks and agents and have no cycle.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::task::{TaskId, TaskSpec};

/// One thing wrong with a plan. Errors name the tasks involved so the
/// config layer can point at their lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("task `{id}` is defined more than once")]
    DuplicateId { id: TaskId },
    #[error("task `{task}` depends on `{dep}`, which is not a task in the plan")]
    UnknownDep { task: TaskId, dep: TaskId },
    #[error("task `{task}` depends on itself")]
    SelfDep { task: TaskId },
    #[error("dependency cycle: {}", cycle_text(.tasks))]
    Cycle { tasks: Vec<TaskId> },
    #[error(
        "task `{task}` uses agent `{agent}`, which is not defined (add [agents.{agent}] to fleet.toml)"
    )]
    UnknownAgent { task: TaskId, agent: String },
}

impl PlanError {
    /// The task the error is about (the first of a cycle).
    pub fn task(&self) -> &TaskId {
        match self {
            PlanError::DuplicateId { id } => id,
            PlanError::UnknownDep { task, .. }
            | PlanError::SelfDep { task }
            | PlanError::UnknownAgent { task, .. } => task,
            PlanError::Cycle { tasks } => &tasks[0],
        }
    }
}

/// A cycle in words, back to its first task: `a -> b -> a`.
pub fn cycle_text(tasks: &[TaskId]) -> String {
    let mut names: Vec<&str> = tasks.iter().map(TaskId::as_str).collect();
    if let Some(first) = tasks.first() {
        names.push(first.as_str());
    }
    names.join(" -> ")
}

/// Checks `specs` as a whole plan. `agent_exists` says whether a profile is defined.
/// Returns every problem found, in plan order.
pub fn validate(
    specs: &[TaskSpec],
    agent_exists: &dyn Fn(&str) -> bool,
) -> Result<(), Vec<PlanError>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for spec in specs {
        if !seen.insert(&spec.id) {
            errors.push(PlanError::DuplicateId {
                id: spec.id.clone(),
            });
        }
    }
    for spec in specs {
        for dep in &spec.deps {
            if dep == &spec.id {
                errors.push(PlanError::SelfDep {
                    task: spec.id.clone(),
                });
            } else if !seen.contains(dep) {
                errors.push(PlanError::UnknownDep {
                    task: spec.id.clone(),
                    dep: dep.clone(),
                });
            }
        }
        if !agent_exists(&spec.agent) {
            errors.push(PlanError::UnknownAgent {
                task: spec.id.clone(),
                agent: spec.agent.clone(),
            });
        }
    }
    let graph: Vec<(&TaskId, &[TaskId])> =
        specs.iter().map(|s| (&s.id, s.deps.as_slice())).collect();
    errors.extend(
        find_cycles(&graph)
            .into_iter()
            .map(|tasks| PlanError::Cycle { tasks }),
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The dependency edges of `graph` (node, its deps) as node indexes, per
/// node in graph order; self-loops and deps on unknown nodes are left out.
pub fn dep_edges(graph: &[(&TaskId, &[TaskId])]) -> Vec<Vec<usize>> {
    let index: HashMap<&TaskId, usize> = graph
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    graph
        .iter()
        .map(|(id, deps)| {
            deps.iter()
                .filter(|d| *d != *id)
                .filter_map(|d| index.get(d).copied())
                .collect()
        })
        .collect()
}

/// Every distinct dependency cycle reachable in `graph` (node, its deps),
/// each listed from its first node in plan order, following dependency edges.
/// Self-loops and edges to unknown nodes are ignored (reported elsewhere).
pub fn find_cycles(graph: &[(&TaskId, &[TaskId])]) -> Vec<Vec<TaskId>> {
    let edges = dep_edges(graph);
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Finished,
    }
    let mut mark = vec![Mark::New; graph.len()];
    let mut cycles = Vec::new();
    for root in 0..graph.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next edge to follow).
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::OnPath;
                        stack.push((to, 0));
                    }
                    Mark::OnPath => {
                        let start = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut cycle: Vec<usize> =
                            stack[start..].iter().map(|(n, _)| *n).collect();
                        // Start the cycle at its earliest node in plan order.
                        if let Some(min_pos) = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, n)| **n)
                            .map(|(i, _)| i)
                        {
                            cycle.rotate_left(min_pos);
                        }
                        cycles.push(cycle.into_iter().map(|n| graph[n].0.clone()).collect());
                    }
                    Mark::Finished => {}
                }
            } else {
                mark[node] = Mark::Finished;
                stack.pop();
            }
        }
    }
    cycles
}

/// The indices of `nodes` (id, deps) in an order where each comes after
/// the nodes it depends on; ties keep the given order (Kahn's algorithm).
/// Nodes in or behind a cycle keep the given order at the end; the count
/// returned is of the nodes before them. Unknown deps and self-deps are ignored.
pub fn deps_first(nodes: &[(&TaskId, &[TaskId])]) -> (Vec<usize>, usize) {
    let index: HashMap<&TaskId, usize> = nodes.iter().enumerate().map(|(i, n)| (n.0, i)).collect();
    let mut waiting: Vec<usize> = vec![0; nodes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, (_, deps)) in nodes.iter().enumerate() {
        for d in deps.iter() {
            if let Some(&j) = index.get(d).filter(|&&j| j != i) {
                waiting[i] += 1;
                dependents[j].push(i);
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    let mut placed = vec![false; nodes.len()];
    while let Some(i) = ready.pop_first() {
        order.push(i);
        placed[i] = true;
        for &k in &dependents[i] {
            waiting[k] -= 1;
            if waiting[k] == 0 {
                ready.insert(k);
            }
        }
    }
    let sorted = order.len();
    order.extend((0..nodes.len()).filter(|&i| !placed[i]));
    (order, sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, deps: &[&str]) -> TaskSpec {
        TaskSpec {
            deps: deps.iter().map(|d| TaskId::parse(d).unwrap()).collect(),
            ..TaskSpec::new(
                TaskId::parse(id).unwrap(),
                id.to_uppercase(),
                format!("do {id}"),
                "sim",
            )
        }
    }

    fn sim_only(agent: &str) -> bool {
        agent == "sim"
    }

    #[test]
    fn a_diamond_is_valid() {
        let plan = [
            spec("a", &[]),
            spec("b", &["a"]),
            spec("c", &["a"]),
            spec("d", &["b", "c"]),
        ];
        assert_eq!(validate(&plan, &sim_only), Ok(()));
    }

    #[test]
    fn reports_duplicates_unknown_deps_and_agents() {
        let mut other = spec("c", &[]);
        other.agent = "nope".into();
        let plan = [spec("a", &[]), spec("a", &[]), spec("b", &["zz"]), other];
        let errors = validate(&plan, &sim_only).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "task `a` is defined more than once",
                "task `b` depends on `zz`, which is not a task in the plan",
                "task `c` uses agent `nope`, which is not defined (add [agents.nope] to fleet.toml)",
            ]
        );
    }

    #[test]
    fn names_every_task_of_a_cycle_in_order() {
        let plan = [
            spec("start", &[]),
            spec("x", &["z", "start"]),
            spec("y", &["x"]),
            spec("z", &["y"]),
        ];
        let errors = validate(&plan, &sim_only).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "dependency cycle: x -> z -> y -> x");
        assert_eq!(errors[0].task().as_str(), "x");
    }

    #[test]
    fn finds_two_separate_cycles_and_self_deps() {
        let plan = [
            spec("a", &["b"]),
            spec("b", &["a"]),
            spec("c", &["c"]),
            spec("d", &["e"]),
            spec("e", &["d"]),
        ];
        let errors = validate(&plan, &sim_only).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "task `c` depends on itself",
                "dependency cycle: a -> b -> a",
                "dependency cycle: d -> e -> d"
            ]
        );
    }

    #[test]
    fn deep_chains_do_not_overflow_the_stack() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("t{i}")).collect();
        let plan: Vec<TaskSpec> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                if i == 0 {
                    spec(id, &[])
                } else {
                    spec(id, &[ids[i - 1].as_str()])
                }
            })
            .collect();
        assert_eq!(validate(&plan, &sim_only), Ok(()));
    }

    #[test]
    fn deps_first_orders_dependencies_first_and_cycles_last() {
        let plan = [
            spec("c", &["b"]),
            spec("x", &["y"]),
            spec("b", &["a", "zz"]),
            spec("y", &["x"]),
            spec("a", &["a"]),
        ];
        let graph: Vec<(&TaskId, &[TaskId])> =
            plan.iter().map(|s| (&s.id, s.deps.as_slice())).collect();
        let (order, sorted) = deps_first(&graph);
        let ids: Vec<&str> = order.iter().map(|&i| plan[i].id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "x", "y"]);
        assert_eq!(sorted, 3, "x and y are in a cycle");
    }
}
