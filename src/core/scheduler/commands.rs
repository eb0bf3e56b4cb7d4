//! User commands: pause, resume, reassign, edit, add, drop, retry and the review decisions.

use super::{AfterStop, Out, Scheduler, Task};
use crate::core::feedback::{Feedback, FeedbackKind};
use crate::core::messages::{Actor, Command, CommandError, Effect, Event, Signal, Workspace};
use crate::core::outcome::AttemptOutcome;
use crate::core::plan::find_cycles;
use crate::core::status::Status;
use crate::core::task::{TaskId, TaskPatch, TaskSpec};
use crate::core::verbs::Verb;

impl Scheduler {
    /// Applies a user command. On error nothing has changed.
    pub fn command(&mut self, command: Command) -> Result<Vec<Effect>, CommandError> {
        let mut out = Out::default();
        let record = user_plan_change(&command);
        let decided = decided_task(&command);
        self.apply(command, &mut out)?;
        if let Some(event) = record {
            out.record(Actor::User, event);
        }
        if let Some(task) = decided {
            self.answered(&task, &mut out);
            self.reset_review_rounds(&task, &mut out);
        }
        self.pump(&mut out);
        Ok(out.fx)
    }

    /// Applies one command without starting anything; on error `out` may hold
    /// partial effects, so callers discard it (see [`Command::Batch`]).
    fn apply(&mut self, command: Command, out: &mut Out) -> Result<(), CommandError> {
        let mut sub = Out::default();
        let result = self.apply_one(command, &mut sub);
        out.fx.append(&mut sub.fx);
        result
    }

    pub(super) fn apply_one(
        &mut self,
        command: Command,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        match command {
            Command::AddContext { .. }
            | Command::EditContext { .. }
            | Command::RetireContext { .. } => self.context_command(command, out)?,
            Command::Batch { commands } => {
                let before = self.clone();
                for (i, command) in commands.into_iter().enumerate() {
                    let what = command.describe();
                    if let Err(e) = self.apply(command, out) {
                        *self = before;
                        return Err(CommandError::Invalid(format!(
                            "change {} ({what}): {e}; nothing was applied",
                            i + 1
                        )));
                    }
                }
            }
            Command::PauseTask { task } => self.pause_task(&task, out)?,
            Command::ResumeTask { task } => self.resume_task(&task, out)?,
            Command::PauseFleet => {
                if !self.fleet.paused {
                    self.pause_fleet(Actor::User, "paused by the user".into(), out);
                }
            }
            Command::ResumeFleet => {
                if let Some(why) = self.fleet_over_budget() {
                    return Err(CommandError::Invalid(why));
                }
                self.paused_for_budget = false;
                self.resume_fleet(Actor::User, out);
            }
            Command::SetBudget { task, usd, tokens } => self.set_budget(task, usd, tokens, out)?,
            Command::ReviveAgent { agent } => {
                if !self.fleet.agents.contains(&agent) {
                    return Err(CommandError::UnknownAgent(agent));
                }
                let marked = self.fleet.unusable.remove(&agent).is_some();
                for task in &mut self.fleet.tasks {
                    if task.spec.agent == agent && task.unusable_agent.take().is_some() {
                        out.fx.push(Effect::SaveTask {
                            task: task.spec.id.clone(),
                        });
                    }
                }
                if marked {
                    out.record(Actor::User, Event::AgentRevived { agent });
                }
            }
            Command::Plan { .. }
            | Command::ConfirmProposal { .. }
            | Command::DiscardProposal { .. }
            | Command::ProposalFeedback { .. } => self.supervise_command(command, out)?,
            Command::Nudge { task, message } => self.nudge(&task, message, out)?,
            Command::Restart { task } => self.restart(&task, out)?,
            Command::Ask { task, question } => self.ask(&task, question, out)?,
            Command::Reassign { task, agent } => self.reassign(&task, agent, out)?,
            Command::Edit { task, patch } => self.edit(&task, patch, out)?,
            Command::Add { spec } => self.add(spec, out)?,
            Command::Drop { task } => self.drop_task(&task, out)?,
            Command::FanOut { task, agents } => self.fan_out_command(&task, agents, out)?,
            Command::Pick { task, candidate } => self.pick(&task, &candidate, out)?,
            Command::Retry { task } => {
                let i = self.require(&task, Verb::Retry)?;
                if self.fleet.tasks[i].status == Status::Comparing {
                    return self.retry_fan_out(i, out);
                }
                self.fleet.tasks[i].tries = 0;
                self.set_status(i, Status::Queued { held: false }, Actor::User, out);
            }
            Command::Approve { task } => {
                let (i, attempt) = self.expect_review(&task, Verb::Approve)?;
                self.refuse_unresolved(i)?;
                if !self.approve_group(i, Actor::User, out) {
                    self.set_status(i, Status::Merging { attempt }, Actor::User, out);
                }
            }
            Command::RequestChanges { task, feedback } => {
                if feedback.trim().is_empty() {
                    return Err(CommandError::Invalid(
                        "requesting changes needs feedback for the agent; it was empty".into(),
                    ));
                }
                let (i, attempt) = self.expect_review(&task, Verb::RequestChanges)?;
                let t = &mut self.fleet.tasks[i];
                t.tries = 0;
                t.feedback = Some(Feedback {
                    attempt,
                    kind: FeedbackKind::Reviewer,
                    text: feedback.trim().to_owned(),
                });
                out.record(
                    Actor::User,
                    Event::ChangesRequested {
                        task: task.clone(),
                        feedback,
                    },
                );
                t.workspace = Workspace::Continue;
                self.set_status(i, Status::Queued { held: false }, Actor::User, out);
                self.regroup_others(i, out);
            }
            Command::Update { task } => self.update_task(&task, out)?,
            Command::Resolved { task } => self.resolved(&task, out)?,
            Command::Reject { task } => {
                let (i, attempt) = self.expect_review(&task, Verb::Reject)?;
                let t = &mut self.fleet.tasks[i];
                t.feedback = None;
                t.verified = None;
                t.workspace = Workspace::Fresh {
                    rejected: Some(attempt),
                };
                out.ended(&task, attempt, AttemptOutcome::Rejected, None);
                let reason =
                    "rejected by the reviewer (a retry starts over from the target)".into();
                self.set_status(i, Status::Failed { reason }, Actor::User, out);
                self.regroup_others(i, out);
            }
        }
        Ok(())
    }

    /// Pauses the fleet: running agents are stopped (SIGSTOP), nothing starts.
    pub(super) fn pause_fleet(&mut self, actor: Actor, reason: String, out: &mut Out) {
        for i in 0..self.fleet.tasks.len() {
            if matches!(self.fleet.tasks[i].status, Status::Running { .. }) {
                self.signal(i, Signal::Pause, out);
            }
        }
        self.set_fleet_paused(true, actor, reason, out);
    }

    /// Resumes a paused fleet (agents the user paused stay paused).
    pub(super) fn resume_fleet(&mut self, actor: Actor, out: &mut Out) {
        if !self.fleet.paused {
            return;
        }
        for i in 0..self.fleet.tasks.len() {
            if matches!(self.fleet.tasks[i].status, Status::Running { .. }) {
                self.signal(i, Signal::Resume, out);
            }
        }
        self.set_fleet_paused(false, actor, String::new(), out);
    }

    /// The index of `task` if its status allows `verb` ([`Task::allows`]).
    pub(super) fn require(&self, task: &TaskId, verb: Verb) -> Result<usize, CommandError> {
        let i = self.find(task)?;
        self.fleet.tasks[i].allows(verb)?;
        Ok(i)
    }

    /// The index and attempt of `task` if it is in Review.
    pub(super) fn expect_review(
        &self,
        task: &TaskId,
        verb: Verb,
    ) -> Result<(usize, u32), CommandError> {
        let i = self.require(task, verb)?;
        match self.fleet.tasks[i].status {
            Status::Review { attempt, .. } => Ok((i, attempt)),
            _ => Err(CommandError::Invalid(format!(
                "task `{task}` is not in review"
            ))),
        }
    }

    pub(super) fn find(&self, task: &TaskId) -> Result<usize, CommandError> {
        self.fleet
            .index
            .get(task)
            .copied()
            .ok_or_else(|| CommandError::UnknownTask(task.to_string()))
    }

    fn pause_task(&mut self, task: &TaskId, out: &mut Out) -> Result<(), CommandError> {
        let i = self.require(task, Verb::Pause)?;
        match self.fleet.tasks[i].status {
            Status::Running { attempt } => {
                self.signal(i, Signal::Pause, out);
                self.set_status(i, Status::Paused { attempt }, Actor::User, out);
            }
            Status::Queued { held: false } => {
                self.set_status(i, Status::Queued { held: true }, Actor::User, out)
            }
            _ => {} // already paused or held
        }
        Ok(())
    }

    fn resume_task(&mut self, task: &TaskId, out: &mut Out) -> Result<(), CommandError> {
        let i = self.require(task, Verb::Resume)?;
        if self.fleet.tasks[i].over_budget.is_some()
            && let Some(why) = self.task_over_budget(i)
        {
            return Err(CommandError::Invalid(format!("`{task}` is {why}")));
        }
        match self.fleet.tasks[i].status {
            Status::Paused { attempt } => {
                if !self.fleet.paused {
                    self.signal(i, Signal::Resume, out);
                }
                self.fleet.tasks[i].over_budget = None;
                self.set_status(i, Status::Running { attempt }, Actor::User, out);
            }
            Status::Queued { held: true } => {
                self.set_status(i, Status::Queued { held: false }, Actor::User, out)
            }
            _ => {} // not paused: nothing to do
        }
        Ok(())
    }

    fn reassign(
        &mut self,
        task: &TaskId,
        agent: String,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        if !self.fleet.agents.contains(&agent) {
            return Err(CommandError::UnknownAgent(agent));
        }
        let i = self.require(task, Verb::Reassign)?;
        let from = std::mem::replace(&mut self.fleet.tasks[i].spec.agent, agent.clone());
        if from == agent {
            return Ok(());
        }
        out.record(
            Actor::User,
            Event::Reassigned {
                task: task.clone(),
                from: from.clone(),
                to: agent,
            },
        );
        out.fx.push(Effect::SaveTask { task: task.clone() });
        let t = &mut self.fleet.tasks[i];
        if t.attempts > 0 && !matches!(t.status, Status::Review { .. }) {
            t.feedback = Some(Feedback {
                attempt: t.attempts,
                kind: FeedbackKind::Reassigned { from },
                text: String::new(),
            });
        }
        match t.status {
            Status::Running { .. } | Status::Paused { .. } => {
                t.after_stop.get_or_insert(AfterStop::Requeue);
                self.signal(i, Signal::Stop, out);
            }
            // Waiting in review: its diff stays approvable; the new agent
            // makes the next attempt (request-changes, or a retry after a reject).
            Status::Review { .. } => {}
            Status::Failed { .. } => {
                t.tries = 0;
                self.set_status(i, Status::Queued { held: false }, Actor::User, out);
            }
            _ => {}
        }
        Ok(())
    }

    fn edit(&mut self, task: &TaskId, patch: TaskPatch, out: &mut Out) -> Result<(), CommandError> {
        let i = self.require(task, Verb::Edit)?;
        let mut spec = self.fleet.tasks[i].spec.clone();
        let TaskPatch {
            title,
            prompt,
            deps,
            agent,
            role,
            verify,
            priority,
            auto_approve,
            budget_usd,
            budget_tokens,
            merge_style,
        } = patch;
        if let Some(v) = title {
            spec.title = v;
        }
        if let Some(v) = prompt {
            spec.prompt = v;
        }
        if let Some(v) = deps {
            spec.deps = v;
        }
        if let Some(v) = agent {
            spec.agent = v;
        }
        if let Some(v) = role {
            spec.role = v;
        }
        if let Some(v) = verify {
            spec.verify = v;
        }
        if let Some(v) = priority {
            spec.priority = v;
        }
        if let Some(v) = auto_approve {
            spec.auto_approve = v;
        }
        if let Some(v) = budget_usd {
            spec.budget_usd = v;
        }
        if let Some(v) = budget_tokens {
            spec.budget_tokens = v;
        }
        if let Some(v) = merge_style {
            spec.merge_style = v;
        }
        self.check_spec(&spec)?;
        self.check_acyclic(Some(&spec))?;
        self.fleet.tasks[i].spec = spec;
        out.fx.push(Effect::SaveTask { task: task.clone() });
        out.record(Actor::User, Event::TaskEdited { task: task.clone() });
        Ok(())
    }

    fn add(&mut self, spec: TaskSpec, out: &mut Out) -> Result<(), CommandError> {
        if self.fleet.index.contains_key(&spec.id) {
            return Err(CommandError::Invalid(format!(
                "a task `{}` already exists",
                spec.id
            )));
        }
        self.check_spec(&spec)?;
        let id = spec.id.clone();
        self.fleet.index.insert(id.clone(), self.fleet.tasks.len());
        self.fleet.tasks.push(Task::new(spec));
        out.fx.push(Effect::SaveTask { task: id.clone() });
        out.record(Actor::User, Event::TaskAdded { task: id });
        Ok(())
    }

    fn drop_task(&mut self, task: &TaskId, out: &mut Out) -> Result<(), CommandError> {
        let i = self.require(task, Verb::Drop)?;
        let dependents: Vec<&str> = self
            .fleet
            .dependents(task)
            .map(|t| t.spec.id.as_str())
            .collect();
        if !dependents.is_empty() {
            return Err(CommandError::Invalid(format!(
                "cannot drop `{task}`: {} depend(s) on it; drop them or edit their dependencies first",
                dependents.join(", ")
            )));
        }
        if matches!(
            self.fleet.tasks[i].status,
            Status::FannedOut | Status::Comparing
        ) {
            self.drop_candidates(task, out)?;
        }
        self.drop_now(i, out);
        Ok(())
    }

    /// Drops task `i`: a running agent is stopped first.
    pub(super) fn drop_now(&mut self, i: usize, out: &mut Out) {
        if self.fleet.tasks[i].status.has_agent() {
            self.fleet.tasks[i].after_stop = Some(AfterStop::Drop);
            let task = self.fleet.tasks[i].spec.id.clone();
            out.fx.push(Effect::SaveTask { task });
            self.signal(i, Signal::Stop, out);
        } else {
            self.finish_drop(i, out);
        }
    }

    /// A spec's references must exist: dependencies (not dropped, not itself) and its agent.
    fn check_spec(&self, spec: &TaskSpec) -> Result<(), CommandError> {
        if !self.fleet.agents.contains(&spec.agent) {
            return Err(CommandError::UnknownAgent(spec.agent.clone()));
        }
        if !spec.fanout.is_empty() {
            let known = |a: &str| self.fleet.agents.contains(a);
            crate::core::team::fanout::check_profiles(&spec.fanout, &known)
                .map_err(|e| CommandError::Invalid(format!("task `{}`: {e}", spec.id)))?;
        }
        for dep in &spec.deps {
            if dep == &spec.id {
                return Err(CommandError::Invalid(format!(
                    "task `{dep}` cannot depend on itself"
                )));
            }
            match self
                .fleet
                .index
                .get(dep)
                .map(|&i| &self.fleet.tasks[i].status)
            {
                None => {
                    return Err(CommandError::Invalid(format!(
                        "task `{}` depends on `{dep}`, which is not a task",
                        spec.id
                    )));
                }
                Some(Status::Dropped) => {
                    return Err(CommandError::Invalid(format!(
                        "task `{}` depends on `{dep}`, which was dropped",
                        spec.id
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The graph with `replacement` swapped in for the task of the same id must have no cycle.
    fn check_acyclic(&self, replacement: Option<&TaskSpec>) -> Result<(), CommandError> {
        let graph: Vec<(&TaskId, &[TaskId])> = self
            .fleet
            .tasks
            .iter()
            .map(|t| match replacement {
                Some(r) if r.id == t.spec.id => (&t.spec.id, r.deps.as_slice()),
                _ => (&t.spec.id, t.spec.deps.as_slice()),
            })
            .collect();
        match find_cycles(&graph).into_iter().next() {
            None => Ok(()),
            Some(cycle) => {
                let mut names: Vec<String> = cycle.iter().map(ToString::to_string).collect();
                names.push(names[0].clone());
                Err(CommandError::Invalid(format!(
                    "that would make a dependency cycle: {}",
                    names.join(" -> ")
                )))
            }
        }
    }
}

/// The history entry of a plan change the user made directly (a replan,
/// add, edit, drop, reassign); None for other commands.
fn user_plan_change(command: &Command) -> Option<Event> {
    let changes: Vec<String> = match command {
        Command::Batch { commands } => commands.iter().map(Command::describe).collect(),
        Command::Add { .. }
        | Command::Edit { .. }
        | Command::Drop { .. }
        | Command::Reassign { .. } => vec![command.describe()],
        _ => return None,
    };
    let reason = match command {
        Command::Batch { .. } => "replan".to_owned(),
        other => other.describe(),
    };
    Some(Event::PlanChanged {
        origin: crate::core::supervisor::Origin::User,
        reason,
        proposal: None,
        auto: false,
        changes,
    })
}

/// The task a user decision is about (it answers the supervisor's question).
fn decided_task(command: &Command) -> Option<TaskId> {
    match command {
        Command::Retry { task }
        | Command::Approve { task }
        | Command::RequestChanges { task, .. }
        | Command::Reject { task }
        | Command::Edit { task, .. }
        | Command::Reassign { task, .. }
        | Command::Drop { task }
        | Command::Pick { task, .. } => Some(task.clone()),
        _ => None,
    }
}
