//! Every recorded agent output in `tests/fixtures/agents/` (a copy of
//! `../shared/fixtures/agents/`, so a clean clone tests alone) through its
//! parser, with the facts asserted; plus hostile and broken input.

use std::path::PathBuf;

use fleetdeck::agent::{
    AgentEvent, CodexParser, FailureClass, Format, OutputParser, Verdict, parser_for,
};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents")
}

/// A fixture file, lossily decoded as the runtime does.
fn fixture(name: &str) -> String {
    let path = fixtures_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Which parser reads a stdout fixture; `None` for stderr captures and the README.
fn format_of(name: &str) -> Option<Format> {
    if name.ends_with(".err") || name.ends_with("-stderr.txt") || name == "README.md" {
        return None;
    }
    let prefix = name.split('-').next().unwrap_or("");
    Some(
        prefix
            .parse()
            .unwrap_or_else(|_| panic!("no format for fixture {name}")),
    )
}

struct Parsed {
    events: Vec<AgentEvent>,
    parser: Box<dyn OutputParser>,
}

impl Parsed {
    fn verdict(&self, exit: Option<i32>, stderr: &str) -> Verdict {
        self.parser.verdict(exit, stderr)
    }

    fn session(&self) -> Option<&str> {
        self.parser.session_id()
    }

    fn sessions(&self) -> Vec<(&str, Option<&str>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::Session { id, model } => Some((id.as_str(), model.as_deref())),
                _ => None,
            })
            .collect()
    }

    fn messages(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::Message { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn tool_calls(&self) -> Vec<(&str, &str)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ToolCall { name, arg, .. } => Some((name.as_str(), arg.as_str())),
                _ => None,
            })
            .collect()
    }

    fn tool_results(&self) -> Vec<(bool, &str)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ToolResult { ok, preview, .. } => Some((*ok, preview.as_str())),
                _ => None,
            })
            .collect()
    }

    fn usages(&self) -> Vec<(u64, u64, Option<f64>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::Usage {
                    input_tokens,
                    output_tokens,
                    cost_usd,
                } => Some((*input_tokens, *output_tokens, *cost_usd)),
                _ => None,
            })
            .collect()
    }

    fn last_usage(&self) -> (u64, u64, Option<f64>) {
        *self.usages().last().expect("a usage event")
    }

    fn finished(&self) -> Vec<(bool, &str)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::Finished { is_error, summary } => Some((*is_error, summary.as_str())),
                _ => None,
            })
            .collect()
    }

    fn count(&self, pred: impl Fn(&AgentEvent) -> bool) -> usize {
        self.events.iter().filter(|e| pred(e)).count()
    }
}

fn parse_with(mut parser: Box<dyn OutputParser>, name: &str) -> Parsed {
    let mut events = Vec::new();
    for line in fixture(name).lines() {
        events.extend(parser.line(line));
    }
    events.extend(parser.finish());
    Parsed { events, parser }
}

fn parse(name: &str) -> Parsed {
    let format = format_of(name).expect("a stdout fixture");
    parse_with(parser_for(format), name)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn failure(verdict: &Verdict) -> (FailureClass, &str) {
    match verdict {
        Verdict::Failure { class, message } => (*class, message.as_str()),
        Verdict::Success => panic!("expected a failure, got success"),
    }
}

const DONE: &str = "Done: I created hello.txt containing 'hello from mock'.";
const CODEX_DONE: &str = "Done: created hello.txt containing 'hello from mock'.";

#[test]
fn every_fixture_parses_and_json_lines_are_all_understood() {
    let mut seen = 0;
    let entries = std::fs::read_dir(fixtures_dir()).expect("fixtures directory");
    for entry in entries {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(format) = format_of(&name) else {
            continue;
        };
        let parsed = parse(&name);
        seen += 1;
        if !matches!(format, Format::Aider | Format::Text) {
            let texts = parsed.count(|e| matches!(e, AgentEvent::Text { .. }));
            assert_eq!(texts, 0, "{name}: lines not understood");
        }
        for event in &parsed.events {
            let text = serde_json::to_string(event).expect("events serialize");
            assert!(!text.contains("\\u001b"), "{name}: escape left in {text}");
        }
    }
    assert_eq!(seen, 27, "stdout fixtures found");
}

#[test]
fn claude_stream_write() {
    let p = parse("claude-stream.jsonl");
    assert_eq!(
        p.sessions(),
        vec![(
            "0e59974e-ea73-4852-93e8-1a834dda2a4d",
            Some("claude-opus-5-5")
        )]
    );
    assert_eq!(p.session(), Some("0e59974e-ea73-4852-93e8-1a834dda2a4d"));
    assert_eq!(p.messages(), vec!["I'll create hello.txt.", DONE]);
    assert_eq!(
        p.tool_calls(),
        vec![("Write", "/home/dev/work/repo1/hello.txt")]
    );
    assert!(p.events.contains(&AgentEvent::ToolCall {
        id: Some("toolu_3dda1e32cf7845cf9026b605".into()),
        name: "Write".into(),
        arg: "/home/dev/work/repo1/hello.txt".into(),
    }));
    let results = p.tool_results();
    assert_eq!(results.len(), 1);
    assert!(results[0].0);
    assert!(
        results[0]
            .1
            .starts_with("File created successfully at: /home/dev/work/repo1/hello.txt")
    );
    let (input, output, cost) = p.last_usage();
    assert_eq!((input, output), (2400, 80));
    assert!(close(cost, 0.0112));
    assert_eq!(p.finished(), vec![(false, DONE)]);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
    assert_eq!(failure(&p.verdict(Some(1), "")).0, FailureClass::Crash);
    assert_eq!(failure(&p.verdict(None, "")).0, FailureClass::Crash);
}

#[test]
fn claude_stream_bash() {
    let p = parse("claude-bash-stream.jsonl");
    assert_eq!(p.session(), Some("3c1fbb86-a59b-4840-891d-5009f17c063b"));
    assert_eq!(
        p.tool_calls(),
        vec![("Bash", "echo 'hello from mock' > hello.txt")]
    );
    assert_eq!(
        p.tool_results(),
        vec![(true, "(Bash completed with no output)")]
    );
    let (input, output, cost) = p.last_usage();
    assert_eq!((input, output), (2400, 80));
    assert!(close(cost, 0.0112));
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn claude_json_output_is_one_result() {
    let p = parse("claude-json.out");
    assert_eq!(
        p.sessions(),
        vec![("f54c61b1-c666-439c-9af3-3ce8132b598a", None)]
    );
    assert_eq!(p.usages().len(), 1);
    let (input, output, cost) = p.last_usage();
    assert_eq!((input, output), (2400, 80));
    assert!(close(cost, 0.0112));
    assert_eq!(p.finished(), vec![(false, DONE)]);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn claude_partial_messages_are_not_doubled() {
    let p = parse("claude-partial.jsonl");
    assert_eq!(p.session(), Some("11111111-2222-4333-8444-555555555555"));
    assert_eq!(p.messages(), vec!["I'll create hello.txt.", DONE]);
    assert_eq!(
        p.tool_calls(),
        vec![("Write", "/home/dev/work/repo10/hello.txt")]
    );
    let (input, output, cost) = p.last_usage();
    assert_eq!((input, output), (2400, 80));
    assert!(close(cost, 0.0112));
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn claude_resume_counts_this_run_only() {
    let p = parse("claude-resume.jsonl");
    // Same session as the run it resumed (claude-json.out).
    assert_eq!(p.session(), Some("f54c61b1-c666-439c-9af3-3ce8132b598a"));
    assert_eq!(
        p.tool_calls(),
        vec![("Write", "/home/dev/work/repo2/hello.txt")]
    );
    // total_cost_usd says 0.0224 (the whole session); this run cost 0.0112.
    let (input, output, cost) = p.last_usage();
    assert_eq!((input, output), (2400, 80));
    assert!(close(cost, 0.0112), "{cost:?}");
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn claude_stdin_stream_cumulative_cost_is_not_double_counted() {
    let p = parse("claude-stdin-stream.jsonl");
    assert_eq!(
        p.sessions(),
        vec![(
            "8b817d67-cf1b-4cce-9328-0950f394fade",
            Some("claude-opus-5-5")
        )]
    );
    assert_eq!(p.finished(), vec![(false, DONE), (false, DONE)]);
    assert_eq!(p.tool_calls().len(), 2);
    let usages = p.usages();
    let after_first = usages
        .iter()
        .find(|u| u.2.is_some())
        .expect("usage of the first result");
    assert_eq!((after_first.0, after_first.1), (2400, 80));
    assert!(close(after_first.2, 0.0112));
    let (input, output, cost) = p.last_usage();
    assert_eq!((input, output), (4800, 160));
    assert!(close(cost, 0.0224), "{cost:?}");
    for pair in usages.windows(2) {
        assert!(
            pair[1].0 >= pair[0].0 && pair[1].1 >= pair[0].1,
            "{usages:?}"
        );
        assert!(pair[1].2.unwrap_or(0.0) <= 0.0224 + 1e-9);
    }
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn claude_max_turns_is_a_turn_limit() {
    let p = parse("claude-maxturns.jsonl");
    assert_eq!(p.session(), Some("6d68bcd9-0f5f-41ba-882b-edbb218a6638"));
    assert_eq!(
        p.finished(),
        vec![(true, "Reached maximum number of turns (1)")]
    );
    let (input, output, cost) = p.last_usage();
    assert_eq!((input, output), (1200, 40));
    assert!(close(cost, 0.0056));
    let verdict = p.verdict(Some(1), "");
    assert_eq!(
        failure(&verdict),
        (
            FailureClass::TurnLimit,
            "Reached maximum number of turns (1)"
        )
    );
}

#[test]
fn claude_manual_permission_denial_fails_the_run() {
    let p = parse("claude-perm-manual.jsonl");
    let detail = "Claude requested permissions to write to /home/dev/work/repo5/hello.txt, \
                  but you haven't granted it yet.";
    let denials: Vec<_> = p
        .events
        .iter()
        .filter(|e| matches!(e, AgentEvent::PermissionDenied { .. }))
        .collect();
    assert_eq!(
        denials,
        vec![&AgentEvent::PermissionDenied {
            tool: "Write".into(),
            detail: detail.into()
        }]
    );
    assert_eq!(p.tool_results(), vec![(false, detail)]);
    // The CLI says success (and the model claims it wrote the file), exit 0.
    assert_eq!(p.finished(), vec![(false, DONE)]);
    let verdict = p.verdict(Some(0), "");
    let (class, message) = failure(&verdict);
    assert_eq!(class, FailureClass::PermissionDenied);
    assert_eq!(message, format!("Write denied: {detail}"));
}

#[test]
fn claude_allowed_and_accept_edits_succeed() {
    for (name, session, path) in [
        (
            "claude-perm-allowed.jsonl",
            "4791feb5-182d-46b1-8f4d-7cd8c1e3c0fd",
            "/home/dev/work/repo6/hello.txt",
        ),
        (
            "claude-perm-acceptedits.jsonl",
            "4bf1e0ec-f37d-4134-9c20-be7587b414d3",
            "/home/dev/work/repo7/hello.txt",
        ),
    ] {
        let p = parse(name);
        assert_eq!(p.session(), Some(session), "{name}");
        assert_eq!(p.tool_calls(), vec![("Write", path)], "{name}");
        assert_eq!(
            p.count(|e| matches!(e, AgentEvent::PermissionDenied { .. })),
            0
        );
        assert_eq!(p.verdict(Some(0), ""), Verdict::Success, "{name}");
    }
}

#[test]
fn claude_api_errors() {
    let p = parse("claude-err-400.jsonl");
    assert!(p.events.contains(&AgentEvent::Error {
        text: "API Error: 400 mock forced failure".into()
    }));
    assert_eq!(
        p.finished(),
        vec![(true, "API Error: 400 mock forced failure")]
    );
    assert_eq!(p.last_usage(), (0, 0, Some(0.0)));
    let verdict = p.verdict(Some(1), "");
    assert_eq!(
        failure(&verdict),
        (FailureClass::Crash, "API Error: 400 mock forced failure")
    );

    let p = parse("claude-err-401.jsonl");
    assert_eq!(p.count(|e| matches!(e, AgentEvent::Notice { .. })), 2);
    assert!(p.events.contains(&AgentEvent::Notice {
        text: "API retry 1/2 in 514 ms after authentication_failed (HTTP 401)".into()
    }));
    let verdict = p.verdict(Some(1), "");
    assert_eq!(
        failure(&verdict),
        (
            FailureClass::Auth,
            "Failed to authenticate. API Error: 401 mock forced failure"
        )
    );

    let p = parse("claude-err-500.jsonl");
    assert_eq!(p.count(|e| matches!(e, AgentEvent::Notice { .. })), 2);
    let verdict = p.verdict(Some(1), "");
    let (class, message) = failure(&verdict);
    assert_eq!(class, FailureClass::Crash);
    assert!(
        message.starts_with("API Error: 500 mock forced failure."),
        "{message}"
    );
    // Even with exit 0, is_error decides.
    assert_eq!(failure(&p.verdict(Some(0), "")).0, FailureClass::Crash);
}

#[test]
fn claude_without_result_fails() {
    let mut parser = parser_for(Format::Claude);
    let init = fixture("claude-stream.jsonl");
    for line in init.lines().take(3) {
        parser.line(line);
    }
    let verdict = parser.verdict(Some(0), "");
    assert_eq!(
        failure(&verdict),
        (FailureClass::Crash, "agent exited without a result")
    );
    let verdict = parser.verdict(Some(1), "Error: Invalid API key · Please run /login");
    assert_eq!(failure(&verdict).0, FailureClass::Auth);
}

#[test]
fn codex_stream() {
    let p = parse("codex-stream.jsonl");
    assert_eq!(
        p.sessions(),
        vec![("01a20472-c7a9-7a33-84fa-62adbf97664e", None)]
    );
    assert_eq!(
        p.tool_calls(),
        vec![("Bash", "echo 'hello from mock' > hello.txt")]
    );
    assert_eq!(p.tool_results(), vec![(true, "(no output, exit code 0)")]);
    assert_eq!(p.messages(), vec![CODEX_DONE]);
    assert_eq!(p.usages(), vec![(3000, 120, None)]);
    assert_eq!(p.finished(), vec![(false, CODEX_DONE)]);
    assert_eq!(p.count(|e| matches!(e, AgentEvent::Error { .. })), 0);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
    assert_eq!(failure(&p.verdict(Some(1), "")).0, FailureClass::Crash);
}

#[test]
fn codex_resume_usage_is_cumulative_per_thread() {
    let p = parse("codex-resume.jsonl");
    assert_eq!(p.session(), Some("01a20472-c7a9-7a33-84fa-62adbf97664e"));
    // Without a baseline: the thread's totals.
    assert_eq!(p.usages(), vec![(4500, 180, None)]);
    // With the earlier attempt's totals (codex-stream) as baseline: this attempt only.
    let p = parse_with(
        Box::new(CodexParser::resuming(3000, 120)),
        "codex-resume.jsonl",
    );
    assert_eq!(p.usages(), vec![(1500, 60, None)]);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn codex_server_error_is_rate_limited() {
    let p = parse("codex-fail.jsonl");
    let message = "We’re currently experiencing high demand, which may cause temporary errors.";
    assert_eq!(p.session(), Some("01a20472-f712-7180-bf77-2e11f47b20ef"));
    assert!(p.events.contains(&AgentEvent::Error {
        text: message.into()
    }));
    assert_eq!(p.finished(), vec![(true, message)]);
    let verdict = p.verdict(Some(1), &fixture("codex-fail.err"));
    assert_eq!(failure(&verdict), (FailureClass::RateLimited, message));
}

#[test]
fn codex_missing_key_is_auth() {
    let p = parse("codex-nokey.jsonl");
    let message = "Missing environment variable: `MOCK_API_KEY`.";
    assert_eq!(p.finished(), vec![(true, message)]);
    let verdict = p.verdict(Some(1), &fixture("codex-nokey.err"));
    assert_eq!(failure(&verdict), (FailureClass::Auth, message));
}

#[test]
fn codex_reconnects_are_notices_and_a_kill_is_a_crash() {
    let p = parse("codex-envurl.jsonl");
    assert_eq!(p.session(), Some("01a20473-0749-7280-a475-879ed723ea17"));
    assert_eq!(p.count(|e| matches!(e, AgentEvent::Error { .. })), 0);
    assert_eq!(p.count(|e| matches!(e, AgentEvent::Notice { .. })), 10);
    assert!(p.finished().is_empty());
    let verdict = p.verdict(None, "");
    let (class, message) = failure(&verdict);
    assert_eq!(class, FailureClass::Crash);
    assert_eq!(
        message,
        "agent was killed by a signal; last error: \
         Reconnecting... waiting for network (Connection failed: error sending request)"
    );
}

#[test]
fn gemini_stream() {
    let p = parse("gemini-stream.jsonl");
    assert_eq!(
        p.sessions(),
        vec![(
            "363593b5-3ff5-43fe-9f05-25fdcda3920b",
            Some("gemini-2.5-flash")
        )]
    );
    assert_eq!(
        p.tool_calls(),
        vec![("write_file", "/home/dev/work/grepo1/hello.txt")]
    );
    assert_eq!(p.tool_results(), vec![(true, "")]);
    assert_eq!(p.messages(), vec![CODEX_DONE]);
    assert_eq!(p.usages(), vec![(3000, 120, None)]);
    assert_eq!(p.finished(), vec![(false, CODEX_DONE)]);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
    assert_eq!(failure(&p.verdict(Some(41), "")).0, FailureClass::Auth);
    assert_eq!(failure(&p.verdict(Some(42), "")).0, FailureClass::Crash);
    assert_eq!(failure(&p.verdict(Some(53), "")).0, FailureClass::TurnLimit);
}

#[test]
fn gemini_deltas_are_joined_into_one_message() {
    let mut parser = parser_for(Format::Gemini);
    let chunk = |text: &str| {
        format!(r#"{{"type":"message","role":"assistant","content":"{text}","delta":true}}"#)
    };
    assert!(parser.line(&chunk("Hello, ")).is_empty());
    assert!(parser.line(&chunk("world.")).is_empty());
    let events = parser.line(r#"{"type":"tool_use","tool_name":"run_shell_command","tool_id":"t1","parameters":{"command":"ls"}}"#);
    assert_eq!(
        events,
        vec![
            AgentEvent::Message {
                text: "Hello, world.".into()
            },
            AgentEvent::ToolCall {
                id: Some("t1".into()),
                name: "run_shell_command".into(),
                arg: "ls".into()
            }
        ]
    );
    assert!(parser.line(&chunk("Trailing")).is_empty());
    assert_eq!(
        parser.finish(),
        vec![AgentEvent::Message {
            text: "Trailing".into()
        }]
    );
}

#[test]
fn gemini_without_yolo_still_succeeds() {
    let p = parse("gemini-noyolo.jsonl");
    assert_eq!(p.session(), Some("6b7c8dbf-f20a-46d5-87f5-375bca606e8f"));
    assert!(p.tool_calls().is_empty());
    assert_eq!(p.usages(), vec![(1500, 60, None)]);
    assert_eq!(p.finished(), vec![(false, CODEX_DONE)]);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn gemini_unreachable_service_killed() {
    let p = parse("gemini-err.jsonl");
    assert_eq!(p.session(), Some("f8c0cd76-deef-4cab-ac28-31138d7563da"));
    assert!(p.messages().is_empty());
    assert!(p.finished().is_empty());
    let verdict = p.verdict(None, &fixture("gemini-err-stderr.txt"));
    let (class, message) = failure(&verdict);
    assert_eq!(class, FailureClass::Crash);
    assert_eq!(
        message,
        "agent was killed by a signal; last error: Attempt 5 failed. Retrying with backoff... \
         Error: exception TypeError: fetch failed sending request"
    );
}

#[test]
fn opencode_stream() {
    let p = parse("opencode-stream.jsonl");
    assert_eq!(p.sessions(), vec![("ses_dfb8a2a48ffepEtGsyPHjYnMaO", None)]);
    assert_eq!(
        p.tool_calls(),
        vec![("bash", "echo 'hello from mock' > hello.txt")]
    );
    assert_eq!(p.tool_results(), vec![(true, "(no output)")]);
    assert_eq!(p.messages(), vec![CODEX_DONE]);
    assert_eq!(
        p.usages(),
        vec![(1500, 60, Some(0.0)), (3000, 120, Some(0.0))]
    );
    assert_eq!(p.finished(), vec![(false, CODEX_DONE)]);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn opencode_cut_short_is_a_failure() {
    let mut parser = parser_for(Format::Opencode);
    for line in fixture("opencode-stream.jsonl").lines().take(3) {
        parser.line(line);
    }
    // The last step ended with "tool-calls", not "stop".
    let verdict = parser.verdict(Some(0), "");
    assert_eq!(failure(&verdict).0, FailureClass::Crash);
}

#[test]
fn opencode_error_event() {
    let p = parse("opencode-fail.jsonl");
    let text = "APIError: mock forced failure (HTTP 500)";
    assert_eq!(p.session(), Some("ses_dfb8a0f2fffeZK9Qg5n4YGRAQW"));
    assert!(p.events.contains(&AgentEvent::Error { text: text.into() }));
    assert_eq!(p.finished(), vec![(true, text)]);
    assert_eq!(
        failure(&p.verdict(Some(1), "")),
        (FailureClass::Crash, text)
    );
    // An error event fails the run even if the process exits 0.
    assert_eq!(failure(&p.verdict(Some(0), "")).0, FailureClass::Crash);
}

#[test]
fn aider_output() {
    let p = parse("aider-stdout.txt");
    assert_eq!(p.tool_calls(), vec![("edit", "hello.txt")]);
    assert!(p.events.contains(&AgentEvent::Notice {
        text: "Commit bf0ffa4 I'll create hello.txt.".into()
    }));
    // No `Cost:` in this output: aider could not fetch model prices.
    assert_eq!(p.usages(), vec![(1500, 60, None)]);
    assert!(p.events.contains(&AgentEvent::Text {
        text: "I'll create hello.txt.".into()
    }));
    assert_eq!(p.session(), None);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
    assert_eq!(failure(&p.verdict(Some(1), "")).0, FailureClass::Crash);

    let p = parse("aider-stream-stdout.txt");
    assert_eq!(p.tool_calls(), vec![("edit", "hello.txt")]);
    assert_eq!(p.usages(), vec![(2300, 24, None)]);
    assert_eq!(p.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn aider_giving_up_on_authentication_is_an_auth_failure_despite_exit_0() {
    let p = parse("aider-auth-stdout.txt");
    let verdict = p.verdict(Some(0), "");
    let (class, message) = failure(&verdict);
    assert_eq!(class, FailureClass::Auth, "{message}");
    assert!(
        message.starts_with("litellm.AuthenticationError: AnthropicException"),
        "{message}"
    );
    assert_eq!(p.usages(), vec![]);
}

#[test]
fn aider_giving_up_on_rate_limits_is_a_rate_limit_despite_exit_0() {
    let p = parse("aider-ratelimit-stdout.txt");
    let verdict = p.verdict(Some(0), "");
    let (class, message) = failure(&verdict);
    assert_eq!(class, FailureClass::RateLimited, "{message}");
    assert!(message.starts_with("litellm.RateLimitError"), "{message}");
    let retries =
        p.count(|e| matches!(e, AgentEvent::Notice { text } if text.starts_with("Retrying in ")));
    assert_eq!(retries, 8);
}

#[test]
fn aider_api_errors_by_exception_name() {
    let cases = [
        (
            "litellm.NotFoundError: OpenAIException - model gpt-x not found",
            FailureClass::Crash,
        ),
        (
            "litellm.BadRequestError: AnthropicException - {\"type\":\"invalid_request_error\"}",
            FailureClass::Crash,
        ),
        (
            "litellm.APIConnectionError: OpenAIException - Connection error.",
            FailureClass::Crash,
        ),
        (
            "litellm.APIError: AnthropicException - Internal server error",
            FailureClass::Crash,
        ),
        (
            "litellm.ContextWindowExceededError: prompt is too long",
            FailureClass::Crash,
        ),
        (
            "litellm.InternalServerError: AnthropicException - Overloaded",
            FailureClass::RateLimited,
        ),
        (
            "litellm.BudgetExceededError: Budget has been exceeded",
            FailureClass::Auth,
        ),
    ];
    for (line, class) in cases {
        let mut parser = parser_for(Format::Aider);
        assert!(
            matches!(&parser.line(line)[..], [AgentEvent::Error { .. }]),
            "{line}"
        );
        assert_eq!(failure(&parser.verdict(Some(0), "")).0, class, "{line}");
    }
    // The context window: aider prints its own message, not the exception.
    let mut parser = parser_for(Format::Aider);
    parser.line("Model anthropic/claude-sonnet-4-20250514 has hit a token limit!");
    assert_eq!(failure(&parser.verdict(Some(0), "")).0, FailureClass::Crash);
}

#[test]
fn aider_recovering_from_a_retried_error_succeeds() {
    let mut parser = parser_for(Format::Aider);
    parser.line("litellm.RateLimitError: AnthropicException - rate_limit_error");
    parser.line("Retrying in 0.2 seconds...");
    parser.line("Tokens: 1.5k sent, 60 received.");
    parser.line("Applied edit to hello.txt");
    assert_eq!(parser.verdict(Some(0), ""), Verdict::Success);
}

#[test]
fn aider_cost_line() {
    let mut parser = parser_for(Format::Aider);
    let events = parser.line("Tokens: 2.4k sent, 80 received. Cost: $0.01 message, $0.02 session.");
    assert_eq!(
        events,
        vec![AgentEvent::Usage {
            input_tokens: 2400,
            output_tokens: 80,
            cost_usd: Some(0.02)
        }]
    );
}

/// Broken input every parser must survive, turning it into sanitized text.
fn hostile_lines() -> Vec<String> {
    let result = fixture("claude-stream.jsonl")
        .lines()
        .last()
        .expect("a result line")
        .to_owned();
    vec![
        "garbage, not json at all".to_owned(),
        result[..result.len() / 2].to_owned(),
        String::from_utf8_lossy(b"{\"type\":\"assistant\",\xff\xfe bad bytes").into_owned(),
        "\x1b[31mred\x1b[0m \x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;title\x07plain\x1b".to_owned(),
        "{\"type\":".to_owned(),
        "[1, 2, 3]".to_owned(),
        "\"just a string\"".to_owned(),
    ]
}

#[test]
fn broken_lines_become_sanitized_text() {
    for format in Format::ALL {
        let mut parser = parser_for(format);
        assert!(parser.line("").is_empty(), "{format}: empty line");
        assert!(parser.line("   ").is_empty(), "{format}: blank line");
        for line in hostile_lines() {
            let events = parser.line(&line);
            assert_eq!(events.len(), 1, "{format}: {line:?} gave {events:?}");
            let AgentEvent::Text { text } = &events[0] else {
                panic!("{format}: {line:?} gave {events:?}");
            };
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{format}: control character in {text:?}"
            );
        }
        let ansi = parser.line(&hostile_lines()[3]);
        assert_eq!(
            ansi,
            vec![AgentEvent::Text {
                text: "red plain".into()
            }],
            "{format}"
        );
        let _ = parser.finish();
        let _ = parser.verdict(Some(0), "\x1b[31mboom\x1b[0m");
        let _ = parser.verdict(None, "");
    }
}

#[test]
fn odd_but_valid_json_never_panics() {
    let lines = [
        r#"{"type":"assistant","message":42}"#,
        r#"{"type":"assistant","message":{"content":"plain string"}}"#,
        r#"{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"a"},{"type":"image"}]}]}}"#,
        r#"{"type":"result"}"#,
        r#"{"type":"item.completed","item":{}}"#,
        r#"{"type":"turn.completed","usage":{"input_tokens":"12","output_tokens":null}}"#,
        r#"{"type":"tool_use","part":{"state":{"status":"completed","metadata":{"exit":-1}}}}"#,
        r#"{"type":"result","stats":{}}"#,
        r#"{"type":"unknown-future-event","x":[1,{"y":2}]}"#,
        r#"{}"#,
    ];
    for format in Format::ALL {
        let mut parser = parser_for(format);
        for line in lines {
            let _ = parser.line(line);
        }
        let _ = parser.finish();
        let _ = parser.verdict(Some(0), "");
    }
}

#[test]
fn hostile_agent_text_is_sanitized_inside_events() {
    let mut parser = parser_for(Format::Claude);
    let line = r#"{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"hi\u001b]52;c;cm0gLXJmIH4=\u0007 there\u001b[2J"},{"type":"tool_use","id":"t","name":"Bash","input":{"command":"echo \u001b[31mx\u001b[0m\nrm -rf /"}}]}}"#;
    let events = parser.line(line);
    assert_eq!(
        events,
        vec![
            AgentEvent::Message {
                text: "hi there".into()
            },
            AgentEvent::ToolCall {
                id: Some("t".into()),
                name: "Bash".into(),
                arg: "echo x rm -rf /".into()
            }
        ]
    );
}

/// Throughput check in release mode: `cargo test --release --test parsers -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, run in release mode"]
fn throughput() {
    for (format, names) in [
        (
            Format::Claude,
            &[
                "claude-stream.jsonl",
                "claude-partial.jsonl",
                "claude-bash-stream.jsonl",
            ][..],
        ),
        (
            Format::Codex,
            &["codex-stream.jsonl", "codex-envurl.jsonl"][..],
        ),
    ] {
        let one: String = names.iter().map(|n| fixture(n)).collect();
        let corpus = one.repeat((64 << 20) / one.len());
        let start = std::time::Instant::now();
        let mut parser = parser_for(format);
        let mut count = 0usize;
        for line in corpus.lines() {
            count += parser.line(line).len();
        }
        let secs = start.elapsed().as_secs_f64();
        let mbps = corpus.len() as f64 / secs / 1e6;
        println!("{format}: {:.0} MB/s ({count} events)", mbps);
    }
}
