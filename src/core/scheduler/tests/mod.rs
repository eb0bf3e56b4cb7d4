//! One test (at least) per scheduler rule, by theme; the shared helpers are here.

mod attempts;
mod environment;
mod fanout;
mod group;
mod money;
mod nudge;
mod plan;
mod review;
mod reviewer;
mod supervise;
mod team;
mod update;

use super::*;
use crate::agent::FailureClass;
use crate::core::messages::{AgentResult, Command, CommandError, GateResult, MergeResult};
use crate::core::status::MergeBlock;
use crate::core::task::{TaskPatch, TaskSpec};

pub(super) fn id(s: &str) -> TaskId {
    TaskId::parse(s).unwrap()
}

pub(super) fn spec(name: &str, deps: &[&str], agent: &str) -> TaskSpec {
    TaskSpec {
        deps: deps.iter().map(|d| id(d)).collect(),
        ..TaskSpec::new(
            id(name),
            format!("Title of {name}"),
            format!("prompt of {name}"),
            agent,
        )
    }
}

/// The events recorded by `fx`, in order.
pub(super) fn recorded(fx: &[Effect]) -> Vec<&Event> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Record { event, .. } => Some(event),
            _ => None,
        })
        .collect()
}

pub(super) fn limits(max_parallel: usize) -> Limits {
    Limits {
        max_parallel,
        ..Limits::default()
    }
}

pub(super) fn sched_with(specs: Vec<TaskSpec>, limits: Limits) -> (Scheduler, Vec<Effect>) {
    let tasks = specs.into_iter().map(Task::new).collect();
    let mut s = Scheduler::new(limits, ["sim".to_string(), "alt".to_string()], tasks, false);
    let fx = s.start();
    (s, fx)
}

/// (task, attempt) of every StartAgent in `fx`.
pub(super) fn starts(fx: &[Effect]) -> Vec<(String, u32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::StartAgent(r) => Some((r.task.to_string(), r.attempt)),
            _ => None,
        })
        .collect()
}

pub(super) fn start_request<'a>(fx: &'a [Effect], task: &str) -> &'a StartRequest {
    fx.iter()
        .find_map(|e| match e {
            Effect::StartAgent(r) if r.task.as_str() == task => Some(r),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no start of {task} in {fx:#?}"))
}

pub(super) fn signals(fx: &[Effect]) -> Vec<(String, Signal)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SignalAgent { task, signal } => Some((task.to_string(), *signal)),
            _ => None,
        })
        .collect()
}

pub(super) fn merges(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Merge { task, .. } => Some(task.to_string()),
            _ => None,
        })
        .collect()
}

pub(super) fn status(s: &Scheduler, task: &str) -> Status {
    s.task(task).unwrap().status.clone()
}

pub(super) fn exited(
    s: &mut Scheduler,
    task: &str,
    attempt: u32,
    result: AgentResult,
) -> Vec<Effect> {
    s.report(Report::AgentExited {
        task: id(task),
        attempt,
        result,
    })
}

pub(super) fn gated(
    s: &mut Scheduler,
    task: &str,
    attempt: u32,
    result: GateResult,
) -> Vec<Effect> {
    s.report(Report::Gated {
        task: id(task),
        attempt,
        result,
    })
}

pub(super) fn passed() -> GateResult {
    GateResult::Passed {
        commit: "c0ffee".into(),
    }
}

pub(super) fn merged(s: &mut Scheduler, task: &str) -> Vec<Effect> {
    s.report(Report::Merged {
        task: id(task),
        result: MergeResult::Merged {
            commit: format!("m-{task}"),
        },
    })
}

/// Runs a started attempt through success, gate, approval and merge; returns all effects.
pub(super) fn complete(s: &mut Scheduler, task: &str, attempt: u32) -> Vec<Effect> {
    let mut fx = exited(s, task, attempt, AgentResult::Succeeded);
    fx.extend(gated(s, task, attempt, passed()));
    fx.extend(s.command(Command::Approve { task: id(task) }).unwrap());
    fx.extend(merged(s, task));
    fx
}

pub(super) fn failed(message: &str) -> AgentResult {
    AgentResult::Failed {
        class: FailureClass::Crash,
        message: message.into(),
    }
}

/// Task `a` rejected after one attempt and retried: attempt 2 starts over
/// from the target ([`Workspace::Fresh`]).
pub(super) fn starting_over_after_a_reject() -> Scheduler {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    s.command(Command::Reject { task: id("a") }).unwrap();
    let fx = s.command(Command::Retry { task: id("a") }).unwrap();
    assert_eq!(
        start_request(&fx, "a").workspace,
        Workspace::Fresh { rejected: Some(1) }
    );
    s
}
