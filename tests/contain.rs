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
use fleetdeck::runtime::{Engine, EngineOptions};

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
    let repo = TestRepo::new(&shell_plan("sh", &agent, &[]), &[]);
    let pid_file = worktree(&repo, "t").join("escaped.pid");
    escaped_process_dies_before_review(&repo, &pid_file, marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verify_commands_setsid_descendant_dies_when_it_ends() {
    let marker = "1000.1232";
    let verify = escape(marker, "verify.pid");
    let repo = TestRepo::new(&shell_plan("sh", "echo hi > a.txt", &[verify]), &[]);
    let pid_file = worktree(&repo, "t").join("verify.pid");
    escaped_process_dies_before_review(&repo, &pid_file, marker).await;
}

#[test]
fn nothing_of_the_fleet_outlives_an_engine_killed_with_sigkill() {
    let marker = "1000.1233";
    let agent = format!("{}; exec sleep 1000.1239", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan("sh", &agent, &[]), &[]);
    let mut engine = start_headless(&repo, &[]);
    let pid = pid_in(&worktree(&repo, "t").join("escaped.pid"));
    engine.kill().unwrap(); // SIGKILL
    engine.wait().unwrap();
    assert_dies(pid, marker, "the engine");
    assert_fleet_gone(&repo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_setsid_descendant_dies_when_the_engine_stops() {
    let marker = "1000.1237";
    let agent = format!("{}; exec sleep 1000.1239", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan("sh", &agent, &[]), &[]);
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
    pids_whose("cmdline", |c| {
        c.windows(needle.len()).any(|w| w == needle.as_slice())
    })
}

#[test]
fn the_next_start_kills_what_a_dead_engine_and_its_dead_watchdog_left() {
    let marker = "1000.1238";
    let agent = format!("{}; exec sleep 1000.1239", escape(marker, "escaped.pid"));
    let repo = TestRepo::new(&shell_plan("sh", &agent, &[]), &[]);
    let fleet_dir = repo.path().canonicalize().unwrap().join(".fleet");
    let mut engine = start_headless(&repo, &[]);
    let pid = pid_in(&worktree(&repo, "t").join("escaped.pid"));
    let dogs = watchdogs(&fleet_dir);
    dogs.iter().copied().for_each(sigkill);
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
    let repo = TestRepo::new(&shell_plan("sh", &agent, &[]), &[]);
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
    sigkill(cockpit.process_id().unwrap() as i32);
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
