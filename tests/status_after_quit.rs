//! `fleetdeck status` after the engine is gone: a task the store still
//! records as running is shown as interrupted (it resumes on the next
//! run), and while an engine holds the fleet it is shown as running.

mod common;

use std::time::Duration;

use common::*;
use fleetdeck::runtime::process::processes_of;

fn row<'a>(table: &'a str, id: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no row {id} in {table}"))
}

#[test]
fn status_after_the_engine_stopped_does_not_say_running() {
    let plan = format!(
        "[verify]\ncommands = []\n{SIM_PROFILE}{}",
        task("slow", &[], "write a.txt a\\n\nsleep 30000\n")
    );
    let repo = TestRepo::new(&plan, &[]);
    let mut run = repo
        .command(&["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(30), "the agent to start", || {
        worktree(&repo, "slow").join("a.txt").exists().then_some(())
    });
    // While the engine holds the fleet, it runs.
    let live = text(&repo.expect(&["status"], 0).stdout);
    let r = row(&live, "slow");
    assert!(r.contains("running"), "{live}");
    assert!(!r.contains("interrupted"), "{live}");
    let doc = repo.status();
    assert_eq!(doc["engine_running"], true, "{doc}");
    assert_eq!(repo.task("slow")["interrupted"], false);

    run.kill().unwrap();
    run.wait().unwrap();
    let fleet_dir = repo.path().canonicalize().unwrap().join(".fleet");
    wait_for(Duration::from_secs(10), "the agent to die", || {
        processes_of(&fleet_dir).is_empty().then_some(())
    });
    let slow = repo.task("slow");
    assert_eq!(slow["status"], "running", "the store says so");
    // ...and the JSON says what that means now.
    assert_eq!(slow["interrupted"], true, "{slow}");
    assert_eq!(slow["history"][0]["outcome"], "interrupted", "{slow}");
    assert_eq!(repo.status()["engine_running"], false);
    let after = text(&repo.expect(&["status"], 0).stdout);
    let r = row(&after, "slow");
    assert!(!r.contains("running  "), "{after}");
    assert!(
        r.contains("interrupted") && r.contains("resumes on the next run"),
        "{after}"
    );
}
