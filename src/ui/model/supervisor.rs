//! What the cockpit knows of the supervisor: its profile, every
//! consultation seen (trigger, state, live transcript) in order, and the
//! proposal waiting for the user. Kept current by the engine's events
//! (`Consulting`, `Proposed`, `ConsultEnded`, `PlanChanged`,
//! `ProposalDiscarded`) and its live lines (`Notification::Supervisor`).

use super::transcript::Transcript;
use super::{LineKind, stream_kind};
use crate::core::supervisor::{Proposal, Trigger};
use crate::core::{Event, Spend};
use crate::store::transcript::Stream;

/// Consultations kept in memory (the oldest leave first).
pub const MAX_CONSULTS: usize = 100;

/// Where one consultation stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsultState {
    /// The planner runs.
    Thinking,
    /// It made proposal `proposal`, waiting for the user (`message`: the engine's words).
    Proposed { proposal: u64, message: String },
    /// It ended without a proposal waiting: no change, applied by itself,
    /// refused answers or a failure (the engine's words).
    Ended { message: String },
    /// Its proposal was applied.
    Applied { proposal: u64 },
    /// Its proposal was thrown away.
    Discarded { proposal: u64 },
}

impl ConsultState {
    /// One line for the supervisor pane.
    pub fn describe(&self) -> String {
        match self {
            ConsultState::Thinking => "thinking…".into(),
            ConsultState::Proposed { proposal, message } => {
                format!("{message}: proposal {proposal} waits for you")
            }
            ConsultState::Ended { message } => message.clone(),
            ConsultState::Applied { proposal } => format!("proposal {proposal} applied"),
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
    /// What it cost (known when it ended).
    pub spend: Option<Spend>,
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
    /// The proposals waiting to be confirmed, oldest first.
    pub pending: Vec<Proposal>,
}

impl SupervisorModel {
    pub fn new(profile: Option<String>, pending: Vec<Proposal>) -> SupervisorModel {
        SupervisorModel {
            profile,
            consults: Vec::new(),
            pending,
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

    /// The proposal waiting longest, if any (what `Y` shows).
    pub fn first_pending(&self) -> Option<&Proposal> {
        self.pending.first()
    }

    /// True while proposal `id` waits for the user.
    pub fn is_pending(&self, id: u64) -> bool {
        self.pending.iter().any(|p| p.id == id)
    }

    /// Applies a supervisor event; true when it is one.
    pub fn apply_event(&mut self, event: &Event, now_ms: i64) -> bool {
        match event {
            Event::Consulting { consult, trigger } => {
                self.consults.retain(|c| c.consult != *consult);
                self.consults.push(Consultation {
                    consult: *consult,
                    trigger: trigger.clone(),
                    state: ConsultState::Thinking,
                    spend: None,
                    started_ms: now_ms,
                    transcript: Transcript::default(),
                });
                if self.consults.len() > MAX_CONSULTS {
                    self.consults.remove(0);
                }
            }
            Event::Proposed { proposal } => {
                self.pending.retain(|p| p.id != proposal.id);
                self.pending.push((**proposal).clone());
            }
            Event::ConsultEnded {
                consult,
                message,
                proposal,
                spend,
                ..
            } => {
                let message = crate::sanitize::sanitize(message).into_owned();
                let state = match proposal {
                    Some(p) if self.is_pending(*p) => ConsultState::Proposed {
                        proposal: *p,
                        message,
                    },
                    _ => ConsultState::Ended { message },
                };
                if let Some(c) = self.consults.iter_mut().find(|c| c.consult == *consult) {
                    c.state = state;
                    c.spend = Some(*spend);
                }
            }
            Event::PlanChanged {
                proposal: Some(p), ..
            } => self.settle(*p, ConsultState::Applied { proposal: *p }),
            Event::ProposalDiscarded { proposal } => self.settle(
                *proposal,
                ConsultState::Discarded {
                    proposal: *proposal,
                },
            ),
            _ => return false,
        }
        true
    }

    /// Proposal `proposal` no longer waits: its consultation says how it ended.
    fn settle(&mut self, proposal: u64, state: ConsultState) {
        self.pending.retain(|p| p.id != proposal);
        let of = |c: &&mut Consultation| matches!(c.state, ConsultState::Proposed { proposal: p, .. } if p == proposal);
        if let Some(c) = self.consults.iter_mut().find(of) {
            c.state = state;
        }
    }

    /// The model of a viewer that starts now: the recent supervisor events
    /// replayed (consultations with their states and costs), each with what
    /// its planner said, then the proposals that wait.
    pub fn replayed(
        profile: Option<String>,
        pending: Vec<Proposal>,
        history: &[(i64, Event)],
        lines: &[(u64, Vec<(Stream, String)>)],
    ) -> SupervisorModel {
        let mut model = SupervisorModel::new(profile, Vec::new());
        for (ts, event) in history {
            model.apply_event(event, *ts);
        }
        for (consult, said) in lines {
            let at = model.consult(*consult).map_or(0, |c| c.started_ms);
            for (stream, line) in said {
                model.push_line(*consult, *stream, line, at);
            }
        }
        // What waits now is what the engine says, whatever the replay left.
        model.pending = pending;
        model
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

    fn ended(consult: u64, message: &str, proposal: Option<u64>) -> Event {
        Event::ConsultEnded {
            consult,
            message: message.into(),
            proposal,
            spend: Spend {
                usd: 0.25,
                tokens: 900,
            },
            failed: false,
        }
    }

    #[test]
    fn a_consultation_goes_from_thinking_to_proposed_to_applied() {
        let mut m = SupervisorModel::new(Some("claude".into()), vec![]);
        let trigger = Trigger::Goal {
            goal: "Add OAuth".into(),
        };
        assert!(m.apply_event(
            &Event::Consulting {
                consult: 1,
                trigger
            },
            5
        ));
        assert!(m.thinking());
        assert!(m.push_line(1, Stream::Out, "hello \x1b[31mred\x1b[0m", 6));
        assert!(!m.push_line(9, Stream::Out, "nobody's", 6));
        let t = &m.consult(1).unwrap().transcript;
        assert_eq!(t.get(0).unwrap().text, "hello red");
        let proposed = Event::Proposed {
            proposal: proposal(3),
        };
        m.apply_event(&proposed, 7);
        assert!(m.thinking(), "thinking until it ends");
        m.apply_event(&ended(1, "proposed 4 changes", Some(3)), 8);
        assert!(!m.thinking());
        assert_eq!(m.first_pending().unwrap().id, 3);
        let c = m.consult(1).unwrap();
        assert_eq!(
            c.state.describe(),
            "proposed 4 changes: proposal 3 waits for you"
        );
        assert_eq!(c.spend.unwrap().usd, 0.25);
        let changed = Event::PlanChanged {
            origin: Origin::Supervisor,
            reason: "r".into(),
            proposal: Some(3),
            auto: false,
            changes: vec![],
        };
        m.apply_event(&changed, 9);
        assert!(m.pending.is_empty());
        assert_eq!(m.consult(1).unwrap().state.describe(), "proposal 3 applied");
    }

    #[test]
    fn an_ended_or_discarded_consultation_says_so() {
        let mut m = SupervisorModel::new(None, vec![*proposal(1)]);
        for consult in [1, 2] {
            let trigger = Trigger::Config;
            m.apply_event(&Event::Consulting { consult, trigger }, 0);
        }
        m.apply_event(
            &ended(2, "could not plan: the planner exited with 1", None),
            0,
        );
        m.apply_event(&ended(1, "proposed 2 changes", Some(1)), 0);
        m.apply_event(&Event::ProposalDiscarded { proposal: 1 }, 0);
        let states: Vec<String> = m.consults.iter().map(|c| c.state.describe()).collect();
        assert_eq!(
            states,
            [
                "proposal 1 discarded",
                "could not plan: the planner exited with 1"
            ]
        );
        assert!(m.pending.is_empty());
        let nudged = Event::Nudged {
            task: crate::core::TaskId::parse("a").unwrap(),
            message: "m".into(),
        };
        assert!(!m.apply_event(&nudged, 0));
    }

    #[test]
    fn a_viewer_that_starts_later_replays_the_history_with_what_was_said() {
        let history = vec![
            (
                10,
                Event::Consulting {
                    consult: 1,
                    trigger: Trigger::Goal { goal: "g".into() },
                },
            ),
            (
                11,
                Event::Proposed {
                    proposal: proposal(1),
                },
            ),
            (12, ended(1, "proposed 2 change(s)", Some(1))),
            (
                20,
                Event::Consulting {
                    consult: 2,
                    trigger: Trigger::Goal { goal: "h".into() },
                },
            ),
        ];
        let lines = vec![(1, vec![(Stream::Out, "Here is the plan.".to_owned())])];
        let m = SupervisorModel::replayed(Some("p".into()), vec![*proposal(1)], &history, &lines);
        let first = m.consult(1).unwrap();
        assert!(matches!(
            first.state,
            ConsultState::Proposed { proposal: 1, .. }
        ));
        assert_eq!(first.spend.unwrap().tokens, 900);
        assert_eq!(first.transcript.get(0).unwrap().text, "Here is the plan.");
        assert!(m.thinking(), "consultation 2 has not ended");
        assert_eq!(m.pending.len(), 1);
    }
}
