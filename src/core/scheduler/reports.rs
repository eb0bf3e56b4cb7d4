//! Runtime reports: an agent exited, a gate finished, a merge finished.

use super::{AfterStop, Out, Scheduler};
use crate::agent::FailureClass;
use crate::core::feedback::{Feedback, FeedbackKind, trim_output};
use crate::core::fleet::Verified;
use crate::core::messages::{
    Actor, AgentResult, Effect, Event, GateResult, MergeResult, Workspace,
};
use crate::core::outcome::AttemptOutcome;
use crate::core::status::{MergeBlock, Status};
use crate::core::task::TaskId;

impl Scheduler {
    pub(super) fn agent_exited(
        &mut self,
        id: &TaskId,
        attempt: u32,
        result: AgentResult,
        out: &mut Out,
    ) {
        let Some(&i) = self.fleet.index.get(id) else {
            return;
        };
        if self.live_attempt(i) != Some(attempt) {
            return;
        }
        let message = match &result {
            AgentResult::Failed { message, .. } => Some(message.clone()),
            AgentResult::Succeeded | AgentResult::Stopped => None,
        };
        out.record(
            Actor::Engine,
            Event::AgentEnded {
                task: id.clone(),
                attempt,
                message: message.clone(),
            },
        );
        // The outcome is known now unless the gate decides it.
        let outcome = match (&result, self.fleet.tasks[i].after_stop) {
            (_, Some(_)) => Some(AttemptOutcome::Stopped),
            (AgentResult::Succeeded, None) => None,
            (AgentResult::Failed { class, .. }, None) => Some(AttemptOutcome::AgentFailed {
                class: Some(*class),
            }),
            (AgentResult::Stopped, None) => Some(AttemptOutcome::Interrupted),
        };
        if let Some(outcome) = outcome {
            out.ended(id, attempt, outcome, message.clone());
        }
        let task = &mut self.fleet.tasks[i];
        task.spent = task.spent + task.live;
        task.live = Default::default();
        task.over_budget = None;
        task.stalled = None; // a stall is the live attempt's
        if let Some(after) = self.fleet.tasks[i].after_stop.take() {
            let task = &mut self.fleet.tasks[i];
            task.tries = task.tries.saturating_sub(1);
            match after {
                AfterStop::Requeue => self.requeue(i, Workspace::Continue, out),
                AfterStop::Drop => self.finish_drop(i, out),
            }
            return;
        }
        match result {
            AgentResult::Succeeded => {
                self.fleet.tasks[i].rate_limits = 0;
                self.set_status(i, Status::Verifying { attempt }, Actor::Engine, out);
                self.gating.insert(id.clone());
                out.fx.push(Effect::Gate {
                    task: id.clone(),
                    attempt,
                });
            }
            AgentResult::Failed {
                class: FailureClass::RateLimited,
                message,
            } if self.fleet.tasks[i].rate_limits >= FREE_RATE_LIMITS => {
                // A service that stays overloaded: from now on it costs attempts.
                self.fleet.tasks[i].rate_limits += 1;
                self.retry_or_fail(i, attempt, FeedbackKind::AgentFailed, &message, out)
            }
            AgentResult::Failed {
                class: FailureClass::RateLimited,
                ..
            } => {
                // Not the task's fault: park it, retry later, keep its attempts.
                let now = self.now_ms;
                let task = &mut self.fleet.tasks[i];
                task.tries = task.tries.saturating_sub(1);
                task.rate_limits += 1;
                let retry_at_ms = now + backoff_ms(self.limits.backoff_ms, task.rate_limits);
                task.not_before_ms = Some(retry_at_ms);
                out.record(
                    Actor::Engine,
                    Event::RateLimited {
                        task: id.clone(),
                        attempt,
                        retry_at_ms,
                    },
                );
                out.fx.push(Effect::WakeAt { at_ms: retry_at_ms });
                self.requeue(i, Workspace::Continue, out);
            }
            AgentResult::Failed {
                class: FailureClass::Auth,
                message,
            } => {
                // The profile is unusable until the user fixes it: its tasks wait, the user is told once.
                let task = &mut self.fleet.tasks[i];
                task.tries = task.tries.saturating_sub(1);
                let agent = task.spec.agent.clone();
                let reason = first_line(&message);
                task.unusable_agent = Some(reason.clone());
                if !self.fleet.unusable.contains_key(&agent) {
                    self.fleet.unusable.insert(agent.clone(), reason.clone());
                    out.record(Actor::Engine, Event::AgentUnusable { agent, reason });
                }
                self.requeue(i, Workspace::Continue, out);
            }
            AgentResult::Failed {
                class: FailureClass::PermissionDenied,
                message,
            } => {
                // Retrying would be refused again: a human must give the permission.
                let text = trim_output(&message);
                self.fleet.tasks[i].feedback = Some(Feedback {
                    attempt,
                    kind: FeedbackKind::AgentFailed,
                    text: text.clone(),
                });
                let reason = format!(
                    "needs input: {} (allow it in the agent profile, e.g. its permission mode, then retry)",
                    first_line(&text)
                );
                self.set_status(i, Status::Failed { reason }, Actor::Engine, out);
            }
            AgentResult::Failed {
                class: FailureClass::Environment,
                message,
            } => {
                // fleetdeck's own disk or permissions, not the agent: keep the
                // attempt, wait for the user to fix it. The agent never ran
                // (these faults come before it starts), so the next attempt
                // treats the worktree as this one was to.
                let task = &mut self.fleet.tasks[i];
                task.tries = task.tries.saturating_sub(1);
                let ws = task.started_with.clone();
                self.requeue(i, ws, out);
                self.pause_for_environment(&message, out);
            }
            AgentResult::Failed { message, .. } => {
                self.retry_or_fail(i, attempt, FeedbackKind::AgentFailed, &message, out)
            }
            AgentResult::Stopped => {
                // Stopped without our asking (e.g. the engine shut down): redo the attempt.
                let task = &mut self.fleet.tasks[i];
                task.tries = task.tries.saturating_sub(1);
                let ws = self.rollback(i, attempt);
                self.requeue(i, ws, out);
            }
        }
    }

    pub(super) fn gated(&mut self, id: &TaskId, attempt: u32, result: GateResult, out: &mut Out) {
        let Some(&i) = self.fleet.index.get(id) else {
            return;
        };
        if self.fleet.tasks[i].status != (Status::Verifying { attempt }) {
            return;
        }
        self.gating.remove(id);
        if let Some((outcome, message)) = gate_outcome(&result) {
            let outcome = match (outcome, &self.fleet.tasks[i].verified) {
                (AttemptOutcome::NoChanges, Some(_)) => AttemptOutcome::NoFurtherChanges,
                (outcome, _) => outcome,
            };
            out.ended(id, attempt, outcome, message);
        }
        match result {
            GateResult::Passed { commit } => {
                let task = &mut self.fleet.tasks[i];
                task.feedback = None;
                task.verified = Some(Verified { attempt, commit });
                self.enter_review(i, attempt, out);
            }
            GateResult::NoChanges
                if self.fleet.tasks[i].verified.is_some() && !self.sent_back_by_group(i) =>
            {
                // Nothing added to work that passed: back to review on it, not counted.
                let task = &mut self.fleet.tasks[i];
                task.tries = task.tries.saturating_sub(1);
                task.feedback = None;
                let verified = task.verified.as_ref().map_or(attempt, |v| v.attempt);
                self.enter_review(i, verified, out);
            }
            GateResult::NoChanges => self.retry_or_fail(
                i,
                attempt,
                FeedbackKind::NoChanges,
                "agent made no changes",
                out,
            ),
            GateResult::VerifyFailed { command, output } => {
                // The failing commit is the branch tip now.
                self.fleet.tasks[i].verified = None;
                let text = if output.trim().is_empty() {
                    format!("`{command}` failed without output")
                } else {
                    output
                };
                self.retry_or_fail(
                    i,
                    attempt,
                    FeedbackKind::VerifyFailed { command },
                    &text,
                    out,
                )
            }
            GateResult::Error { message } => {
                self.retry_or_fail(i, attempt, FeedbackKind::GateError, &message, out)
            }
            // Still Verifying, no longer gating: the gate runs again on resume.
            GateResult::Environment { message } => {
                self.gates_while_held = false;
                self.pause_for_environment(&message, out)
            }
        }
    }

    /// Task `i` passed its gate with the work of `attempt`: to the reviewer
    /// agent when `[review]` covers it, else to the human.
    fn enter_review(&mut self, i: usize, attempt: u32, out: &mut Out) {
        if !self.start_review(i, attempt, out) {
            self.human_review(i, attempt, out);
        }
    }

    /// Task `i` waits in review on the work of `attempt` (approved at once
    /// under auto-approve).
    pub(super) fn human_review(&mut self, i: usize, attempt: u32, out: &mut Out) {
        if self.hold_for_group(i, attempt, out) {
            return;
        }
        self.set_status(
            i,
            Status::Review {
                attempt,
                block: None,
            },
            Actor::Engine,
            out,
        );
        if (self.limits.auto_approve || self.fleet.tasks[i].spec.auto_approve)
            // A candidate is picked by the user, never approved by itself.
            && self.fleet.tasks[i].spec.candidate_of.is_none()
        {
            self.set_status(i, Status::Merging { attempt }, Actor::Engine, out);
        }
    }

    pub(super) fn merged(&mut self, id: &TaskId, result: MergeResult, out: &mut Out) {
        let Some(&i) = self.fleet.index.get(id) else {
            return;
        };
        let Status::Merging { attempt } = self.fleet.tasks[i].status else {
            return;
        };
        if self.merging.as_ref() == Some(id) {
            self.merging = None;
        }
        let block = match result {
            MergeResult::Merged { commit } => {
                self.fleet.tasks[i].auto_updates = 0;
                self.set_status(i, Status::Done { commit }, Actor::Engine, out);
                out.fx.push(Effect::RemoveWorktree { task: id.clone() });
                return;
            }
            MergeResult::Conflict { .. } | MergeResult::Refused { .. }
                if self.auto_update(i, attempt, out) =>
            {
                return;
            }
            MergeResult::Conflict { files } => MergeBlock::Conflict { files },
            MergeResult::Refused { files } => MergeBlock::Refused { files },
            MergeResult::Error { message } => MergeBlock::Error { message },
        };
        self.set_status(
            i,
            Status::Review {
                attempt,
                block: Some(block),
            },
            Actor::Engine,
            out,
        );
    }

    /// An environment fault (a write under `.fleet` failed: disk full,
    /// read-only, permissions) seen by the runtime outside an agent's exit,
    /// e.g. a database write. Pauses the fleet (running agents are stopped
    /// with SIGSTOP) with `message` and what to do as the reason; does
    /// nothing more when the fleet is already paused.
    pub fn environment_fault(&mut self, message: &str) -> Vec<Effect> {
        let mut out = Out::default();
        self.gates_while_held = false;
        self.pause_for_environment(message, &mut out);
        out.fx
    }

    fn pause_for_environment(&mut self, message: &str, out: &mut Out) {
        if !self.fleet.paused {
            self.pause_fleet(Actor::Engine, environment_reason(message), out);
        }
    }

    /// After a failed attempt: queue it again with the failure as feedback,
    /// or fail the task when it has used its attempts.
    pub(super) fn retry_or_fail(
        &mut self,
        i: usize,
        attempt: u32,
        kind: FeedbackKind,
        text: &str,
        out: &mut Out,
    ) {
        let text = trim_output(text);
        let last_line = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_owned();
        let task = &mut self.fleet.tasks[i];
        task.feedback = Some(Feedback {
            attempt,
            kind,
            text: text.clone(),
        });
        let retrying = task.tries < self.limits.max_attempts;
        let (tries, started) = (task.tries, task.attempts);
        let event = Event::AttemptFailed {
            task: task.spec.id.clone(),
            attempt,
            reason: last_line.clone(),
            retrying,
        };
        out.record(Actor::Engine, event);
        if retrying {
            self.requeue(i, Workspace::Continue, out);
        } else {
            let reason = failed_reason(tries, started, &last_line);
            self.set_status(i, Status::Failed { reason }, Actor::Engine, out);
        }
    }
}

/// The outcome a gate's result gives its attempt, with a one-line message;
/// None while it is not known (an environment fault: the gate runs again).
fn gate_outcome(result: &GateResult) -> Option<(AttemptOutcome, Option<String>)> {
    Some(match result {
        GateResult::Passed { .. } => (AttemptOutcome::Succeeded, None),
        GateResult::NoChanges => (AttemptOutcome::NoChanges, None),
        GateResult::VerifyFailed { command, output } => (
            AttemptOutcome::VerifyFailed {
                command: command.clone(),
            },
            Some(first_line(output)).filter(|l| !l.is_empty()),
        ),
        GateResult::Error { message } => (AttemptOutcome::GateError, Some(first_line(message))),
        GateResult::Environment { .. } => return None,
    })
}

/// Why a task failed after `tries` counted attempts, `started` in all (the
/// number `status` shows: rate-limited retries, interrupted attempts and
/// attempts that found the profile unusable are not counted, and a retry by
/// the user starts a new count).
fn failed_reason(tries: u32, started: u32, last_line: &str) -> String {
    if started > tries {
        format!(
            "failed after {tries} counted attempt(s), {started} started in all (retries after rate limits or interruptions are not counted); last: {last_line}"
        )
    } else {
        format!("failed {tries} attempt(s); last: {last_line}")
    }
}

/// The fleet's paused reason after an environment fault: what failed
/// (`message` names the path and the OS error) and what to do.
pub fn environment_reason(message: &str) -> String {
    format!(
        "{}; free disk space or fix the permissions of .fleet, then resume the fleet (P in the cockpit, or `fleetdeck run --resume`); no attempt was counted",
        first_line(message)
    )
}

/// Rate limits in a row that cost no attempt (each waits longer than the last).
pub(super) const FREE_RATE_LIMITS: u32 = 5;

/// Waiting time after the `n`th rate limit in a row: `base`, doubling, at most 15 minutes.
pub(super) fn backoff_ms(base: i64, n: u32) -> i64 {
    (base << n.saturating_sub(1).min(10)).min(15 * 60_000)
}

/// The last non-empty line of `text` (where errors usually are), trimmed.
fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}
