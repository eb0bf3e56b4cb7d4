//! Updates onto the target: clean (the gate again), conflicting (the
//! agent or the user resolves), stale reports, restarts, auto_update.

use super::*;
use crate::core::feedback::{ConflictChange, ConflictFile};
use crate::core::messages::UpdateResult;

/// Task `a` (and a merged task `b` that changed the same file): `a`'s merge conflicted.
fn conflicted(limits: Limits) -> Scheduler {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim"), spec("b", &[], "sim")], limits);
    for t in ["a", "b"] {
        exited(&mut s, t, 1, AgentResult::Succeeded);
        gated(&mut s, t, 1, passed());
    }
    s.command(Command::Approve { task: id("b") }).unwrap();
    merged(&mut s, "b");
    s.command(Command::Approve { task: id("a") }).unwrap();
    s.report(Report::Merged {
        task: id("a"),
        result: MergeResult::Conflict {
            files: vec!["x.rs".into()],
        },
    });
    s
}

fn updates(fx: &[Effect]) -> Vec<(String, u32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Update { task, attempt } => Some((task.to_string(), *attempt)),
            _ => None,
        })
        .collect()
}

fn gates(fx: &[Effect]) -> Vec<(String, u32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Gate { task, attempt } => Some((task.to_string(), *attempt)),
            _ => None,
        })
        .collect()
}

fn clean() -> UpdateResult {
    UpdateResult::Clean {
        commit: "c1".into(),
        onto: "t1".into(),
    }
}

fn conflict() -> UpdateResult {
    UpdateResult::Conflict {
        onto: "t1".into(),
        files: vec![ConflictFile {
            path: "x.rs".into(),
            changed_by: vec![ConflictChange {
                commit: "m-b".into(),
                task: Some("b".into()),
                subject: "Merge fleet/b".into(),
            }],
            target_diff: "+b's line".into(),
        }],
    }
}

fn updated(s: &mut Scheduler, attempt: u32, result: UpdateResult) -> Vec<Effect> {
    s.report(Report::Updated {
        task: id("a"),
        attempt,
        result,
    })
}

#[test]
fn a_clean_update_is_verified_again_and_returns_to_review() {
    let mut s = conflicted(limits(2));
    let fx = s.command(Command::Update { task: id("a") }).unwrap();
    assert_eq!(updates(&fx), [("a".into(), 1)]);
    assert_eq!(status(&s, "a"), Status::Updating { attempt: 1 });
    assert!(!s.is_idle());
    let fx = updated(&mut s, 1, clean());
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Record { event: Event::Updated { onto: Some(o), conflicts, error: None, .. }, .. }
            if o == "t1" && conflicts.is_empty()
    )));
    assert_eq!(gates(&fx), [("a".into(), 1)]);
    assert_eq!(status(&s, "a"), Status::Verifying { attempt: 1 });
    gated(&mut s, "a", 1, passed());
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
    assert_eq!(s.task("a").unwrap().attempts, 1, "no agent ran");
}

#[test]
fn update_needs_a_task_in_review_and_stale_reports_are_ignored() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    let err = s.command(Command::Update { task: id("a") }).unwrap_err();
    assert!(
        matches!(
            err,
            CommandError::WrongStatus {
                action: "update",
                ..
            }
        ),
        "{err}"
    );
    let mut s = conflicted(limits(2));
    // Not updating: a report is stale.
    assert!(updated(&mut s, 1, clean()).is_empty());
    s.command(Command::Update { task: id("a") }).unwrap();
    // Another attempt's report is stale too.
    assert!(updated(&mut s, 7, clean()).is_empty());
    assert_eq!(status(&s, "a"), Status::Updating { attempt: 1 });
    // Dropping a task whose update is in flight is refused.
    assert!(s.command(Command::Drop { task: id("a") }).is_err());
}

#[test]
fn a_conflicting_update_waits_for_the_users_choice() {
    let mut s = conflicted(limits(2));
    s.command(Command::Update { task: id("a") }).unwrap();
    let fx = updated(&mut s, 1, conflict());
    assert!(starts(&fx).is_empty());
    let block = MergeBlock::UpdateConflict {
        files: vec!["x.rs".into()],
    };
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: Some(block.clone())
        }
    );
    // Approving now would merge nothing: refused.
    let err = s.command(Command::Approve { task: id("a") }).unwrap_err();
    assert!(
        err.to_string()
            .contains("unresolved update conflict in x.rs"),
        "{err}"
    );
    let why = s.reason(s.task("a").unwrap()).unwrap();
    assert!(
        why.contains("x.rs") && why.contains("u:") && why.contains("E:"),
        "{why}"
    );

    // u again: the agent resolves it, resuming its session with the conflict.
    let fx = s.command(Command::Update { task: id("a") }).unwrap();
    let req = start_request(&fx, "a");
    assert_eq!((req.attempt, &req.workspace), (2, &Workspace::Continue));
    assert!(
        req.prompt.contains("these files conflict: x.rs"),
        "{}",
        req.prompt
    );
    assert!(req.prompt.contains("`b` \"Title of b\""), "{}", req.prompt);
    assert!(req.prompt.contains("prompt of b"), "{}", req.prompt);
    assert!(req.prompt.contains("+b's line"), "{}", req.prompt);
    let resume = req.continues.as_ref().unwrap();
    assert_eq!(resume.attempt, 1);
    assert!(
        resume
            .resume_prompt
            .as_deref()
            .unwrap()
            .contains("conflict markers")
    );
    exited(&mut s, "a", 2, AgentResult::Succeeded);
    gated(&mut s, "a", 2, passed());
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 2,
            block: None
        }
    );
    assert_eq!(s.task("a").unwrap().feedback, None);
}

#[test]
fn the_users_resolution_is_gated_as_the_attempts_work() {
    let mut s = conflicted(limits(2));
    // Only after a conflicting update.
    assert!(s.command(Command::Resolved { task: id("a") }).is_err());
    s.command(Command::Update { task: id("a") }).unwrap();
    updated(&mut s, 1, conflict());
    let fx = s.command(Command::Resolved { task: id("a") }).unwrap();
    assert_eq!(gates(&fx), [("a".into(), 1)]);
    assert!(starts(&fx).is_empty());
    gated(&mut s, "a", 1, passed());
    let fx = s.command(Command::Approve { task: id("a") }).unwrap();
    assert_eq!(merges(&fx), ["a"]);
}

#[test]
fn a_failed_update_says_why_in_review() {
    let mut s = conflicted(limits(2));
    s.command(Command::Update { task: id("a") }).unwrap();
    updated(
        &mut s,
        1,
        UpdateResult::Error {
            message: "the worktree has uncommitted changes".into(),
        },
    );
    let Status::Review {
        block: Some(MergeBlock::Error { message }),
        ..
    } = status(&s, "a")
    else {
        panic!("{:?}", status(&s, "a"));
    };
    assert!(
        message.contains("update") && message.contains("uncommitted"),
        "{message}"
    );
}

#[test]
fn an_update_in_flight_when_the_engine_died_is_redone() {
    let mut s = conflicted(limits(2));
    s.command(Command::Update { task: id("a") }).unwrap();
    let tasks = s.tasks().to_vec();
    let mut s = Scheduler::new(limits(2), ["sim".to_string()], tasks, false);
    let fx = s.start();
    assert_eq!(updates(&fx), [("a".into(), 1)]);
    // Also while the fleet is paused (only git runs).
    let tasks = s.tasks().to_vec();
    let mut s = Scheduler::new(limits(2), ["sim".to_string()], tasks, true);
    assert_eq!(updates(&s.start()), [("a".into(), 1)]);
    // `fleetdeck update` on it after the kill: accepted, nothing new (the
    // pump has issued it), not refused as "not in review".
    assert!(updates(&s.command(Command::Update { task: id("a") }).unwrap()).is_empty());
    assert_eq!(status(&s, "a"), Status::Updating { attempt: 1 });
    updated(&mut s, 1, clean());
    assert_eq!(status(&s, "a"), Status::Verifying { attempt: 1 });
}

#[test]
fn auto_update_updates_a_blocked_merge_and_sends_the_agent_on_a_conflict() {
    let limits = Limits {
        auto_update: true,
        ..limits(2)
    };
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits);
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    s.command(Command::Approve { task: id("a") }).unwrap();
    let fx = s.report(Report::Merged {
        task: id("a"),
        result: MergeResult::Refused {
            files: vec!["x.rs".into()],
        },
    });
    assert_eq!(updates(&fx), [("a".into(), 1)]);
    let fx = updated(&mut s, 1, conflict());
    assert_eq!(starts(&fx), [("a".into(), 2)]);
    // A refusal no update cures does not loop: after two, it waits in review.
    for n in [2, 3] {
        exited(&mut s, "a", n, AgentResult::Succeeded);
        gated(&mut s, "a", n, passed());
        s.command(Command::Approve { task: id("a") }).unwrap();
        let fx = s.report(Report::Merged {
            task: id("a"),
            result: MergeResult::Refused {
                files: vec!["x.rs".into()],
            },
        });
        if n == 2 {
            assert_eq!(updates(&fx), [("a".into(), n)]);
            updated(&mut s, n, conflict());
        } else {
            assert!(updates(&fx).is_empty());
            assert!(matches!(
                status(&s, "a"),
                Status::Review {
                    block: Some(MergeBlock::Refused { .. }),
                    ..
                }
            ));
        }
    }
    // The count is kept with the task: a restart does not start it over.
    let stored = serde_json::to_string(s.task("a").unwrap()).unwrap();
    let back: Task = serde_json::from_str(&stored).unwrap();
    assert_eq!(back.auto_updates, 2);
}

#[test]
fn a_fleet_held_for_a_one_shot_command_gates_the_update_but_starts_no_agent() {
    let s = conflicted(limits(2));
    let mut tasks = s.tasks().to_vec();
    tasks.push(Task::new(spec("c", &[], "sim")));
    for held_gates in [false, true] {
        let mut s = Scheduler::new(limits(2), ["sim".to_string()], tasks.clone(), true);
        if held_gates {
            s.gate_while_held();
        }
        s.start();
        s.command(Command::Update { task: id("a") }).unwrap();
        let fx = updated(&mut s, 1, clean());
        assert_eq!(status(&s, "a"), Status::Verifying { attempt: 1 });
        let expected: &[(String, u32)] = if held_gates { &[("a".into(), 1)] } else { &[] };
        assert_eq!(gates(&fx), expected, "held_gates: {held_gates}");
        assert!(starts(&fx).is_empty(), "no agent starts: {fx:?}");
        assert_eq!(s.is_idle(), !held_gates, "the command waits for the gate");
        if held_gates {
            // An environment fault ends it: the gate waits for a resume.
            s.report(Report::Gated {
                task: id("a"),
                attempt: 1,
                result: GateResult::Environment {
                    message: "disk full".into(),
                },
            });
            assert!(s.is_idle());
            assert_eq!(status(&s, "a"), Status::Verifying { attempt: 1 });
        }
    }
}
