//! Child processes for agents and verify commands: each is the leader of its
//! own process group (so pause and kill reach everything it started), gets a
//! parent-death signal (so it dies with a crashed engine), and carries
//! `FLEET_DIR` in its environment (so the next engine can find leftovers).
//! Agents and verify commands are started through [`Containment`], which
//! adds a cgroup (or the fallback sweep) so that their whole tree dies with them.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;

use nix::sys::signal::{Signal as NixSignal, kill, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

pub use super::contain::{Containment, Kind};

/// The environment variable naming the fleet directory of the engine that
/// started a process; also how a later engine recognises its leftovers.
pub const FLEET_DIR_VAR: &str = "FLEET_DIR";

/// The environment every process fleetdeck spawns in a task's worktree gets,
/// whatever else its caller adds:
/// - `FLEET_DIR`: how a later engine recognises its leftovers;
/// - `PWD`: the worktree, not the launcher's directory (CLIs such as opencode
///   trust `$PWD` over the real working directory);
/// - `GIT_CEILING_DIRECTORIES`: `<fleet>/worktrees`, so that a process in a
///   directory that lost its `.git` can never discover the user's repository
///   above it and commit there.
pub fn spawn_env(cwd: &Path, fleet_dir: &Path) -> Vec<(&'static str, OsString)> {
    let mut ceiling = fleet_dir.join("worktrees").into_os_string();
    if let Some(theirs) = std::env::var_os("GIT_CEILING_DIRECTORIES").filter(|v| !v.is_empty()) {
        ceiling.push(":");
        ceiling.push(theirs);
    }
    vec![
        (FLEET_DIR_VAR, fleet_dir.as_os_str().to_owned()),
        ("PWD", cwd.as_os_str().to_owned()),
        ("GIT_CEILING_DIRECTORIES", ceiling),
    ]
}

/// A command ready to spawn as a process-group leader in `cwd` with stdin
/// null, stdout/stderr piped and [`spawn_env`] in its environment.
pub fn command(program: &Path, args: &[String], cwd: &Path, fleet_dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .envs(spawn_env(cwd, fleet_dir))
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

/// Every process (other than this one) whose environment names `fleet_dir`
/// as its `FLEET_DIR`: the agents and verify commands of that fleet. Linux
/// only (reads /proc); elsewhere empty.
pub fn processes_of(fleet_dir: &Path) -> Vec<i32> {
    let needle = format!("{FLEET_DIR_VAR}={}", fleet_dir.display()).into_bytes();
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            let ours = environ
                .split(|b| *b == 0)
                .any(|var| var == needle.as_slice());
            (ours && pid != me).then_some(pid)
        })
        .collect()
}

/// Kills what a crashed engine of `fleet_dir` left running; returns the
/// pids killed.
pub fn kill_leftovers(fleet_dir: &Path) -> Vec<i32> {
    processes_of(fleet_dir)
        .into_iter()
        .filter(|&pid| match kill(Pid::from_raw(pid), NixSignal::SIGKILL) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(pid, "could not kill a leftover agent process: {e}");
                false
            }
        })
        .collect()
}

/// Longest line kept from an agent or verify command; the rest of a longer
/// line is dropped (agent output is untrusted and must not exhaust memory).
pub const MAX_LINE: usize = 1024 * 1024;

/// Reads `stream` line by line into `tx` (lossily decoding invalid UTF-8,
/// without line endings, lines cut at [`MAX_LINE`] bytes) until end of file or
/// until the receiver is gone.
pub async fn read_lines<R, T>(stream: R, tx: tokio::sync::mpsc::Sender<T>, wrap: fn(String) -> T)
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncBufReadExt;
    let mut reader = tokio::io::BufReader::new(stream);
    let mut buf = Vec::new();
    let mut skipping = false; // inside the dropped tail of an over-long line
    loop {
        let chunk = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(chunk) => chunk,
        };
        let (piece, ends_line) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], true),
            None => (chunk, false),
        };
        let used = piece.len() + usize::from(ends_line);
        if skipping {
            reader.consume(used);
            skipping = !ends_line;
            continue;
        }
        let room = MAX_LINE - buf.len();
        let overflow = piece.len() > room;
        buf.extend_from_slice(&piece[..piece.len().min(room)]);
        reader.consume(used);
        if ends_line || overflow {
            while buf.last() == Some(&b'\r') {
                buf.pop();
            }
            let line = String::from_utf8_lossy(&buf).into_owned();
            buf.clear();
            if tx.send(wrap(line)).await.is_err() {
                return;
            }
            skipping = overflow && !ends_line;
        }
    }
    if !buf.is_empty() {
        let _ = tx
            .send(wrap(String::from_utf8_lossy(&buf).into_owned()))
            .await;
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

    async fn lines_of(input: Vec<u8>) -> Vec<String> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let reader = tokio::spawn(read_lines(std::io::Cursor::new(input), tx, |l| l));
        let mut out = Vec::new();
        while let Some(l) = rx.recv().await {
            out.push(l);
        }
        reader.await.unwrap();
        out
    }

    #[tokio::test]
    async fn lines_are_split_decoded_and_bounded() {
        assert_eq!(
            lines_of(b"a\r\nb\n\nlast".to_vec()).await,
            ["a", "b", "", "last"]
        );
        assert_eq!(
            lines_of(b"ok \xff\xfe bytes\n".to_vec()).await,
            ["ok \u{fffd}\u{fffd} bytes"]
        );
        let mut huge = vec![b'x'; MAX_LINE * 3 + 17];
        huge.extend_from_slice(b"\nafter\n");
        let lines = lines_of(huge).await;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], "after");
    }

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
