//! Nudging and restarting a running attempt. Both stop the attempt (TERM →
//! grace → KILL, like a reassign) and queue the task again at once, in the
//! same worktree, without counting the stopped attempt as a try:
//! - a nudge continues it with the message: the session is resumed with
//!   just the message where the profile can, else the next attempt's prompt
//!   carries it as feedback ([`FeedbackKind::Nudged`]);
//! - a restart starts it again as the stopped attempt was started.

use super::{AfterStop, Out, Scheduler};
use crate::core::feedback::{Feedback, FeedbackKind};
use crate::core::messages::{Actor, CommandError, Event, Signal};
use crate::core::status::Status;
use crate::core::task::TaskId;
use crate::core::verbs::Verb;

impl Scheduler {
    pub(super) fn nudge(
        &mut self,
        task: &TaskId,
        message: String,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let message = message.trim().to_owned();
        if message.is_empty() {
            return Err(CommandError::Invalid(format!(
                "nudge `{task}`: the message for the agent is empty"
            )));
        }
        let (i, attempt) = self.stoppable(task, Verb::Nudge)?;
        self.fleet.tasks[i].feedback = Some(Feedback {
            attempt,
            kind: FeedbackKind::Nudged,
            text: message.clone(),
        });
        out.record(
            Actor::User,
            Event::Nudged {
                task: task.clone(),
                message,
            },
        );
        self.stop_to_requeue(i, out);
        Ok(())
    }

    pub(super) fn restart(&mut self, task: &TaskId, out: &mut Out) -> Result<(), CommandError> {
        let (i, _) = self.stoppable(task, Verb::Restart)?;
        self.stop_to_requeue(i, out);
        Ok(())
    }

    /// The index and live attempt of `task` if it is running and no stop
    /// of ours is under way already.
    fn stoppable(&self, task: &TaskId, verb: Verb) -> Result<(usize, u32), CommandError> {
        let i = self.require(task, verb)?;
        let t = &self.fleet.tasks[i];
        let Status::Running { attempt } = t.status else {
            return Err(CommandError::Invalid(format!(
                "task `{task}` is not running"
            )));
        };
        match t.after_stop {
            None => Ok((i, attempt)),
            Some(AfterStop::Drop) => Err(CommandError::Invalid(format!(
                "{} `{task}`: it is being dropped",
                verb.name()
            ))),
            Some(AfterStop::Requeue) => Err(CommandError::Invalid(format!(
                "{} `{task}`: its attempt {attempt} is already being stopped",
                verb.name()
            ))),
        }
    }

    /// Stops task `i`'s agent; when it has exited the task is queued again
    /// with its worktree kept, the stopped attempt not counted as a try.
    pub(super) fn stop_to_requeue(&mut self, i: usize, out: &mut Out) {
        self.fleet.tasks[i].after_stop = Some(AfterStop::Requeue);
        out.fx.push(crate::core::messages::Effect::SaveTask {
            task: self.fleet.tasks[i].spec.id.clone(),
        });
        self.signal(i, Signal::Stop, out);
    }
}
