//! What the cockpit knows of the supervisor: its profile, every
//! consultation seen (trigger, state, live transcript) in order, and the
//! proposal waiting for the user. Kept current by the engine's events
//! (`Consulting`, `Proposed`, `ConsultEnded`, `PlanChanged`,
//! `ProposalDiscarded`) and its live lines (`Notification::Supervisor`).

use super::transcript::Transcript;
use super::{LineKind, stream_kind};
use crate::core::Event;
use crate::core::supervisor::{Proposal, Trigger};
use crate::store::transcript::Stream;

/// Consultations kept in memory (the oldest leave first).
pub const MAX_CONSULTS: usize = 100;

/// Where one consultation stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsultState {
    /// The planner runs.
    Thinking,
    /// It proposed proposal `proposal` with `changes` changes, waiting for the user.
    Proposed { proposal: u64, changes: usize },
    /// It ended without a proposal: no change, refused answers or a failure (the engine's words).
    Ended { message: String },
    /// Its proposal was applied (`auto`: by autonomy, without asking).
    Applied { proposal: u64, auto: bool },
    /// Its proposal was thrown away.
    Discarded { proposal: u64 },
}

impl ConsultState {
    /// One line for the supervisor pane.
    pub fn describe(&self) -> String {
        match self {
            ConsultState::Thinking => "thinking…".into(),
            ConsultState::Proposed { proposal, changes } => {
                let s = if *changes == 1 { "" } else { "s" };
                format!("proposal {proposal}: {changes} change{s}, waiting for you")
            }
            ConsultState::Ended { message } => message.clone(),
            ConsultState::Applied {
                proposal,
                auto: false,
            } => format!("proposal {proposal} applied"),
            ConsultState::Applied {
                proposal,
                auto: true,
            } => format!("proposal {proposal} applied by itself (autonomy)"),
            ConsultState::Discarded { proposal } => format!("proposal {proposal} discarded"),
        }
    }
}

/// One consultation of the supervisor.
#[derive(Debug, Clone)]
pub struct Consultation {
    pub consult: u64,
    pub trigger: Trigger,
    pub state: ConsultState,
    /// Unix milliseconds of its start (as seen by the cockpit).
    pub started_ms: i64,
    /// Its live output (sanitized, bounded like a task's).
    pub transcript: Transcript,
}

/// The supervisor side of the read model.
#[derive(Debug, Clone, Default)]
pub struct SupervisorModel {
    /// The `[supervisor]` profile; None: the fleet has no supervisor.
    pub profile: Option<String>,
    /// Consultations in the order they started.
    pub consults: Vec<Consultation>,
    /// The proposal waiting to be confirmed, if any.
    pub pending: Option<Box<Proposal>>,
}

impl SupervisorModel {
    pub fn new(profile: Option<String>) -> SupervisorModel {
        SupervisorModel {
            profile,
            ..Default::default()
        }
    }

    /// True while a consultation runs.
    pub fn thinking(&self) -> bool {
        self.consults
            .iter()
            .any(|c| c.state == ConsultState::Thinking)
    }

    /// The consultation `consult`, if the cockpit saw it.
    pub fn consult(&self, consult: u64) -> Option<&Consultation> {
        self.consults.iter().find(|c| c.consult == consult)
    }

    /// Applies a supervisor event; true when it is one (and something changed).
    pub fn apply_event(&mut self, event: &Event, now_ms: i64, changes: usize) -> bool {
        match event {
            Event::Consulting { consult, trigger } => {
                self.consults.retain(|c| c.consult != *consult);
                self.consults.push(Consultation {
                    consult: *consult,
                    trigger: trigger.clone(),
                    state: ConsultState::Thinking,
                    started_ms: now_ms,
                    transcript: Transcript::default(),
                });
                if self.consults.len() > MAX_CONSULTS {
                    self.consults.remove(0);
                }
            }
            Event::Proposed { proposal } => {
                // A proposal answers the oldest consultation still thinking.
                if let Some(c) = self
                    .consults
                    .iter_mut()
                    .find(|c| c.state == ConsultState::Thinking)
                {
                    c.state = ConsultState::Proposed {
                        proposal: proposal.id,
                        changes,
                    };
                }
                self.pending = Some(proposal.clone());
            }
            Event::ConsultEnded { consult, message } => {
                if let Some(c) = self.consults.iter_mut().find(|c| c.consult == *consult) {
                    c.state = ConsultState::Ended {
                        message: crate::sanitize::sanitize(message).into_owned(),
                    };
                }
            }
            Event::PlanChanged {
                proposal: Some(p),
                auto,
                ..
            } => {
                self.settle(
                    *p,
                    ConsultState::Applied {
                        proposal: *p,
                        auto: *auto,
                    },
                );
            }
            Event::ProposalDiscarded { proposal } => {
                self.settle(
                    *proposal,
                    ConsultState::Discarded {
                        proposal: *proposal,
                    },
                );
            }
            _ => return false,
        }
        true
    }

    /// Proposal `proposal` is no longer pending: its consultation says how it ended.
    fn settle(&mut self, proposal: u64, state: ConsultState) {
        if self.pending.as_ref().is_some_and(|p| p.id == proposal) {
            self.pending = None;
        }
        let of = |c: &&mut Consultation| matches!(c.state, ConsultState::Proposed { proposal: p, .. } if p == proposal);
        if let Some(c) = self.consults.iter_mut().find(of) {
            c.state = state;
        }
    }

    /// A live line of consultation `consult` (sanitized by the transcript).
    pub fn push_line(&mut self, consult: u64, stream: Stream, line: &str, now_ms: i64) -> bool {
        let Some(c) = self.consults.iter_mut().find(|c| c.consult == consult) else {
            return false;
        };
        let kind = match stream {
            Stream::Out => LineKind::Message,
            other => stream_kind(other),
        };
        c.transcript.push_text(now_ms, kind, line);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::supervisor::Origin;

    fn proposal(id: u64) -> Box<Proposal> {
        Box::new(Proposal {
            id,
            origin: Origin::Supervisor,
            trigger: Trigger::Goal { goal: "g".into() },
            reasoning: None,
            specs: vec![],
            actions: vec![],
            warnings: vec![],
        })
    }

    #[test]
    fn a_consultation_goes_from_thinking_to_proposed_to_applied() {
        let mut m = SupervisorModel::new(Some("claude".into()));
        let trigger = Trigger::Goal {
            goal: "Add OAuth".into(),
        };
        assert!(m.apply_event(
            &Event::Consulting {
                consult: 1,
                trigger
            },
            5,
            0
        ));
        assert!(m.thinking());
        assert!(m.push_line(1, Stream::Out, "hello \x1b[31mred\x1b[0m", 6));
        assert!(!m.push_line(9, Stream::Out, "nobody's", 6));
        let t = &m.consult(1).unwrap().transcript;
        assert_eq!(t.get(0).unwrap().text, "hello red");
        m.apply_event(
            &Event::Proposed {
                proposal: proposal(3),
            },
            7,
            4,
        );
        assert!(!m.thinking());
        assert_eq!(m.pending.as_ref().unwrap().id, 3);
        assert_eq!(
            m.consult(1).unwrap().state.describe(),
            "proposal 3: 4 changes, waiting for you"
        );
        let changed = Event::PlanChanged {
            origin: Origin::Supervisor,
            reason: "r".into(),
            proposal: Some(3),
            auto: false,
            changes: vec![],
        };
        m.apply_event(&changed, 8, 0);
        assert!(m.pending.is_none());
        assert_eq!(m.consult(1).unwrap().state.describe(), "proposal 3 applied");
    }

    #[test]
    fn an_ended_or_discarded_consultation_says_so() {
        let mut m = SupervisorModel::default();
        for consult in [1, 2] {
            let trigger = Trigger::Config;
            m.apply_event(&Event::Consulting { consult, trigger }, 0, 0);
        }
        m.apply_event(
            &Event::ConsultEnded {
                consult: 2,
                message: "failed: the planner exited with 1".into(),
            },
            0,
            0,
        );
        m.apply_event(
            &Event::Proposed {
                proposal: proposal(1),
            },
            0,
            2,
        );
        m.apply_event(&Event::ProposalDiscarded { proposal: 1 }, 0, 0);
        let states: Vec<String> = m.consults.iter().map(|c| c.state.describe()).collect();
        assert_eq!(
            states,
            ["proposal 1 discarded", "failed: the planner exited with 1"]
        );
        assert!(m.pending.is_none());
        assert!(!m.apply_event(
            &Event::Nudged {
                task: crate::core::TaskId::parse("a").unwrap(),
                message: "m".into(),
            },
            0,
            0
        ));
    }
}
