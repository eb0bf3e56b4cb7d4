//! The live path for every output format: a stand-in agent
//! (`tests/agents/replay.sh`) replays the recorded output of the real CLIs
//! line by line, and fleetdeck drives a whole task through it — spawn,
//! stream, parse, verdict, commit, verify, merge — or reacts to its failure.

mod common;

use std::path::PathBuf;

use common::*;

fn here(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// A profile that replays `fixture` and exits with `code`; `writes`: it
/// creates hello.txt as the recorded tool call did.
fn profile(
    name: &str,
    format: &str,
    fixture: &str,
    code: i32,
    stderr: Option<&str>,
    writes: bool,
) -> String {
    let mut argv = vec![
        "sh".to_owned(),
        here("tests/agents/replay.sh"),
        here(&format!("tests/fixtures/agents/{fixture}")),
        code.to_string(),
    ];
    if let Some(e) = stderr {
        argv.push(here(&format!("tests/fixtures/agents/{e}")));
    }
    let argv: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
    let env = if writes {
        "env = { REPLAY_FILE = \"hello.txt\" }\n"
    } else {
        ""
    };
    format!(
        "\n[agents.{name}]\ncommand = [{}]\nformat = \"{format}\"\n{env}",
        argv.join(", ")
    )
}

fn one_task(agent_profile: &str, fleet: &str) -> TestRepo {
    let plan = format!(
        "[fleet]\nmax_attempts = 2\nbackoff_secs = 0.3\n{fleet}\n{agent_profile}\n[[task]]\nid = \"hello\"\nagent = \"a\"\nprompt = \"create hello.txt\"\n"
    );
    TestRepo::new(&plan, &[])
}

#[test]
fn every_cli_format_drives_a_task_to_done() {
    let cases = [
        ("claude", "claude-stream.jsonl", 2480, 0.0112),
        ("claude", "claude-bash-stream.jsonl", 2480, 0.0112),
        ("codex", "codex-stream.jsonl", 3120, 0.0),
        ("gemini", "gemini-stream.jsonl", 3120, 0.0),
        ("opencode", "opencode-stream.jsonl", 3120, 0.0), // two steps of 1,560, summed
        ("aider", "aider-stdout.txt", 1560, 0.0),
    ];
    for (format, fixture, tokens, cost) in cases {
        let repo = one_task(&profile("a", format, fixture, 0, None, true), "");
        let out = repo.fleetdeck(&["run", "--headless", "--auto-approve"]);
        assert!(
            out.status.success(),
            "{fixture}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let t = repo.task("hello");
        assert_eq!(t["status"], "done", "{fixture}");
        assert_eq!(t["tokens"], tokens, "{fixture}: {t}");
        assert!(
            (t["cost_usd"].as_f64().unwrap() - cost).abs() < 1e-9,
            "{fixture}: {t}"
        );
        assert_eq!(
            std::fs::read_to_string(repo.path().join("hello.txt")).unwrap(),
            "hello from mock\n"
        );
        // The transcript shows the recorded tool call.
        let log = text(&repo.fleetdeck(&["log", "hello"]).stdout);
        let tool_call = log.lines().any(|l| {
            let (_, entry) = l.trim_start().split_once(' ').unwrap_or_default();
            entry.starts_with("tool ") && entry.ends_with("hello.txt")
        });
        assert!(
            tool_call,
            "{fixture}: no `tool ... hello.txt` line in {log}"
        );
    }
}

#[test]
fn a_price_table_estimates_what_the_cli_does_not_report() {
    let p = profile("a", "codex", "codex-stream.jsonl", 0, None, true)
        + "price = { input_per_mtok = 1.25, output_per_mtok = 10.0 }\n";
    let repo = one_task(&p, "");
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let cost = repo.task("hello")["cost_usd"].as_f64().unwrap();
    assert!(
        (cost - (3000.0 * 1.25 + 120.0 * 10.0) / 1e6).abs() < 1e-9,
        "{cost}"
    );
}

#[test]
fn an_api_error_is_retried_then_fails() {
    let repo = one_task(
        &profile("a", "claude", "claude-err-500.jsonl", 1, None, false),
        "",
    );
    repo.expect(&["run", "--headless"], 1);
    let t = repo.task("hello");
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(t["attempts"], 2);
    assert!(t["reason"].as_str().unwrap().contains("API Error"), "{t}");
}

#[test]
fn an_authentication_failure_parks_the_profile_and_says_so() {
    let repo = one_task(
        &profile("a", "claude", "claude-err-401.jsonl", 1, None, false),
        "",
    );
    let out = repo.fleetdeck(&["run", "--headless"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let told = stdout
        .lines()
        .filter(|l| l.starts_with('[') && l.contains("agent `a` cannot be used"))
        .count();
    assert_eq!(told, 1, "told once: {stdout}");
    let t = repo.task("hello");
    assert_eq!(
        t["status"], "queued",
        "the task waits, it did not fail: {t}"
    );
    // The closing summary says why the task still waits and what to do.
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("hello ") && l.contains("queued"))
        .unwrap_or_else(|| panic!("no summary row for hello: {stdout}"));
    assert!(
        row.contains("agent `a` cannot be used") && row.contains("fix it"),
        "{row}"
    );
    // `status` after the run says why it waits, in the cockpit's words.
    let reason = t["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("agent `a` cannot be used: ") && reason.contains("press t"),
        "{t}"
    );
}

#[test]
fn a_rate_limit_parks_the_task_and_only_a_lasting_one_costs_attempts() {
    // codex-fail: the service answered 500 "high demand": fleetdeck sees an overloaded service.
    let p = profile(
        "a",
        "codex",
        "codex-fail.jsonl",
        1,
        Some("codex-fail.err"),
        false,
    );
    let plan = format!(
        "[fleet]\nmax_attempts = 2\nbackoff_secs = 0.05\n{p}\n[[task]]\nid = \"hello\"\nagent = \"a\"\nprompt = \"create hello.txt\"\n"
    );
    let repo = TestRepo::new(&plan, &[]);
    let out = repo.fleetdeck(&["run", "--headless"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout.matches("was rate limited: retrying in").count(),
        5,
        "five free waits: {stdout}"
    );
    let t = repo.task("hello");
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(
        t["attempts"], 7,
        "five parked attempts plus the two it was allowed"
    );
    let reason = t["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("failed after 2 counted attempt(s), 7 started in all"),
        "the reason agrees with the attempts: {reason}"
    );
}

#[test]
fn a_permission_denial_needs_input() {
    let repo = one_task(
        &profile("a", "claude", "claude-perm-manual.jsonl", 0, None, false),
        "",
    );
    repo.expect(&["run", "--headless"], 1);
    let t = repo.task("hello");
    assert_eq!(t["status"], "failed");
    assert_eq!(t["attempts"], 1, "not retried: it would be refused again");
    assert!(
        t["reason"].as_str().unwrap().starts_with("needs input:"),
        "{t}"
    );
}

#[test]
fn a_cli_that_writes_nothing_made_no_changes() {
    // Gemini without --yolo: success, but its editing tools were withheld.
    let repo = one_task(
        &profile("a", "gemini", "gemini-noyolo.jsonl", 0, None, false),
        "",
    );
    repo.expect(&["run", "--headless"], 1);
    assert!(
        repo.task("hello")["reason"]
            .as_str()
            .unwrap()
            .contains("agent made no changes")
    );
}

#[test]
fn a_hanging_cli_is_stopped_by_its_timeout() {
    // codex-envurl: the CLI kept reconnecting until killed. Replay it with a long tail.
    let p = "\n[agents.a]\ncommand = [\"sh\", \"-c\", \"cat \\\"$0\\\"; sleep 600\", \"".to_owned()
        + &here("tests/fixtures/agents/codex-envurl.jsonl")
        + "\"]\nformat = \"codex\"\ntimeout_secs = 1\n";
    let repo = one_task(&p, "stop_grace_secs = 0.2");
    let started = std::time::Instant::now();
    let out = repo.fleetdeck(&["run", "--headless"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1));
    let t = repo.task("hello");
    assert_eq!(t["status"], "failed");
    assert!(
        t["reason"]
            .as_str()
            .unwrap()
            .contains("timed out after 1 s"),
        "{t}"
    );
}

/// A plan for the fake Claude, logging its arguments to `log`; `resume`: the profile can resume sessions.
fn fake_claude(log: &std::path::Path, resume: bool) -> TestRepo {
    let resume = if resume {
        "resume = [\"--resume\", \"{session}\"]\n"
    } else {
        ""
    };
    let plan = format!(
        "[agents.a]\ncommand = [\"sh\", {:?}, \"-p\", \"{{prompt}}\"]\nformat = \"claude\"\n{resume}env = {{ ARGS_LOG = {:?} }}\n\n[[task]]\nid = \"t\"\nagent = \"a\"\nprompt = \"do the work\"\n",
        here("tests/agents/fake-claude.sh"),
        log.display().to_string()
    );
    TestRepo::new(&plan, &[])
}

#[test]
fn requested_changes_resume_the_agent_session_with_just_the_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("args.log");
    let repo = fake_claude(&log, true);
    assert_eq!(
        repo.fleetdeck(&["run", "--headless"]).status.code(),
        Some(1),
        "waits in review"
    );
    repo.expect(&["request-changes", "t", "rename", "it"], 0);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let runs = std::fs::read_to_string(&log).unwrap();
    let (first, second) = runs.trim_end().rsplit_once('\n').unwrap();
    // A new attempt's prompt ends with the team's sections; a resumed
    // session gets just the feedback.
    assert!(
        first.starts_with("-p do the work\n\n## Messages to the team\n"),
        "{first}"
    );
    assert_eq!(
        second, "-p rename it --resume sess-1",
        "the second run resumes session sess-1"
    );
    assert_eq!(repo.prompts("t")[1], "rename it");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("work.txt")).unwrap(),
        "run 1\nrun 2\n"
    );
}

#[test]
fn without_a_resumable_session_the_feedback_comes_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("args.log");
    let repo = fake_claude(&log, false);
    repo.fleetdeck(&["run", "--headless"]);
    repo.fleetdeck(&["request-changes", "t", "rename", "it"]);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let second = &repo.prompts("t")[1];
    assert!(
        second.starts_with("do the work\n\nA reviewer looked at the result of attempt 1"),
        "{second}"
    );
    assert!(second.contains("> rename it"), "{second}");
    assert!(
        second.contains("What the previous attempt (1, by `a`) did:"),
        "{second}"
    );
    assert!(
        second.contains("> - I changed work.txt (run 1)."),
        "{second}"
    );
}

#[test]
fn an_isolated_home_is_per_task_and_seeded_from_the_template() {
    // The agent records where its home is and what the template put there.
    let script = "printf '%s\\n%s\\n%s\\n' \"$HOME\" \"$CLAUDE_CONFIG_DIR\" \"$(cat \"$HOME/.claude/settings.json\")\" > home.txt; echo '{\"type\":\"result\",\"is_error\":false,\"result\":\"ok\"}'";
    let plan = format!(
        "[agents.a]\ncommand = [\"sh\", \"-c\", {script:?}]\nformat = \"claude\"\nisolate_home = true\nhome_template = \"seed\"\n\n[[task]]\nid = \"t\"\nagent = \"a\"\nprompt = \"x\"\n"
    );
    let repo = TestRepo::new(
        &plan,
        &[("seed/.claude/settings.json", "{\"theme\": \"dark\"}")],
    );
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let home = repo.path().canonicalize().unwrap().join(".fleet/homes/t");
    let seen = std::fs::read_to_string(repo.path().join("home.txt")).unwrap();
    assert_eq!(
        seen,
        format!(
            "{}\n{}\n{{\"theme\": \"dark\"}}\n",
            home.display(),
            home.join(".claude").display()
        )
    );
}
