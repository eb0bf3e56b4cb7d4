//! The reviewer agent before the human (`[review]`): a task whose gate
//! passed is reviewed (`Status::Reviewing`, `Effect::Review`); changes it
//! requests go back to the task's agent as feedback for up to `rounds`
//! rounds since the last human decision; then (or on approval) the task
//! waits for the human with the verdict beside its diff, or is approved
//! by itself under `auto_approve_on_review`. A review that fails leaves
//! the human to review alone. A task still in review at a start is
//! reviewed again.

use super::{Out, Scheduler};
use crate::core::feedback::{Feedback, FeedbackKind};
use crate::core::messages::{Actor, Effect, Event, ReviewResult, Workspace};
use crate::core::status::Status;
use crate::core::task::TaskId;
use crate::core::team::review::{Verdict, feedback_text};

/// `[review]` as the scheduler needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPolicy {
    /// Change requests sent back to the agent before the human sees the task.
    pub rounds: u32,
    /// An approving verdict approves the task as the user would.
    pub auto_approve: bool,
    /// The roles whose tasks are reviewed (a task without a role counts as
    /// an `implementer`).
    pub roles: Vec<String>,
}

impl ReviewPolicy {
    /// Whether tasks of `role` are reviewed.
    pub fn reviews(&self, role: Option<&str>) -> bool {
        let role = role.unwrap_or("implementer");
        self.roles.iter().any(|r| r == role)
    }
}

impl Scheduler {
    /// Sends task `i`, whose `attempt` passed its gate, to the reviewer
    /// agent when `[review]` covers its role; false when it does not.
    pub(super) fn start_review(&mut self, i: usize, attempt: u32, out: &mut Out) -> bool {
        self.fleet.tasks[i].review = None;
        let Some(policy) = &self.limits.review else {
            return false;
        };
        if !policy.reviews(self.fleet.tasks[i].spec.role.as_deref()) {
            return false;
        }
        self.set_status(i, Status::Reviewing { attempt }, Actor::Engine, out);
        self.request_review(i, attempt, out);
        true
    }

    fn request_review(&self, i: usize, attempt: u32, out: &mut Out) {
        let task = &self.fleet.tasks[i];
        out.fx.push(Effect::Review {
            task: task.spec.id.clone(),
            attempt,
            round: task.review_rounds + 1,
        });
    }

    /// At a start: a task left in `Reviewing` is reviewed again (or goes to
    /// the human when `[review]` is gone).
    pub(super) fn resume_reviews(&mut self, out: &mut Out) {
        for i in 0..self.fleet.tasks.len() {
            let Status::Reviewing { attempt } = self.fleet.tasks[i].status else {
                continue;
            };
            if self.limits.review.is_some() {
                self.request_review(i, attempt, out);
            } else {
                self.human_review(i, attempt, out);
            }
        }
    }

    /// The reviewer's verdict on `attempt` of `id` (review `round`).
    pub(super) fn reviewed(
        &mut self,
        id: &TaskId,
        attempt: u32,
        round: u32,
        result: ReviewResult,
        out: &mut Out,
    ) {
        let Some(&i) = self.fleet.index.get(id) else {
            return;
        };
        let task = &self.fleet.tasks[i];
        if task.status != (Status::Reviewing { attempt }) || round != task.review_rounds + 1 {
            return; // a stale review
        }
        let (rounds, auto_approve) = self
            .limits
            .review
            .as_ref()
            .map_or((0, false), |p| (p.rounds, p.auto_approve));
        let verdict = match result {
            ReviewResult::Failed { message, spend } => {
                let task = &mut self.fleet.tasks[i];
                task.spent = task.spent + spend;
                let event = Event::ReviewFailed {
                    task: id.clone(),
                    attempt,
                    message,
                };
                out.record(Actor::Engine, event);
                self.human_review(i, attempt, out);
                return;
            }
            ReviewResult::Verdict { verdict, spend } => {
                let task = &mut self.fleet.tasks[i];
                task.spent = task.spent + spend;
                task.review = Some(verdict.clone());
                verdict
            }
        };
        out.record(
            Actor::Engine,
            Event::Reviewed {
                task: id.clone(),
                verdict: verdict.clone(),
            },
        );
        let task = &mut self.fleet.tasks[i];
        match verdict.verdict {
            Verdict::Changes if task.review_rounds < rounds => {
                task.review_rounds += 1;
                let text = feedback_text(&verdict);
                task.feedback = Some(Feedback {
                    attempt,
                    kind: FeedbackKind::Review,
                    text: text.clone(),
                });
                task.workspace = Workspace::Continue;
                let event = Event::ChangesRequested {
                    task: id.clone(),
                    feedback: text,
                };
                out.record(Actor::Engine, event);
                self.set_status(i, Status::Queued { held: false }, Actor::Engine, out);
            }
            Verdict::Approve if auto_approve => {
                self.human_review(i, attempt, out);
                // Approved as the user would approve it (the reviewer's word is final).
                if matches!(self.fleet.tasks[i].status, Status::Review { .. }) {
                    self.set_status(i, Status::Merging { attempt }, Actor::User, out);
                }
            }
            _ => self.human_review(i, attempt, out),
        }
    }

    /// A human decided on task `id`: the reviewer agent's rounds start over.
    pub(super) fn reset_review_rounds(&mut self, id: &TaskId, out: &mut Out) {
        if let Some(&i) = self.fleet.index.get(id)
            && self.fleet.tasks[i].review_rounds > 0
        {
            self.fleet.tasks[i].review_rounds = 0;
            out.fx.push(Effect::SaveTask { task: id.clone() });
        }
    }
}
