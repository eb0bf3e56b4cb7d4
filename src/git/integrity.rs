//! Whether a task's worktree can be trusted, and rebuilding it when not.
//!
//! A worktree is used only once it is completely created: [`mark_ready`]
//! writes `fleetdeck-ready` (the commit it was created at, fsync'd) into its
//! admin directory `.git/worktrees/<id>/` after the checkout finished. A
//! worktree without that marker was left by a killed `git worktree add` (or
//! by a fleetdeck from before the marker): it is trusted only when it matches
//! its HEAD exactly, and otherwise rebuilt. Before an agent starts, the
//! runtime checks the worktree again ([`ensure_intact`]): its structure (the
//! `.git` file, the registration, HEAD on `fleet/<id>`: [`verify_worktree`])
//! and its contents against HEAD.
//!
//! A rebuild never loses anything: files that differ from HEAD are first
//! committed under `refs/fleet/stale/<id>/<unix-time>` (a directory that is
//! not a git worktree at all is moved to `.fleet/stale/<id>-<unix-time>`),
//! then the directory and its registration are removed and the worktree is
//! added again on the branch, at the branch's tip.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use git2::{ErrorCode, Oid, Repository, StatusOptions, WorktreePruneOptions};

use super::error::{Context, GitError};
use super::message::committer;
use super::worktree::{Worktree, add_on_branch, same_path, save_stale};
use super::{open, task_branch, validate_task_id, worktree_path};

/// The marker [`mark_ready`] writes into `.git/worktrees/<id>/`.
pub const READY_FILE: &str = "fleetdeck-ready";

/// What a task's worktree must look like before an agent starts in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly its HEAD: a new worktree, one just reset for a fresh start or
    /// a rollback. Any missing or modified file, or an index that differs
    /// from HEAD's tree, means it is damaged.
    Clean,
    /// A continued attempt: changes left by the failed attempt before are
    /// legitimate, but the index must still hold every path of HEAD's tree.
    Continuing,
}

/// Why a task's worktree cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorktreeProblem {
    /// The directory `.fleet/worktrees/<id>` does not exist.
    #[error("the directory is missing")]
    NoDirectory,
    /// The directory has no `.git` file (it is a plain directory, or a
    /// repository of its own).
    #[error("it has no .git file linking it to the repository")]
    NoGitFile,
    /// Its `.git` file points somewhere other than `.git/worktrees/<id>`.
    #[error("its .git file points at {0}, not at the task's registration")]
    GitFileElsewhere(PathBuf),
    /// `.git/worktrees/<id>` does not exist.
    #[error("it is not registered in .git/worktrees")]
    NotRegistered,
    /// The registration's `gitdir` names another directory.
    #[error("its registration points at {0}")]
    RegisteredElsewhere(PathBuf),
    /// HEAD is not the symbolic ref `refs/heads/fleet/<id>`.
    #[error("its HEAD is `{0}`, not the task branch")]
    WrongHead(String),
    /// The index file is absent (the checkout never finished).
    #[error("it has no index (its checkout never finished)")]
    NoIndex,
    /// The index lacks paths that HEAD's tree has.
    #[error("its index lacks {count} path(s) of HEAD, e.g. {example}")]
    MissingFromIndex {
        /// How many paths are missing.
        count: usize,
        /// One of them.
        example: String,
    },
    /// Files or index entries differ from HEAD where nothing may differ.
    #[error("{count} path(s) differ from HEAD, e.g. {example}")]
    Dirty {
        /// How many paths differ.
        count: usize,
        /// One of them.
        example: String,
    },
}

/// Checks that `<root>/.fleet/worktrees/<task>` is the task's registered
/// worktree on branch `fleet/<task>`: its `.git` file points at
/// `.git/worktrees/<task>`, that registration's `gitdir` points back at it,
/// and its HEAD is `refs/heads/fleet/<task>`. Called right before an agent
/// is spawned there, so that an agent never runs anywhere else.
///
/// Errors: [`GitError::WorktreeDamaged`] naming the first problem found.
pub fn verify_worktree(root: &Path, task: &str) -> Result<(), GitError> {
    validate_task_id(task)?;
    let repo = open(root)?;
    match structure_problem(&repo, root, task)? {
        None => Ok(()),
        Some(problem) => Err(damaged(root, task, problem)),
    }
}

/// Checks the worktree's structure ([`verify_worktree`]) and its contents
/// against `expect`; when either is wrong, rebuilds it (saving what it held,
/// see the module documentation). Called by the runtime after the worktree
/// was prepared for an attempt and before the agent starts. Returns the
/// problem that was repaired, if any.
pub fn ensure_intact(
    root: &Path,
    task: &str,
    expect: Expect,
) -> Result<Option<WorktreeProblem>, GitError> {
    validate_task_id(task)?;
    let _serial = super::worktree::worktree_lock();
    let repo = open(root)?;
    let problem = match structure_problem(&repo, root, task)? {
        Some(p) => Some(p),
        None => {
            let wt = open(&worktree_path(root, task))?;
            contents_problem(&wt, expect)?
        }
    };
    if let Some(p) = &problem {
        rebuild(&repo, root, task, p)?;
    }
    Ok(problem)
}

/// For a worktree that is about to be reused: `None` when it can be trusted,
/// else why not. A worktree without the ready marker is trusted (and marked)
/// only when it matches its HEAD exactly.
pub(crate) fn reuse_problem(
    repo: &Repository,
    root: &Path,
    task: &str,
) -> Result<Option<WorktreeProblem>, GitError> {
    if let Some(p) = structure_problem(repo, root, task)? {
        return Ok(Some(p));
    }
    let admin = admin_dir(repo, task);
    if admin.join(READY_FILE).is_file() {
        return Ok(None);
    }
    let wt = open(&worktree_path(root, task))?;
    if let Some(p) = contents_problem(&wt, Expect::Clean)? {
        return Ok(Some(p));
    }
    let head = head_id(&wt)?;
    mark_ready(&admin, head)?;
    Ok(None)
}

/// Rebuilds task `task`'s worktree on its branch (which must exist), after
/// saving what it holds that is not in its HEAD. Called with the worktree
/// lock held.
pub(crate) fn rebuild(
    repo: &Repository,
    root: &Path,
    task: &str,
    problem: &WorktreeProblem,
) -> Result<Worktree, GitError> {
    let path = worktree_path(root, task);
    let branch = task_branch(task);
    tracing::warn!(task, %problem, "rebuilding the worktree of `{task}`: {problem}");
    if path.is_dir() {
        let linked = matches!(
            structure_problem(repo, root, task)?,
            None | Some(WorktreeProblem::WrongHead(_))
        );
        match Repository::open(&path) {
            Ok(wt) if linked => {
                save_leftovers(repo, &wt, task)?;
                fs::remove_dir_all(&path).ctx(|| format!("remove {}", path.display()))?;
            }
            _ => move_aside(root, task, &path)?,
        }
    }
    match repo.find_worktree(task) {
        Ok(wt) => {
            let mut opts = WorktreePruneOptions::new();
            opts.valid(true).locked(true);
            wt.prune(Some(&mut opts))
                .ctx(|| format!("prune the registration of worktree `{task}`"))?;
        }
        Err(e) if e.code() == ErrorCode::NotFound => {}
        Err(e) => return Err(e).ctx(|| format!("look up worktree `{task}`")),
    }
    let admin = admin_dir(repo, task);
    if admin.exists() {
        fs::remove_dir_all(&admin).ctx(|| format!("remove {}", admin.display()))?;
    }
    let head = add_on_branch(repo, task, &path, &branch)?;
    Ok(Worktree {
        path,
        branch,
        head,
        created: true,
    })
}

/// Writes the ready marker holding `commit` into the admin directory
/// `admin` and makes it durable (file and directory fsync'd). Called right
/// after `git worktree add` returned.
pub(crate) fn mark_ready(admin: &Path, commit: Oid) -> Result<(), GitError> {
    let tmp = admin.join(format!("{READY_FILE}.tmp"));
    let file = admin.join(READY_FILE);
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(format!("{commit}\n").as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &file)?;
        fs::File::open(admin)?.sync_all()
    };
    write().ctx(|| format!("record the worktree as ready in {}", file.display()))
}

/// `.git/worktrees/<task>` of the repository `repo`.
pub(crate) fn admin_dir(repo: &Repository, task: &str) -> PathBuf {
    repo.commondir().join("worktrees").join(task)
}

/// The first thing wrong with the worktree's links, or `None`.
fn structure_problem(
    repo: &Repository,
    root: &Path,
    task: &str,
) -> Result<Option<WorktreeProblem>, GitError> {
    let path = worktree_path(root, task);
    if !path.is_dir() {
        return Ok(Some(WorktreeProblem::NoDirectory));
    }
    let admin = admin_dir(repo, task);
    let dotgit = path.join(".git");
    let Some(linked) = read_link_file(&dotgit, "gitdir:") else {
        return Ok(Some(WorktreeProblem::NoGitFile));
    };
    let linked = if linked.is_relative() {
        path.join(linked)
    } else {
        linked
    };
    if !same_path(&linked, &admin) {
        return Ok(Some(WorktreeProblem::GitFileElsewhere(linked)));
    }
    if !admin.is_dir() {
        return Ok(Some(WorktreeProblem::NotRegistered));
    }
    let back = read_link_file(&admin.join("gitdir"), "")
        .map(|p| if p.is_relative() { admin.join(p) } else { p });
    match back {
        Some(p) if same_path(&p, &dotgit) => {}
        Some(p) => return Ok(Some(WorktreeProblem::RegisteredElsewhere(p))),
        None => return Ok(Some(WorktreeProblem::NotRegistered)),
    }
    let head_file = admin.join("HEAD");
    let head = fs::read_to_string(&head_file).unwrap_or_default();
    let head = head.trim();
    if head != format!("ref: refs/heads/{}", task_branch(task)) {
        return Ok(Some(WorktreeProblem::WrongHead(head.to_owned())));
    }
    Ok(None)
}

/// The path in a one-line link file (`gitdir: <path>` or a bare path).
fn read_link_file(file: &Path, prefix: &str) -> Option<PathBuf> {
    let text = fs::read_to_string(file).ok()?;
    let rest = text.trim().strip_prefix(prefix)?.trim();
    (!rest.is_empty()).then(|| PathBuf::from(rest))
}

/// The first thing wrong with the worktree's index and files, or `None`.
fn contents_problem(wt: &Repository, expect: Expect) -> Result<Option<WorktreeProblem>, GitError> {
    if !wt.path().join("index").is_file() {
        return Ok(Some(WorktreeProblem::NoIndex));
    }
    let head_tree = wt
        .head()
        .and_then(|h| h.peel_to_tree())
        .ctx(|| "resolve the worktree HEAD to a tree")?;
    let index = wt.index().ctx(|| "open the worktree index")?;
    let diff = wt
        .diff_tree_to_index(Some(&head_tree), Some(&index), None)
        .ctx(|| "compare the worktree index with HEAD")?;
    let missing: Vec<String> = diff
        .deltas()
        .filter(|d| d.status() == git2::Delta::Deleted)
        .filter_map(|d| d.old_file().path().map(|p| p.display().to_string()))
        .collect();
    if let Some(example) = missing.first() {
        return Ok(Some(WorktreeProblem::MissingFromIndex {
            count: missing.len(),
            example: example.clone(),
        }));
    }
    if expect == Expect::Continuing {
        return Ok(None);
    }
    let mut opts = StatusOptions::new();
    opts.include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = wt
        .statuses(Some(&mut opts))
        .ctx(|| "compare the worktree files with HEAD")?;
    let dirty: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .map(|s| String::from_utf8_lossy(s.path_bytes()).into_owned())
        .collect();
    Ok(dirty.first().map(|example| WorktreeProblem::Dirty {
        count: dirty.len(),
        example: example.clone(),
    }))
}

/// Commits what the worktree holds beyond its HEAD under
/// `refs/fleet/stale/<task>/...`. When the index is absent or incomplete,
/// only files present in the directory count (a path that was never checked
/// out is not a deletion); otherwise deletions count too.
fn save_leftovers(repo: &Repository, wt: &Repository, task: &str) -> Result<(), GitError> {
    let Ok(head) = wt.head().and_then(|h| h.peel_to_commit()) else {
        return Ok(()); // no commit to compare with: the branch is handled by the caller
    };
    let head_tree = head.tree().ctx(|| "read the worktree HEAD tree")?;
    let trusted = contents_problem(wt, Expect::Continuing)?.is_none();
    let mut index = wt.index().ctx(|| "open the worktree index")?;
    if !trusted {
        index
            .read_tree(&head_tree)
            .ctx(|| "start the leftovers from HEAD")?;
    }
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .ctx(|| "collect the worktree's files")?;
    if trusted {
        index
            .update_all(["*"], None)
            .ctx(|| "collect deleted files")?;
    }
    let tree_id = index.write_tree().ctx(|| "write the leftovers tree")?;
    if tree_id == head_tree.id() {
        return Ok(());
    }
    let tree = repo
        .find_tree(tree_id)
        .ctx(|| format!("read leftovers tree {tree_id}"))?;
    let sig = committer(repo)?;
    let message = format!(
        "fleetdeck: what the worktree of `{task}` held before it was rebuilt\n\nNothing merges from here.\n"
    );
    let saved = repo
        .commit(None, &sig, &sig, &message, &tree, &[&head])
        .ctx(|| format!("save the leftovers of `{task}`'s worktree"))?;
    save_stale(repo, task, saved)
}

/// Moves a directory that is not a usable worktree to
/// `.fleet/stale/<task>-<unix-time>`, so that nothing in it is lost.
pub(super) fn move_aside(root: &Path, task: &str, path: &Path) -> Result<(), GitError> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let stale = root.join(".fleet").join("stale");
    fs::create_dir_all(&stale).ctx(|| format!("create {}", stale.display()))?;
    let to = (0..1000u32)
        .map(|n| stale.join(format!("{task}-{secs}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| stale.join(format!("{task}-{secs}-last")));
    tracing::warn!(task, from = %path.display(), to = %to.display(), "moved a broken worktree aside");
    fs::rename(path, &to).ctx(|| format!("move {} to {}", path.display(), to.display()))
}

/// The commit HEAD resolves to.
fn head_id(repo: &Repository) -> Result<Oid, GitError> {
    repo.head()
        .and_then(|h| h.peel_to_commit())
        .map(|c| c.id())
        .ctx(|| "resolve the worktree HEAD to a commit")
}

fn damaged(root: &Path, task: &str, problem: WorktreeProblem) -> GitError {
    GitError::WorktreeDamaged {
        task: task.to_owned(),
        path: worktree_path(root, task),
        problem,
    }
}
