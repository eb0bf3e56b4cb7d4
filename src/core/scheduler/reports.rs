//! Runtime reports: an agent exited, a gate finished, a merge finished.

use super::{AfterStop, Out, Scheduler};
use crate::core::feedback::{Feedback, FeedbackKind, trim_output};
use crate::core::messages::{
    Actor, AgentResult, Effect, Event, GateResult, MergeResult, Workspace,
};
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
        let (outcome, message) = match &result {
            AgentResult::Succeeded => ("succeeded", None),
            AgentResult::Failed { message, .. } => ("failed", Some(message.clone())),
            AgentResult::Stopped => ("stopped", None),
        };
        out.record(
            Actor::Engine,
            Event::AgentEnded {
                task: id.clone(),
                attempt,
                outcome: outcome.into(),
                message,
            },
        );
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
                self.set_status(i, Status::Verifying { attempt }, Actor::Engine, out);
                self.gating.insert(id.clone());
                out.fx.push(Effect::Gate {
                    task: id.clone(),
                    attempt,
                });
            }
            AgentResult::Failed { message, .. } => {
                self.retry_or_fail(i, attempt, FeedbackKind::AgentFailed, &message, out)
            }
            AgentResult::Stopped => {
                // Stopped without our asking (e.g. the engine shut down): redo the attempt.
                let task = &mut self.fleet.tasks[i];
                task.tries = task.tries.saturating_sub(1);
                self.requeue(i, Workspace::Rollback { attempt }, out);
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
        match result {
            GateResult::Passed { .. } => {
                self.fleet.tasks[i].feedback = None;
                self.set_status(
                    i,
                    Status::Review {
                        attempt,
                        block: None,
                    },
                    Actor::Engine,
                    out,
                );
                if self.limits.auto_approve || self.fleet.tasks[i].spec.auto_approve {
                    self.set_status(i, Status::Merging { attempt }, Actor::Engine, out);
                }
            }
            GateResult::NoChanges => self.retry_or_fail(
                i,
                attempt,
                FeedbackKind::NoChanges,
                "agent made no changes",
                out,
            ),
            GateResult::VerifyFailed { command, output } => {
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
                self.set_status(i, Status::Done { commit }, Actor::Engine, out);
                out.fx.push(Effect::RemoveWorktree { task: id.clone() });
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

    /// After a failed attempt: queue it again with the failure as feedback,
    /// or fail the task when it has used its attempts.
    fn retry_or_fail(
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
        let tries = task.tries;
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
            let reason = format!("failed {tries} attempt(s); last: {last_line}");
            self.set_status(i, Status::Failed { reason }, Actor::Engine, out);
        }
    }
}
