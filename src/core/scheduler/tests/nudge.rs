//! Nudge and restart of a running attempt; stalls and agent reports as
//! recorded by the scheduler.

use super::*;
use crate::core::supervisor::ReportKind;

fn running() -> Scheduler {
    let limits = Limits {
        max_attempts: 2,
        ..limits(1)
    };
    let (s, fx) = sched_with(vec![spec("a", &[], "sim")], limits);
    assert_eq!(starts(&fx), vec![("a".to_string(), 1)]);
    s
}

fn nudge(s: &mut Scheduler, message: &str) -> Result<Vec<Effect>, CommandError> {
    s.command(Command::Nudge {
        task: id("a"),
        message: message.into(),
    })
}

#[test]
fn a_nudge_stops_the_attempt_and_resumes_it_with_the_message_without_a_try() {
    let mut s = running();
    let fx = nudge(&mut s, "  stop running the tests, fix the import  ").unwrap();
    assert_eq!(signals(&fx), vec![("a".to_string(), Signal::Stop)]);
    assert!(recorded(&fx).contains(&&Event::Nudged {
        task: id("a"),
        message: "stop running the tests, fix the import".into()
    }));
    assert_eq!(
        status(&s, "a"),
        Status::Running { attempt: 1 },
        "until it exits"
    );
    let fx = exited(&mut s, "a", 1, AgentResult::Stopped);
    let req = start_request(&fx, "a");
    assert_eq!(req.attempt, 2);
    assert_eq!(req.workspace, Workspace::Continue, "same worktree");
    assert_eq!(
        req.continues,
        Some(Continuation {
            attempt: 1,
            resume_prompt: Some("stop running the tests, fix the import".into())
        })
    );
    assert!(
        req.prompt
            .contains("Attempt 1 was stopped to tell you this")
            && req
                .prompt
                .contains("> stop running the tests, fix the import"),
        "without a session the prompt carries it: {}",
        req.prompt
    );
    assert_eq!(
        s.task("a").unwrap().tries,
        1,
        "the nudged attempt is no try"
    );
    // With max_attempts = 2, a failure now still leaves one more try.
    exited(&mut s, "a", 2, failed("boom"));
    assert!(matches!(
        status(&s, "a"),
        Status::Queued { .. } | Status::Running { .. }
    ));
}

#[test]
fn a_restart_starts_the_attempt_again_in_the_same_worktree_without_a_try() {
    let mut s = running();
    let fx = s.command(Command::Restart { task: id("a") }).unwrap();
    assert_eq!(signals(&fx), vec![("a".to_string(), Signal::Stop)]);
    let fx = exited(&mut s, "a", 1, AgentResult::Stopped);
    let req = start_request(&fx, "a");
    assert_eq!((req.attempt, &req.workspace), (2, &Workspace::Continue));
    assert_eq!(req.prompt, "prompt of a", "started as before");
    assert_eq!(req.continues, None);
    assert_eq!(s.task("a").unwrap().tries, 1);
}

#[test]
fn nudge_and_restart_need_a_running_task_and_say_so_like_every_verb() {
    let mut s = running();
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    assert_eq!(status(&s, "a"), Status::Verifying { attempt: 1 });
    assert_eq!(
        nudge(&mut s, "hello").unwrap_err().to_string(),
        "task `a` is verifying: nudge needs a task that is running"
    );
    assert_eq!(
        s.command(Command::Restart { task: id("a") })
            .unwrap_err()
            .to_string(),
        "task `a` is verifying: restart needs a task that is running"
    );
    assert!(matches!(
        s.command(Command::Restart { task: id("nope") }),
        Err(CommandError::UnknownTask(_))
    ));
}

#[test]
fn an_empty_nudge_or_one_during_a_stop_is_refused_and_changes_nothing() {
    let mut s = running();
    assert!(
        nudge(&mut s, " \n ")
            .unwrap_err()
            .to_string()
            .contains("the message for the agent is empty")
    );
    s.command(Command::Drop { task: id("a") }).unwrap();
    assert!(
        nudge(&mut s, "hi")
            .unwrap_err()
            .to_string()
            .contains("it is being dropped")
    );
    let mut s = running();
    nudge(&mut s, "one").unwrap();
    let e = s.command(Command::Restart { task: id("a") }).unwrap_err();
    assert!(e.to_string().contains("already being stopped"), "{e}");
    assert_eq!(s.task("a").unwrap().feedback.as_ref().unwrap().text, "one");
}

#[test]
fn a_stall_marks_the_live_attempt_and_the_end_of_the_attempt_clears_it() {
    let mut s = running();
    let stale = s.report(Report::Stalled {
        task: id("a"),
        attempt: 7,
        why: "old".into(),
    });
    assert!(recorded(&stale).is_empty(), "not the live attempt: ignored");
    let fx = s.report(Report::Stalled {
        task: id("a"),
        attempt: 1,
        why: "repeats `Bash: ls` 5 times".into(),
    });
    assert!(recorded(&fx).contains(&&Event::Stalled {
        task: id("a"),
        attempt: 1,
        why: "repeats `Bash: ls` 5 times".into()
    }));
    assert!(fx.contains(&Effect::SaveTask { task: id("a") }));
    assert_eq!(
        s.task("a").unwrap().stalled.as_deref(),
        Some("repeats `Bash: ls` 5 times")
    );
    nudge(&mut s, "try something else").unwrap();
    exited(&mut s, "a", 1, AgentResult::Stopped);
    assert_eq!(
        s.task("a").unwrap().stalled,
        None,
        "the next attempt is not stalled"
    );
}

#[test]
fn an_agents_report_is_recorded_even_after_its_attempt_ended() {
    let mut s = running();
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    let fx = s.report(Report::AgentNote {
        task: id("a"),
        attempt: 1,
        kind: ReportKind::Found,
        text: "the parser has no tests".into(),
    });
    assert!(recorded(&fx).contains(&&Event::AgentReported {
        task: id("a"),
        attempt: 1,
        kind: ReportKind::Found,
        text: "the parser has no tests".into()
    }));
    let unknown = s.report(Report::AgentNote {
        task: id("zz"),
        attempt: 1,
        kind: ReportKind::Complexity,
        text: "x".into(),
    });
    assert!(recorded(&unknown).is_empty());
}
