//! The message bus and the shared context store through the real binary
//! with sim agents: a decision of task A in task B's prompt, a blocker on
//! the card until the next decision, messages written while no engine runs
//! taken once at the next start, a malformed message set aside with its
//! reason and told to the agent, `fleetdeck context` (query, JSON,
//! `--export`, the user's `--add` and `--retire`), and the inbox under
//! load (50 writers × 40 messages while the engine runs).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use fleetdeck::runtime::inbox;

fn config(tasks: &[String]) -> String {
    format!(
        "[fleet]\nmax_parallel = 2\n[verify]\ncommands = [\"true\"]\n{SIM_PROFILE}{}",
        tasks.concat()
    )
}

fn messages(repo: &TestRepo) -> Vec<serde_json::Value> {
    repo.events()
        .into_iter()
        .filter(|(kind, ..)| kind == "message")
        .map(|(.., detail)| detail["message"].clone())
        .collect()
}

/// Runs `fleetdeck msg ...` as the agent of `task` would.
fn msg_as(repo: &TestRepo, task: &str, args: &[&str]) -> std::process::Output {
    let fleet = repo.path().join(".fleet");
    std::fs::create_dir_all(&fleet).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .arg("msg")
        .args(args)
        .env("FLEET_DIR", &fleet)
        .env("FLEET_TASK", task)
        .env("FLEET_ATTEMPT", "1")
        .output()
        .unwrap()
}

/// `run --headless --auto-approve` in the background, once task `a` runs.
fn run_until_a_runs(repo: &TestRepo) -> std::process::Child {
    let engine = repo
        .command(&["run", "--headless", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while repo.try_task("a").is_none_or(|t| t["status"] != "running") {
        assert!(Instant::now() < deadline, "a never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    engine
}

#[test]
fn a_decision_of_a_reaches_bs_prompt_and_the_context_command_shows_and_exports_it() {
    let tasks = [
        task(
            "a",
            &[],
            "msg decision errors are JSON objects with a code\nwrite a.txt a\\n",
        ),
        task("b", &["a"], "context JSON\nwrite b.txt b\\n"),
    ];
    let repo = TestRepo::new(&config(&tasks), &[("README", "hi\n")]);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(repo.merged_tasks(), vec!["a", "b"]);
    let m = messages(&repo);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (m[0]["kind"].as_str(), m[0]["task"].as_str()),
        (Some("decision"), Some("a"))
    );
    // B's prompt carries the decision; its agent read it with `fleetdeck context`.
    let prompt = &repo.prompts("b")[0];
    assert!(prompt.contains("## Team context"), "{prompt}");
    assert!(
        prompt.contains("- [decision] errors are JSON objects with a code (task `a`, sim)"),
        "{prompt}"
    );
    assert!(prompt.contains("## Messages to the team"), "{prompt}");
    let log_b = text(&repo.expect(&["log", "b"], 0).stdout);
    assert!(
        log_b.contains("#1 [decision] errors are JSON objects with a code"),
        "{log_b}"
    );
    // A's transcript has its message as a note line.
    let log_a = text(&repo.expect(&["log", "a"], 0).stdout);
    assert!(
        log_a.contains("message #1 [decision]: errors are JSON"),
        "{log_a}"
    );

    // The user reads the store without an engine: query, JSON, export.
    let out = text(&repo.expect(&["context", "json", "code"], 0).stdout);
    assert!(
        out.contains("#1 [decision] errors are JSON objects with a code (task `a`, sim)"),
        "{out}"
    );
    let none = text(&repo.expect(&["context", "nothing-like-this"], 0).stdout);
    assert!(none.contains("no context entry matches"), "{none}");
    let json: serde_json::Value =
        serde_json::from_slice(&repo.expect(&["context", "--json"], 0).stdout).unwrap();
    assert_eq!(json[0]["id"], 1);
    assert_eq!(json[0]["author"]["task"], "a");
    let md = repo.path().join("context.md");
    repo.expect(&["context", "--export", md.to_str().unwrap()], 0);
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.starts_with("# Team context\n"), "{md}");
    assert!(
        md.contains("## Decision\n\n- errors are JSON objects with a code (#1, task `a`, sim)"),
        "{md}"
    );

    // The user's changes go through the inbox; the next start takes them.
    repo.expect(
        &[
            "context",
            "--add",
            "convention",
            "snake_case names",
            "--task",
            "b",
        ],
        0,
    );
    repo.expect(&["context", "--retire", "1"], 0);
    let before = text(&repo.expect(&["context"], 0).stdout);
    assert!(!before.contains("snake_case"), "not taken yet: {before}");
    repo.expect(&["run", "--headless"], 0);
    let after = text(&repo.expect(&["context"], 0).stdout);
    assert!(
        after.contains("#2 [convention] snake_case names (the user; for tasks b)"),
        "{after}"
    );
    assert!(!after.contains("#1 "), "retired: {after}");
    let all = text(&repo.expect(&["context", "--all"], 0).stdout);
    assert!(
        all.contains("#1 [decision]") && all.contains("retired"),
        "{all}"
    );
    assert!(inbox::pending(&inbox::dir(&repo.path().join(".fleet"))).is_empty());
    let bad = repo.expect(&["context", "--add", "rumour", "x"], 2);
    assert!(text(&bad.stderr).contains("unknown context kind `rumour`"));
}

#[test]
fn a_blocker_marks_the_card_until_the_users_next_decision() {
    let tasks = [task(
        "a",
        &[],
        "msg blocker need the API's error shape\nwrite a.txt a\\n",
    )];
    let repo = TestRepo::new(&config(&tasks), &[("README", "hi\n")]);
    repo.expect(&["run", "--headless"], 1); // a waits in review
    let row = repo.task("a");
    assert_eq!(row["status"], "review", "{row}");
    assert_eq!(row["blocker"], "need the API's error shape", "{row}");
    repo.expect(&["approve", "a"], 0);
    let row = repo.task("a");
    assert!(row.get("blocker").is_none(), "{row}");
}

#[test]
fn messages_written_while_no_engine_runs_are_taken_once_at_the_next_start() {
    let tasks = [task("a", &[], "write a.txt a\\n")];
    let repo = TestRepo::new(&config(&tasks), &[("README", "hi\n")]);
    for (kind, text) in [
        ("query", "which port?"),
        ("decision", "port 8080"),
        ("progress", "half"),
    ] {
        let out = msg_as(&repo, "a", &[kind, text]);
        assert!(out.status.success(), "{}", common::text(&out.stderr));
    }
    let out = msg_as(&repo, "a", &["decision", "x", "--path", "../outside"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::text(&out.stderr).contains("`..`"));
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let m = messages(&repo);
    let ids: Vec<i64> = m.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3], "{m:?}");
    assert_eq!(m[1]["text"], "port 8080");
    repo.expect(&["run", "--headless"], 0);
    assert_eq!(messages(&repo).len(), 3, "taken once");
    let out = text(&repo.expect(&["context", "port"], 0).stdout);
    assert!(out.contains("#1 [decision] port 8080"), "{out}");
}

#[test]
fn a_malformed_message_is_set_aside_with_its_reason_and_the_agent_hears_of_it() {
    let tasks = [task("a", &[], "msg progress still here\nwrite a.txt a\\n")];
    let repo = TestRepo::new(&config(&tasks), &[("README", "hi\n")]);
    let fleet = repo.path().join(".fleet");
    let entry = inbox::Entry {
        kind: "shout".into(),
        task: "a".into(),
        attempt: 1,
        text: "HELLO".into(),
        time_ms: 1,
        paths: Vec::new(),
        command: None,
    };
    let written = inbox::write(&fleet, &entry).unwrap();
    let name = written.file_name().unwrap().to_str().unwrap().to_owned();
    let original = std::fs::read_to_string(&written).unwrap();
    let out = repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert!(
        text(&out.stderr).contains("unknown kind `shout`")
            || text(&out.stdout).contains("unknown kind `shout`")
    );
    let bad = inbox::dir(&fleet).join("bad");
    assert_eq!(
        std::fs::read_to_string(bad.join(&name)).unwrap(),
        original,
        "nothing lost"
    );
    let why = std::fs::read_to_string(bad.join(format!("{name}.why.told"))).unwrap();
    assert!(why.contains("unknown kind `shout`"), "{why}");
    let log = text(&repo.expect(&["log", "a", "--raw"], 0).stdout);
    assert!(
        log.contains(&format!(
            "your earlier message {name} was refused: unknown kind `shout`"
        )),
        "{log}"
    );
    assert_eq!(messages(&repo).len(), 1, "the good message was taken");
}

#[test]
fn fifty_writers_of_forty_messages_each_while_the_engine_runs_lose_none_and_double_none() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("writers-done");
    let wait = format!(
        "run for i in $(seq 1200); do test -f {} && exit 0; sleep 0.05; done; exit 1\nwrite a.txt a\\n",
        flag.display()
    );
    let tasks = [task("a", &[], &wait)];
    let repo = TestRepo::new(&config(&tasks), &[("README", "hi\n")]);
    let engine = run_until_a_runs(&repo);
    let fleet = repo.path().join(".fleet");
    let writers: Vec<_> = (0..50)
        .map(|w| {
            let fleet = fleet.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let entry = inbox::Entry {
                        kind: "query".into(),
                        task: "a".into(),
                        attempt: 1,
                        text: format!("w{w}-m{i}"),
                        time_ms: fleetdeck::store::now_ms(),
                        paths: Vec::new(),
                        command: None,
                    };
                    inbox::write(&fleet, &entry).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    std::fs::write(&flag, "").unwrap();
    let out = engine.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let texts: Vec<String> = messages(&repo)
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    let unique: BTreeSet<&String> = texts.iter().collect();
    assert_eq!(texts.len(), 2000, "none lost, none twice");
    assert_eq!(unique.len(), 2000);
    let ids: Vec<i64> = messages(&repo)
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (1..=2000).collect::<Vec<i64>>());
    assert!(inbox::pending(&inbox::dir(&fleet)).is_empty());
    assert!(!inbox::dir(&fleet).join("bad").exists(), "none refused");
    assert_eq!(repo.merged_tasks(), vec!["a"]);
}

fn told(repo: &TestRepo) -> Vec<serde_json::Value> {
    repo.events()
        .into_iter()
        .filter(|(kind, ..)| kind == "context_told")
        .map(|(.., detail)| detail)
        .collect()
}

#[test]
fn a_running_agent_that_can_resume_is_told_of_a_new_entry_in_its_session() {
    let tasks = [task(
        "a",
        &[],
        "write a.txt a\\n\nif-attempt 1 run for i in $(seq 1200); do sleep 0.05; done\n",
    )];
    let config = config(&tasks).replace(
        "format = \"claude\"\n",
        "format = \"claude\"\nresume = [\"--resume\", \"{session}\"]\n",
    );
    let repo = TestRepo::new(&config, &[("README", "hi\n")]);
    let engine = run_until_a_runs(&repo);
    repo.expect(&["context", "--add", "decision", "listen on port 8080"], 0);
    let out = engine.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let prompts = repo.prompts("a");
    assert_eq!(prompts.len(), 2, "stopped and resumed: {prompts:?}");
    assert!(
        prompts[1].contains("New team context arrived while you work"),
        "{}",
        prompts[1]
    );
    assert!(
        prompts[1].contains("- [decision] listen on port 8080 (the user)"),
        "{}",
        prompts[1]
    );
    let told = told(&repo);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["entries"], serde_json::json!([1]));
    assert_eq!(told[0]["resumed"], serde_json::json!(true));
    assert_eq!(repo.merged_tasks(), vec!["a"]);
}

#[test]
fn a_running_agent_that_cannot_resume_is_not_stopped_for_a_new_entry() {
    let tasks = [task(
        "a",
        &[],
        "run for i in $(seq 100); do sleep 0.05; done\nwrite a.txt a\\n\n",
    )];
    let repo = TestRepo::new(&config(&tasks), &[("README", "hi\n")]);
    let engine = run_until_a_runs(&repo);
    repo.expect(&["context", "--add", "decision", "listen on port 8080"], 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while told(&repo).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the entry never reached the engine"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = engine.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(repo.prompts("a").len(), 1, "not stopped: one attempt");
    let told = told(&repo);
    assert_eq!(told[0]["resumed"], serde_json::json!(false), "{told:?}");
    assert_eq!(repo.merged_tasks(), vec!["a"]);
}
