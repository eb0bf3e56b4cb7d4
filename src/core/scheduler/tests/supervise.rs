//! The supervisor in the scheduler: consultations, proposals, autonomy, history.

use super::*;
use crate::core::messages::{ConsultResult, Spend};
use crate::core::planner::{Action, ActionKind};
use crate::core::supervisor::{Autonomy, AutonomyTable, Origin, ReportKind, Trigger};

fn supervised(specs: Vec<TaskSpec>, autonomy: AutonomyTable) -> (Scheduler, Vec<Effect>) {
    let limits = Limits {
        max_parallel: 2,
        max_attempts: 2,
        supervisor: Some(autonomy),
        ..Limits::default()
    };
    sched_with(specs, limits)
}

fn consults(fx: &[Effect]) -> Vec<(u64, Trigger)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Consult { consult, trigger } => Some((*consult, trigger.clone())),
            _ => None,
        })
        .collect()
}

fn events(fx: &[Effect]) -> Vec<&Event> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Record { event, .. } => Some(event),
            _ => None,
        })
        .collect()
}

fn plan_changes(fx: &[Effect]) -> Vec<(Origin, bool, Vec<String>)> {
    events(fx)
        .into_iter()
        .filter_map(|e| match e {
            Event::PlanChanged {
                origin,
                auto,
                changes,
                ..
            } => Some((*origin, *auto, changes.clone())),
            _ => None,
        })
        .collect()
}

fn answer(specs: Vec<TaskSpec>, actions: Vec<Action>) -> ConsultResult {
    ConsultResult::Answer {
        reasoning: Some("because".into()),
        specs,
        actions,
        warnings: vec![],
        rounds: 1,
        spend: Spend {
            usd: 0.25,
            tokens: 100,
        },
    }
}

fn proposed_id(fx: &[Effect]) -> u64 {
    events(fx)
        .into_iter()
        .find_map(|e| match e {
            Event::Proposed { proposal } => Some(proposal.id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no proposal in {fx:#?}"))
}

#[test]
fn without_a_supervisor_a_goal_is_refused_with_the_fix() {
    let (mut s, _) = sched_with(vec![], limits(1));
    let e = s
        .command(Command::Plan { goal: "x".into() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("add [supervisor] agent"), "{e}");
}

#[test]
fn a_goal_is_consulted_proposed_confirmed_and_recorded() {
    let (mut s, _) = supervised(vec![], AutonomyTable::default());
    let fx = s
        .command(Command::Plan {
            goal: "  Add login ".into(),
        })
        .unwrap();
    assert_eq!(
        consults(&fx),
        [(
            1,
            Trigger::Goal {
                goal: "Add login".into()
            }
        )]
    );
    let fx = s.report(Report::Proposed {
        consult: 1,
        result: answer(
            vec![spec("login", &[], "sim"), spec("tests", &["login"], "sim")],
            vec![],
        ),
    });
    let p = proposed_id(&fx);
    assert!(
        s.tasks().is_empty(),
        "nothing applies before the user confirms"
    );
    assert!(starts(&fx).is_empty());
    assert_eq!(s.supervisor_state().spent.tokens, 100);

    // The second change needs the first: turning the first off alone is refused.
    let e = s
        .command(Command::ConfirmProposal {
            proposal: p,
            off: vec![1],
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs it"), "{e}");
    let fx = s
        .command(Command::ConfirmProposal {
            proposal: p,
            off: vec![2],
        })
        .unwrap();
    assert_eq!(s.tasks().len(), 1);
    assert_eq!(starts(&fx), [("login".to_string(), 1)]);
    assert_eq!(
        plan_changes(&fx),
        [(
            Origin::Supervisor,
            false,
            vec!["add `login`: Title of login".to_string()]
        )]
    );
    let reason = events(&fx)
        .into_iter()
        .find_map(|e| match e {
            Event::PlanChanged { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(reason, "goal: Add login — because");
    assert_eq!(s.pending_proposals().count(), 0);
    let again = s.command(Command::ConfirmProposal {
        proposal: p,
        off: vec![],
    });
    assert!(again.unwrap_err().to_string().contains("is not waiting"));
}

#[test]
fn a_task_that_fails_for_good_is_split_by_itself_under_auto() {
    let autonomy = AutonomyTable {
        split: Autonomy::Auto,
        ..AutonomyTable::default()
    };
    let (mut s, _) = supervised(vec![spec("api", &[], "sim")], autonomy);
    exited(&mut s, "api", 1, failed("boom"));
    let fx = exited(&mut s, "api", 2, failed("boom again"));
    assert!(matches!(status(&s, "api"), Status::Failed { .. }));
    let [(consult, Trigger::Failed { task, .. })] = &consults(&fx)[..] else {
        panic!("{fx:#?}")
    };
    assert_eq!(task.as_str(), "api");
    let mut a = spec("api-1", &[], "sim");
    a.split_from = Some(id("api"));
    let mut b = spec("api-2", &["api-1"], "alt");
    b.split_from = Some(id("api"));
    let fx = s.report(Report::Proposed {
        consult: *consult,
        result: answer(vec![a, b], vec![]),
    });
    assert_eq!(status(&s, "api"), Status::Dropped);
    assert_eq!(starts(&fx), [("api-1".to_string(), 1)]);
    let changes = plan_changes(&fx);
    assert_eq!(changes.len(), 1);
    assert!(changes[0].1, "recorded as applied by itself");
    assert_eq!(
        changes[0].2,
        [
            "add `api-1`: Title of api-1 (part of `api`)",
            "add `api-2`: Title of api-2 (part of `api`)",
            "drop `api`: Title of api"
        ]
    );
}

#[test]
fn a_user_reject_is_not_sent_to_the_supervisor() {
    let (mut s, _) = supervised(vec![spec("a", &[], "sim")], AutonomyTable::default());
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    let fx = s.command(Command::Reject { task: id("a") }).unwrap();
    assert!(consults(&fx).is_empty());
}

#[test]
fn consultations_run_one_at_a_time_and_a_stale_answer_is_ignored() {
    let (mut s, _) = supervised(vec![spec("a", &[], "sim")], AutonomyTable::default());
    let fx = s.command(Command::Plan { goal: "one".into() }).unwrap();
    assert_eq!(consults(&fx).len(), 1);
    let fx = s.report(Report::AgentNote {
        task: id("a"),
        attempt: 1,
        kind: ReportKind::Found,
        text: "the API needs paging".into(),
    });
    assert!(consults(&fx).is_empty(), "queued behind the goal");
    assert!(
        events(&fx)
            .iter()
            .any(|e| matches!(e, Event::AgentReported { .. }))
    );
    // An answer to a consultation that is not in flight changes nothing.
    let fx = s.report(Report::Proposed {
        consult: 7,
        result: answer(vec![spec("x", &[], "sim")], vec![]),
    });
    assert!(fx.is_empty());
    let fx = s.report(Report::Proposed {
        consult: 1,
        result: ConsultResult::Failed {
            message: "timed out".into(),
            spend: Spend::default(),
        },
    });
    let ended = events(&fx)
        .into_iter()
        .find_map(|e| match e {
            Event::ConsultEnded { message, .. } => Some(message.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(ended, "the supervisor could not plan: timed out");
    let [(2, Trigger::Reported { kind, .. })] = &consults(&fx)[..] else {
        panic!("the report is consulted next: {fx:#?}")
    };
    assert_eq!(*kind, ReportKind::Found);
}

#[test]
fn a_stall_marks_the_card_once_and_ends_with_the_attempt() {
    let (mut s, _) = supervised(vec![spec("a", &[], "sim")], AutonomyTable::default());
    let stall = |s: &mut Scheduler| {
        s.report(Report::Stalled {
            task: id("a"),
            attempt: 1,
            why: "repeats `Bash: ls` 6 times".into(),
        })
    };
    let fx = stall(&mut s);
    assert_eq!(consults(&fx).len(), 1);
    assert_eq!(
        s.task("a").unwrap().stalled.as_deref(),
        Some("repeats `Bash: ls` 6 times")
    );
    assert!(stall(&mut s).is_empty(), "said once");
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert_eq!(s.task("a").unwrap().stalled, None);
    // A stall of an attempt that is not live is stale.
    assert!(
        s.report(Report::Stalled {
            task: id("a"),
            attempt: 9,
            why: "x".into()
        })
        .is_empty()
    );
}

#[test]
fn a_question_shows_until_the_user_decides() {
    let (mut s, _) = supervised(vec![spec("a", &[], "sim")], AutonomyTable::default());
    exited(&mut s, "a", 1, failed("x"));
    let fx = exited(&mut s, "a", 2, failed("y"));
    let (consult, _) = consults(&fx)[0].clone();
    let ask = Action {
        kind: ActionKind::Ask,
        task: id("a"),
        message: Some("Which OAuth provider?".into()),
    };
    let fx = s.report(Report::Proposed {
        consult,
        result: answer(vec![spec("a", &[], "sim")], vec![ask]),
    });
    let p = proposed_id(&fx);
    s.command(Command::ConfirmProposal {
        proposal: p,
        off: vec![],
    })
    .unwrap();
    assert_eq!(
        s.task("a").unwrap().question.as_deref(),
        Some("Which OAuth provider?")
    );
    s.command(Command::Retry { task: id("a") }).unwrap();
    assert_eq!(s.task("a").unwrap().question, None);
}

#[test]
fn feedback_goes_back_for_another_round_and_a_changed_plan_is_shown_again() {
    let (mut s, _) = supervised(
        vec![spec("a", &[], "sim"), spec("q", &["a"], "sim")],
        AutonomyTable::default(),
    );
    s.command(Command::Plan { goal: "g".into() }).unwrap();
    let keep = vec![spec("a", &[], "sim"), spec("q", &["a"], "sim")];
    let fx = s.report(Report::Proposed {
        consult: 1,
        result: answer([keep, vec![spec("b", &[], "sim")]].concat(), vec![]),
    });
    let p = proposed_id(&fx);
    // The user drops the queued `q` meanwhile: the proposal's diff changes.
    s.command(Command::Drop { task: id("q") }).unwrap();
    let e = s.command(Command::ConfirmProposal {
        proposal: p,
        off: vec![],
    });
    assert!(e.unwrap_err().to_string().contains("look at it again"));
    let fx = s
        .command(Command::ProposalFeedback {
            proposal: p,
            feedback: "no b please".into(),
        })
        .unwrap();
    let [(2, Trigger::Feedback { on, feedback })] = &consults(&fx)[..] else {
        panic!("{fx:#?}")
    };
    assert_eq!(feedback, "no b please");
    assert!(matches!(**on, Trigger::Goal { .. }));
    assert_eq!(s.pending_proposals().count(), 0);
}

#[test]
fn the_users_own_plan_changes_are_recorded_too() {
    let (mut s, _) = supervised(vec![spec("a", &[], "sim")], AutonomyTable::default());
    let fx = s
        .command(Command::Batch {
            commands: vec![
                Command::Add {
                    spec: spec("b", &[], "sim"),
                },
                Command::Drop { task: id("a") },
            ],
        })
        .unwrap();
    assert_eq!(
        plan_changes(&fx),
        [(
            Origin::User,
            false,
            vec!["add `b`".to_string(), "drop `a`".to_string()]
        )]
    );
}

#[test]
fn an_interrupted_consultation_is_asked_again_at_start() {
    let (mut s, _) = supervised(vec![], AutonomyTable::default());
    s.command(Command::Plan { goal: "g".into() }).unwrap();
    let saved = s.supervisor_state().clone();
    let mut again = Scheduler::new(
        Limits {
            supervisor: Some(AutonomyTable::default()),
            ..Limits::default()
        },
        ["sim".to_string()],
        vec![],
        false,
    );
    again.restore_supervisor(saved);
    let fx = again.start();
    assert_eq!(
        consults(&fx),
        [(2, Trigger::Goal { goal: "g".into() })],
        "a new number: the first transcript is kept"
    );
}

#[test]
fn an_edit_of_fleet_toml_is_offered_as_a_proposal_that_undoes_nothing_else() {
    let seen = vec![
        spec("a", &[], "sim"),
        spec("b", &["a"], "sim"),
        spec("c", &["a"], "sim"),
    ];
    let mut tasks: Vec<Task> = seen.iter().cloned().map(Task::new).collect();
    // Reassigned in the cockpit since: fleet.toml still says `sim`.
    tasks[2].spec.agent = "alt".into();
    tasks.push(Task::new(spec("extra", &[], "sim"))); // added by the CLI
    let mut s = Scheduler::new(
        Limits {
            max_parallel: 0,
            ..Limits::default()
        },
        ["sim".to_string(), "alt".to_string()],
        tasks,
        false,
    );
    let mut now = seen.clone();
    now[1].prompt = "a better prompt".into(); // edited in fleet.toml
    now.remove(0); // taken out of fleet.toml
    s.offer_config(&now, &seen);
    let fx = s.start();
    let p = events(&fx)
        .into_iter()
        .find_map(|e| match e {
            Event::Proposed { proposal } => Some(proposal.clone()),
            _ => None,
        })
        .expect("offered at start");
    assert_eq!(p.origin, Origin::Config);
    let lines = &s.supervisor_state().pending[0].1;
    assert_eq!(lines, &["edit `b`: prompt", "drop `a`: Title of a"]);
    // Discarded, the same edit is not offered again at the next start.
    s.command(Command::DiscardProposal { proposal: p.id })
        .unwrap();
    s.offer_config(&now, &seen);
    let fx = s.start();
    assert!(
        !events(&fx)
            .iter()
            .any(|e| matches!(e, Event::Proposed { .. }))
    );
}

#[test]
fn a_waiting_proposal_the_plan_caught_up_with_is_dropped() {
    let (mut s, _) = supervised(vec![], AutonomyTable::default());
    s.command(Command::Plan { goal: "one".into() }).unwrap();
    let fx = s.report(Report::Proposed {
        consult: 1,
        result: answer(vec![spec("a", &[], "sim")], vec![]),
    });
    let first = proposed_id(&fx);
    s.command(Command::Plan {
        goal: "again".into(),
    })
    .unwrap();
    let fx = s.report(Report::Proposed {
        consult: 2,
        result: answer(vec![spec("a", &[], "sim")], vec![]),
    });
    let second = proposed_id(&fx);
    let fx = s
        .command(Command::ConfirmProposal {
            proposal: second,
            off: vec![],
        })
        .unwrap();
    assert!(
        events(&fx)
            .iter()
            .any(|e| matches!(e, Event::ProposalDiscarded { proposal } if *proposal == first)),
        "{fx:#?}"
    );
    assert_eq!(s.pending_proposals().count(), 0);
}
