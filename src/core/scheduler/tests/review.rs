//! Review, merges, auto-approval, batches, events and recovery after a crash.

use super::*;

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
    assert_eq!(req.workspace, Workspace::Fresh { rejected: Some(1) });
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
        (req.attempt, req.workspace.clone()),
        (
            2,
            Workspace::Rollback {
                attempt: 1,
                otherwise: Box::new(Workspace::Continue)
            }
        )
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
        (req.agent.as_str(), req.workspace.clone()),
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
        "agent `gone` is not defined (add [agents.gone] to fleet.toml, or reassign the task: r)"
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

#[test]
fn an_attempt_killed_before_it_began_keeps_what_it_was_started_with() {
    let s = starting_over_after_a_reject();

    // The engine dies while attempt 2 prepares its fresh start: the next
    // start undoes attempt 2 if it began, else starts fresh again.
    let mut r = crash(&s, limits(1));
    r.start();
    let fx = r.command(Command::ResumeFleet).unwrap();
    let fresh_again = Workspace::Rollback {
        attempt: 2,
        otherwise: Box::new(Workspace::Fresh { rejected: Some(1) }),
    };
    assert_eq!(start_request(&fx, "a").workspace, fresh_again);

    // Killed again while preparing attempt 3: the chain keeps the intent.
    let mut r = crash(&r, limits(1));
    r.start();
    let fx = r.command(Command::ResumeFleet).unwrap();
    assert_eq!(
        start_request(&fx, "a").workspace,
        Workspace::Rollback {
            attempt: 3,
            otherwise: Box::new(fresh_again)
        }
    );
}
