//! The supervisor in the scheduler: consultations (a goal, a task failed
//! for good, a stall, an agent's report, the user's feedback), one at a
//! time with the rest queued; the pending proposals; applying one (by the
//! user's confirmation or by autonomy), every applied change recorded with
//! its origin and reason ([`Event::PlanChanged`]).

use serde::{Deserialize, Serialize};

use super::{Out, Scheduler};
use crate::core::messages::{Actor, Command, CommandError, ConsultResult, Effect, Event, Spend};
use crate::core::plan_diff::{ChangeId, PlanDiff};
use crate::core::status::Status;
use crate::core::supervisor::{Origin, Proposal, ReportKind, Trigger, rules};
use crate::core::task::{TaskId, TaskSpec};

/// Proposals kept waiting at most; older ones are dropped (and said so).
const MAX_PENDING: usize = 8;

/// The supervisor's part of the fleet's state, saved with
/// [`Effect::SaveSupervisor`] so that a restart keeps its proposals and
/// numbering, and asks again what was being asked when it stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SupervisorState {
    /// The last consultation number used (transcripts are numbered by it).
    pub consults: u64,
    /// The last proposal number used.
    pub proposals: u64,
    /// The consultation in flight.
    pub consulting: Option<(u64, Trigger)>,
    /// Triggers waiting for the consultation in flight to end.
    pub queue: Vec<Trigger>,
    /// Proposals waiting for the user, oldest first, each with the change
    /// lines it was shown with (a confirmation of a plan that changed since
    /// is refused and the proposal shown again).
    pub pending: Vec<(Proposal, Vec<String>)>,
    /// What the supervisor's runs have spent.
    pub spent: Spend,
    /// The changes of the last fleet.toml proposal the user discarded: the
    /// same edit is not offered again at every start.
    pub config_dismissed: Vec<String>,
}

impl Scheduler {
    /// The supervisor's state as saved (see [`SupervisorState`]).
    pub fn supervisor_state(&self) -> &SupervisorState {
        &self.sup
    }

    /// Restores the saved supervisor state; call before [`Scheduler::start`].
    pub fn restore_supervisor(&mut self, state: SupervisorState) {
        self.sup = state;
    }

    /// The proposals waiting for the user, oldest first.
    pub fn pending_proposals(&self) -> impl Iterator<Item = &Proposal> {
        self.sup.pending.iter().map(|(p, _)| p)
    }

    /// Offers the edits of fleet.toml as a proposal (origin fleet.toml),
    /// shown at [`Scheduler::start`]: `config` is its tasks now, `seen` its
    /// tasks when the fleet last opened. A task edited there since is an
    /// edit; one taken out of it since is dropped by the usual rules (kept
    /// when running, in review or done); everything else stays as it is,
    /// so changes made in the cockpit or by the supervisor are not undone.
    /// Needs no supervisor.
    pub fn offer_config(&mut self, config: &[TaskSpec], seen: &[TaskSpec]) {
        let now: std::collections::HashMap<&TaskId, &TaskSpec> =
            config.iter().map(|s| (&s.id, s)).collect();
        let before: std::collections::HashMap<&TaskId, &TaskSpec> =
            seen.iter().map(|s| (&s.id, s)).collect();
        let specs: Vec<TaskSpec> = self
            .fleet
            .tasks
            .iter()
            .filter(|t| t.status != Status::Dropped)
            .filter_map(|t| match (now.get(t.id()), before.get(t.id())) {
                (Some(spec), Some(old)) if spec != old => Some((*spec).clone()),
                (None, Some(_)) => None,
                _ => Some(t.spec.clone()),
            })
            .collect();
        let p = Proposal {
            id: self.sup.proposals + 1,
            origin: Origin::Config,
            trigger: Trigger::Config,
            reasoning: Some(
                "fleet.toml differs from the plan; confirm to apply its changes, or discard (x) to keep the plan"
                    .into(),
            ),
            specs,
            actions: Vec::new(),
            warnings: Vec::new(),
        };
        let diff = rules::diff(&self.fleet.tasks, &p);
        let lines: Vec<String> = diff.changes.iter().map(rules::change_line).collect();
        let already = self
            .sup
            .pending
            .iter()
            .any(|(q, l)| q.origin == Origin::Config && *l == lines);
        if diff.is_empty() || lines == self.sup.config_dismissed || already {
            return;
        }
        self.sup.pending.retain(|(q, _)| q.origin != Origin::Config);
        self.sup.proposals += 1;
        self.sup.pending.push((p.clone(), lines));
        self.offer = Some(p);
    }

    /// Drops the waiting proposals that no longer change anything (the plan
    /// became what they propose), saying so.
    fn prune_pending(&mut self, out: &mut Out) {
        let tasks = &self.fleet.tasks;
        let (empty, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.sup.pending)
            .into_iter()
            .partition(|(p, _)| rules::diff(tasks, p).is_empty());
        self.sup.pending = keep;
        for (p, _) in &empty {
            out.record(Actor::Engine, Event::ProposalDiscarded { proposal: p.id });
        }
        if !empty.is_empty() {
            self.save_supervisor(out);
        }
    }

    /// At start: a consultation that was in flight when the engine stopped
    /// is asked again; a fleet.toml proposal is shown; proposals the plan
    /// has caught up with are dropped.
    pub(super) fn resume_supervisor(&mut self, out: &mut Out) {
        self.prune_pending(out);
        if let Some(p) = self.offer.take() {
            out.record(
                Actor::Engine,
                Event::Proposed {
                    proposal: Box::new(p),
                },
            );
            self.save_supervisor(out);
        }
        if let Some((_, trigger)) = self.sup.consulting.take() {
            self.sup.queue.insert(0, trigger);
        }
        self.next_consult(out);
    }

    fn save_supervisor(&self, out: &mut Out) {
        out.fx.push(Effect::SaveSupervisor {
            state: Box::new(self.sup.clone()),
        });
    }

    /// Consults the supervisor about `trigger` now, or after the one in
    /// flight; nothing without a `[supervisor]`. A trigger already waiting
    /// for the same task is not queued twice.
    pub(super) fn consult(&mut self, trigger: Trigger, out: &mut Out) {
        if self.limits.supervisor.is_none() {
            return;
        }
        let same_task = |t: &Trigger| t.task().is_some() && t.task() == trigger.task();
        if self.sup.queue.iter().any(same_task) {
            return;
        }
        self.sup.queue.push(trigger);
        self.next_consult(out);
        self.save_supervisor(out);
    }

    fn next_consult(&mut self, out: &mut Out) {
        if self.sup.consulting.is_some() || self.sup.queue.is_empty() {
            return;
        }
        let trigger = self.sup.queue.remove(0);
        self.sup.consults += 1;
        let consult = self.sup.consults;
        self.sup.consulting = Some((consult, trigger.clone()));
        out.record(
            Actor::Engine,
            Event::Consulting {
                consult,
                trigger: trigger.clone(),
            },
        );
        out.fx.push(Effect::Consult { consult, trigger });
    }

    /// `Plan`, `ConfirmProposal`, `DiscardProposal`, `ProposalFeedback`.
    pub(super) fn supervise_command(
        &mut self,
        command: Command,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let needs_supervisor = matches!(
            command,
            Command::Plan { .. } | Command::ProposalFeedback { .. }
        );
        if needs_supervisor && self.limits.supervisor.is_none() {
            return Err(CommandError::Invalid(
                "no supervisor is configured (add [supervisor] agent = \"PROFILE\" to fleet.toml)"
                    .into(),
            ));
        }
        match command {
            Command::Plan { goal } => {
                if goal.trim().is_empty() {
                    return Err(CommandError::Invalid("the goal is empty".into()));
                }
                let trigger = Trigger::Goal {
                    goal: goal.trim().to_owned(),
                };
                self.consult(trigger, out);
            }
            Command::ConfirmProposal { proposal, off } => self.confirm(proposal, &off, out)?,
            Command::DiscardProposal { proposal } => {
                let (p, lines) = self.take_pending(proposal)?;
                if p.origin == Origin::Config {
                    self.sup.config_dismissed = lines;
                }
                out.record(Actor::User, Event::ProposalDiscarded { proposal });
                self.save_supervisor(out);
            }
            Command::ProposalFeedback { proposal, feedback } => {
                if feedback.trim().is_empty() {
                    return Err(CommandError::Invalid("the feedback is empty".into()));
                }
                let (p, _) = self.take_pending(proposal)?;
                out.record(Actor::User, Event::ProposalDiscarded { proposal });
                let trigger = Trigger::Feedback {
                    on: Box::new(p.trigger),
                    feedback: feedback.trim().to_owned(),
                };
                self.sup.queue.push(trigger);
                self.next_consult(out);
                self.save_supervisor(out);
            }
            other => {
                return Err(CommandError::Invalid(format!(
                    "{} is not a supervisor command",
                    other.describe()
                )));
            }
        }
        Ok(())
    }

    fn take_pending(&mut self, proposal: u64) -> Result<(Proposal, Vec<String>), CommandError> {
        match self.sup.pending.iter().position(|(p, _)| p.id == proposal) {
            Some(at) => Ok(self.sup.pending.remove(at)),
            None => Err(CommandError::Invalid(format!(
                "proposal {proposal} is not waiting (it was applied, discarded or replaced)"
            ))),
        }
    }

    fn confirm(&mut self, proposal: u64, off: &[usize], out: &mut Out) -> Result<(), CommandError> {
        let Some(at) = self.sup.pending.iter().position(|(p, _)| p.id == proposal) else {
            return Err(CommandError::Invalid(format!(
                "proposal {proposal} is not waiting (it was applied, discarded or replaced)"
            )));
        };
        let p = self.sup.pending[at].0.clone();
        let diff = rules::diff(&self.fleet.tasks, &p);
        let now: Vec<String> = diff.changes.iter().map(rules::change_line).collect();
        if now != self.sup.pending[at].1 {
            self.sup.pending[at].1 = now;
            out.record(
                Actor::Engine,
                Event::Proposed {
                    proposal: Box::new(p),
                },
            );
            self.save_supervisor(out);
            return Err(CommandError::Invalid(format!(
                "the plan changed since proposal {proposal} was shown: look at it again"
            )));
        }
        let off: Vec<ChangeId> = off.iter().map(|n| ChangeId(n.saturating_sub(1))).collect();
        self.apply_diff(&p, &diff, &off, Actor::User, false, out)?;
        self.sup.pending.remove(at);
        self.prune_pending(out);
        self.save_supervisor(out);
        Ok(())
    }

    /// Applies `diff` of `proposal` without the changes `off`, as one batch,
    /// and records it.
    fn apply_diff(
        &mut self,
        p: &Proposal,
        diff: &PlanDiff,
        off: &[ChangeId],
        actor: Actor,
        auto: bool,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let batch = diff
            .without(off)
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
        self.apply_one(batch, out)?;
        let changes = diff
            .changes
            .iter()
            .filter(|c| c.refused.is_none() && !off.contains(&c.id))
            .map(rules::change_line)
            .collect();
        let mut reason = p.trigger.describe();
        if let Some(why) = p
            .reasoning
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            reason = format!("{reason} — {why}");
        }
        let event = Event::PlanChanged {
            origin: p.origin,
            reason,
            proposal: Some(p.id),
            auto,
            changes,
        };
        out.record(actor, event);
        Ok(())
    }

    /// The supervisor answered consultation `consult`.
    pub(super) fn proposed(&mut self, consult: u64, result: ConsultResult, out: &mut Out) {
        let trigger = match &self.sup.consulting {
            Some((c, t)) if *c == consult => t.clone(),
            _ => return, // stale: not the consultation in flight
        };
        self.sup.consulting = None;
        let failed = !matches!(result, ConsultResult::Answer { .. });
        let (message, proposal, spend) = match result {
            ConsultResult::Answer {
                reasoning,
                specs,
                actions,
                warnings,
                rounds: _,
                spend,
            } => {
                self.sup.proposals += 1;
                let p = Proposal {
                    id: self.sup.proposals,
                    origin: Origin::Supervisor,
                    trigger,
                    reasoning,
                    specs,
                    actions,
                    warnings,
                };
                let (message, waiting) = self.take_proposal(p, out);
                (message, waiting, spend)
            }
            ConsultResult::Refused {
                problems,
                rounds,
                spend,
                ..
            } => {
                let message = format!(
                    "the supervisor's plan was refused after {rounds} answer(s): {}",
                    problems.join("; ")
                );
                (message, None, spend)
            }
            ConsultResult::Failed { message, spend } => (
                format!("the supervisor could not plan: {message}"),
                None,
                spend,
            ),
        };
        self.sup.spent = self.sup.spent + spend;
        let event = Event::ConsultEnded {
            consult,
            message,
            proposal,
            spend,
            failed,
        };
        out.record(Actor::Engine, event);
        self.next_consult(out);
        self.save_supervisor(out);
    }

    /// A valid proposal: applied when autonomy says so, else kept for the
    /// user. What came of it, and the proposal number when it waits.
    fn take_proposal(&mut self, p: Proposal, out: &mut Out) -> (String, Option<u64>) {
        let diff = rules::diff(&self.fleet.tasks, &p);
        if diff.is_empty() {
            let why = p.reasoning.as_deref().unwrap_or("").trim();
            let message = if why.is_empty() {
                "the supervisor proposes no change".to_owned()
            } else {
                format!("the supervisor proposes no change: {why}")
            };
            return (message, None);
        }
        let n = diff.changes.len();
        let auto = self
            .limits
            .supervisor
            .as_ref()
            .is_some_and(|a| rules::applies_by_itself(&diff, &p.trigger, a));
        let mut note = String::new();
        if auto {
            let mut sub = Out::default();
            let before = self.clone();
            match self.apply_diff(&p, &diff, &[], Actor::Engine, true, &mut sub) {
                Ok(()) => {
                    out.fx.append(&mut sub.fx);
                    return (format!("applied {n} change(s) by itself (autonomy)"), None);
                }
                Err(e) => {
                    *self = before;
                    note = format!(" (it could not apply by itself: {e})");
                }
            }
        }
        let lines = diff.changes.iter().map(rules::change_line).collect();
        let id = p.id;
        self.sup.pending.push((p.clone(), lines));
        if self.sup.pending.len() > MAX_PENDING {
            let (old, _) = self.sup.pending.remove(0);
            out.record(Actor::Engine, Event::ProposalDiscarded { proposal: old.id });
        }
        out.record(
            Actor::Engine,
            Event::Proposed {
                proposal: Box::new(p),
            },
        );
        (format!("proposed {n} change(s){note}"), Some(id))
    }

    /// A task became Failed by the engine: the supervisor may rethink it.
    pub(super) fn failed_for_good(&mut self, task: &TaskId, reason: &str, out: &mut Out) {
        let trigger = Trigger::Failed {
            task: task.clone(),
            reason: reason.to_owned(),
        };
        self.consult(trigger, out);
    }

    pub(super) fn stalled(&mut self, task: &TaskId, attempt: u32, why: String, out: &mut Out) {
        let Ok(i) = self.find(task) else {
            return;
        };
        let t = &mut self.fleet.tasks[i];
        let live = matches!(
            t.status,
            Status::Running { attempt: a } | Status::Paused { attempt: a } if a == attempt
        );
        // The ledger says it once per episode; the same words again are not news.
        if !live || t.stalled.as_deref() == Some(why.as_str()) {
            return;
        }
        t.stalled = Some(why.clone());
        out.fx.push(Effect::SaveTask { task: task.clone() });
        out.record(
            Actor::Engine,
            Event::Stalled {
                task: task.clone(),
                attempt,
                why: why.clone(),
            },
        );
        let trigger = Trigger::Stalled {
            task: task.clone(),
            attempt,
            why,
        };
        self.consult(trigger, out);
    }

    pub(super) fn agent_note(
        &mut self,
        task: &TaskId,
        attempt: u32,
        kind: ReportKind,
        text: String,
        out: &mut Out,
    ) {
        if self.find(task).is_err() {
            return;
        }
        out.record(
            Actor::Engine,
            Event::AgentReported {
                task: task.clone(),
                attempt,
                kind,
                text: text.clone(),
            },
        );
        let trigger = Trigger::Reported {
            task: task.clone(),
            kind,
            text,
        };
        self.consult(trigger, out);
    }

    /// The supervisor's question about a task, shown as needs input.
    pub(super) fn ask(
        &mut self,
        task: &TaskId,
        question: String,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let i = self.find(task)?;
        let question = question.trim().to_owned();
        if question.is_empty() {
            return Err(CommandError::Invalid("the question is empty".into()));
        }
        self.fleet.tasks[i].question = Some(question.clone());
        out.fx.push(Effect::SaveTask { task: task.clone() });
        out.record(
            Actor::Engine,
            Event::Question {
                task: task.clone(),
                question,
            },
        );
        Ok(())
    }

    /// The user decided something about `task`: a question about it is
    /// answered, and an agent's blocker with it.
    pub(super) fn answered(&mut self, task: &TaskId, out: &mut Out) {
        if let Ok(i) = self.find(task) {
            let t = &mut self.fleet.tasks[i];
            if t.question.take().is_some() | t.blocker.take().is_some() {
                out.fx.push(Effect::SaveTask { task: task.clone() });
            }
        }
    }
}
