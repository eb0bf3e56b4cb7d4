//! Agents' messages routed, the context store's commands, running agents
//! told of new entries.

use super::*;
use crate::core::supervisor::{AutonomyTable, ReportKind, Trigger};
use crate::core::team::{Author, ContextKind, MessageKind, Scope};

fn msg(s: &mut Scheduler, task: &str, attempt: u32, kind: MessageKind, text: &str) -> Vec<Effect> {
    msg_paths(s, task, attempt, kind, text, &[])
}

fn msg_paths(
    s: &mut Scheduler,
    task: &str,
    attempt: u32,
    kind: MessageKind,
    text: &str,
    paths: &[&str],
) -> Vec<Effect> {
    s.report(Report::Message {
        task: id(task),
        attempt,
        kind,
        text: text.into(),
        paths: paths.iter().map(|p| p.to_string()).collect(),
        time_ms: 100,
    })
}

fn saved_context(fx: &[Effect]) -> Vec<(u64, bool)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SaveContext { entry } => Some((entry.id, entry.retired)),
            _ => None,
        })
        .collect()
}

fn consults(fx: &[Effect]) -> Vec<&Trigger> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Consult { trigger, .. } => Some(trigger),
            _ => None,
        })
        .collect()
}

fn two_running(supervised: bool) -> Scheduler {
    let limits = Limits {
        supervisor: supervised.then(AutonomyTable::default),
        resumable: ["sim".to_string()].into(),
        ..limits(2)
    };
    let (s, fx) = sched_with(vec![spec("a", &[], "sim"), spec("b", &[], "sim")], limits);
    assert_eq!(starts(&fx).len(), 2);
    s
}

#[test]
fn messages_are_numbered_in_order_and_recorded() {
    let mut s = two_running(false);
    let fx = msg(&mut s, "a", 1, MessageKind::Query, "which port?");
    let Some(Event::Message { message }) = recorded(&fx).into_iter().next().cloned() else {
        panic!("no message event: {fx:?}");
    };
    assert_eq!(
        (message.id, message.kind, message.text.as_str()),
        (1, MessageKind::Query, "which port?")
    );
    let fx = msg(&mut s, "b", 1, MessageKind::Artifact, "docs/api.md");
    assert!(matches!(recorded(&fx)[0], Event::Message { message } if message.id == 2));
    assert_eq!(s.team().last_message, 2);
    assert!(
        saved_context(&fx).is_empty(),
        "an artifact is only recorded"
    );
    let fx = msg(&mut s, "nope", 1, MessageKind::Query, "x");
    assert!(fx.is_empty(), "an unknown task's message is not taken");
}

#[test]
fn a_blocker_marks_the_card_reaches_the_supervisor_and_the_next_decision_clears_it() {
    let mut s = two_running(true);
    let fx = msg(
        &mut s,
        "a",
        1,
        MessageKind::Blocker,
        "need the API's error shape",
    );
    assert_eq!(
        s.task("a").unwrap().blocker.as_deref(),
        Some("need the API's error shape")
    );
    assert!(fx.contains(&Effect::SaveTask { task: id("a") }));
    assert!(matches!(
        consults(&fx)[..],
        [Trigger::Reported {
            kind: ReportKind::Blocker,
            ..
        }]
    ));
    exited(&mut s, "a", 1, AgentResult::Succeeded);
    gated(&mut s, "a", 1, passed());
    assert!(matches!(status(&s, "a"), Status::Review { .. }));
    assert!(s.task("a").unwrap().blocker.is_some(), "kept into review");
    let fx = s.command(Command::Approve { task: id("a") }).unwrap();
    assert_eq!(s.task("a").unwrap().blocker, None);
    assert!(fx.contains(&Effect::SaveTask { task: id("a") }));
}

#[test]
fn a_blocker_is_cleared_by_the_tasks_next_attempt_and_an_old_attempts_is_ignored() {
    let mut s = two_running(false);
    msg(&mut s, "a", 1, MessageKind::Blocker, "stuck");
    let fx = exited(&mut s, "a", 1, failed("boom"));
    assert_eq!(start_request(&fx, "a").attempt, 2);
    assert_eq!(s.task("a").unwrap().blocker, None);
    msg(&mut s, "a", 1, MessageKind::Blocker, "late, from attempt 1");
    assert_eq!(s.task("a").unwrap().blocker, None);
}

#[test]
fn replan_reaches_the_supervisor_like_a_complexity_report_and_conflict_is_recorded() {
    let mut s = two_running(true);
    let fx = msg(&mut s, "a", 1, MessageKind::Replan, "two modules");
    assert!(matches!(
        consults(&fx)[..],
        [Trigger::Reported {
            kind: ReportKind::Complexity,
            ..
        }]
    ));
    let mut s = two_running(false);
    let fx = msg(&mut s, "a", 1, MessageKind::Replan, "two modules");
    assert!(consults(&fx).is_empty(), "no supervisor: recorded only");
    let fx = msg(&mut s, "a", 1, MessageKind::Conflict, "b edits my file");
    assert_eq!(recorded(&fx).len(), 1);
}

#[test]
fn a_decision_becomes_an_entry_and_the_other_running_task_is_told() {
    let mut s = two_running(false);
    let fx = msg(&mut s, "a", 1, MessageKind::Decision, "errors are JSON");
    assert_eq!(saved_context(&fx), vec![(1, false)]);
    let e = s.context().get(1).unwrap();
    assert_eq!(e.kind, ContextKind::Decision);
    assert!(matches!(&e.author, Author::Task { task, attempt: 1, .. } if task.as_str() == "a"));
    assert!(e.scope.is_everyone());
    assert_eq!(
        signals(&fx),
        vec![("b".to_string(), Signal::Stop)],
        "not its author"
    );
    assert!(recorded(&fx).contains(&&Event::ContextTold {
        task: id("b"),
        entries: vec![1],
        resumed: true
    }));
    // A second entry while b's stop is under way joins the same message.
    let fx = msg(&mut s, "a", 1, MessageKind::Contract, "GET /items");
    assert!(signals(&fx).is_empty(), "one stop");
    let fx = exited(&mut s, "b", 1, AgentResult::Stopped);
    let req = start_request(&fx, "b");
    let told = req
        .continues
        .as_ref()
        .unwrap()
        .resume_prompt
        .as_deref()
        .unwrap();
    assert!(
        told.contains("errors are JSON") && told.contains("GET /items"),
        "{told}"
    );
    assert_eq!(
        told.matches(crate::core::scheduler::team::TOLD_HEADING)
            .count(),
        1
    );
    // The same decision again (say, from a's retried attempt): recorded as
    // a message, but no second entry and nobody stopped to hear it twice.
    let fx = msg(&mut s, "a", 2, MessageKind::Decision, "errors are JSON");
    assert_eq!(recorded(&fx).len(), 1, "the message only: {fx:?}");
    assert!(saved_context(&fx).is_empty());
    assert!(signals(&fx).is_empty());
    assert_eq!(s.context().active().count(), 2);
}

#[test]
fn a_running_agent_that_cannot_resume_is_not_stopped_its_next_attempt_is_told() {
    let (mut s, fx) = sched_with(
        vec![spec("a", &[], "sim"), spec("b", &[], "sim")],
        limits(2), // no profile resumes
    );
    assert_eq!(starts(&fx).len(), 2);
    let fx = msg(&mut s, "a", 1, MessageKind::Decision, "errors are JSON");
    assert_eq!(saved_context(&fx), vec![(1, false)]);
    assert!(signals(&fx).is_empty(), "b keeps running: {fx:?}");
    assert!(recorded(&fx).contains(&&Event::ContextTold {
        task: id("b"),
        entries: vec![1],
        resumed: false
    }));
    assert!(matches!(
        s.task("b").unwrap().status,
        Status::Running { attempt: 1 }
    ));
}

#[test]
fn scoped_entries_reach_only_tasks_in_scope_and_progress_tells_no_one() {
    let mut s = two_running(false);
    let fx = msg_paths(
        &mut s,
        "a",
        1,
        MessageKind::Constraint,
        "no unsafe",
        &["src/core"],
    );
    assert_eq!(
        s.context().get(1).unwrap().scope.paths,
        vec!["src/core".to_string()]
    );
    assert!(signals(&fx).is_empty(), "b touches no file under src/core");
    let fx = msg(&mut s, "a", 1, MessageKind::Progress, "schema done");
    assert!(signals(&fx).is_empty());
    let fx = msg(&mut s, "a", 1, MessageKind::Progress, "API 60%");
    assert_eq!(
        saved_context(&fx),
        vec![(2, true), (3, false)],
        "the previous progress retired"
    );
    assert!(recorded(&fx).contains(&&Event::ContextRetired { id: 2 }));
    assert_eq!(s.context().get(3).unwrap().supersedes, Some(2));
}

#[test]
fn the_users_context_commands_change_the_store_with_clear_errors() {
    let mut s = two_running(false);
    let add = |text: &str, scope: Scope| Command::AddContext {
        kind: ContextKind::Convention,
        text: text.into(),
        scope,
        supersedes: None,
    };
    let err = s.command(add("  ", Scope::default())).unwrap_err();
    assert_eq!(err.to_string(), "the text of a context entry is empty");
    let scope = Scope {
        tasks: vec![id("zzz")],
        ..Scope::default()
    };
    assert!(
        s.command(add("x", scope))
            .unwrap_err()
            .to_string()
            .contains("zzz")
    );
    let scope = Scope {
        paths: vec!["../x".into()],
        ..Scope::default()
    };
    assert!(
        s.command(add("x", scope))
            .unwrap_err()
            .to_string()
            .contains("`..`")
    );
    let scope = Scope {
        tasks: vec![id("b")],
        ..Scope::default()
    };
    let fx = s.command(add("snake_case", scope)).unwrap();
    assert_eq!(saved_context(&fx), vec![(1, false)]);
    assert_eq!(
        signals(&fx),
        vec![("b".to_string(), Signal::Stop)],
        "the user's entry tells b"
    );
    let fx = s
        .command(Command::EditContext {
            id: 1,
            text: "kebab-case".into(),
            scope: Scope::default(),
        })
        .unwrap();
    assert!(
        matches!(recorded(&fx)[0], Event::ContextEdited { entry } if entry.text == "kebab-case")
    );
    s.command(Command::RetireContext { id: 1 }).unwrap();
    let err = s.command(Command::RetireContext { id: 1 }).unwrap_err();
    assert!(err.to_string().contains("entry 1 is retired"), "{err}");
    let err = s.command(Command::RetireContext { id: 5 }).unwrap_err();
    assert!(err.to_string().contains("no context entry 5"), "{err}");
}
