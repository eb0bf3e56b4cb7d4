//! The fleet's own directory under stress, on the real binary: one engine per
//! fleet even when `.fleet/lock` or `fleet.db` is deleted, and everything
//! under `.fleet` is private.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;

fn plan(fleet: &str, tasks: &[String]) -> String {
    format!("[fleet]\n{fleet}\n{SIM_PROFILE}{}", tasks.concat())
}

/// Starts a run whose only task appends one line and then sleeps; deletes
/// `victims` under `.fleet` while it runs; a second run must be refused and
/// the task must run exactly once.
fn a_second_engine_is_refused_after_deleting(victims: &[&str]) {
    let repo = TestRepo::new(
        &plan(
            "",
            &[task("slow", &[], "append log.txt once\\n\nsleep 3000")],
        ),
        &[("log.txt", "")],
    );
    let mut first = repo
        .command(&["run", "--headless", "--auto-approve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wt = worktree(&repo, "slow");
    wait_for(Duration::from_secs(20), "the agent to write", || {
        std::fs::read_to_string(wt.join("log.txt"))
            .is_ok_and(|t| t == "once\n")
            .then_some(())
    });
    for v in victims {
        std::fs::remove_file(repo.path().join(".fleet").join(v)).unwrap();
    }
    let second = repo.fleetdeck(&["run", "--headless", "--auto-approve", "--resume"]);
    let err = text(&second.stderr);
    assert!(!second.status.success(), "the second run must fail: {err}");
    assert!(err.contains("is already running this fleet"), "{err}");
    assert!(
        !victims.contains(&"fleet.db") || !repo.path().join(".fleet/fleet.db").exists(),
        "the refused run created no new database"
    );
    assert!(first.wait().unwrap().success(), "the first run finishes");
    assert_eq!(repo.merged_tasks(), ["slow"], "merged once");
    let main = repo.repo();
    let blob = main
        .revparse_single("main:log.txt")
        .unwrap()
        .peel_to_blob()
        .unwrap();
    assert_eq!(blob.content(), b"once\n", "the agent ran once");
}

#[test]
fn deleting_the_lock_file_does_not_let_a_second_engine_in() {
    a_second_engine_is_refused_after_deleting(&["lock"]);
}

#[test]
fn deleting_the_database_does_not_let_a_second_engine_in() {
    a_second_engine_is_refused_after_deleting(&["lock", "fleet.db"]);
}

/// Every directory and file under `dir`, except inside the worktrees.
fn walk(dir: &Path, found: &mut Vec<(String, u32, bool)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        let path = entry.path();
        found.push((
            path_str(&path),
            meta.permissions().mode() & 0o777,
            meta.is_dir(),
        ));
        // The worktrees hold the user's checkout: their modes are git's.
        if meta.is_dir() && entry.file_name() != "worktrees" {
            walk(&path, found);
        }
    }
}

#[test]
fn everything_under_fleet_is_private_and_an_open_fleet_is_tightened() {
    let repo = TestRepo::new(
        &plan(
            "",
            &[
                task("a", &[], "write a.txt a\\n"),
                task("b", &[], "sleep 20000"),
            ],
        ),
        &[],
    );
    let fleet = repo.path().join(".fleet");
    std::fs::create_dir(&fleet).unwrap();
    std::fs::set_permissions(&fleet, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Run with the usual umask 0022, and stop while b's worktree exists.
    let mut run = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 0022 && exec \"$0\" -C \"$1\" run --headless --auto-approve")
        .arg(env!("CARGO_BIN_EXE_fleetdeck"))
        .arg(repo.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(20), "a merged and b running", || {
        (repo.merged_tasks() == ["a"] && repo.task("b")["status"] == "running").then_some(())
    });
    let mut found = vec![(path_str(&fleet), 0, true)];
    walk(&fleet, &mut found);
    found[0].1 = std::fs::metadata(&fleet).unwrap().permissions().mode() & 0o777;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    run.wait().unwrap();
    let names: Vec<&str> = found.iter().map(|(p, ..)| p.as_str()).collect();
    assert!(worktree(&repo, "b").join(".git").exists());
    for expected in [
        "fleet.db",
        "fleetdeck.log",
        "lock",
        "runs/a/1.jsonl",
        "worktrees",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(expected)),
            "{expected} not in {names:#?}"
        );
    }
    let open: Vec<String> = found
        .iter()
        .filter(|(_, mode, dir)| *mode != if *dir { 0o700 } else { 0o600 })
        .map(|(path, mode, _)| format!("{path} {mode:o}"))
        .collect();
    assert!(open.is_empty(), "not private: {open:#?}");
}
