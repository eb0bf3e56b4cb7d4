//! `plan_gc` and `remove_gc` on real repositories: only merged or saved
//! work is removed, and removing twice is the same as once.

use std::fs;

use super::gc::{GcTask, GcTaskState, KeepReason, Removal, Safe, plan_gc, remove_gc};
use super::test_repo::{Fixture, attr, commit_all};
use super::{MergeOutcome, merge_task_with, worktree_path};
use crate::core::MergeStyle;

fn task(id: &str, state: GcTaskState) -> GcTask {
    GcTask {
        id: id.into(),
        state,
        exclude: Vec::new(),
    }
}

fn open(status: &str) -> GcTaskState {
    GcTaskState::Open {
        status: status.into(),
    }
}

fn merged(f: &Fixture, id: &str, attempts: u32, style: MergeStyle) {
    f.attempts(id, attempts);
    let outcome = merge_task_with(&f.root, "main", &attr(id, attempts), style).unwrap();
    assert!(
        matches!(outcome, MergeOutcome::Merged { .. }),
        "{outcome:?}"
    );
}

fn branch_exists(f: &Fixture, id: &str) -> bool {
    f.repo()
        .find_reference(&format!("refs/heads/fleet/{id}"))
        .is_ok()
}

fn kept_why(plan: &super::GcPlan, id: &str, worktree: bool) -> Option<KeepReason> {
    plan.keep
        .iter()
        .find(|k| k.task == id && k.worktree == worktree)
        .map(|k| k.why.clone())
}

#[test]
fn done_and_dropped_work_goes_after_being_saved_and_the_rest_stays() {
    let f = Fixture::new();
    for style in MergeStyle::ALL {
        merged(&f, &format!("done-{style}"), 3, style);
    }
    let dropped_tip = f.attempts("dropped", 1)[0];
    let review_tip = f.attempts("review", 2)[1];
    let failed_tip = f.attempts("failed", 1)[0];
    let mut tasks: Vec<GcTask> = MergeStyle::ALL
        .iter()
        .map(|s| task(&format!("done-{s}"), GcTaskState::Done))
        .collect();
    tasks.push(task("dropped", GcTaskState::Dropped));
    tasks.push(task("review", open("review")));
    tasks.push(task("failed", open("failed")));

    let plan = plan_gc(&f.root, "main", &tasks).unwrap();
    let before = f.tip("main");
    for style in MergeStyle::ALL {
        let id = format!("done-{style}");
        let of_task: Vec<&Removal> = plan.remove.iter().filter(|r| r.task() == id).collect();
        assert_eq!(of_task.len(), 2, "{style}: {:?}", plan.remove);
        assert!(matches!(
            of_task[0],
            Removal::Worktree {
                safe: Safe::CleanWorktree,
                ..
            }
        ));
        assert!(
            matches!(
                of_task[1],
                Removal::Branch {
                    safe: Safe::MergedAndSaved { .. },
                    ..
                }
            ),
            "{style}: {:?}",
            of_task[1]
        );
    }
    let saved_dropped = plan
        .remove
        .iter()
        .find_map(|r| match r {
            Removal::Branch {
                task,
                safe: Safe::DroppedAndSaved { saved_as },
                ..
            } if task == "dropped" => Some(saved_as.clone()),
            _ => None,
        })
        .expect("the dropped branch is removed after saving");
    for id in ["review", "failed"] {
        assert!(plan.remove.iter().all(|r| r.task() != id), "{id}");
        assert!(matches!(
            kept_why(&plan, id, false),
            Some(KeepReason::NotFinished { .. })
        ));
        assert!(kept_why(&plan, id, true).is_some());
    }

    let branch_tip = f.tip("fleet/done-merge");
    remove_gc(&f.root, &plan.remove).unwrap();
    assert_eq!(f.tip("main"), before);
    let repo = f.repo();
    assert_eq!(repo.refname_to_id(&saved_dropped).unwrap(), dropped_tip);
    let saved_merged = format!(
        "refs/fleet/merged/done-merge/{}",
        &branch_tip.to_string()[..12]
    );
    assert_eq!(repo.refname_to_id(&saved_merged).unwrap(), branch_tip);
    for style in MergeStyle::ALL {
        let id = format!("done-{style}");
        assert!(!branch_exists(&f, &id), "{id}");
        assert!(!worktree_path(&f.root, &id).exists(), "{id}");
    }
    assert!(!branch_exists(&f, "dropped"));
    assert_eq!(f.tip("fleet/review"), review_tip);
    assert_eq!(f.tip("fleet/failed"), failed_tip);
    assert!(worktree_path(&f.root, "review").exists());

    // Again: nothing left to remove, and the old plan is a no-op.
    let again = plan_gc(&f.root, "main", &tasks).unwrap();
    assert_eq!(again.remove, vec![]);
    remove_gc(&f.root, &plan.remove).unwrap();
    assert_eq!(f.tip("fleet/review"), review_tip);
}

#[test]
fn uncommitted_changes_keep_the_worktree_and_its_branch() {
    let f = Fixture::new();
    merged(&f, "t", 1, MergeStyle::Squash);
    fs::write(worktree_path(&f.root, "t").join("notes.txt"), "mine\n").unwrap();
    let plan = plan_gc(&f.root, "main", &[task("t", GcTaskState::Done)]).unwrap();
    assert_eq!(plan.remove, vec![]);
    assert_eq!(
        kept_why(&plan, "t", true),
        Some(KeepReason::UncommittedChanges { paths: 1 })
    );
    assert_eq!(kept_why(&plan, "t", false), Some(KeepReason::WorktreeKept));
    // An excluded path of the profile is not work.
    let mut t = task("t", GcTaskState::Done);
    t.exclude = vec!["notes.txt".into()];
    let plan = plan_gc(&f.root, "main", &[t]).unwrap();
    assert_eq!(plan.remove.len(), 2, "{plan:?}");
}

#[test]
fn a_done_branch_with_unmerged_work_survives() {
    let f = Fixture::new();
    merged(&f, "t", 2, MergeStyle::Rebase);
    // A commit on fleet/t after its merge, in its worktree.
    let wt = worktree_path(&f.root, "t");
    fs::write(wt.join("later.txt"), "not merged\n").unwrap();
    let later = commit_all(&git2::Repository::open(&wt).unwrap(), "later work");
    let plan = plan_gc(&f.root, "main", &[task("t", GcTaskState::Done)]).unwrap();
    assert!(
        plan.remove
            .iter()
            .all(|r| !matches!(r, Removal::Branch { .. })),
        "{plan:?}"
    );
    assert_eq!(
        kept_why(&plan, "t", false),
        Some(KeepReason::WorkAfterMerge { tip: later })
    );
    remove_gc(&f.root, &plan.remove).unwrap();
    assert_eq!(f.tip("fleet/t"), later);
}

#[test]
fn a_done_task_whose_merge_is_not_on_the_target_keeps_its_branch() {
    let f = Fixture::new();
    let tip = f.attempts("t", 1)[0];
    f.attempts("stray", 1);
    let plan = plan_gc(&f.root, "main", &[task("t", GcTaskState::Done)]).unwrap();
    assert_eq!(
        kept_why(&plan, "t", false),
        Some(KeepReason::MergeNotOnTarget)
    );
    assert_eq!(
        kept_why(&plan, "stray", false),
        Some(KeepReason::UnknownTask)
    );
    remove_gc(&f.root, &plan.remove).unwrap();
    assert_eq!(f.tip("fleet/t"), tip);
    assert!(branch_exists(&f, "stray"));
}

#[test]
fn a_branch_that_moved_after_planning_is_left_alone() {
    let f = Fixture::new();
    let old = f.attempts("d", 1)[0];
    let plan = plan_gc(&f.root, "main", &[task("d", GcTaskState::Dropped)]).unwrap();
    let wt = worktree_path(&f.root, "d");
    fs::write(wt.join("more.txt"), "more\n").unwrap();
    let newer = commit_all(&git2::Repository::open(&wt).unwrap(), "more work");
    let err = remove_gc(&f.root, &plan.remove).unwrap_err();
    assert!(err.to_string().contains("fleetdeck gc"), "{err}");
    assert_eq!(f.tip("fleet/d"), newer);
    assert_ne!(old, newer);
}
