//! Each merge style lands one commit per task: after a task whose first two
//! attempts failed their gate (their commits are on the branch), the
//! target's history holds none of them, carries the approved attempt's
//! trailers, and a second merge finds the first.

use super::message::parse_trailers;
use super::test_repo::{Fixture, attr};
use super::{MergeOutcome, merge_task_with, task_changes};
use crate::core::MergeStyle;

/// Three attempts of `t` (1 and 2 failed), a user commit on `main`
/// meanwhile, then attempt 3 merged in `style`: the landed commit.
fn three_attempts_merged(f: &Fixture, style: MergeStyle) -> (Vec<git2::Oid>, git2::Oid) {
    let attempts = f.attempts("t", 3);
    f.user_commit("a.txt", "alpha by the user\n");
    let outcome = merge_task_with(&f.root, "main", &attr("t", 3), style).unwrap();
    let MergeOutcome::Merged { commit } = outcome else {
        panic!("{style}: expected a merge, got {outcome:?}");
    };
    (attempts, commit)
}

/// Asserts what every style guarantees; returns the target's commits with trailers.
fn check_clean_history(f: &Fixture, style: MergeStyle, attempts: &[git2::Oid], landed: git2::Oid) {
    assert_eq!(f.tip("main"), landed, "{style}");
    let on_main = f.reachable("main");
    for (n, failed) in attempts.iter().enumerate() {
        assert!(
            !on_main.contains(failed),
            "{style}: attempt {}'s commit {failed} is on main",
            n + 1
        );
    }
    let repo = f.repo();
    let attributed: Vec<u32> = on_main
        .iter()
        .filter_map(|id| parse_trailers(repo.find_commit(*id).unwrap().message().ok()?))
        .map(|t| t.attempt)
        .collect();
    assert!(!attributed.is_empty(), "{style}: no trailers on main");
    assert!(
        attributed.iter().all(|a| *a == 3),
        "{style}: {attributed:?}"
    );
    assert_eq!(f.file_at(landed, "t.txt").as_deref(), Some("attempt 3\n"));
    assert_eq!(
        f.file_at(landed, "a.txt").as_deref(),
        Some("alpha by the user\n")
    );
    // Idempotent: the task's trailer is found on the first-parent history.
    assert_eq!(
        merge_task_with(&f.root, "main", &attr("t", 3), style).unwrap(),
        MergeOutcome::AlreadyMerged { commit: landed },
        "{style}"
    );
    assert_eq!(f.tip("main"), landed);
    // The task's diff still shows its own change only.
    let changes = task_changes(&f.root, "t", "main").unwrap();
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["t.txt"], "{style}");
}

#[test]
fn merge_style_adds_one_task_commit_and_a_merge_commit() {
    let f = Fixture::new();
    let before = f.tip("main");
    let (attempts, landed) = three_attempts_merged(&f, MergeStyle::Merge);
    check_clean_history(&f, MergeStyle::Merge, &attempts, landed);
    let repo = f.repo();
    let merge = repo.find_commit(landed).unwrap();
    let parents: Vec<_> = merge.parent_ids().collect();
    assert_eq!(parents.len(), 2);
    let user = repo.find_commit(parents[0]).unwrap();
    assert_eq!(user.summary(), Ok(Some("user: a.txt")));
    let work = repo.find_commit(parents[1]).unwrap();
    assert_eq!(work.parent_ids().collect::<Vec<_>>(), [before]);
    assert_eq!(
        work.tree_id(),
        repo.find_commit(attempts[2]).unwrap().tree_id()
    );
    assert!(
        merge
            .message()
            .unwrap()
            .starts_with("Merge fleet/t: Do the thing")
    );
}

#[test]
fn squash_style_adds_one_commit_on_the_target() {
    let f = Fixture::new();
    let (attempts, landed) = three_attempts_merged(&f, MergeStyle::Squash);
    let user = f.repo().find_commit(landed).unwrap().parent_id(0).unwrap();
    check_clean_history(&f, MergeStyle::Squash, &attempts, landed);
    let repo = f.repo();
    let commit = repo.find_commit(landed).unwrap();
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), [user]);
    assert_eq!(
        repo.find_commit(user).unwrap().summary(),
        Ok(Some("user: a.txt"))
    );
    assert!(
        commit
            .message()
            .unwrap()
            .starts_with("fleet(t): Do the thing")
    );
    assert_eq!(commit.author().name(), Ok("claude (fleetdeck)"));
}

#[test]
fn rebase_style_replays_the_task_commit_onto_the_target() {
    let f = Fixture::new();
    let (attempts, landed) = three_attempts_merged(&f, MergeStyle::Rebase);
    check_clean_history(&f, MergeStyle::Rebase, &attempts, landed);
    let repo = f.repo();
    let commit = repo.find_commit(landed).unwrap();
    assert_eq!(commit.parent_count(), 1);
    let parent = repo.find_commit(commit.parent_id(0).unwrap()).unwrap();
    assert_eq!(parent.summary(), Ok(Some("user: a.txt")));
    assert!(commit.message().unwrap().contains("Attempt 3 by claude."));
}

#[test]
fn rebase_fast_forwards_when_the_target_did_not_move() {
    let f = Fixture::new();
    let attempts = f.attempts("t", 1);
    let outcome = merge_task_with(&f.root, "main", &attr("t", 1), MergeStyle::Rebase).unwrap();
    assert_eq!(
        outcome,
        MergeOutcome::Merged {
            commit: attempts[0]
        }
    );
    assert_eq!(f.tip("main"), attempts[0]);
}

#[test]
fn a_conflict_leaves_the_target_alone_in_every_style() {
    for style in MergeStyle::ALL {
        let f = Fixture::new();
        f.attempts("t", 2);
        f.user_commit("t.txt", "the user's own t\n");
        let before = f.tip("main");
        let outcome = merge_task_with(&f.root, "main", &attr("t", 2), style).unwrap();
        assert_eq!(
            outcome,
            MergeOutcome::Conflict {
                files: vec!["t.txt".into()]
            },
            "{style}"
        );
        assert_eq!(f.tip("main"), before, "{style}");
    }
}
