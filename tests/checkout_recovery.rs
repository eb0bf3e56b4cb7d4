//! A merge killed between moving the target ref and updating the user's
//! checkout is finished by the next start: `git status` is clean again, later
//! merges go through, and an edit the user made meanwhile is kept.
//!
//! The kill comes from the crash hook of the git layer
//! (`FLEETDECK_CRASH_AT=merge-ref-moved`: SIGKILL right after the ref moved).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use common::*;

fn config(tasks: &[String]) -> String {
    format!("[fleet]\nmax_parallel = 1\n{SIM_PROFILE}{}", tasks.concat())
}

/// `git status --porcelain` of the user's checkout, by the real git CLI.
fn porcelain(repo: &TestRepo) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo.path())
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Runs the fleet until the first merge reaches `point` of the crash hook,
/// where the process SIGKILLs itself.
fn crash_at(repo: &TestRepo, point: &str) {
    let out = repo
        .command(&["run", "--headless", "--auto-approve"])
        .env("FLEETDECK_CRASH_AT", point)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed: {}", text(&out.stderr));
}

/// Runs the fleet until the first merge has moved `main`, then SIGKILLs it.
fn crash_after_the_ref_moved(repo: &TestRepo) {
    crash_at(repo, "merge-ref-moved");
    let record = repo.path().join(".fleet/pending-checkout.json");
    let mode = std::fs::metadata(record).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the record is private");
}

#[test]
fn an_interrupted_checkout_update_is_finished_on_the_next_start() {
    let tasks = [
        task("app", &[], "write new.txt hello\\n\nappend a.txt app\\n"),
        task("next", &["app"], "append new.txt world\\n"),
    ];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n")]);
    crash_after_the_ref_moved(&repo);
    assert_eq!(repo.merged_tasks(), ["app"]);
    // The crash left main's merge looking reverted in the checkout.
    assert_ne!(porcelain(&repo), "");

    let out = repo.expect(&["run", "--headless", "--auto-approve", "--resume"], 0);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("finished updating your checkout"),
        "{stderr}"
    );
    assert_eq!(repo.merged_tasks(), ["app", "next"]);
    assert_eq!(porcelain(&repo), "", "the checkout must be clean");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("new.txt")).unwrap(),
        "hello\nworld\n"
    );
    assert!(!repo.path().join(".fleet/pending-checkout.json").exists());
}

#[test]
fn an_edit_made_after_the_crash_is_not_clobbered() {
    let tasks = [task(
        "app",
        &[],
        "write new.txt hello\\n\nappend a.txt app\\n",
    )];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n")]);
    crash_after_the_ref_moved(&repo);
    std::fs::write(repo.path().join("a.txt"), "the user's edit\n").unwrap();

    // A one-shot command opens the engine too, and finishes the update
    // (`retry` itself is refused: the task is merging).
    repo.expect(&["retry", "app"], 1);
    let log = std::fs::read_to_string(repo.path().join(".fleet/fleetdeck.log")).unwrap();
    assert!(
        log.contains("left alone because you changed them since: a.txt"),
        "{log}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("a.txt")).unwrap(),
        "the user's edit\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("new.txt")).unwrap(),
        "hello\n"
    );
    let status = porcelain(&repo);
    assert!(!status.contains("new.txt"), "{status}");
    assert!(status.contains("a.txt"), "{status}");
}

#[test]
fn a_file_left_half_written_by_the_kill_is_finished_too() {
    let tasks = [task("app", &[], "append a.txt app\\n\nwrite b.txt bee\\n")];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n"), ("b.txt", "b\n")]);
    crash_after_the_ref_moved(&repo);
    // A kill in the middle of libgit2's in-place write: one file truncated,
    // one removed before its new content was written.
    std::fs::write(repo.path().join("a.txt"), "").unwrap();
    std::fs::remove_file(repo.path().join("b.txt")).unwrap();

    repo.expect(&["run", "--headless", "--auto-approve", "--resume"], 0);
    assert_eq!(porcelain(&repo), "", "the checkout must be clean");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("a.txt")).unwrap(),
        "alpha\napp\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("b.txt")).unwrap(),
        "bee\n"
    );
}

#[test]
fn files_written_but_an_index_not_yet_written_are_finished_too() {
    let tasks = [task(
        "app",
        &[],
        "append a.txt app\\n\nwrite new.txt hello\\n",
    )];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n")]);
    crash_after_the_ref_moved(&repo);
    // A kill after libgit2 wrote the files, before it wrote the index.
    std::fs::write(repo.path().join("a.txt"), "alpha\napp\n").unwrap();
    std::fs::write(repo.path().join("new.txt"), "hello\n").unwrap();
    assert_ne!(porcelain(&repo), "");
    repo.expect(&["run", "--headless", "--auto-approve", "--resume"], 0);
    assert_eq!(
        porcelain(&repo),
        "",
        "the checkout (and its index) must be clean"
    );
}

#[test]
fn the_index_lock_a_kill_left_during_the_update_is_removed_first() {
    let tasks = [task("app", &[], "write new.txt hello\\n")];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n")]);
    crash_after_the_ref_moved(&repo);
    // Killed while libgit2 held the checkout's index lock.
    let lock = repo.path().join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    repo.expect(&["run", "--headless", "--auto-approve", "--resume"], 0);
    assert!(!lock.exists(), "the stale lock was removed");
    assert_eq!(porcelain(&repo), "", "the checkout must be clean");
}

#[test]
fn an_index_lock_a_live_process_holds_is_left_alone() {
    let tasks = [task("app", &[], "write new.txt hello\\n")];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n")]);
    crash_after_the_ref_moved(&repo);
    // A git of the user's holds the lock open (git keeps it open while it writes).
    let lock = repo.path().join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    let mut holder = Command::new("sh")
        .arg("-c")
        .arg("exec 3<\"$0\"; exec sleep 60")
        .arg(&lock)
        .spawn()
        .unwrap();
    let pid = holder.id();
    wait_for(
        Duration::from_secs(10),
        "the holder to open the lock",
        || {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .ok()?
                .flatten()
                .any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|t| t.ends_with(".git/index.lock"))
                })
                .then_some(())
        },
    );
    let out = repo.fleetdeck(&["run", "--headless", "--auto-approve", "--resume"]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(!out.status.success());
    assert!(lock.exists(), "a lock in use is never removed");
    let err = text(&out.stderr);
    assert!(err.contains("index is locked"), "{err}");
}

#[test]
fn a_crash_before_the_ref_moved_leaves_nothing_to_finish() {
    let tasks = [task("app", &[], "write new.txt hello\\n")];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n")]);
    crash_at(&repo, "merge-recorded");
    assert_eq!(repo.merged_tasks(), Vec::<String>::new());

    repo.expect(&["run", "--headless", "--auto-approve", "--resume"], 0);
    assert_eq!(repo.merged_tasks(), ["app"]);
    assert_eq!(porcelain(&repo), "");
    assert!(!repo.path().join(".fleet/pending-checkout.json").exists());
}

#[test]
fn the_next_merge_finishes_a_leftover_update_first() {
    let tasks = [task("app", &[], "write new.txt hello\\n")];
    let repo = TestRepo::new(&config(&tasks), &[("a.txt", "alpha\n")]);
    crash_after_the_ref_moved(&repo);
    assert_ne!(porcelain(&repo), "");

    // Without an engine start in between (the update failed, or another
    // process merges): the merge itself finishes what is owed first.
    let attr = fleetdeck::git::Attribution {
        task: "app",
        agent: "sim",
        attempt: 1,
        title: "Task app",
    };
    let outcome = fleetdeck::git::merge_task(repo.path(), "main", &attr).unwrap();
    assert!(
        matches!(outcome, fleetdeck::git::MergeOutcome::AlreadyMerged { .. }),
        "{outcome:?}"
    );
    assert_eq!(porcelain(&repo), "");
}
