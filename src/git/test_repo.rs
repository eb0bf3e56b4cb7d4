//! A scratch repository for the git layer's unit tests: `main` with a few
//! files, tasks whose attempts are committed the way the gate commits them.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository, RepositoryInitOptions, Signature};
use tempfile::TempDir;

use super::{Attribution, CommitOutcome, commit_attempt, ensure_worktree};

/// A repository at `<tmp>/repo` on `main`.
pub(crate) struct Fixture {
    _dir: TempDir,
    pub(crate) root: PathBuf,
}

impl Fixture {
    /// `main` with `a.txt` and `shared.txt` committed.
    pub(crate) fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(&root, &opts).unwrap();
        fs::write(root.join("a.txt"), "alpha\n").unwrap();
        fs::write(root.join("shared.txt"), "one\ntwo\nthree\n").unwrap();
        commit_all(&repo, "initial");
        Fixture { _dir: dir, root }
    }

    pub(crate) fn repo(&self) -> Repository {
        Repository::open(&self.root).unwrap()
    }

    pub(crate) fn tip(&self, branch: &str) -> Oid {
        super::branch_tip(&self.root, branch).unwrap()
    }

    /// A commit of the user's on `main` (checked out) writing `file`.
    pub(crate) fn user_commit(&self, file: &str, text: &str) -> Oid {
        fs::write(self.root.join(file), text).unwrap();
        commit_all(&self.repo(), &format!("user: {file}"))
    }

    /// Runs `attempts` attempts of `task` from `main`, each on the branch
    /// head the previous one left (as the engine does), attempt `n` writing
    /// `<task>.txt` = "attempt n"; returns each attempt's commit.
    pub(crate) fn attempts(&self, task: &str, attempts: u32) -> Vec<Oid> {
        let mut commits = Vec::new();
        for n in 1..=attempts {
            let wt = ensure_worktree(&self.root, task, "main").unwrap();
            fs::write(
                wt.path.join(format!("{task}.txt")),
                format!("attempt {n}\n"),
            )
            .unwrap();
            match commit_attempt(&self.root, wt.head, &attr(task, n)).unwrap() {
                CommitOutcome::Committed(id) => commits.push(id),
                CommitOutcome::NoChanges => panic!("attempt {n} of {task} changed nothing"),
            }
        }
        commits
    }

    /// The content of `path` in commit `commit`.
    pub(crate) fn file_at(&self, commit: Oid, path: &str) -> Option<String> {
        let repo = self.repo();
        let tree = repo.find_commit(commit).unwrap().tree().unwrap();
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = repo.find_blob(entry.id()).unwrap();
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    }

    /// Every commit reachable from `branch` (all parents).
    pub(crate) fn reachable(&self, branch: &str) -> Vec<Oid> {
        let repo = self.repo();
        let mut walk = repo.revwalk().unwrap();
        walk.push(self.tip(branch)).unwrap();
        walk.map(Result::unwrap).collect()
    }
}

/// Attempt `attempt` of `task` by `claude`.
pub(crate) fn attr(task: &str, attempt: u32) -> Attribution<'_> {
    Attribution {
        task,
        agent: "claude",
        attempt,
        title: "Do the thing",
    }
}

/// Stages everything in `repo`'s working tree and commits it on HEAD.
pub(crate) fn commit_all(repo: &Repository, message: &str) -> Oid {
    commit_all_with(repo, message, &[])
}

/// [`commit_all`] with `extra` parents after HEAD (a merge).
pub(crate) fn commit_all_with(repo: &Repository, message: &str, extra: &[Oid]) -> Oid {
    let sig = Signature::now("Test User", "test@example.com").unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let mut parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    parents.extend(extra.iter().map(|id| repo.find_commit(*id).unwrap()));
    let refs: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &refs)
        .unwrap()
}
