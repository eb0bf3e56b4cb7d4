//! Crash safety: the headless engine killed with SIGKILL while agents run,
//! then run again with --resume, ends exactly like an uninterrupted run.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use fleetdeck::runtime::process::processes_of;

fn plan() -> String {
    let tasks = [
        task(
            "a",
            &[],
            "append log.txt a1\\n\nsleep 200\nappend log.txt a2\\n",
        ),
        task(
            "b",
            &["a"],
            "append log.txt b1\\n\nsleep 3000\nappend log.txt b2\\n\nwrite b.txt b\\n",
        ),
        task(
            "c",
            &[],
            "append c.txt c1\\n\nsleep 3000\nappend c.txt c2\\n",
        ),
        task("d", &["b", "c"], "write d.txt d\\n"),
    ];
    format!(
        "[fleet]\nmax_parallel = 2\n[verify]\ncommands = [\"test -f log.txt\"]\n{SIM_PROFILE}{}",
        tasks.concat()
    )
}

#[test]
fn a_killed_run_resumes_without_losing_or_repeating_work() {
    let files = [("log.txt", "")];
    let reference = TestRepo::new(&plan(), &files);
    reference.expect(&["run", "--headless", "--auto-approve"], 0);

    let repo = TestRepo::new(&plan(), &files);
    let mut run = repo
        .command(&["run", "--headless", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill the engine while b and c are mid-way: each has written its first line.
    let wt = |t: &str| worktree(&repo, t);
    wait_for(Duration::from_secs(30), "b and c to be half done", || {
        let b = std::fs::read_to_string(wt("b").join("log.txt")).unwrap_or_default();
        let c = std::fs::read_to_string(wt("c").join("c.txt")).unwrap_or_default();
        (b.contains("b1") && c.contains("c1")).then_some(())
    });
    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();

    // The agents die with the engine (parent-death signal).
    let fleet_dir = repo.path().canonicalize().unwrap().join(".fleet");
    wait_for(
        Duration::from_secs(10),
        "the agents of the killed engine to die",
        || processes_of(&fleet_dir).is_empty().then_some(()),
    );
    let b = repo.task("b");
    assert_eq!(b["status"], "running", "the store still says running: {b}");

    let out = repo.fleetdeck(&["run", "--headless", "--auto-approve", "--resume"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("b                    attempt 1 was interrupted"),
        "{stdout}"
    );

    // Nothing lost, nothing merged twice, the same result.
    let mut merged = repo.merged_tasks();
    assert_eq!(merged.len(), 4, "{merged:?}");
    merged.sort();
    merged.dedup();
    assert_eq!(merged.len(), 4);
    assert_eq!(
        repo.main_tree(),
        reference.main_tree(),
        "final tree equals an uninterrupted run's"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("log.txt")).unwrap(),
        "a1\na2\nb1\nb2\n"
    );
    // The interrupted attempt's partial work is kept under a ref.
    let git = repo.repo();
    let saved = git
        .find_reference("refs/fleet/interrupted/b/1")
        .unwrap()
        .peel_to_tree()
        .unwrap();
    assert!(saved.get_path(Path::new("log.txt")).is_ok());
    let attempts_b = repo.prompts("b").len();
    assert_eq!(
        attempts_b, 2,
        "b ran twice: once interrupted, once to the end"
    );
}
