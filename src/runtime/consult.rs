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
use crate::core::{ConsultResult, Event, Report, Spend};
use crate::store::transcript;

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
            roles: self.config.roles.keys().cloned().collect(),
            goal,
            situation: self.situation(trigger),
            verify: self.config.verify.commands.clone(),
            spent_before: self.supervisor_spent(),
            stop_grace: Duration::from_secs_f64(self.config.fleet.stop_grace_secs),
            tx: self.tx.clone(),
            shutdown: self.shutdown.subscribe(),
        })
    }

    /// What happened, for a consultation that is not for a goal (a failed
    /// task's last attempt read from its transcript).
    fn situation(&self, trigger: &Trigger) -> Option<String> {
        let last = match trigger {
            Trigger::Failed { task, .. } => self
                .store
                .attempts(task.as_str())
                .ok()
                .and_then(|a| a.into_iter().max_by_key(|r| r.n))
                .map(|rec| LastAttempt {
                    messages: super::summary::last_messages(&self.fleet_dir.join(&rec.transcript)),
                    n: rec.n,
                    agent: rec.agent,
                }),
            _ => None,
        };
        let mut text = situation_text(trigger, last.as_ref())?;
        if let Trigger::Stalled { task, attempt, .. } = trigger
            && let Some((n, summary)) = self.progress_summary(task)
            && n == *attempt
        {
            text.push_str(&format!("\n\nWhat attempt {n} did so far: {summary}.\n"));
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

/// Consultations a new viewer is told about, at most.
const HISTORY_CONSULTS: usize = 20;
/// Lines of each of them read back from its transcript, at most (the last).
const HISTORY_LINES: usize = 300;

/// The supervisor's events as a viewer replays them.
const HISTORY_KINDS: [&str; 5] = [
    "consulting",
    "proposed",
    "consult_ended",
    "plan_changed",
    "proposal_discarded",
];

type History = (
    Vec<(i64, Event)>,
    Vec<(u64, Vec<(transcript::Stream, String)>)>,
);

impl Engine {
    /// The supervisor's recent events and what its planners said (read from
    /// the transcripts, parsed like live output), for a new viewer.
    pub(super) fn supervisor_history(&self) -> Result<History, crate::store::StoreError> {
        let mut events: Vec<(i64, Event)> = self
            .store
            .events_of(&HISTORY_KINDS)?
            .into_iter()
            .filter_map(|r| Some((r.ts_ms, serde_json::from_value(r.detail).ok()?)))
            .collect();
        let consults: Vec<u64> = events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Consulting { consult, .. } => Some(*consult),
                _ => None,
            })
            .collect();
        let recent = &consults[consults.len().saturating_sub(HISTORY_CONSULTS)..];
        if let Some(first) = recent.first() {
            // Events before the first recent consultation's start are not replayed.
            let start = events.iter().position(
                |(_, e)| matches!(e, Event::Consulting { consult, .. } if consult == first),
            );
            events.drain(..start.unwrap_or(0));
        }
        // A consultation a stop cut short (not the one in flight) ended then.
        let in_flight = self
            .scheduler
            .supervisor_state()
            .consulting
            .as_ref()
            .map(|(n, _)| *n);
        let ended: Vec<u64> = events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::ConsultEnded { consult, .. } => Some(*consult),
                _ => None,
            })
            .collect();
        let cut: Vec<(i64, Event)> = events
            .iter()
            .filter_map(|(ts, e)| match e {
                Event::Consulting { consult, .. }
                    if !ended.contains(consult) && Some(*consult) != in_flight =>
                {
                    let message =
                        "interrupted: fleetdeck stopped while it ran (asked again)".into();
                    Some((
                        *ts,
                        Event::ConsultEnded {
                            consult: *consult,
                            message,
                            proposal: None,
                            spend: Spend::default(),
                            failed: true,
                        },
                    ))
                }
                _ => None,
            })
            .collect();
        events.extend(cut);
        let lines = recent.iter().map(|&n| (n, self.consult_lines(n))).collect();
        Ok((events, lines))
    }

    /// The readable lines of consultation `consult`'s transcript (its last
    /// [`HISTORY_LINES`]); none when it cannot be read.
    fn consult_lines(&self, consult: u64) -> Vec<(transcript::Stream, String)> {
        let Ok(t) = transcript::read(&self.fleet_dir.join(transcript::supervisor_path(consult)))
        else {
            return Vec::new();
        };
        let mut parser = t
            .header
            .as_ref()
            .map(|h| crate::agent::parser_for(h.format));
        let mut out = Vec::new();
        for line in &t.lines {
            match (line.s, parser.as_mut()) {
                (transcript::Stream::Out, Some(p)) => out.extend(
                    p.line(&line.l)
                        .iter()
                        .filter_map(super::planner_run::readable)
                        .map(|text| (line.s, text)),
                ),
                (transcript::Stream::Out, None) => {}
                (s, _) => out.push((s, line.l.clone())),
            }
        }
        let cut = out.len().saturating_sub(HISTORY_LINES);
        out.split_off(cut)
    }
}

/// A failed task's last attempt, as the planner is told about it.
struct LastAttempt {
    n: u32,
    agent: String,
    /// Its last messages (bounded by [`super::summary::last_messages`]).
    messages: Vec<String>,
}

/// Most characters of a reason, feedback or report quoted to the planner.
const QUOTE_CHARS: usize = 2000;

fn bounded(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{} …", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The `situation` of the planning prompt: the trigger in one line, then
/// its details (a failure's reason and last messages, the user's feedback,
/// what the agent reported).
fn situation_text(trigger: &Trigger, last: Option<&LastAttempt>) -> Option<String> {
    let mut text = match trigger {
        Trigger::Goal { .. } => return None,
        other => other.describe(),
    };
    match trigger {
        Trigger::Failed { reason, .. } => {
            text.push_str(&format!("\n\nWhy it failed:\n{}\n", bounded(reason)));
            if let Some(last) = last.filter(|l| !l.messages.is_empty()) {
                let tail = last.messages.len().saturating_sub(FAILED_LINES);
                text.push_str(&format!(
                    "\nThe last messages of its attempt {} (agent `{}`):\n",
                    last.n, last.agent
                ));
                for m in &last.messages[tail..] {
                    text.push_str(&format!("> {}\n", m.trim().replace('\n', "\n> ")));
                }
            }
        }
        Trigger::Feedback { feedback, .. } => {
            text.push_str(&format!(
                "\n\nThe user's feedback:\n{}\n",
                bounded(feedback)
            ));
        }
        Trigger::Reported { text: said, .. } => {
            text.push_str(&format!("\n\nThe agent wrote:\n{}\n", bounded(said)));
        }
        Trigger::Goal { .. } | Trigger::Stalled { .. } | Trigger::Config => {}
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::TaskId;

    fn id(s: &str) -> TaskId {
        TaskId::parse(s).unwrap()
    }

    #[test]
    fn a_failure_is_told_with_its_reason_and_the_last_messages_of_its_attempt() {
        let trigger = Trigger::Failed {
            task: id("api"),
            reason: "verify failed: cargo test\n2 tests failed".into(),
        };
        let last = LastAttempt {
            n: 3,
            agent: "codex".into(),
            messages: (1..=5).map(|n| format!("message {n}")).collect(),
        };
        let text = situation_text(&trigger, Some(&last)).unwrap();
        assert!(
            text.starts_with("`api` failed: verify failed: cargo test\n"),
            "{text}"
        );
        assert!(text.contains("Why it failed:\nverify failed: cargo test\n2 tests failed\n"));
        assert!(
            text.contains("attempt 3 (agent `codex`):\n> message 3\n> message 4\n> message 5\n")
        );
        assert!(
            !text.contains("message 2"),
            "bounded to the last {FAILED_LINES}"
        );
    }

    #[test]
    fn feedback_and_reports_are_quoted_and_a_goal_has_no_situation() {
        let goal = Trigger::Goal { goal: "g".into() };
        assert_eq!(situation_text(&goal, None), None);
        let fb = Trigger::Feedback {
            on: Box::new(goal),
            feedback: "smaller tasks please".into(),
        };
        let text = situation_text(&fb, None).unwrap();
        assert!(
            text.ends_with("The user's feedback:\nsmaller tasks please\n"),
            "{text}"
        );
        let long = Trigger::Reported {
            task: id("api"),
            kind: crate::core::supervisor::ReportKind::Found,
            text: "x".repeat(QUOTE_CHARS + 10),
        };
        let text = situation_text(&long, None).unwrap();
        assert!(text.ends_with(" …\n"), "bounded");
        assert!(text.len() < 2 * QUOTE_CHARS + 100);
    }
}
