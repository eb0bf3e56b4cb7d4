//! A task's worktree is used only when it is whole, and an agent never runs
//! anywhere else: half-created worktrees, stale git locks, deleted worktrees
//! and deleted task branches (issue 7, items 1, 3, 4 and 5), on the real
//! binary and real repositories.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use git2::{Oid, Repository, Signature};

/// Commits `n` small files (in directories of 200) on top of main and checks
/// them out in the user's checkout; returns the new commit.
fn add_many_files(repo: &TestRepo, n: usize) -> Oid {
    let git = repo.repo();
    let head = git.head().unwrap().peel_to_commit().unwrap();
    let mut root = git.treebuilder(Some(&head.tree().unwrap())).unwrap();
    for d in 0..n.div_ceil(200) {
        let mut dir = git.treebuilder(None).unwrap();
        for f in 0..200.min(n - d * 200) {
            let blob = git.blob(format!("file {d}/{f}\n").as_bytes()).unwrap();
            dir.insert(format!("f{f:03}.txt"), blob, 0o100644).unwrap();
        }
        let tree = dir.write().unwrap();
        root.insert(format!("d{d:03}"), tree, 0o040000).unwrap();
    }
    let tree = git.find_tree(root.write().unwrap()).unwrap();
    let sig = Signature::now("Test User", "test@example.com").unwrap();
    let commit = git
        .commit(Some("HEAD"), &sig, &sig, "many files\n", &tree, &[&head])
        .unwrap();
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force();
    git.checkout_head(Some(&mut checkout)).unwrap();
    commit
}

/// Leaves task `task`'s worktree as a `kill -9` during `git worktree add`
/// does: branch, registration and `.git` file in place, only the first
/// `dirs` directories checked out, no index.
fn half_made_worktree(repo: &TestRepo, task: &str, dirs: usize) {
    let git = repo.repo();
    let head = git.head().unwrap().peel_to_commit().unwrap();
    git.branch(&format!("fleet/{task}"), &head, false).unwrap();
    let root = repo.path().canonicalize().unwrap();
    let admin = root.join(".git/worktrees").join(task);
    let wt = root.join(".fleet/worktrees").join(task);
    std::fs::create_dir_all(&admin).unwrap();
    std::fs::create_dir_all(&wt).unwrap();
    std::fs::write(
        admin.join("gitdir"),
        format!("{}\n", wt.join(".git").display()),
    )
    .unwrap();
    std::fs::write(admin.join("commondir"), "../..\n").unwrap();
    std::fs::write(
        admin.join("HEAD"),
        format!("ref: refs/heads/fleet/{task}\n"),
    )
    .unwrap();
    std::fs::write(wt.join(".git"), format!("gitdir: {}\n", admin.display())).unwrap();
    let tree = head.tree().unwrap();
    let mut kept = 0;
    for entry in tree.iter() {
        let name = entry.name().unwrap();
        if entry.kind() == Some(git2::ObjectType::Tree) {
            if kept >= dirs {
                continue;
            }
            kept += 1;
            let sub = git.find_tree(entry.id()).unwrap();
            std::fs::create_dir_all(wt.join(name)).unwrap();
            for file in sub.iter() {
                let blob = git.find_blob(file.id()).unwrap();
                std::fs::write(wt.join(name).join(file.name().unwrap()), blob.content()).unwrap();
            }
        } else {
            let blob = git.find_blob(entry.id()).unwrap();
            std::fs::write(wt.join(name), blob.content()).unwrap();
        }
    }
}

/// Paths that differ between main's tip and its first parent, with their status.
fn last_merge_changes(repo: &TestRepo) -> Vec<(String, git2::Delta)> {
    let git = repo.repo();
    let tip = git.head().unwrap().peel_to_commit().unwrap();
    let parent = tip.parent(0).unwrap();
    let diff = git
        .diff_tree_to_tree(
            Some(&parent.tree().unwrap()),
            Some(&tip.tree().unwrap()),
            None,
        )
        .unwrap();
    diff.deltas()
        .map(|d| {
            let path = d.new_file().path().or(d.old_file().path()).unwrap();
            (path.to_string_lossy().into_owned(), d.status())
        })
        .collect()
}

fn one_task(script: &str) -> String {
    format!("{SIM_PROFILE}{}", task("new", &[], script))
}

#[test]
fn a_half_created_worktree_is_rebuilt_not_merged_as_deletions() {
    let repo = TestRepo::new(&one_task("write new.txt hello"), &[]);
    add_many_files(&repo, 20_000);
    half_made_worktree(&repo, "new", 30);

    repo.expect(&["run", "--headless", "--auto-approve", "--resume"], 0);

    assert_eq!(repo.merged_tasks(), ["new"]);
    let changes = last_merge_changes(&repo);
    let deleted = changes
        .iter()
        .filter(|(_, d)| *d == git2::Delta::Deleted)
        .count();
    assert_eq!(deleted, 0, "the merge deleted {deleted} files");
    assert_eq!(changes, [("new.txt".to_owned(), git2::Delta::Added)]);
    let git = repo.repo();
    let tree = git.head().unwrap().peel_to_tree().unwrap();
    assert!(tree.get_path(Path::new("d099/f199.txt")).is_ok());
}

#[allow(dead_code)]
fn unused(_: &Repository, _: Duration) {}
