//! Consulting the supervisor: the engine runs the planner for an
//! [`Effect::Consult`](crate::core::Effect::Consult) on the plan as it is
//! (a snapshot of the tasks), as a job that forwards its live lines as
//! [`Notification::Supervisor`](super::Notification::Supervisor) and reports
//! [`Report::Proposed`]. The goal of a Goal consultation is kept in the
//! store's meta `goal` for later consultations. What the supervisor spent
//! (its budget) is the scheduler's total plus what dry runs spent (meta
//! `supervisor_dry_run_spend`).

use std::time::Duration;

use super::Msg;
use super::engine::Engine;
use super::planner_run::PlannerRun;
use crate::core::supervisor::Trigger;
use crate::core::{ConsultResult, Report, Spend};

/// The goal of consultations that are not for a goal, when none was ever given.
const NO_GOAL: &str = "Keep the plan working";
/// Most transcript lines of a failed task's last attempt told to the planner.
const FAILED_LINES: usize = 3;
/// The store meta holding what `plan --dry-run` runs spent.
const DRY_RUN_SPEND: &str = "supervisor_dry_run_spend";

impl Engine {
    pub(super) fn consult(&mut self, consult: u64, trigger: Trigger) {
        if let Trigger::Goal { goal } = &trigger {
            let r = self.store.set_meta("goal", goal);
            self.check(r);
        }
        match self.planner_run(consult, &trigger) {
            Ok(run) => {
                self.jobs.spawn(run.run());
            }
            Err(message) => {
                let report = Report::Proposed {
                    consult,
                    result: ConsultResult::Failed {
                        message,
                        spend: Spend::default(),
                    },
                };
                let _ = self.tx.send(Msg::Report(report));
            }
        }
    }

    /// Runs the planner for `goal` outside the scheduler (`plan --dry-run`):
    /// nothing is recorded but its transcript (consultation 0) and its spending.
    pub async fn plan_dry_run(&mut self, goal: &str) -> ConsultResult {
        let trigger = Trigger::Goal {
            goal: goal.to_owned(),
        };
        let result = match self.planner_run(0, &trigger) {
            Ok(mut run) => run.consult().await,
            Err(message) => ConsultResult::Failed {
                message,
                spend: Spend::default(),
            },
        };
        self.add_dry_run_spend(&result);
        result
    }

    /// Everything a planner run for `trigger` needs, or why there is none.
    fn planner_run(&self, consult: u64, trigger: &Trigger) -> Result<PlannerRun, String> {
        let Some(section) = self.config.supervisor.clone() else {
            return Err(
                "no [supervisor] is configured in fleet.toml (add [supervisor] agent = \"NAME\")"
                    .into(),
            );
        };
        let Some(profile) = self.config.agents.get(&section.agent).cloned() else {
            return Err(format!(
                "the supervisor's agent profile `{}` is not defined in fleet.toml",
                section.agent
            ));
        };
        let agents = self
            .config
            .agents
            .iter()
            .map(|(name, p)| crate::core::planner::AgentProfile {
                name: name.clone(),
                strengths: p.strengths.clone(),
                cost: p.cost.clone(),
            })
            .collect();
        let goal = match trigger {
            Trigger::Goal { goal } => goal.clone(),
            _ => self
                .store
                .meta("goal")
                .ok()
                .flatten()
                .unwrap_or_else(|| NO_GOAL.to_owned()),
        };
        Ok(PlannerRun {
            root: self.root.clone(),
            fleet_dir: self.fleet_dir.clone(),
            target: self.target.clone(),
            consult,
            section,
            profile,
            agents,
            tasks: self.scheduler.tasks().to_vec(),
            goal,
            situation: self.situation(trigger),
            verify: self.config.verify.commands.clone(),
            spent_before: self.supervisor_spent(),
            stop_grace: Duration::from_secs_f64(self.config.fleet.stop_grace_secs),
            tx: self.tx.clone(),
            shutdown: self.shutdown.subscribe(),
        })
    }

    /// What happened, for a consultation that is not for a goal.
    fn situation(&self, trigger: &Trigger) -> Option<String> {
        let mut text = match trigger {
            Trigger::Goal { .. } => return None,
            other => other.describe(),
        };
        match trigger {
            Trigger::Failed { task, reason } => {
                text.push_str(&format!("\n\nWhy it failed:\n{}\n", reason.trim()));
                let last = self
                    .store
                    .attempts(task.as_str())
                    .ok()
                    .and_then(|a| a.into_iter().max_by_key(|r| r.n));
                if let Some(rec) = last {
                    let messages =
                        super::summary::last_messages(&self.fleet_dir.join(&rec.transcript));
                    let tail: Vec<&String> =
                        messages.iter().rev().take(FAILED_LINES).rev().collect();
                    if !tail.is_empty() {
                        text.push_str(&format!(
                            "\nThe last messages of its attempt {} (agent `{}`):\n",
                            rec.n, rec.agent
                        ));
                        for m in tail {
                            text.push_str(&format!("> {}\n", m.trim().replace('\n', "\n> ")));
                        }
                    }
                }
            }
            Trigger::Feedback { feedback, .. } => {
                text.push_str(&format!("\n\nThe user's feedback:\n{}\n", feedback.trim()));
            }
            Trigger::Reported { text: said, .. } => {
                text.push_str(&format!("\n\nThe agent wrote:\n{}\n", said.trim()));
            }
            _ => {}
        }
        Some(text)
    }

    /// What the supervisor spent over all its runs so far.
    fn supervisor_spent(&self) -> Spend {
        self.scheduler.supervisor_state().spent + self.dry_run_spent()
    }

    fn dry_run_spent(&self) -> Spend {
        self.store
            .meta(DRY_RUN_SPEND)
            .ok()
            .flatten()
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    /// Adds what a dry run spent to the supervisor's total (the scheduler
    /// counts what its own consultations spend).
    fn add_dry_run_spend(&mut self, result: &ConsultResult) {
        let spend = match result {
            ConsultResult::Answer { spend, .. }
            | ConsultResult::Refused { spend, .. }
            | ConsultResult::Failed { spend, .. } => *spend,
        };
        if spend == Spend::default() {
            return;
        }
        let total = self.dry_run_spent() + spend;
        if let Ok(json) = serde_json::to_string(&total) {
            let r = self.store.set_meta(DRY_RUN_SPEND, &json);
            self.check(r);
        }
    }
}
