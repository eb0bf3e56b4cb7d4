//! Integration tests of the git layer on real temporary repositories.

use std::fs;
use std::path::{Path, PathBuf};

use fleetdeck::git::{
    self, Attribution, CommitOutcome, GitError, MergeOutcome, Oid, commit_attempt, ensure_excluded,
    ensure_worktree, merge_task, merge_task_at, parse_trailers, remove_worktree, save_and_reset,
};
use git2::{Repository, RepositoryInitOptions, Signature, Status, StatusOptions};
use tempfile::TempDir;

// ---------------------------------------------------------------- helpers

struct Fixture {
    _dir: TempDir,
    root: PathBuf,
}

impl Fixture {
    /// A repository on `main` with a.txt, b.txt, c.txt, shared.txt and a
    /// .gitignore (`*.log`, `target/`), all committed.
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
            ("shared.txt", "line one\nline two\nline three\n"),
            (".gitignore", "*.log\ntarget/\n"),
        ] {
            fs::write(root.join(name), text).unwrap();
        }
        commit_all(&repo, "initial");
        Fixture { _dir: dir, root }
    }

    fn repo(&self) -> Repository {
        Repository::open(&self.root).unwrap()
    }

    fn tip(&self, branch: &str) -> Oid {
        git::branch_tip(&self.root, branch).unwrap()
    }

    fn wt(&self, task: &str) -> PathBuf {
        git::worktree_path(&self.root, task)
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    /// Starts `task` from main, lets `work` change its worktree, commits it.
    fn task_with(&self, task: &str, work: impl FnOnce(&Path)) -> Oid {
        let wt = ensure_worktree(&self.root, task, "main").unwrap();
        work(&wt.path);
        match commit_attempt(&self.root, wt.head, &attr(task)).unwrap() {
            CommitOutcome::Committed(id) => id,
            CommitOutcome::NoChanges => panic!("task {task} changed nothing"),
        }
    }
}

fn attr(task: &str) -> Attribution<'_> {
    Attribution {
        task,
        agent: "claude",
        attempt: 1,
        title: "Do the thing",
    }
}

fn sig() -> Signature<'static> {
    Signature::now("Test User", "test@example.com").unwrap()
}

/// Stages everything in `repo`'s working tree and commits it on HEAD.
fn commit_all(repo: &Repository, message: &str) -> Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig(), &sig(), message, &tree, &parents)
        .unwrap()
}

/// Non-clean status entries (ignored files excluded) as (path, status).
fn status(root: &Path) -> Vec<(String, Status)> {
    let repo = Repository::open(root).unwrap();
    let mut opts = StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let statuses = repo.statuses(Some(&mut opts)).unwrap();
    statuses
        .iter()
        .map(|e| (e.path().unwrap().to_owned(), e.status()))
        .collect()
}

fn tree_file(repo: &Repository, commit: Oid, path: &str) -> Option<String> {
    let tree = repo.find_commit(commit).unwrap().tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).unwrap();
    Some(String::from_utf8(blob.content().to_vec()).unwrap())
}

fn stage(root: &Path, rel: &str) {
    let repo = Repository::open(root).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(rel)).unwrap();
    index.write().unwrap();
}

// ------------------------------------------------------------- exclusion

#[test]
fn ensure_excluded_is_idempotent_and_hides_fleet() {
    let f = Fixture::new();
    fs::remove_dir_all(f.root.join(".git/info")).ok();
    let gitignore = fs::read(f.root.join(".gitignore")).unwrap();

    ensure_excluded(&f.root).unwrap();
    ensure_excluded(&f.root).unwrap();
    let exclude = fs::read_to_string(f.root.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.lines().filter(|l| *l == "/.fleet/").count(), 1);

    fs::create_dir_all(f.root.join(".fleet/runs")).unwrap();
    fs::write(f.root.join(".fleet/runs/x.jsonl"), "{}\n").unwrap();
    ensure_worktree(&f.root, "t1", "main").unwrap();
    assert_eq!(status(&f.root), vec![]);
    assert_eq!(fs::read(f.root.join(".gitignore")).unwrap(), gitignore);
    ensure_excluded(&f.root).unwrap();
    let again = fs::read_to_string(f.root.join(".git/info/exclude")).unwrap();
    assert_eq!(again, exclude);
}

#[test]
fn ensure_excluded_appends_after_existing_lines() {
    let f = Fixture::new();
    fs::create_dir_all(f.root.join(".git/info")).unwrap();
    fs::write(f.root.join(".git/info/exclude"), "*.swp").unwrap();
    ensure_excluded(&f.root).unwrap();
    let exclude = fs::read_to_string(f.root.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude, "*.swp\n/.fleet/\n");
}

// -------------------------------------------------------------- worktrees

#[test]
fn worktree_created_reused_and_recreated() {
    let f = Fixture::new();
    let main = f.tip("main");
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    assert_eq!(wt.path, f.root.join(".fleet/worktrees/t1"));
    assert_eq!(wt.branch, "fleet/t1");
    assert_eq!(wt.head, main);
    assert_eq!(f.tip("fleet/t1"), main);
    assert_eq!(
        fs::read_to_string(wt.path.join("a.txt")).unwrap(),
        "alpha\n"
    );
    assert_eq!(
        git::current_branch(&wt.path).unwrap().as_deref(),
        Some("fleet/t1")
    );

    // Reused: work in progress survives, head is the branch tip.
    fs::write(wt.path.join("wip.txt"), "wip\n").unwrap();
    let committed = commit_all(&Repository::open(&wt.path).unwrap(), "agent work");
    let again = ensure_worktree(&f.root, "t1", "main").unwrap();
    assert_eq!(again.path, wt.path);
    assert_eq!(again.head, committed);

    // Recreated after its directory vanished: stale registration pruned,
    // branch moved to the target tip, old tip kept under refs/fleet/stale.
    fs::remove_dir_all(&wt.path).unwrap();
    let fresh = ensure_worktree(&f.root, "t1", "main").unwrap();
    assert_eq!(fresh.head, main);
    assert_eq!(f.tip("fleet/t1"), main);
    assert!(fresh.path.join("a.txt").exists());
    assert!(!fresh.path.join("wip.txt").exists());
    let repo = f.repo();
    let stale: Vec<Oid> = repo
        .references_glob("refs/fleet/stale/t1/*")
        .unwrap()
        .map(|r| r.unwrap().target().unwrap())
        .collect();
    assert_eq!(stale, vec![committed]);
    repo.find_worktree("t1").unwrap().validate().unwrap();
}

#[test]
fn worktrees_started_at_the_same_moment_all_succeed() {
    let f = Fixture::new();
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (root, barrier) = (&f.root, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    ensure_worktree(root, &format!("par{i}"), "main")
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    });
    let exclude = fs::read_to_string(f.root.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.matches("/.fleet/").count(), 1, "{exclude}");
}

#[test]
fn worktree_starts_from_target_tip_and_rejects_bad_ids() {
    let f = Fixture::new();
    let repo = f.repo();
    fs::write(f.root.join("a.txt"), "alpha 2\n").unwrap();
    let tip = commit_all(&repo, "second");
    let wt = ensure_worktree(&f.root, "t2", "main").unwrap();
    assert_eq!(wt.head, tip);
    assert_eq!(
        fs::read_to_string(wt.path.join("a.txt")).unwrap(),
        "alpha 2\n"
    );

    for bad in ["", "-x", "Up", "a/b", "../x", "a b"] {
        assert!(matches!(
            ensure_worktree(&f.root, bad, "main"),
            Err(GitError::InvalidTaskId { .. })
        ));
    }
    match ensure_worktree(&f.root, "t3", "nope") {
        Err(GitError::BranchNotFound { branch }) => assert_eq!(branch, "nope"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn occupied_worktree_directory_is_not_clobbered() {
    let f = Fixture::new();
    let path = f.wt("t1");
    fs::create_dir_all(&path).unwrap();
    fs::write(path.join("precious.txt"), "mine\n").unwrap();
    assert!(matches!(
        ensure_worktree(&f.root, "t1", "main"),
        Err(GitError::WorktreeOccupied { .. })
    ));
    assert_eq!(
        fs::read_to_string(path.join("precious.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn remove_worktree_keeps_the_branch() {
    let f = Fixture::new();
    let id = f.task_with("t1", |wt| fs::write(wt.join("n.txt"), "n\n").unwrap());
    remove_worktree(&f.root, "t1").unwrap();
    assert!(!f.wt("t1").exists());
    assert!(f.repo().find_worktree("t1").is_err());
    assert_eq!(f.tip("fleet/t1"), id);
    remove_worktree(&f.root, "t1").unwrap();
    // The task can start again afterwards.
    ensure_worktree(&f.root, "t1", "main").unwrap();
}

// ---------------------------------------------------------------- commits

#[test]
fn commit_attempt_stages_everything_but_ignored_files() {
    let f = Fixture::new();
    let mut cfg = f.repo().config().unwrap();
    cfg.set_str("user.name", "Repo Owner").unwrap();
    cfg.set_str("user.email", "owner@example.com").unwrap();

    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    let p = &wt.path;
    fs::write(p.join("a.txt"), "alpha changed\n").unwrap();
    fs::remove_file(p.join("b.txt")).unwrap();
    fs::write(p.join("d.txt"), "delta\n").unwrap();
    fs::create_dir_all(p.join("dir/sub")).unwrap();
    fs::write(p.join("dir/sub/e.txt"), "echo\n").unwrap();
    fs::write(p.join(".hidden"), "dot\n").unwrap();
    fs::write(p.join("debug.log"), "ignored\n").unwrap();
    fs::create_dir_all(p.join("target")).unwrap();
    fs::write(p.join("target/cache"), "ignored\n").unwrap();

    let outcome = commit_attempt(&f.root, wt.head, &attr("t1")).unwrap();
    let CommitOutcome::Committed(id) = outcome else {
        panic!("expected a commit, got {outcome:?}");
    };
    let repo = f.repo();
    assert_eq!(
        tree_file(&repo, id, "a.txt").as_deref(),
        Some("alpha changed\n")
    );
    assert_eq!(tree_file(&repo, id, "b.txt"), None);
    assert_eq!(tree_file(&repo, id, "d.txt").as_deref(), Some("delta\n"));
    assert_eq!(
        tree_file(&repo, id, "dir/sub/e.txt").as_deref(),
        Some("echo\n")
    );
    assert_eq!(tree_file(&repo, id, ".hidden").as_deref(), Some("dot\n"));
    assert_eq!(tree_file(&repo, id, "debug.log"), None);
    assert_eq!(tree_file(&repo, id, "target/cache"), None);

    let commit = repo.find_commit(id).unwrap();
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), vec![wt.head]);
    let message = commit.message().unwrap();
    assert!(message.starts_with("fleet(t1): Do the thing\n\nAttempt 1 by claude.\n\n"));
    assert!(message.ends_with("\n\nFleet-Task: t1\nFleet-Agent: claude\nFleet-Attempt: 1\n"));
    let trailers: Vec<(String, String)> = git2::message_trailers_strs(message)
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(
        trailers,
        vec![
            ("Fleet-Task".into(), "t1".into()),
            ("Fleet-Agent".into(), "claude".into()),
            ("Fleet-Attempt".into(), "1".into()),
        ]
    );
    let parsed = parse_trailers(message).unwrap();
    assert_eq!((parsed.task.as_str(), parsed.attempt), ("t1", 1));
    assert_eq!(commit.author().name(), Ok("claude (fleetdeck)"));
    assert_eq!(commit.author().email(), Ok("fleetdeck@localhost"));
    assert_eq!(commit.committer().name(), Ok("Repo Owner"));
    assert_eq!(commit.committer().email(), Ok("owner@example.com"));

    // Branch, index and files agree; ignored files are still there.
    assert_eq!(f.tip("fleet/t1"), id);
    assert_eq!(status(p), vec![]);
    assert!(p.join("debug.log").exists() && p.join("target/cache").exists());

    // Idempotent.
    assert_eq!(
        commit_attempt(&f.root, wt.head, &attr("t1")).unwrap(),
        CommitOutcome::Committed(id)
    );
    assert_eq!(f.tip("fleet/t1"), id);
}

#[test]
fn committer_falls_back_without_an_identity() {
    let f = Fixture::new();
    let id = f.task_with("t1", |wt| fs::write(wt.join("n.txt"), "n\n").unwrap());
    let repo = f.repo();
    let commit = repo.find_commit(id).unwrap();
    // The machine running the tests may or may not have a global identity.
    match repo.signature() {
        Ok(configured) => assert_eq!(commit.committer().name(), configured.name()),
        Err(_) => {
            assert_eq!(commit.committer().name(), Ok("fleetdeck"));
            assert_eq!(commit.committer().email(), Ok("fleetdeck@localhost"));
        }
    }
}

#[test]
fn commit_attempt_reports_no_changes() {
    let f = Fixture::new();
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    fs::write(wt.path.join("only.log"), "ignored\n").unwrap();
    assert_eq!(
        commit_attempt(&f.root, wt.head, &attr("t1")).unwrap(),
        CommitOutcome::NoChanges
    );
    assert_eq!(f.tip("fleet/t1"), wt.head);

    // Agent commits that net to nothing: saved, branch back at base.
    let wrepo = Repository::open(&wt.path).unwrap();
    fs::write(wt.path.join("tmp.txt"), "tmp\n").unwrap();
    let c1 = commit_all(&wrepo, "add tmp");
    fs::remove_file(wt.path.join("tmp.txt")).unwrap();
    let c2 = commit_all(&wrepo, "remove tmp");
    assert_ne!(c1, c2);
    assert_eq!(
        commit_attempt(&f.root, wt.head, &attr("t1")).unwrap(),
        CommitOutcome::NoChanges
    );
    assert_eq!(f.tip("fleet/t1"), wt.head);
    let saved = f.repo().refname_to_id("refs/fleet/agent/t1/1").unwrap();
    assert_eq!(saved, c2);
}

#[test]
fn commit_attempt_squashes_the_agents_own_commits() {
    let f = Fixture::new();
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    let wrepo = Repository::open(&wt.path).unwrap();
    fs::write(wt.path.join("f1.txt"), "one\n").unwrap();
    commit_all(&wrepo, "agent step 1");
    fs::write(wt.path.join("f2.txt"), "two\n").unwrap();
    let agent_tip = commit_all(&wrepo, "agent step 2");
    fs::write(wt.path.join("f3.txt"), "three\n").unwrap(); // uncommitted

    let CommitOutcome::Committed(id) = commit_attempt(&f.root, wt.head, &attr("t1")).unwrap()
    else {
        panic!("expected a commit");
    };
    let repo = f.repo();
    let commit = repo.find_commit(id).unwrap();
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), vec![wt.head]);
    for (file, text) in [
        ("f1.txt", "one\n"),
        ("f2.txt", "two\n"),
        ("f3.txt", "three\n"),
    ] {
        assert_eq!(tree_file(&repo, id, file).as_deref(), Some(text));
    }
    assert_eq!(
        repo.refname_to_id("refs/fleet/agent/t1/1").unwrap(),
        agent_tip
    );
    assert_eq!(f.tip("fleet/t1"), id);
    assert_eq!(status(&wt.path), vec![]);
    assert_eq!(
        commit_attempt(&f.root, wt.head, &attr("t1")).unwrap(),
        CommitOutcome::Committed(id)
    );
}

#[test]
fn commit_attempt_reattaches_a_detached_head() {
    let f = Fixture::new();
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    let wrepo = Repository::open(&wt.path).unwrap();
    wrepo.set_head_detached(wt.head).unwrap();
    fs::write(wt.path.join("n.txt"), "n\n").unwrap();
    let agent = commit_all(&wrepo, "detached work");
    let CommitOutcome::Committed(id) = commit_attempt(&f.root, wt.head, &attr("t1")).unwrap()
    else {
        panic!("expected a commit");
    };
    assert_eq!(f.tip("fleet/t1"), id);
    assert_eq!(
        git::current_branch(&wt.path).unwrap().as_deref(),
        Some("fleet/t1")
    );
    assert_eq!(
        f.repo().refname_to_id("refs/fleet/agent/t1/1").unwrap(),
        agent
    );
}

// ---------------------------------------------------------- save and reset

#[test]
fn save_and_reset_keeps_the_work_and_the_ignored_files() {
    let f = Fixture::new();
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    let p = &wt.path;
    let wrepo = Repository::open(p).unwrap();
    fs::write(p.join("extra.txt"), "extra\n").unwrap();
    let agent_commit = commit_all(&wrepo, "agent commit");
    fs::write(p.join("a.txt"), "alpha edited\n").unwrap(); // unstaged
    fs::write(p.join("staged.txt"), "staged\n").unwrap();
    stage(p, "staged.txt");
    fs::remove_file(p.join("c.txt")).unwrap();
    fs::create_dir_all(p.join("newdir")).unwrap();
    fs::write(p.join("newdir/u.txt"), "untracked\n").unwrap();
    fs::write(p.join("build.log"), "ignored\n").unwrap();
    fs::create_dir_all(p.join("target/debug")).unwrap();
    fs::write(p.join("target/debug/bin"), "cache\n").unwrap();

    let save_ref = git::interrupted_ref("t1", 1);
    let saved = save_and_reset(&f.root, wt.head, &save_ref, &attr("t1"))
        .unwrap()
        .expect("something saved");
    let repo = f.repo();
    assert_eq!(repo.refname_to_id(&save_ref).unwrap(), saved);
    let saved_commit = repo.find_commit(saved).unwrap();
    assert_eq!(saved_commit.parent_id(0).unwrap(), agent_commit);
    assert!(parse_trailers(saved_commit.message().unwrap()).is_some());
    assert_eq!(
        tree_file(&repo, saved, "extra.txt").as_deref(),
        Some("extra\n")
    );
    assert_eq!(
        tree_file(&repo, saved, "a.txt").as_deref(),
        Some("alpha edited\n")
    );
    assert_eq!(
        tree_file(&repo, saved, "staged.txt").as_deref(),
        Some("staged\n")
    );
    assert_eq!(
        tree_file(&repo, saved, "newdir/u.txt").as_deref(),
        Some("untracked\n")
    );
    assert_eq!(tree_file(&repo, saved, "c.txt"), None);
    assert_eq!(tree_file(&repo, saved, "build.log"), None);

    // Back at `to`: branch, index, files; untracked gone, ignored kept.
    assert_eq!(f.tip("fleet/t1"), wt.head);
    assert_eq!(status(p), vec![]);
    assert_eq!(fs::read_to_string(p.join("a.txt")).unwrap(), "alpha\n");
    assert_eq!(fs::read_to_string(p.join("c.txt")).unwrap(), "charlie\n");
    for gone in ["extra.txt", "staged.txt", "newdir/u.txt"] {
        assert!(!p.join(gone).exists(), "{gone} should be gone");
    }
    assert_eq!(
        fs::read_to_string(p.join("build.log")).unwrap(),
        "ignored\n"
    );
    assert!(p.join("target/debug/bin").exists());

    // Nothing left to save the second time.
    assert_eq!(
        save_and_reset(&f.root, wt.head, &save_ref, &attr("t1")).unwrap(),
        None
    );
    assert_eq!(repo.refname_to_id(&save_ref).unwrap(), saved);
}

#[test]
fn save_and_reset_never_drops_an_earlier_save() {
    let f = Fixture::new();
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    let save_ref = git::interrupted_ref("t1", 1);
    fs::write(wt.path.join("one.txt"), "1\n").unwrap();
    let first = save_and_reset(&f.root, wt.head, &save_ref, &attr("t1"))
        .unwrap()
        .unwrap();
    fs::write(wt.path.join("two.txt"), "2\n").unwrap();
    let second = save_and_reset(&f.root, wt.head, &save_ref, &attr("t1"))
        .unwrap()
        .unwrap();
    let repo = f.repo();
    let parents: Vec<Oid> = repo.find_commit(second).unwrap().parent_ids().collect();
    assert_eq!(parents, vec![wt.head, first]);
}

// ------------------------------------------------------------------ merges

#[test]
fn clean_merge_updates_target_and_checkout() {
    let f = Fixture::new();
    let old_main = f.tip("main");
    let task_tip = f.task_with("t1", |wt| {
        fs::write(wt.join("new.txt"), "brand new\n").unwrap();
        fs::write(wt.join("a.txt"), "alpha from t1\n").unwrap();
        fs::remove_file(wt.join("c.txt")).unwrap();
        fs::create_dir_all(wt.join("src/deep")).unwrap();
        fs::write(wt.join("src/deep/mod.rs"), "// rust\n").unwrap();
    });
    let outcome = merge_task(&f.root, "main", &attr("t1")).unwrap();
    let MergeOutcome::Merged { commit } = outcome else {
        panic!("expected a merge, got {outcome:?}");
    };
    assert_eq!(f.tip("main"), commit);
    let repo = f.repo();
    let merge = repo.find_commit(commit).unwrap();
    assert_eq!(
        merge.parent_ids().collect::<Vec<_>>(),
        vec![old_main, task_tip]
    );
    assert_eq!(
        merge.message().unwrap(),
        "Merge fleet/t1: Do the thing\n\nFleet-Task: t1\nFleet-Agent: claude\nFleet-Attempt: 1\n"
    );
    assert_eq!(merge.author().name(), Ok("claude (fleetdeck)"));

    // The user's checkout follows: files and index.
    assert_eq!(f.read("new.txt"), "brand new\n");
    assert_eq!(f.read("a.txt"), "alpha from t1\n");
    assert_eq!(f.read("src/deep/mod.rs"), "// rust\n");
    assert!(!f.root.join("c.txt").exists());
    assert_eq!(status(&f.root), vec![]);
    assert_eq!(
        git::current_branch(&f.root).unwrap().as_deref(),
        Some("main")
    );
}

#[test]
fn conflicting_tasks_leave_everything_untouched() {
    let f = Fixture::new();
    f.task_with("t1", |wt| {
        fs::write(
            wt.join("shared.txt"),
            "line one\nline TWO by t1\nline three\n",
        )
        .unwrap()
    });
    f.task_with("t2", |wt| {
        fs::write(
            wt.join("shared.txt"),
            "line one\nline 2 by t2\nline three\n",
        )
        .unwrap();
        fs::write(wt.join("t2-only.txt"), "fine\n").unwrap();
    });
    assert!(matches!(
        merge_task(&f.root, "main", &attr("t1")).unwrap(),
        MergeOutcome::Merged { .. }
    ));
    let main = f.tip("main");
    let before = f.read("shared.txt");
    assert_eq!(
        merge_task(&f.root, "main", &attr("t2")).unwrap(),
        MergeOutcome::Conflict {
            files: vec!["shared.txt".into()]
        }
    );
    assert_eq!(f.tip("main"), main);
    assert_eq!(f.read("shared.txt"), before);
    assert!(!f.root.join("t2-only.txt").exists());
    assert_eq!(status(&f.root), vec![]);
    assert_eq!(f.repo().state(), git2::RepositoryState::Clean);
}

#[test]
fn merge_refuses_to_touch_user_changes() {
    let f = Fixture::new();
    f.task_with("t1", |wt| {
        fs::write(wt.join("a.txt"), "alpha from t1\n").unwrap();
        fs::write(wt.join("new.txt"), "from t1\n").unwrap();
    });
    let main = f.tip("main");
    fs::write(f.root.join("a.txt"), "user's precious edit\n").unwrap();
    fs::write(f.root.join("new.txt"), "user's untracked file\n").unwrap();
    assert_eq!(
        merge_task(&f.root, "main", &attr("t1")).unwrap(),
        MergeOutcome::Refused {
            files: vec!["a.txt".into(), "new.txt".into()]
        }
    );
    assert_eq!(f.tip("main"), main);
    assert_eq!(f.read("a.txt"), "user's precious edit\n");
    assert_eq!(f.read("new.txt"), "user's untracked file\n");

    // A staged change to the file counts too.
    fs::remove_file(f.root.join("new.txt")).unwrap();
    stage(&f.root, "a.txt");
    assert_eq!(
        merge_task(&f.root, "main", &attr("t1")).unwrap(),
        MergeOutcome::Refused {
            files: vec!["a.txt".into()]
        }
    );
    assert_eq!(f.tip("main"), main);
}

#[test]
fn merge_refuses_to_overwrite_an_ignored_file() {
    let f = Fixture::new();
    f.task_with("t1", |wt| {
        // The agent force-added a file the user's checkout ignores.
        fs::write(wt.join("notes.log"), "from t1\n").unwrap();
        stage(wt, "notes.log");
    });
    fs::write(f.root.join("notes.log"), "user's log\n").unwrap();
    assert_eq!(
        merge_task(&f.root, "main", &attr("t1")).unwrap(),
        MergeOutcome::Refused {
            files: vec!["notes.log".into()]
        }
    );
    assert_eq!(f.read("notes.log"), "user's log\n");
}

#[test]
fn merge_keeps_unrelated_user_changes_byte_for_byte() {
    let f = Fixture::new();
    f.task_with("t1", |wt| {
        fs::write(wt.join("a.txt"), "alpha from t1\n").unwrap();
        fs::write(wt.join("added.txt"), "added\n").unwrap();
        fs::remove_file(wt.join("c.txt")).unwrap();
    });
    let unstaged = b"bravo\r\nwith CRLF and no final newline".to_vec();
    fs::write(f.root.join("b.txt"), &unstaged).unwrap();
    fs::write(f.root.join("shared.txt"), "staged edit\n").unwrap();
    stage(&f.root, "shared.txt");
    fs::write(f.root.join("scratch.md"), "user's notes\n").unwrap();
    fs::write(f.root.join("local.log"), "ignored\n").unwrap();

    let MergeOutcome::Merged { commit } = merge_task(&f.root, "main", &attr("t1")).unwrap() else {
        panic!("expected a merge");
    };
    assert_eq!(f.tip("main"), commit);
    assert_eq!(fs::read(f.root.join("b.txt")).unwrap(), unstaged);
    assert_eq!(f.read("shared.txt"), "staged edit\n");
    assert_eq!(f.read("scratch.md"), "user's notes\n");
    assert_eq!(f.read("local.log"), "ignored\n");
    assert_eq!(f.read("a.txt"), "alpha from t1\n");
    assert_eq!(f.read("added.txt"), "added\n");
    assert!(!f.root.join("c.txt").exists());
    assert_eq!(
        status(&f.root),
        vec![
            ("b.txt".to_owned(), Status::WT_MODIFIED),
            ("scratch.md".to_owned(), Status::WT_NEW),
            ("shared.txt".to_owned(), Status::INDEX_MODIFIED),
        ]
    );
}

#[test]
fn merging_twice_reports_already_merged() {
    let f = Fixture::new();
    f.task_with("t1", |wt| fs::write(wt.join("one.txt"), "1\n").unwrap());
    f.task_with("t2", |wt| fs::write(wt.join("two.txt"), "2\n").unwrap());
    let MergeOutcome::Merged { commit } = merge_task(&f.root, "main", &attr("t1")).unwrap() else {
        panic!("expected a merge");
    };
    assert_eq!(
        merge_task(&f.root, "main", &attr("t1")).unwrap(),
        MergeOutcome::AlreadyMerged { commit }
    );
    assert_eq!(f.tip("main"), commit);
    // Still found once other merges landed on top.
    merge_task(&f.root, "main", &attr("t2")).unwrap();
    assert_eq!(
        merge_task(&f.root, "main", &attr("t1")).unwrap(),
        MergeOutcome::AlreadyMerged { commit }
    );
    // A task branch without commits of its own is trivially merged.
    ensure_worktree(&f.root, "t3", "main").unwrap();
    let main = f.tip("main");
    assert_eq!(
        merge_task(&f.root, "main", &attr("t3")).unwrap(),
        MergeOutcome::AlreadyMerged { commit: main }
    );
}

#[test]
fn merge_into_a_branch_not_checked_out_moves_only_the_ref() {
    let f = Fixture::new();
    let repo = f.repo();
    let main = f.tip("main");
    repo.branch("dev", &repo.find_commit(main).unwrap(), false)
        .unwrap();
    repo.set_head("refs/heads/dev").unwrap();
    f.task_with("t1", |wt| fs::write(wt.join("new.txt"), "new\n").unwrap());
    fs::write(f.root.join("a.txt"), "user edit on dev\n").unwrap();

    let MergeOutcome::Merged { commit } = merge_task(&f.root, "main", &attr("t1")).unwrap() else {
        panic!("expected a merge");
    };
    assert_eq!(f.tip("main"), commit);
    assert_eq!(f.tip("dev"), main);
    assert!(!f.root.join("new.txt").exists());
    assert_eq!(f.read("a.txt"), "user edit on dev\n");
    assert_eq!(
        git::current_branch(&f.root).unwrap().as_deref(),
        Some("dev")
    );

    // Detached HEAD: same.
    repo.set_head_detached(main).unwrap();
    assert_eq!(git::current_branch(&f.root).unwrap(), None);
    f.task_with("t2", |wt| fs::write(wt.join("two.txt"), "2\n").unwrap());
    let MergeOutcome::Merged { commit: second } = merge_task(&f.root, "main", &attr("t2")).unwrap()
    else {
        panic!("expected a merge");
    };
    assert_eq!(f.tip("main"), second);
    assert!(!f.root.join("two.txt").exists());
    assert_eq!(repo.head().unwrap().target(), Some(main));
}

#[test]
fn target_moved_during_merge_is_never_overwritten() {
    let f = Fixture::new();
    let repo = f.repo();
    f.task_with("t1", |wt| fs::write(wt.join("new.txt"), "new\n").unwrap());
    let seen = f.tip("main");

    // Checked out: the user commits on main after fleetdeck read the tip.
    fs::write(f.root.join("b.txt"), "user commit\n").unwrap();
    let user = commit_all(&repo, "user commit");
    match merge_task_at(&f.root, "main", &attr("t1"), seen) {
        Err(GitError::TargetMoved {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (seen, user)),
        other => panic!("expected TargetMoved, got {other:?}"),
    }
    assert_eq!(f.tip("main"), user);
    assert!(!f.root.join("new.txt").exists());

    // Not checked out: the compare-and-swap itself refuses the stale tip.
    let dev_base = f.tip("main");
    repo.branch("dev", &repo.find_commit(dev_base).unwrap(), false)
        .unwrap();
    repo.set_head("refs/heads/dev").unwrap();
    let seen = dev_base;
    let sneaky = {
        let tree = repo.find_commit(seen).unwrap().tree().unwrap();
        let parent = repo.find_commit(seen).unwrap();
        repo.commit(None, &sig(), &sig(), "someone else", &tree, &[&parent])
            .unwrap()
    };
    repo.reference("refs/heads/main", sneaky, true, "test: move main")
        .unwrap();
    assert!(matches!(
        merge_task_at(&f.root, "main", &attr("t1"), seen),
        Err(GitError::TargetMoved { .. })
    ));
    assert_eq!(f.tip("main"), sneaky);

    // merge_task recomputes on the current tip.
    let MergeOutcome::Merged { commit } = merge_task(&f.root, "main", &attr("t1")).unwrap() else {
        panic!("expected a merge");
    };
    assert_eq!(
        repo.find_commit(commit).unwrap().parent_id(0).unwrap(),
        sneaky
    );
}

#[test]
fn merge_waits_for_the_users_own_merge_to_finish() {
    let f = Fixture::new();
    f.task_with("t1", |wt| fs::write(wt.join("new.txt"), "new\n").unwrap());
    let main = f.tip("main");
    fs::write(f.root.join(".git/MERGE_HEAD"), format!("{main}\n")).unwrap();
    assert!(matches!(
        merge_task(&f.root, "main", &attr("t1")),
        Err(GitError::CheckoutBusy { .. })
    ));
    assert_eq!(f.tip("main"), main);
    assert!(!f.root.join("new.txt").exists());
}

#[test]
fn concurrent_merges_both_land() {
    let f = Fixture::new();
    let repo = f.repo();
    let main = f.tip("main");
    repo.branch("dev", &repo.find_commit(main).unwrap(), false)
        .unwrap();
    repo.set_head("refs/heads/dev").unwrap();
    let tasks = ["t1", "t2", "t3", "t4"];
    for task in tasks {
        f.task_with(task, |wt| fs::write(wt.join(task), task).unwrap());
    }
    std::thread::scope(|s| {
        for task in tasks {
            let root = f.root.clone();
            s.spawn(move || {
                let outcome = merge_task(&root, "main", &attr(task)).unwrap();
                assert!(matches!(outcome, MergeOutcome::Merged { .. }));
            });
        }
    });
    let tip = f.tip("main");
    for task in tasks {
        assert!(tree_file(&repo, tip, task).is_some(), "{task} lost");
    }
}

#[test]
fn first_parent_history_shows_one_merge_per_task_in_order() {
    let f = Fixture::new();
    let start = f.tip("main");
    for (task, file) in [("t1", "one.txt"), ("t2", "two.txt"), ("t3", "three.txt")] {
        f.task_with(task, |wt| fs::write(wt.join(file), task).unwrap());
        assert!(matches!(
            merge_task(&f.root, "main", &attr(task)).unwrap(),
            MergeOutcome::Merged { .. }
        ));
    }
    let repo = f.repo();
    let mut walk = repo.revwalk().unwrap();
    walk.push(f.tip("main")).unwrap();
    walk.simplify_first_parent().unwrap();
    let log: Vec<Oid> = walk.map(Result::unwrap).collect();
    assert_eq!(log.len(), 4);
    assert_eq!(log[3], start);
    let tasks: Vec<String> = log[..3]
        .iter()
        .map(|id| {
            let c = repo.find_commit(*id).unwrap();
            assert_eq!(c.parent_count(), 2);
            parse_trailers(c.message().unwrap()).unwrap().task
        })
        .collect();
    assert_eq!(tasks, ["t3", "t2", "t1"]);
    for file in ["one.txt", "two.txt", "three.txt"] {
        assert!(f.root.join(file).exists());
    }
    assert_eq!(status(&f.root), vec![]);
}

// ------------------------------------------------------------------ lookups

#[test]
fn lookups_and_changed_files() {
    let f = Fixture::new();
    assert_eq!(
        git::current_branch(&f.root).unwrap().as_deref(),
        Some("main")
    );
    match git::branch_tip(&f.root, "missing") {
        Err(GitError::BranchNotFound { branch }) => assert_eq!(branch, "missing"),
        other => panic!("unexpected {other:?}"),
    }
    let base = f.tip("main");
    let id = f.task_with("t1", |wt| {
        fs::write(wt.join("a.txt"), "changed\n").unwrap();
        fs::remove_file(wt.join("b.txt")).unwrap();
        fs::create_dir_all(wt.join("z")).unwrap();
        fs::write(wt.join("z/new.txt"), "x").unwrap();
    });
    assert_eq!(
        git::changed_files(&f.root, base, id).unwrap(),
        vec!["a.txt", "b.txt", "z/new.txt"]
    );

    let dir = tempfile::tempdir().unwrap();
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    Repository::init_opts(dir.path(), &opts).unwrap();
    assert_eq!(git::current_branch(dir.path()).unwrap(), None);
}

// ---------------------------------------------------------------- excludes

fn excludes() -> Vec<String> {
    vec![".aider*".to_owned(), "scratch/".to_owned()]
}

#[test]
fn excluded_untracked_files_stay_out_of_the_commit_but_tracked_ones_stay_tracked() {
    let f = Fixture::new();
    // `.aider.conf.yml` is the project's own, tracked on main: it stays tracked.
    fs::write(f.root.join(".aider.conf.yml"), "model: x\n").unwrap();
    commit_all(&f.repo(), "track the aider config");
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    let p = &wt.path;
    fs::create_dir_all(p.join("src")).unwrap();
    fs::write(p.join("src/x.rs"), "fn x() {}\n").unwrap();
    fs::write(p.join(".aider.chat.history.md"), "# chat\n").unwrap();
    fs::write(p.join(".aider.input.history"), "create x\n").unwrap();
    fs::create_dir_all(p.join(".aider.tags.cache.v4")).unwrap();
    fs::write(p.join(".aider.tags.cache.v4/cache.db"), "db").unwrap();
    fs::create_dir_all(p.join("scratch")).unwrap();
    fs::write(p.join("scratch/notes"), "n\n").unwrap();
    fs::write(p.join(".aider.conf.yml"), "model: y\n").unwrap();

    let outcome = git::commit_attempt_excluding(&f.root, wt.head, &attr("t1"), &excludes());
    let Ok(CommitOutcome::Committed(id)) = outcome else {
        panic!("expected a commit, got {outcome:?}");
    };
    let repo = f.repo();
    assert_eq!(
        tree_file(&repo, id, "src/x.rs").as_deref(),
        Some("fn x() {}\n")
    );
    assert_eq!(
        tree_file(&repo, id, ".aider.conf.yml").as_deref(),
        Some("model: y\n")
    );
    for gone in [
        ".aider.chat.history.md",
        ".aider.input.history",
        ".aider.tags.cache.v4/cache.db",
        "scratch/notes",
    ] {
        assert_eq!(tree_file(&repo, id, gone), None, "{gone} was committed");
    }
    // Calling again (a gate that crashed after committing) finds the same commit.
    let again = git::commit_attempt_excluding(&f.root, wt.head, &attr("t1"), &excludes());
    assert_eq!(again.unwrap(), CommitOutcome::Committed(id));
}

#[test]
fn a_worktree_with_only_excluded_files_has_no_changes() {
    let f = Fixture::new();
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    fs::write(wt.path.join(".aider.chat.history.md"), "# chat\n").unwrap();
    fs::write(wt.path.join(".aider.input.history"), "x\n").unwrap();
    let outcome = git::commit_attempt_excluding(&f.root, wt.head, &attr("t1"), &excludes());
    assert_eq!(outcome.unwrap(), CommitOutcome::NoChanges);
}

#[test]
fn excluded_files_the_agent_committed_itself_are_taken_out() {
    let f = Fixture::new();
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    fs::write(wt.path.join(".aider.chat.history.md"), "# chat\n").unwrap();
    fs::write(wt.path.join("new.txt"), "new\n").unwrap();
    commit_all(&Repository::open(&wt.path).unwrap(), "aider: add new.txt");
    let outcome = git::commit_attempt_excluding(&f.root, wt.head, &attr("t1"), &excludes());
    let Ok(CommitOutcome::Committed(id)) = outcome else {
        panic!("expected a commit, got {outcome:?}");
    };
    let repo = f.repo();
    assert_eq!(tree_file(&repo, id, "new.txt").as_deref(), Some("new\n"));
    assert_eq!(tree_file(&repo, id, ".aider.chat.history.md"), None);
}

#[test]
fn exclude_patterns_are_appended_to_info_exclude_once() {
    let f = Fixture::new();
    ensure_excluded(&f.root).unwrap();
    git::exclude_patterns(&f.root, &excludes()).unwrap();
    git::exclude_patterns(&f.root, &excludes()).unwrap();
    let text = fs::read_to_string(f.root.join(".git/info/exclude")).unwrap();
    assert_eq!(text.matches(".aider*").count(), 1, "{text}");
    assert_eq!(text.matches("scratch/").count(), 1, "{text}");
    assert!(text.contains("/.fleet/"), "{text}");
    // The agent's own `git status` in its worktree no longer sees them.
    let wt = ensure_worktree(&f.root, "t1", "main").unwrap();
    fs::write(wt.path.join(".aider.input.history"), "x\n").unwrap();
    let wt_repo = Repository::open(&wt.path).unwrap();
    let mut opts = StatusOptions::new();
    opts.include_untracked(true);
    let statuses = wt_repo.statuses(Some(&mut opts)).unwrap();
    let seen: Vec<String> = statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_owned))
        .collect();
    assert!(seen.is_empty(), "{seen:?}");
}
