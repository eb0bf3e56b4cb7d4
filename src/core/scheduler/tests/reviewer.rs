//! The reviewer agent before the human: routing of verdicts, rounds, the
//! reset by a human decision, auto-approval, a failed review, a crash.

use super::*;
use crate::core::messages::{ReviewResult, Spend};
use crate::core::team::review::{ReviewComment, ReviewVerdict, Verdict};

fn with_review(rounds: u32, auto_approve: bool) -> Limits {
    Limits {
        review: Some(ReviewPolicy {
            rounds,
            auto_approve,
            roles: vec!["implementer".into(), "tester".into()],
        }),
        ..limits(2)
    }
}

fn verdict(v: Verdict, attempt: u32, round: u32) -> ReviewVerdict {
    ReviewVerdict {
        verdict: v,
        summary: "zero is not handled".into(),
        comments: vec![ReviewComment {
            file: "src/div.rs".into(),
            line: Some(7),
            text: "return an error for zero".into(),
            outside_diff: false,
        }],
        attempt,
        round,
        agent: "rev".into(),
        rank: None,
    }
}

fn reviewed(s: &mut Scheduler, attempt: u32, round: u32, v: Verdict) -> Vec<Effect> {
    s.report(Report::Reviewed {
        task: id("a"),
        attempt,
        round,
        result: ReviewResult::Verdict {
            verdict: verdict(v, attempt, round),
            spend: Spend {
                usd: 0.5,
                tokens: 10,
            },
        },
    })
}

fn reviews(fx: &[Effect]) -> Vec<(String, u32, u32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Review {
                task,
                attempt,
                round,
            } => Some((task.to_string(), *attempt, *round)),
            _ => None,
        })
        .collect()
}

fn recorded(fx: &[Effect]) -> Vec<(Actor, Event)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Record { actor, event } => Some((*actor, event.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_passed_gate_goes_to_the_reviewer_and_changes_go_back_to_the_agent_for_a_round() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], with_review(1, false));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 1, passed());
    assert_eq!(status(&s, "a"), Status::Reviewing { attempt: 1 });
    assert_eq!(reviews(&fx), [("a".into(), 1, 1)]);
    assert!(!s.is_idle(), "a review in flight keeps the engine running");

    let fx = reviewed(&mut s, 1, 1, Verdict::Changes);
    let start = start_request(&fx, "a");
    assert_eq!(start.attempt, 2);
    assert!(
        start
            .prompt
            .contains("> src/div.rs:7: return an error for zero"),
        "{}",
        start.prompt
    );
    assert!(
        start.prompt.contains("> Summary: zero is not handled"),
        "{}",
        start.prompt
    );
    let cont = start.continues.as_ref().unwrap();
    assert!(
        cont.resume_prompt
            .as_deref()
            .unwrap()
            .contains("src/div.rs:7:")
    );
    let t = s.task("a").unwrap();
    assert_eq!(t.review_rounds, 1);
    assert_eq!(t.spent.usd, 0.5);
    let events = recorded(&fx);
    assert!(events.iter().any(|(a, e)| *a == Actor::Engine
        && matches!(e, Event::ChangesRequested { feedback, .. } if feedback.starts_with("src/div.rs:7:"))));
    assert!(
        events
            .iter()
            .any(|(_, e)| matches!(e, Event::Reviewed { verdict, .. } if verdict.round == 1))
    );

    // The second round's changes reach the human: the rounds are used up.
    exited(&mut s, "a", 2, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 2, passed());
    assert_eq!(reviews(&fx), [("a".into(), 2, 2)]);
    assert!(
        s.task("a").unwrap().review.is_none(),
        "the old verdict goes with new work"
    );
    reviewed(&mut s, 2, 2, Verdict::Changes);
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 2,
            block: None
        }
    );
    let t = s.task("a").unwrap();
    assert_eq!(t.review.as_ref().map(|v| v.round), Some(2));
    assert_eq!(t.attempts, 2);
}

#[test]
fn an_approval_reaches_the_human_with_the_verdict_and_a_stale_one_is_ignored() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], with_review(2, false));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    assert!(
        reviewed(&mut s, 1, 2, Verdict::Changes).is_empty(),
        "wrong round"
    );
    assert!(
        reviewed(&mut s, 3, 1, Verdict::Changes).is_empty(),
        "wrong attempt"
    );
    reviewed(&mut s, 1, 1, Verdict::Approve);
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
    assert_eq!(
        s.task("a").unwrap().review.as_ref().map(|v| v.verdict),
        Some(Verdict::Approve)
    );
    assert!(
        reviewed(&mut s, 1, 1, Verdict::Changes).is_empty(),
        "no longer reviewing"
    );
}

#[test]
fn auto_approve_on_review_approves_as_the_user_would() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], with_review(1, true));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    let fx = reviewed(&mut s, 1, 1, Verdict::Approve);
    assert_eq!(merges(&fx), ["a"]);
    assert!(recorded(&fx).iter().any(|(a, e)| *a == Actor::User
        && matches!(
            e,
            Event::Status {
                to: Status::Merging { attempt: 1 },
                ..
            }
        )));
}

#[test]
fn a_failed_review_leaves_the_human_to_review_alone() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], with_review(1, true));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    let fx = s.report(Report::Reviewed {
        task: id("a"),
        attempt: 1,
        round: 1,
        result: ReviewResult::Failed {
            message: "the reviewer gave no valid verdict twice".into(),
            spend: Spend::default(),
        },
    });
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
    assert!(merges(&fx).is_empty(), "no auto-approval without a verdict");
    assert!(recorded(&fx).iter().any(|(_, e)| matches!(e,
        Event::ReviewFailed { message, attempt: 1, .. } if message.contains("no valid verdict"))));
}

#[test]
fn a_human_decision_starts_the_rounds_over() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], with_review(1, false));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    reviewed(&mut s, 1, 1, Verdict::Changes);
    exited(&mut s, "a", 2, AgentResult::Succeeded);
    gated(&mut s, "a", 2, passed());
    reviewed(&mut s, 2, 2, Verdict::Changes);
    assert_eq!(s.task("a").unwrap().review_rounds, 1);
    s.command(Command::RequestChanges {
        task: id("a"),
        feedback: "also log it".into(),
    })
    .unwrap();
    assert_eq!(s.task("a").unwrap().review_rounds, 0);
    exited(&mut s, "a", 3, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 3, passed());
    assert_eq!(reviews(&fx), [("a".into(), 3, 1)]);
    let fx = reviewed(&mut s, 3, 1, Verdict::Changes);
    assert_eq!(
        starts(&fx),
        [("a".into(), 4)],
        "a fresh round after the human's word"
    );
}

#[test]
fn roles_outside_the_review_go_straight_to_the_human() {
    let mut docs = spec("a", &[], "sim");
    docs.role = Some("documenter".into());
    let (mut s, _) = sched_with(vec![docs], with_review(1, false));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    let fx = gated(&mut s, "a", 1, passed());
    assert!(reviews(&fx).is_empty());
    assert_eq!(
        status(&s, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
}

#[test]
fn a_task_in_review_at_a_start_is_reviewed_again() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], with_review(1, false));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    let tasks = s.tasks().to_vec();
    let mut again = Scheduler::new(
        with_review(1, false),
        ["sim".to_string()],
        tasks.clone(),
        false,
    );
    assert_eq!(reviews(&again.start()), [("a".into(), 1, 1)]);
    reviewed(&mut again, 1, 1, Verdict::Approve);
    assert_eq!(
        status(&again, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
    // Without [review] any more, it goes to the human.
    let mut plain = Scheduler::new(limits(1), ["sim".to_string()], tasks, false);
    plain.start();
    assert_eq!(
        status(&plain, "a"),
        Status::Review {
            attempt: 1,
            block: None
        }
    );
}
