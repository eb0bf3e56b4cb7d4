//! Paths inside a task's worktree shown relative to it: an agent's tool
//! calls and outputs name `/…/.fleet/worktrees/<id>/src/lib.rs`, a reader
//! wants `src/lib.rs`. Pure text work (no file system), used when a
//! transcript is shown (the cockpit's Transcript tab, `fleetdeck log`).

use std::borrow::Cow;

/// `text` with every absolute path into the worktree of task `task`
/// (`<anything>/.fleet/worktrees/<task>/rest`) written as `rest`, and the
/// worktree itself as `.`. Whatever the repository's root, so transcripts
/// of a moved repository read the same. Other text is left as it is.
pub fn relative_to_worktree<'a>(text: &'a str, task: &str) -> Cow<'a, str> {
    let marker = format!("/.fleet/worktrees/{task}");
    if !text.contains(&marker) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        let after = &rest[at + marker.len()..];
        let ends_dir = after.is_empty() || after.starts_with(|c: char| !is_name_char(c));
        if !after.starts_with('/') && !ends_dir {
            // `/.fleet/worktrees/<task>x`: another task's worktree.
            out.push_str(&rest[..at + marker.len()]);
            rest = after;
            continue;
        }
        // The path starts after the last separator before the marker.
        let start = rest[..at].rfind(is_path_boundary).map_or(0, |b| {
            b + rest[b..].chars().next().map_or(1, char::len_utf8)
        });
        out.push_str(&rest[..start]);
        match after.strip_prefix('/') {
            Some(inner) if inner.starts_with(is_name_char) => rest = inner,
            _ => {
                out.push('.');
                rest = after.strip_prefix('/').unwrap_or(after);
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Characters that end a path written in running text.
fn is_path_boundary(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '(' | '[' | '<' | '=' | ',')
}

/// Characters of a file name (task ids are slugs of these).
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

#[cfg(test)]
mod tests {
    use super::relative_to_worktree as rel;

    #[test]
    fn paths_in_the_worktree_become_relative() {
        let wt = "/home/dev/proj/.fleet/worktrees/api";
        assert_eq!(
            rel(&format!("▸ Write {wt}/src/lib.rs"), "api"),
            "▸ Write src/lib.rs"
        );
        assert_eq!(
            rel(&format!("cd {wt} && cat \"{wt}/a b/c.rs\""), "api"),
            "cd . && cat \"a b/c.rs\""
        );
        assert_eq!(rel(&format!("{wt}/x:3:1: error"), "api"), "x:3:1: error");
        assert_eq!(rel(&format!("in {wt}/"), "api"), "in .");
        assert_eq!(rel(&format!("--dir={wt}/tests"), "api"), "--dir=tests");
    }

    #[test]
    fn other_text_and_other_tasks_are_left_alone() {
        assert!(matches!(
            rel("plain text", "api"),
            std::borrow::Cow::Borrowed(_)
        ));
        let other = "/p/.fleet/worktrees/api-v2/src/lib.rs";
        assert_eq!(rel(other, "api"), other);
        assert_eq!(
            rel("/p/.fleet/worktrees/db/x", "api"),
            "/p/.fleet/worktrees/db/x"
        );
    }
}
