//! An emptied or deleted `.fleet/fleet.db` in a repository with fleet
//! history: refused, rebuilt from git by `fleetdeck recover`, never re-merged.

mod common;

use common::*;

fn config(tasks: &[String]) -> String {
    format!("[fleet]\nmax_parallel = 2\n{SIM_PROFILE}{}", tasks.concat())
}

/// A plan of two tasks (`lib` waits for `app`), each appending one line.
fn two_tasks() -> TestRepo {
    let tasks = [
        task("app", &[], "append log.txt app\\n"),
        task("lib", &["app"], "append log.txt lib\\n"),
    ];
    TestRepo::new(&config(&tasks), &[("log.txt", "start\n")])
}

fn delete_db(repo: &TestRepo) {
    for name in ["fleet.db", "fleet.db-wal", "fleet.db-shm"] {
        let path = repo.path().join(".fleet").join(name);
        if path.exists() {
            std::fs::remove_file(path).unwrap();
        }
    }
}

fn main_tip(repo: &TestRepo) -> git2::Oid {
    repo.repo().refname_to_id("refs/heads/main").unwrap()
}

#[test]
fn a_deleted_database_is_refused_instead_of_merging_again() {
    let repo = two_tasks();
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(repo.merged_tasks(), ["app", "lib"]);
    let tip = main_tip(&repo);

    delete_db(&repo);
    let out = repo.expect(&["run", "--headless", "--auto-approve"], 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("fleetdeck recover"), "{stderr}");
    assert!(
        stderr.contains("2 task merge(s) on `main` (app, lib)"),
        "{stderr}"
    );
    assert!(stderr.contains("fleet/app"), "{stderr}");
    assert_eq!(main_tip(&repo), tip, "main must not move");
    assert_eq!(repo.merged_tasks(), ["app", "lib"]);

    // The refused run left an empty database file: refused the same way,
    // by a one-shot command too.
    assert!(repo.path().join(".fleet/fleet.db").exists());
    let out = repo.expect(&["approve", "app"], 1);
    assert!(text(&out.stderr).contains("fleetdeck recover"));
}

#[test]
fn recover_rebuilds_the_state_and_the_next_run_merges_nothing_twice() {
    let repo = two_tasks();
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    delete_db(&repo);

    let out = repo.expect(&["recover"], 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("app: done"), "{stdout}");
    assert!(stdout.contains("lib: done"), "{stdout}");

    let out = repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert!(text(&out.stdout).contains("2 of 2 task(s) done"));
    assert_eq!(repo.merged_tasks(), ["app", "lib"]);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("log.txt")).unwrap(),
        "start\napp\nlib\n"
    );
    assert_eq!(repo.task("app")["status"], "done");

    // A second recover would overwrite a live state: refused without --force.
    let out = repo.expect(&["recover"], 1);
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn recover_puts_unmerged_work_in_review_and_lists_unknown_branches() {
    let tasks = [
        task("app", &[], "append log.txt app\\n"),
        task("idle", &[], "append log.txt idle\\n"),
    ];
    let repo = TestRepo::new(&config(&tasks), &[("log.txt", "start\n")]);
    // Without --auto-approve both wait in review; then `idle`'s work is lost
    // (its branch reset to main) and a branch no plan knows appears.
    repo.expect(&["run", "--headless"], 1);
    let git = repo.repo();
    let main = git.find_commit(main_tip(&repo)).unwrap();
    git.reference("refs/heads/fleet/idle", main.id(), true, "test")
        .unwrap();
    git.branch("fleet/ghost", &main, false).unwrap();
    delete_db(&repo);

    let out = repo.expect(&["recover"], 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("app: review (attempt 1"), "{stdout}");
    assert!(stdout.contains("idle: queued"), "{stdout}");
    assert!(stdout.contains("ghost"), "{stdout}");
    assert_eq!(repo.task("app")["status"], "review");
    // `idle` ran once (its transcript is there): its next attempt is number 2.
    assert!(repo.path().join(".fleet/runs/idle/1.jsonl").exists());
    assert_eq!(repo.task("idle")["attempts"], 1);

    repo.expect(&["approve", "app"], 0);
    assert_eq!(repo.merged_tasks(), ["app"]);
}
