//! Fan-out: candidates added when the task would start, settle → Comparing,
//! pick, drop, retry, and a restart restoring candidates.

use super::*;

fn fan(name: &str, deps: &[&str]) -> TaskSpec {
    TaskSpec {
        fanout: vec!["sim".into(), "alt".into()],
        ..spec(name, deps, "sim")
    }
}

fn one_try() -> Limits {
    Limits {
        max_attempts: 1,
        ..limits(4)
    }
}

fn ids(s: &Scheduler) -> Vec<String> {
    s.tasks().iter().map(|t| t.id().to_string()).collect()
}

fn discards(fx: &[Effect]) -> Vec<(String, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::DiscardCandidate { task, parent } => {
                Some((task.to_string(), parent.to_string()))
            }
            _ => None,
        })
        .collect()
}

fn to_review(s: &mut Scheduler, task: &str, attempt: u32) {
    exited(s, task, attempt, AgentResult::Succeeded);
    gated(s, task, attempt, passed());
}

#[test]
fn a_ready_fan_out_task_adds_one_candidate_per_profile_right_after_it() {
    let (s, fx) = sched_with(vec![fan("t", &[]), spec("z", &[], "sim")], one_try());
    assert_eq!(ids(&s), ["t", "t--sim", "t--alt", "z"]);
    assert_eq!(status(&s, "t"), Status::FannedOut);
    let c = s.task("t--alt").unwrap();
    assert_eq!(c.spec.agent, "alt");
    assert_eq!(c.spec.candidate_of, Some(id("t")));
    assert_eq!(c.spec.title, "Title of t (alt)");
    assert_eq!(start_request(&fx, "t--alt").prompt, "prompt of t");
    let mut started = starts(&fx);
    started.sort();
    assert_eq!(
        started,
        [("t--alt".into(), 1), ("t--sim".into(), 1), ("z".into(), 1)]
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Record {
        event: Event::FannedOut { task, candidates }, ..
    } if task.as_str() == "t" && candidates.len() == 2)));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveTask { task } if task.as_str() == "t--sim"))
    );
}

#[test]
fn a_fan_out_task_waits_for_its_dependencies_like_any_task() {
    let (mut s, _) = sched_with(vec![spec("a", &[], "sim"), fan("t", &["a"])], one_try());
    assert_eq!(ids(&s), ["a", "t"]);
    let fx = complete(&mut s, "a", 1);
    assert_eq!(status(&s, "t"), Status::FannedOut);
    assert_eq!(s.task("t--sim").unwrap().spec.deps, vec![id("a")]);
    assert_eq!(starts(&fx).len(), 2);
}

#[test]
fn settled_candidates_make_the_task_comparing_and_a_retry_of_one_fans_it_out_again() {
    let (mut s, _) = sched_with(vec![fan("t", &[])], one_try());
    to_review(&mut s, "t--sim", 1);
    assert_eq!(status(&s, "t"), Status::FannedOut);
    exited(&mut s, "t--alt", 1, failed("boom"));
    assert!(matches!(status(&s, "t--alt"), Status::Failed { .. }));
    assert_eq!(status(&s, "t"), Status::Comparing);
    let fx = s.command(Command::Retry { task: id("t--alt") }).unwrap();
    assert_eq!(starts(&fx), [("t--alt".into(), 2)]);
    assert_eq!(status(&s, "t"), Status::FannedOut);
}

#[test]
fn a_candidate_is_not_approved_but_picked_and_the_others_are_discarded() {
    let (mut s, _) = sched_with(vec![fan("t", &[]), spec("after", &["t"], "sim")], one_try());
    to_review(&mut s, "t--sim", 1);
    to_review(&mut s, "t--alt", 1);
    assert_eq!(status(&s, "t"), Status::Comparing);
    let e = s
        .command(Command::Approve { task: id("t--alt") })
        .unwrap_err();
    assert!(
        e.to_string().contains("pick it: `fleetdeck pick t t--alt`"),
        "{e}"
    );
    let e = s
        .command(Command::Pick {
            task: id("t"),
            candidate: id("after"),
        })
        .unwrap_err();
    assert!(e.to_string().contains("not a candidate of `t`"), "{e}");
    let fx = s
        .command(Command::Pick {
            task: id("t"),
            candidate: id("t--alt"),
        })
        .unwrap();
    assert_eq!(discards(&fx), [("t--sim".into(), "t".into())]);
    assert_eq!(status(&s, "t--sim"), Status::Dropped);
    assert_eq!(merges(&fx), ["t--alt"]);
    assert!(fx.iter().any(|e| matches!(e, Effect::Record {
        event: Event::Picked { candidate, discarded, .. }, ..
    } if candidate.as_str() == "t--alt" && discarded.len() == 1)));
    let fx = merged(&mut s, "t--alt");
    assert_eq!(
        status(&s, "t"),
        Status::Done {
            commit: "m-t--alt".into()
        }
    );
    assert_eq!(starts(&fx), [("after".into(), 1)]);
}

#[test]
fn only_a_comparing_task_and_a_candidate_in_review_can_be_picked() {
    let (mut s, _) = sched_with(vec![fan("t", &[])], one_try());
    to_review(&mut s, "t--sim", 1);
    let e = s
        .command(Command::Pick {
            task: id("t"),
            candidate: id("t--sim"),
        })
        .unwrap_err();
    assert!(e.to_string().contains("is fanned out"), "{e}");
    exited(&mut s, "t--alt", 1, failed("boom"));
    let e = s
        .command(Command::Pick {
            task: id("t"),
            candidate: id("t--alt"),
        })
        .unwrap_err();
    assert!(e.to_string().contains("only a candidate in review"), "{e}");
}

#[test]
fn dropping_the_task_drops_its_candidates_stopping_running_ones() {
    let (mut s, _) = sched_with(vec![fan("t", &[])], one_try());
    to_review(&mut s, "t--sim", 1);
    let fx = s.command(Command::Drop { task: id("t") }).unwrap();
    assert_eq!(status(&s, "t"), Status::Dropped);
    assert_eq!(status(&s, "t--sim"), Status::Dropped);
    assert_eq!(signals(&fx), [("t--alt".into(), Signal::Stop)]);
    exited(&mut s, "t--alt", 1, AgentResult::Stopped);
    assert_eq!(status(&s, "t--alt"), Status::Dropped);
}

#[test]
fn retry_of_a_comparing_task_whose_candidates_failed_fans_out_afresh() {
    let (mut s, _) = sched_with(vec![fan("t", &[])], one_try());
    exited(&mut s, "t--sim", 1, failed("a"));
    to_review(&mut s, "t--alt", 1);
    let e = s.command(Command::Retry { task: id("t") }).unwrap_err();
    assert!(
        e.to_string().contains("candidates in review (t--alt)"),
        "{e}"
    );
    s.command(Command::Reject { task: id("t--alt") }).unwrap();
    assert_eq!(status(&s, "t"), Status::Comparing);
    let fx = s.command(Command::Retry { task: id("t") }).unwrap();
    let mut d = discards(&fx);
    d.sort();
    assert_eq!(
        d,
        [("t--alt".into(), "t".into()), ("t--sim".into(), "t".into())]
    );
    assert_eq!(status(&s, "t"), Status::FannedOut);
    let mut started = starts(&fx);
    started.sort();
    assert_eq!(started, [("t--alt-2".into(), 1), ("t--sim-2".into(), 1)]);
}

#[test]
fn fan_out_command_checks_the_profiles_and_fans_out_at_once_when_ready() {
    let (mut s, _) = sched_with(
        vec![spec("a", &[], "sim"), spec("t", &["a"], "sim")],
        one_try(),
    );
    let e = s
        .command(Command::FanOut {
            task: id("t"),
            agents: vec!["sim".into()],
        })
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("task `t`: fanout needs at least two"),
        "{e}"
    );
    let e = s
        .command(Command::FanOut {
            task: id("a"),
            agents: vec!["sim".into(), "alt".into()],
        })
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("fan out needs a task that is queued"),
        "{e}"
    );
    s.command(Command::FanOut {
        task: id("t"),
        agents: vec!["sim".into(), "alt".into()],
    })
    .unwrap();
    assert_eq!(status(&s, "t"), Status::Queued { held: false });
    complete(&mut s, "a", 1);
    assert_eq!(status(&s, "t"), Status::FannedOut);
    assert!(s.task("t--alt").is_some());
}

#[test]
fn a_restart_keeps_the_candidates_and_reruns_the_interrupted_ones() {
    let (mut s, _) = sched_with(vec![fan("t", &[])], one_try());
    to_review(&mut s, "t--sim", 1);
    // Tasks loaded in another order: the candidates come back right after their parent.
    let mut saved: Vec<Task> = s.tasks().to_vec();
    let parent = saved.remove(0);
    saved.push(parent);
    let order: Vec<&str> = saved.iter().map(|t| t.id().as_str()).collect();
    assert_eq!(order, ["t--sim", "t--alt", "t"]);
    let mut again = Scheduler::new(
        one_try(),
        ["sim".to_string(), "alt".to_string()],
        saved,
        false,
    );
    again.start();
    assert_eq!(status(&again, "t"), Status::FannedOut);
    assert!(matches!(status(&again, "t--sim"), Status::Review { .. }));
    assert_eq!(status(&again, "t--alt"), Status::Queued { held: false });
    assert!(again.fleet_paused());
    let fx = again.command(Command::ResumeFleet).unwrap();
    assert_eq!(starts(&fx), [("t--alt".into(), 2)]);
    assert_eq!(ids(&again), ["t", "t--sim", "t--alt"]);
}

#[test]
fn a_paused_fleet_fans_out_but_starts_no_candidate() {
    let tasks = vec![Task::new(fan("t", &[]))];
    let mut s = Scheduler::new(
        one_try(),
        ["sim".to_string(), "alt".to_string()],
        tasks,
        true,
    );
    let fx = s.start();
    assert_eq!(status(&s, "t"), Status::FannedOut);
    assert!(starts(&fx).is_empty());
    assert_eq!(status(&s, "t--sim"), Status::Queued { held: false });
}

#[test]
fn an_added_task_with_a_bad_fanout_is_refused() {
    let (mut s, _) = sched_with(vec![], one_try());
    let mut bad = fan("n", &[]);
    bad.fanout = vec!["sim".into(), "ghost".into()];
    let e = s.command(Command::Add { spec: bad }).unwrap_err();
    assert!(
        e.to_string()
            .contains("task `n`: fanout names agent `ghost`"),
        "{e}"
    );
    s.command(Command::Add {
        spec: fan("n", &[]),
    })
    .unwrap();
    assert_eq!(status(&s, "n"), Status::FannedOut);
}

#[test]
fn a_failed_candidate_is_compared_not_sent_to_the_supervisor() {
    let limits = Limits {
        supervisor: Some(crate::core::supervisor::AutonomyTable::default()),
        ..one_try()
    };
    let (mut s, _) = sched_with(vec![fan("t", &[]), spec("x", &[], "sim")], limits);
    let fx = exited(&mut s, "t--sim", 1, failed("boom"));
    assert!(matches!(status(&s, "t--sim"), Status::Failed { .. }));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Consult { .. })),
        "{fx:#?}"
    );
    let fx = exited(&mut s, "x", 1, failed("boom"));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Consult { .. })),
        "{fx:#?}"
    );
}
