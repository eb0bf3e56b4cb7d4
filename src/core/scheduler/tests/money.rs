//! Failure classes (rate limits, authentication, permissions), budgets, continuations.

use super::*;

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
fn a_task_budget_is_its_own_limit_else_the_default_against_spent_plus_live() {
    let b = crate::core::Budgets {
        task_usd: Some(1.0),
        ..Default::default()
    };
    let mut own = crate::core::Task::new(spec("own", &[], "sim"));
    own.spec.budget_usd = Some(3.0);
    own.spent = crate::core::Spend {
        usd: 1.5,
        tokens: 0,
    };
    assert_eq!(
        b.task_over(&own),
        None,
        "its own $3 wins over the $1 default"
    );
    own.live = crate::core::Spend {
        usd: 1.5,
        tokens: 0,
    };
    assert!(
        b.task_over(&own)
            .unwrap()
            .contains("$3.0000 spent of a $3.00 budget"),
        "what earlier attempts spent counts with the live one"
    );
    let plain = crate::core::Task::new(spec("plain", &[], "sim"));
    assert_eq!(b.task_over(&plain), None);
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

#[test]
fn an_interrupted_attempt_still_counts_against_the_budget() {
    let mut l = limits(1);
    l.budget.task_usd = Some(1.0);
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l.clone());
    used(&mut s, "a", 1, 0.7, 10);
    let mut r = Scheduler::new(
        l,
        ["sim".to_string(), "alt".to_string()],
        s.tasks().to_vec(),
        false,
    );
    r.start();
    assert_eq!(r.task("a").unwrap().spent.usd, 0.7);
    let fx = r.command(Command::ResumeFleet).unwrap();
    assert_eq!(starts(&fx), [("a".into(), 2)]);
    let fx = used(&mut r, "a", 2, 0.4, 10);
    assert_eq!(
        signals(&fx),
        [("a".into(), Signal::Pause)],
        "0.7 + 0.4 crosses 1.0"
    );
}

#[test]
fn an_environment_fault_is_retried_without_using_an_attempt_until_it_persists() {
    let mut l = limits(1);
    l.max_attempts = 1;
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim")], l);
    for n in 1..=super::reports::FREE_RATE_LIMITS {
        let fx = exited(
            &mut s,
            "a",
            n,
            fail_with(FailureClass::Environment, "the index is locked"),
        );
        assert_eq!(starts(&fx), [("a".into(), n + 1)], "retried at once");
        assert!(wakes(&fx).is_empty(), "no waiting: {fx:?}");
        assert!(
            s.task("a").unwrap().feedback.is_none(),
            "not the agent's fault"
        );
        assert_eq!(s.task("a").unwrap().tries, 1, "the fault did not count");
    }
    let last = super::reports::FREE_RATE_LIMITS + 1;
    exited(
        &mut s,
        "a",
        last,
        fail_with(FailureClass::Environment, "the index is locked"),
    );
    assert!(
        matches!(status(&s, "a"), Status::Failed { .. }),
        "a lasting fault ends in Failed: {:?}",
        status(&s, "a")
    );
}
