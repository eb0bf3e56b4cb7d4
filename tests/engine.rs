//! The engine driven through its library API on real repositories: signals
//! to agent process groups, stop escalation, drop, and recovery of merges
//! that were in flight.

mod common;

use std::time::Duration;

use common::*;
use fleetdeck::core::{Command, Status, TaskId};
use fleetdeck::runtime::{Engine, EngineHandle, EngineOptions, Notification};
use tokio::sync::mpsc::UnboundedReceiver;

fn id(s: &str) -> TaskId {
    TaskId::parse(s).unwrap()
}

/// The process state letter (R, S, T...) of every process in group `pgid`.
fn group_states(pgid: i32) -> Vec<char> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let after = &stat[stat.rfind(')')? + 2..];
            let mut fields = after.split_whitespace();
            let state = fields.next()?.chars().next()?;
            let _ppid = fields.next()?;
            let pgrp: i32 = fields.next()?.parse().ok()?;
            (pgrp == pgid).then_some(state)
        })
        .collect()
}

/// The process group of the one agent running in `repo`, found as the
/// engine finds leftovers: by `FLEET_DIR` in its environment.
fn agent_group(repo: &TestRepo) -> Option<i32> {
    let fleet_dir = repo.path().join(".fleet");
    fleetdeck::runtime::process::processes_of(&fleet_dir)
        .into_iter()
        .find(|&pid| !group_states(pid).is_empty()) // the group's leader
}

async fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Opens the fleet of `repo` and runs its engine in a task until shut down.
fn spawn_engine(
    repo: &TestRepo,
) -> (
    UnboundedReceiver<Notification>,
    EngineHandle,
    tokio::task::JoinHandle<()>,
) {
    let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let events = engine.subscribe();
    let handle = engine.handle();
    (
        events,
        handle,
        tokio::spawn(async move { engine.run(false).await }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_the_whole_process_group_and_resume_continues_it() {
    let plan = format!(
        "{}\n[agents.shell]\ncommand = [\"sh\", \"-c\", \"sleep 30 & sleep 30; wait\"]\n[[task]]\nid = \"long\"\nagent = \"shell\"\nprompt = \"x\"\n",
        sim_profile_abs()
    );
    let repo = TestRepo::new(&plan, &[]);
    let (mut events, handle, run) = spawn_engine(&repo);
    wait_status(&mut events, "long", "running").await;
    let pgid = poll("the agent's process group", || agent_group(&repo)).await;
    poll("three processes in the group", || {
        (group_states(pgid).len() == 3).then_some(())
    })
    .await;

    handle
        .command(Command::PauseTask { task: id("long") })
        .await
        .unwrap();
    poll("every process stopped", || {
        group_states(pgid).iter().all(|s| *s == 'T').then_some(())
    })
    .await;
    assert_eq!(repo.task("long")["status"], "paused");

    handle
        .command(Command::ResumeTask { task: id("long") })
        .await
        .unwrap();
    poll("every process running again", || {
        group_states(pgid).iter().all(|s| *s != 'T').then_some(())
    })
    .await;

    // Dropping a running task stops it (TERM) and drops it.
    handle
        .command(Command::Drop { task: id("long") })
        .await
        .unwrap();
    wait_status(&mut events, "long", "dropped").await;
    poll("the group to be gone", || {
        group_states(pgid).iter().all(|s| *s == 'Z').then_some(())
    })
    .await;
    handle.shutdown();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_that_is_ignored_escalates_to_kill_after_the_grace_period() {
    let plan = format!(
        "[fleet]\nstop_grace_secs = 0.3\n{}\n[agents.stubborn]\ncommand = [\"sh\", \"-c\", \"trap '' TERM; echo started; sleep 30\"]\n[[task]]\nid = \"t\"\nagent = \"stubborn\"\nprompt = \"x\"\n",
        sim_profile_abs()
    );
    let repo = TestRepo::new(&plan, &[]);
    let (mut events, handle, run) = spawn_engine(&repo);
    wait_status(&mut events, "t", "running").await;
    let pgid = poll("the agent's process group", || agent_group(&repo)).await;
    // Reassigning a running task stops it; the new agent gets the task.
    handle
        .command(Command::Reassign {
            task: id("t"),
            agent: "sim".into(),
        })
        .await
        .unwrap();
    wait_status(&mut events, "t", "queued").await;
    poll("the stubborn group to be killed", || {
        group_states(pgid).iter().all(|s| *s == 'Z').then_some(())
    })
    .await;
    let log = std::fs::read_to_string(repo.path().join(".fleet/runs/t/1.jsonl")).unwrap();
    assert!(log.contains("the agent ignored SIGTERM: SIGKILL"), "{log}");
    // The sim agent's attempt 2 gets the reassignment note; its prompt `x` is echoed and changes nothing.
    wait_status(&mut events, "t", "running").await;
    let prompts = poll("attempt 2 to be recorded", || {
        let p = repo.prompts("t");
        (p.len() >= 2).then_some(p)
    })
    .await;
    handle.shutdown();
    run.await.unwrap();
    assert!(
        prompts[1].contains("reassigned to you from agent `stubborn`"),
        "{prompts:?}"
    );
}

/// Runs a one-task plan to Review, then returns the repository with the
/// task's status rewritten to Merging, as if the engine died right after
/// the approval was saved.
async fn approved_then_crashed(merge_first: bool) -> TestRepo {
    let plan = format!(
        "{}{}",
        sim_profile_abs(),
        task("m", &[], "write m.txt merged\\n")
    );
    let repo = TestRepo::new(&plan, &[]);
    {
        let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
        engine.run(true).await;
        assert!(matches!(
            engine.scheduler().task("m").unwrap().status,
            Status::Review { .. }
        ));
    }
    if merge_first {
        // The crash came after the target moved but before the status was saved.
        let attr = fleetdeck::git::Attribution {
            task: "m",
            agent: "sim",
            attempt: 1,
            title: "Task m",
        };
        fleetdeck::git::merge_task(repo.path(), "main", &attr).unwrap();
    }
    let conn = rusqlite::Connection::open(repo.path().join(".fleet/fleet.db")).unwrap();
    let state: String = conn
        .query_row("SELECT state FROM tasks WHERE id = 'm'", [], |r| r.get(0))
        .unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&state).unwrap();
    state["status"] = serde_json::json!({ "status": "merging", "attempt": 1 });
    conn.execute(
        "UPDATE tasks SET state = ?1 WHERE id = 'm'",
        [state.to_string()],
    )
    .unwrap();
    repo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_interrupted_before_its_merge_is_finished_on_the_next_start() {
    let repo = approved_then_crashed(false).await;
    let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    engine.run(true).await;
    assert!(matches!(
        engine.scheduler().task("m").unwrap().status,
        Status::Done { .. }
    ));
    assert_eq!(repo.merged_tasks(), ["m"]);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("m.txt")).unwrap(),
        "merged\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_interrupted_after_its_merge_is_not_merged_twice() {
    let repo = approved_then_crashed(true).await;
    let tip = repo.repo().refname_to_id("refs/heads/main").unwrap();
    let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    engine.run(true).await;
    match &engine.scheduler().task("m").unwrap().status {
        Status::Done { commit } => {
            assert_eq!(commit, &tip.to_string(), "the existing merge is recognised")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(repo.merged_tasks(), ["m"]);
    assert_eq!(repo.repo().refname_to_id("refs/heads/main").unwrap(), tip);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassigned_task_tells_the_new_agent_what_the_last_one_did() {
    let sim = sim_profile_abs();
    let alt = sim.replace("[agents.sim]", "[agents.alt]");
    let script = "say I wrote the first half of it.\nwrite half.txt first half\\n\nsleep 30000\nwrite rest.txt never\\n";
    let plan = format!(
        "[fleet]\nstop_grace_secs = 0.5\n{sim}{alt}{}",
        task("t", &[], script)
    );
    let repo = TestRepo::new(&plan, &[]);
    let (mut events, handle, run) = spawn_engine(&repo);
    wait_status(&mut events, "t", "running").await;
    let wt = worktree(&repo, "t");
    poll("the first half to be written", || {
        wt.join("half.txt").exists().then_some(())
    })
    .await;
    handle
        .command(Command::Reassign {
            task: id("t"),
            agent: "alt".into(),
        })
        .await
        .unwrap();
    let prompts = poll("attempt 2 to be recorded", || {
        let p = repo.prompts("t");
        (p.len() >= 2).then_some(p)
    })
    .await;
    handle.shutdown();
    run.await.unwrap();
    let second = &prompts[1];
    assert!(
        second.contains("reassigned to you from agent `sim`"),
        "{second}"
    );
    assert!(
        second.contains("What the previous attempt (1, by `sim`) did:"),
        "{second}"
    );
    assert!(
        second.contains("> - I wrote the first half of it."),
        "{second}"
    );
    assert!(
        second.contains("> Files changed so far (in your worktree): half.txt"),
        "{second}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transcript_line_arrives_live_with_its_stream() {
    use fleetdeck::store::transcript::Stream;
    let plan = format!(
        "{}\n[agents.sh]\ncommand = [\"sh\", \"-c\", \"echo warming up >&2; echo changed > f.txt; echo '{{\\\"type\\\":\\\"result\\\",\\\"is_error\\\":false,\\\"result\\\":\\\"ok\\\"}}'\"]\nformat = \"claude\"\n[verify]\ncommands = [\"echo checked\"]\n[[task]]\nid = \"t\"\nagent = \"sh\"\nprompt = \"x\"\n",
        sim_profile_abs()
    );
    let repo = TestRepo::new(&plan, &[]);
    let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let mut events = engine.subscribe();
    engine.run(true).await;
    drop(engine);
    let mut lines = Vec::new();
    while let Some(n) = events.recv().await {
        if let Notification::Line { stream, line, .. } = n {
            lines.push((stream, line));
        }
    }
    let has = |s: Stream, l: &str| lines.iter().any(|(st, x)| *st == s && x == l);
    assert!(has(Stream::Err, "warming up"), "{lines:?}");
    assert!(has(Stream::Fleet, "agent ended: exit code 0"), "{lines:?}");
    assert!(has(Stream::Fleet, "verify: echo checked"), "{lines:?}");
    assert!(has(Stream::Verify, "checked"), "{lines:?}");
    // And the transcript file holds exactly these lines besides stdout.
    let t = fleetdeck::store::transcript::read(&repo.path().join(".fleet/runs/t/1.jsonl")).unwrap();
    let in_file: Vec<(Stream, String)> = t
        .lines
        .into_iter()
        .filter(|l| l.s != Stream::Out)
        .map(|l| (l.s, l.l))
        .collect();
    assert_eq!(in_file, lines);
}
