//! The watchdog: a small process (`fleetdeck __watchdog`, hidden) that
//! outlives its engine only long enough to kill what the engine's agents and
//! verify commands left, however the engine ended (exit, SIGKILL, panic).
//!
//! The engine starts it once and keeps the write end of a pipe whose read
//! end is the watchdog's stdin (close-on-exec in the engine, so no agent
//! holds it). When the watchdog reads end of file, the engine is gone: it
//! kills the engine's leaves of the fleet cgroup (or, in the fallback, the
//! process groups the engine told it about and every process whose
//! `FLEET_CONTAIN` is one of this engine's), then exits. Only this engine's:
//! a new engine may already run the fleet. It ignores SIGHUP and SIGINT (a closed
//! terminal or a Ctrl-C must not kill it before it cleans), leads its own
//! process group, is in the engine's cgroup (never a task's) and holds no
//! fleet lock.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Mutex;

use nix::sys::signal::{SigHandler, Signal, signal};

use super::{cgroup, sweep};
use crate::runtime::process;

/// The hidden subcommand that runs [`main`].
pub const SUBCOMMAND: &str = "__watchdog";

/// The engine's side: the watchdog process and the pipe it waits on.
pub struct Watchdog {
    child: Option<Child>,
    pipe: Mutex<Option<std::io::PipeWriter>>,
}

/// The fleetdeck binary: this one, or (when the engine runs inside another
/// program, such as a test binary in `target/*/deps`) the `fleetdeck` next to it.
fn executable() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    if exe.file_stem().is_some_and(|n| n == "fleetdeck") {
        return Some(exe);
    }
    let dir = exe.parent()?;
    [dir.join("fleetdeck"), dir.parent()?.join("fleetdeck")]
        .into_iter()
        .find(|p| p.is_file())
}

impl Watchdog {
    /// Starts the watchdog of `fleet_dir`; `cgroup` is the fleet cgroup and
    /// `token` the prefix of this engine's leaves. None (logged) when it
    /// cannot be started: then only the parent-death signal and the next
    /// start's sweep clean up after a killed engine.
    pub fn spawn(fleet_dir: &Path, cgroup: Option<&Path>, token: &str) -> Option<Watchdog> {
        let Some(exe) = executable() else {
            tracing::warn!(
                "no fleetdeck binary found to run the watchdog: processes of a killed engine are cleaned up on the next start"
            );
            return None;
        };
        // std's pipe is close-on-exec at both ends; spawning dups the read end onto stdin.
        let started = std::io::pipe().and_then(|(read, write)| {
            let mut cmd = std::process::Command::new(&exe);
            cmd.arg(SUBCOMMAND).arg(fleet_dir).arg(token);
            if let Some(dir) = cgroup {
                cmd.arg(dir);
            }
            use std::os::unix::process::CommandExt;
            let child = cmd
                .env_remove(process::FLEET_DIR_VAR)
                .env_remove(super::CONTAIN_VAR)
                .stdin(Stdio::from(read))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()?;
            Ok((child, write))
        });
        match started {
            Ok((child, pipe)) => Some(Watchdog {
                child: Some(child),
                pipe: Mutex::new(Some(pipe)),
            }),
            Err(e) => {
                tracing::warn!("cannot start the watchdog {}: {e}", exe.display());
                None
            }
        }
    }

    /// The watchdog's pid (a child of the engine that is no task's orphan).
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// Tells the watchdog about a process group to kill if the engine dies
    /// (`+pgid`), or one that ended (`-pgid`).
    pub fn tell(&self, line: &str) {
        let mut pipe = self.pipe.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = pipe.as_mut()
            && let Err(e) = writeln!(p, "{line}")
        {
            tracing::warn!(
                "the watchdog is gone ({e}): a killed engine's processes are cleaned up on the next start"
            );
            *pipe = None;
        }
    }
}

impl Drop for Watchdog {
    /// Closes the pipe (the watchdog cleans up and exits) and reaps it in the background.
    fn drop(&mut self) {
        self.pipe.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = self.child.take() {
            let _ = std::thread::Builder::new()
                .name("fleetdeck-watchdog-reaper".into())
                .spawn(move || child.wait());
        }
    }
}

/// The watchdog process: waits for end of file on stdin, then cleans up as
/// the module documentation says. `token` prefixes the engine's leaves of
/// the fleet cgroup `cgroup` and its `FLEET_CONTAIN` ids; without a cgroup
/// it is the fallback. Exit code 0.
pub fn main(token: &str, cgroup: Option<&Path>) -> i32 {
    for sig in [Signal::SIGHUP, Signal::SIGINT, Signal::SIGPIPE] {
        // SAFETY: ignoring a signal installs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
    let mut groups = BTreeSet::new();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let (sign, pgid) = line.split_at(line.len().min(1));
        match (sign, pgid.trim().parse::<i32>()) {
            ("+", Ok(g)) if g > 1 => {
                groups.insert(g);
            }
            ("-", Ok(g)) => {
                groups.remove(&g);
            }
            _ => {}
        }
    }
    // The engine is gone.
    if let Some(dir) = cgroup {
        cgroup::sweep(dir, &format!("{token}."));
        let _ = std::fs::remove_dir(dir); // fails while another engine's leaves are in it
    }
    for g in groups {
        process::signal_group(g, Signal::SIGKILL);
    }
    if cgroup.is_none() {
        kill_contained(&format!("{token}."));
    }
    0
}

/// SIGKILL to every process whose `FLEET_CONTAIN` starts with `prefix`.
///
/// One pass over /proc can miss a process: one caught in `exec` (its
/// environment unreadable for that moment) or forked after the pass read
/// the list. So passes repeat, a little apart, until two in a row find
/// nothing (at most 20).
fn kill_contained(prefix: &str) {
    let mut quiet = 0;
    for _ in 0..20 {
        let mut killed = 0;
        for p in sweep::all() {
            if let sweep::Origin::Contained(id) = sweep::origin(p.pid)
                && id.starts_with(prefix)
            {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.pid), Signal::SIGKILL);
                killed += 1;
            }
        }
        quiet = if killed == 0 { quiet + 1 } else { 0 };
        if quiet == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
