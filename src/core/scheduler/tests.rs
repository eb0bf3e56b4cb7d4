//! One test (at least) per scheduler rule.

use super::*;
use crate::agent::FailureClass;
use crate::core::messages::{AgentResult, Command, CommandError, GateResult, MergeResult};
use crate::core::status::MergeBlock;
use crate::core::task::{TaskPatch, TaskSpec};

fn id(s: &str) -> TaskId {
    TaskId::parse(s).unwrap()
}

fn spec(name: &str, deps: &[&str], agent: &str) -> TaskSpec {
    TaskSpec {
        id: id(name),
        title: format!("Title of {name}"),
        prompt: format!("prompt of {name}"),
        deps: deps.iter().map(|d| id(d)).collect(),
        agent: agent.into(),
        role: None,
        verify: None,
        priority: 0,
        auto_approve: false,
        budget_usd: None,
        budget_tokens: None,
    }
}

fn limits(max_parallel: usize) -> Limits {
    Limits {
        max_parallel,
        ..Limits::default()
    }
}

fn sched_with(specs: Vec<TaskSpec>, limits: Limits) -> (Scheduler, Vec<Effect>) {
    let tasks = specs.into_iter().map(Task::new).collect();
    let mut s = Scheduler::new(limits, ["sim".to_string(), "alt".to_string()], tasks, false);
    let fx = s.start();
    (s, fx)
}

/// (task, attempt) of every StartAgent in `fx`.
fn starts(fx: &[Effect]) -> Vec<(String, u32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::StartAgent(r) => Some((r.task.to_string(), r.attempt)),
            _ => None,
        })
        .collect()
}

fn start_request<'a>(fx: &'a [Effect], task: &str) -> &'a StartRequest {
    fx.iter()
        .find_map(|e| match e {
            Effect::StartAgent(r) if r.task.as_str() == task => Some(r),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no start of {task} in {fx:#?}"))
}

fn signals(fx: &[Effect]) -> Vec<(String, Signal)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SignalAgent { task, signal } => Some((task.to_string(), *signal)),
            _ => None,
        })
        .collect()
}

fn merges(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Merge { task, .. } => Some(task.to_string()),
            _ => None,
        })
        .collect()
}

fn status(s: &Scheduler, task: &str) -> Status {
    s.task(task).unwrap().status.clone()
}

fn exited(s: &mut Scheduler, task: &str, attempt: u32, result: AgentResult) -> Vec<Effect> {
    s.report(Report::AgentExited {
        task: id(task),
        attempt,
        result,
    })
}

fn gated(s: &mut Scheduler, task: &str, attempt: u32, result: GateResult) -> Vec<Effect> {
    s.report(Report::Gated {
        task: id(task),
        attempt,
        result,
    })
}

fn passed() -> GateResult {
    GateResult::Passed {
        commit: "c0ffee".into(),
    }
}

fn merged(s: &mut Scheduler, task: &str) -> Vec<Effect> {
    s.report(Report::Merged {
        task: id(task),
        result: MergeResult::Merged {
            commit: format!("m-{task}"),
        },
    })
}

/// Runs a started attempt through success, gate, approval and merge; returns all effects.
fn complete(s: &mut Scheduler, task: &str, attempt: u32) -> Vec<Effect> {
    let mut fx = exited(s, task, attempt, AgentResult::Succeeded);
    fx.extend(gated(s, task, attempt, passed()));
    fx.extend(s.command(Command::Approve { task: id(task) }).unwrap());
    fx.extend(merged(s, task));
    fx
}

fn failed(message: &str) -> AgentResult {
    AgentResult::Failed {
        class: FailureClass::Crash,
        message: message.into(),
    }
}

#[test]
fn tasks_start_only_when_every_dependency_is_done() {
    let (mut s, fx) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &["a"], "sim"),
            spec("c", &["a"], "sim"),
            spec("d", &["b", "c"], "sim"),
        ],
        limits(4),
    );
    assert_eq!(starts(&fx), [("a".into(), 1)]);
    assert_eq!(s.reason(s.task("d").unwrap()).unwrap(), "waiting for b, c");
    // Review is not Done: dependents still wait.
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 1, passed());
    assert!(starts(&fx).is_empty());
    s.command(Command::Approve { task: id("a") }).unwrap();
    let fx = merged(&mut s, "a");
    assert_eq!(starts(&fx), [("b".into(), 1), ("c".into(), 1)]);
    let fx = complete(&mut s, "b", 1);
    assert!(starts(&fx).is_empty(), "d still waits for c");
    let fx = complete(&mut s, "c", 1);
    assert_eq!(starts(&fx), [("d".into(), 1)]);
    complete(&mut s, "d", 1);
    assert!(
        s.tasks()
            .iter()
            .all(|t| matches!(t.status, Status::Done { .. }))
    );
    assert!(s.is_idle());
}

#[test]
fn the_global_cap_limits_running_agents() {
    let specs = (0..5).map(|i| spec(&format!("t{i}"), &[], "sim")).collect();
    let (mut s, fx) = sched_with(specs, limits(2));
    assert_eq!(starts(&fx), [("t0".into(), 1), ("t1".into(), 1)]);
    // Verifying does not hold an agent slot.
    let fx = exited(&mut s, "t0", 1, AgentResult::Succeeded);
    assert_eq!(starts(&fx), [("t2".into(), 1)]);
    let fx = exited(&mut s, "t1", 1, failed("boom"));
    // t1 is queued again and competes in plan order: it comes before t3.
    assert_eq!(starts(&fx), [("t1".into(), 2)]);
}

#[test]
fn per_agent_caps_hold_back_only_that_agent() {
    let mut l = limits(4);
    l.agent_caps.insert("sim".into(), 1);
    let specs = vec![
        spec("a", &[], "sim"),
        spec("b", &[], "sim"),
        spec("c", &[], "alt"),
        spec("d", &[], "alt"),
    ];
    let (mut s, fx) = sched_with(specs, l);
    assert_eq!(
        starts(&fx),
        [("a".into(), 1), ("c".into(), 1), ("d".into(), 1)]
    );
    let fx = exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert_eq!(starts(&fx), [("b".into(), 1)]);
}

#[test]
fn higher_priority_starts_first() {
    let mut urgent = spec("urgent", &[], "sim");
    urgent.priority = 5;
    let (_, fx) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim"), urgent],
        limits(2),
    );
    assert_eq!(starts(&fx), [("urgent".into(), 1), ("a".into(), 1)]);
}

#[test]
fn a_failed_attempt_is_retried_with_its_failure_in_the_prompt_then_fails() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    let fx = gated(
        &mut s,
        "a",
        1,
        GateResult::VerifyFailed {
            command: "make test".into(),
            output: "test foo ... FAILED\nassertion failed".into(),
        },
    );
    let req = start_request(&fx, "a");
    assert_eq!(req.attempt, 2);
    assert!(req.prompt.starts_with("prompt of a\n\n"));
    assert!(req.prompt.contains("`make test` failed"), "{}", req.prompt);
    assert!(
        req.prompt
            .contains("> test foo ... FAILED\n> assertion failed"),
        "{}",
        req.prompt
    );
    assert_eq!(req.workspace, Workspace::Continue);

    let fx = exited(&mut s, "a", 2, failed("API Error: 500"));
    assert!(start_request(&fx, "a").prompt.contains("> API Error: 500"));
    assert!(fx.contains(&Effect::Record {
        actor: Actor::Engine,
        event: Event::AttemptFailed {
            task: id("a"),
            attempt: 2,
            reason: "API Error: 500".into(),
            retrying: true
        }
    }));
    exited(&mut s, "a", 3, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 3, GateResult::NoChanges);
    assert!(starts(&fx).is_empty());
    match status(&s, "a") {
        Status::Failed { reason } => {
            assert_eq!(reason, "failed 3 attempt(s); last: agent made no changes")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.reason(s.task("a").unwrap()).unwrap(),
        "failed 3 attempt(s); last: agent made no changes"
    );
    assert!(s.is_idle());
}

#[test]
fn retry_gives_a_failed_task_a_fresh_allowance() {
    let mut l = limits(1);
    l.max_attempts = 1;
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    exited(&mut s, "a", 1, failed("nope"));
    assert!(matches!(status(&s, "a"), Status::Failed { .. }));
    let fx = s.command(Command::Retry { task: id("a") }).unwrap();
    let req = start_request(&fx, "a");
    assert_eq!(req.attempt, 2);
    assert!(
        req.prompt.contains("> nope"),
        "the last failure is still fed back"
    );
    assert_eq!(s.task("a").unwrap().tries, 1);
}

#[test]
fn retrying_a_task_that_did_not_fail_is_refused_without_effect() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    let before = s.tasks().to_vec();
    let err = s.command(Command::Retry { task: id("a") }).unwrap_err();
    assert_eq!(
        err.to_string(),
        "task `a` is running: retry needs a task that is failed"
    );
    assert_eq!(s.tasks(), before.as_slice());
    let err = s.command(Command::Approve { task: id("zz") }).unwrap_err();
    assert_eq!(err, CommandError::UnknownTask("zz".into()));
}

#[test]
fn pausing_a_running_task_stops_its_process_and_keeps_its_slot() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim")],
        limits(1),
    );
    let fx = s.command(Command::PauseTask { task: id("a") }).unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Pause)]);
    assert!(
        starts(&fx).is_empty(),
        "a paused agent still holds its slot"
    );
    assert_eq!(status(&s, "a"), Status::Paused { attempt: 1 });
    assert_eq!(status(&s, "a").column(), crate::core::Column::Running);
    let fx = s.command(Command::ResumeTask { task: id("a") }).unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Resume)]);
    assert_eq!(status(&s, "a"), Status::Running { attempt: 1 });
}

#[test]
fn a_held_queued_task_does_not_start_until_resumed() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim")],
        limits(1),
    );
    s.command(Command::PauseTask { task: id("b") }).unwrap();
    assert_eq!(s.reason(s.task("b").unwrap()).unwrap(), "held by the user");
    let fx = exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert!(starts(&fx).is_empty());
    let fx = s.command(Command::ResumeTask { task: id("b") }).unwrap();
    assert_eq!(starts(&fx), [("b".into(), 1)]);
}

#[test]
fn pausing_the_fleet_stops_agents_and_starts_nothing() {
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &[], "sim"),
            spec("c", &[], "sim"),
        ],
        limits(2),
    );
    s.command(Command::PauseTask { task: id("b") }).unwrap();
    let fx = s.command(Command::PauseFleet).unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Pause)]);
    assert!(fx.contains(&Effect::SaveFleet { paused: true }));
    assert!(s.fleet_paused());
    let fx = exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert!(starts(&fx).is_empty(), "no new starts while paused");
    let fx = gated(&mut s, "a", 1, passed());
    assert!(starts(&fx).is_empty());
    // Resume continues running agents but not the one the user paused.
    s.command(Command::PauseTask { task: id("c") }).ok();
    let fx = s.command(Command::ResumeFleet).unwrap();
    assert!(signals(&fx).is_empty(), "b stays paused: {fx:?}");
    assert!(!s.fleet_paused());
}

#[test]
fn resuming_the_fleet_resumes_running_agents_and_starts_queued_ones() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim")],
        limits(1),
    );
    s.command(Command::PauseFleet).unwrap();
    exited(&mut s, "a", 1, failed("x"));
    let fx = s.command(Command::ResumeFleet).unwrap();
    assert_eq!(starts(&fx), [("a".into(), 2)]);
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    s.command(Command::PauseFleet).unwrap();
    let fx = s.command(Command::ResumeFleet).unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Resume)]);
}

#[test]
fn reassigning_a_running_task_stops_it_and_requeues_it_for_the_new_agent() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    let fx = s
        .command(Command::Reassign {
            task: id("a"),
            agent: "alt".into(),
        })
        .unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Stop)]);
    assert!(starts(&fx).is_empty(), "the old process must exit first");
    assert_eq!(s.task("a").unwrap().spec.agent, "alt");
    let fx = exited(&mut s, "a", 1, AgentResult::Stopped);
    let req = start_request(&fx, "a");
    assert_eq!((req.agent.as_str(), req.attempt), ("alt", 2));
    assert!(
        req.prompt.contains("reassigned to you from agent `sim`"),
        "{}",
        req.prompt
    );
    assert_eq!(
        s.task("a").unwrap().tries,
        1,
        "the stopped attempt does not count"
    );
}

#[test]
fn reassigning_checks_the_agent_and_the_status() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &["a"], "sim")],
        limits(1),
    );
    assert_eq!(
        s.command(Command::Reassign {
            task: id("a"),
            agent: "ghost".into()
        })
        .unwrap_err(),
        CommandError::UnknownAgent("ghost".into())
    );
    let fx = s
        .command(Command::Reassign {
            task: id("b"),
            agent: "alt".into(),
        })
        .unwrap();
    assert!(signals(&fx).is_empty());
    assert_eq!(s.task("b").unwrap().spec.agent, "alt");
    assert!(
        s.task("b").unwrap().feedback.is_none(),
        "b never ran: nothing to tell"
    );
    complete(&mut s, "a", 1);
    assert!(
        s.command(Command::Reassign {
            task: id("a"),
            agent: "alt".into()
        })
        .is_err()
    );
}

#[test]
fn reassigning_a_failed_task_queues_it_again() {
    let mut l = limits(1);
    l.max_attempts = 1;
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    exited(&mut s, "a", 1, failed("stuck"));
    let fx = s
        .command(Command::Reassign {
            task: id("a"),
            agent: "alt".into(),
        })
        .unwrap();
    assert_eq!(start_request(&fx, "a").agent, "alt");
}

#[test]
fn editing_a_queued_task_changes_what_it_will_run() {
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &["a"], "sim"),
            spec("c", &[], "sim"),
        ],
        limits(1),
    );
    let patch = TaskPatch {
        prompt: Some("new prompt".into()),
        deps: Some(vec![id("a"), id("c")]),
        ..TaskPatch::default()
    };
    let fx = s
        .command(Command::Edit {
            task: id("b"),
            patch,
        })
        .unwrap();
    assert!(fx.contains(&Effect::SaveTask { task: id("b") }));
    assert_eq!(s.task("b").unwrap().spec.prompt, "new prompt");
    assert_eq!(s.reason(s.task("b").unwrap()).unwrap(), "waiting for a, c");
}

#[test]
fn edits_that_break_the_plan_or_touch_a_running_task_are_refused() {
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &["a"], "sim"),
            spec("c", &["b"], "sim"),
        ],
        limits(1),
    );
    let deps = |d: &[&str]| TaskPatch {
        deps: Some(d.iter().map(|x| id(x)).collect()),
        ..TaskPatch::default()
    };
    assert_eq!(
        s.command(Command::Edit {
            task: id("a"),
            patch: TaskPatch::default()
        })
        .unwrap_err()
        .to_string(),
        "task `a` is running: edit needs a task that is queued or failed (not running)"
    );
    assert_eq!(
        s.command(Command::Edit {
            task: id("b"),
            patch: deps(&["c"])
        })
        .unwrap_err()
        .to_string(),
        "that would make a dependency cycle: b -> c -> b"
    );
    assert!(
        s.command(Command::Edit {
            task: id("b"),
            patch: deps(&["nope"])
        })
        .unwrap_err()
        .to_string()
        .contains("not a task")
    );
    assert!(
        s.command(Command::Edit {
            task: id("b"),
            patch: deps(&["b"])
        })
        .unwrap_err()
        .to_string()
        .contains("itself")
    );
    let agent = TaskPatch {
        agent: Some("ghost".into()),
        ..TaskPatch::default()
    };
    assert_eq!(
        s.command(Command::Edit {
            task: id("b"),
            patch: agent
        })
        .unwrap_err(),
        CommandError::UnknownAgent("ghost".into())
    );
    assert_eq!(
        s.task("b").unwrap().spec.deps,
        vec![id("a")],
        "unchanged after refusals"
    );
}

#[test]
fn added_tasks_join_the_plan_and_start_when_ready() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(2));
    let fx = s
        .command(Command::Add {
            spec: spec("new", &[], "alt"),
        })
        .unwrap();
    assert_eq!(starts(&fx), [("new".into(), 1)]);
    let fx = s
        .command(Command::Add {
            spec: spec("after", &["a", "new"], "sim"),
        })
        .unwrap();
    assert!(starts(&fx).is_empty());
    assert!(
        s.command(Command::Add {
            spec: spec("a", &[], "sim")
        })
        .unwrap_err()
        .to_string()
        .contains("already exists")
    );
    assert!(
        s.command(Command::Add {
            spec: spec("x", &["ghost"], "sim")
        })
        .is_err()
    );
    assert!(
        s.command(Command::Add {
            spec: spec("y", &[], "ghost")
        })
        .is_err()
    );
}

#[test]
fn dropping_a_queued_task_removes_it_and_a_running_one_is_stopped_first() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim")],
        limits(1),
    );
    let fx = s.command(Command::Drop { task: id("b") }).unwrap();
    assert_eq!(status(&s, "b"), Status::Dropped);
    assert!(fx.contains(&Effect::RemoveWorktree { task: id("b") }));
    let fx = s.command(Command::Drop { task: id("a") }).unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Stop)]);
    assert_eq!(status(&s, "a"), Status::Running { attempt: 1 });
    exited(&mut s, "a", 1, AgentResult::Stopped);
    assert_eq!(status(&s, "a"), Status::Dropped);
    assert_eq!(status(&s, "a").column(), crate::core::Column::Done);
    assert!(s.is_idle());
}

#[test]
fn a_task_others_depend_on_cannot_be_dropped() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &["a"], "sim")],
        limits(1),
    );
    let err = s.command(Command::Drop { task: id("a") }).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot drop `a`: b depend(s) on it; drop them or edit their dependencies first"
    );
    s.command(Command::Drop { task: id("b") }).unwrap();
    s.command(Command::Drop { task: id("a") }).unwrap();
}

#[test]
fn approved_tasks_merge_one_at_a_time_in_dependency_order() {
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &[], "sim"),
            spec("c", &["a"], "sim"),
        ],
        limits(3),
    );
    for t in ["a", "b"] {
        exited(&mut s, t, 1, AgentResult::Succeeded);
        gated(&mut s, t, 1, passed());
    }
    // b approved first merges first; a waits for the merge slot.
    let fx = s.command(Command::Approve { task: id("b") }).unwrap();
    assert_eq!(merges(&fx), ["b"]);
    let fx = s.command(Command::Approve { task: id("a") }).unwrap();
    assert!(merges(&fx).is_empty());
    assert_eq!(status(&s, "a"), Status::Merging { attempt: 1 });
    let fx = merged(&mut s, "b");
    assert_eq!(merges(&fx), ["a"]);
    assert!(fx.contains(&Effect::RemoveWorktree { task: id("b") }));
    let fx = merged(&mut s, "a");
    assert_eq!(starts(&fx), [("c".into(), 1)]);
}

#[test]
fn a_merge_waits_for_its_dependencies_to_be_merged() {
    // c was edited to depend on a after it ran; its approval must wait for a's merge.
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("c", &[], "sim")],
        limits(2),
    );
    for t in ["a", "c"] {
        exited(&mut s, t, 1, AgentResult::Succeeded);
        gated(&mut s, t, 1, passed());
    }
    s.fleet.tasks[1].spec.deps = vec![id("a")];
    let fx = s.command(Command::Approve { task: id("c") }).unwrap();
    assert!(merges(&fx).is_empty());
    assert_eq!(s.reason(s.task("c").unwrap()).unwrap(), "merge waits for a");
    let fx = s.command(Command::Approve { task: id("a") }).unwrap();
    assert_eq!(merges(&fx), ["a"]);
    assert_eq!(merges(&merged(&mut s, "a")), ["c"]);
}

#[test]
fn a_conflict_sends_the_task_back_to_review_marked_and_approve_tries_again() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    s.command(Command::Approve { task: id("a") }).unwrap();
    s.report(Report::Merged {
        task: id("a"),
        result: MergeResult::Conflict {
            files: vec!["src/x.rs".into()],
        },
    });
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: Some(MergeBlock::Conflict {
                files: vec!["src/x.rs".into()]
            })
        }
    );
    assert_eq!(
        s.reason(s.task("a").unwrap()).unwrap(),
        "merge conflict in src/x.rs"
    );
    assert!(s.is_idle());
    let fx = s.command(Command::Approve { task: id("a") }).unwrap();
    assert_eq!(merges(&fx), ["a"]);
    s.report(Report::Merged {
        task: id("a"),
        result: MergeResult::Refused {
            files: vec!["README".into()],
        },
    });
    assert!(
        s.reason(s.task("a").unwrap())
            .unwrap()
            .contains("uncommitted changes to README")
    );
}

#[test]
fn requesting_changes_sends_the_feedback_to_the_agent() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    assert!(
        s.command(Command::RequestChanges {
            task: id("a"),
            feedback: "  ".into()
        })
        .is_err()
    );
    let fx = s
        .command(Command::RequestChanges {
            task: id("a"),
            feedback: "rename foo to bar".into(),
        })
        .unwrap();
    let req = start_request(&fx, "a");
    assert_eq!(req.attempt, 2);
    assert_eq!(req.workspace, Workspace::Continue);
    assert!(
        req.prompt
            .contains("asks for changes:\n> rename foo to bar"),
        "{}",
        req.prompt
    );
    assert_eq!(s.task("a").unwrap().tries, 1);
}

#[test]
fn rejecting_fails_the_task_and_a_retry_starts_from_scratch() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    s.command(Command::Reject { task: id("a") }).unwrap();
    assert!(matches!(status(&s, "a"), Status::Failed { .. }));
    assert!(s.command(Command::Reject { task: id("a") }).is_err());
    let fx = s.command(Command::Retry { task: id("a") }).unwrap();
    let req = start_request(&fx, "a");
    assert_eq!(req.workspace, Workspace::Fresh);
    assert_eq!(req.prompt, "prompt of a");
}

#[test]
fn agents_stop_starting_while_too_many_tasks_wait_for_review() {
    let l = Limits {
        max_parallel: 1,
        max_review: Some(1),
        ..Limits::default()
    };
    let (mut s, fx) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &[], "sim"),
            spec("c", &[], "sim"),
        ],
        l,
    );
    assert_eq!(starts(&fx), [("a".into(), 1)]);
    let fx = exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert_eq!(
        starts(&fx),
        [("b".into(), 1)],
        "a verifying task frees its agent slot"
    );
    gated(&mut s, "a", 1, passed());
    let fx = exited(&mut s, "b", 1, AgentResult::Succeeded);
    assert!(starts(&fx).is_empty(), "a task waits in review");
    let fx = s.command(Command::Approve { task: id("a") }).unwrap();
    assert_eq!(starts(&fx), [("c".into(), 1)]);
}

#[test]
fn auto_approve_merges_what_passes_its_gate() {
    let l = Limits {
        auto_approve: true,
        ..limits(1)
    };
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 1, passed());
    assert_eq!(merges(&fx), ["a"]);
    // A conflicted task is not approved again automatically.
    s.report(Report::Merged {
        task: id("a"),
        result: MergeResult::Conflict {
            files: vec!["f".into()],
        },
    });
    assert!(matches!(
        status(&s, "a"),
        Status::Review { block: Some(_), .. }
    ));
    assert!(s.is_idle());
}

#[test]
fn stale_reports_are_ignored() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    let before = s.tasks().to_vec();
    assert!(exited(&mut s, "a", 7, AgentResult::Succeeded).is_empty());
    assert!(gated(&mut s, "a", 1, passed()).is_empty());
    assert!(merged(&mut s, "a").is_empty());
    assert!(exited(&mut s, "ghost", 1, AgentResult::Succeeded).is_empty());
    assert_eq!(s.tasks(), before.as_slice());
}

#[test]
fn every_status_change_is_saved_and_recorded() {
    let (mut s, fx) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    let saved = fx
        .iter()
        .filter(|e| matches!(e, Effect::SaveTask { .. }))
        .count();
    let changes = fx
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Record {
                    event: Event::Status { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!((saved, changes), (1, 1));
    let fx = exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Record {
            event: Event::Status {
                from: Status::Running { attempt: 1 },
                to: Status::Verifying { attempt: 1 },
                ..
            },
            actor: Actor::Engine
        }
    )));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Record {
            event: Event::AgentEnded { .. },
            ..
        }
    )));
}

/// The tasks as the store would hand them back after a crash at this point.
fn crash(s: &Scheduler, l: Limits) -> Scheduler {
    Scheduler::new(
        l,
        ["sim".to_string(), "alt".to_string()],
        s.tasks().to_vec(),
        s.fleet_paused(),
    )
}

#[test]
fn after_a_crash_running_attempts_are_interrupted_and_the_fleet_waits() {
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &[], "sim"),
            spec("c", &[], "sim"),
        ],
        limits(3),
    );
    exited(&mut s, "b", 1, AgentResult::Succeeded); // b is verifying
    exited(&mut s, "c", 1, AgentResult::Succeeded);
    gated(&mut s, "c", 1, passed());
    s.command(Command::Approve { task: id("c") }).unwrap(); // c is merging

    let mut r = crash(&s, limits(3));
    let fx = r.start();
    assert!(r.fleet_paused());
    assert!(fx.contains(&Effect::SaveFleet { paused: true }));
    assert!(fx.contains(&Effect::Record {
        actor: Actor::Engine,
        event: Event::Interrupted {
            task: id("a"),
            attempt: 1
        }
    }));
    assert_eq!(status(&r, "a"), Status::Queued { held: false });
    assert_eq!(
        r.reason(r.task("a").unwrap()).unwrap(),
        "the fleet is paused"
    );
    assert!(starts(&fx).is_empty(), "nothing starts by surprise");
    assert_eq!(merges(&fx), ["c"], "an approved merge is finished");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Gate { .. })),
        "gates wait for resume"
    );
    assert_eq!(
        r.reason(r.task("b").unwrap()).unwrap(),
        "verify waits for the fleet to resume"
    );

    let fx = r.command(Command::ResumeFleet).unwrap();
    let req = start_request(&fx, "a");
    assert_eq!(
        (req.attempt, req.workspace),
        (2, Workspace::Rollback { attempt: 1 })
    );
    assert_eq!(
        r.task("a").unwrap().tries,
        1,
        "the interrupted attempt is not counted"
    );
    assert!(fx.contains(&Effect::Gate {
        task: id("b"),
        attempt: 1
    }));
    assert_eq!(status(&r, "b"), Status::Verifying { attempt: 1 });
}

#[test]
fn after_a_crash_a_pending_drop_or_reassign_completes() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim")],
        limits(2),
    );
    s.command(Command::Drop { task: id("a") }).unwrap();
    s.command(Command::Reassign {
        task: id("b"),
        agent: "alt".into(),
    })
    .unwrap();
    let mut r = crash(&s, limits(2));
    r.start();
    assert_eq!(status(&r, "a"), Status::Dropped);
    assert_eq!(status(&r, "b"), Status::Queued { held: false });
    let fx = r.command(Command::ResumeFleet).unwrap();
    let req = start_request(&fx, "b");
    assert_eq!(
        (req.agent.as_str(), req.workspace),
        ("alt", Workspace::Continue)
    );
}

#[test]
fn a_clean_restart_does_not_pause_the_fleet() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &["a"], "sim")],
        limits(1),
    );
    complete(&mut s, "a", 1);
    exited(&mut s, "b", 1, AgentResult::Succeeded);
    gated(&mut s, "b", 1, passed());
    let mut r = crash(&s, limits(1));
    let fx = r.start();
    assert!(!r.fleet_paused());
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn an_unknown_agent_holds_a_task_back_with_a_reason() {
    let tasks = vec![Task::new(spec("a", &[], "gone"))];
    let mut s = Scheduler::new(limits(1), ["sim".to_string()], tasks, false);
    assert!(starts(&s.start()).is_empty());
    assert_eq!(
        s.reason(s.task("a").unwrap()).unwrap(),
        "agent `gone` is not defined"
    );
}

#[test]
fn thousands_of_tasks_schedule_in_plan_order() {
    let specs: Vec<TaskSpec> = (0..2000)
        .map(|i| {
            if i % 2 == 0 {
                spec(&format!("t{i}"), &[], "sim")
            } else {
                spec(&format!("t{i}"), &[&format!("t{}", i - 1)], "sim")
            }
        })
        .collect();
    let (mut s, fx) = sched_with(specs, limits(8));
    let first: Vec<String> = starts(&fx).into_iter().map(|(t, _)| t).collect();
    assert_eq!(first, ["t0", "t2", "t4", "t6", "t8", "t10", "t12", "t14"]);
    let fx = complete(&mut s, "t0", 1);
    assert_eq!(
        starts(&fx),
        [("t16".into(), 1)],
        "t0's slot freed when its agent exited"
    );
    let fx = exited(&mut s, "t2", 1, failed("x"));
    assert_eq!(
        starts(&fx),
        [("t1".into(), 1)],
        "plan order: t1 before t2's retry and t18"
    );
}

#[test]
fn a_batch_applies_all_its_commands_or_none() {
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &["a"], "sim"),
            spec("c", &[], "sim"),
        ],
        limits(1),
    );
    let before = s.tasks().to_vec();
    let bad = Command::Batch {
        commands: vec![
            Command::Add {
                spec: spec("d", &["a"], "sim"),
            },
            Command::Drop { task: id("c") },
            Command::Edit {
                task: id("b"),
                patch: TaskPatch {
                    deps: Some(vec![id("ghost")]),
                    ..TaskPatch::default()
                },
            },
        ],
    };
    let err = s.command(bad).unwrap_err().to_string();
    assert!(
        err.starts_with("change 3 (edit `b`): task `b` depends on `ghost`"),
        "{err}"
    );
    assert!(err.ends_with("nothing was applied"), "{err}");
    assert_eq!(s.tasks(), before.as_slice());
    assert!(s.task("d").is_none());

    let good = Command::Batch {
        commands: vec![
            Command::Add {
                spec: spec("d", &["a"], "sim"),
            },
            Command::Drop { task: id("c") },
            Command::Edit {
                task: id("b"),
                patch: TaskPatch {
                    deps: Some(vec![id("d")]),
                    ..TaskPatch::default()
                },
            },
        ],
    };
    let fx = s.command(good).unwrap();
    assert_eq!(status(&s, "c"), Status::Dropped);
    assert_eq!(s.task("b").unwrap().spec.deps, vec![id("d")]);
    assert!(fx.contains(&Effect::Record {
        actor: Actor::User,
        event: Event::TaskAdded { task: id("d") }
    }));
}

#[test]
fn a_task_marked_auto_approve_merges_without_review() {
    let mut docs = spec("docs", &[], "sim");
    docs.auto_approve = true;
    let (mut s, _) = sched_with(vec![docs, spec("code", &[], "sim")], limits(2));
    exited(&mut s, "docs", 1, AgentResult::Succeeded);
    assert_eq!(merges(&gated(&mut s, "docs", 1, passed())), ["docs"]);
    exited(&mut s, "code", 1, AgentResult::Succeeded);
    gated(&mut s, "code", 1, passed());
    assert_eq!(
        status(&s, "code"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
}

fn fail_with(class: FailureClass, message: &str) -> AgentResult {
    AgentResult::Failed {
        class,
        message: message.into(),
    }
}

fn wakes(fx: &[Effect]) -> Vec<i64> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::WakeAt { at_ms } => Some(*at_ms),
            _ => None,
        })
        .collect()
}

#[test]
fn a_rate_limited_attempt_parks_and_retries_later_without_using_an_attempt() {
    let mut l = limits(1);
    l.max_attempts = 1;
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    s.set_clock(1_000_000);
    let fx = exited(
        &mut s,
        "a",
        1,
        fail_with(FailureClass::RateLimited, "429 rate limited"),
    );
    assert!(starts(&fx).is_empty(), "parked, not retried at once");
    assert_eq!(wakes(&fx), [1_030_000, 1_030_000], "woken after 30 s");
    assert_eq!(status(&s, "a"), Status::Queued { held: false });
    assert_eq!(
        s.reason(s.task("a").unwrap()).unwrap(),
        "rate limited: retrying in 30 s"
    );
    assert!(fx.contains(&Effect::Record {
        actor: Actor::Engine,
        event: Event::RateLimited {
            task: id("a"),
            attempt: 1,
            retry_at_ms: 1_030_000
        }
    }));
    assert!(starts(&s.tick(1_029_999)).is_empty(), "not before its time");
    let fx = s.tick(1_030_000);
    assert_eq!(starts(&fx), [("a".into(), 2)]);
    assert_eq!(
        s.task("a").unwrap().tries,
        1,
        "max_attempts = 1 and still not Failed: the rate limit did not count"
    );
    // A second rate limit in a row waits twice as long.
    let fx = exited(
        &mut s,
        "a",
        2,
        fail_with(FailureClass::RateLimited, "overloaded"),
    );
    assert_eq!(wakes(&fx)[0], 1_030_000 + 60_000);
    assert_eq!(
        super::reports::backoff_ms(30_000, 20),
        15 * 60_000,
        "capped at 15 minutes"
    );
}

#[test]
fn a_service_that_stays_overloaded_ends_up_costing_attempts() {
    let mut l = limits(1);
    l.max_attempts = 2;
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    let mut attempt = 1;
    for n in 0..super::reports::FREE_RATE_LIMITS {
        s.set_clock(1_000_000 * (n as i64 + 1));
        exited(
            &mut s,
            "a",
            attempt,
            fail_with(FailureClass::RateLimited, "overloaded"),
        );
        attempt = starts(&s.tick(1_000_000 * (n as i64 + 1) + 900_000))[0].1;
    }
    assert_eq!(s.task("a").unwrap().tries, 1, "five rate limits were free");
    let fx = exited(
        &mut s,
        "a",
        attempt,
        fail_with(FailureClass::RateLimited, "overloaded"),
    );
    assert_eq!(
        starts(&fx).len(),
        1,
        "the sixth counts: retried at once as a failed attempt"
    );
    let attempt = starts(&fx)[0].1;
    exited(
        &mut s,
        "a",
        attempt,
        fail_with(FailureClass::RateLimited, "still overloaded"),
    );
    let Status::Failed { reason } = status(&s, "a") else {
        panic!("{:?}", status(&s, "a"))
    };
    assert!(reason.ends_with("still overloaded"), "{reason}");
}

#[test]
fn an_auth_failure_stops_that_profile_and_says_so_once() {
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &[], "sim"),
            spec("c", &[], "sim"),
            spec("d", &[], "alt"),
        ],
        limits(2),
    );
    // a and b run; a fails authentication.
    let fx = exited(
        &mut s,
        "a",
        1,
        fail_with(FailureClass::Auth, "API Error: 401 invalid api key"),
    );
    let unusable: Vec<&Event> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Record {
                event: ev @ Event::AgentUnusable { .. },
                ..
            } => Some(ev),
            _ => None,
        })
        .collect();
    assert_eq!(
        unusable,
        [&Event::AgentUnusable {
            agent: "sim".into(),
            reason: "API Error: 401 invalid api key".into()
        }]
    );
    assert_eq!(
        starts(&fx),
        [("d".into(), 1)],
        "other profiles go on; sim tasks wait"
    );
    assert!(
        s.reason(s.task("c").unwrap())
            .unwrap()
            .starts_with("agent `sim` cannot be used: API Error: 401")
    );
    assert_eq!(s.task("a").unwrap().tries, 0, "not the task's fault");
    // b fails the same way: no second report.
    let fx = exited(&mut s, "b", 1, fail_with(FailureClass::Auth, "401"));
    assert!(!fx.iter().any(|e| matches!(
        e,
        Effect::Record {
            event: Event::AgentUnusable { .. },
            ..
        }
    )));
    assert!(starts(&fx).is_empty());
    // The user fixed it.
    let fx = s
        .command(Command::ReviveAgent {
            agent: "sim".into(),
        })
        .unwrap();
    assert_eq!(starts(&fx), [("a".into(), 2)]);
    assert!(
        s.command(Command::ReviveAgent {
            agent: "ghost".into()
        })
        .is_err()
    );
}

#[test]
fn a_permission_denial_waits_for_a_human() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    let fx = exited(
        &mut s,
        "a",
        1,
        fail_with(
            FailureClass::PermissionDenied,
            "Write was denied: you haven't granted it",
        ),
    );
    assert!(starts(&fx).is_empty(), "retrying would be refused again");
    let Status::Failed { reason } = status(&s, "a") else {
        panic!()
    };
    assert!(
        reason.starts_with("needs input: Write was denied"),
        "{reason}"
    );
}

fn used(s: &mut Scheduler, task: &str, attempt: u32, usd: f64, tokens: u64) -> Vec<Effect> {
    s.report(Report::Usage {
        task: id(task),
        attempt,
        spend: crate::core::Spend { usd, tokens },
    })
}

#[test]
fn crossing_a_task_budget_pauses_its_agent_until_the_budget_is_raised() {
    let mut l = limits(2);
    l.budget.task_usd = Some(1.0);
    let mut pricey = spec("b", &[], "sim");
    pricey.budget_tokens = Some(5_000);
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim"), pricey], l);
    assert!(used(&mut s, "a", 1, 0.5, 100).is_empty());
    let fx = used(&mut s, "a", 1, 1.2, 200);
    assert_eq!(
        signals(&fx),
        [("a".into(), Signal::Pause)],
        "paused, not killed"
    );
    assert_eq!(status(&s, "a"), Status::Paused { attempt: 1 });
    let why = s.reason(s.task("a").unwrap()).unwrap();
    assert_eq!(
        why,
        "over its budget: $1.2000 spent of a $1.00 budget; raise it (b) or drop the task"
    );
    assert!(
        s.command(Command::ResumeTask { task: id("a") })
            .unwrap_err()
            .to_string()
            .contains("over its budget")
    );
    // The task's own token budget applies to b.
    let fx = used(&mut s, "b", 1, 0.1, 6_000);
    assert_eq!(signals(&fx), [("b".into(), Signal::Pause)]);
    // Raising a's budget resumes it; raising it too little does not.
    let fx = s
        .command(Command::SetBudget {
            task: Some(id("a")),
            usd: Some(1.1),
            tokens: None,
        })
        .unwrap();
    assert!(signals(&fx).is_empty());
    let fx = s
        .command(Command::SetBudget {
            task: Some(id("a")),
            usd: Some(5.0),
            tokens: None,
        })
        .unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Resume)]);
    assert_eq!(status(&s, "a"), Status::Running { attempt: 1 });
    assert!(fx.contains(&Effect::SaveTask { task: id("a") }));
}

#[test]
fn spending_carries_over_attempts_so_an_exhausted_task_is_not_retried() {
    let mut l = limits(1);
    l.budget.task_usd = Some(1.0);
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    used(&mut s, "a", 1, 0.9, 10);
    let fx = exited(&mut s, "a", 1, failed("boom"));
    assert_eq!(starts(&fx), [("a".into(), 2)], "under budget: retried");
    used(&mut s, "a", 2, 0.2, 10);
    exited(&mut s, "a", 2, failed("boom again"));
    assert_eq!(s.task("a").unwrap().spent.usd, 0.9 + 0.2);
    assert_eq!(status(&s, "a"), Status::Queued { held: false });
    assert!(
        s.reason(s.task("a").unwrap())
            .unwrap()
            .starts_with("over its budget: $1.1000 spent")
    );
    let fx = s
        .command(Command::SetBudget {
            task: Some(id("a")),
            usd: Some(3.0),
            tokens: None,
        })
        .unwrap();
    assert_eq!(starts(&fx), [("a".into(), 3)]);
}

#[test]
fn crossing_the_fleet_budget_pauses_the_fleet_until_it_is_raised() {
    let mut l = limits(2);
    l.budget.fleet_usd = Some(2.0);
    let (mut s, _) = sched_with(
        vec![
            spec("a", &[], "sim"),
            spec("b", &[], "sim"),
            spec("c", &[], "sim"),
        ],
        l,
    );
    used(&mut s, "a", 1, 1.0, 10);
    let fx = used(&mut s, "b", 1, 1.5, 10);
    assert!(s.fleet_paused());
    assert_eq!(
        signals(&fx),
        [("a".into(), Signal::Pause), ("b".into(), Signal::Pause)]
    );
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Record {
            event: Event::BudgetExceeded { task: None, .. },
            ..
        }
    )));
    assert!(
        s.command(Command::ResumeFleet)
            .unwrap_err()
            .to_string()
            .contains("over its budget")
    );
    let fx = s
        .command(Command::SetBudget {
            task: None,
            usd: Some(10.0),
            tokens: None,
        })
        .unwrap();
    assert!(!s.fleet_paused());
    assert!(fx.contains(&Effect::SaveFleetBudget {
        usd: Some(10.0),
        tokens: None
    }));
    assert_eq!(
        signals(&fx),
        [("a".into(), Signal::Resume), ("b".into(), Signal::Resume)]
    );
}

#[test]
fn requested_changes_ask_to_resume_the_session_and_reassignments_to_summarize() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim")],
        limits(2),
    );
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    let fx = s
        .command(Command::RequestChanges {
            task: id("a"),
            feedback: "use tabs".into(),
        })
        .unwrap();
    assert_eq!(
        start_request(&fx, "a").continues,
        Some(crate::core::Continuation {
            attempt: 1,
            resume_prompt: Some("use tabs".into())
        })
    );
    let fx = s
        .command(Command::Reassign {
            task: id("b"),
            agent: "alt".into(),
        })
        .unwrap();
    assert!(starts(&fx).is_empty());
    let fx = exited(&mut s, "b", 1, AgentResult::Stopped);
    assert_eq!(
        start_request(&fx, "b").continues,
        Some(crate::core::Continuation {
            attempt: 1,
            resume_prompt: None
        })
    );
    // A plain retry after a failure continues nothing: the failure is in the prompt.
    let fx = exited(&mut s, "a", 2, failed("x"));
    assert_eq!(start_request(&fx, "a").continues, None);
}
