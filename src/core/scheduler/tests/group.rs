//! Task groups: members wait for each other, integrate, go back on a
//! failure that is theirs, and land together.

use super::*;
use crate::core::messages::IntegrationResult;

fn member(name: &str, role: &str) -> TaskSpec {
    TaskSpec {
        group: Some("calc".into()),
        role: Some(role.into()),
        ..spec(name, &[], "sim")
    }
}

/// impl, tests and docs of group `calc` started, plus an ungrouped `other`.
fn group_of_three() -> Scheduler {
    let specs = vec![
        member("impl", "implementer"),
        member("tests", "tester"),
        member("docs", "documenter"),
    ];
    let (s, fx) = sched_with(specs, limits(4));
    assert_eq!(starts(&fx).len(), 3);
    s
}

fn pass(s: &mut Scheduler, task: &str, attempt: u32) -> Vec<Effect> {
    let mut fx = exited(s, task, attempt, AgentResult::Succeeded);
    fx.extend(gated(s, task, attempt, passed()));
    fx
}

fn integrations(fx: &[Effect]) -> Vec<(String, Vec<(TaskId, u32)>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Integrate { group, members } => Some((group.clone(), members.clone())),
            _ => None,
        })
        .collect()
}

fn landings(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::MergeGroup { group, .. } => Some(group.clone()),
            _ => None,
        })
        .collect()
}

fn integrated(s: &mut Scheduler, result: IntegrationResult) -> Vec<Effect> {
    s.report(Report::Integrated {
        group: "calc".into(),
        result,
    })
}

/// The group's gate failed with an output that names no file.
fn gate_failed() -> IntegrationResult {
    IntegrationResult::VerifyFailed {
        command: "make".into(),
        output: "boom".into(),
        changed: vec![],
    }
}

/// All three passed their gates and integrated: returns the effects of the last gate.
fn all_grouped(s: &mut Scheduler) -> Vec<Effect> {
    assert!(integrations(&pass(s, "impl", 1)).is_empty());
    assert!(integrations(&pass(s, "tests", 1)).is_empty());
    pass(s, "docs", 1)
}

#[test]
fn a_member_that_passed_waits_for_its_group_then_the_group_integrates_once() {
    let mut s = group_of_three();
    pass(&mut s, "impl", 1);
    assert_eq!(status(&s, "impl"), Status::Grouped { attempt: 1 });
    assert!(!s.is_idle() || s.tasks().iter().any(|t| t.status.has_agent()));
    pass(&mut s, "tests", 1);
    let fx = pass(&mut s, "docs", 1);
    assert_eq!(
        integrations(&fx),
        vec![(
            "calc".to_string(),
            vec![(id("impl"), 1), (id("tests"), 1), (id("docs"), 1)]
        )]
    );
    assert!(!s.is_idle(), "an integration in flight is not idle");
    // Another input does not integrate it twice.
    assert!(integrations(&s.tick(1)).is_empty());
}

#[test]
fn a_passed_group_is_reviewed_and_one_approval_lands_all_of_it() {
    let mut s = group_of_three();
    all_grouped(&mut s);
    let fx = integrated(
        &mut s,
        IntegrationResult::Passed {
            commit: "abc".into(),
        },
    );
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Record {
            event: Event::GroupIntegrated { passed: true, .. },
            ..
        }
    )));
    for t in ["impl", "tests", "docs"] {
        assert_eq!(
            status(&s, t),
            Status::Review {
                attempt: 1,
                block: None
            }
        );
    }
    let fx = s.command(Command::Approve { task: id("tests") }).unwrap();
    for t in ["impl", "tests", "docs"] {
        assert_eq!(status(&s, t), Status::Merging { attempt: 1 });
    }
    assert!(merges(&fx).is_empty(), "members never merge one by one");
    assert_eq!(landings(&fx), vec!["calc".to_string()]);
    let fx = s.report(Report::GroupMerged {
        group: "calc".into(),
        result: MergeResult::Merged {
            commit: "land".into(),
        },
    });
    for t in ["impl", "tests", "docs"] {
        assert_eq!(
            status(&s, t),
            Status::Done {
                commit: "land".into()
            }
        );
    }
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Record { event: Event::GroupLanded { commit, .. }, .. } if commit == "land"
    )));
    assert!(s.is_idle());
}

#[test]
fn a_failing_group_gate_sends_the_implementer_back_with_the_output() {
    let mut s = group_of_three();
    all_grouped(&mut s);
    let fx = integrated(
        &mut s,
        IntegrationResult::VerifyFailed {
            command: "sh tests/calc_test.sh".into(),
            output: "FAIL tests/calc_test.sh: expected 4 got 5".into(),
            changed: vec![
                (id("impl"), vec!["calc.sh".into()]),
                (id("tests"), vec!["tests/calc_test.sh".into()]),
                (id("docs"), vec!["README.md".into()]),
            ],
        },
    );
    assert_eq!(starts(&fx), vec![("impl".to_string(), 2)]);
    let prompt = &start_request(&fx, "impl").prompt;
    assert!(
        prompt.contains("> FAIL tests/calc_test.sh: expected 4 got 5"),
        "{prompt}"
    );
    assert!(prompt.contains("group `calc`"), "{prompt}");
    assert!(
        prompt.contains("tests/calc_test.sh (from `tests`)"),
        "{prompt}"
    );
    assert_eq!(status(&s, "tests"), Status::Grouped { attempt: 1 });
    assert_eq!(status(&s, "docs"), Status::Grouped { attempt: 1 });
    // The fixed implementation passes its gate: the group integrates again.
    let fx = pass(&mut s, "impl", 2);
    assert_eq!(
        integrations(&fx),
        vec![(
            "calc".to_string(),
            vec![(id("impl"), 2), (id("tests"), 1), (id("docs"), 1)]
        )]
    );
}

#[test]
fn a_member_that_fails_the_group_too_often_fails() {
    let mut s = group_of_three();
    all_grouped(&mut s);
    for attempt in 2..=3 {
        integrated(&mut s, gate_failed());
        assert_eq!(status(&s, "impl"), Status::Running { attempt });
        pass(&mut s, "impl", attempt);
    }
    integrated(&mut s, gate_failed());
    assert!(
        matches!(status(&s, "impl"), Status::Failed { .. }),
        "{:?}",
        status(&s, "impl")
    );
}

#[test]
fn a_member_sent_back_that_changes_nothing_uses_its_attempts() {
    let mut s = group_of_three();
    all_grouped(&mut s);
    integrated(&mut s, gate_failed());
    for attempt in 2..=3 {
        exited(&mut s, "impl", attempt, AgentResult::Succeeded);
        gated(&mut s, "impl", attempt, GateResult::NoChanges);
    }
    assert!(
        matches!(status(&s, "impl"), Status::Failed { .. }),
        "never an endless loop of the same work: {:?}",
        status(&s, "impl")
    );
}

#[test]
fn a_conflict_sends_back_the_member_whose_merge_conflicted() {
    let mut s = group_of_three();
    all_grouped(&mut s);
    let fx = integrated(
        &mut s,
        IntegrationResult::Conflict {
            files: vec!["README.md".into()],
            members: vec![id("docs"), id("impl")],
        },
    );
    assert_eq!(starts(&fx), vec![("docs".to_string(), 2)]);
    let prompt = &start_request(&fx, "docs").prompt;
    assert!(prompt.contains("conflicts in: README.md"), "{prompt}");
    assert!(
        prompt.contains("`impl` changed these files too"),
        "{prompt}"
    );
    assert_eq!(status(&s, "impl"), Status::Grouped { attempt: 1 });
}

#[test]
fn changes_requested_on_one_member_send_the_others_back_to_wait() {
    let mut s = group_of_three();
    all_grouped(&mut s);
    integrated(&mut s, IntegrationResult::Passed { commit: "c".into() });
    s.command(Command::RequestChanges {
        task: id("docs"),
        feedback: "say more".into(),
    })
    .unwrap();
    assert!(matches!(status(&s, "docs"), Status::Running { attempt: 2 }));
    assert_eq!(status(&s, "impl"), Status::Grouped { attempt: 1 });
    assert_eq!(status(&s, "tests"), Status::Grouped { attempt: 1 });
}

#[test]
fn a_refused_landing_goes_back_to_review_with_the_files_and_a_conflict_integrates_again() {
    let mut s = group_of_three();
    all_grouped(&mut s);
    integrated(&mut s, IntegrationResult::Passed { commit: "c".into() });
    s.command(Command::Approve { task: id("impl") }).unwrap();
    s.report(Report::GroupMerged {
        group: "calc".into(),
        result: MergeResult::Refused {
            files: vec!["README.md".into()],
        },
    });
    assert_eq!(
        status(&s, "docs"),
        Status::Review {
            attempt: 1,
            block: Some(MergeBlock::Refused {
                files: vec!["README.md".into()]
            })
        }
    );
    s.command(Command::Approve { task: id("impl") }).unwrap();
    let fx = s.report(Report::GroupMerged {
        group: "calc".into(),
        result: MergeResult::Conflict {
            files: vec!["calc.sh".into()],
        },
    });
    assert_eq!(
        integrations(&fx).len(),
        1,
        "integrated again on the new tip"
    );
}

#[test]
fn overlaps_are_kept_on_both_tasks_and_recorded_once() {
    let mut s = group_of_three();
    let report = || Report::Overlap {
        task: id("impl"),
        other: id("docs"),
        file: "README.md".into(),
    };
    let fx = s.report(report());
    assert_eq!(
        s.task("docs").unwrap().overlaps,
        vec![crate::core::team::group::Overlap {
            file: "README.md".into(),
            other: id("impl")
        }]
    );
    assert_eq!(s.task("impl").unwrap().overlaps[0].other, id("docs"));
    let recorded = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| {
                matches!(
                    e,
                    Effect::Record {
                        event: Event::Overlap { .. },
                        ..
                    }
                )
            })
            .count()
    };
    assert_eq!(recorded(&fx), 1);
    // Raised as a conflict message of each task, naming the other.
    let conflicts: Vec<(String, String)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Record {
                event: Event::Message { message },
                ..
            } if message.kind == crate::core::team::MessageKind::Conflict => {
                Some((message.task.to_string(), message.text.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    assert!(conflicts.contains(&(
        "impl".into(),
        "README.md is also changed by `docs`, running in the same group".into()
    )));
    assert!(
        conflicts
            .iter()
            .any(|(t, x)| t == "docs" && x.contains("`impl`"))
    );
    let again = s.report(report());
    assert_eq!(recorded(&again), 0);
    assert!(
        !again.iter().any(|e| matches!(
            e,
            Effect::Record {
                event: Event::Message { .. },
                ..
            }
        )),
        "an overlap already known raises nothing"
    );
}

#[test]
fn an_ungrouped_task_still_goes_to_review() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], limits(1));
    pass(&mut s, "a", 1);
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
}

#[test]
fn after_a_restart_a_waiting_group_integrates_and_an_approved_one_lands() {
    let with = |status: Status| {
        let mut tasks: Vec<Task> = [member("impl", "implementer"), member("tests", "tester")]
            .into_iter()
            .map(Task::new)
            .collect();
        for t in &mut tasks {
            t.status = status.clone();
        }
        let mut s = Scheduler::new(limits(4), ["sim".to_string()], tasks, false);
        s.start()
    };
    let fx = with(Status::Grouped { attempt: 2 });
    assert_eq!(
        integrations(&fx),
        vec![("calc".to_string(), vec![(id("impl"), 2), (id("tests"), 2)])]
    );
    let fx = with(Status::Merging { attempt: 1 });
    assert_eq!(landings(&fx), vec!["calc".to_string()]);
    assert!(merges(&fx).is_empty());
}
