//! The one outcome of an attempt: what its agent did × whether it changed
//! anything × what the verify gate said (or what a reviewer decided).
//!
//! The scheduler decides it (when the agent process ends with a failure, when
//! the gate finishes, when a reviewer rejects the work) and sends it in
//! [`crate::core::Event::AttemptEnded`]; the store keeps it, and Info,
//! `fleetdeck log`, `status --json` and the cards show its [`AttemptOutcome::word`].

use serde::{Deserialize, Serialize};

use super::status::Status;
use crate::agent::FailureClass;

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The agent finished and its work passed the verify gate.
    Succeeded,
    /// The agent finished without changing any file (counts as a failure).
    NoChanges,
    /// The agent added nothing to work that had already passed the gate:
    /// the task went back to review on that work (not counted).
    NoFurtherChanges,
    /// The work was committed but the verify command `command` failed.
    VerifyFailed { command: String },
    /// The agent failed; `class` is None for rows written before classes were stored.
    AgentFailed {
        #[serde(default)]
        class: Option<FailureClass>,
    },
    /// Committing or verifying failed for a reason outside the agent's work.
    GateError,
    /// fleetdeck stopped while the attempt ran (it is redone).
    Interrupted,
    /// It passed its gate, then the reviewer rejected the work.
    Rejected,
    /// Stopped at the user's request (reassigned or dropped while running).
    Stopped,
}

impl AttemptOutcome {
    /// The word every view shows: "succeeded", "verify failed",
    /// "agent failed (crash)", ...
    pub fn word(&self) -> String {
        match self {
            AttemptOutcome::Succeeded => "succeeded".into(),
            AttemptOutcome::NoChanges => "no changes".into(),
            AttemptOutcome::NoFurtherChanges => "no further changes".into(),
            AttemptOutcome::VerifyFailed { .. } => "verify failed".into(),
            AttemptOutcome::AgentFailed { class: None } => "agent failed".into(),
            AttemptOutcome::AgentFailed {
                class: Some(FailureClass::Environment),
            } => "environment fault".into(),
            AttemptOutcome::AgentFailed { class: Some(class) } => {
                format!("agent failed ({})", class_word(*class))
            }
            AttemptOutcome::GateError => "gate error".into(),
            AttemptOutcome::Interrupted => "interrupted".into(),
            AttemptOutcome::Rejected => "rejected".into(),
            AttemptOutcome::Stopped => "stopped".into(),
        }
    }

    /// The word with its detail: "verify failed: `cargo test`".
    pub fn describe(&self) -> String {
        match self {
            AttemptOutcome::VerifyFailed { command } => format!("verify failed: `{command}`"),
            other => other.word(),
        }
    }

    /// How views colour it.
    pub fn tone(&self) -> Tone {
        match self {
            AttemptOutcome::Succeeded | AttemptOutcome::NoFurtherChanges => Tone::Good,
            AttemptOutcome::Interrupted | AttemptOutcome::Stopped => Tone::Neutral,
            AttemptOutcome::AgentFailed {
                class: Some(FailureClass::Environment | FailureClass::RateLimited),
            } => Tone::Neutral,
            _ => Tone::Bad,
        }
    }

    /// The stored form (the serde JSON), for the store's outcome column.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.word())
    }

    /// Reads a stored outcome: the serde JSON, or a word written by older
    /// versions ("succeeded", "failed", "stopped", "interrupted"). None for
    /// text that is neither.
    pub fn parse(stored: &str) -> Option<AttemptOutcome> {
        let stored = stored.trim();
        if stored.starts_with('{') {
            return serde_json::from_str(stored).ok();
        }
        Some(match stored {
            "succeeded" => AttemptOutcome::Succeeded,
            "failed" => AttemptOutcome::AgentFailed { class: None },
            "stopped" => AttemptOutcome::Stopped,
            "interrupted" => AttemptOutcome::Interrupted,
            "rejected" => AttemptOutcome::Rejected,
            "no changes" => AttemptOutcome::NoChanges,
            "no further changes" => AttemptOutcome::NoFurtherChanges,
            "gate error" => AttemptOutcome::GateError,
            _ => return None,
        })
    }
}

/// The word for attempt `n` of a task in `status` whose outcome is
/// `outcome`: its [`AttemptOutcome::word`], or while it has none,
/// "verifying" (its gate runs) or "running".
pub fn attempt_word(outcome: Option<&AttemptOutcome>, n: u32, status: &Status) -> String {
    match outcome {
        Some(o) => o.word(),
        None if *status == (Status::Verifying { attempt: n }) => "verifying".into(),
        None => "running".into(),
    }
}

impl std::fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.word())
    }
}

/// How an outcome is coloured: passed, failed, or neither (not the agent's doing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Neutral,
}

fn class_word(class: FailureClass) -> &'static str {
    match class {
        FailureClass::RateLimited => "rate limited",
        FailureClass::Auth => "authentication",
        FailureClass::PermissionDenied => "permission denied",
        FailureClass::TurnLimit => "turn limit",
        FailureClass::Timeout => "timeout",
        FailureClass::Crash => "crash",
        FailureClass::Environment => "environment",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_what_was_stored() {
        let all = [
            AttemptOutcome::Succeeded,
            AttemptOutcome::NoChanges,
            AttemptOutcome::NoFurtherChanges,
            AttemptOutcome::VerifyFailed {
                command: "cargo test".into(),
            },
            AttemptOutcome::AgentFailed {
                class: Some(FailureClass::Crash),
            },
            AttemptOutcome::AgentFailed { class: None },
            AttemptOutcome::GateError,
            AttemptOutcome::Interrupted,
            AttemptOutcome::Rejected,
            AttemptOutcome::Stopped,
        ];
        for o in all {
            assert_eq!(
                AttemptOutcome::parse(&o.to_stored()),
                Some(o.clone()),
                "{o}"
            );
        }
    }

    #[test]
    fn words_of_older_versions_are_mapped() {
        assert_eq!(
            AttemptOutcome::parse("succeeded"),
            Some(AttemptOutcome::Succeeded)
        );
        assert_eq!(
            AttemptOutcome::parse("failed").map(|o| o.word()),
            Some("agent failed".into())
        );
        assert_eq!(
            AttemptOutcome::parse("interrupted"),
            Some(AttemptOutcome::Interrupted)
        );
        assert_eq!(
            AttemptOutcome::parse("stopped"),
            Some(AttemptOutcome::Stopped)
        );
        assert_eq!(AttemptOutcome::parse("weird"), None);
    }

    #[test]
    fn words_name_the_failure() {
        let crash = AttemptOutcome::AgentFailed {
            class: Some(FailureClass::Crash),
        };
        assert_eq!(crash.word(), "agent failed (crash)");
        let verify = AttemptOutcome::VerifyFailed {
            command: "make test".into(),
        };
        assert_eq!(verify.word(), "verify failed");
        assert_eq!(verify.describe(), "verify failed: `make test`");
        assert_eq!(
            AttemptOutcome::NoFurtherChanges.word(),
            "no further changes"
        );
        assert_eq!(verify.tone(), Tone::Bad);
        assert_eq!(AttemptOutcome::Succeeded.tone(), Tone::Good);
    }
}
