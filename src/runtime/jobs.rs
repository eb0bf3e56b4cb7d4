//! The jobs the engine spawns for effects: agent runs, gates, merges and
//! worktree removals. Each reports back to the engine loop over its channel.

use std::time::Duration;

use tokio::sync::mpsc;

use super::Msg;
use super::agent_run::{AgentRun, Previous, Reset, Resume};
use super::engine::Engine;
use super::gate::Gate;
use crate::core::{
    AgentResult, Command, CommandError, ConflictChange, ConflictFile, GateResult, MergeBlock,
    MergeResult, Report, StartRequest, Status, TaskId, UpdateResult, Workspace,
};
use crate::git;
use crate::store::StoreError;

impl Engine {
    fn fail_start(&self, request: &StartRequest, message: String) {
        let result = AgentResult::Failed {
            class: crate::agent::FailureClass::Crash,
            message,
        };
        let report = Report::AgentExited {
            task: request.task.clone(),
            attempt: request.attempt,
            result,
        };
        let _ = self.tx.send(Msg::Report(report));
    }

    pub(super) fn start_agent(&mut self, mut request: StartRequest) {
        if self.supervised() {
            // A resumed session gets only its new instructions instead.
            request.prompt = crate::core::supervisor::reporting::with_reporting(&request.prompt);
        }
        let Some(mut profile) = self.config.agents.get(&request.agent).cloned() else {
            let message = format!(
                "agent profile `{0}` is not defined in fleet.toml (add [agents.{0}], or reassign the task: r)",
                request.agent
            );
            return self.fail_start(&request, message);
        };
        request.prompt = self.with_team(&request, &profile);
        self.apply_role(&mut request, &mut profile);
        let reset = match self.reset_for(request.task.as_str(), &request.workspace) {
            Ok(reset) => reset,
            Err(e) => return self.fail_start(&request, e.to_string()),
        };
        let previous = request.continues.as_ref().and_then(|c| {
            let rec = self
                .store
                .attempt(request.task.as_str(), c.attempt)
                .ok()??;
            let resume = match (&c.resume_prompt, &rec.session_id) {
                (Some(prompt), Some(session))
                    if profile.can_resume() && rec.agent == request.agent =>
                {
                    // Usage already counted on this session (Codex reports thread totals).
                    let attempts = self
                        .store
                        .attempts(request.task.as_str())
                        .unwrap_or_default();
                    let baseline = super::session_baseline(&attempts, session, request.attempt);
                    Some(Resume {
                        session: session.clone(),
                        prompt: prompt.clone(),
                        baseline,
                    })
                }
                _ => None,
            };
            Some(Previous {
                attempt: c.attempt,
                agent: rec.agent,
                transcript: self.fleet_dir.join(rec.transcript),
                resume,
            })
        });
        let title = self
            .scheduler
            .task(request.task.as_str())
            .map(|t| t.spec.title.clone())
            .unwrap_or_default();
        let (control_tx, control) = mpsc::unbounded_channel();
        self.agents.insert(request.task.clone(), control_tx);
        let team = self.team.link(&request.task, request.attempt);
        let exclude = profile.excludes();
        let split = self.split_source(&request.task);
        let run = AgentRun {
            root: self.root.clone(),
            fleet_dir: self.fleet_dir.clone(),
            target: self.target.clone(),
            request,
            title,
            profile,
            reset,
            previous,
            split,
            stop_grace: Duration::from_secs_f64(self.config.fleet.stop_grace_secs),
            transcript_max_bytes: self.config.transcript_max_bytes(),
            tx: self.tx.clone(),
            control,
            team,
            stall_after: self.stall_after(),
            ledger: crate::core::supervisor::ledger::Ledger::new(crate::store::now_ms()),
        };
        let root = self.root.clone();
        self.jobs.spawn(async move {
            // Before the agent starts, so its own `git add -A` skips its state files too.
            let excluded =
                tokio::task::spawn_blocking(move || git::exclude_patterns(&root, &exclude)).await;
            if let Ok(Err(e)) = excluded {
                tracing::warn!("{e} (the commit still leaves them out)");
            }
            run.run().await;
        });
    }

    /// What preparing an attempt does to the worktree: a rollback undoes the
    /// interrupted attempt back to its recorded base; an attempt that was
    /// never recorded (killed while preparing) had not run its agent, so what
    /// it was started with applies instead.
    fn reset_for(&self, task: &str, workspace: &Workspace) -> Result<Reset, StoreError> {
        let mut ws = workspace;
        loop {
            match ws {
                Workspace::Continue => return Ok(Reset::Keep),
                Workspace::Fresh { rejected } => {
                    // The saved work is the rejected attempt's, by its agent.
                    let rejected = match rejected {
                        Some(n) => self.store.attempt(task, *n)?.map(|r| (*n, r.agent)),
                        None => None,
                    };
                    return Ok(Reset::ToTarget { rejected });
                }
                Workspace::Rollback { attempt, otherwise } => {
                    match self.store.attempt(task, *attempt)?.and_then(|r| r.base) {
                        Some(base) => {
                            let attempt = *attempt;
                            return Ok(Reset::ToBase { attempt, base });
                        }
                        None => ws = otherwise,
                    }
                }
            }
        }
    }

    pub(super) fn start_gate(&mut self, task: TaskId, attempt: u32) {
        let fail = |tx: &mpsc::UnboundedSender<Msg>, message: String| {
            let result = GateResult::Error { message };
            let _ = tx.send(Msg::Report(Report::Gated {
                task: task.clone(),
                attempt,
                result,
            }));
        };
        let record = match self.store.attempt(task.as_str(), attempt) {
            Ok(Some(r)) => r,
            Ok(None) => {
                return fail(
                    &self.tx,
                    format!("attempt {attempt} of `{task}` is not in the database"),
                );
            }
            Err(e) => return fail(&self.tx, e.to_string()),
        };
        let Some(base) = record.base.clone() else {
            return fail(
                &self.tx,
                format!("attempt {attempt} of `{task}` has no recorded base commit"),
            );
        };
        let Some(t) = self.scheduler.task(task.as_str()) else {
            return;
        };
        let exclude = self
            .config
            .agents
            .get(&record.agent)
            .map(crate::config::AgentProfile::excludes)
            .unwrap_or_default();
        let gate = Gate {
            root: self.root.clone(),
            fleet_dir: self.fleet_dir.clone(),
            task: task.clone(),
            attempt,
            agent: record.agent,
            title: t.spec.title.clone(),
            base,
            commands: self.config.verify_commands(&t.spec).to_vec(),
            exclude,
            timeout: self.config.verify.timeout_secs.map(Duration::from_secs),
            transcript: self.fleet_dir.join(record.transcript),
            tx: self.tx.clone(),
            shutdown: self.shutdown.subscribe(),
            read_only: self
                .config
                .role(&t.spec)
                .filter(|r| !r.may_change_files)
                .map(|r| r.name.clone()),
        };
        self.jobs.spawn(gate.run());
    }

    /// The agent (the attempt's, else the task's) and the title that
    /// attribute a commit made for `attempt` of `task`: a merge, an update.
    pub(super) fn attribution_of(&self, task: &TaskId, attempt: u32) -> (String, String) {
        let t = self.scheduler.task(task.as_str());
        let agent = match self.store.attempt(task.as_str(), attempt) {
            Ok(Some(r)) => r.agent,
            _ => t.map(|t| t.spec.agent.clone()).unwrap_or_default(),
        };
        (agent, t.map(|t| t.spec.title.clone()).unwrap_or_default())
    }

    pub(super) fn start_merge(&mut self, task: TaskId, attempt: u32) {
        let (agent, title) = self.attribution_of(&task, attempt);
        let style = self
            .scheduler
            .task(task.as_str())
            .map(|t| self.config.merge_style(&t.spec))
            .unwrap_or_default();
        let (root, target, tx) = (self.root.clone(), self.target.clone(), self.tx.clone());
        self.jobs.spawn(async move {
            let id = task.to_string();
            let merged = tokio::task::spawn_blocking(move || {
                let attr = git::Attribution {
                    task: &id,
                    agent: &agent,
                    attempt,
                    title: &title,
                };
                git::merge_task_with(&root, &target, &attr, style)
            })
            .await;
            let result = merge_result(merged);
            let _ = tx.send(Msg::Report(Report::Merged { task, result }));
        });
    }

    /// Brings the task's branch onto the target's tip (`git::update_task`)
    /// in a blocking job, attributed to `attempt`, and reports
    /// [`Report::Updated`].
    pub(super) fn start_update(&mut self, task: TaskId, attempt: u32) {
        let (agent, title) = self.attribution_of(&task, attempt);
        let (root, target, tx) = (self.root.clone(), self.target.clone(), self.tx.clone());
        self.jobs.spawn(async move {
            let id = task.to_string();
            let updated = tokio::task::spawn_blocking(move || {
                let attr = git::Attribution {
                    task: &id,
                    agent: &agent,
                    attempt,
                    title: &title,
                };
                git::update_task(&root, &target, &attr)
            })
            .await;
            let result = match updated {
                Ok(Ok(outcome)) => update_result(outcome),
                Ok(Err(e)) => UpdateResult::Error {
                    message: e.to_string(),
                },
                Err(e) => UpdateResult::Error {
                    message: e.to_string(),
                },
            };
            let report = Report::Updated {
                task,
                attempt,
                result,
            };
            let _ = tx.send(Msg::Report(report));
        });
    }

    /// After an update: the attempt's work now stands on the target tip it
    /// was updated onto, so its gate (after a clean update or the user's
    /// resolution) commits on that tip. Called before the scheduler sees
    /// the report.
    pub(super) fn record_update_base(&mut self, report: &Report) {
        let Report::Updated {
            task,
            attempt,
            result: UpdateResult::Clean { onto, .. } | UpdateResult::Conflict { onto, .. },
        } = report
        else {
            return;
        };
        if self.scheduler.task(task.as_str()).map(|t| &t.status)
            != Some(&Status::Updating { attempt: *attempt })
        {
            return; // stale
        }
        let r = self.store.set_attempt_base(task.as_str(), *attempt, onto);
        self.check(r);
    }

    /// Refuses [`Command::Resolved`] while a conflicting file of the task
    /// still holds a conflict marker line; other commands pass.
    pub(super) fn check_resolution(&self, command: &Command) -> Result<(), CommandError> {
        let Command::Resolved { task } = command else {
            return Ok(());
        };
        let Some(Status::Review {
            block: Some(MergeBlock::UpdateConflict { files }),
            ..
        }) = self.scheduler.task(task.as_str()).map(|t| &t.status)
        else {
            return Ok(()); // the scheduler says what is wrong
        };
        match git::files_with_markers(&self.root, task.as_str(), files) {
            Ok(left) if left.is_empty() => Ok(()),
            Ok(left) => Err(CommandError::Invalid(format!(
                "conflict markers (<<<<<<< or >>>>>>> lines) remain in {} of `{task}`: resolve them first (e opens your editor)",
                left.join(", ")
            ))),
            Err(e) => Err(CommandError::Invalid(format!(
                "cannot check the resolution of `{task}`: {e}"
            ))),
        }
    }

    /// Removes a finished task's worktree; a dropped task's work (its
    /// branch and uncommitted changes) is saved first, and when that fails
    /// the worktree stays.
    pub(super) fn remove_worktree(&mut self, task: TaskId) {
        let save = self.dropped_work(&task);
        self.removal(task, move |root, target| match &save {
            Some(save) => {
                let attr = save.owner.attribution();
                git::save_task_work(root, target, save.save_as, &attr, &save.owner.exclude)
            }
            None => Ok(None),
        });
    }

    /// Removes `task`'s worktree in a blocking job after `save` kept its
    /// work (given the root and the target); reports `WorktreeRemoved`.
    pub(super) fn removal(
        &mut self,
        task: TaskId,
        save: impl FnOnce(&std::path::Path, &str) -> Result<Option<git::SavedWork>, git::GitError>
        + Send
        + 'static,
    ) {
        self.removals += 1;
        let (root, target, tx) = (self.root.clone(), self.target.clone(), self.tx.clone());
        self.jobs.spawn(async move {
            let t = task.clone();
            let r = tokio::task::spawn_blocking(move || {
                if let Some(saved) = save(&root, &target)? {
                    tracing::info!(
                        task = t.as_str(),
                        "kept the work of `{t}` under {}",
                        saved.saved_as
                    );
                }
                if let Err(e) = git::remove_review_scratch(&root, t.as_str()) {
                    tracing::warn!(
                        task = t.as_str(),
                        "cannot remove the reviewer's scratch worktree: {e}"
                    );
                }
                git::remove_worktree(&root, t.as_str())
            })
            .await;
            let error = match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            let _ = tx.send(Msg::WorktreeRemoved { task, error });
        });
    }
}

/// The scheduler's view of what `git::update_task` did.
fn update_result(outcome: git::UpdateOutcome) -> UpdateResult {
    match outcome {
        git::UpdateOutcome::Clean { commit, onto } => UpdateResult::Clean {
            commit: commit.to_string(),
            onto: onto.to_string(),
        },
        git::UpdateOutcome::Conflict { onto, files } => UpdateResult::Conflict {
            onto: onto.to_string(),
            files: files
                .into_iter()
                .map(|f| ConflictFile {
                    path: f.path,
                    changed_by: f
                        .changed_by
                        .into_iter()
                        .map(|c| ConflictChange {
                            commit: c.commit.to_string(),
                            task: c.task,
                            subject: c.subject,
                        })
                        .collect(),
                    target_diff: f.target_diff,
                })
                .collect(),
        },
    }
}

/// What a merge job (a task's or a group's landing) reports.
pub(super) fn merge_result(
    merged: Result<Result<git::MergeOutcome, git::GitError>, tokio::task::JoinError>,
) -> MergeResult {
    match merged {
        Ok(Ok(
            git::MergeOutcome::Merged { commit } | git::MergeOutcome::AlreadyMerged { commit },
        )) => MergeResult::Merged {
            commit: commit.to_string(),
        },
        Ok(Ok(git::MergeOutcome::Conflict { files })) => MergeResult::Conflict { files },
        Ok(Ok(git::MergeOutcome::Refused { files })) => MergeResult::Refused { files },
        Ok(Err(e)) => MergeResult::Error {
            message: e.to_string(),
        },
        Err(e) => MergeResult::Error {
            message: e.to_string(),
        },
    }
}
