//! Budgets: per task and for the whole fleet, in dollars and tokens. A task
//! that crosses its budget has its agent paused (not killed); the fleet
//! crossing its budget pauses the fleet. Raising a budget resumes what it held.

use serde::{Deserialize, Serialize};

use super::{Out, Scheduler};
use crate::core::fleet::Task;
use crate::core::messages::{Actor, CommandError, Effect, Event, Signal, Spend};
use crate::core::status::Status;
use crate::core::task::TaskId;

/// The limits: fleet-wide, and the default for each task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Budgets {
    pub fleet_usd: Option<f64>,
    pub fleet_tokens: Option<u64>,
    pub task_usd: Option<f64>,
    pub task_tokens: Option<u64>,
}

/// `spend` against a limit pair: the first limit crossed, in words.
fn crossed(spend: Spend, usd: Option<f64>, tokens: Option<u64>) -> Option<String> {
    if let Some(limit) = usd.filter(|l| spend.usd >= *l) {
        return Some(format!("${:.4} spent of a ${limit:.2} budget", spend.usd));
    }
    tokens
        .filter(|l| spend.tokens >= *l)
        .map(|limit| format!("{} tokens used of a {limit}-token budget", spend.tokens))
}

impl Budgets {
    /// Why `task` may not spend more, if it is at or over its budget: its own
    /// limits, else the fleet's default, against what it spent and is spending.
    pub fn task_over(&self, task: &Task) -> Option<String> {
        let usd = task.spec.budget_usd.or(self.task_usd);
        let tokens = task.spec.budget_tokens.or(self.task_tokens);
        crossed(task.spent + task.live, usd, tokens)
            .map(|what| format!("over its budget: {what}; raise it (b) or drop the task"))
    }
}

impl Scheduler {
    /// Why task `i` may not spend more, if it is at or over its budget.
    pub(super) fn task_over_budget(&self, i: usize) -> Option<String> {
        self.limits.budget.task_over(&self.fleet.tasks[i])
    }

    fn fleet_spend(&self) -> Spend {
        self.fleet
            .tasks
            .iter()
            .fold(Spend::default(), |acc, t| acc + t.spent + t.live)
    }

    /// Why the fleet may not spend more, if it is at or over its budget.
    pub(super) fn fleet_over_budget(&self) -> Option<String> {
        let b = &self.limits.budget;
        if b.fleet_usd.is_none() && b.fleet_tokens.is_none() {
            return None; // no limit: do not sum every task's spending
        }
        crossed(self.fleet_spend(), b.fleet_usd, b.fleet_tokens).map(|what| {
            format!("the fleet is over its budget: {what}; raise it (b on the board) to go on")
        })
    }

    /// A live attempt's running totals: pause what crossed its budget.
    pub(super) fn usage(&mut self, id: &TaskId, attempt: u32, spend: Spend, out: &mut Out) {
        let Some(&i) = self.fleet.index.get(id) else {
            return;
        };
        if self.live_attempt(i) != Some(attempt) {
            return;
        }
        self.fleet.tasks[i].live = spend;
        if self.fleet.tasks[i].over_budget.is_none()
            && let Some(why) = self.task_over_budget(i)
            && let Status::Running { attempt } = self.fleet.tasks[i].status
        {
            self.signal(i, Signal::Pause, out);
            self.fleet.tasks[i].over_budget = Some(why);
            let spent = self.fleet.tasks[i].spent + spend;
            out.record(
                Actor::Engine,
                Event::BudgetExceeded {
                    task: Some(id.clone()),
                    spent,
                },
            );
            self.set_status(i, Status::Paused { attempt }, Actor::Engine, out);
        }
        if !self.fleet.paused
            && let Some(why) = self.fleet_over_budget()
        {
            out.record(
                Actor::Engine,
                Event::BudgetExceeded {
                    task: None,
                    spent: self.fleet_spend(),
                },
            );
            self.pause_fleet(Actor::Engine, why, out);
            self.paused_for_budget = true;
        }
    }

    /// `SetBudget`: change a limit, and release what it no longer holds.
    pub(super) fn set_budget(
        &mut self,
        task: Option<TaskId>,
        usd: Option<f64>,
        tokens: Option<u64>,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        if usd.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            return Err(CommandError::Invalid(
                "a budget must be a positive amount of dollars".into(),
            ));
        }
        let event = Event::BudgetChanged {
            task: task.clone(),
            usd,
            tokens,
        };
        match task {
            Some(id) => {
                let i = self.find(&id)?;
                let spec = &mut self.fleet.tasks[i].spec;
                spec.budget_usd = usd.or(spec.budget_usd);
                spec.budget_tokens = tokens.or(spec.budget_tokens);
                out.fx.push(Effect::SaveTask { task: id.clone() });
                out.record(Actor::User, event);
                if self.fleet.tasks[i].over_budget.is_some() && self.task_over_budget(i).is_none() {
                    self.fleet.tasks[i].over_budget = None;
                    if let Status::Paused { attempt } = self.fleet.tasks[i].status {
                        if !self.fleet.paused {
                            self.signal(i, Signal::Resume, out);
                        }
                        self.set_status(i, Status::Running { attempt }, Actor::User, out);
                    }
                }
            }
            None => {
                let b = &mut self.limits.budget;
                b.fleet_usd = usd.or(b.fleet_usd);
                b.fleet_tokens = tokens.or(b.fleet_tokens);
                out.fx.push(Effect::SaveFleetBudget {
                    usd: b.fleet_usd,
                    tokens: b.fleet_tokens,
                });
                out.record(Actor::User, event);
                if self.paused_for_budget && self.fleet_over_budget().is_none() {
                    self.paused_for_budget = false;
                    self.resume_fleet(Actor::User, out);
                }
            }
        }
        Ok(())
    }
}
