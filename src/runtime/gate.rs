//! The verify gate: commit the attempt's changes with attribution, then run
//! the verify commands in the task's worktree.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::live_log::LiveLog;
use super::{Msg, process};
use crate::core::{GateResult, Report, TaskId};
use crate::git;
use crate::store::transcript::{Stream, Writer};

/// Most bytes of verify output kept in memory for the feedback (the
/// transcript keeps all of it).
const OUTPUT_KEEP: usize = 64 * 1024;

pub(crate) struct Gate {
    pub root: PathBuf,
    pub fleet_dir: PathBuf,
    pub task: TaskId,
    pub attempt: u32,
    pub agent: String,
    pub title: String,
    /// The commit the attempt started from.
    pub base: String,
    pub commands: Vec<String>,
    /// Untracked paths left out of the commit (the profile's `excludes`).
    pub exclude: Vec<String>,
    pub timeout: Option<Duration>,
    /// The attempt's transcript, where verify output is appended.
    pub transcript: PathBuf,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub shutdown: watch::Receiver<bool>,
    /// The task's role when it may not change files (`may_change_files =
    /// false`): changes are saved under `refs/fleet/discarded/<task>/<n>`,
    /// never committed.
    pub read_only: Option<String>,
}

impl Gate {
    pub async fn run(mut self) {
        let Some(result) = self.check().await else {
            return;
        }; // shut down: the next start gates again
        let report = Report::Gated {
            task: self.task.clone(),
            attempt: self.attempt,
            result,
        };
        let _ = self.tx.send(Msg::Report(report));
    }

    /// None when the engine shut down meanwhile.
    async fn check(&mut self) -> Option<GateResult> {
        let error = |message: String| Some(GateResult::Error { message });
        let (root, task, agent, title, base) = (
            self.root.clone(),
            self.task.to_string(),
            self.agent.clone(),
            self.title.clone(),
            self.base.clone(),
        );
        let attempt = self.attempt;
        let exclude = self.exclude.clone();
        let read_only = self.read_only.clone();
        let committed = tokio::task::spawn_blocking(move || {
            let base = git::Oid::from_str(&base).map_err(|source| git::GitError::Git {
                what: format!("read the base commit `{base}`"),
                source,
            })?;
            let attr = git::Attribution {
                task: &task,
                agent: &agent,
                attempt,
                title: &title,
            };
            // Issue 7: a lock the agent's killed git left is not the agent's failure.
            for lock in git::clear_task_locks(&root, &task)? {
                tracing::warn!(task, "removed a stale git lock: {}", lock.display());
            }
            if read_only.is_some() {
                let save = format!("refs/fleet/discarded/{task}/{attempt}");
                if git::save_and_reset(&root, base, &save, &attr)?.is_some() {
                    return Ok(Err(save));
                }
            }
            git::commit_attempt_excluding(&root, base, &attr, &exclude).map(Ok)
        })
        .await;
        let commit = match committed {
            Ok(Ok(Err(save))) => {
                return error(format!(
                    "role `{}` may not change files (may_change_files = false): the changes were saved under {save}, not committed",
                    self.read_only.as_deref().unwrap_or_default()
                ));
            }
            Ok(Ok(Ok(git::CommitOutcome::Committed(oid)))) => oid.to_string(),
            Ok(Ok(Ok(git::CommitOutcome::NoChanges))) => return Some(GateResult::NoChanges),
            Ok(Err(e)) if e.is_environment(&self.root) => {
                let message = format!("committing the changes of `{}` failed: {e}", self.task);
                return Some(GateResult::Environment { message });
            }
            Ok(Err(e)) => return error(format!("committing the changes failed: {e}")),
            Err(e) => return error(format!("committing the changes failed: {e}")),
        };
        let _ = self.tx.send(Msg::Committed {
            task: self.task.clone(),
            attempt,
            commit: commit.clone(),
        });
        let writer = match Writer::open_append(&self.transcript) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "cannot append verify output to {}: {e}",
                    self.transcript.display()
                );
                None
            }
        };
        let mut log = LiveLog::new(writer, self.tx.clone(), self.task.clone(), attempt);
        let worktree = git::worktree_path(&self.root, self.task.as_str());
        for command in self.commands.clone() {
            log.line(Stream::Fleet, &format!("verify: {command}"));
            match self.verify(&command, &worktree, &mut log).await? {
                Ok(()) => {}
                Err(output) => return Some(GateResult::VerifyFailed { command, output }),
            }
        }
        log.line(Stream::Fleet, "verify: passed");
        Some(GateResult::Passed { commit })
    }

    /// Runs one verify command (see [`run_verify`]) with its output in the log.
    async fn verify(
        &mut self,
        command: &str,
        worktree: &Path,
        log: &mut LiveLog,
    ) -> Option<Result<(), String>> {
        let run = VerifyRun {
            fleet_dir: &self.fleet_dir,
            name: self.task.as_str(),
            attempt: self.attempt,
            timeout: self.timeout,
        };
        let mut line = |l: &str| log.line(Stream::Verify, l);
        run_verify(&run, &mut self.shutdown, command, worktree, &mut line).await
    }
}

/// Where and how long a verify command runs.
pub(crate) struct VerifyRun<'a> {
    pub fleet_dir: &'a Path,
    /// The task (or `_group-<name>`) it runs for: its containment leaf and `FLEET_TASK`.
    pub name: &'a str,
    pub attempt: u32,
    pub timeout: Option<Duration>,
}

/// Runs one verify command through `sh -c` in `worktree`, contained, each
/// output line given to `line`. Ok(()) when it passed, Err(output) when it
/// failed; None when the engine shut down. Used by a task's gate and a
/// group's gate on its integration worktree.
pub(crate) async fn run_verify(
    run: &VerifyRun<'_>,
    shutdown: &mut watch::Receiver<bool>,
    command: &str,
    worktree: &Path,
    line: &mut (dyn FnMut(&str) + Send),
) -> Option<Result<(), String>> {
    let args = ["-c".to_owned(), command.to_owned()];
    let mut contain =
        process::Containment::new(run.fleet_dir, process::Kind::Verify, run.name, run.attempt);
    let mut cmd = contain.command(Path::new("sh"), &args, worktree);
    cmd.env("FLEET_TASK", run.name)
        .env("FLEET_ATTEMPT", run.attempt.to_string());
    let mut child = match contain.spawn(&mut cmd) {
        Ok(c) => c,
        Err(e) => return Some(Err(format!("cannot run `sh -c {command}`: {e}"))),
    };
    let (lines_tx, mut lines) = mpsc::channel::<String>(256);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(process::read_lines(out, lines_tx.clone(), |l| l));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(process::read_lines(err, lines_tx.clone(), |l| l));
    }
    drop(lines_tx);
    let mut output = String::new();
    let deadline = run.timeout.map(|t| tokio::time::Instant::now() + t);
    let timer = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timer);
    let mut lines_open = true;
    let status = loop {
        tokio::select! {
            l = lines.recv(), if lines_open => match l {
                Some(l) => keep(&mut output, line, &l),
                None => lines_open = false,
            },
            status = child.wait() => break Some(status),
            () = &mut timer => break None,
            _ = shutdown.changed() => {
                contain.kill_all();
                return None;
            }
        }
    };
    contain.kill_all();
    let drain = async {
        while let Some(l) = lines.recv().await {
            keep(&mut output, line, &l);
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    match status {
        None => {
            let secs = run.timeout.map_or(0, |t| t.as_secs());
            let _ = child.wait().await;
            Some(Err(format!(
                "{output}\n`{command}` timed out after {secs} s"
            )))
        }
        Some(Ok(s)) if s.success() => Some(Ok(())),
        Some(Ok(s)) => Some(Err(format!(
            "{output}\n`{command}` failed: {}",
            process::describe_exit(&s)
        ))),
        Some(Err(e)) => Some(Err(format!("lost track of `{command}`: {e}"))),
    }
}

/// Logs a line of verify output and keeps the end of the output for the feedback.
fn keep(output: &mut String, log: &mut (dyn FnMut(&str) + Send), line: &str) {
    log(line);
    output.push_str(line);
    output.push('\n');
    if output.len() > 2 * OUTPUT_KEEP {
        let mut cut = output.len() - OUTPUT_KEEP;
        while !output.is_char_boundary(cut) {
            cut += 1;
        }
        output.drain(..cut);
    }
}
