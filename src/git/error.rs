//! The git layer's error type and the helpers that attach context to
//! `git2` and I/O errors.

use std::path::PathBuf;

use git2::Oid;

impl GitError {
    /// True when the operating system refused a write in the repository at
    /// `root` (disk full, read-only file system, permissions, an I/O error):
    /// the machine's fault, not the repository's or an agent's. Called after
    /// a write failed. libgit2 files every failed system call, a missing file
    /// included, under its `Os` class without the errno, so for those the
    /// places git writes to (the object database, the worktree registry and
    /// `.fleet/worktrees`) are probed with a small write.
    ///
    /// A lock in the way (see [`GitError::is_locked`]) and a worktree that is
    /// not what fleetdeck made are the environment too: never the agent's work.
    pub fn is_environment(&self, root: &std::path::Path) -> bool {
        if self.is_locked() || matches!(self, GitError::WorktreeDamaged { .. }) {
            return true;
        }
        match self {
            GitError::Io { source, .. } => is_environment_io(source),
            GitError::Git { source, .. } if source.class() == git2::ErrorClass::Os => {
                probe_writes(root)
            }
            _ => false,
        }
    }
}

/// Whether an I/O error says the machine refuses writes.
fn is_environment_io(e: &std::io::Error) -> bool {
    use nix::errno::Errno;
    e.raw_os_error().is_some_and(|errno| {
        [
            Errno::ENOSPC,
            Errno::EDQUOT,
            Errno::EROFS,
            Errno::EACCES,
            Errno::EPERM,
            Errno::EIO,
            Errno::EFBIG,
        ]
        .contains(&Errno::from_raw(errno))
    })
}

/// True when a small write is refused for an environment reason in one of
/// the directories git writes to for a fleet (those that exist).
fn probe_writes(root: &std::path::Path) -> bool {
    let Ok(repo) = git2::Repository::open(root) else {
        return false;
    };
    let common = repo.commondir();
    let worktrees = super::worktree_path(root, "x");
    let dirs = [
        Some(common.join("objects")),
        Some(common.join("worktrees")),
        worktrees.parent().map(std::path::Path::to_path_buf),
    ];
    dirs.into_iter()
        .flatten()
        .filter(|d| d.is_dir())
        .any(|d| probe(&d).is_err_and(|e| is_environment_io(&e)))
}

/// Writes and removes a small file in `dir`.
fn probe(dir: &std::path::Path) -> std::io::Result<()> {
    let path = dir.join(format!(".fleetdeck-probe-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &[0u8; 4096]));
    let _ = std::fs::remove_file(&path);
    written
}

/// Everything that can go wrong in the git layer.
///
/// Every variant names what was being done and on what, so that the message
/// alone tells the user what failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// A `git2` call failed; `what` says which operation on which object.
    #[error("git: {what}: {source}{}", lock_hint(source))]
    Git {
        /// The operation, e.g. "open repository /path".
        what: String,
        /// The underlying libgit2 error.
        #[source]
        source: git2::Error,
    },
    /// A file-system operation failed.
    #[error("{what}: {source}")]
    Io {
        /// The operation and the path it was applied to.
        what: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Returned when a task id is not a slug (`[a-z0-9][a-z0-9-]*`).
    #[error(
        "invalid task id `{id}`: expected lowercase letters, digits and dashes, not starting with a dash"
    )]
    InvalidTaskId {
        /// The rejected id.
        id: String,
    },
    /// Returned when a task group's name is not a slug.
    #[error(
        "invalid group name `{name}`: expected lowercase letters, digits and dashes, starting with a letter or digit"
    )]
    InvalidGroupName { name: String },
    /// Returned when a local branch that the operation needs does not exist.
    #[error("branch `{branch}` does not exist")]
    BranchNotFound {
        /// The short branch name, e.g. `main` or `fleet/add-login`.
        branch: String,
    },
    /// Returned when the repository has no working tree (bare repository).
    #[error("repository at {path} has no working tree (bare repositories are not supported)")]
    Bare {
        /// Path of the repository.
        path: PathBuf,
    },
    /// Returned by operations on a task's worktree when its directory does not
    /// exist (it was never created, or was removed).
    #[error("task `{task}` has no worktree at {path}")]
    WorktreeMissing {
        /// The task id.
        task: String,
        /// Where the worktree was expected.
        path: PathBuf,
    },
    /// Returned by [`ensure_worktree`](super::ensure_worktree) when the
    /// worktree directory exists but is not a registered worktree of the task,
    /// so it may hold files fleetdeck does not know about.
    #[error(
        "{path} exists but is not the registered worktree of task `{task}`; move it away and retry"
    )]
    WorktreeOccupied {
        /// The task id.
        task: String,
        /// The occupied directory.
        path: PathBuf,
    },
    /// Returned by [`ensure_worktree`](super::ensure_worktree) when the
    /// task's worktree name is registered for a directory other than
    /// `.fleet/worktrees/<task>` that still exists.
    #[error(
        "worktree `{task}` is registered at {path}, not under .fleet/worktrees; remove it with `git worktree remove`"
    )]
    WorktreeElsewhere {
        /// The task id.
        task: String,
        /// Where the registration points.
        path: PathBuf,
    },
    /// Returned by [`verify_worktree`](super::verify_worktree) when the
    /// task's directory is not its registered worktree on `fleet/<task>`.
    #[error(
        "{path} is not the worktree of task `{task}`: {problem}; fleetdeck recreates it when the task starts again"
    )]
    WorktreeDamaged {
        /// The task id.
        task: String,
        /// The worktree directory.
        path: PathBuf,
        /// What is wrong with it.
        problem: super::WorktreeProblem,
    },
    /// Returned by [`merge_task_at`](super::merge_task_at) when the target
    /// branch no longer points at the commit the merge was computed on.
    #[error("branch `{target}` moved from {expected} to {actual} while merging")]
    TargetMoved {
        /// The target branch.
        target: String,
        /// The tip the merge was computed on.
        expected: Oid,
        /// Where the branch is now.
        actual: Oid,
    },
    /// Returned by [`remove_gc`](super::remove_gc) when a branch it was to
    /// remove (or a ref it was to save the tip under) no longer points where
    /// [`plan_gc`](super::plan_gc) saw it: that branch was left alone.
    #[error(
        "`{name}` moved from {expected} to {actual} since gc looked at it; it was left alone: run `fleetdeck gc` again"
    )]
    GcRefMoved {
        /// The full ref name.
        name: String,
        /// Where gc saw it (or expected it).
        expected: Oid,
        /// Where it is now.
        actual: Oid,
    },
    /// Returned by [`merge_task`](super::merge_task) when the target branch
    /// kept moving between computing a merge and updating the branch, every
    /// time it was tried.
    #[error("branch `{target}` kept moving during the merge; gave up after {attempts} attempts")]
    TargetUnstable {
        /// The target branch.
        target: String,
        /// How many merges were computed.
        attempts: u32,
    },
    /// Returned by merges into the checked-out branch while the user's
    /// checkout is in the middle of another operation (merge, rebase,
    /// cherry-pick...): nothing was touched.
    #[error(
        "the checkout at {path} is in the middle of a {state}; finish or abort it, then merge again"
    )]
    CheckoutBusy {
        /// The repository root.
        path: PathBuf,
        /// The operation in progress, e.g. "Merge".
        state: String,
    },
    /// Returned when a merge moved the target branch but updating the user's
    /// checkout afterwards failed: the branch holds the merge, and the listed
    /// files in the working tree still show the old content.
    #[error(
        "merged into `{target}` ({commit}) but could not update the checkout: {source}; \
         run `git checkout -- <files>` for: {}",
        files.join(", ")
    )]
    CheckoutUpdate {
        /// The target branch (already moved).
        target: String,
        /// The merge commit.
        commit: Oid,
        /// The paths that should have been updated.
        files: Vec<String>,
        /// What failed.
        #[source]
        source: git2::Error,
    },
    /// Returned when the record of an interrupted checkout update
    /// (`.fleet/pending-checkout.json`) cannot be read.
    #[error(
        "{}: cannot read this record of an interrupted merge ({problem}); check that `git status` \
         shows no staged reversions of merged files (`git checkout HEAD -- <file>` restores one), then delete it",
        path.display()
    )]
    PendingCheckout {
        /// The record file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Returned by an update when tracked files of the task's worktree differ
    /// from its branch: updating would overwrite them.
    #[error(
        "the worktree of `{task}` has uncommitted changes to {}; commit or discard them (or approve, request changes or reject the task) before updating it",
        files.join(", ")
    )]
    WorktreeChanged {
        /// The task.
        task: String,
        /// The changed tracked paths (at most 10).
        files: Vec<String>,
    },
}

impl GitError {
    /// True when a git lock file is in the way (libgit2's `Locked`): another
    /// process holds it, or a killed one left it. Never the agent's fault.
    pub fn is_locked(&self) -> bool {
        match self {
            GitError::Git { source, .. } => source.code() == git2::ErrorCode::Locked,
            _ => false,
        }
    }

    /// The lock file named in a lock error's message, when libgit2 gave one.
    pub fn lock_file(&self) -> Option<PathBuf> {
        let GitError::Git { source, .. } = self else {
            return None;
        };
        if source.code() != git2::ErrorCode::Locked {
            return None;
        }
        let message = source.message();
        let start = message.find('\'')? + 1;
        let len = message[start..].find('\'')?;
        Some(PathBuf::from(&message[start..start + len]))
    }
}

/// For a lock error: what to do about it.
fn lock_hint(source: &git2::Error) -> &'static str {
    if source.code() == git2::ErrorCode::Locked {
        " (a git lock file is in the way: if no git command is running, remove the named .lock file; fleetdeck removes its own stale locks when it starts)"
    } else {
        ""
    }
}

/// Attaches a description of the operation to a `git2` or I/O error.
pub(crate) trait Context<T> {
    /// Wraps the error with `what` (computed only on failure).
    fn ctx<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T, GitError>;
}

impl<T> Context<T> for Result<T, git2::Error> {
    fn ctx<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T, GitError> {
        self.map_err(|source| GitError::Git {
            what: what().into(),
            source,
        })
    }
}

impl<T> Context<T> for Result<T, std::io::Error> {
    fn ctx<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T, GitError> {
        self.map_err(|source| GitError::Io {
            what: what().into(),
            source,
        })
    }
}
