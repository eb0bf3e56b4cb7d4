//! An [`Effect::Review`](crate::core::Effect::Review) as a job: the
//! reviewer agent run (`review_run`) on the task's gated commit with the
//! plan as it is now; without a `[review]` section, a gated commit or the
//! reviewer's profile, the review fails at once with the reason (the task
//! then goes to the human).

use std::time::Duration;

use super::Msg;
use super::engine::Engine;
use super::review_run::{ReviewRun, plan_lines};
use crate::core::messages::ReviewResult;
use crate::core::{Report, Spend, TaskId};

impl Engine {
    pub(super) fn start_review(&mut self, task: TaskId, attempt: u32, round: u32) {
        match self.review_run(&task, attempt, round) {
            Ok(run) => {
                self.jobs.spawn(run.run());
            }
            Err(message) => {
                let report = Report::Reviewed {
                    task,
                    attempt,
                    round,
                    result: ReviewResult::Failed {
                        message,
                        spend: Spend::default(),
                    },
                };
                let _ = self.tx.send(Msg::Report(report));
            }
        }
    }

    fn review_run(&self, task: &TaskId, attempt: u32, round: u32) -> Result<ReviewRun, String> {
        let Some(section) = self.config.review.clone() else {
            return Err("no [review] is configured in fleet.toml".into());
        };
        let Some(profile) = self.config.agents.get(&section.agent).cloned() else {
            return Err(format!(
                "the reviewer's agent profile `{}` is not defined in fleet.toml",
                section.agent
            ));
        };
        let Some(t) = self.scheduler.task(task.as_str()).cloned() else {
            return Err(format!("task `{task}` is not in the plan"));
        };
        let Some(commit) = t.verified.as_ref().map(|v| v.commit.clone()) else {
            return Err(format!("task `{task}` has no gated commit to review"));
        };
        Ok(ReviewRun {
            root: self.root.clone(),
            fleet_dir: self.fleet_dir.clone(),
            target: self.target.clone(),
            plan: plan_lines(self.scheduler.tasks(), task),
            task: t,
            attempt,
            round,
            commit,
            section,
            profile,
            // What the team agreed: the reviewer checks the work honours it.
            context: self.scheduler.context().entries.clone(),
            stop_grace: Duration::from_secs_f64(self.config.fleet.stop_grace_secs),
            tx: self.tx.clone(),
            shutdown: self.shutdown.subscribe(),
        })
    }
}
