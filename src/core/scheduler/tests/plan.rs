//! Dependencies, caps, priorities, retries, pause, reassign, edit, add, drop.

use super::*;

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
fn the_parts_of_a_running_task_that_is_split_wait_until_it_has_stopped() {
    let (mut s, _) = sched_with(vec![spec("api", &[], "sim")], limits(3));
    assert_eq!(status(&s, "api"), Status::Running { attempt: 1 });
    let part = |name: &str| TaskSpec {
        split_from: Some(id("api")),
        ..spec(name, &[], "sim")
    };
    let fx = s
        .command(Command::Batch {
            commands: vec![
                Command::Drop { task: id("api") },
                Command::Add {
                    spec: part("api-a"),
                },
                Command::Add {
                    spec: part("api-b"),
                },
            ],
        })
        .unwrap();
    assert_eq!(signals(&fx), [("api".into(), Signal::Stop)]);
    assert_eq!(starts(&fx), []);
    let waiting = s.reason(s.task("api-a").unwrap());
    assert_eq!(
        waiting.as_deref(),
        Some("waiting for `api`, which was split, to stop: this task inherits its work")
    );
    let fx = exited(&mut s, "api", 1, AgentResult::Stopped);
    assert_eq!(status(&s, "api"), Status::Dropped);
    assert!(fx.contains(&Effect::RemoveWorktree { task: id("api") }));
    assert_eq!(starts(&fx), [("api-a".into(), 1), ("api-b".into(), 1)]);
}
