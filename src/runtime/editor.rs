//! Opening the user's editor (or a shell) on a task's conflicting files,
//! for `fleetdeck resolve` and the cockpit's resolve key.
//!
//! Runs in the foreground with the terminal inherited: the cockpit leaves
//! its screen first. `$EDITOR` may carry arguments (`code -w`): it runs
//! through `sh -c`, with the files as its arguments, in the worktree.

use std::path::Path;
use std::process::{Command, ExitStatus};

/// What [`edit_conflicts`] opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    /// `$EDITOR` on the files, or `$SHELL` when `$EDITOR` is unset or empty.
    Editor,
    /// `$SHELL` (default `sh`) in the worktree.
    Shell,
}

/// Runs the editor (or shell) on `files` in task `task`'s worktree and
/// waits for it. Called when the user chose to resolve an update conflict
/// themselves. Errors say what could not be started.
pub fn edit_conflicts(
    root: &Path,
    task: &str,
    files: &[String],
    opener: Opener,
) -> Result<ExitStatus, String> {
    crate::git::validate_task_id(task).map_err(|e| e.to_string())?;
    let worktree = crate::git::worktree_path(root, task);
    if !worktree.is_dir() {
        return Err(format!(
            "task `{task}` has no worktree at {}",
            worktree.display()
        ));
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let shell = var("SHELL").unwrap_or_else(|| "sh".to_owned());
    let mut cmd = match (opener, var("EDITOR")) {
        (Opener::Editor, Some(editor)) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("{editor} \"$@\""))
                .arg("editor")
                .args(files);
            c
        }
        _ => Command::new(&shell),
    };
    let fleet_dir = root.join(".fleet");
    cmd.current_dir(&worktree)
        .envs(super::process::spawn_env(&worktree, &fleet_dir))
        .env("FLEET_TASK", task);
    cmd.status().map_err(|e| {
        format!(
            "cannot run the editor for `{task}` in {}: {e}",
            worktree.display()
        )
    })
}
