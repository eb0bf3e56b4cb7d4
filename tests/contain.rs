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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_setsid_descendant_dies_when_the_engine_stops() {
    let marker = "1000.1237";
    let agent = format!("{}; exec sleep 1000.1239", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan(&agent, &[]), &[]);
    let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let handle = engine.handle();
    let run = tokio::spawn(async move { engine.run(false).await });
    let pid_file = worktree(&repo, "t").join("escaped.pid");
    let pid = tokio::task::spawn_blocking(move || pid_in(&pid_file))
        .await
        .unwrap();
    handle.shutdown();
    run.await.unwrap();
    tokio::task::spawn_blocking(move || assert_dies(pid, marker, "the engine's stop"))
        .await
        .unwrap();
}

/// Pids of the watchdogs of `fleet_dir` (by their command line).
fn watchdogs(fleet_dir: &Path) -> Vec<i32> {
    let needle = format!("__watchdog\0{}\0", fleet_dir.display()).into_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle.as_slice()))
        })
        .collect()
}

#[test]
fn the_next_start_kills_what_a_dead_engine_and_its_dead_watchdog_left() {
    let marker = "1000.1238";
    let agent = format!("{}; exec sleep 1000.1239", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan(&agent, &[]), &[]);
    let fleet_dir = repo.path().canonicalize().unwrap().join(".fleet");
    let mut engine = repo
        .command(&["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = pid_in(&worktree(&repo, "t").join("escaped.pid"));
    let dogs = watchdogs(&fleet_dir);
    for dog in &dogs {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*dog),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    engine.kill().unwrap();
    engine.wait().unwrap();
    assert_eq!(dogs.len(), 1, "one watchdog per engine: {dogs:?}");
    assert!(
        alive(pid, marker),
        "nothing is left to kill it before the next start"
    );

    // The next start (a paused fleet, as the attempt was interrupted) sweeps the fleet's cgroups.
    repo.expect(&["run", "--headless"], 1);
    assert_dies(pid, marker, "the next start");
}

#[test]
fn nothing_of_the_fleet_outlives_the_cockpit_killed_with_sigkill() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let marker = "1000.1240";
    let agent = format!("{}; exec sleep 1000.1239", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan(&agent, &[]), &[]);
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.cwd(repo.path());
    cmd.env("TERM", "xterm-256color");
    let mut cockpit = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let drain = std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));

    let pid = pid_in(&worktree(&repo, "t").join("escaped.pid"));
    let cockpit_pid = cockpit.process_id().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(cockpit_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    cockpit.wait().unwrap();
    drop(pty.master); // the terminal goes away too (SIGHUP to what is left on it)
    assert_dies(pid, marker, "the cockpit");
    let fleet_dir = repo.path().canonicalize().unwrap().join(".fleet");
    wait_for(
        Duration::from_secs(5),
        "the fleet's processes to die",
        || {
            (fleetdeck::runtime::process::processes_of(&fleet_dir).is_empty()
                && watchdogs(&fleet_dir).is_empty())
            .then_some(())
        },
    );
    let _ = drain.join();
}
