//! Giving the terminal to the user's editor (or a shell) and taking it back.
//!
//! While the editor runs, the cockpit must not read the terminal: the
//! terminal reader thread is blocked in `read`, so it works in lockstep with
//! the loop. After each event it sends, it waits until the loop has handled
//! it and carried out what it caused ([`reader_sent`], [`loop_handled`]); a
//! key that opens the editor is thus handled (the editor run and the screen
//! restored) before the reader reads the next key. Nothing polls.

use std::io;
use std::sync::{Condvar, Mutex};

use super::app::{App, Intent, Origin};
use super::run::Screen;
use crate::core::{Command, TaskId};
use crate::runtime::editor::{Opener, edit_conflicts};

/// Terminal events the reader sent, and those the loop finished with.
static GATE: (Mutex<(u64, u64)>, Condvar) = (Mutex::new((0, 0)), Condvar::new());

/// Called by the reader thread after it sent an event: waits until the loop
/// has finished with it.
pub(super) fn reader_sent() {
    let (lock, cv) = &GATE;
    let mut counts = lock.lock().unwrap_or_else(|p| p.into_inner());
    counts.0 += 1;
    let sent = counts.0;
    while counts.1 < sent {
        counts = cv.wait(counts).unwrap_or_else(|p| p.into_inner());
    }
}

/// Called by the loop once it handled `n` more terminal events and carried
/// out what they caused: the reader may read again.
pub(super) fn loop_handled(n: u64) {
    if n == 0 {
        return;
    }
    let (lock, cv) = &GATE;
    let mut counts = lock.lock().unwrap_or_else(|p| p.into_inner());
    counts.1 += n;
    cv.notify_all();
}

/// Leaves the screen, runs `$EDITOR` on `files` of `task` (a shell with
/// `shell`, or when `$EDITOR` is unset) in its worktree, takes the screen
/// back and returns the intent that sends `Command::Resolved` (the engine
/// refuses while markers remain; the answer shows as a toast). When the
/// user presses `E` or `!` on a conflicted card.
pub(super) async fn edit<S: Screen>(
    app: &mut App,
    screen: &mut S,
    task: TaskId,
    files: Vec<String>,
    shell: bool,
) -> io::Result<Vec<Intent>> {
    screen.suspend()?;
    let root = app.model.root.clone();
    let id = task.to_string();
    let opener = if shell { Opener::Shell } else { Opener::Editor };
    let ran = tokio::task::spawn_blocking(move || edit_conflicts(&root, &id, &files, opener)).await;
    screen.resume(app.mouse)?;
    let failed = match ran {
        Ok(Ok(status)) if status.success() => None,
        Ok(Ok(status)) => Some(format!("the editor ended with {status}; nothing was taken")),
        Ok(Err(e)) => Some(e),
        Err(e) => Some(format!("the editor could not be waited for: {e}")),
    };
    if let Some(text) = failed {
        app.toast = Some(super::app::Toast { text, error: true });
        return Ok(Vec::new());
    }
    Ok(vec![Intent::Command {
        command: Command::Resolved { task },
        origin: Origin::Key,
    }])
}

/// Gives the terminal back to the shell (as on exit).
pub(super) fn leave() -> io::Result<()> {
    super::terminal::restore();
    Ok(())
}

/// Takes the terminal again after [`leave`].
pub(super) fn reenter(mouse: bool) -> io::Result<()> {
    super::terminal::enter_modes(mouse)
}
