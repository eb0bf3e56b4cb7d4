//! One attempt's agent run: prepare the worktree, launch the agent CLI,
//! stream its output into the transcript and the parser, obey pause/stop,
//! and report how it ended.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal as NixSignal;
use tokio::sync::{mpsc, oneshot};

use super::Msg;
use super::live_log::LiveLog;
use super::process;
use crate::agent::{AgentEvent, FailureClass, Verdict, parser_for};
use crate::config::{AgentProfile, ArgvVars, render_argv};
use crate::core::{AgentResult, Report, Signal, StartRequest, Workspace};
use crate::git;
use crate::store::transcript::{self, AGENT_ENDED, Header, Stream};

/// Most stderr kept for the verdict and failure messages.
const STDERR_TAIL: usize = 8 * 1024;

/// Everything an agent run needs; built by the engine for a StartAgent effect.
pub(crate) struct AgentRun {
    pub root: PathBuf,
    pub fleet_dir: PathBuf,
    pub target: String,
    pub request: StartRequest,
    /// The task's title, for the attribution of commits made while preparing.
    pub title: String,
    pub profile: AgentProfile,
    /// For [`Workspace::Rollback`]: the commit the interrupted attempt started from.
    pub rollback_base: Option<String>,
    /// The earlier attempt this one continues (changes requested, reassigned).
    pub previous: Option<Previous>,
    pub stop_grace: Duration,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub control: mpsc::UnboundedReceiver<Signal>,
}

/// The earlier attempt an attempt continues.
pub(crate) struct Previous {
    pub attempt: u32,
    pub agent: String,
    /// Its transcript file.
    pub transcript: PathBuf,
    /// Set when its session can be resumed (same agent, a session id, a profile that resumes).
    pub resume: Option<Resume>,
}

/// Resuming an agent session with a new prompt.
pub(crate) struct Resume {
    pub session: String,
    /// What the agent is told now (the reviewer's feedback).
    pub prompt: String,
    /// Usage already reported on this session by earlier attempts.
    pub baseline: crate::store::Usage,
}

/// Where the line reader found a line.
enum Piece {
    Out(String),
    Err(String),
}

impl AgentRun {
    pub async fn run(mut self) {
        let result = self.attempt().await;
        let report = Report::AgentExited {
            task: self.request.task.clone(),
            attempt: self.request.attempt,
            result,
        };
        let _ = self.tx.send(Msg::Report(report));
    }

    async fn attempt(&mut self) -> AgentResult {
        let crash = |message: String| AgentResult::Failed {
            class: FailureClass::Crash,
            message,
        };
        let req = self.request.clone();
        let (root, target, rollback, title) = (
            self.root.clone(),
            self.target.clone(),
            self.rollback_base.clone(),
            self.title.clone(),
        );
        let prepared = tokio::task::spawn_blocking(move || {
            prepare(&root, &req, &title, &target, rollback.as_deref())
        })
        .await;
        let (worktree, base) = match prepared {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return crash(format!("could not prepare the worktree: {e}")),
            Err(e) => return crash(format!("could not prepare the worktree: {e}")),
        };
        let task = self.request.task.as_str().to_owned();
        let attempt = self.request.attempt;
        let resume = self.previous.as_mut().and_then(|p| p.resume.take());
        if let (Some(prev), None) = (&self.previous, &resume) {
            // No session to resume: tell the agent what the earlier attempt did.
            let (root, target, id) = (self.root.clone(), self.target.clone(), task.clone());
            let files = tokio::task::spawn_blocking(move || {
                git::worktree_changed_paths(&root, &id, &target)
            })
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
            let messages = super::summary::last_messages(&prev.transcript);
            let summary = super::summary::summary(prev.attempt, &prev.agent, &messages, &files);
            self.request.prompt.push_str(&summary);
        }
        if let Some(r) = &resume {
            // The agent keeps its context: it gets only the new instructions.
            self.request.prompt = r.prompt.clone();
        }
        let template: Vec<String> =
            match (&resume, &self.profile.resume_command, &self.profile.resume) {
                (Some(_), Some(whole), _) => whole.clone(),
                (Some(_), None, Some(extra)) => {
                    self.profile.command.iter().chain(extra).cloned().collect()
                }
                _ => self.profile.command.clone(),
            };
        let mut argv = render_argv(
            &template,
            &ArgvVars {
                prompt: &self.request.prompt,
                task: &task,
                attempt,
                worktree: &worktree.to_string_lossy(),
                session: resume.as_ref().map_or("", |r| r.session.as_str()),
            },
        );
        if argv.first().map(String::as_str) == Some("fleetdeck")
            && let Ok(exe) = std::env::current_exe()
        {
            argv[0] = exe.to_string_lossy().into_owned();
        }
        let rel = transcript::relative_path(&task, attempt);
        let header = Header {
            task: task.clone(),
            attempt,
            agent: self.request.agent.clone(),
            format: self.profile.format,
            argv: argv.clone(),
            started_ms: crate::store::now_ms(),
        };
        let mut log = match transcript::Writer::create(&self.fleet_dir.join(&rel), &header) {
            Ok(w) => LiveLog::new(Some(w), self.tx.clone(), self.request.task.clone(), attempt),
            Err(e) => {
                return crash(format!(
                    "cannot write the transcript {}: {e}",
                    rel.display()
                ));
            }
        };
        // The engine records the attempt (with its base) before the agent may change anything.
        let (ack, acked) = oneshot::channel();
        let began = Msg::AttemptBegan {
            task: self.request.task.clone(),
            attempt,
            agent: self.request.agent.clone(),
            prompt: self.request.prompt.clone(),
            base: base.clone(),
            transcript: rel.to_string_lossy().into_owned(),
            ack,
        };
        if self.tx.send(began).is_err() || acked.await.is_err() {
            return AgentResult::Stopped; // the engine is gone
        }

        let mut paused = false;
        while let Ok(signal) = self.control.try_recv() {
            match signal {
                Signal::Stop => return AgentResult::Stopped,
                Signal::Pause => paused = true,
                Signal::Resume => paused = false,
            }
        }

        let mut contain =
            process::Containment::new(&self.fleet_dir, process::Kind::Agent, &task, attempt);
        let mut cmd = contain.command(Path::new(&argv[0]), &argv[1..], &worktree);
        cmd.env("FLEET_TASK", &task)
            .env("FLEET_ATTEMPT", attempt.to_string())
            .envs(&self.profile.env);
        if self.profile.isolate_home {
            match isolated_home(
                &self.fleet_dir,
                &task,
                self.profile.home_template.as_deref(),
            ) {
                Ok(home) => {
                    cmd.env("HOME", &home)
                        .env("XDG_CONFIG_HOME", home.join(".config"))
                        .env("CODEX_HOME", home.join(".codex"))
                        .env("CLAUDE_CONFIG_DIR", home.join(".claude"));
                }
                Err(e) => {
                    return crash(format!("cannot prepare the isolated home of `{task}`: {e}"));
                }
            }
        }
        let mut child = match contain.spawn(&mut cmd) {
            Ok(c) => c,
            Err(e) => {
                let message = if e.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "agent command not found: `{}` (profile `{}`); is it installed and on PATH?",
                        argv[0], self.request.agent
                    )
                } else {
                    format!(
                        "cannot start agent command `{}` (profile `{}`): {e}",
                        argv[0], self.request.agent
                    )
                };
                log.line(Stream::Fleet, &message);
                return crash(message);
            }
        };
        let pgid = process::group_of(&child);
        if let Some(pgid) = pgid.filter(|_| paused) {
            process::signal_group(pgid, NixSignal::SIGSTOP);
        }
        let (lines_tx, mut lines) = mpsc::channel::<Piece>(256);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(process::read_lines(out, lines_tx.clone(), Piece::Out));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(process::read_lines(err, lines_tx.clone(), Piece::Err));
        }
        drop(lines_tx);

        let mut parser: Box<dyn crate::agent::OutputParser> = match (&resume, self.profile.format) {
            (Some(r), crate::agent::Format::Codex) => {
                Box::new(crate::agent::CodexParser::resuming(
                    r.baseline.input_tokens,
                    r.baseline.output_tokens,
                ))
            }
            _ => parser_for(self.profile.format),
        };
        let mut stderr_tail = String::new();
        let mut stop_requested = false;
        let mut timed_out = false;
        let deadline = self
            .profile
            .timeout_secs
            .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
        let mut kill_at: Option<tokio::time::Instant> = None;
        let mut control_open = true;
        let mut lines_open = true;
        let status = loop {
            let kill_timer = async {
                match kill_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let timeout = async {
                match deadline.filter(|_| !timed_out && !stop_requested) {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                piece = lines.recv(), if lines_open => match piece {
                    Some(piece) => self.take_line(piece, &mut log, parser.as_mut(), &mut stderr_tail),
                    None => lines_open = false,
                },
                signal = self.control.recv(), if control_open => match (signal, pgid) {
                    (Some(Signal::Pause), Some(g)) => process::signal_group(g, NixSignal::SIGSTOP),
                    (Some(Signal::Resume), Some(g)) => process::signal_group(g, NixSignal::SIGCONT),
                    (Some(Signal::Stop), Some(g)) if !stop_requested => {
                        stop_requested = true;
                        log.line(Stream::Fleet, "stopping the agent (SIGTERM)");
                        process::terminate_group(g);
                        kill_at = Some(tokio::time::Instant::now() + self.stop_grace);
                    }
                    (None, _) => control_open = false,
                    _ => {}
                },
                () = timeout => {
                    timed_out = true;
                    if let Some(g) = pgid {
                        log.line(Stream::Fleet, "the attempt timed out: stopping the agent (SIGTERM)");
                        process::terminate_group(g);
                        kill_at = Some(tokio::time::Instant::now() + self.stop_grace);
                    }
                }
                () = kill_timer => {
                    kill_at = None;
                    if let Some(g) = pgid {
                        log.line(Stream::Fleet, "the agent ignored SIGTERM: SIGKILL");
                        process::signal_group(g, NixSignal::SIGKILL);
                    }
                }
                status = child.wait() => break status,
            }
        };
        // Whatever the agent left behind goes with it; then drain its output.
        contain.kill_all();
        let drain = async {
            while let Some(piece) = lines.recv().await {
                self.take_line(piece, &mut log, parser.as_mut(), &mut stderr_tail);
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
        for event in parser.finish() {
            self.emit(event);
        }

        let status = match status {
            Ok(s) => s,
            Err(e) => return crash(format!("lost track of the agent process: {e}")),
        };
        log.line(
            Stream::Fleet,
            &format!("{AGENT_ENDED}{}", process::describe_exit(&status)),
        );
        if stop_requested {
            return AgentResult::Stopped;
        }
        if timed_out {
            let secs = self.profile.timeout_secs.unwrap_or(0);
            let message = format!(
                "the attempt timed out after {secs} s (timeout_secs of profile `{}`)",
                self.request.agent
            );
            return AgentResult::Failed {
                class: FailureClass::Timeout,
                message,
            };
        }
        match parser.verdict(status.code(), &stderr_tail) {
            Verdict::Success => AgentResult::Succeeded,
            Verdict::Failure { class, message } => AgentResult::Failed { class, message },
        }
    }

    fn take_line(
        &self,
        piece: Piece,
        log: &mut LiveLog,
        parser: &mut dyn crate::agent::OutputParser,
        stderr_tail: &mut String,
    ) {
        match piece {
            Piece::Out(line) => {
                log.out(&line);
                for event in parser.line(&line) {
                    self.emit(event);
                }
            }
            Piece::Err(line) => {
                log.line(Stream::Err, &line);
                stderr_tail.push_str(&line);
                stderr_tail.push('\n');
                if stderr_tail.len() > STDERR_TAIL {
                    let mut cut = stderr_tail.len() - STDERR_TAIL;
                    while !stderr_tail.is_char_boundary(cut) {
                        cut += 1;
                    }
                    stderr_tail.drain(..cut);
                }
            }
        }
    }

    fn emit(&self, event: AgentEvent) {
        // A CLI that reports tokens but no cost: estimate it from the profile's prices.
        let event = match (event, self.profile.price) {
            (
                AgentEvent::Usage {
                    input_tokens,
                    output_tokens,
                    cost_usd: None,
                },
                Some(price),
            ) => AgentEvent::Usage {
                input_tokens,
                output_tokens,
                cost_usd: Some(price.cost(input_tokens, output_tokens)),
            },
            (event, _) => event,
        };
        let _ = self.tx.send(Msg::Agent {
            task: self.request.task.clone(),
            attempt: self.request.attempt,
            event,
        });
    }
}

/// Makes the task's worktree ready for the attempt; returns it and the commit the attempt starts from.
///
/// A fresh start (after a rejection) or the redo of an interrupted attempt
/// first saves whatever the worktree holds under a ref, so nothing is lost.
fn prepare(
    root: &Path,
    req: &StartRequest,
    title: &str,
    target: &str,
    rollback_base: Option<&str>,
) -> Result<(PathBuf, String), git::GitError> {
    let task = req.task.as_str();
    let wt = git::ensure_worktree(root, task, target)?;
    let reset_to = match req.workspace {
        Workspace::Continue => None,
        Workspace::Fresh => Some((
            git::branch_tip(root, target)?,
            format!("refs/fleet/discarded/{task}/{}", req.attempt),
            req.attempt.saturating_sub(1),
        )),
        Workspace::Rollback { attempt } => match rollback_base {
            Some(base) => {
                let oid = git::Oid::from_str(base).map_err(|source| git::GitError::Git {
                    what: format!("read the base commit `{base}` of attempt {attempt}"),
                    source,
                })?;
                Some((oid, git::interrupted_ref(task, attempt), attempt))
            }
            None => None,
        },
    };
    match reset_to {
        Some((to, save_ref, attempt)) => {
            let attr = git::Attribution {
                task,
                agent: &req.agent,
                attempt,
                title,
            };
            git::save_and_reset(root, to, &save_ref, &attr)?;
            Ok((wt.path, to.to_string()))
        }
        None => Ok((wt.path, wt.head.to_string())),
    }
}

/// The task's own home directory under `.fleet/homes/`, created (from
/// `template`, copied in, when given) the first time.
fn isolated_home(
    fleet_dir: &Path,
    task: &str,
    template: Option<&Path>,
) -> std::io::Result<PathBuf> {
    let home = fleet_dir.join("homes").join(task);
    if !home.exists() {
        std::fs::create_dir_all(&home)?;
        if let Some(t) = template {
            // `~/x` is in the user's home; a relative path is in the repository.
            let t = match t.strip_prefix("~") {
                Ok(rest) => std::env::var_os("HOME")
                    .map_or_else(|| t.to_path_buf(), |h| PathBuf::from(h).join(rest)),
                Err(_) if t.is_relative() => fleet_dir.parent().unwrap_or(fleet_dir).join(t),
                Err(_) => t.to_path_buf(),
            };
            copy_dir(&t, &home)?;
        }
    }
    Ok(home)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
