//! One consultation of the supervisor's planner: the scratch worktree at the
//! target's tip, the planning prompt, the planner launched like an agent run
//! (its profile's command, parser and containment, `FLEET_TASK=_supervisor`),
//! its answer extracted, validated and routed, and re-asked with the errors
//! (resuming its session where the profile can) up to `reask_limit` times.
//! Every round goes into `runs/_supervisor/<consult>.jsonl`; the result is a
//! [`ConsultResult`]. Nothing here touches the plan: the scheduler does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Msg;
use super::agent_run::launch::{self, LaunchInput};
use super::agent_run::supervisor::{Action, Ending, Supervisor};
use super::process;
use crate::agent::{AgentEvent, OutputParser, SessionBaseline, Verdict};
use crate::config::{AgentProfile, StructuredOutput, SupervisorSection};
use crate::core::planner::{self, PlanProblem, RepoSummary};
use crate::core::supervisor::routing;
use crate::core::{ConsultResult, Signal, Spend, Task};
use crate::git;
use crate::store::transcript::{self, Header, Stream, Writer};

/// The task name a planner run goes by (no task id starts with `_`).
pub(crate) const SUPERVISOR_TASK: &str = "_supervisor";
/// Most bytes of a refused answer kept for the user.
const ANSWER_CAP: usize = 16 * 1024;
/// Most bytes of stdout kept to read the answer from.
const STDOUT_CAP: usize = 8 << 20;

/// Everything one consultation needs, gathered by the engine.
pub(crate) struct PlannerRun {
    pub root: PathBuf,
    pub fleet_dir: PathBuf,
    pub target: String,
    pub consult: u64,
    pub section: SupervisorSection,
    pub profile: AgentProfile,
    /// The profiles the planner may assign (names, strengths, cost).
    pub agents: Vec<planner::AgentProfile>,
    /// The plan when the consultation started.
    pub tasks: Vec<Task>,
    pub goal: String,
    pub situation: Option<String>,
    pub verify: Vec<String>,
    /// What the supervisor spent in earlier consultations.
    pub spent_before: Spend,
    pub stop_grace: Duration,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub shutdown: watch::Receiver<bool>,
}

/// What one round of the planner came to.
struct Round {
    /// Why it failed (could not start, error, timeout, budget, stopped).
    failure: Option<String>,
    stdout: String,
    /// Its assistant messages and final result, in order.
    messages: Vec<String>,
    session: Option<String>,
    input_tokens: u64,
    output_tokens: u64,
    usd: f64,
}

impl PlannerRun {
    /// Runs the consultation and reports [`Report::Proposed`](crate::core::Report::Proposed).
    pub async fn run(mut self) {
        let result = self.consult().await;
        let report = crate::core::Report::Proposed {
            consult: self.consult,
            result,
        };
        let _ = self.tx.send(Msg::Report(report));
    }

    /// The consultation, returned instead of reported (`plan --dry-run`).
    pub async fn consult(&mut self) -> ConsultResult {
        if let Some(message) = self.over_budget(Spend::default()) {
            return ConsultResult::Failed {
                message: format!("not consulting the planner: {message}"),
                spend: Spend::default(),
            };
        }
        let (scratch, repo) = match self.prepare().await {
            Ok(v) => v,
            Err(message) => {
                return ConsultResult::Failed {
                    message,
                    spend: Spend::default(),
                };
            }
        };
        let prompt = self.prompt(&repo);
        let path = self
            .fleet_dir
            .join(transcript::supervisor_path(self.consult));
        let mut log = match self.open_transcript(&path, &scratch.path, &prompt) {
            Ok(w) => w,
            Err(message) => {
                return ConsultResult::Failed {
                    message,
                    spend: Spend::default(),
                };
            }
        };
        let result = self.rounds(&prompt, &scratch, &mut log).await;
        let _ = log.finish();
        result
    }

    /// Up to `1 + reask_limit` rounds until an answer passes.
    async fn rounds(
        &mut self,
        prompt: &str,
        scratch: &git::Scratch,
        log: &mut Writer,
    ) -> ConsultResult {
        let mut spend = Spend::default();
        let mut ask = prompt.to_owned();
        let mut session: Option<(String, SessionBaseline)> = None;
        let mut warnings = Vec::new();
        let rounds = 1 + self.section.reask_limit;
        for n in 1..=rounds {
            let round = self
                .round(n, &ask, session.as_ref(), scratch, log, spend)
                .await;
            let round_spend = Spend {
                usd: round.usd,
                tokens: round.input_tokens + round.output_tokens,
            };
            spend = spend + round_spend;
            warnings.extend(self.discard(scratch, log).await);
            if let Some(message) = round.failure {
                return ConsultResult::Failed { message, spend };
            }
            let problems = match self.judge(&round) {
                Ok((validated, routed)) => {
                    let mut all = warnings;
                    all.extend(validated.warnings);
                    all.extend(routed);
                    return ConsultResult::Answer {
                        reasoning: validated.reasoning,
                        specs: validated.specs,
                        actions: validated.actions,
                        warnings: all,
                        rounds: n,
                        spend,
                    };
                }
                Err(problems) => problems,
            };
            if n == rounds {
                return ConsultResult::Refused {
                    answer: cap(&shown_answer(&round)),
                    problems: problems.iter().map(ToString::to_string).collect(),
                    rounds: n,
                    spend,
                };
            }
            let note = format!(
                "round {}: asking again: {} problem{}",
                n + 1,
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            self.note(log, &note);
            let reask = planner::reask_prompt(&problems);
            match round.session.filter(|_| self.profile.can_resume()) {
                Some(id) => {
                    let baseline = SessionBaseline {
                        input_tokens: round.input_tokens
                            + session.as_ref().map_or(0, |(_, b)| b.input_tokens),
                        output_tokens: round.output_tokens
                            + session.as_ref().map_or(0, |(_, b)| b.output_tokens),
                    };
                    session = Some((id, baseline));
                    ask = reask;
                }
                None => {
                    session = None;
                    ask = format!("{prompt}\n\n{reask}");
                }
            }
        }
        ConsultResult::Failed {
            message: "the planner gave no answer".into(),
            spend,
        }
    }

    /// The answer of a round: extracted, validated against the plan, routed.
    fn judge(&self, round: &Round) -> Result<(Judged, Vec<String>), Vec<PlanProblem>> {
        let answer = read_answer(&round.stdout, &round.messages).map_err(|e| vec![e.into()])?;
        let known: Vec<String> = self.agents.iter().map(|a| a.name.clone()).collect();
        let roles = roles_of(&self.tasks);
        let validated = planner::validate(&answer, &known, &roles, &self.tasks)?;
        let mut specs = validated.specs;
        let routed = routing::route(&mut specs, &self.section.routing);
        Ok((
            Judged {
                reasoning: answer.notes.filter(|n| !n.trim().is_empty()),
                specs,
                actions: validated.actions,
                warnings: validated.warnings,
            },
            routed,
        ))
    }

    /// Set when the supervisor's budget is spent, with `now` spent in this run.
    fn over_budget(&self, now: Spend) -> Option<String> {
        let total = self.spent_before + now;
        if let Some(limit) = self.section.budget_usd
            && total.usd >= limit
        {
            return Some(format!(
                "the supervisor's budget is spent (${:.2} of ${limit:.2}, [supervisor] budget_usd)",
                total.usd
            ));
        }
        if let Some(limit) = self.section.budget_tokens
            && total.tokens >= limit
        {
            return Some(format!(
                "the supervisor's token budget is spent ({} of {limit}, [supervisor] budget_tokens)",
                total.tokens
            ));
        }
        None
    }

    /// The scratch worktree at the target's tip and what the prompt says
    /// about the repository, off the async threads.
    async fn prepare(&self) -> Result<(git::Scratch, RepoSummary), String> {
        let (root, fleet_dir, target) = (
            self.root.clone(),
            self.fleet_dir.clone(),
            self.target.clone(),
        );
        let verify = self.verify.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            crate::store::private::create_dir_private(&fleet_dir.join("scratch")).map_err(|e| {
                format!("cannot create {}: {e}", fleet_dir.join("scratch").display())
            })?;
            let scratch = git::prepare_scratch(&root, &target)
                .map_err(|e| format!("cannot prepare the planner's scratch worktree: {e}"))?;
            let facts = git::repo_facts(&root, scratch.tip)
                .map_err(|e| format!("cannot read the repository for the planner: {e}"))?;
            let repo = RepoSummary {
                tree: facts.tree,
                readme_head: facts.readme_head,
                languages: facts.languages,
                verify,
            };
            Ok::<_, String>((scratch, repo))
        })
        .await;
        prepared.unwrap_or_else(|e| Err(format!("cannot prepare the planner's run: {e}")))
    }

    fn prompt(&self, repo: &RepoSummary) -> String {
        let roles = roles_of(&self.tasks);
        planner::planning_prompt(&planner::PlanningContext {
            goal: &self.goal,
            repo,
            agents: &self.agents,
            roles: &roles,
            current: &self.tasks,
            situation: self.situation.as_deref(),
        })
    }

    fn open_transcript(&self, path: &Path, cwd: &Path, prompt: &str) -> Result<Writer, String> {
        let argv = self.argv(1, prompt, cwd, None);
        let header = Header {
            task: SUPERVISOR_TASK.to_owned(),
            attempt: u32::try_from(self.consult).unwrap_or(u32::MAX),
            agent: self.section.agent.clone(),
            format: self.profile.format,
            argv: argv.argv,
            started_ms: crate::store::now_ms(),
        };
        Writer::create(path, &header)
            .map_err(|e| format!("cannot create the transcript {}: {e}", path.display()))
    }

    /// The launch of round `round`: the profile's command (its resume form
    /// with a session), with the structured-output option of its format.
    fn argv(
        &self,
        round: u32,
        prompt: &str,
        cwd: &Path,
        resume: Option<&(String, SessionBaseline)>,
    ) -> launch::Launch {
        let exe = std::env::current_exe().ok();
        let home = self.home();
        let mut l = launch::describe(&LaunchInput {
            profile: &self.profile,
            task: SUPERVISOR_TASK,
            attempt: round,
            prompt,
            worktree: cwd,
            fleet_dir: &self.fleet_dir,
            resume: resume.map(|(s, b)| (s.as_str(), *b)),
            home: home.as_deref(),
            exe: exe.as_deref(),
        });
        l.env
            .push(("FLEET_CONSULT".into(), self.consult.to_string().into()));
        if self.section.structured_output == StructuredOutput::Auto {
            l.argv.extend(structured_args(
                self.profile.format,
                &self.fleet_dir.join("scratch").join("plan-schema.json"),
            ));
        }
        l
    }

    /// The planner's isolated home, when its profile has `isolate_home`.
    fn home(&self) -> Option<PathBuf> {
        if !self.profile.isolate_home {
            return None;
        }
        super::agent_run::prepare::isolated_home(
            &self.fleet_dir,
            SUPERVISOR_TASK,
            self.profile.home_template.as_deref(),
        )
        .ok()
    }

    /// One run of the planner process, streamed into the transcript.
    async fn round(
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
            self.note(log, &format!("round {n}: {}", l.argv.join(" ")));
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
        let (lines_tx, mut lines) = mpsc::channel::<(Stream, String)>(256);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(process::read_lines(out, lines_tx.clone(), |l| {
                (Stream::Out, l)
            }));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(process::read_lines(err, lines_tx.clone(), |l| {
                (Stream::Err, l)
            }));
        }
        drop(lines_tx);
        let spawned = tokio::time::Instant::now();
        let timeout = self.section.timeout_secs.map(Duration::from_secs);
        let mut sup = Supervisor::new(timeout, self.stop_grace);
        let mut stderr = String::new();
        let mut budget_stop: Option<String> = None;
        let mut lines_open = true;
        let mut shutdown = self.shutdown.clone();
        let mut watching = true;
        let status = loop {
            let next = sup.next_timer();
            let timer = async {
                match next {
                    Some((at, timer)) => {
                        tokio::time::sleep_until(spawned + at).await;
                        timer
                    }
                    None => std::future::pending().await,
                }
            };
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
        round.failure = match (sup.ending(), budget_stop) {
            (_, Some(message)) => Some(format!(
                "the planner ran over the supervisor's budget: {message}"
            )),
            (Ending::TimedOut, _) => Some(format!(
                "the planner timed out after {} s ([supervisor] timeout_secs)",
                self.section.timeout_secs.unwrap_or(0)
            )),
            (Ending::Stopped, _) => Some("the planner was stopped with the engine".into()),
            (Ending::Natural, _) => match (&status, parser.verdict(code, &stderr)) {
                (Err(e), _) => Some(format!("lost track of the planner process: {e}")),
                (Ok(_), Verdict::Success) => None,
                (Ok(_), Verdict::Failure { message, .. }) => {
                    Some(format!("the planner failed: {message}"))
                }
            },
        };
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
        let _ = self.tx.send(Msg::Supervisor {
            consult: self.consult,
            stream,
            line: line.to_owned(),
        });
        match stream {
            Stream::Out => {
                if round.stdout.len() + line.len() < STDOUT_CAP {
                    round.stdout.push_str(line);
                    round.stdout.push('\n');
                }
                for event in parser.line(line) {
                    take_event(event, round, self.profile.price);
                }
            }
            _ => {
                if stderr.len() < 8 * 1024 {
                    stderr.push_str(line);
                    stderr.push('\n');
                }
            }
        }
    }

    fn note(&self, log: &mut Writer, text: &str) {
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

    /// Discards what the planner changed in the scratch worktree; a warning
    /// for each round that changed something.
    async fn discard(&self, scratch: &git::Scratch, log: &mut Writer) -> Option<String> {
        let (path, tip) = (scratch.path.clone(), scratch.tip);
        let changed = tokio::task::spawn_blocking(move || git::discard_scratch_changes(&path, tip))
            .await
            .unwrap_or_else(|e| {
                Err(git::GitError::Io {
                    what: "discard the scratch worktree's changes".into(),
                    source: std::io::Error::other(e.to_string()),
                })
            });
        let warning = match changed {
            Ok(paths) if paths.is_empty() => return None,
            Ok(paths) => format!(
                "the planner changed {} in its read-only scratch worktree: discarded (the answer still counts)",
                list_paths(&paths)
            ),
            Err(e) => format!("could not reset the planner's scratch worktree: {e}"),
        };
        self.note(log, &warning);
        Some(warning)
    }
}

/// A validated answer, routed.
struct Judged {
    reasoning: Option<String>,
    specs: Vec<crate::core::TaskSpec>,
    actions: Vec<planner::Action>,
    warnings: Vec<String>,
}

fn spend_of(round: &Round) -> Spend {
    Spend {
        usd: round.usd,
        tokens: round.input_tokens + round.output_tokens,
    }
}

fn take_event(event: AgentEvent, round: &mut Round, price: Option<crate::config::Price>) {
    match event {
        AgentEvent::Session { id, .. } => round.session = Some(id),
        AgentEvent::Message { text } => round.messages.push(text),
        AgentEvent::Finished { summary, .. } if !summary.trim().is_empty() => {
            round.messages.push(summary);
        }
        AgentEvent::Usage {
            input_tokens,
            output_tokens,
            cost_usd,
        } if crate::agent::check_usage(&AgentEvent::Usage {
            input_tokens,
            output_tokens,
            cost_usd,
        })
        .is_ok() =>
        {
            round.input_tokens = input_tokens;
            round.output_tokens = output_tokens;
            round.usd = cost_usd
                .or_else(|| price.map(|p| p.cost(input_tokens, output_tokens)))
                .unwrap_or(0.0);
        }
        _ => {}
    }
}

/// The extra arguments that ask a CLI for output following the plan schema:
/// Claude's `--json-schema <JSON>`, Codex's `--output-schema <file>`;
/// nothing for the others (the final message's ```json block is read).
pub(crate) fn structured_args(format: crate::agent::Format, schema_file: &Path) -> Vec<String> {
    use crate::agent::Format;
    match format {
        Format::Claude => vec![
            "--json-schema".into(),
            serde_json::to_string(&planner::schema()).unwrap_or_default(),
        ],
        Format::Codex => vec![
            "--output-schema".into(),
            schema_file.to_string_lossy().into_owned(),
        ],
        _ => Vec::new(),
    }
}

/// The plan in a round's output: from the whole stdout (a CLI envelope, a
/// JSON stream, or a plain answer), else from its messages. The error is
/// the most telling one: a broken plan over no plan at all.
pub(crate) fn read_answer(
    stdout: &str,
    messages: &[String],
) -> Result<planner::PlanAnswer, planner::AnswerError> {
    let first = match planner::extract(stdout) {
        Ok(answer) => return Ok(answer),
        Err(e) => e,
    };
    match planner::extract(&messages.join("\n\n")) {
        Ok(answer) => Ok(answer),
        Err(e) if first == planner::AnswerError::NoPlan => Err(e),
        Err(_) => Err(first),
    }
}

/// What the user is shown of a refused round: its messages, or its stdout.
fn shown_answer(round: &Round) -> String {
    let text = round.messages.join("\n\n");
    if text.trim().is_empty() {
        round.stdout.clone()
    } else {
        text
    }
}

/// `text`, cut at [`ANSWER_CAP`] bytes (on a character boundary) with a note.
pub(crate) fn cap(text: &str) -> String {
    if text.len() <= ANSWER_CAP {
        return text.to_owned();
    }
    let mut end = ANSWER_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[... {} more bytes cut]",
        &text[..end],
        text.len() - end
    )
}

/// The distinct roles of the plan, in plan order.
pub(crate) fn roles_of(tasks: &[Task]) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for role in tasks.iter().filter_map(|t| t.spec.role.as_deref()) {
        if !roles.iter().any(|r| r == role) {
            roles.push(role.to_owned());
        }
    }
    roles
}

fn list_paths(paths: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut shown: Vec<String> = paths.iter().take(SHOWN).map(|p| format!("`{p}`")).collect();
    if paths.len() > SHOWN {
        shown.push(format!("{} more", paths.len() - SHOWN));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Format;

    const PLAN: &str = r#"{"tasks":[{"id":"a","title":"A","prompt":"p","agent":"sim"}]}"#;

    #[test]
    fn the_answer_is_read_from_stdout_or_else_from_the_messages() {
        assert_eq!(read_answer(PLAN, &[]).unwrap().tasks[0].id, "a");
        let prose = format!("Here it is:\n```json\n{PLAN}\n```\n");
        let stream = "{\"type\":\"system\"}\nnot json at all\n";
        let from_messages = read_answer(stream, &[prose]).unwrap();
        assert_eq!(from_messages.tasks[0].id, "a");
    }

    #[test]
    fn a_broken_plan_is_reported_over_no_plan() {
        let err = read_answer("```json\n{\"tasks\": [\n```\n", &["hello".into()]).unwrap_err();
        assert!(matches!(err, planner::AnswerError::Syntax { .. }), "{err}");
        let err = read_answer("nothing here", &["```json\n{oops\n```".into()]).unwrap_err();
        assert!(matches!(err, planner::AnswerError::Syntax { .. }), "{err}");
    }

    #[test]
    fn structured_output_options_per_format() {
        let file = Path::new("/f/scratch/plan-schema.json");
        let claude = structured_args(Format::Claude, file);
        assert_eq!(claude[0], "--json-schema");
        let schema: serde_json::Value = serde_json::from_str(&claude[1]).unwrap();
        assert_eq!(schema, planner::schema());
        assert_eq!(
            structured_args(Format::Codex, file),
            ["--output-schema", "/f/scratch/plan-schema.json"]
        );
        assert!(structured_args(Format::Gemini, file).is_empty());
        assert!(structured_args(Format::Text, file).is_empty());
    }

    #[test]
    fn a_long_answer_is_capped_on_a_character_boundary() {
        let long = "é".repeat(ANSWER_CAP);
        let capped = cap(&long);
        assert!(capped.len() < ANSWER_CAP + 40);
        assert!(capped.ends_with("more bytes cut]"));
        assert_eq!(cap("short"), "short");
    }
}
