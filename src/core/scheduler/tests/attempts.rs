//! One outcome per attempt, and continuing from work that passed its gate.

use super::*;
use crate::core::Verified;
use crate::core::outcome::AttemptOutcome;

/// The outcomes recorded in `fx`, as (attempt, outcome).
fn outcomes(fx: &[Effect]) -> Vec<(u32, AttemptOutcome)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Record {
                event:
                    Event::AttemptEnded {
                        attempt, outcome, ..
                    },
                ..
            } => Some((*attempt, outcome.clone())),
            _ => None,
        })
        .collect()
}

/// Task `a` running its attempt 1, with `max_attempts`.
fn one_task(max_attempts: u32) -> Scheduler {
    let l = Limits {
        max_attempts,
        ..limits(1)
    };
    sched_with(vec![spec("a", &[], "sim")], l).0
}

/// Task `a` whose attempt 1 passed its gate: in review.
fn in_review(max_attempts: u32) -> Scheduler {
    let mut s = one_task(max_attempts);
    let fx = exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert_eq!(outcomes(&fx), vec![], "the gate decides a finished agent's");
    let fx = gated(&mut s, "a", 1, passed());
    assert_eq!(outcomes(&fx), vec![(1, AttemptOutcome::Succeeded)]);
    s
}

fn request_changes(s: &mut Scheduler) -> Vec<Effect> {
    s.command(Command::RequestChanges {
        task: id("a"),
        feedback: "add a test".into(),
    })
    .unwrap()
}

#[test]
fn a_gate_that_passes_is_succeeded_and_its_work_is_verified() {
    let s = in_review(3);
    assert_eq!(
        s.task("a").unwrap().verified,
        Some(Verified {
            attempt: 1,
            commit: "c0ffee".into()
        })
    );
}

#[test]
fn each_failure_has_its_own_outcome() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim")],
        Limits {
            max_attempts: 9,
            ..limits(1)
        },
    );
    let fx = exited(&mut s, "a", 1, failed("boom"));
    assert_eq!(
        outcomes(&fx),
        vec![(
            1,
            AttemptOutcome::AgentFailed {
                class: Some(FailureClass::Crash)
            }
        )]
    );
    exited(&mut s, "a", 2, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 2, GateResult::NoChanges);
    assert_eq!(outcomes(&fx), vec![(2, AttemptOutcome::NoChanges)]);
    exited(&mut s, "a", 3, AgentResult::Succeeded);
    let verify = GateResult::VerifyFailed {
        command: "cargo test".into(),
        output: "test x ... FAILED".into(),
    };
    let fx = gated(&mut s, "a", 3, verify);
    assert_eq!(
        outcomes(&fx),
        vec![(
            3,
            AttemptOutcome::VerifyFailed {
                command: "cargo test".into()
            }
        )]
    );
    exited(&mut s, "a", 4, AgentResult::Succeeded);
    let error = GateResult::Error {
        message: "cannot commit".into(),
    };
    let fx = gated(&mut s, "a", 4, error);
    assert_eq!(outcomes(&fx), vec![(4, AttemptOutcome::GateError)]);
    // An environment fault in the gate decides nothing yet: the gate runs again.
    exited(&mut s, "a", 5, AgentResult::Succeeded);
    let env = GateResult::Environment {
        message: "disk full".into(),
    };
    assert_eq!(outcomes(&gated(&mut s, "a", 5, env)), vec![]);
    // Stopped without our asking (the engine shut down): interrupted.
    let (mut s, _) = sched_with(vec![spec("b", &[], "sim")], limits(1));
    let fx = exited(&mut s, "b", 1, AgentResult::Stopped);
    assert_eq!(outcomes(&fx), vec![(1, AttemptOutcome::Interrupted)]);
}

#[test]
fn stopped_rejected_and_interrupted_attempts_say_so() {
    // Reassigned while running: the attempt was stopped.
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    s.command(Command::Reassign {
        task: id("a"),
        agent: "alt".into(),
    })
    .unwrap();
    let fx = exited(&mut s, "a", 1, AgentResult::Stopped);
    assert_eq!(outcomes(&fx), vec![(1, AttemptOutcome::Stopped)]);

    // Rejected after it passed: the later outcome replaces "succeeded", and
    // the fresh start saves it under its own number.
    let mut s = in_review(3);
    let fx = s.command(Command::Reject { task: id("a") }).unwrap();
    assert_eq!(outcomes(&fx), vec![(1, AttemptOutcome::Rejected)]);
    assert_eq!(s.task("a").unwrap().verified, None);
    let fx = s.command(Command::Retry { task: id("a") }).unwrap();
    let req = start_request(&fx, "a");
    assert_eq!(req.workspace, Workspace::Fresh { rejected: Some(1) });
    assert!(
        !req.prompt.contains("passed verification"),
        "{}",
        req.prompt
    );

    // The engine died while attempt 2 ran: interrupted on the next start.
    let mut r = Scheduler::new(limits(1), ["sim".to_string()], s.tasks().to_vec(), false);
    let fx = r.start();
    assert_eq!(outcomes(&fx), vec![(2, AttemptOutcome::Interrupted)]);
}

#[test]
fn request_changes_leaves_the_attempt_succeeded_and_continues_from_its_work() {
    let mut s = in_review(3);
    let fx = request_changes(&mut s);
    assert_eq!(
        outcomes(&fx),
        vec![],
        "the attempt passed: it stays succeeded"
    );
    let req = start_request(&fx, "a");
    assert_eq!(req.workspace, Workspace::Continue);
    assert!(
        req.prompt.contains(
            "The worktree holds the work of attempt 1, which passed verification; continue from it."
        ),
        "{}",
        req.prompt
    );
}

#[test]
fn an_attempt_that_adds_nothing_to_verified_work_returns_to_review_uncounted() {
    // One attempt allowed: a counted no-change would fail the task.
    let mut s = in_review(1);
    for n in [2, 3] {
        request_changes(&mut s);
        exited(&mut s, "a", n, AgentResult::Succeeded);
        let fx = gated(&mut s, "a", n, GateResult::NoChanges);
        assert_eq!(outcomes(&fx), vec![(n, AttemptOutcome::NoFurtherChanges)]);
        // Back in review on the verified work of attempt 1 (the merge is attributed to it).
        assert_eq!(
            status(&s, "a"),
            Status::Review {
                attempt: 1,
                block: None
            }
        );
        assert_eq!(s.task("a").unwrap().tries, 0, "not counted");
        assert_eq!(s.task("a").unwrap().feedback, None);
    }
    s.command(Command::Approve { task: id("a") }).unwrap();
    assert_eq!(status(&s, "a"), Status::Merging { attempt: 1 });
}

#[test]
fn without_verified_work_no_changes_is_a_counted_failure() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim")],
        Limits {
            max_attempts: 1,
            ..limits(1)
        },
    );
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, GateResult::NoChanges);
    assert!(matches!(status(&s, "a"), Status::Failed { .. }));
}

#[test]
fn work_that_fails_its_gate_after_verified_work_is_no_longer_verified() {
    let mut s = in_review(3);
    request_changes(&mut s);
    exited(&mut s, "a", 2, AgentResult::Succeeded);
    let verify = GateResult::VerifyFailed {
        command: "cargo test".into(),
        output: "boom".into(),
    };
    gated(&mut s, "a", 2, verify);
    assert_eq!(s.task("a").unwrap().verified, None);
    // The branch tip is the failing commit: a no-change attempt on it is a failure.
    exited(&mut s, "a", 3, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 3, GateResult::NoChanges);
    assert_eq!(outcomes(&fx), vec![(3, AttemptOutcome::NoChanges)]);
    assert_eq!(
        status(&s, "a"),
        Status::Running { attempt: 4 },
        "counted: retried"
    );
    assert_eq!(s.task("a").unwrap().tries, 3);
}

#[test]
fn reassigning_a_task_in_review_keeps_it_approvable() {
    let mut s = in_review(3);
    let fx = s
        .command(Command::Reassign {
            task: id("a"),
            agent: "alt".into(),
        })
        .unwrap();
    assert_eq!(starts(&fx), vec![], "nothing starts");
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
    assert_eq!(s.task("a").unwrap().spec.agent, "alt");
    // The new agent makes the next attempt, continuing from the verified work.
    let fx = request_changes(&mut s);
    let req = start_request(&fx, "a");
    assert_eq!((req.agent.as_str(), req.attempt), ("alt", 2));
    assert_eq!(req.workspace, Workspace::Continue);
    assert!(req.prompt.contains("passed verification"), "{}", req.prompt);
}

#[test]
fn approving_after_a_reassign_in_review_merges_the_reviewed_attempt() {
    let mut s = in_review(3);
    s.command(Command::Reassign {
        task: id("a"),
        agent: "alt".into(),
    })
    .unwrap();
    let fx = s.command(Command::Approve { task: id("a") }).unwrap();
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Merge { task, attempt: 1 } if task.as_str() == "a"
    )));
}

#[test]
fn retry_of_a_failed_task_with_verified_work_continues_from_it() {
    let mut s = in_review(1);
    request_changes(&mut s);
    // The agent crashes without touching the verified work: the task fails.
    exited(&mut s, "a", 2, failed("boom"));
    assert!(matches!(status(&s, "a"), Status::Failed { .. }));
    let fx = s.command(Command::Retry { task: id("a") }).unwrap();
    let req = start_request(&fx, "a");
    assert_eq!(req.workspace, Workspace::Continue);
    assert!(
        req.prompt
            .contains("The worktree holds the work of attempt 1, which passed verification"),
        "{}",
        req.prompt
    );
}

#[test]
fn a_fresh_start_stored_by_an_older_version_still_reads() {
    let old: Workspace = serde_json::from_str(r#"{"mode":"fresh"}"#).unwrap();
    assert_eq!(old, Workspace::Fresh { rejected: None });
    let task: Task = serde_json::from_value(serde_json::json!({
        "spec": serde_json::to_value(spec("a", &[], "sim")).unwrap(),
        "status": serde_json::to_value(Status::Queued { held: false }).unwrap(),
    }))
    .unwrap();
    assert_eq!(task.verified, None);
}
