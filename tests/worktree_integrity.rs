//! A task's worktree is used only when it is whole, and an agent never runs
//! anywhere else: half-created worktrees, stale git locks, deleted worktrees
//! and deleted task branches (issue 7, items 1, 3, 4 and 5), on the real
//! binary and real repositories.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use fleetdeck::git::{self as fgit, Expect, GitError, WorktreeProblem};
use git2::{Oid, Signature};

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
    // The fleet knows the task (a one-shot command imports the plan), as it
    // did when the engine was killed during the checkout.
    repo.expect(&["budget", "new", "--usd", "100"], 0);
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

/// Every commit on main's first-parent history but the first two (the
/// initial commit and the test's own) is a fleetdeck merge, and no commit
/// reachable from main has `subject`.
fn assert_only_fleet_merges(repo: &TestRepo, subject: &str) {
    let log = repo.first_parent_log();
    for (oid, message) in &log[..log.len() - 1] {
        assert!(
            trailer(message, "Fleet-Task").is_some(),
            "commit {oid} on main is not a fleetdeck merge: {message}"
        );
    }
    let git = repo.repo();
    let mut walk = git.revwalk().unwrap();
    walk.push_ref("refs/heads/main").unwrap();
    for oid in walk {
        let commit = git.find_commit(oid.unwrap()).unwrap();
        assert_ne!(
            commit.summary().ok().flatten(),
            Some(subject),
            "{} reached main",
            commit.id()
        );
    }
}

/// The content of `path` in main's tip.
fn main_file(repo: &TestRepo, path: &str) -> Option<String> {
    let git = repo.repo();
    let tree = git.head().unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = git.find_blob(entry.id()).unwrap();
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

#[test]
fn an_agent_whose_worktree_was_deleted_never_commits_on_main() {
    let script = [
        "if-attempt 1 run touch started",
        "if-attempt 1 sleep 1500",
        "if-attempt 1 write a.txt one\\n",
        "if-attempt 1 run git add -A; git commit -q --allow-empty -m escaped",
        "run git rev-parse --show-toplevel > where.txt",
        "write b.txt two\\n",
    ]
    .join("\n");
    let repo = TestRepo::new(&one_task(&script), &[("readme.txt", "hi\n")]);
    let wt = worktree(&repo, "new");
    let mut run = repo
        .command(&["run", "--headless", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(30), "attempt 1 to start", || {
        wt.join("started").exists().then_some(())
    });
    std::fs::remove_dir_all(&wt).unwrap();
    let status = run.wait().unwrap();
    assert!(status.success(), "the run failed: {status}");

    assert_eq!(repo.merged_tasks(), ["new"]);
    assert_only_fleet_merges(&repo, "escaped");
    let wt = repo
        .path()
        .canonicalize()
        .unwrap()
        .join(".fleet/worktrees/new");
    assert_eq!(
        main_file(&repo, "where.txt").map(|s| s.trim().to_owned()),
        Some(wt.display().to_string())
    );
    assert_eq!(main_file(&repo, "a.txt"), None);
}

/// Runs task `new` whose first attempt runs `first` (then fails) and whose
/// second writes `new.txt`: the run must end with that file merged.
fn second_attempt_merges(first: &[&str]) {
    let mut script: Vec<String> = first.iter().map(|l| format!("if-attempt 1 {l}")).collect();
    script.push("if-attempt 1 fail".into());
    script.push("write new.txt hello\\n".into());
    let repo = TestRepo::new(&one_task(&script.join("\n")), &[("readme.txt", "hi\n")]);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(repo.merged_tasks(), ["new"]);
    assert_eq!(main_file(&repo, "new.txt").as_deref(), Some("hello\n"));
}

#[test]
fn a_branch_deleted_between_attempts_is_recreated_from_the_target() {
    second_attempt_merges(&["run git update-ref -d refs/heads/fleet/new"]);
}

#[test]
fn a_branch_deleted_under_review_is_recreated_at_the_reviewed_commit() {
    let repo = TestRepo::new(
        &one_task("write new.txt hello\\n"),
        &[("readme.txt", "hi\n")],
    );
    repo.expect(&["run", "--headless"], 1);
    assert_eq!(repo.task("new")["status"], "review", "{}", repo.task("new"));
    let reviewed = repo.repo().refname_to_id("refs/heads/fleet/new").unwrap();
    repo.repo()
        .find_reference("refs/heads/fleet/new")
        .unwrap()
        .delete()
        .unwrap();

    repo.expect(&["approve", "new"], 0);
    let log = std::fs::read_to_string(repo.path().join(".fleet/fleetdeck.log")).unwrap();
    assert!(
        log.contains("branch fleet/new had been deleted: recreated"),
        "not logged: {log}"
    );
    assert_eq!(repo.merged_tasks(), ["new"]);
    let git = repo.repo();
    let merge = git.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(merge.parent_id(1).unwrap(), reviewed);
    assert_eq!(main_file(&repo, "new.txt").as_deref(), Some("hello\n"));
}

#[test]
fn a_stale_worktree_index_lock_does_not_use_up_the_attempts() {
    second_attempt_merges(&["run touch \"$(git rev-parse --git-dir)/index.lock\""]);
}

#[test]
fn stale_ref_locks_left_by_a_killed_engine_are_removed_at_start() {
    let repo = TestRepo::new(
        &one_task("write new.txt hello\\n"),
        &[("readme.txt", "hi\n")],
    );
    let refs = repo.path().join(".git/refs/heads/fleet");
    std::fs::create_dir_all(&refs).unwrap();
    std::fs::write(refs.join("new.lock"), "").unwrap();
    let saved = repo.path().join(".git/refs/fleet/interrupted/new");
    std::fs::create_dir_all(&saved).unwrap();
    std::fs::write(saved.join("1.lock"), "").unwrap();

    let out = repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert!(
        text(&out.stderr).contains("stale git lock"),
        "not told about the locks: {}",
        text(&out.stderr)
    );
    assert_eq!(repo.merged_tasks(), ["new"]);
    assert!(!refs.join("new.lock").exists());
    assert!(!saved.join("1.lock").exists());
}

#[test]
fn a_held_lock_is_an_environment_fault_not_a_failed_attempt() {
    let error = git2::Error::new(
        git2::ErrorCode::Locked,
        git2::ErrorClass::Os,
        "failed to create locked file '/r/.git/worktrees/x/index.lock': File exists",
    );
    let e = GitError::Git {
        what: "write the worktree index".into(),
        source: error,
    };
    assert!(e.is_locked() && e.is_environment(std::path::Path::new("/r")));
    assert_eq!(
        e.lock_file().as_deref(),
        Some(Path::new("/r/.git/worktrees/x/index.lock"))
    );
    assert!(e.to_string().contains("remove the named .lock file"), "{e}");
}

// ------------------------------------------------ the git layer on its own

fn stale_refs(repo: &TestRepo, task: &str) -> Vec<Oid> {
    let git = repo.repo();
    git.references_glob(&format!("refs/fleet/stale/{task}/*"))
        .unwrap()
        .map(|r| r.unwrap().target().unwrap())
        .collect()
}

#[test]
fn an_unmarked_worktree_is_trusted_only_when_it_matches_its_head() {
    let repo = TestRepo::new(SIM_PROFILE, &[("a.txt", "alpha\n")]);
    let root = repo.path().canonicalize().unwrap();
    let marker = root.join(".git/worktrees/t").join(fgit::READY_FILE);
    let wt = fgit::ensure_worktree(&root, "t", "main").unwrap();
    assert!(wt.created);
    let tip = repo.repo().refname_to_id("refs/heads/main").unwrap();
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().trim(),
        tip.to_string()
    );

    // From before the marker, and clean: reused and marked.
    std::fs::remove_file(&marker).unwrap();
    let again = fgit::ensure_worktree(&root, "t", "main").unwrap();
    assert!(!again.created);
    assert!(marker.exists());

    // From before the marker, and changed: saved, then rebuilt.
    std::fs::remove_file(&marker).unwrap();
    std::fs::write(wt.path.join("a.txt"), "changed\n").unwrap();
    let rebuilt = fgit::ensure_worktree(&root, "t", "main").unwrap();
    assert!(rebuilt.created);
    assert_eq!(
        std::fs::read_to_string(wt.path.join("a.txt")).unwrap(),
        "alpha\n"
    );
    let saved = stale_refs(&repo, "t");
    assert_eq!(saved.len(), 1);
    let git = repo.repo();
    let tree = git.find_commit(saved[0]).unwrap().tree().unwrap();
    let blob = git.find_blob(tree.get_name("a.txt").unwrap().id()).unwrap();
    assert_eq!(blob.content(), b"changed\n");
}

#[test]
fn a_continued_attempt_keeps_its_leftovers_but_never_a_stripped_index() {
    let repo = TestRepo::new(SIM_PROFILE, &[("a.txt", "alpha\n"), ("b.txt", "beta\n")]);
    let root = repo.path().canonicalize().unwrap();
    let wt = fgit::ensure_worktree(&root, "t", "main").unwrap();
    std::fs::write(wt.path.join("a.txt"), "left over\n").unwrap();
    assert_eq!(
        fgit::ensure_intact(&root, "t", Expect::Continuing).unwrap(),
        None
    );
    assert_eq!(
        std::fs::read_to_string(wt.path.join("a.txt")).unwrap(),
        "left over\n"
    );

    let index_path = root.join(".git/worktrees/t/index");
    let mut index = git2::Index::open(&index_path).unwrap();
    index.remove_path(Path::new("b.txt")).unwrap();
    index.write().unwrap();
    assert!(matches!(
        fgit::ensure_intact(&root, "t", Expect::Continuing).unwrap(),
        Some(WorktreeProblem::MissingFromIndex { count: 1, .. })
    ));
    assert_eq!(
        std::fs::read_to_string(wt.path.join("a.txt")).unwrap(),
        "alpha\n"
    );
    assert_eq!(stale_refs(&repo, "t").len(), 1, "the leftover was saved");

    std::fs::write(wt.path.join("b.txt"), "touched\n").unwrap();
    assert!(matches!(
        fgit::ensure_intact(&root, "t", Expect::Clean).unwrap(),
        Some(WorktreeProblem::Dirty { count: 1, .. })
    ));
    assert_eq!(
        fgit::ensure_intact(&root, "t", Expect::Clean).unwrap(),
        None
    );
}

#[test]
fn verify_worktree_names_what_is_wrong() {
    let repo = TestRepo::new(SIM_PROFILE, &[("a.txt", "alpha\n")]);
    let root = repo.path().canonicalize().unwrap();
    let wt = fgit::ensure_worktree(&root, "t", "main").unwrap();
    fgit::verify_worktree(&root, "t").unwrap();
    let problem = |root: &Path| match fgit::verify_worktree(root, "t") {
        Err(GitError::WorktreeDamaged { problem, .. }) => problem,
        other => panic!("expected a damaged worktree, got {other:?}"),
    };

    let head = root.join(".git/worktrees/t/HEAD");
    std::fs::write(&head, "ref: refs/heads/main\n").unwrap();
    assert_eq!(
        problem(&root),
        WorktreeProblem::WrongHead("ref: refs/heads/main".into())
    );
    std::fs::write(&head, "ref: refs/heads/fleet/t\n").unwrap();

    std::fs::remove_dir_all(&wt.path).unwrap();
    assert_eq!(problem(&root), WorktreeProblem::NoDirectory);
    std::fs::create_dir_all(&wt.path).unwrap();
    assert_eq!(problem(&root), WorktreeProblem::NoGitFile);

    // ensure_worktree puts it right, keeping the plain directory's files.
    std::fs::write(wt.path.join("mine.txt"), "agent output\n").unwrap();
    fgit::ensure_worktree(&root, "t", "main").unwrap();
    fgit::verify_worktree(&root, "t").unwrap();
    let kept: Vec<_> = std::fs::read_dir(root.join(".fleet/stale"))
        .unwrap()
        .collect();
    assert_eq!(kept.len(), 1);
}

#[test]
fn a_lock_the_agent_left_does_not_fail_its_gate() {
    let script = "write new.txt hello\\n\nrun touch \"$(git rev-parse --git-dir)/index.lock\"";
    let repo = TestRepo::new(&one_task(script), &[("readme.txt", "hi\n")]);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(repo.merged_tasks(), ["new"]);
    assert_eq!(repo.prompts("new").len(), 1, "one attempt was enough");
}

#[test]
fn an_incomplete_registration_left_by_a_killed_add_is_replaced() {
    let repo = TestRepo::new(&one_task("write new.txt hello"), &[("a.txt", "a\n")]);
    let root = repo.path().canonicalize().unwrap();
    // A kill between libgit2's first steps: the admin directory has only
    // `gitdir`, the worktree directory only its `.git` file.
    let admin = root.join(".git/worktrees/new");
    let wt = root.join(".fleet/worktrees/new");
    std::fs::create_dir_all(&admin).unwrap();
    std::fs::create_dir_all(&wt).unwrap();
    std::fs::write(
        admin.join("gitdir"),
        format!("{}\n", wt.join(".git").display()),
    )
    .unwrap();
    std::fs::write(wt.join(".git"), format!("gitdir: {}\n", admin.display())).unwrap();
    assert!(
        repo.repo().find_worktree("new").is_err(),
        "libgit2 cannot read it"
    );

    let made = fgit::ensure_worktree(&root, "new", "main").unwrap();
    assert!(made.created);
    fgit::verify_worktree(&root, "new").unwrap();
    assert_eq!(std::fs::read_to_string(wt.join("a.txt")).unwrap(), "a\n");
}
