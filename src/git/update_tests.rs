//! Tests of `update_task` on real temporary repositories.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{Repository, RepositoryInitOptions};

use super::*;
use crate::git::test_repo::commit_all_with as commit_all;
use crate::git::{
    CommitOutcome, Expect, MergeOutcome, branch_tip, commit_attempt, ensure_intact,
    ensure_worktree, merge_task, worktree_path,
};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn attr(attempt: u32) -> Attribution<'static> {
    Attribution {
        task: "t",
        agent: "sim",
        attempt,
        title: "The task",
    }
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(&root, &opts).unwrap();
        for (name, text) in [
            ("a.txt", "alpha\n"),
            ("b.txt", "bravo\n"),
            ("c.txt", "charlie\n"),
        ] {
            fs::write(root.join(name), text).unwrap();
        }
        commit_all(&repo, "initial", &[]);
        Fixture { _dir: dir, root }
    }

    fn wt(&self) -> PathBuf {
        worktree_path(&self.root, "t")
    }

    /// Attempt `n` of task `t`: `work` changes the worktree, then the gate's commit.
    fn attempt(&self, n: u32, work: impl FnOnce(&Path)) -> Oid {
        let wt = ensure_worktree(&self.root, "t", "main").unwrap();
        let base = branch_tip(&self.root, "fleet/t").unwrap();
        work(&wt.path);
        match commit_attempt(&self.root, base, &attr(n)).unwrap() {
            CommitOutcome::Committed(id) => id,
            CommitOutcome::NoChanges => panic!("attempt {n} changed nothing"),
        }
    }

    /// A commit on main, as another task's merge would be.
    fn on_main(&self, file: &str, text: &str, task: &str) -> Oid {
        fs::write(self.root.join(file), text).unwrap();
        let msg = format!(
            "Merge fleet/{task}: Other work\n\nFleet-Task: {task}\nFleet-Agent: sim\nFleet-Attempt: 1\n"
        );
        commit_all(&Repository::open(&self.root).unwrap(), &msg, &[])
    }

    fn file_at(&self, commit: Oid, path: &str) -> Option<String> {
        let repo = Repository::open(&self.root).unwrap();
        let tree = repo.find_commit(commit).unwrap().tree().unwrap();
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = repo.find_blob(entry.id()).unwrap();
        Some(String::from_utf8(blob.content().to_vec()).unwrap())
    }

    fn saved(&self, n: u32) -> Option<Oid> {
        let repo = Repository::open(&self.root).unwrap();
        repo.refname_to_id(&updated_ref("t", n)).ok()
    }

    fn changed_files(&self, from: Oid, to: Oid) -> Vec<String> {
        crate::git::changed_files(&self.root, from, to).unwrap()
    }
}

#[test]
fn a_clean_update_is_one_attributed_commit_on_the_target_tip() {
    let f = Fixture::new();
    let old = f.attempt(1, |wt| fs::write(wt.join("a.txt"), "alpha by t\n").unwrap());
    let tip = f.on_main("b.txt", "bravo by other\n", "other");

    let UpdateOutcome::Clean { commit, onto } = update_task(&f.root, "main", &attr(1)).unwrap()
    else {
        panic!("expected a clean update");
    };
    assert_eq!(onto, tip);
    let repo = Repository::open(&f.root).unwrap();
    let c = repo.find_commit(commit).unwrap();
    assert_eq!(c.parent_ids().collect::<Vec<_>>(), vec![tip]);
    let t = parse_trailers(c.message().unwrap()).unwrap();
    assert_eq!((t.task.as_str(), t.attempt), ("t", 1));
    assert_eq!(f.file_at(commit, "a.txt").as_deref(), Some("alpha by t\n"));
    assert_eq!(
        f.file_at(commit, "b.txt").as_deref(),
        Some("bravo by other\n")
    );
    assert_eq!(f.saved(1), Some(old));
    assert_eq!(branch_tip(&f.root, "fleet/t").unwrap(), commit);
    // The worktree follows, and the diff against the target is the task's own.
    assert_eq!(
        fs::read_to_string(f.wt().join("b.txt")).unwrap(),
        "bravo by other\n"
    );
    assert_eq!(f.changed_files(tip, commit), vec!["a.txt".to_owned()]);
    assert_eq!(ensure_intact(&f.root, "t", Expect::Clean).unwrap(), None);
    // The gate, given the new base, takes the commit as the attempt's.
    assert_eq!(
        commit_attempt(&f.root, tip, &attr(1)).unwrap(),
        CommitOutcome::Committed(commit)
    );
    // Updating again changes nothing and saves nothing new.
    assert_eq!(
        update_task(&f.root, "main", &attr(1)).unwrap(),
        UpdateOutcome::Clean { commit, onto: tip }
    );
    assert_eq!(f.saved(2), None);
}

#[test]
fn a_conflicting_update_leaves_markers_on_the_target_tip() {
    let f = Fixture::new();
    let old = f.attempt(1, |wt| {
        fs::write(wt.join("a.txt"), "alpha by t\n").unwrap();
        fs::write(wt.join("c.txt"), "charlie by t\n").unwrap();
    });
    f.on_main("b.txt", "bravo by other\n", "unrelated");
    let tip = f.on_main("a.txt", "alpha by other\n", "other");

    let UpdateOutcome::Conflict { onto, files } = update_task(&f.root, "main", &attr(1)).unwrap()
    else {
        panic!("expected a conflict");
    };
    assert_eq!(onto, tip);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path, "a.txt");
    let by: Vec<_> = files[0].changed_by.iter().map(|c| c.task.clone()).collect();
    assert_eq!(by, vec![Some("other".to_owned())]);
    assert!(
        files[0].target_diff.contains("+alpha by other"),
        "{}",
        files[0].target_diff
    );
    assert_eq!(branch_tip(&f.root, "fleet/t").unwrap(), tip);
    assert_eq!(f.saved(1), Some(old));
    let a = fs::read_to_string(f.wt().join("a.txt")).unwrap();
    assert!(
        a.contains("<<<<<<< main") && a.contains(">>>>>>> fleet/t"),
        "{a}"
    );
    assert!(
        a.contains("alpha by t") && a.contains("alpha by other"),
        "{a}"
    );
    // What merged cleanly is there too.
    assert_eq!(
        fs::read_to_string(f.wt().join("c.txt")).unwrap(),
        "charlie by t\n"
    );
    assert_eq!(
        fs::read_to_string(f.wt().join("b.txt")).unwrap(),
        "bravo by other\n"
    );
    // An agent may continue in it.
    assert_eq!(
        ensure_intact(&f.root, "t", Expect::Continuing).unwrap(),
        None
    );
    let conflicted = vec!["a.txt".to_owned()];
    assert_eq!(
        files_with_markers(&f.root, "t", &conflicted).unwrap(),
        conflicted
    );

    // A crash before the report: the update runs again from the saved tip.
    let again = update_task(&f.root, "main", &attr(1)).unwrap();
    assert!(matches!(again, UpdateOutcome::Conflict { onto, .. } if onto == tip));
    assert_eq!(f.saved(2), None);

    // Resolved: the attempt's commit is on the tip and merges cleanly.
    fs::write(f.wt().join("a.txt"), "alpha by both\n").unwrap();
    assert!(
        files_with_markers(&f.root, "t", &conflicted)
            .unwrap()
            .is_empty()
    );
    let CommitOutcome::Committed(resolved) = commit_attempt(&f.root, tip, &attr(2)).unwrap() else {
        panic!("expected a commit");
    };
    assert_eq!(
        f.changed_files(tip, resolved),
        vec!["a.txt".to_owned(), "c.txt".to_owned()]
    );
    let merged = merge_task(&f.root, "main", &attr(2)).unwrap();
    assert!(matches!(merged, MergeOutcome::Merged { .. }), "{merged:?}");
}

#[test]
fn an_agent_that_merged_the_target_itself_is_not_squashed_back() {
    let f = Fixture::new();
    f.attempt(1, |wt| fs::write(wt.join("a.txt"), "alpha by t\n").unwrap());
    let t1 = f.on_main("a.txt", "alpha by other\n", "other");
    // Attempt 2: the agent merges main itself and resolves the conflict.
    let c2 = f.attempt(2, |wt| {
        let repo = Repository::open(wt).unwrap();
        fs::write(wt.join("a.txt"), "alpha by both\n").unwrap();
        commit_all(&repo, "merge main", &[t1]);
    });
    // The gate squashed it onto the old base: a plain merge conflicts again.
    let merged = merge_task(&f.root, "main", &attr(2)).unwrap();
    assert!(
        matches!(merged, MergeOutcome::Conflict { .. }),
        "{merged:?}"
    );
    let t2 = f.on_main("c.txt", "charlie by another\n", "another");

    let UpdateOutcome::Clean { commit, onto } = update_task(&f.root, "main", &attr(2)).unwrap()
    else {
        panic!("expected a clean update");
    };
    assert_eq!(onto, t2);
    assert_eq!(f.saved(1), Some(c2));
    assert_eq!(
        f.file_at(commit, "a.txt").as_deref(),
        Some("alpha by both\n")
    );
    assert_eq!(
        f.file_at(commit, "c.txt").as_deref(),
        Some("charlie by another\n")
    );
    assert_eq!(f.changed_files(t2, commit), vec!["a.txt".to_owned()]);
    let merged = merge_task(&f.root, "main", &attr(2)).unwrap();
    assert!(matches!(merged, MergeOutcome::Merged { .. }), "{merged:?}");
}

#[test]
fn uncommitted_changes_to_tracked_files_are_never_overwritten() {
    let f = Fixture::new();
    f.attempt(1, |wt| fs::write(wt.join("a.txt"), "alpha by t\n").unwrap());
    f.on_main("b.txt", "bravo by other\n", "other");
    fs::write(f.wt().join("a.txt"), "edited by hand\n").unwrap();
    fs::write(f.wt().join("notes.tmp"), "untracked\n").unwrap();
    let err = update_task(&f.root, "main", &attr(1)).unwrap_err();
    assert!(
        matches!(&err, GitError::WorktreeChanged { files, .. } if files == &["a.txt"]),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(f.wt().join("a.txt")).unwrap(),
        "edited by hand\n"
    );
    assert_eq!(f.saved(1), None);
}
