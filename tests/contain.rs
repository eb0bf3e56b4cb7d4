//! Containment of agents' process trees: a descendant that calls `setsid`
//! and clears its environment dies when its attempt ends, when its verify
//! command ends, and when the engine is killed with SIGKILL.
//!
//! Each test's escaped process runs `sleep` with a marker argument of its
//! own (`1000.123N`), writes its pid into a file first, and is looked for in
//! `/proc/<pid>/cmdline`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::escape::*;
use common::*;
use fleetdeck::core::{Event, Status};
use fleetdeck::runtime::{Engine, EngineOptions, Notification};
use tokio::sync::mpsc::UnboundedReceiver;

fn shell_plan(agent_script: &str, verify: &[String]) -> String {
    let verify: Vec<String> = verify.iter().map(|c| format!("{c:?}")).collect();
    format!(
        "[verify]\ncommands = [{}]\n[agents.shell]\ncommand = [\"sh\", \"-c\", {agent_script:?}]\nformat = \"text\"\n\
         [[task]]\nid = \"t\"\nagent = \"shell\"\nprompt = \"x\"\n",
        verify.join(", ")
    )
}

/// Waits for `task` to reach the status named `to`.
async fn wait_status(events: &mut UnboundedReceiver<Notification>, task: &str, to: &str) -> Status {
    let wait = async {
        while let Some(n) = events.recv().await {
            if let Notification::Event {
                event: Event::Status { task: t, to: s, .. },
                ..
            } = n
                && t.as_str() == task
                && s.name() == to
            {
                return s;
            }
        }
        panic!("event stream ended before {task} became {to}");
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("timed out: {task} -> {to}"))
}

/// Runs the engine of `repo` until `t` is in review, then checks (while the
/// engine still runs) that the process whose pid is in `pid_file` is gone.
async fn escaped_process_dies_before_review(repo: &TestRepo, pid_file: &Path, marker: &str) {
    let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let mut events = engine.subscribe();
    let handle = engine.handle();
    let run = tokio::spawn(async move { engine.run(false).await });
    wait_status(&mut events, "t", "review").await;
    let pid = pid_in(pid_file);
    let check = tokio::task::spawn_blocking({
        let marker = marker.to_owned();
        move || assert_dies(pid, &marker, "its attempt")
    })
    .await;
    handle.shutdown();
    run.await.unwrap();
    check.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_setsid_descendant_dies_when_the_attempt_ends() {
    let marker = "1000.1231";
    let agent = format!("{}; echo done", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan(&agent, &[]), &[]);
    let pid_file = worktree(&repo, "t").join("escaped.pid");
    escaped_process_dies_before_review(&repo, &pid_file, marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verify_commands_setsid_descendant_dies_when_it_ends() {
    let marker = "1000.1232";
    let verify = escape(marker, "verify.pid");
    let repo = TestRepo::new(&shell_plan("echo hi > a.txt", &[verify]), &[]);
    let pid_file = worktree(&repo, "t").join("verify.pid");
    escaped_process_dies_before_review(&repo, &pid_file, marker).await;
}

#[test]
fn nothing_of_the_fleet_outlives_an_engine_killed_with_sigkill() {
    let marker = "1000.1233";
    let agent = format!("{}; exec sleep 1000.1239", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan(&agent, &[]), &[]);
    let mut engine = repo
        .command(&["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = pid_in(&worktree(&repo, "t").join("escaped.pid"));
    engine.kill().unwrap(); // SIGKILL
    engine.wait().unwrap();
    assert_dies(pid, marker, "the engine");
    let fleet_dir = repo.path().canonicalize().unwrap().join(".fleet");
    wait_for(
        Duration::from_secs(5),
        "every process of the fleet to die",
        || {
            fleetdeck::runtime::process::processes_of(&fleet_dir)
                .is_empty()
                .then_some(())
        },
    );
}
