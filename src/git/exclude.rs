//! Keeping an agent's own state files (aider's `.aider*`, a profile's
//! `exclude` patterns) out of git: in the repository's `info/exclude`, so
//! the agent's own `git status` and `git add -A` skip them, and out of the
//! attempt's commit ([`super::commit_attempt_excluding`]).

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use git2::Repository;

use super::error::{Context, GitError};
use super::open;

/// The comment line above the patterns fleetdeck appends.
const HEADER: &str = "# fleetdeck: agents' own state files";

/// Serializes the read-then-append of `info/exclude` within this process
/// (two agents of the same profile may start at once).
static EXCLUDE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Appends each of `patterns` (gitignore syntax) that is not already a line
/// of the repository's `info/exclude` (the common directory's, which every
/// worktree shares). Called before an agent starts; does nothing for an
/// empty list or when every pattern is present.
pub fn exclude_patterns(root: &Path, patterns: &[String]) -> Result<(), GitError> {
    if patterns.is_empty() {
        return Ok(());
    }
    let repo = open(root)?;
    let _guard = EXCLUDE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (exclude, content) = read_info_exclude(&repo)?;
    let present: Vec<&str> = content.lines().map(str::trim).collect();
    let missing: Vec<&str> = patterns
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty() && !present.contains(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    if !(content.is_empty() || content.ends_with('\n')) {
        text.push('\n');
    }
    if !present.contains(&HEADER) {
        text.push_str(HEADER);
        text.push('\n');
    }
    for p in missing {
        text.push_str(p);
        text.push('\n');
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&exclude)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .ctx(|| {
            format!(
                "append the agents' exclude patterns to {}",
                exclude.display()
            )
        })
}

/// The path of the repository's `info/exclude` (in the common directory,
/// `info/` created when missing) and its text (empty when there is none).
pub(super) fn read_info_exclude(repo: &Repository) -> Result<(PathBuf, String), GitError> {
    let info = repo.commondir().join("info");
    fs::create_dir_all(&info).ctx(|| format!("create {}", info.display()))?;
    let exclude = info.join("exclude");
    let content = match fs::read_to_string(&exclude) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).ctx(|| format!("read {}", exclude.display())),
    };
    Ok((exclude, content))
}
