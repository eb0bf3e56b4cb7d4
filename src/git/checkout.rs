//! The user's checkout during a merge into the branch it has checked out:
//! which files would a merge clobber, and how to apply a merge to exactly the
//! paths it changes.
//!
//! The order is: compute the changed paths and the checkout's dirty paths
//! before the target ref moves ([`blocking_paths`]); refuse on any overlap;
//! otherwise move the ref, then [`apply`] the merge to the changed paths only.

use std::collections::BTreeSet;
use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{Repository, Status, StatusOptions, Tree};

use super::error::{Context, GitError};
use super::refs::head_symbolic_target;

/// True when `root`'s HEAD is `refs/heads/<target>` and it has a working tree,
/// i.e. a merge into `target` must also update the user's files.
pub(crate) fn target_is_checked_out(repo: &Repository, target: &str) -> Result<bool, GitError> {
    if repo.workdir().is_none() {
        return Ok(false);
    }
    Ok(head_symbolic_target(repo)?.as_deref() == Some(&format!("refs/heads/{target}")))
}

/// The paths among (or overlapping) `changed` that the user has touched in
/// the checkout: modified, staged, deleted, conflicted, or untracked (not
/// ignored); plus any changed path the merge would create where something
/// untracked, even ignored, already sits on disk. Sorted, each once.
///
/// A path overlaps another when they are equal or one is a directory
/// containing the other (`docs` vs `docs/a.md`).
pub(crate) fn blocking_paths(
    repo: &Repository,
    changed: &[String],
) -> Result<Vec<String>, GitError> {
    let mut blocked = BTreeSet::new();
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(false);
    let statuses = repo
        .statuses(Some(&mut opts))
        .ctx(|| "read the status of the checkout")?;
    for entry in statuses.iter() {
        let status = entry.status();
        if status == Status::CURRENT || status.contains(Status::IGNORED) {
            continue;
        }
        let path = String::from_utf8_lossy(entry.path_bytes());
        let path = path.trim_end_matches('/');
        if changed.iter().any(|c| overlaps(c, path)) {
            blocked.insert(path.to_owned());
        }
    }

    let Some(workdir) = repo.workdir() else {
        return Ok(blocked.into_iter().collect());
    };
    let index = repo.index().ctx(|| "open the checkout's index")?;
    for path in changed {
        // `path` itself, then each directory above it: anything on disk that
        // the index does not know would be overwritten or block a directory.
        let mut candidate = Some(path.as_str());
        while let Some(p) = candidate {
            let on_disk = workdir.join(p).symlink_metadata();
            let known = index.get_path(Path::new(p), 0).is_some();
            let is_dir = on_disk.as_ref().is_ok_and(|m| m.is_dir());
            if on_disk.is_ok() && !known && !is_dir {
                blocked.insert(p.to_owned());
            }
            candidate = p.rsplit_once('/').map(|(parent, _)| parent);
        }
    }
    Ok(blocked.into_iter().collect())
}

/// Writes the merge result into the checkout for exactly `changed` (index
/// entries and files), leaving every other path as it is.
///
/// Called after the target ref moved, so HEAD already is the merge commit and
/// libgit2's baseline equals the target: a forced checkout limited to these
/// literal paths rewrites them, and [`blocking_paths`] has already proven
/// that the user has no changes there. `changed` must not be empty (an empty
/// path list means "everything" to libgit2), so this does nothing for it.
pub(crate) fn apply(
    repo: &Repository,
    merged: &Tree<'_>,
    changed: &[String],
) -> Result<(), git2::Error> {
    if changed.is_empty() {
        return Ok(());
    }
    let mut checkout = CheckoutBuilder::new();
    checkout.force().disable_pathspec_match(true);
    for path in changed {
        checkout.path(path.as_str());
    }
    repo.checkout_tree(merged.as_object(), Some(&mut checkout))?;
    sync_index(repo, merged, changed)
}

/// Makes the index agree with `merged` for `changed` after the checkout.
/// libgit2 leaves alone a file that already holds the target's content, and
/// with it its index entry: after a kill between writing the files and
/// writing the index, the files are new but the index still old (git status
/// would show the merge reverted). The files are the merge's by now, so each
/// entry is taken from them.
fn sync_index(repo: &Repository, merged: &Tree<'_>, changed: &[String]) -> Result<(), git2::Error> {
    let mut index = repo.index()?;
    let mut dirty = false;
    for path in changed {
        let p = Path::new(path);
        let staged = index.get_path(p, 0).map(|e| e.id);
        match merged.get_path(p) {
            Ok(entry) if entry.kind() == Some(git2::ObjectType::Blob) => {
                if staged != Some(entry.id()) {
                    index.add_path(p)?;
                    dirty = true;
                }
            }
            Ok(_) => {} // a directory or a submodule: the checkout handled it
            Err(_) if staged.is_some() => {
                index.remove_path(p)?;
                dirty = true;
            }
            Err(_) => {}
        }
    }
    if dirty {
        index.write()?;
    }
    Ok(())
}

/// True when `a` and `b` are the same path or one contains the other.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |long: &str, short: &str| {
        long.len() > short.len()
            && long.starts_with(short)
            && long.as_bytes().get(short.len()) == Some(&b'/')
    };
    a == b || inside(a, b) || inside(b, a)
}

#[cfg(test)]
mod tests {
    use super::overlaps;

    #[test]
    fn overlap_is_equality_or_containment() {
        assert!(overlaps("a.txt", "a.txt"));
        assert!(overlaps("docs", "docs/a.md"));
        assert!(overlaps("docs/a.md", "docs"));
        assert!(!overlaps("docs", "docs2/a.md"));
        assert!(!overlaps("doc", "docs"));
    }
}
