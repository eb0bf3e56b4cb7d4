use std::fs;
use std::path::Path;

use super::*;
use crate::agent::{AgentEvent, ClaudeParser, FailureClass, OutputParser, Verdict};

struct Run {
    dir: tempfile::TempDir,
    code: i32,
    stdout: String,
}

fn sim(script: &str, attempt: u32) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut out = Vec::new();
    let code = run_in(script, attempt, dir.path(), &mut out);
    let stdout = String::from_utf8(out).expect("utf-8 output");
    Run { dir, code, stdout }
}

/// The run's output through the Claude parser, and its verdict.
fn parsed(run: &Run) -> (Vec<AgentEvent>, Verdict, Option<String>) {
    let mut parser = ClaudeParser::new();
    let mut events = Vec::new();
    for line in run.stdout.lines() {
        let got = parser.line(line);
        assert!(
            !got.iter().any(|e| matches!(e, AgentEvent::Text { .. })),
            "line not understood by the claude parser: {line}"
        );
        events.extend(got);
    }
    events.extend(parser.finish());
    let verdict = parser.verdict(Some(run.code), "");
    (events, verdict, parser.session_id().map(str::to_owned))
}

fn read(dir: &Path, path: &str) -> String {
    fs::read_to_string(dir.join(path)).expect("file written")
}

fn messages(events: &[AgentEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Message { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn tool_calls(events: &[AgentEvent]) -> Vec<(&str, &str)> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolCall { name, arg, .. } => Some((name.as_str(), arg.as_str())),
            _ => None,
        })
        .collect()
}

fn tool_results(events: &[AgentEvent]) -> Vec<(bool, &str)> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolResult { ok, preview, .. } => Some((*ok, preview.as_str())),
            _ => None,
        })
        .collect()
}

fn last_usage(events: &[AgentEvent]) -> (u64, u64, Option<f64>) {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            AgentEvent::Usage {
                input_tokens,
                output_tokens,
                cost_usd,
            } => Some((*input_tokens, *output_tokens, *cost_usd)),
            _ => None,
        })
        .expect("a usage event")
}

#[test]
fn writes_appends_runs_and_reports_like_claude() {
    let script = "say starting\n\
                  write notes/a.txt hello\\nworld\n\
                  append notes/a.txt \\nmore\\\\stuff\n\
                  run cat notes/a.txt\n\
                  say done";
    let run = sim(script, 1);
    assert_eq!(run.code, 0);
    assert_eq!(
        read(run.dir.path(), "notes/a.txt"),
        "hello\nworld\nmore\\stuff"
    );

    let (events, verdict, session) = parsed(&run);
    assert_eq!(verdict, Verdict::Success);
    assert_eq!(session, Some(session_id(script, 1)));
    let file = run.dir.path().join("notes/a.txt").display().to_string();
    assert_eq!(
        tool_calls(&events),
        vec![
            ("Write", file.as_str()),
            ("Edit", file.as_str()),
            ("Bash", "cat notes/a.txt")
        ]
    );
    let results = tool_results(&events);
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|(ok, _)| *ok));
    assert!(results[0].1.starts_with("File created successfully at: "));
    assert_eq!(results[2].1, "hello …");
    assert_eq!(messages(&events), vec!["starting", "done"]);
    assert_eq!(
        events.last(),
        Some(&AgentEvent::Finished {
            is_error: false,
            summary: "done".to_owned()
        })
    );
}

#[test]
fn live_usage_estimates_match_the_result() {
    let run = sim("say one\nwrite f.txt x\nsay two\ncost 0.25\ncost 0.5", 1);
    let (events, _, _) = parsed(&run);
    let usages: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Usage { .. }))
        .collect();
    assert!(usages.len() >= 2, "live and final usage: {usages:?}");
    let (input, output, cost) = last_usage(&events);
    assert_eq!(cost, Some(0.75));
    // Two model calls (a new one after the tool result), same input each.
    let script_len = "say one\nwrite f.txt x\nsay two\ncost 0.25\ncost 0.5".len() as u64;
    assert_eq!(input, 2 * (script_len.div_ceil(4) + 100));
    assert!(output > 0);
    let before_result = usages.len() - 2;
    assert!(matches!(
        usages[before_result],
        AgentEvent::Usage { input_tokens, output_tokens, cost_usd: None }
            if *input_tokens == input && *output_tokens == output
    ));
}

#[test]
fn if_attempt_runs_only_on_its_attempt() {
    let script = "if-attempt 1 write f.txt one\n\
                  if-attempt 2 write f.txt two\n\
                  if-attempt 2 if-attempt 2 say nested\n\
                  if-attempt 3 plain words";
    let first = sim(script, 1);
    assert_eq!(read(first.dir.path(), "f.txt"), "one");
    assert!(messages(&parsed(&first).0).is_empty());

    let second = sim(script, 2);
    assert_eq!(read(second.dir.path(), "f.txt"), "two");
    assert_eq!(messages(&parsed(&second).0), vec!["nested"]);

    let third = sim(script, 3);
    assert!(!third.dir.path().join("f.txt").exists());
    assert_eq!(messages(&parsed(&third).0), vec!["plain words"]);

    assert_ne!(session_id(script, 1), session_id(script, 2));
}

#[test]
fn fail_stops_with_exit_code_1() {
    let run = sim("say hi\nfail tests are red\nwrite never.txt x", 1);
    assert_eq!(run.code, 1);
    assert!(!run.dir.path().join("never.txt").exists());
    let (events, verdict, _) = parsed(&run);
    assert_eq!(
        verdict,
        Verdict::Failure {
            class: FailureClass::Crash,
            message: "tests are red".to_owned()
        }
    );
    assert_eq!(
        events.last(),
        Some(&AgentEvent::Finished {
            is_error: true,
            summary: "tests are red".to_owned()
        })
    );
}

#[test]
fn a_failing_command_is_an_error_result_and_the_script_goes_on() {
    let run = sim("run echo oops >&2; exit 3\nsay after", 1);
    assert_eq!(run.code, 0);
    let (events, verdict, _) = parsed(&run);
    assert_eq!(verdict, Verdict::Success);
    assert_eq!(tool_results(&events), vec![(false, "Exit code 3 …")]);
    assert!(run.stdout.contains(r#""content":"Exit code 3\noops""#));
    assert_eq!(messages(&events), vec!["after"]);
}

#[test]
fn a_failing_directive_is_an_error_result_and_the_script_goes_on() {
    let run = sim("write f.txt x\nwrite f.txt/sub y\nsay still here", 1);
    assert_eq!(run.code, 0);
    let (events, verdict, _) = parsed(&run);
    assert_eq!(verdict, Verdict::Success);
    let results = tool_results(&events);
    assert_eq!(results.len(), 2);
    assert!(results[0].0);
    assert!(!results[1].0);
    assert!(results[1].1.starts_with("Error: "), "{results:?}");
    assert_eq!(messages(&events), vec!["still here"]);
}

#[test]
fn non_directives_are_echoed() {
    let script = "> feedback: write tests\n  write x.txt y\nsleep soon\nwrite\nhello there\n\n";
    let run = sim(script, 1);
    assert_eq!(run.code, 0);
    assert!(!run.dir.path().join("x.txt").exists());
    let (events, _, _) = parsed(&run);
    assert_eq!(
        messages(&events),
        vec![
            "> feedback: write tests",
            "write x.txt y",
            "sleep soon",
            "write",
            "hello there"
        ]
    );
    assert!(tool_calls(&events).is_empty());
}

#[test]
fn output_is_deterministic_and_sleep_counts_as_duration() {
    let script = "say a\nsleep 5\nrun true";
    let one = sim(script, 1);
    let two = sim(script, 1);
    let strip_cwd = |s: &str, dir: &Path| s.replace(&dir.display().to_string(), "<dir>");
    assert_eq!(
        strip_cwd(&one.stdout, one.dir.path()),
        strip_cwd(&two.stdout, two.dir.path())
    );
    assert!(one.stdout.contains(r#""duration_ms":5"#));
    assert!(one.stdout.contains("(Bash completed with no output)"));
}

#[test]
fn directives_parse() {
    assert_eq!(parse("say hi there"), Directive::Say("hi there"));
    assert_eq!(
        parse("write a/b.txt x y"),
        Directive::Write {
            path: "a/b.txt",
            text: "x y"
        }
    );
    assert_eq!(
        parse("write empty.txt"),
        Directive::Write {
            path: "empty.txt",
            text: ""
        }
    );
    assert_eq!(parse("sleep 10"), Directive::Sleep(10));
    assert_eq!(
        parse("msg decision errors are JSON"),
        Directive::Msg("decision", "errors are JSON")
    );
    assert_eq!(parse("msg decision"), Directive::Echo("msg decision"));
    assert_eq!(parse("context"), Directive::Context(""));
    assert_eq!(
        parse("context error shape"),
        Directive::Context("error shape")
    );
    assert_eq!(super::sh_quote("it's"), "'it'\\''s'");
    assert_eq!(parse("cost 0.5"), Directive::Cost(0.5));
    assert_eq!(parse("cost -1"), Directive::Echo("cost -1"));
    assert_eq!(parse("fail"), Directive::Fail(""));
    assert_eq!(
        parse("if-attempt 2 say x"),
        Directive::IfAttempt(2, "say x")
    );
    assert_eq!(
        parse("if-attempt two say x"),
        Directive::Echo("if-attempt two say x")
    );
    assert_eq!(parse(">say x"), Directive::Echo(">say x"));
    assert_eq!(parse("saying"), Directive::Echo("saying"));
}

#[test]
fn unescaping() {
    assert_eq!(unescape(r"a\nb"), "a\nb");
    assert_eq!(unescape(r"a\\nb"), "a\\nb");
    assert_eq!(unescape(r"tab\t end\"), "tab\\t end\\");
}
