//! Child processes for agents and verify commands: each is the leader of its
//! own process group (so pause and kill reach everything it started), gets a
//! parent-death signal (so it dies with a crashed engine), and carries
//! `FLEET_DIR` in its environment (so the next engine can find leftovers).

use std::path::Path;
use std::process::Stdio;

use nix::sys::signal::{Signal as NixSignal, kill, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// The environment variable naming the fleet directory of the engine that
/// started a process; also how a later engine recognises its leftovers.
pub const FLEET_DIR_VAR: &str = "FLEET_DIR";

/// A command ready to spawn as a process-group leader with stdin null and
/// stdout/stderr piped.
pub fn command(program: &Path, args: &[String], cwd: &Path, fleet_dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env(FLEET_DIR_VAR, fleet_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(false);
    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe calls (prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || {
            #[cfg(target_os = "linux")]
            {
                nix::sys::prctl::set_pdeathsig(Some(NixSignal::SIGKILL))
                    .map_err(std::io::Error::from)?;
                // The parent may have died before prctl took effect.
                if nix::unistd::getppid().as_raw() as u32 != parent {
                    nix::libc::_exit(1);
                }
            }
            Ok(())
        });
    }
    cmd
}

/// The process group of a spawned child (its pid, as it leads its own group).
pub fn group_of(child: &Child) -> Option<i32> {
    child.id().map(|pid| pid as i32)
}

/// Sends `sig` to a whole process group; a group that is already gone is not an error.
pub fn signal_group(pgid: i32, sig: NixSignal) {
    if pgid <= 1 {
        return; // never signal init's group or "every process"
    }
    match killpg(Pid::from_raw(pgid), sig) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => tracing::warn!(pgid, ?sig, "signalling process group failed: {e}"),
    }
}

/// SIGTERM for a stop: the group is continued first so a stopped process can handle it.
pub fn terminate_group(pgid: i32) {
    signal_group(pgid, NixSignal::SIGTERM);
    signal_group(pgid, NixSignal::SIGCONT);
}

/// Kills every process (other than this one) whose environment names
/// `fleet_dir` as its `FLEET_DIR`: what a crashed engine left running.
/// Returns the pids killed. Linux only (reads /proc); elsewhere a no-op.
pub fn kill_leftovers(fleet_dir: &Path) -> Vec<i32> {
    let needle = format!("{FLEET_DIR_VAR}={}", fleet_dir.display()).into_bytes();
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut killed = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_slice())
        {
            match kill(Pid::from_raw(pid), NixSignal::SIGKILL) {
                Ok(()) => killed.push(pid),
                Err(e) => tracing::warn!(pid, "could not kill a leftover agent process: {e}"),
            }
        }
    }
    killed
}

/// Reads `stream` line by line into `tx` (lossily decoding invalid UTF-8,
/// without line endings) until end of file or until the receiver is gone.
pub async fn read_lines<R, T>(stream: R, tx: tokio::sync::mpsc::Sender<T>, wrap: fn(String) -> T)
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncBufReadExt;
    let mut reader = tokio::io::BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                if tx
                    .send(wrap(String::from_utf8_lossy(&buf).into_owned()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    }
}

/// Describes how a process ended, for messages.
pub fn describe_exit(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => {
            let name = NixSignal::try_from(sig)
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|_| sig.to_string());
            format!("killed by {name}")
        }
        _ => "ended".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn leftovers_are_found_by_their_fleet_dir_and_killed() {
        let dir = tempfile::tempdir().unwrap();
        let fleet = dir.path().join(".fleet");
        let mut child = command(
            Path::new("sh"),
            &["-c".into(), "exec sleep 30".into()],
            dir.path(),
            &fleet,
        )
        .spawn()
        .unwrap();
        let pgid = group_of(&child).unwrap();
        // Poll until the child's environment is visible in /proc.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut killed = Vec::new();
        while !killed.contains(&pgid) && std::time::Instant::now() < deadline {
            killed.extend(kill_leftovers(&fleet));
            tokio::task::yield_now().await;
        }
        assert!(killed.contains(&pgid), "{killed:?}");
        let status = child.wait().await.unwrap();
        assert_eq!(describe_exit(&status), "killed by SIGKILL");
        // Another fleet's processes are not touched.
        assert!(kill_leftovers(&dir.path().join("other")).is_empty());
    }
}
