//! Limits and hostile or failing agents on the real binary: timeouts,
//! implausible usage reports, aider's given-up API errors and its own state
//! files, transcript caps.

mod common;

use std::path::PathBuf;

use common::*;

fn here(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// A plan of one task `t` run by profile `a`: `sh -c script`, parsed as `format`.
fn script_task(fleet: &str, verify: &str, format: &str, script: &str, extra: &str) -> TestRepo {
    let plan = format!(
        "[fleet]\nbackoff_secs = 0.05\n{fleet}\n[verify]\n{verify}\n\n[agents.a]\ncommand = [\"sh\", \"-c\", {script:?}]\nformat = \"{format}\"\n{extra}\n[[task]]\nid = \"t\"\nagent = \"a\"\nprompt = \"do it\"\n"
    );
    TestRepo::new(&plan, &[("README", "hi\n")])
}

fn reason(repo: &TestRepo, id: &str) -> String {
    repo.task(id)["reason"].as_str().unwrap_or("").to_owned()
}

#[test]
fn a_hanging_verify_command_is_stopped_by_its_timeout() {
    let repo = script_task(
        "stop_grace_secs = 0.2\nmax_attempts = 1",
        "commands = [\"sleep 600\"]\ntimeout_secs = 1",
        "text",
        "echo x > x.txt",
        "",
    );
    let started = std::time::Instant::now();
    repo.expect(&["run", "--headless"], 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let r = reason(&repo, "t");
    assert!(r.contains("`sleep 600` timed out after 1 s"), "{r}");
}

#[test]
fn an_absurd_cost_is_not_counted() {
    let script = "echo a > a.txt; echo 'Tokens: 1k sent, 20 received. Cost: $1e308 message, $1e308 session.'";
    let repo = script_task("", "commands = []", "aider", script, "");
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let t = repo.task("t");
    assert_eq!(t["status"], "done", "{t}");
    assert_eq!(t["cost_usd"].as_f64(), Some(0.0), "{t}");
    assert_eq!(t["tokens"], 0, "the whole report is ignored: {t}");
    let status = text(&repo.expect(&["status"], 0).stdout);
    assert!(!status.contains("00000000"), "{status}");
}

#[test]
fn aider_state_files_are_never_committed() {
    let script = "mkdir -p src .aider.tags.cache.v4 && echo 'fn x() {}' > src/x.rs && echo chat > .aider.chat.history.md && echo in > .aider.input.history && echo db > .aider.tags.cache.v4/cache.db && echo 'Applied edit to src/x.rs'";
    let repo = script_task(
        "",
        "commands = []",
        "aider",
        script,
        "exclude = [\"notes.tmp\"]\n",
    );
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(repo.task("t")["status"], "done");
    let git = repo.repo();
    let head = git.head().unwrap().peel_to_commit().unwrap();
    let parent = head.parent(0).unwrap();
    let diff = git
        .diff_tree_to_tree(
            Some(&parent.tree().unwrap()),
            Some(&head.tree().unwrap()),
            None,
        )
        .unwrap();
    let files: Vec<String> = diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect();
    assert_eq!(files, ["src/x.rs"]);
    // The agent's own `git status` would not list them either.
    let exclude = std::fs::read_to_string(repo.path().join(".git/info/exclude")).unwrap();
    assert!(exclude.lines().any(|l| l == ".aider*"), "{exclude}");
    assert!(exclude.lines().any(|l| l == "notes.tmp"), "{exclude}");
}

#[test]
fn an_agent_that_wrote_only_its_state_files_made_no_changes() {
    let script = "echo chat > .aider.chat.history.md && echo in > .aider.input.history";
    let repo = script_task("", "commands = []", "aider", script, "");
    repo.expect(&["run", "--headless", "--auto-approve"], 1);
    let r = reason(&repo, "t");
    assert!(r.contains("agent made no changes"), "{r}");
    assert!(repo.merged_tasks().is_empty());
}

fn aider_replay(fixture: &str) -> TestRepo {
    // Like real aider: exit 0, and its state file written before it gave up.
    let script = format!(
        "echo chat > .aider.chat.history.md; cat {:?}; exit 0",
        here(&format!("tests/fixtures/agents/{fixture}"))
    );
    script_task("max_attempts = 2", "commands = []", "aider", &script, "")
}

#[test]
fn aider_giving_up_on_authentication_is_not_merged() {
    let repo = aider_replay("aider-auth-stdout.txt");
    let out = repo.fleetdeck(&["run", "--headless", "--auto-approve"]);
    let stdout = text(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "{stdout}");
    assert!(repo.merged_tasks().is_empty());
    assert!(stdout.contains("agent `a` cannot be used"), "{stdout}");
    let attempts = repo.events();
    let exited: Vec<_> = attempts
        .iter()
        .filter(|(kind, ..)| kind == "agent_ended")
        .collect();
    assert!(!exited.is_empty(), "{attempts:?}");
    assert!(
        exited
            .iter()
            .all(|(_, _, data)| data.to_string().contains("AuthenticationError")),
        "{exited:?}"
    );
}

#[test]
fn aider_giving_up_on_rate_limits_is_parked_not_merged() {
    let repo = aider_replay("aider-ratelimit-stdout.txt");
    let out = repo.fleetdeck(&["run", "--headless", "--auto-approve"]);
    let stdout = text(&out.stdout);
    assert!(repo.merged_tasks().is_empty(), "{stdout}");
    assert!(stdout.contains("rate limited"), "{stdout}");
}

#[test]
fn a_burst_of_output_is_capped_in_the_file_but_parsed_whole() {
    // ~8 MB of lines the Claude parser skips, between the recorded run's
    // start and its final result (which carries the usage): over a cap of
    // 2 MiB set in fleet.toml.
    let fixture = here("tests/fixtures/agents/claude-stream.jsonl");
    let pad = "x".repeat(1000);
    let script = format!(
        "echo hi > hello.txt; head -n -1 {fixture:?}; yes '{{\"type\":\"keep_alive\",\"pad\":\"{pad}\"}}' | head -n 8000; tail -n 1 {fixture:?}"
    );
    let repo = script_task(
        "transcript_max_mb = 2",
        "commands = []",
        "claude",
        &script,
        "",
    );
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let t = repo.task("t");
    assert_eq!(t["status"], "done", "{t}");
    assert_eq!(t["tokens"], 2480, "the usage of the last line counted: {t}");
    assert!(
        (t["cost_usd"].as_f64().unwrap() - 0.0112).abs() < 1e-9,
        "{t}"
    );

    let path = repo.path().join(".fleet/runs/t/1.jsonl");
    let size = std::fs::metadata(&path).unwrap().len();
    let cap = 2 << 20;
    assert!(size <= cap + (64 << 10), "{size} bytes for a cap of {cap}");
    let file = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    assert!(lines[1].contains("system"), "the head: {}", lines[1]);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("transcript cut here: "))
            .count(),
        1
    );
    assert!(
        lines.iter().any(|l| l.contains("total_cost_usd")),
        "the tail keeps the result line"
    );
    let ended = lines
        .iter()
        .rposition(|l| l.contains("agent ended"))
        .unwrap();
    let result = lines
        .iter()
        .rposition(|l| l.contains("total_cost_usd"))
        .unwrap();
    assert!(result < ended, "the last line before the end note is kept");
    let log = text(&repo.expect(&["log", "t"], 0).stdout);
    assert!(
        log.contains("transcript cut here: "),
        "{}",
        &log[log.len().saturating_sub(2000)..]
    );
}

#[test]
fn a_resumed_codex_attempt_counts_only_its_own_usage() {
    let stream = here("tests/fixtures/agents/codex-stream.jsonl");
    let resume = here("tests/fixtures/agents/codex-resume.jsonl");
    let first = format!("echo one > a.txt; cat {stream:?}");
    let again = format!("echo two >> a.txt; cat {resume:?}");
    let plan = format!(
        "[fleet]\nmax_attempts = 2\n[agents.a]\ncommand = [\"sh\", \"-c\", {first:?}]\nresume_command = [\"sh\", \"-c\", {again:?}, \"{{session}}\"]\nformat = \"codex\"\n\n[[task]]\nid = \"t\"\nagent = \"a\"\nprompt = \"do it\"\n"
    );
    let repo = TestRepo::new(&plan, &[]);
    repo.expect(&["run", "--headless"], 1);
    assert_eq!(repo.task("t")["status"], "review");
    repo.expect(&["request-changes", "t", "again"], 0);
    repo.expect(&["run", "--headless"], 1);
    let t = repo.task("t");
    assert_eq!(t["status"], "review", "{t}");
    // 3,000 + 120 on the first run; the thread's totals 4,500 + 180 after the resumed one.
    assert_eq!(t["tokens"], 4680, "{t}");
    // A third attempt on the same thread does not change what the second one shows.
    repo.expect(&["request-changes", "t", "once more"], 0);
    repo.expect(&["run", "--headless"], 1);
    assert_eq!(repo.task("t")["attempts"], 3);
    let log = text(&repo.expect(&["log", "t", "--attempt", "2"], 0).stdout);
    assert!(log.contains("usage: 1500 in, 60 out"), "{log}");
    assert!(!log.contains("usage: 4500 in"), "{log}");
}
