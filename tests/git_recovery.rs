//! The git layer as the second source of truth: a task whose merge is on the
//! target's first-parent history is never merged again, whatever its branch.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use fleetdeck::git::{
    self, Attribution, CommitOutcome, MergeOutcome, Oid, commit_attempt, ensure_worktree,
    merge_task,
};
use git2::Repository;

use common::TestRepo;

/// A repository on `main` with `a.txt` (and an empty fleet.toml) committed.
fn repo() -> (TestRepo, PathBuf) {
    let repo = TestRepo::new("", &[("a.txt", "alpha\n")]);
    let root = repo.path().to_path_buf();
    (repo, root)
}

fn attr(task: &str, attempt: u32) -> Attribution<'_> {
    Attribution {
        task,
        agent: "sim",
        attempt,
        title: "Append a line",
    }
}

/// Runs attempt `attempt` of `task` in its worktree: `work` changes it, then it is committed.
fn attempt(root: &Path, task: &str, attempt: u32, work: impl FnOnce(&Path)) -> Oid {
    let wt = ensure_worktree(root, task, "main").unwrap();
    work(&wt.path);
    match commit_attempt(root, wt.head, &attr(task, attempt)).unwrap() {
        CommitOutcome::Committed(id) => id,
        CommitOutcome::NoChanges => panic!("attempt changed nothing"),
    }
}

fn append(path: &Path, line: &str) {
    let mut text = fs::read_to_string(path).unwrap_or_default();
    text.push_str(line);
    fs::write(path, text).unwrap();
}

/// Runs and merges attempt 1 of `app`, then loses its worktree and branch
/// (as when the state is gone and the task starts afresh); the merge commit.
fn merged_then_branch_deleted(root: &Path) -> Oid {
    attempt(root, "app", 1, |wt| append(&wt.join("a.txt"), "from app\n"));
    let MergeOutcome::Merged { commit } = merge_task(root, "main", &attr("app", 1)).unwrap() else {
        panic!("expected the first merge");
    };
    git::remove_worktree(root, "app").unwrap();
    let repo = Repository::open(root).unwrap();
    repo.find_branch("fleet/app", git2::BranchType::Local)
        .unwrap()
        .delete()
        .unwrap();
    commit
}

#[test]
fn a_task_rerun_on_a_fresh_branch_is_not_merged_again() {
    let (_repo, root) = repo();
    let first = merged_then_branch_deleted(&root);
    // The task runs again on a branch made afresh from main, whose tip main
    // has never seen.
    let rerun = attempt(&root, "app", 1, |wt| {
        append(&wt.join("a.txt"), "from app\n")
    });
    assert_ne!(rerun, first);

    assert_eq!(
        merge_task(&root, "main", &attr("app", 1)).unwrap(),
        MergeOutcome::AlreadyMerged { commit: first }
    );
    assert_eq!(git::branch_tip(&root, "main").unwrap(), first);
    assert_eq!(
        fs::read_to_string(root.join("a.txt")).unwrap(),
        "alpha\nfrom app\n"
    );
}

#[test]
fn a_merged_task_whose_branch_is_gone_is_already_merged() {
    let (_repo, root) = repo();
    let commit = merged_then_branch_deleted(&root);
    assert_eq!(
        merge_task(&root, "main", &attr("app", 2)).unwrap(),
        MergeOutcome::AlreadyMerged { commit }
    );
}

#[test]
fn a_scan_finds_merges_branches_with_work_and_saved_refs() {
    let (_repo, root) = repo();
    assert!(git::scan_fleet(&root, "main").unwrap().is_empty());

    attempt(&root, "app", 1, |wt| {
        append(&wt.join("a.txt"), "from app\n")
    });
    let MergeOutcome::Merged { commit } = merge_task(&root, "main", &attr("app", 1)).unwrap()
    else {
        panic!("expected a merge");
    };
    let work = attempt(&root, "lib", 3, |wt| {
        fs::write(wt.join("lib.txt"), "lib\n").unwrap()
    });
    ensure_worktree(&root, "idle", "main").unwrap();
    let repo = Repository::open(&root).unwrap();
    repo.reference("refs/fleet/interrupted/ghost/4", work, false, "test")
        .unwrap();

    let scan = git::scan_fleet(&root, "main").unwrap();
    assert_eq!(scan.merged["app"].commit, commit);
    assert_eq!(scan.merged["app"].attempt, 1);
    assert!(!scan.merged.contains_key("lib"));
    assert!(scan.branches["lib"].ahead);
    assert_eq!(scan.branches["lib"].attempt, Some(3));
    assert!(!scan.branches["app"].ahead, "merged: on main");
    assert!(!scan.branches["idle"].ahead, "no commit of its own");
    assert_eq!(scan.saved["ghost"], ["refs/fleet/interrupted/ghost/4"]);
    assert_eq!(scan.last_attempt("ghost"), 4);
    assert_eq!(scan.last_attempt("lib"), 3);
    assert_eq!(scan.last_attempt("nobody"), 0);
    assert_eq!(
        scan.task_ids().into_iter().collect::<Vec<_>>(),
        ["app", "ghost", "idle", "lib"]
    );
    let summary = scan.summary();
    assert!(
        summary.starts_with("1 task merge(s) on `main` (app), 3 task branch(es)"),
        "{summary}"
    );
}
