//! Tests of saving a split task's work and handing it to its parts, on real
//! temporary repositories.

use std::fs;

use super::*;
use crate::git::test_repo::{Fixture, attr};
use crate::git::{
    CommitOutcome, MergeOutcome, commit_attempt, ensure_worktree, merge_task, remove_worktree,
};

/// Task `api` with attempt 1 committed (`api.txt`, as a failed gate leaves
/// it) and attempt 2's uncommitted changes: `a.txt` edited, `new.txt` added.
fn split_task(f: &Fixture) {
    f.attempts("api", 1);
    let wt = worktree_path(&f.root, "api");
    fs::write(wt.join("a.txt"), "alpha\nfrom api\n").unwrap();
    fs::write(wt.join("new.txt"), "new\n").unwrap();
}

fn save(f: &Fixture, task: &str) -> Option<SavedWork> {
    save_task_work(&f.root, "main", SaveAs::Split, &attr(task, 2), &[]).unwrap()
}

fn status_paths(f: &Fixture, task: &str) -> Vec<String> {
    let repo = git2::Repository::open(worktree_path(&f.root, task)).unwrap();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true);
    let statuses = repo.statuses(Some(&mut opts)).unwrap();
    let mut paths: Vec<String> = statuses
        .iter()
        .map(|e| e.path().unwrap().to_owned())
        .collect();
    paths.sort();
    paths
}

#[test]
fn a_split_task_keeps_its_committed_and_uncommitted_work_in_one_commit() {
    let f = Fixture::new();
    let start = f.tip("main");
    split_task(&f);
    let saved = save(&f, "api").unwrap();
    assert_eq!(saved.saved_as, "refs/fleet/split/api");
    assert_eq!(saved.base, start);
    assert_eq!(
        f.repo().refname_to_id(&saved.saved_as).unwrap(),
        saved.commit
    );
    assert_eq!(f.file_at(saved.commit, "api.txt").unwrap(), "attempt 1\n");
    assert_eq!(
        f.file_at(saved.commit, "a.txt").unwrap(),
        "alpha\nfrom api\n"
    );
    assert_eq!(f.file_at(saved.commit, "new.txt").unwrap(), "new\n");
    // Its first parent is the branch: attempt 1's commit stays reachable.
    let repo = f.repo();
    let commit = repo.find_commit(saved.commit).unwrap();
    assert_eq!(commit.parent_id(0).unwrap(), f.tip("fleet/api"));
    // Saving again, or after the worktree is gone, gives the same save.
    assert_eq!(save(&f, "api").unwrap(), saved);
    remove_worktree(&f.root, "api").unwrap();
    assert_eq!(save(&f, "api").unwrap(), saved);
    // What git remembers of the fleet says the task was dropped.
    let scan = crate::git::scan_fleet(&f.root, "main").unwrap();
    assert!(scan.was_dropped("api"));
    assert!(!scan.was_dropped("other"));
}

#[test]
fn a_save_made_twice_with_more_work_keeps_the_first_as_a_parent() {
    let f = Fixture::new();
    split_task(&f);
    let first = save(&f, "api").unwrap();
    fs::write(worktree_path(&f.root, "api").join("late.txt"), "late\n").unwrap();
    let second = save(&f, "api").unwrap();
    assert_ne!(second.commit, first.commit);
    assert_eq!(f.file_at(second.commit, "late.txt").unwrap(), "late\n");
    let parents: Vec<Oid> = f
        .repo()
        .find_commit(second.commit)
        .unwrap()
        .parent_ids()
        .collect();
    assert_eq!(parents, vec![f.tip("fleet/api"), first.commit]);
}

#[test]
fn a_dropped_task_is_saved_under_dropped_and_a_task_without_work_is_not_saved() {
    let f = Fixture::new();
    split_task(&f);
    let saved = save_task_work(&f.root, "main", SaveAs::Dropped, &attr("api", 2), &[])
        .unwrap()
        .unwrap();
    assert!(
        saved.saved_as.starts_with("refs/fleet/dropped/api/"),
        "{}",
        saved.saved_as
    );
    assert_eq!(f.file_at(saved.commit, "new.txt").unwrap(), "new\n");
    // Once its branch holds everything, the branch is the save.
    let wt = worktree_path(&f.root, "api");
    fs::remove_file(wt.join("new.txt")).unwrap();
    fs::write(wt.join("a.txt"), "alpha\n").unwrap();
    let plain = save_task_work(&f.root, "main", SaveAs::Dropped, &attr("api", 2), &[]).unwrap();
    assert_eq!(plain, None);
    // Never started, or started and changed nothing: nothing to keep.
    assert_eq!(save(&f, "idle"), None);
    ensure_worktree(&f.root, "idle", "main").unwrap();
    assert_eq!(save(&f, "idle"), None);
    assert!(f.repo().refname_to_id("refs/fleet/split/idle").is_err());
}

#[test]
fn every_part_inherits_the_work_uncommitted_at_the_target_tip() {
    let f = Fixture::new();
    split_task(&f);
    let tip = f.tip("main");
    for part in ["api-a", "api-b"] {
        ensure_worktree(&f.root, part, "main").unwrap();
        let handed = hand_over(&f.root, part, "main", &attr("api", 2), &[]).unwrap();
        assert_eq!(
            handed,
            Some(Handoff::Applied {
                files: vec!["a.txt".into(), "api.txt".into(), "new.txt".into()],
                saved_as: "refs/fleet/split/api".into(),
            }),
            "{part}"
        );
        let wt = worktree_path(&f.root, part);
        assert_eq!(
            fs::read_to_string(wt.join("api.txt")).unwrap(),
            "attempt 1\n"
        );
        assert_eq!(fs::read_to_string(wt.join("new.txt")).unwrap(), "new\n");
        // Uncommitted: the branch stays at the tip, the files changed.
        assert_eq!(f.tip(&format!("fleet/{part}")), tip);
        assert_eq!(status_paths(&f, part), ["a.txt", "api.txt", "new.txt"]);
        // A part that has work (this one now) inherits nothing again.
        let again = hand_over(&f.root, part, "main", &attr("api", 2), &[]).unwrap();
        assert_eq!(again, None);
    }
}

#[test]
fn two_parts_carrying_the_same_inherited_work_both_merge_cleanly() {
    let f = Fixture::new();
    split_task(&f);
    for (n, part) in ["api-a", "api-b"].into_iter().enumerate() {
        let wt = ensure_worktree(&f.root, part, "main").unwrap();
        hand_over(&f.root, part, "main", &attr("api", 2), &[]).unwrap();
        fs::write(wt.path.join(format!("{part}.txt")), format!("part {n}\n")).unwrap();
        let committed = commit_attempt(&f.root, wt.head, &attr(part, 1)).unwrap();
        assert!(matches!(committed, CommitOutcome::Committed(_)));
    }
    for part in ["api-a", "api-b"] {
        let merged = merge_task(&f.root, "main", &attr(part, 1)).unwrap();
        assert!(
            matches!(merged, MergeOutcome::Merged { .. }),
            "{part}: {merged:?}"
        );
    }
    let main = f.tip("main");
    assert_eq!(f.file_at(main, "a.txt").unwrap(), "alpha\nfrom api\n");
    assert_eq!(f.file_at(main, "api.txt").unwrap(), "attempt 1\n");
    assert_eq!(f.file_at(main, "api-a.txt").unwrap(), "part 0\n");
    assert_eq!(f.file_at(main, "api-b.txt").unwrap(), "part 1\n");
}

#[test]
fn work_that_conflicts_with_the_moved_target_is_not_applied() {
    let f = Fixture::new();
    split_task(&f);
    f.user_commit("a.txt", "alpha\nfrom the user\n");
    ensure_worktree(&f.root, "api-a", "main").unwrap();
    let handed = hand_over(&f.root, "api-a", "main", &attr("api", 2), &[]).unwrap();
    assert_eq!(
        handed,
        Some(Handoff::Conflict {
            files: vec!["a.txt".into()],
            saved_as: "refs/fleet/split/api".into(),
        })
    );
    assert_eq!(status_paths(&f, "api-a"), Vec::<String>::new());
}

#[test]
fn a_split_task_without_work_hands_over_nothing() {
    let f = Fixture::new();
    ensure_worktree(&f.root, "api-a", "main").unwrap();
    let handed = hand_over(&f.root, "api-a", "main", &attr("api", 1), &[]).unwrap();
    assert_eq!(handed, Some(Handoff::Nothing));
    assert_eq!(status_paths(&f, "api-a"), Vec::<String>::new());
}

#[test]
fn a_part_whose_first_attempt_was_rolled_back_inherits_the_work_again() {
    let f = Fixture::new();
    split_task(&f);
    let wt = ensure_worktree(&f.root, "api-a", "main").unwrap();
    hand_over(&f.root, "api-a", "main", &attr("api", 2), &[]).unwrap();
    fs::write(wt.path.join("mine.txt"), "mine\n").unwrap();
    // The interrupted attempt is undone back to its base, its work saved.
    let save = crate::git::interrupted_ref("api-a", 1);
    crate::git::save_and_reset(&f.root, wt.head, &save, &attr("api-a", 1)).unwrap();
    assert_eq!(status_paths(&f, "api-a"), Vec::<String>::new());
    let again = hand_over(&f.root, "api-a", "main", &attr("api", 2), &[]).unwrap();
    assert!(matches!(again, Some(Handoff::Applied { .. })), "{again:?}");
    assert_eq!(status_paths(&f, "api-a"), ["a.txt", "api.txt", "new.txt"]);
}

#[test]
fn a_discarded_candidate_is_saved_under_its_parent_even_when_its_branch_holds_it() {
    let f = Fixture::new();
    f.attempts("t--a", 1);
    let saved = save_candidate_work(&f.root, "main", "t", &attr("t--a", 1), &[])
        .unwrap()
        .expect("committed work is saved");
    assert_eq!(saved.saved_as, "refs/fleet/discarded/t/t--a/1");
    assert_eq!(
        f.repo().refname_to_id(&saved.saved_as).unwrap(),
        saved.commit
    );
    assert_eq!(f.file_at(saved.commit, "t--a.txt").unwrap(), "attempt 1\n");
    // Uncommitted work goes in too.
    fs::write(worktree_path(&f.root, "t--a").join("late.txt"), "late\n").unwrap();
    let saved = save_candidate_work(&f.root, "main", "t", &attr("t--a", 1), &[])
        .unwrap()
        .unwrap();
    assert_eq!(f.file_at(saved.commit, "late.txt").unwrap(), "late\n");
    // A candidate with nothing beyond its base saves nothing.
    ensure_worktree(&f.root, "t--b", "main").unwrap();
    assert_eq!(
        save_candidate_work(&f.root, "main", "t", &attr("t--b", 1), &[]).unwrap(),
        None
    );
}
