//! One consultation of the supervisor's planner: the scratch worktree at the
//! target's tip, the planning prompt, the planner launched like an agent run
//! (its profile's command, parser and containment, `FLEET_TASK=_supervisor`),
//! its answer extracted, validated and routed, and re-asked with the errors
//! (resuming its session where the profile can) up to `reask_limit` times.
//! Every round goes into `runs/_supervisor/<consult>.jsonl`; the result is a
//! [`ConsultResult`]. Nothing here touches the plan: the scheduler does.
//!
//! `live.rs` runs one planner process (streamed, stopped on a timeout, the
//! budget or shutdown); `answer.rs` reads the answer out of its output.

pub(crate) mod answer;
pub(crate) mod live;

pub(crate) use live::readable;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Msg;
use super::agent_run::launch;
use crate::agent::SessionBaseline;
use crate::config::{AgentProfile, StructuredOutput, SupervisorSection};
use crate::core::planner::{self, PlanProblem, RepoSummary};
use crate::core::supervisor::routing;
use crate::core::{ConsultResult, Spend, Task};
use crate::git;
use crate::store::transcript::{self, Header, Writer};
use answer::{cap, list_paths, read_answer, roles_of, shown_answer, structured_args};

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
    /// The roles of fleet.toml (built-in and `[roles.NAME]`).
    pub roles: Vec<String>,
    pub goal: String,
    pub situation: Option<String>,
    pub verify: Vec<String>,
    /// What the supervisor spent in earlier consultations.
    pub spent_before: Spend,
    pub stop_grace: Duration,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub shutdown: watch::Receiver<bool>,
}

/// What one round of a headless run came to.
#[derive(Default)]
pub(crate) struct Round {
    /// Why it failed (could not start, error, timeout, budget, stopped).
    pub(crate) failure: Option<String>,
    pub(crate) stdout: String,
    /// Its assistant messages and final result, in order.
    pub(crate) messages: Vec<String>,
    pub(crate) session: Option<String>,
    pub(crate) input_tokens: u64,
    pub(crate) output_tokens: u64,
    pub(crate) usd: f64,
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
        let roles = roles_of(&self.roles, &self.tasks);
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
        let roles = roles_of(&self.roles, &self.tasks);
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
        let home = self.home();
        let mut l = live::describe_launch(self, round, prompt, cwd, resume, home.as_deref());
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
