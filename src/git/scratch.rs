//! The supervisor's read-only scratch worktree and what the planner is told
//! about the repository.
//!
//! The scratch worktree is a detached worktree at the target's tip under
//! `.fleet/scratch/supervisor`, registered as `_supervisor` (no task id
//! starts with `_`). It is made (or reset to the tip) for every
//! consultation, and whatever the planner changed in it is listed and then
//! discarded. It is never the user's checkout nor a task's worktree, and it
//! never has a branch of its own: libgit2 adds worktrees on a branch only,
//! so a short-lived helper branch is deleted as soon as HEAD is detached.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{ErrorCode, ObjectType, Oid, Repository, StatusOptions, TreeWalkMode, TreeWalkResult};
use git2::{WorktreeAddOptions, WorktreePruneOptions};

use super::error::{Context, GitError};
use super::open;
use super::refs::local_branch_tip;

/// The registration name of the scratch worktree in `.git/worktrees/`.
pub const SCRATCH_NAME: &str = "_supervisor";
/// The helper branch that exists only while the worktree is being added.
const HELPER_BRANCH: &str = "fleetdeck-scratch-supervisor";
/// Most tree entries looked at for the languages (a 20,000-file repository
/// is read whole; a bigger one by its first entries).
const LANGUAGE_SCAN_LIMIT: usize = 50_000;
/// README lines given to the planner.
const README_LINES: usize = 40;

/// The scratch worktree, ready at `tip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scratch {
    pub path: PathBuf,
    pub tip: Oid,
}

/// `<root>/.fleet/scratch/supervisor`.
pub fn scratch_path(root: &Path) -> PathBuf {
    root.join(".fleet").join("scratch").join("supervisor")
}

/// Makes the scratch worktree at the tip of `target`, or resets the
/// existing one to it (every change in it discarded). The caller creates
/// `.fleet/scratch` (0700) first.
pub fn prepare_scratch(root: &Path, target: &str) -> Result<Scratch, GitError> {
    let _serial = super::worktree::worktree_lock();
    let repo = open(root)?;
    let tip = local_branch_tip(&repo, target)?;
    let path = scratch_path(root);
    let registered = match repo.find_worktree(SCRATCH_NAME) {
        Ok(wt) if wt.validate().is_ok() && path.join(".git").exists() => true,
        Ok(wt) => {
            let mut opts = WorktreePruneOptions::new();
            opts.valid(true).working_tree(true);
            wt.prune(Some(&mut opts))
                .ctx(|| "prune the stale scratch worktree registration")?;
            false
        }
        Err(e) if e.code() == ErrorCode::NotFound => false,
        Err(_) => {
            let admin = repo.commondir().join("worktrees").join(SCRATCH_NAME);
            fs::remove_dir_all(&admin).ctx(|| format!("remove {}", admin.display()))?;
            false
        }
    };
    if !registered {
        if path.exists() {
            fs::remove_dir_all(&path).ctx(|| format!("remove {}", path.display()))?;
        }
        add_detached(&repo, &path, tip)?;
    }
    reset_to(&path, tip)?;
    Ok(Scratch { path, tip })
}

fn add_detached(repo: &Repository, path: &Path, tip: Oid) -> Result<(), GitError> {
    let commit = repo.find_commit(tip).ctx(|| format!("read commit {tip}"))?;
    let branch = repo
        .branch(HELPER_BRANCH, &commit, true)
        .ctx(|| format!("create the helper branch {HELPER_BRANCH}"))?;
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(branch.get()));
    let added = repo
        .worktree(SCRATCH_NAME, path, Some(&opts))
        .ctx(|| format!("add the scratch worktree {}", path.display()));
    let detached = added.and_then(|_| {
        let wt = Repository::open(path).ctx(|| format!("open {}", path.display()))?;
        wt.set_head_detached(tip)
            .ctx(|| "detach the scratch worktree's HEAD")
    });
    let deleted = repo
        .find_branch(HELPER_BRANCH, git2::BranchType::Local)
        .and_then(|mut b| b.delete())
        .ctx(|| format!("delete the helper branch {HELPER_BRANCH}"));
    detached.and(deleted)
}

/// HEAD detached at `tip`, the files exactly the tip's, nothing untracked.
fn reset_to(path: &Path, tip: Oid) -> Result<(), GitError> {
    let wt = Repository::open(path).ctx(|| format!("open {}", path.display()))?;
    wt.set_head_detached(tip)
        .ctx(|| "detach the scratch worktree's HEAD")?;
    let mut co = CheckoutBuilder::new();
    co.force().remove_untracked(true).remove_ignored(true);
    wt.checkout_head(Some(&mut co))
        .ctx(|| format!("check out {tip} in {}", path.display()))
}

/// What the planner changed in the scratch worktree (paths, and a note
/// when it moved HEAD), then discards it all: back to `tip`.
pub fn discard_scratch_changes(path: &Path, tip: Oid) -> Result<Vec<String>, GitError> {
    let wt = Repository::open(path).ctx(|| format!("open {}", path.display()))?;
    let mut changed = Vec::new();
    if wt.head().ok().and_then(|h| h.target()) != Some(tip) {
        changed.push("HEAD (it made a commit or checked out another one)".to_owned());
    }
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let statuses = wt
        .statuses(Some(&mut opts))
        .ctx(|| format!("read the status of {}", path.display()))?;
    changed.extend(
        statuses
            .iter()
            .filter_map(|s| s.path().ok().map(str::to_owned)),
    );
    drop(statuses);
    drop(wt);
    reset_to(path, tip)?;
    Ok(changed)
}

/// What the planning prompt says about the repository at `tip`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoFacts {
    /// Top-level entries, one a line, directories with a trailing `/`.
    pub tree: String,
    /// The README's first lines.
    pub readme_head: String,
    /// The five most common languages by file count.
    pub languages: Vec<String>,
}

/// The top-level tree, README head and languages of commit `tip`.
pub fn repo_facts(root: &Path, tip: Oid) -> Result<RepoFacts, GitError> {
    let repo = open(root)?;
    let tree = super::refs::commit_tree(&repo, tip)?;
    let mut top = Vec::new();
    let mut readme = None;
    for entry in tree.iter() {
        let name = entry.name().unwrap_or("?").to_owned();
        if entry.kind() == Some(ObjectType::Tree) {
            top.push(format!("{name}/"));
        } else {
            let lower = name.to_ascii_lowercase();
            if readme.is_none() && (lower == "readme" || lower.starts_with("readme.")) {
                readme = Some(entry.id());
            }
            top.push(name);
        }
    }
    let readme_head = readme
        .and_then(|id| repo.find_blob(id).ok())
        .map(|blob| {
            let text = String::from_utf8_lossy(blob.content());
            text.lines()
                .take(README_LINES)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    let mut seen = 0usize;
    tree.walk(TreeWalkMode::PreOrder, |_, entry| {
        seen += 1;
        if seen > LANGUAGE_SCAN_LIMIT {
            return TreeWalkResult::Abort;
        }
        if entry.kind() == Some(ObjectType::Blob)
            && let Some(lang) = entry.name().ok().and_then(language_of)
        {
            *counts.entry(lang).or_default() += 1;
        }
        TreeWalkResult::Ok
    })
    .or_else(|e| {
        if e.code() == ErrorCode::User {
            Ok(())
        } else {
            Err(e)
        }
    })
    .ctx(|| format!("walk the tree of {tip}"))?;
    Ok(RepoFacts {
        tree: top.join("\n"),
        readme_head,
        languages: top_languages(counts),
    })
}

fn top_languages(counts: HashMap<&'static str, usize>) -> Vec<String> {
    let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    by_count
        .into_iter()
        .take(5)
        .map(|(l, _)| l.to_owned())
        .collect()
}

/// The language of a file, by its extension; None for other files.
fn language_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "rs" => "Rust",
        "py" => "Python",
        "js" | "mjs" | "cjs" | "jsx" => "JavaScript",
        "ts" | "tsx" => "TypeScript",
        "go" => "Go",
        "c" | "h" => "C",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" => "C++",
        "java" => "Java",
        "kt" | "kts" => "Kotlin",
        "swift" => "Swift",
        "rb" => "Ruby",
        "php" => "PHP",
        "cs" => "C#",
        "scala" => "Scala",
        "sh" | "bash" => "Shell",
        "lua" => "Lua",
        "ex" | "exs" => "Elixir",
        "hs" => "Haskell",
        "ml" | "mli" => "OCaml",
        "zig" => "Zig",
        "sql" => "SQL",
        "html" | "htm" => "HTML",
        "css" | "scss" => "CSS",
        "md" => "Markdown",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_counted_by_extension_and_the_five_commonest_kept() {
        let mut counts = HashMap::new();
        for (name, n) in [
            ("a.rs", 9),
            ("b.py", 3),
            ("c.sh", 3),
            ("d.md", 2),
            ("e.go", 1),
            ("f.c", 1),
        ] {
            let lang = language_of(name).unwrap();
            *counts.entry(lang).or_default() += n;
        }
        assert_eq!(language_of("Makefile"), None);
        assert_eq!(language_of("x.TS"), Some("TypeScript"));
        assert_eq!(
            top_languages(counts),
            ["Rust", "Python", "Shell", "Markdown", "C"]
        );
    }
}
