//! The git layer as the second source of truth: a task whose merge is on the
//! target's first-parent history is never merged again, whatever its branch.

use std::fs;
use std::path::{Path, PathBuf};

use fleetdeck::git::{
    self, Attribution, CommitOutcome, MergeOutcome, Oid, commit_attempt, ensure_worktree,
    merge_task,
};
use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};
use tempfile::TempDir;

/// A repository on `main` with one committed file.
fn repo() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo = Repository::init_opts(&root, &opts).unwrap();
    fs::write(root.join("a.txt"), "alpha\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test User", "test@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "initial\n", &tree, &[])
        .unwrap();
    (dir, root)
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

#[test]
fn a_task_rerun_on_a_fresh_branch_is_not_merged_again() {
    let (_dir, root) = repo();
    attempt(&root, "app", 1, |wt| {
        append(&wt.join("a.txt"), "from app\n")
    });
    let MergeOutcome::Merged { commit: first } =
        merge_task(&root, "main", &attr("app", 1)).unwrap()
    else {
        panic!("expected the first merge");
    };

    // The state was lost: the task runs again on a branch made afresh from
    // main, whose tip main has never seen.
    git::remove_worktree(&root, "app").unwrap();
    let repo = Repository::open(&root).unwrap();
    repo.find_branch("fleet/app", git2::BranchType::Local)
        .unwrap()
        .delete()
        .unwrap();
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
    let (_dir, root) = repo();
    attempt(&root, "app", 1, |wt| {
        append(&wt.join("a.txt"), "from app\n")
    });
    let MergeOutcome::Merged { commit } = merge_task(&root, "main", &attr("app", 1)).unwrap()
    else {
        panic!("expected a merge");
    };
    git::remove_worktree(&root, "app").unwrap();
    let repo = Repository::open(&root).unwrap();
    repo.find_branch("fleet/app", git2::BranchType::Local)
        .unwrap()
        .delete()
        .unwrap();
    assert_eq!(
        merge_task(&root, "main", &attr("app", 2)).unwrap(),
        MergeOutcome::AlreadyMerged { commit }
    );
}
