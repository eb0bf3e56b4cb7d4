//! One headless process (the planner, the reviewer: a [`Host`]): launched
//! in its scratch worktree, its output streamed into the transcript, to
//! observers and through the profile's parser; stopped (TERM, grace, KILL)
//! on a timeout, a spent budget or the engine's shutdown; its failure, if
//! any, in words.

use std::path::Path;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::answer::{spend_of, take_event};
use super::{Msg, PlannerRun, Round, STDOUT_CAP, SUPERVISOR_TASK};
use crate::agent::{OutputParser, SessionBaseline, Verdict};
use crate::config::{AgentProfile, StructuredOutput};
use crate::core::planner;
use crate::core::{Signal, Spend};
use crate::git;
use crate::runtime::agent_run::launch;
use crate::runtime::agent_run::supervisor::{self, Action, Ending, Supervisor};
use crate::runtime::process;
use crate::store::transcript::{self, Stream, Writer};

/// What a headless run (the planner, the reviewer) gives the process
/// runner: how it launches, its limits, and where its lines go.
pub(crate) trait Host {
    /// "planner", "reviewer": for the messages.
    fn what(&self) -> &'static str;
    /// Whose budget it spends ("the supervisor's"), for the messages.
    fn budget_owner(&self) -> &'static str;
    /// The fleet.toml key of its timeout ("[supervisor] timeout_secs").
    fn timeout_key(&self) -> &'static str;
    /// The name its processes' containment goes by (no task id starts with `_`).
    fn name(&self) -> String;
    fn profile_name(&self) -> &str;
    fn profile(&self) -> &AgentProfile;
    fn fleet_dir(&self) -> &Path;
    fn timeout_secs(&self) -> Option<u64>;
    fn stop_grace(&self) -> Duration;
    fn shutdown(&self) -> watch::Receiver<bool>;
    /// The launch of round `n`.
    fn launch(
        &self,
        n: u32,
        prompt: &str,
        cwd: &Path,
        resume: Option<&(String, SessionBaseline)>,
    ) -> launch::Launch;
    /// Set when its budget is spent, with `now` spent in this run.
    fn over_budget(&self, now: Spend) -> Option<String>;
    /// A line for observers (a readable event, stderr, or a note).
    fn observe(&self, stream: Stream, line: String);
    /// Called before each launch (e.g. a schema file to write).
    fn before_launch(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Host for PlannerRun {
    fn what(&self) -> &'static str {
        "planner"
    }
    fn budget_owner(&self) -> &'static str {
        "the supervisor's"
    }
    fn timeout_key(&self) -> &'static str {
        "[supervisor] timeout_secs"
    }
    fn name(&self) -> String {
        SUPERVISOR_TASK.to_owned()
    }
    fn profile_name(&self) -> &str {
        &self.section.agent
    }
    fn profile(&self) -> &AgentProfile {
        &self.profile
    }
    fn fleet_dir(&self) -> &Path {
        &self.fleet_dir
    }
    fn timeout_secs(&self) -> Option<u64> {
        self.section.timeout_secs
    }
    fn stop_grace(&self) -> Duration {
        self.stop_grace
    }
    fn shutdown(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }
    fn launch(
        &self,
        n: u32,
        prompt: &str,
        cwd: &Path,
        resume: Option<&(String, SessionBaseline)>,
    ) -> launch::Launch {
        self.argv(n, prompt, cwd, resume)
    }
    fn over_budget(&self, now: Spend) -> Option<String> {
        PlannerRun::over_budget(self, now)
    }
    fn observe(&self, stream: Stream, line: String) {
        let _ = self.tx.send(Msg::Supervisor {
            consult: self.consult,
            stream,
            line,
        });
    }
    fn before_launch(&self) -> Result<(), String> {
        if self.section.structured_output == StructuredOutput::Auto
            && self.profile.format == crate::agent::Format::Codex
        {
            let schema = serde_json::to_string_pretty(&planner::schema()).unwrap_or_default();
            let file = self.fleet_dir.join("scratch").join("plan-schema.json");
            std::fs::write(&file, schema)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        }
        Ok(())
    }
}

impl PlannerRun {
    /// One run of the planner process, streamed into the transcript.
    pub(super) async fn round(
        &mut self,
        n: u32,
        prompt: &str,
        resume: Option<&(String, SessionBaseline)>,
        scratch: &git::Scratch,
        log: &mut Writer,
        spent: Spend,
    ) -> Round {
        round(&*self, n, prompt, resume, &scratch.path, log, spent).await
    }

    pub(super) fn note(&self, log: &mut Writer, text: &str) {
        note(self, log, text)
    }
}

/// The launch of round `n` of `host`'s profile under its name, with the
/// current executable and PATH (so that `fleetdeck` is callable from it).
pub(crate) fn describe_launch<H: Host>(
    host: &H,
    n: u32,
    prompt: &str,
    cwd: &Path,
    resume: Option<&(String, SessionBaseline)>,
    home: Option<&Path>,
) -> launch::Launch {
    let exe = std::env::current_exe().ok();
    let path = std::env::var_os("PATH");
    let name = host.name();
    launch::describe(&launch::LaunchInput {
        profile: host.profile(),
        task: &name,
        attempt: n,
        prompt,
        worktree: cwd,
        fleet_dir: host.fleet_dir(),
        resume: resume.map(|(s, b)| (s.as_str(), *b)),
        home,
        exe: exe.as_deref(),
        path: path.as_deref(),
    })
}

/// A line from the runner itself: into the transcript and to observers.
pub(crate) fn note<H: Host>(host: &H, log: &mut Writer, text: &str) {
    let _ = log.line(Stream::Fleet, text);
    host.observe(Stream::Fleet, text.to_owned());
}

/// One run of `host`'s process in `cwd`, streamed into the transcript.
pub(crate) async fn round<H: Host>(
    host: &H,
    n: u32,
    prompt: &str,
    resume: Option<&(String, SessionBaseline)>,
    cwd: &Path,
    log: &mut Writer,
    spent: Spend,
) -> Round {
    let mut round = Round::default();
    let l = host.launch(n, prompt, cwd, resume);
    if let Err(message) = host.before_launch() {
        round.failure = Some(message);
        return round;
    }
    if n > 1 {
        note(host, log, &format!("round {n}: {}", short_argv(&l.argv)));
    }
    if *host.shutdown().borrow() {
        round.failure = Some(format!("the {} was stopped with the engine", host.what()));
        return round;
    }
    let mut contain =
        process::Containment::new(host.fleet_dir(), process::Kind::Agent, &host.name(), n);
    let mut cmd = contain.command(Path::new(&l.argv[0]), &l.argv[1..], &l.cwd);
    cmd.envs(l.env.iter().map(|(k, v)| (k, v)));
    let child = match contain.spawn(&mut cmd) {
        Ok(c) => c,
        Err(e) => {
            let message = format!(
                "cannot start the {} `{}` (profile `{}`): {e}",
                host.what(),
                l.argv[0],
                host.profile_name()
            );
            note(host, log, &message);
            round.failure = Some(message);
            return round;
        }
    };
    let mut parser = l.parser();
    supervise(
        host,
        child,
        &contain,
        parser.as_mut(),
        log,
        &mut round,
        spent,
    )
    .await;
    round
}

/// Streams the process's output until it exits; stops it on a timeout,
/// a spent budget or the engine's shutdown.
async fn supervise<H: Host>(
    host: &H,
    mut child: tokio::process::Child,
    contain: &process::Containment,
    parser: &mut dyn OutputParser,
    log: &mut Writer,
    round: &mut Round,
    spent: Spend,
) {
    let pgid = process::group_of(&child);
    let mut lines = readers(&mut child);
    let spawned = tokio::time::Instant::now();
    let timeout = host.timeout_secs().map(Duration::from_secs);
    let mut sup = Supervisor::new(timeout, host.stop_grace());
    let mut stderr = String::new();
    let mut budget_stop: Option<String> = None;
    let mut lines_open = true;
    let mut shutdown = host.shutdown();
    let mut watching = true;
    let price = host.profile().price;
    let status = loop {
        let timer = supervisor::due(sup.next_timer(), spawned);
        let action = tokio::select! {
            line = lines.recv(), if lines_open => match line {
                Some((stream, line)) => {
                    take(host, stream, &line, parser, log, round, &mut stderr);
                    match (&budget_stop, host.over_budget(spent + spend_of(round))) {
                        (None, Some(message)) => {
                            budget_stop = Some(message);
                            sup.signal(Signal::Stop, spawned.elapsed())
                        }
                        _ => None,
                    }
                }
                None => {
                    lines_open = false;
                    None
                }
            },
            changed = shutdown.changed(), if watching => match changed {
                Ok(()) if *shutdown.borrow() => sup.signal(Signal::Stop, spawned.elapsed()),
                Ok(()) => None,
                Err(_) => {
                    watching = false;
                    None
                }
            },
            timer = timer => sup.fire(timer, spawned.elapsed()),
            status = child.wait() => break status,
        };
        if let Some(action) = action {
            act(host, pgid, action, log);
        }
    };
    contain.kill_all();
    let drain = async {
        while let Some((stream, line)) = lines.recv().await {
            take(host, stream, &line, parser, log, round, &mut stderr);
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    for event in parser.finish() {
        take_event(event, round, price);
    }
    let code = status.as_ref().ok().and_then(|s| s.code());
    if let Ok(s) = &status {
        note(
            host,
            log,
            &format!("{}{}", transcript::AGENT_ENDED, process::describe_exit(s)),
        );
    }
    // Output read after the exit counts too: a run that crossed the budget fails.
    let budget_stop = budget_stop.or_else(|| host.over_budget(spent + spend_of(round)));
    let verdict = parser.verdict(code, &stderr);
    round.failure = failure(host, sup.ending(), budget_stop, &status, verdict);
}

/// One line of the process's output: into the transcript, to observers,
/// and (stdout) through the parser.
fn take<H: Host>(
    host: &H,
    stream: Stream,
    line: &str,
    parser: &mut dyn OutputParser,
    log: &mut Writer,
    round: &mut Round,
    stderr: &mut String,
) {
    let _ = log.line(stream, line);
    match stream {
        Stream::Out => {
            if round.stdout.len() + line.len() < STDOUT_CAP {
                round.stdout.push_str(line);
                round.stdout.push('\n');
            }
            // Observers get what it said and did, not its wire format.
            for event in parser.line(line) {
                if let Some(text) = readable(&event) {
                    host.observe(stream, text);
                }
                take_event(event, round, host.profile().price);
            }
        }
        _ => {
            host.observe(stream, line.to_owned());
            if stderr.len() < 8 * 1024 {
                stderr.push_str(line);
                stderr.push('\n');
            }
        }
    }
}

fn act<H: Host>(host: &H, pgid: Option<i32>, action: Action, log: &mut Writer) {
    let Some(g) = pgid else {
        return;
    };
    match action {
        Action::Pause | Action::Resume => {}
        Action::Terminate { note: text } => {
            let run = format!("{} run", host.what());
            note(host, log, &text.replace("attempt", &run));
            process::terminate_group(g);
        }
        Action::Kill { note: text } => {
            note(host, log, text);
            process::signal_group(g, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// The planner's stdout and stderr, line by line.
fn readers(child: &mut tokio::process::Child) -> mpsc::Receiver<(Stream, String)> {
    let (lines_tx, lines) = mpsc::channel::<(Stream, String)>(256);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(process::read_lines(out, lines_tx.clone(), |l| {
            (Stream::Out, l)
        }));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(process::read_lines(err, lines_tx, |l| (Stream::Err, l)));
    }
    lines
}

/// Why a round failed, if it did: the budget, a timeout, a stop, or the
/// parser's verdict on its exit.
fn failure<H: Host>(
    host: &H,
    ending: Ending,
    budget: Option<String>,
    status: &std::io::Result<std::process::ExitStatus>,
    verdict: Verdict,
) -> Option<String> {
    let what = host.what();
    match (ending, budget) {
        (_, Some(message)) => Some(format!(
            "the {what} ran over {} budget: {message}",
            host.budget_owner()
        )),
        (Ending::TimedOut, _) => Some(format!(
            "the {what} timed out after {} s ({})",
            host.timeout_secs().unwrap_or(0),
            host.timeout_key()
        )),
        (Ending::Stopped, _) => Some(format!("the {what} was stopped with the engine")),
        (Ending::Natural, _) => match (status, verdict) {
            (Err(e), _) => Some(format!("lost track of the {what} process: {e}")),
            (Ok(_), Verdict::Success) => None,
            (Ok(_), Verdict::Failure { message, .. }) => {
                Some(format!("the {what} failed: {message}"))
            }
        },
    }
}

/// Most characters of one argument in the round's note.
const ARG_CHARS: usize = 60;

/// The command line of a round on one line, each argument (the prompt is
/// one) flattened and cut to [`ARG_CHARS`].
fn short_argv(argv: &[String]) -> String {
    let one = |a: &String| {
        let flat = a.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() > ARG_CHARS {
            let cut: String = flat.chars().take(ARG_CHARS).collect();
            format!("{cut}…")
        } else {
            flat
        }
    };
    argv.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// One line for the supervisor pane from a parsed event of the planner's
/// output; None for what a reader does not need (usage, session, the final
/// report that repeats the last message).
pub(crate) fn readable(event: &crate::agent::AgentEvent) -> Option<String> {
    use crate::agent::AgentEvent as E;
    match event {
        E::Message { text } => Some(text.clone()),
        E::ToolCall { name, arg, .. } => Some(format!("→ {name} {arg}")),
        E::ToolResult {
            ok: false, preview, ..
        } => Some(format!("✗ {preview}")),
        E::Error { text } => Some(format!("error: {text}")),
        E::Notice { text } => Some(text.clone()),
        E::PermissionDenied { tool, detail } => Some(format!("denied: {tool} {detail}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::readable;
    use crate::agent::AgentEvent;

    #[test]
    fn a_rounds_note_is_one_short_line_whatever_the_prompt() {
        let prompt = format!("You are the planner.\n\n## Goal\n\n{}", "x".repeat(500));
        let line = super::short_argv(&["claude".into(), "-p".into(), prompt]);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("claude -p You are the planner. ## Goal"),
            "{line}"
        );
        assert!(line.chars().count() < 80, "{line}");
    }

    #[test]
    fn the_pane_gets_what_the_planner_said_and_did_not_its_wire_format() {
        let said = AgentEvent::Message {
            text: "Here is the plan.".into(),
        };
        assert_eq!(readable(&said).as_deref(), Some("Here is the plan."));
        let call = AgentEvent::ToolCall {
            id: None,
            name: "Read".into(),
            arg: "README.md".into(),
        };
        assert_eq!(readable(&call).as_deref(), Some("→ Read README.md"));
        let usage = AgentEvent::Usage {
            input_tokens: 1,
            output_tokens: 2,
            cost_usd: None,
        };
        assert_eq!(readable(&usage), None);
    }
}
