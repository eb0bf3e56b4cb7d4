//! One review by the reviewer agent (`[review]`) of a task's gated work:
//! a detached scratch worktree at the gated commit
//! (`.fleet/scratch/review-<task>`, read-only: whatever the reviewer
//! changes there is discarded with a warning), the review prompt
//! (`core::team::review_prompt`), the reviewer launched like the planner
//! (`planner_run::live`, its profile's command and parser, the structured
//! output option of Claude), its verdict parsed (`core::team::review`) and
//! re-asked once with the exact error (its session resumed where the
//! profile can). Transcript: `runs/<task>/review-<attempt>.<round>.jsonl`.
//! Reports [`Report::Reviewed`](crate::core::Report::Reviewed).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Msg;
use super::agent_run::launch;
use super::planner_run::answer::spend_of;
use super::planner_run::live::{self, Host, note};
use crate::agent::{Format, SessionBaseline};
use crate::config::{AgentProfile, ReviewSection};
use crate::core::messages::ReviewResult;
use crate::core::team::review::{self, ReviewVerdict};
use crate::core::team::review_prompt::{self, PlanLine, ReviewInput};
use crate::core::team::{ContextEntry, ContextStore, context};
use crate::core::{Report, Spend, Task, TaskId};
use crate::git;
use crate::store::transcript::{Header, Stream, Writer};

/// Most characters of the team context in a review prompt.
const CONTEXT_CHARS: usize = 8_000;

/// Everything one review needs, gathered by the engine.
pub(crate) struct ReviewRun {
    pub root: PathBuf,
    pub fleet_dir: PathBuf,
    pub target: String,
    pub task: Task,
    pub attempt: u32,
    pub round: u32,
    /// The gated commit reviewed.
    pub commit: String,
    pub section: ReviewSection,
    pub profile: AgentProfile,
    /// The other tasks of the plan.
    pub plan: Vec<PlanLine>,
    /// The context store's entries.
    pub context: Vec<ContextEntry>,
    pub stop_grace: Duration,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub shutdown: watch::Receiver<bool>,
}

/// The transcript of review `round` of `attempt` of `task`, relative to `.fleet`.
pub fn transcript_path(task: &str, attempt: u32, round: u32) -> PathBuf {
    Path::new("runs")
        .join(task)
        .join(format!("review-{attempt}.{round}.jsonl"))
}

impl ReviewRun {
    /// Runs the review and reports it.
    pub async fn run(self) {
        let result = self.review().await;
        let report = Report::Reviewed {
            task: self.task.spec.id.clone(),
            attempt: self.attempt,
            round: self.round,
            result,
        };
        let _ = self.tx.send(Msg::Report(report));
    }

    async fn review(&self) -> ReviewResult {
        let failed = |message: String, spend: Spend| ReviewResult::Failed { message, spend };
        let (scratch, diff, files) = match self.prepare().await {
            Ok(v) => v,
            Err(message) => return failed(message, Spend::default()),
        };
        let prompt = self.prompt(&diff);
        let path = self.fleet_dir.join(transcript_path(
            self.task.spec.id.as_str(),
            self.attempt,
            self.round,
        ));
        let mut log = match self.open_transcript(&path, &scratch.path, &prompt) {
            Ok(w) => w,
            Err(message) => return failed(message, Spend::default()),
        };
        let result = self.rounds(&prompt, &scratch, &files, &mut log).await;
        let _ = log.finish();
        result
    }

    /// The first answer, and one re-ask with the exact error.
    async fn rounds(
        &self,
        prompt: &str,
        scratch: &git::Scratch,
        files: &[String],
        log: &mut Writer,
    ) -> ReviewResult {
        let mut spend = Spend::default();
        let mut ask = prompt.to_owned();
        let mut session: Option<(String, SessionBaseline)> = None;
        let mut error = String::new();
        for n in 1..=2 {
            let round =
                live::round(self, n, &ask, session.as_ref(), &scratch.path, log, spend).await;
            spend = spend + spend_of(&round);
            self.discard(scratch, log).await;
            if let Some(message) = round.failure {
                return ReviewResult::Failed { message, spend };
            }
            match self.verdict(&round.stdout, &round.messages, files) {
                Ok(verdict) => return ReviewResult::Verdict { verdict, spend },
                Err(e) => error = e,
            }
            if n == 2 {
                break;
            }
            note(self, log, &format!("asking the reviewer again: {error}"));
            let reask = review_prompt::reask_prompt(&error);
            match round.session.filter(|_| self.profile.can_resume()) {
                Some(id) => {
                    let baseline = SessionBaseline {
                        input_tokens: round.input_tokens,
                        output_tokens: round.output_tokens,
                    };
                    session = Some((id, baseline));
                    ask = reask;
                }
                None => ask = format!("{prompt}\n\n{reask}"),
            }
        }
        ReviewResult::Failed {
            message: format!("the reviewer gave no valid verdict, also when asked again: {error}"),
            spend,
        }
    }

    /// The verdict of a round: Claude's `structured_output`, else the last
    /// message, else all of them.
    fn verdict(
        &self,
        stdout: &str,
        messages: &[String],
        files: &[String],
    ) -> Result<ReviewVerdict, String> {
        let structured = stdout.lines().rev().find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            (v["type"] == "result" && v["structured_output"].is_object())
                .then(|| v["structured_output"].to_string())
        });
        let candidates = structured
            .into_iter()
            .chain(messages.last().cloned())
            .chain(std::iter::once(messages.join("\n\n")));
        let mut first_error = None;
        for text in candidates {
            match review::parse_verdict(&text, files) {
                Ok(answer) => {
                    return Ok(answer.into_verdict(self.attempt, self.round, &self.section.agent));
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| "the reviewer said nothing".into()))
    }

    /// The scratch worktree at the gated commit, the diff and its files.
    async fn prepare(&self) -> Result<(git::Scratch, String, Vec<String>), String> {
        let (root, fleet_dir, target) = (
            self.root.clone(),
            self.fleet_dir.clone(),
            self.target.clone(),
        );
        let (task, commit) = (self.task.spec.id.to_string(), self.commit.clone());
        let prepared = tokio::task::spawn_blocking(move || {
            let dir = fleet_dir.join("scratch");
            crate::store::private::create_dir_private(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let oid = git2::Oid::from_str(&commit)
                .map_err(|e| format!("the gated commit `{commit}` is not a commit id: {e}"))?;
            let scratch = git::prepare_review_scratch(&root, &task, oid)
                .map_err(|e| format!("cannot prepare the reviewer's scratch worktree: {e}"))?;
            let (diff, files) = git::review_diff(&root, &commit, &target)
                .map_err(|e| format!("cannot read the diff of `{task}` for the reviewer: {e}"))?;
            Ok::<_, String>((scratch, diff, files))
        })
        .await;
        prepared.unwrap_or_else(|e| Err(format!("cannot prepare the review: {e}")))
    }

    fn prompt(&self, diff: &str) -> String {
        let spec = &self.task.spec;
        let store = ContextStore {
            entries: self.context.clone(),
        };
        let entries = store.in_scope(spec);
        review_prompt::review_prompt(&ReviewInput {
            task: spec.id.as_str(),
            title: &spec.title,
            prompt: &spec.prompt,
            role: spec.role.as_deref(),
            acceptance: &spec.acceptance,
            diff,
            diff_chars: self.section.context_chars,
            context: context::prompt_section(&entries, CONTEXT_CHARS),
            plan: &self.plan,
            attempt: self.attempt,
            round: self.round,
            rounds: self.section.rounds,
        })
    }

    fn open_transcript(&self, path: &Path, cwd: &Path, prompt: &str) -> Result<Writer, String> {
        let argv = self.launch(1, prompt, cwd, None);
        let header = Header {
            task: self.task.spec.id.to_string(),
            attempt: self.attempt,
            agent: self.section.agent.clone(),
            format: self.profile.format,
            argv: argv.argv,
            started_ms: crate::store::now_ms(),
        };
        if let Some(dir) = path.parent() {
            crate::store::private::create_dir_private(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        Writer::create(path, &header)
            .map_err(|e| format!("cannot create the transcript {}: {e}", path.display()))
    }

    /// Discards what the reviewer changed in its read-only worktree, with a warning.
    async fn discard(&self, scratch: &git::Scratch, log: &mut Writer) {
        let (path, tip) = (scratch.path.clone(), scratch.tip);
        let changed =
            tokio::task::spawn_blocking(move || git::discard_scratch_changes(&path, tip)).await;
        let warning = match changed {
            Ok(Ok(paths)) if paths.is_empty() => return,
            Ok(Ok(paths)) => format!(
                "the reviewer changed {} in its read-only scratch worktree: discarded",
                paths.join(", ")
            ),
            Ok(Err(e)) => format!("could not reset the reviewer's scratch worktree: {e}"),
            Err(e) => format!("could not reset the reviewer's scratch worktree: {e}"),
        };
        tracing::warn!(task = %self.task.spec.id, "{warning}");
        note(self, log, &warning);
    }
}

impl Host for ReviewRun {
    fn what(&self) -> &'static str {
        "reviewer"
    }
    fn budget_owner(&self) -> &'static str {
        "the review's"
    }
    fn timeout_key(&self) -> &'static str {
        "[review] timeout_secs"
    }
    fn name(&self) -> String {
        format!("_review-{}", self.task.spec.id)
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
        let mut l = live::describe_launch(self, n, prompt, cwd, resume, None);
        if self.profile.format == Format::Claude {
            l.argv.push("--json-schema".into());
            l.argv.push(review::schema().to_string());
        }
        l
    }
    fn over_budget(&self, now: Spend) -> Option<String> {
        let limit = self.section.budget_usd?;
        (now.usd >= limit).then(|| {
            format!(
                "the review spent ${:.2} of ${limit:.2} ([review] budget_usd)",
                now.usd
            )
        })
    }
    fn observe(&self, stream: Stream, line: String) {
        tracing::trace!(task = %self.task.spec.id, ?stream, "{line}");
    }
}

/// The other tasks of the plan, for the coherence check.
pub(crate) fn plan_lines(tasks: &[Task], except: &TaskId) -> Vec<PlanLine> {
    tasks
        .iter()
        .filter(|t| t.id() != except)
        .map(|t| PlanLine {
            id: t.spec.id.to_string(),
            title: t.spec.title.clone(),
            role: t.spec.role.clone(),
            status: t.status.name().to_owned(),
        })
        .collect()
}
