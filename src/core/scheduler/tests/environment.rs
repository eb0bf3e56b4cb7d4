//! Environment faults (disk full, read-only `.fleet`): the fleet pauses with
//! one reason, attempts are kept, and resuming continues.

use super::*;

fn environment(message: &str) -> AgentResult {
    AgentResult::Failed {
        class: FailureClass::Environment,
        message: message.into(),
    }
}

fn pauses(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Record {
                event: Event::FleetPaused { reason },
                ..
            } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_environment_fault_pauses_the_fleet_once_and_costs_no_attempt() {
    let mut l = limits(2);
    l.max_attempts = 1;
    let (mut s, fx) = sched_with(vec![spec("a", &[], "sim"), spec("b", &[], "sim")], l);
    assert_eq!(starts(&fx).len(), 2);
    let msg = "cannot write the transcript /r/.fleet/runs/a/1.jsonl: No space left on device (os error 28)";
    let fx = exited(&mut s, "a", 1, environment(msg));
    let reasons = pauses(&fx);
    assert_eq!(reasons.len(), 1, "{fx:#?}");
    assert!(reasons[0].starts_with(msg), "{}", reasons[0]);
    assert!(reasons[0].contains("free disk space"), "{}", reasons[0]);
    assert!(reasons[0].contains("--resume"), "{}", reasons[0]);
    assert!(s.fleet_paused());
    assert_eq!(signals(&fx), [("b".into(), Signal::Pause)], "b is stopped");
    assert!(starts(&fx).is_empty());
    assert_eq!(status(&s, "a"), Status::Queued { held: false });
    assert_eq!(s.task("a").unwrap().tries, 0, "the attempt is not counted");
    assert!(
        !fx.iter().any(|e| matches!(
            e,
            Effect::Record {
                event: Event::AttemptFailed { .. },
                ..
            }
        )),
        "not a task failure"
    );
    // b hits the same fault: the fleet is already paused, no second message.
    let fx = exited(&mut s, "b", 1, environment(msg));
    assert!(pauses(&fx).is_empty());
    assert_eq!(s.task("b").unwrap().tries, 0);
    // The user fixed it and resumes: both start again, max_attempts = 1 notwithstanding.
    let fx = s.command(Command::ResumeFleet).unwrap();
    assert_eq!(starts(&fx), [("a".into(), 2), ("b".into(), 2)]);
}

#[test]
fn a_store_fault_pauses_a_running_fleet_once() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    let fx = s.environment_fault("database /r/.fleet/fleet.db: disk I/O error");
    assert_eq!(pauses(&fx).len(), 1);
    assert_eq!(signals(&fx), [("a".into(), Signal::Pause)]);
    assert!(s.environment_fault("again").is_empty(), "already paused");
    assert_eq!(status(&s, "a"), Status::Running { attempt: 1 });
    let fx = s.command(Command::ResumeFleet).unwrap();
    assert_eq!(signals(&fx), [("a".into(), Signal::Resume)]);
}

#[test]
fn a_commit_that_the_disk_refuses_waits_in_verifying_and_gates_again_on_resume() {
    let mut l = limits(1);
    l.max_attempts = 1;
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    let fx = gated(
        &mut s,
        "a",
        1,
        GateResult::Environment {
            message: "committing the changes of `a` failed: No space left on device".into(),
        },
    );
    assert_eq!(pauses(&fx).len(), 1);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Gate { .. })));
    assert_eq!(status(&s, "a"), Status::Verifying { attempt: 1 });
    assert_eq!(
        s.reason(s.task("a").unwrap()).as_deref(),
        Some("verify waits for the fleet to resume")
    );
    let fx = s.command(Command::ResumeFleet).unwrap();
    assert!(fx.contains(&Effect::Gate {
        task: id("a"),
        attempt: 1
    }));
}

#[test]
fn after_an_environment_fault_the_next_attempt_treats_the_worktree_as_this_one_was_to() {
    let mut s = starting_over_after_a_reject();
    // Attempt 2 could not even prepare (the disk refused): its fresh start
    // never happened, so attempt 3 starts fresh.
    exited(&mut s, "a", 2, environment("disk full"));
    let fx = s.command(Command::ResumeFleet).unwrap();
    assert_eq!(
        start_request(&fx, "a").workspace,
        Workspace::Fresh { rejected: Some(1) }
    );
}
