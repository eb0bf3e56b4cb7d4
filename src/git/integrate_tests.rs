//! A group of three integrated (one commit per member, each with its
//! trailers and `Fleet-Group`) and landed as one merge that counts every
//! member as merged; a conflict between members names them.

use std::fs;

use super::*;
use crate::git::message::{parse_trailer_sets, parse_trailers};
use crate::git::test_repo::{Fixture, attr};
use crate::git::{CommitOutcome, commit_attempt, ensure_worktree};

fn by<'a>(task: &'a str, agent: &'static str) -> Attribution<'a> {
    Attribution {
        agent,
        ..attr(task, 1)
    }
}

/// Task `task`'s first attempt writing `file` = `text`.
fn write_attempt(f: &Fixture, task: &str, file: &str, text: &str) {
    let wt = ensure_worktree(&f.root, task, "main").unwrap();
    fs::write(wt.path.join(file), text).unwrap();
    let out = commit_attempt(&f.root, wt.head, &attr(task, 1)).unwrap();
    assert!(matches!(out, CommitOutcome::Committed(_)));
}

#[test]
fn members_integrate_one_commit_each_and_land_as_one_merge() {
    let f = Fixture::new();
    write_attempt(&f, "calc", "calc.sh", "echo 4\n");
    write_attempt(&f, "calc-tests", "test.sh", "test 4\n");
    write_attempt(&f, "calc-docs", "README.md", "calc\n");
    f.user_commit("a.txt", "alpha by the user\n");
    let old_tip = f.tip("main");
    let members = [
        by("calc", "impl"),
        by("calc-tests", "tester"),
        by("calc-docs", "docs"),
    ];
    let out = integrate_group(&f.root, "main", "calc", &members).unwrap();
    let IntegrateOutcome::Integrated {
        commit,
        worktree,
        changed,
    } = out
    else {
        panic!("{out:?}");
    };
    assert_eq!(f.tip("fleet/group/calc"), commit);
    assert_eq!(worktree, f.root.join(".fleet/worktrees/_group-calc"));
    for file in ["calc.sh", "test.sh", "README.md", "a.txt"] {
        assert!(
            worktree.join(file).is_file(),
            "{file} in the integration worktree"
        );
    }
    assert_eq!(
        changed,
        vec![
            ("calc".to_string(), vec!["calc.sh".to_string()]),
            ("calc-tests".to_string(), vec!["test.sh".to_string()]),
            ("calc-docs".to_string(), vec!["README.md".to_string()]),
        ]
    );
    let repo = f.repo();
    let mut agents = Vec::new();
    let mut c = repo.find_commit(commit).unwrap();
    while c.id() != old_tip {
        let msg = c.message().unwrap().to_owned();
        assert!(msg.contains("\nFleet-Group: calc\n"), "{msg}");
        agents.push(parse_trailers(&msg).unwrap().agent);
        c = c.parent(0).unwrap();
    }
    assert_eq!(agents, ["docs", "tester", "impl"]);

    let landed = land_group(&f.root, "main", "calc", "The calculator", &members).unwrap();
    let MergeOutcome::Merged { commit: merge } = landed else {
        panic!("{landed:?}");
    };
    let m = repo.find_commit(merge).unwrap();
    assert_eq!(m.parent_ids().collect::<Vec<_>>(), [old_tip, commit]);
    let sets = parse_trailer_sets(m.message().unwrap());
    let tasks: Vec<&str> = sets.iter().map(|t| t.task.as_str()).collect();
    assert_eq!(tasks, ["calc", "calc-tests", "calc-docs"]);
    assert_eq!(
        fs::read_to_string(f.root.join("calc.sh")).unwrap(),
        "echo 4\n"
    );
    // Every member counts as merged: landing again does nothing, and each
    // member's own merge finds its trailer.
    assert_eq!(
        land_group(&f.root, "main", "calc", "The calculator", &members).unwrap(),
        MergeOutcome::AlreadyMerged { commit: merge }
    );
    assert_eq!(
        crate::git::merge_task(&f.root, "main", &by("calc-tests", "tester")).unwrap(),
        MergeOutcome::AlreadyMerged { commit: merge }
    );
    let scan = crate::git::scan_fleet(&f.root, "main").unwrap();
    assert_eq!(scan.merged.len(), 3, "{:?}", scan.merged);
    assert!(
        scan.branches.keys().all(|id| !id.contains('/')),
        "the integration branch is no task's: {:?}",
        scan.branches.keys()
    );
}

#[test]
fn a_conflict_names_the_member_that_conflicted_then_the_earlier_ones() {
    let f = Fixture::new();
    write_attempt(&f, "a", "shared.txt", "a's version\n");
    write_attempt(&f, "b", "b.txt", "b\n");
    write_attempt(&f, "c", "shared.txt", "c's version\n");
    let members = [attr("a", 1), attr("b", 1), attr("c", 1)];
    let out = integrate_group(&f.root, "main", "g", &members).unwrap();
    assert_eq!(
        out,
        IntegrateOutcome::Conflict {
            files: vec!["shared.txt".into()],
            members: vec!["c".into(), "a".into()],
        }
    );
    assert!(
        f.repo()
            .find_branch("fleet/group/g", git2::BranchType::Local)
            .is_err()
    );
}

#[test]
fn landing_is_refused_on_the_users_changed_file_and_touches_nothing() {
    let f = Fixture::new();
    write_attempt(&f, "a", "a.txt", "a's alpha\n");
    write_attempt(&f, "b", "b.txt", "b\n");
    let members = [attr("a", 1), attr("b", 1)];
    integrate_group(&f.root, "main", "g", &members).unwrap();
    fs::write(f.root.join("a.txt"), "the user's edit\n").unwrap();
    let tip = f.tip("main");
    let out = land_group(&f.root, "main", "g", "G", &members).unwrap();
    assert_eq!(
        out,
        MergeOutcome::Refused {
            files: vec!["a.txt".into()]
        }
    );
    assert_eq!(f.tip("main"), tip);
    assert_eq!(
        fs::read_to_string(f.root.join("a.txt")).unwrap(),
        "the user's edit\n"
    );
    assert!(integrate_group(&f.root, "main", "Bad Name", &members).is_err());
}
