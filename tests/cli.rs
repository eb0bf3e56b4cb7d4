//! The subcommands that change or show one task, on real repositories.

mod common;

use common::*;

fn plan(tasks: &[String]) -> String {
    format!("[verify]\ncommands = []\n{SIM_PROFILE}{}", tasks.concat())
}

#[test]
fn init_writes_a_fleet_toml_that_runs_and_does_not_overwrite() {
    let repo = TestRepo::new("", &[]);
    std::fs::remove_file(repo.path().join("fleet.toml")).unwrap();
    let out = repo
        .command(&["init"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(repo.path().join("fleet.toml")).unwrap();
    assert!(written.contains("[agents.sim]") && written.contains("[[task]]"));
    let out = repo.expect(&["init"], 1);
    assert!(text(&out.stderr).contains("already exists; use --force"));
    repo.expect(&["init", "--force"], 0);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("HELLO.md")).unwrap(),
        "Hello from the fleet!\n"
    );
}

#[test]
fn added_tasks_run_after_their_dependencies() {
    let repo = TestRepo::new(&plan(&[task("base", &[], "write base.txt 1\\n")]), &[]);
    repo.expect(
        &[
            "add",
            "extra",
            "--prompt",
            "write extra.txt 2\\n",
            "--dep",
            "base",
            "--title",
            "Extra work",
        ],
        0,
    );
    assert_eq!(repo.task("extra")["title"], "Extra work");
    let out = repo.expect(&["add", "more", "--prompt", "write more.txt 3\\n"], 0);
    let said = text(&out.stdout);
    assert!(!said.contains("paused"), "the fleet is not paused: {said}");
    assert_eq!(repo.task("extra")["reason"], "waiting for base");
    let out = repo.fleetdeck(&["add", "extra", "--prompt", "again"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    let out = repo.fleetdeck(&["add", "bad", "--prompt", "p", "--dep", "ghost"]);
    assert!(
        text(&out.stderr).contains("`ghost`, which is not a task"),
        "{}",
        text(&out.stderr)
    );
    repo.expect(&["add", "Bad", "--prompt", "p"], 2);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let merged = repo.merged_tasks();
    let pos = |t: &str| merged.iter().position(|m| m == t);
    assert!(
        pos("more").is_some() && pos("base") < pos("extra"),
        "{merged:?}"
    );
}

#[test]
fn request_changes_sends_the_feedback_to_the_next_attempt() {
    let script = "write a.txt first\\n\nif-attempt 2 write a.txt second\\n";
    let repo = TestRepo::new(&plan(&[task("a", &[], script)]), &[]);
    repo.expect(&["run", "--headless"], 1);
    assert_eq!(repo.task("a")["status"], "review");
    let out = repo.expect(&["request-changes", "a", "please", "say", "second"], 0);
    let said = text(&out.stdout);
    assert!(!said.contains("paused"), "the fleet is not paused: {said}");
    assert_eq!(repo.task("a")["status"], "queued");
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let prompts = repo.prompts("a");
    assert!(
        prompts[1].contains("asks for changes:\n> please say second"),
        "{}",
        prompts[1]
    );
    assert!(
        !prompts[1].contains("reassigned")
            && prompts[1].contains("What the previous attempt (1, by `sim`) did:"),
        "not reassigned: {}",
        prompts[1]
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("a.txt")).unwrap(),
        "second\n"
    );
}

#[test]
fn a_rejected_task_retried_starts_over_and_its_old_work_is_kept_under_a_ref() {
    let script = "if-attempt 1 write junk.txt bad idea\\n\nwrite good.txt good\\n";
    let repo = TestRepo::new(&plan(&[task("r", &[], script)]), &[]);
    repo.fleetdeck(&["run", "--headless"]);
    repo.expect(&["reject", "r"], 0);
    assert_eq!(repo.task("r")["status"], "failed");
    assert!(
        repo.task("r")["reason"]
            .as_str()
            .unwrap()
            .contains("rejected")
    );
    repo.expect(&["retry", "r"], 0);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert!(
        !repo.path().join("junk.txt").exists(),
        "the rejected work did not land"
    );
    assert!(repo.path().join("good.txt").exists());
    let git = repo.repo();
    let kept = git
        .find_reference("refs/fleet/discarded/r/1")
        .unwrap()
        .peel_to_tree()
        .unwrap();
    assert!(
        kept.get_path(std::path::Path::new("junk.txt")).is_ok(),
        "the rejected work is kept"
    );
    // Commands on a task in the wrong state explain themselves.
    let out = repo.expect(&["approve", "r"], 1);
    assert!(
        text(&out.stderr).contains("task `r` is done: approve needs a task that is in review"),
        "{}",
        text(&out.stderr)
    );
    let out = repo.fleetdeck(&["retry", "nope"]);
    assert!(text(&out.stderr).contains("there is no task `nope`"));
}

#[test]
fn log_shows_the_transcript_parsed_and_sanitized() {
    // The agent prints an OSC 52 clipboard write and a colour change; neither may reach the terminal.
    let script = "say hello there\nwrite f.txt x\\n\nrun printf 'a\\033]52;c;ZXZpbA==\\007b\\033[31mred\\n'\nrun echo from-shell";
    let verify = "[verify]\ncommands = [\"echo verify-output; true\"]\n";
    let repo = TestRepo::new(
        &format!("{verify}{SIM_PROFILE}{}", task("l", &[], script)),
        &[],
    );
    repo.fleetdeck(&["run", "--headless"]);
    let out = repo.expect(&["log", "l"], 0);
    let log = text(&out.stdout);
    assert!(
        log.starts_with("== l attempt 1 by sim (claude), succeeded"),
        "{log}"
    );
    assert!(log.contains("agent: hello there"), "{log}");
    assert!(
        log.contains("ok: abred"),
        "the tool output arrives without its escapes: {log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "escape sequences never reach the terminal: {log:?}"
    );
    assert!(
        log.contains("tool Write f.txt\n"),
        "relative to the worktree: {log}"
    );
    assert!(!log.contains(".fleet/worktrees"), "{log}");
    assert!(log.contains("tool Bash echo from-shell"), "{log}");
    assert!(log.contains("verify verify-output"), "{log}");
    let raw = text(&repo.fleetdeck(&["log", "l", "--raw"]).stdout);
    assert!(
        raw.contains("\"type\":\"result\"") && !raw.contains('\u{1b}'),
        "{raw}"
    );
    let out = repo.fleetdeck(&["log", "l", "--attempt", "7"]);
    assert!(text(&out.stderr).contains("has attempts 1; there is no such attempt"));
}

#[test]
fn the_sim_agent_speaks_claude_stream_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["sim-agent", "write x.txt hi\\n\nfail it broke"])
        .current_dir(dir.path())
        .env("FLEET_ATTEMPT", "2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "system");
    assert_eq!(lines.last().unwrap()["type"], "result");
    assert_eq!(lines.last().unwrap()["is_error"], true);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("x.txt")).unwrap(),
        "hi\n"
    );
}

#[test]
fn a_task_over_its_budget_waits_until_the_budget_is_raised() {
    let script = "cost 0.4\nsay first half\nsleep 100\ncost 0.4\nwrite done.txt ok\\n";
    let plan = format!(
        "[fleet]\ntask_budget_usd = 0.5\n[verify]\ncommands = []\n{SIM_PROFILE}{}",
        task("t", &[], script)
    );
    let repo = TestRepo::new(&plan, &[]);
    // The sim agent reports its spending at the end: 0.8 crosses the 0.5 budget.
    let out = repo.fleetdeck(&["run", "--headless", "--auto-approve"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("crossed its budget"), "{stdout}");
    let shown = text(&repo.fleetdeck(&["budget", "t"]).stdout);
    assert!(shown.contains("budget $0.50"), "{shown}");
    repo.expect(&["budget", "t", "--usd", "5"], 0);
    assert!(text(&repo.fleetdeck(&["budget", "t"]).stdout).contains("budget $5.00"));
    repo.expect(&["run", "--headless", "--auto-approve", "--resume"], 0);
    assert_eq!(repo.task("t")["status"], "done");
    // The fleet's budget too.
    repo.expect(&["budget", "--usd", "20"], 0);
    assert!(text(&repo.fleetdeck(&["budget"]).stdout).contains("budget $20.00"));
}
