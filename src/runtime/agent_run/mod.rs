//! One attempt's agent run, in four steps:
//! 1. [`prepare`]: the task's worktree, checked and ready, and the isolated home;
//! 2. [`launch`]: a pure description of what is launched (argv, environment
//!    with `PWD`, working directory, parser);
//! 3. [`supervisor`]: the live process under a pure state machine (pause,
//!    stop as TERM → grace → KILL, timeout), its output streamed into the
//!    transcript and the parser;
//! 4. [`verdict`]: how it ended, as the [`AgentResult`] the scheduler gets.

pub(crate) mod launch;
pub(crate) mod prepare;
mod progress;
pub(crate) mod supervisor;

pub(crate) use prepare::Reset;

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal as NixSignal;
use tokio::sync::{mpsc, oneshot};

use super::Msg;
use super::live_log::LiveLog;
use super::process;
use crate::agent::{AgentEvent, FailureClass, OutputParser, SessionBaseline, Verdict};
use crate::config::AgentProfile;
use crate::core::supervisor::ledger::Ledger;
use crate::core::{AgentResult, Report, Signal, StartRequest};
use crate::git;
use crate::store::transcript::{self, AGENT_ENDED, Header, Stream};
use launch::{Launch, LaunchInput};
use progress::ProgressTimer;
use supervisor::{Action, Ending, Supervisor};

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
    /// What preparing does to the worktree's content.
    pub reset: Reset,
    /// The earlier attempt this one continues (changes requested, reassigned).
    pub previous: Option<Previous>,
    /// The task this one was split from: its work is handed over when this
    /// task starts with none of its own.
    pub split: Option<super::handoff::SplitSource>,
    pub stop_grace: Duration,
    /// The most bytes its transcript file may hold (head and tail kept).
    pub transcript_max_bytes: u64,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub control: mpsc::UnboundedReceiver<Signal>,
    /// Note lines from the engine (agents' messages) for the transcript.
    pub team: mpsc::UnboundedReceiver<super::team::RunNote>,
    /// No progress for this long (or a loop) is a stall.
    pub stall_after: Duration,
    /// What the agent did so far, fed by every parsed event and a coarse
    /// count of the worktree's changed files.
    pub ledger: Ledger,
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

/// A prepared attempt: its worktree, the commit it starts from, the
/// isolated home, and what it inherited from the task it was split from.
type Prepared = (
    PathBuf,
    String,
    Option<PathBuf>,
    Option<crate::core::handoff::Handed>,
);

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
        let (worktree, base, home, handed) = match self.prepare().await {
            Ok(ready) => ready,
            Err(failed) => return failed,
        };
        let (resume, note) = self.compose_prompt(handed).await;
        let exe = std::env::current_exe().ok();
        let path = std::env::var_os("PATH");
        let launch = launch::describe(&LaunchInput {
            profile: &self.profile,
            task: self.request.task.as_str(),
            attempt: self.request.attempt,
            prompt: &self.request.prompt,
            worktree: &worktree,
            fleet_dir: &self.fleet_dir,
            resume: resume.as_ref().map(|r| {
                let baseline = SessionBaseline {
                    input_tokens: r.baseline.input_tokens,
                    output_tokens: r.baseline.output_tokens,
                };
                (r.session.as_str(), baseline)
            }),
            home: home.as_deref(),
            exe: exe.as_deref(),
            path: path.as_deref(),
        });
        let rel = transcript::relative_path(self.request.task.as_str(), self.request.attempt);
        let mut log = match self.open_transcript(&launch, &rel) {
            Ok(log) => log,
            // Not the agent's fault: the machine refuses the write.
            Err(message) => return failed(FailureClass::Environment, message),
        };
        if let Some(note) = &note {
            log.line(Stream::Fleet, note);
        }
        // The engine records the attempt (with its base) before the agent may change anything.
        if !self.record_attempt(base, &rel).await {
            return AgentResult::Stopped; // the engine is gone
        }
        let Some(paused) = self.early_signals() else {
            return AgentResult::Stopped;
        };
        // The agent runs only in its registered worktree on `fleet/<id>`.
        if let Err(e) = git::verify_worktree(&self.root, self.request.task.as_str()) {
            let message = format!("not starting the agent: {e}");
            log.line(Stream::Fleet, &message);
            return failed(FailureClass::Environment, message);
        }
        // Everything the agent starts lives in its containment and dies with it.
        let task = self.request.task.as_str();
        let mut contain = process::Containment::new(
            &self.fleet_dir,
            process::Kind::Agent,
            task,
            self.request.attempt,
        );
        let mut cmd = contain.command(
            std::path::Path::new(&launch.argv[0]),
            &launch.argv[1..],
            &launch.cwd,
        );
        cmd.envs(launch.env.iter().map(|(k, v)| (k, v)));
        let child = match contain.spawn(&mut cmd) {
            Ok(c) => c,
            Err(e) => {
                let message = spawn_error(&launch.argv[0], &self.request.agent, &e);
                log.line(Stream::Fleet, &message);
                return crash(message);
            }
        };
        let mut parser = launch.parser();
        let (ending, status, stderr_tail) = self
            .supervise(child, &contain, paused, parser.as_mut(), &mut log)
            .await;
        // Notes still on their way go in; later ones are appended by the engine.
        self.team.close();
        while let Ok(note) = self.team.try_recv() {
            self.team_note(note, &mut log);
        }
        let status = match status {
            Ok(s) => s,
            Err(e) => return crash(format!("lost track of the agent process: {e}")),
        };
        log.line(
            Stream::Fleet,
            &format!("{AGENT_ENDED}{}", process::describe_exit(&status)),
        );
        let judged = parser.verdict(status.code(), &stderr_tail);
        verdict(ending, judged, &self.profile, &self.request.agent)
    }

    /// Step one, off the async threads: the worktree and the commit the
    /// attempt starts from, and the isolated home when the profile has one.
    /// A worktree the disk refuses is an environment fault, not the agent's.
    /// When the task was split from another and has no work of its own yet,
    /// the split task's work is handed over too (what became of it returned).
    async fn prepare(&self) -> Result<Prepared, AgentResult> {
        let req = self.request.clone();
        let (root, target, rollback, title, split) = (
            self.root.clone(),
            self.target.clone(),
            self.reset.clone(),
            self.title.clone(),
            self.split.clone(),
        );
        let prepared = tokio::task::spawn_blocking(move || {
            let ready = prepare::prepare(&root, &req, &title, &target, &rollback)?;
            let handed = match &split {
                Some(from) => super::handoff::hand_over(&root, req.task.as_str(), &target, from)?,
                None => None,
            };
            Ok::<_, git::GitError>((ready, handed))
        })
        .await;
        let ((worktree, base), handed) = match prepared {
            Ok(Ok(v)) => v,
            Ok(Err(e)) if e.is_environment(&self.root) => {
                let message = format!("could not prepare the worktree: {e}");
                return Err(failed(FailureClass::Environment, message));
            }
            Ok(Err(e)) => return Err(crash(format!("could not prepare the worktree: {e}"))),
            Err(e) => return Err(crash(format!("could not prepare the worktree: {e}"))),
        };
        if !self.profile.isolate_home {
            return Ok((worktree, base, None, handed));
        }
        let task = self.request.task.as_str();
        match prepare::isolated_home(&self.fleet_dir, task, self.profile.home_template.as_deref()) {
            Ok(home) => Ok((worktree, base, Some(home), handed)),
            Err(e) => Err(crash(format!(
                "cannot prepare the isolated home of `{task}`: {e}"
            ))),
        }
    }

    /// The attempt's prompt: a resumed session gets only the new
    /// instructions; otherwise the agent is told what the earlier attempt
    /// did. A part of a split task is told what it inherited (`handed`);
    /// returns the session to resume and the transcript note of the handoff.
    async fn compose_prompt(
        &mut self,
        handed: Option<crate::core::handoff::Handed>,
    ) -> (Option<Resume>, Option<String>) {
        let resume = self.previous.as_mut().and_then(|p| p.resume.take());
        match &resume {
            Some(r) => self.request.prompt = r.prompt.clone(),
            None => self.add_previous_summary().await,
        }
        let mut note = None;
        if let (Some(from), Some(handed)) = (&self.split, handed) {
            note = Some(crate::core::handoff::handed_note(&from.owner.task, &handed));
            let text = super::handoff::inherited_prompt(from, handed);
            self.request.prompt.push_str(&text);
        }
        (resume, note)
    }

    /// Without a session to resume, the agent is told what the earlier attempt did.
    async fn add_previous_summary(&mut self) {
        let Some(prev) = &self.previous else {
            return;
        };
        let (root, target, id) = (
            self.root.clone(),
            self.target.clone(),
            self.request.task.to_string(),
        );
        let files =
            tokio::task::spawn_blocking(move || git::worktree_changed_paths(&root, &id, &target))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
        let messages = super::summary::last_messages(&prev.transcript);
        let summary = super::summary::summary(prev.attempt, &prev.agent, &messages, &files);
        self.request.prompt.push_str(&summary);
    }

    fn open_transcript(&self, launch: &Launch, rel: &std::path::Path) -> Result<LiveLog, String> {
        let header = Header {
            task: self.request.task.to_string(),
            attempt: self.request.attempt,
            agent: self.request.agent.clone(),
            format: launch.format,
            argv: launch.argv.clone(),
            started_ms: crate::store::now_ms(),
        };
        match transcript::Writer::create_capped(
            &self.fleet_dir.join(rel),
            &header,
            self.transcript_max_bytes,
        ) {
            Ok(w) => Ok(LiveLog::new(
                Some(w),
                self.tx.clone(),
                self.request.task.clone(),
                self.request.attempt,
            )),
            Err(e) => Err(format!(
                "cannot create the transcript {}: {e}",
                self.fleet_dir.join(rel).display()
            )),
        }
    }

    /// Asks the engine to record the attempt; false when the engine is gone.
    async fn record_attempt(&self, base: String, rel: &std::path::Path) -> bool {
        let (ack, acked) = oneshot::channel();
        let began = Msg::AttemptBegan {
            task: self.request.task.clone(),
            attempt: self.request.attempt,
            agent: self.request.agent.clone(),
            prompt: self.request.prompt.clone(),
            base,
            transcript: rel.to_string_lossy().into_owned(),
            ack,
        };
        self.tx.send(began).is_ok() && acked.await.is_ok()
    }

    /// Signals that arrived while preparing: whether to start paused, or None
    /// when the attempt was stopped before it launched.
    fn early_signals(&mut self) -> Option<bool> {
        let mut paused = false;
        while let Ok(signal) = self.control.try_recv() {
            match signal {
                Signal::Stop => return None,
                Signal::Pause => paused = true,
                Signal::Resume => paused = false,
            }
        }
        Some(paused)
    }

    /// Step three: streams the agent's output and carries out the
    /// supervisor's actions until the process exits; then everything left in
    /// its containment is killed and the rest of its output drained.
    async fn supervise(
        &mut self,
        mut child: tokio::process::Child,
        contain: &process::Containment,
        paused: bool,
        parser: &mut dyn OutputParser,
        log: &mut LiveLog,
    ) -> (Ending, std::io::Result<std::process::ExitStatus>, String) {
        let pgid = process::group_of(&child);
        if paused {
            act(pgid, Action::Pause, log);
        }
        let mut lines = read_output(&mut child);
        let spawned = tokio::time::Instant::now();
        let timeout = self.profile.timeout_secs.map(Duration::from_secs);
        let mut sup = Supervisor::new(timeout, self.stop_grace);
        let mut stderr_tail = String::new();
        let (mut control_open, mut lines_open, mut team_open) = (true, true, true);
        self.ledger = Ledger::new(crate::store::now_ms());
        let mut progress = ProgressTimer::new(self.stall_after, paused);
        let status = loop {
            let timer = supervisor::due(sup.next_timer(), spawned);
            let action = tokio::select! {
                piece = lines.recv(), if lines_open => {
                    match piece {
                        Some(piece) => self.take_line(piece, log, parser, &mut stderr_tail),
                        None => lines_open = false,
                    }
                    None
                }
                signal = self.control.recv(), if control_open => match signal {
                    Some(signal) => {
                        progress.signal(signal, &mut self.ledger);
                        sup.signal(signal, spawned.elapsed())
                    }
                    None => {
                        control_open = false;
                        None
                    }
                },
                note = self.team.recv(), if team_open => {
                    match note {
                        Some(note) => self.team_note(note, log),
                        None => team_open = false,
                    }
                    None
                }
                () = tokio::time::sleep_until(progress.next), if progress.idle() => {
                    progress.start(self.changed_files());
                    None
                }
                count = progress.counted(), if progress.counting() => {
                    self.files_counted(count, progress.paused);
                    None
                }
                timer = timer => sup.fire(timer, spawned.elapsed()),
                status = child.wait() => break status,
            };
            if let Some(action) = action {
                act(pgid, action, log);
            }
        };
        // Whatever the agent left behind goes with it; then drain its output.
        contain.kill_all();
        let drain = async {
            while let Some(piece) = lines.recv().await {
                self.take_line(piece, log, parser, &mut stderr_tail);
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
        for event in parser.finish() {
            self.emit(event);
        }
        (sup.ending(), status, stderr_tail)
    }

    fn take_line(
        &mut self,
        piece: Piece,
        log: &mut LiveLog,
        parser: &mut dyn OutputParser,
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

    /// A note from the engine: into the transcript; the attempt's own
    /// progress message counts as progress in its ledger.
    fn team_note(&mut self, note: super::team::RunNote, log: &mut LiveLog) {
        log.line(Stream::Fleet, &note.line);
        if let Some(text) = note.progress {
            self.ledger.reported(&text, crate::store::now_ms());
        }
    }

    fn emit(&mut self, event: AgentEvent) {
        self.ledger.observe(&event, crate::store::now_ms());
        if matches!(
            event,
            AgentEvent::ToolCall { .. } | AgentEvent::ToolResult { .. } | AgentEvent::Error { .. }
        ) {
            self.check_progress(false); // loops show at once
        }
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

/// The agent's stdout and stderr, line by line, through one channel.
fn read_output(child: &mut tokio::process::Child) -> mpsc::Receiver<Piece> {
    let (lines_tx, lines) = mpsc::channel::<Piece>(256);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(process::read_lines(out, lines_tx.clone(), Piece::Out));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(process::read_lines(err, lines_tx, Piece::Err));
    }
    lines
}

fn crash(message: String) -> AgentResult {
    failed(FailureClass::Crash, message)
}

fn failed(class: FailureClass, message: String) -> AgentResult {
    AgentResult::Failed { class, message }
}

/// Carries out one of the supervisor's actions on the agent's process group.
fn act(pgid: Option<i32>, action: Action, log: &mut LiveLog) {
    let Some(g) = pgid else {
        return;
    };
    match action {
        Action::Pause => process::signal_group(g, NixSignal::SIGSTOP),
        Action::Resume => process::signal_group(g, NixSignal::SIGCONT),
        Action::Terminate { note } => {
            log.line(Stream::Fleet, note);
            process::terminate_group(g);
        }
        Action::Kill { note } => {
            log.line(Stream::Fleet, note);
            process::signal_group(g, NixSignal::SIGKILL);
        }
    }
}

fn spawn_error(program: &str, agent: &str, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!(
            "agent command not found: `{program}` (profile `{agent}`); is it installed and on PATH?"
        )
    } else {
        format!("cannot start agent command `{program}` (profile `{agent}`): {e}")
    }
}

/// Step four: how the attempt ended. A stop the scheduler asked for and a
/// timeout decide by themselves; otherwise the parser's verdict (exit code
/// and what the stream said) does.
fn verdict(ending: Ending, judged: Verdict, profile: &AgentProfile, agent: &str) -> AgentResult {
    match (ending, judged) {
        (Ending::Stopped, _) => AgentResult::Stopped,
        (Ending::TimedOut, _) => AgentResult::Failed {
            class: FailureClass::Timeout,
            message: format!(
                "the attempt timed out after {} s (timeout_secs of profile `{agent}`)",
                profile.timeout_secs.unwrap_or(0)
            ),
        },
        (Ending::Natural, Verdict::Success) => AgentResult::Succeeded,
        (Ending::Natural, Verdict::Failure { class, message }) => {
            AgentResult::Failed { class, message }
        }
    }
}
