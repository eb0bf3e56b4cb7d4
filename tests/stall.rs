//! The progress ledger, nudges and agents' reports on real repositories:
//! a looping agent shows stalled in `status --json` (the real binary); a
//! nudge resumes its session with the message and uses no try (the engine
//! driven through its library API, with `tests/agents/loop-claude.sh`
//! recording its argv); `fleetdeck report` run by a sim agent reaches the
//! event log, and a report written while no engine runs is taken at the
//! next start, once, with a bad file set aside.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use fleetdeck::core::{Command, Event, Status, TaskId};
use fleetdeck::runtime::{Engine, EngineHandle, EngineOptions, Notification};

fn here(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn kinds(repo: &TestRepo, kind: &str) -> Vec<serde_json::Value> {
    repo.events()
        .into_iter()
        .filter(|(k, ..)| k == kind)
        .map(|(_, _, detail)| detail)
        .collect()
}

/// How many agent reports the log holds; None while there is no log yet.
fn reports_so_far(repo: &TestRepo) -> Option<i64> {
    let db = repo.path().join(".fleet/fleet.db");
    if !db.exists() {
        return None;
    }
    let conn = rusqlite::Connection::open(db).ok()?;
    conn.query_row(
        "SELECT count(*) FROM events WHERE kind = 'agent_reported'",
        [],
        |r| r.get(0),
    )
    .ok()
}

#[test]
fn an_agent_repeating_one_tool_call_shows_stalled_in_status() {
    let script = "run sleep 0.2\n".repeat(150);
    let plan =
        format!("{SIM_PROFILE}\n[[task]]\nid = \"loop\"\nagent = \"sim\"\nprompt = {script:?}\n");
    let repo = TestRepo::new(&plan, &[]);
    let mut run = repo
        .command(&["run", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stalled = wait_for(Duration::from_secs(30), "the task to be stalled", || {
        repo.try_task("loop")?["stalled"]
            .as_str()
            .map(str::to_owned)
    });
    assert_eq!(stalled, "repeats `Bash: sleep 0.2` 5 times");
    assert_eq!(repo.task("loop")["status"], "running");
    let events = kinds(&repo, "stalled");
    assert_eq!(events.len(), 1, "once per episode: {events:?}");
    assert_eq!(events[0]["why"], stalled);
    assert_eq!(events[0]["attempt"], 1);
    let text = text(&repo.expect(&["status"], 0).stdout);
    assert!(
        text.contains("stalled: repeats `Bash: sleep 0.2`"),
        "{text}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    run.wait().unwrap();
}

/// A fleet whose one task runs `loop-claude.sh`, with session resume.
fn looping(log: &Path) -> TestRepo {
    let plan = format!(
        "[agents.a]\ncommand = [\"sh\", {:?}, \"-p\", \"{{prompt}}\"]\nformat = \"claude\"\nresume = [\"--resume\", \"{{session}}\"]\nenv = {{ ARGS_LOG = {:?} }}\n\n[[task]]\nid = \"t\"\nagent = \"a\"\nprompt = \"do the work\"\n",
        here("tests/agents/loop-claude.sh"),
        log.display().to_string()
    );
    TestRepo::new(&plan, &[])
}

/// Opens the fleet of `repo` and runs its engine in a task (until idle,
/// or until shut down).
fn spawn_engine(
    repo: &TestRepo,
    options: EngineOptions,
    until_idle: bool,
) -> (
    tokio::sync::mpsc::UnboundedReceiver<Notification>,
    EngineHandle,
    tokio::task::JoinHandle<()>,
) {
    let mut engine = Engine::open(repo.path(), options).unwrap();
    let events = engine.subscribe();
    let handle = engine.handle();
    let run = tokio::spawn(async move { engine.run(until_idle).await });
    (events, handle, run)
}

/// The next notification, failing the test at `deadline`.
async fn next(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<Notification>,
    deadline: tokio::time::Instant,
) -> Notification {
    tokio::time::timeout_at(deadline, events.recv())
        .await
        .expect("timed out")
        .expect("the engine ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nudge_resumes_the_stalled_session_with_the_message_and_uses_no_try() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("args.log");
    let repo = looping(&log);
    let options = EngineOptions {
        auto_approve: true,
        ..EngineOptions::default()
    };
    let (mut events, handle, run) = spawn_engine(&repo, options, true);
    let t = TaskId::parse("t").unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Notification::Event {
            event: Event::Stalled { attempt, why, .. },
            ..
        } = next(&mut events, deadline).await
        {
            assert_eq!(attempt, 1);
            assert_eq!(why, "repeats `Bash: cargo test` 5 times");
            break;
        }
    }
    let refused = handle
        .command(Command::Nudge {
            task: TaskId::parse("nope").unwrap(),
            message: "x".into(),
        })
        .await;
    assert!(refused.is_err());
    handle
        .command(Command::Nudge {
            task: t.clone(),
            message: "stop running the tests and write the file".into(),
        })
        .await
        .unwrap();
    let done = loop {
        if let Notification::Task { task } = next(&mut events, deadline).await
            && matches!(task.status, Status::Done { .. })
        {
            break task;
        }
    };
    run.await.unwrap();
    assert_eq!(done.attempts, 2, "the nudge continued in a second attempt");
    assert_eq!(done.tries, 1, "the nudged attempt used no try");
    assert_eq!(done.stalled, None);
    let runs = std::fs::read_to_string(&log).unwrap();
    let (first, second) = runs.trim_end().rsplit_once('\n').unwrap();
    assert!(first.starts_with("-p do the work\n\n"), "{first}");
    assert_eq!(
        second, "-p stop running the tests and write the file --resume sess-1",
        "the session of attempt 1 is resumed with just the message"
    );
    let nudged = kinds(&repo, "nudged");
    assert_eq!(nudged.len(), 1);
    assert_eq!(
        nudged[0]["message"],
        "stop running the tests and write the file"
    );
    let outcome = &repo.task("t")["history"][0]["outcome"];
    assert_eq!(outcome, "stopped", "{}", repo.task("t"));
}

#[test]
fn a_report_run_by_an_agent_reaches_the_event_log_while_it_runs() {
    let script =
        "run fleetdeck report found \"the parser has no tests\"\nsleep 4000\nwrite a.txt hi\\n\n";
    let plan =
        format!("{SIM_PROFILE}\n[[task]]\nid = \"api\"\nagent = \"sim\"\nprompt = {script:?}\n");
    let repo = TestRepo::new(&plan, &[]);
    let run = repo
        .command(&["run", "--headless", "--auto-approve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(20), "the report in the log", || {
        (reports_so_far(&repo)? > 0).then_some(())
    });
    assert_eq!(
        repo.task("api")["status"],
        "running",
        "taken on the inbox's notify event, while the agent still runs"
    );
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let reported = kinds(&repo, "agent_reported");
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0]["task"], "api");
    assert_eq!(reported[0]["attempt"], 1);
    assert_eq!(reported[0]["kind"], "found");
    assert_eq!(reported[0]["text"], "the parser has no tests");
    let inbox = repo.path().join(".fleet/inbox");
    assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 0, "taken");
}

/// `fleetdeck report` as an agent of `repo` would run it.
fn report_as_agent(repo: &TestRepo, task: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.arg("report")
        .args(args)
        .env("FLEET_DIR", repo.path().join(".fleet"))
        .env("FLEET_TASK", task)
        .env("FLEET_ATTEMPT", "1");
    cmd.output().unwrap()
}

#[test]
fn a_report_written_while_no_engine_runs_is_taken_at_the_next_start_once() {
    let plan = format!(
        "{SIM_PROFILE}\n[[task]]\nid = \"api\"\nagent = \"sim\"\nprompt = \"write a.txt hi\"\n"
    );
    let repo = TestRepo::new(&plan, &[]);
    repo.expect(&["run", "--headless"], 1); // waits in review
    let out = report_as_agent(
        &repo,
        "api",
        &["complexity", "it", "needs", "two", "modules"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bad = report_as_agent(&repo, "ghost", &["found", "x"]);
    assert!(bad.status.success(), "the writer does not know the plan");
    let outside = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["report", "found", "x"])
        .env_remove("FLEET_DIR")
        .env_remove("FLEET_TASK")
        .env_remove("FLEET_ATTEMPT")
        .output()
        .unwrap();
    assert_eq!(outside.status.code(), Some(2));
    assert!(
        text(&outside.stderr).contains("this is not a fleet agent"),
        "{}",
        text(&outside.stderr)
    );
    assert!(
        kinds(&repo, "agent_reported").is_empty(),
        "no engine ran yet"
    );
    // A one-shot command's engine leaves the inbox to the next run.
    repo.expect(&["reassign", "api", "sim"], 0);
    assert!(
        kinds(&repo, "agent_reported").is_empty(),
        "not taken by a one-shot engine"
    );

    let out = repo.expect(&["run", "--headless"], 1);
    let reported = kinds(&repo, "agent_reported");
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0]["kind"], "complexity");
    assert_eq!(reported[0]["text"], "it needs two modules");
    let inbox = repo.path().join(".fleet/inbox");
    let set_aside: Vec<_> = std::fs::read_dir(inbox.join("bad"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        set_aside.len(),
        2,
        "the bad file is kept, with its reason: {set_aside:?}"
    );
    assert!(
        set_aside.iter().any(|n| n.ends_with(".json.why")),
        "{set_aside:?}"
    );
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        said.contains("there is no task `ghost` in this fleet") && said.contains("inbox/bad/"),
        "the warning names the file and what is wrong: {said}"
    );
    repo.expect(&["run", "--headless"], 1);
    assert_eq!(kinds(&repo, "agent_reported").len(), 1, "never taken twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_without_progress_for_stall_after_is_stalled_and_told_about_reports() {
    let plan = "[agents.quiet]\ncommand = [\"sh\", \"-c\", \"sleep 30\", \"{prompt}\"]\n\n[[task]]\nid = \"t\"\nagent = \"quiet\"\nprompt = \"do the work\"\n";
    let repo = TestRepo::new(plan, &[]);
    let options = EngineOptions {
        stall_after_secs: Some(1),
        supervised: true,
        ..EngineOptions::default()
    };
    let (mut events, handle, run) = spawn_engine(&repo, options, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let why = loop {
        if let Notification::Event {
            event: Event::Stalled { why, .. },
            ..
        } = next(&mut events, deadline).await
        {
            break why;
        }
    };
    // The worktree is counted every 5 s at the least: the first count after
    // the baseline finds the stall.
    assert!(
        why.starts_with("no progress for ")
            && why.ends_with(": 0 files changed, 0 distinct tool calls, 0 errors"),
        "{why}"
    );
    handle
        .command(Command::Restart {
            task: TaskId::parse("t").unwrap(),
        })
        .await
        .unwrap();
    // Attempt 2 is recorded (with its prompt) before its agent launches.
    while repo.prompts("t").len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no second attempt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown();
    run.await.unwrap();
    let prompts = repo.prompts("t");
    assert_eq!(prompts.len(), 2, "restarted: {prompts:?}");
    for p in &prompts {
        assert!(
            p.starts_with("do the work\n\n## Reporting to the supervisor\n")
                && p.contains("fleetdeck report found"),
            "{p}"
        );
    }
    assert_eq!(
        repo.task("t")["tries"],
        1,
        "the restarted attempt used no try"
    );
}

#[test]
fn a_stall_consults_the_supervisor_with_what_the_attempt_did_so_far() {
    let planner = tempfile::tempdir().unwrap();
    std::fs::write(planner.path().join("answer"), "no plan today").unwrap();
    let script = "run sleep 0.2\n".repeat(150);
    let plan = format!(
        "{SIM_PROFILE}\n[agents.planner]\ncommand = [{:?}, \"--prompt\", \"{{prompt}}\"]\nformat = \"text\"\nenv = {{ PLANNER_DIR = {:?} }}\n\n[supervisor]\nagent = \"planner\"\nreask_limit = 0\nstall_after_secs = 600\n\n[[task]]\nid = \"loop\"\nagent = \"sim\"\nprompt = {script:?}\n",
        here("tests/agents/planner.sh"),
        planner.path().to_string_lossy()
    );
    let repo = TestRepo::new(&plan, &[]);
    let mut run = repo
        .command(&["run", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let asked = planner.path().join("prompt-1");
    let prompt = wait_for(Duration::from_secs(30), "the planner's prompt", || {
        std::fs::read_to_string(&asked)
            .ok()
            .filter(|p| !p.is_empty())
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    run.wait().unwrap();
    assert!(
        prompt.contains("`loop` stalled: repeats `Bash: sleep 0.2` 5 times"),
        "{prompt}"
    );
    assert!(
        prompt.contains("What attempt 1 did so far: 0 files changed, 1 distinct tool calls"),
        "the ledger's summary: {prompt}"
    );
    let agent_prompt = &repo.prompts("loop")[0];
    assert!(
        agent_prompt.contains("## Reporting to the supervisor"),
        "with [supervisor] every agent is told: {agent_prompt}"
    );
}
