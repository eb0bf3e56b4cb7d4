//! One planner process: launched in the scratch worktree, its output
//! streamed into the transcript, to observers and through the profile's
//! parser; stopped (TERM, grace, KILL) on a timeout, a spent budget or the
//! engine's shutdown; its failure, if any, in words.

use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc;

use super::answer::{spend_of, take_event};
use super::{Msg, PlannerRun, Round, STDOUT_CAP, SUPERVISOR_TASK};
use crate::agent::{OutputParser, SessionBaseline, Verdict};
use crate::config::StructuredOutput;
use crate::core::planner;
use crate::core::{Signal, Spend};
use crate::git;
use crate::runtime::agent_run::supervisor::{self, Action, Ending, Supervisor};
use crate::runtime::process;
use crate::store::transcript::{self, Stream, Writer};

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
        let mut round = Round {
            failure: None,
            stdout: String::new(),
            messages: Vec::new(),
            session: None,
            input_tokens: 0,
            output_tokens: 0,
            usd: 0.0,
        };
        let l = self.argv(n, prompt, &scratch.path, resume);
        if self.section.structured_output == StructuredOutput::Auto
            && self.profile.format == crate::agent::Format::Codex
        {
            let schema = serde_json::to_string_pretty(&planner::schema()).unwrap_or_default();
            let file = self.fleet_dir.join("scratch").join("plan-schema.json");
            if let Err(e) = std::fs::write(&file, schema) {
                round.failure = Some(format!("cannot write {}: {e}", file.display()));
                return round;
            }
        }
        if n > 1 {
            self.note(log, &format!("round {n}: {}", short_argv(&l.argv)));
        }
        if *self.shutdown.borrow() {
            round.failure = Some("the planner was stopped with the engine".into());
            return round;
        }
        let mut contain =
            process::Containment::new(&self.fleet_dir, process::Kind::Agent, SUPERVISOR_TASK, n);
        let mut cmd = contain.command(Path::new(&l.argv[0]), &l.argv[1..], &l.cwd);
        cmd.envs(l.env.iter().map(|(k, v)| (k, v)));
        let child = match contain.spawn(&mut cmd) {
            Ok(c) => c,
            Err(e) => {
                let message = format!(
                    "cannot start the planner `{}` (profile `{}`): {e}",
                    l.argv[0], self.section.agent
                );
                self.note(log, &message);
                round.failure = Some(message);
                return round;
            }
        };
        let mut parser = l.parser();
        self.supervise(child, &contain, parser.as_mut(), log, &mut round, spent)
            .await;
        round
    }

    /// Streams the planner's output until it exits; stops it on a timeout,
    /// a spent budget or the engine's shutdown.
    async fn supervise(
        &mut self,
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
        let timeout = self.section.timeout_secs.map(Duration::from_secs);
        let mut sup = Supervisor::new(timeout, self.stop_grace);
        let mut stderr = String::new();
        let mut budget_stop: Option<String> = None;
        let mut lines_open = true;
        let mut shutdown = self.shutdown.clone();
        let mut watching = true;
        let status = loop {
            let timer = supervisor::due(sup.next_timer(), spawned);
            let action = tokio::select! {
                line = lines.recv(), if lines_open => match line {
                    Some((stream, line)) => {
                        self.take(stream, &line, parser, log, round, &mut stderr);
                        match (&budget_stop, self.over_budget(spent + spend_of(round))) {
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
                self.act(pgid, action, log);
            }
        };
        contain.kill_all();
        let drain = async {
            while let Some((stream, line)) = lines.recv().await {
                self.take(stream, &line, parser, log, round, &mut stderr);
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
        for event in parser.finish() {
            take_event(event, round, self.profile.price);
        }
        let code = status.as_ref().ok().and_then(|s| s.code());
        if let Ok(s) = &status {
            self.note(
                log,
                &format!("{}{}", transcript::AGENT_ENDED, process::describe_exit(s)),
            );
        }
        // Output read after the exit counts too: a run that crossed the budget fails.
        let budget_stop = budget_stop.or_else(|| self.over_budget(spent + spend_of(round)));
        let verdict = parser.verdict(code, &stderr);
        round.failure = failure(
            sup.ending(),
            budget_stop,
            &status,
            verdict,
            self.section.timeout_secs,
        );
    }

    /// One line of the planner's output: into the transcript, to observers,
    /// and (stdout) through the parser.
    fn take(
        &self,
        stream: Stream,
        line: &str,
        parser: &mut dyn OutputParser,
        log: &mut Writer,
        round: &mut Round,
        stderr: &mut String,
    ) {
        let _ = log.line(stream, line);
        let send = |text: String| {
            let _ = self.tx.send(Msg::Supervisor {
                consult: self.consult,
                stream,
                line: text,
            });
        };
        match stream {
            Stream::Out => {
                if round.stdout.len() + line.len() < STDOUT_CAP {
                    round.stdout.push_str(line);
                    round.stdout.push('\n');
                }
                // Observers get what the planner said and did, not its wire format.
                for event in parser.line(line) {
                    if let Some(text) = readable(&event) {
                        send(text);
                    }
                    take_event(event, round, self.profile.price);
                }
            }
            _ => {
                send(line.to_owned());
                if stderr.len() < 8 * 1024 {
                    stderr.push_str(line);
                    stderr.push('\n');
                }
            }
        }
    }

    pub(super) fn note(&self, log: &mut Writer, text: &str) {
        let _ = log.line(Stream::Fleet, text);
        let _ = self.tx.send(Msg::Supervisor {
            consult: self.consult,
            stream: Stream::Fleet,
            line: text.to_owned(),
        });
    }

    fn act(&self, pgid: Option<i32>, action: Action, log: &mut Writer) {
        let Some(g) = pgid else {
            return;
        };
        match action {
            Action::Pause | Action::Resume => {}
            Action::Terminate { note } => {
                self.note(log, &note.replace("attempt", "planner run"));
                process::terminate_group(g);
            }
            Action::Kill { note } => {
                self.note(log, note);
                process::signal_group(g, nix::sys::signal::Signal::SIGKILL);
            }
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
fn failure(
    ending: Ending,
    budget: Option<String>,
    status: &std::io::Result<std::process::ExitStatus>,
    verdict: Verdict,
    timeout_secs: Option<u64>,
) -> Option<String> {
    match (ending, budget) {
        (_, Some(message)) => Some(format!(
            "the planner ran over the supervisor's budget: {message}"
        )),
        (Ending::TimedOut, _) => Some(format!(
            "the planner timed out after {} s ([supervisor] timeout_secs)",
            timeout_secs.unwrap_or(0)
        )),
        (Ending::Stopped, _) => Some("the planner was stopped with the engine".into()),
        (Ending::Natural, _) => match (status, verdict) {
            (Err(e), _) => Some(format!("lost track of the planner process: {e}")),
            (Ok(_), Verdict::Success) => None,
            (Ok(_), Verdict::Failure { message, .. }) => {
                Some(format!("the planner failed: {message}"))
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
