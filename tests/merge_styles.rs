//! For each `merge_style`, a headless run whose tasks fail their verify gate
//! on attempts 1 and 2 and pass on attempt 3: the target's history holds no
//! commit of a failed attempt (so `git bisect` never lands on one), every
//! commit on it carrying a `Fleet-Attempt` trailer is an attempt whose gate
//! passed, and the failed attempts' commits still exist on the task branches.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use git2::{Oid, Repository};

/// Three attempts: 1 and 2 change `<id>.txt` but fail the gate (no ok file).
fn styled_task(id: &str, style: Option<&str>) -> String {
    let script = format!(
        "if-attempt 1 write {id}.txt first try\nif-attempt 2 write {id}.txt second try\nif-attempt 3 write {id}.txt third try\nif-attempt 3 write {id}.ok ok"
    );
    let mut table = task(id, &[], &script);
    table.push_str(&format!("verify = [\"test -f {id}.ok\"]\n"));
    if let Some(style) = style {
        table.push_str(&format!("merge_style = \"{style}\"\n"));
    }
    table
}

/// Every commit reachable from `tip` (all parents).
fn reachable(repo: &Repository, tip: Oid) -> BTreeSet<Oid> {
    let mut walk = repo.revwalk().unwrap();
    walk.push(tip).unwrap();
    walk.map(Result::unwrap).collect()
}

/// Every commit in the repository's refs that carries `Fleet-Task: task`,
/// with its `Fleet-Attempt`.
fn task_commits(repo: &Repository, task: &str) -> BTreeMap<Oid, u32> {
    let mut walk = repo.revwalk().unwrap();
    walk.push_glob("refs/*").unwrap();
    walk.map(Result::unwrap)
        .filter_map(|id| {
            let commit = repo.find_commit(id).unwrap();
            let message = commit.message().unwrap_or_default().to_owned();
            (trailer(&message, "Fleet-Task")? == task)
                .then(|| Some((id, trailer(&message, "Fleet-Attempt")?.parse().ok()?)))?
        })
        .collect()
}

/// The attempts of `task` the event log records as failed.
fn failed_attempts(repo: &TestRepo, task: &str) -> BTreeSet<u32> {
    repo.events()
        .into_iter()
        .filter(|(kind, t, _)| kind == "attempt_failed" && t.as_deref() == Some(task))
        .map(|(_, _, detail)| detail["attempt"].as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn no_failed_attempt_reaches_the_target_in_any_style() {
    let plan = format!(
        "[fleet]\nmax_attempts = 3\nmerge_style = \"rebase\"\n{}{}{}{}",
        SIM_PROFILE,
        styled_task("m", Some("merge")),
        styled_task("s", Some("squash")),
        styled_task("r", None),
    );
    let repo = TestRepo::new(&plan, &[]);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let git = repo.repo();
    let main = git.refname_to_id("refs/heads/main").unwrap();
    let on_main = reachable(&git, main);

    for id in ["m", "s", "r"] {
        assert_eq!(repo.task(id)["status"], "done", "{id}");
        assert_eq!(failed_attempts(&repo, id), BTreeSet::from([1, 2]), "{id}");
        let commits = task_commits(&git, id);
        let branch = git
            .refname_to_id(&format!("refs/heads/fleet/{id}"))
            .unwrap();
        let on_branch = reachable(&git, branch);
        for failed in [1, 2] {
            let of_attempt: Vec<&Oid> = commits
                .iter()
                .filter(|(_, a)| **a == failed)
                .map(|(c, _)| c)
                .collect();
            assert!(
                !of_attempt.is_empty() && of_attempt.iter().all(|c| on_branch.contains(c)),
                "{id}: attempt {failed}'s commit is kept on its branch: {commits:?}"
            );
            assert!(
                of_attempt.iter().all(|c| !on_main.contains(c)),
                "{id}: attempt {failed}'s commit is on main"
            );
        }
        let landed: Vec<u32> = commits
            .iter()
            .filter(|(c, _)| on_main.contains(c))
            .map(|(_, a)| *a)
            .collect();
        assert!(!landed.is_empty(), "{id}: nothing of it on main");
        assert!(landed.iter().all(|a| *a == 3), "{id}: {landed:?}");
    }

    // Each style's shape on the first-parent history.
    let log = repo.first_parent_log();
    let landing = |id: &str| {
        let (oid, _) = log
            .iter()
            .find(|(_, m)| trailer(m, "Fleet-Task").as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{id} is not on main's first-parent history"));
        git.find_commit(*oid).unwrap()
    };
    assert_eq!(landing("m").parent_count(), 2);
    assert!(
        landing("m")
            .summary()
            .unwrap()
            .unwrap()
            .starts_with("Merge fleet/m")
    );
    assert_eq!(landing("s").parent_count(), 1);
    assert_eq!(landing("r").parent_count(), 1);
    assert!(
        landing("r")
            .message()
            .unwrap()
            .contains("Attempt 3 by sim.")
    );
    let tree = git.find_commit(main).unwrap().tree().unwrap();
    for id in ["m", "s", "r"] {
        assert!(
            tree.get_path(std::path::Path::new(&format!("{id}.ok")))
                .is_ok()
        );
    }

    // Git alone says each task is done, whatever its style: a lost database
    // is rebuilt with every task done, and nothing runs or merges again.
    for file in ["fleet.db", "fleet.db-wal", "fleet.db-shm"] {
        let _ = std::fs::remove_file(repo.path().join(".fleet").join(file));
    }
    let out = repo.expect(&["recover"], 0);
    let lines = text(&out.stdout);
    for id in ["m", "s", "r"] {
        assert!(
            lines.contains(&format!("{id}: done (merged into `main`")),
            "{lines}"
        );
        assert_eq!(repo.task(id)["status"], "done", "{id}");
    }
    repo.expect(&["run", "--headless"], 0);
    assert_eq!(git.refname_to_id("refs/heads/main").unwrap(), main);
}
