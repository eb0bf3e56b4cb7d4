//! The supervisor's read-only scratch worktree (and the reviewer's, one per
//! reviewed task at its gated commit) and what the planner is told about
//! the repository.
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

use git2::WorktreeAddOptions;
use git2::build::CheckoutBuilder;
use git2::{ErrorCode, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use super::error::{Context, GitError};
use super::open;
use super::refs::local_branch_tip;

/// The registration name of the scratch worktree in `.git/worktrees/`.
pub const SCRATCH_NAME: &str = "_supervisor";
/// The helper branch that exists only while a detached worktree is being
/// added: this prefix and its name without the `_`.
const HELPER_BRANCH_PREFIX: &str = "fleetdeck-scratch-";
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
    let tip = local_branch_tip(&open(root)?, target)?;
    let path = scratch_path(root);
    prepare_detached(root, SCRATCH_NAME, &path, tip)?;
    Ok(Scratch { path, tip })
}

/// The reviewer's scratch worktree of `task`: `.fleet/scratch/review-<task>`.
pub fn review_scratch_path(root: &Path, task: &str) -> PathBuf {
    root.join(".fleet")
        .join("scratch")
        .join(format!("review-{task}"))
}

/// Makes the reviewer's detached scratch worktree of `task` at `commit`
/// (the gated work), or resets the existing one to it. Registered as
/// `_review-<task>`. The caller creates `.fleet/scratch` (0700) first.
pub fn prepare_review_scratch(root: &Path, task: &str, commit: Oid) -> Result<Scratch, GitError> {
    let path = review_scratch_path(root, task);
    prepare_detached(root, &format!("_review-{task}"), &path, commit)?;
    Ok(Scratch { path, tip: commit })
}

/// Removes the reviewer's scratch worktree of `task` and its registration
/// (with the task's own worktree: nothing outlives its task).
pub fn remove_review_scratch(root: &Path, task: &str) -> Result<(), GitError> {
    let _serial = super::worktree::worktree_lock();
    let repo = open(root)?;
    let path = review_scratch_path(root, task);
    if path.exists() {
        fs::remove_dir_all(&path).ctx(|| format!("remove {}", path.display()))?;
    }
    let admin = repo
        .commondir()
        .join("worktrees")
        .join(format!("_review-{task}"));
    if admin.exists() {
        fs::remove_dir_all(&admin).ctx(|| format!("remove {}", admin.display()))?;
    }
    Ok(())
}

/// Makes a detached worktree registered as `name` (which no task id can
/// be: it starts with `_`) at `path` on commit `tip`, or resets the
/// existing one to it (every change in it discarded). A registration that
/// is stale, broken or elsewhere is removed with its directory and the
/// worktree made again, so it is never a half-made one. Used by the
/// supervisor's scratch worktree, the reviewer's and a group's integration
/// worktree.
pub(crate) fn prepare_detached(
    root: &Path,
    name: &str,
    path: &Path,
    tip: Oid,
) -> Result<(), GitError> {
    let _serial = super::worktree::worktree_lock();
    super::worktree::ensure_excluded(root)?;
    let repo = open(root)?;
    let usable = match repo.find_worktree(name) {
        Ok(wt) => wt.validate().is_ok() && same_dir(wt.path(), path) && path.join(".git").is_file(),
        Err(_) => false,
    };
    if !usable {
        // Only fleetdeck uses this name: a registration that is stale, broken
        // or copied from another clone is removed, never the directory it names.
        let admin = repo.commondir().join("worktrees").join(name);
        if admin.exists() {
            fs::remove_dir_all(&admin).ctx(|| format!("remove {}", admin.display()))?;
        }
        if path.exists() {
            fs::remove_dir_all(path).ctx(|| format!("remove {}", path.display()))?;
        }
        add_detached(&repo, name, path, tip)?;
    }
    reset_to(path, tip)
}

/// True when `a` and `b` name the same directory (symlinks resolved).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn add_detached(repo: &Repository, name: &str, path: &Path, tip: Oid) -> Result<(), GitError> {
    let commit = repo.find_commit(tip).ctx(|| format!("read commit {tip}"))?;
    let helper = format!("{HELPER_BRANCH_PREFIX}{}", name.trim_start_matches('_'));
    let branch = repo
        .branch(&helper, &commit, true)
        .ctx(|| format!("create the helper branch {helper}"))?;
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(branch.get()));
    let added = repo
        .worktree(name, path, Some(&opts))
        .ctx(|| format!("add the worktree {}", path.display()));
    let detached = added.and_then(|_| {
        let wt = Repository::open(path).ctx(|| format!("open {}", path.display()))?;
        wt.set_head_detached(tip)
            .ctx(|| "detach the scratch worktree's HEAD")
    });
    let deleted = repo
        .find_branch(&helper, git2::BranchType::Local)
        .and_then(|mut b| b.delete())
        .ctx(|| format!("delete the helper branch {helper}"));
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
    changed.extend(super::gc::uncommitted(&wt, path)?);
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
    use crate::git::test_repo::Fixture;

    #[test]
    fn the_scratch_worktree_follows_the_tip_and_loses_what_was_written_in_it() {
        let f = Fixture::new();
        fs::create_dir_all(f.root.join(".fleet/scratch")).unwrap();
        let s = prepare_scratch(&f.root, "main").unwrap();
        assert_eq!(s.tip, f.tip("main"));
        assert_eq!(fs::read_to_string(s.path.join("a.txt")).unwrap(), "alpha\n");
        let wt = Repository::open(&s.path).unwrap();
        assert!(wt.head_detached().unwrap());
        assert!(
            f.repo()
                .find_branch("fleetdeck-scratch-supervisor", git2::BranchType::Local)
                .is_err()
        );

        fs::write(s.path.join("a.txt"), "scribbled\n").unwrap();
        fs::write(s.path.join("new.txt"), "new\n").unwrap();
        let mut changed = discard_scratch_changes(&s.path, s.tip).unwrap();
        changed.sort();
        assert_eq!(changed, ["a.txt", "new.txt"]);
        assert_eq!(fs::read_to_string(s.path.join("a.txt")).unwrap(), "alpha\n");
        assert!(!s.path.join("new.txt").exists());
        assert!(discard_scratch_changes(&s.path, s.tip).unwrap().is_empty());

        let next = f.user_commit("a.txt", "beta\n");
        fs::write(s.path.join("left.txt"), "x").unwrap();
        let again = prepare_scratch(&f.root, "main").unwrap();
        assert_eq!(again.tip, next);
        assert_eq!(
            fs::read_to_string(again.path.join("a.txt")).unwrap(),
            "beta\n"
        );
        assert!(!again.path.join("left.txt").exists());

        // A deleted scratch directory is made again.
        fs::remove_dir_all(&again.path).unwrap();
        let rebuilt = prepare_scratch(&f.root, "main").unwrap();
        assert_eq!(
            fs::read_to_string(rebuilt.path.join("a.txt")).unwrap(),
            "beta\n"
        );
    }

    #[test]
    fn the_repository_facts_name_the_tree_readme_and_languages() {
        let f = Fixture::new();
        fs::create_dir_all(f.root.join("src")).unwrap();
        fs::write(f.root.join("src/main.rs"), "fn main() {}\n").unwrap();
        let readme: String = (1..=50).map(|n| format!("line {n}\n")).collect();
        fs::write(f.root.join("README.md"), readme).unwrap();
        let tip = crate::git::test_repo::commit_all(&f.repo(), "more");
        let facts = repo_facts(&f.root, tip).unwrap();
        assert_eq!(facts.tree, "README.md\na.txt\nshared.txt\nsrc/");
        assert_eq!(facts.readme_head.lines().count(), 40);
        assert!(facts.readme_head.ends_with("line 40"));
        assert_eq!(facts.languages, ["Markdown", "Rust"]);
    }

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
