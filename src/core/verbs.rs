//! What may be done to a task in which status: one rule per [`Verb`], used
//! by the scheduler (before it applies a command), the cockpit's keys
//! (before they send one) and its forms (before they ask to confirm), so
//! a refusal reads the same everywhere and nothing is confirmed that the
//! scheduler then refuses.

use crate::core::fleet::Task;
use crate::core::messages::CommandError;
use crate::core::status::Status;
use crate::core::task::TaskId;

/// Something a user asks of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Pause,
    Resume,
    Reassign,
    Edit,
    Drop,
    Retry,
    Approve,
    RequestChanges,
    Reject,
    /// Bring a task in review onto the target (or send its agent to an update conflict).
    Update,
    /// Take the user's resolution of an update conflict.
    Resolve,
    /// Stop a running attempt and resume its session with a message.
    Nudge,
    /// Stop a running attempt and start it again in the same worktree.
    Restart,
    /// Run a queued task once per profile (fan-out).
    FanOut,
    /// Pick one candidate of a fan-out task whose candidates have all finished.
    Pick,
}

/// A rule: how the verb is named, the statuses it needs (in words), and the test.
type Rule = (&'static str, &'static str, fn(&Status) -> bool);

impl Verb {
    /// The rule of each verb; adding a verb is adding its line here.
    fn rule(self) -> Rule {
        use Status as S;
        match self {
            // Pause and resume are idempotent: pausing a paused task does nothing.
            Verb::Pause => ("pause", "running or queued", |s| {
                matches!(s, S::Running { .. } | S::Queued { .. } | S::Paused { .. })
            }),
            Verb::Resume => ("resume", "paused or held", |s| {
                matches!(s, S::Paused { .. } | S::Queued { .. } | S::Running { .. })
            }),
            Verb::Reassign => ("reassign", "queued, running, in review or failed", |s| {
                matches!(
                    s,
                    S::Queued { .. }
                        | S::Running { .. }
                        | S::Paused { .. }
                        | S::Review { .. }
                        | S::Failed { .. }
                )
            }),
            Verb::Edit => ("edit", "queued or failed (not running)", |s| {
                matches!(s, S::Queued { .. } | S::Failed { .. })
            }),
            Verb::Drop => (
                "drop",
                "not verifying, updating, merging or finished",
                |s| {
                    !matches!(
                        s,
                        S::Verifying { .. } | S::Merging { .. } | S::Updating { .. }
                    ) && !s.is_final()
                },
            ),
            // A comparing fan-out task is retried when all its candidates failed.
            Verb::Retry => ("retry", "failed", |s| {
                matches!(s, S::Failed { .. } | S::Comparing)
            }),
            Verb::Approve => ("approve", "in review", is_review),
            Verb::RequestChanges => ("request changes", "in review", is_review),
            Verb::Reject => ("reject", "in review", is_review),
            Verb::Update => ("update", "in review (or updating, to finish it)", |s| {
                is_review(s) || matches!(s, S::Updating { .. })
            }),
            Verb::Resolve => ("take a resolution", "in review", is_review),
            Verb::Nudge => ("nudge", "running", is_running),
            Verb::Restart => ("restart", "running", is_running),
            Verb::FanOut => ("fan out", "queued", |s| matches!(s, S::Queued { .. })),
            Verb::Pick => ("pick a candidate", "comparing its candidates", |s| {
                matches!(s, S::Comparing)
            }),
        }
    }

    /// How messages name the verb ("request changes").
    pub fn name(self) -> &'static str {
        self.rule().0
    }

    /// Whether a task in `status` allows the verb.
    pub fn allowed_in(self, status: &Status) -> bool {
        (self.rule().2)(status)
    }
}

fn is_running(s: &Status) -> bool {
    matches!(s, Status::Running { .. })
}

fn is_review(s: &Status) -> bool {
    matches!(s, Status::Review { .. })
}

/// Why a task refuses a verb; its text is the scheduler's
/// [`CommandError::WrongStatus`] text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub task: TaskId,
    pub status: &'static str,
    pub verb: Verb,
    /// Set when the task is a candidate of this fan-out task, which is
    /// approved by picking it instead.
    pub candidate_of: Option<TaskId>,
}

impl From<Refusal> for CommandError {
    fn from(r: Refusal) -> CommandError {
        if let Some(parent) = r.candidate_of {
            return CommandError::Invalid(format!(
                "`{}` is a candidate of `{parent}`: pick it: `fleetdeck pick {parent} {}` or Enter in the compare view",
                r.task, r.task
            ));
        }
        CommandError::WrongStatus {
            task: r.task,
            status: r.status,
            action: r.verb.name(),
            needs: r.verb.rule().1,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        CommandError::from(self.clone()).fmt(f)
    }
}

impl std::error::Error for Refusal {}

impl Task {
    /// Whether the task's status allows `verb` now; the refusal says why not.
    pub fn allows(&self, verb: Verb) -> Result<(), Refusal> {
        if let (Verb::Approve, Some(parent)) = (verb, &self.spec.candidate_of) {
            return Err(Refusal {
                task: self.spec.id.clone(),
                status: self.status.name(),
                verb,
                candidate_of: Some(parent.clone()),
            });
        }
        if verb.allowed_in(&self.status) {
            Ok(())
        } else {
            Err(Refusal {
                task: self.spec.id.clone(),
                status: self.status.name(),
                verb,
                candidate_of: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::task::TaskSpec;

    fn task(status: Status) -> Task {
        let spec: TaskSpec =
            toml::from_str("id = \"a\"\ntitle = \"A\"\nprompt = \"p\"\nagent = \"claude\"\n")
                .expect("a spec");
        let mut t = Task::new(spec);
        t.status = status;
        t
    }

    #[test]
    fn a_refusal_reads_like_the_schedulers_error() {
        let t = task(Status::Done { commit: "c".into() });
        let e = t.allows(Verb::Approve).expect_err("done is not in review");
        assert_eq!(
            e.to_string(),
            "task `a` is done: approve needs a task that is in review"
        );
        assert!(
            task(Status::Review {
                attempt: 1,
                block: None
            })
            .allows(Verb::Approve)
            .is_ok()
        );
        assert!(
            task(Status::Queued { held: false })
                .allows(Verb::Edit)
                .is_ok()
        );
        assert!(
            task(Status::Running { attempt: 1 })
                .allows(Verb::Edit)
                .is_err()
        );
        assert!(
            task(Status::Merging { attempt: 1 })
                .allows(Verb::Drop)
                .is_err()
        );
    }

    #[test]
    fn a_candidate_is_picked_not_approved() {
        let mut t = task(Status::Review {
            attempt: 1,
            block: None,
        });
        t.spec.candidate_of = Some(TaskId::parse("t").expect("an id"));
        let e = t.allows(Verb::Approve).expect_err("a candidate");
        assert_eq!(
            e.to_string(),
            "`a` is a candidate of `t`: pick it: `fleetdeck pick t a` or Enter in the compare view"
        );
        assert!(t.allows(Verb::Reject).is_ok());
        assert!(task(Status::Comparing).allows(Verb::Pick).is_ok());
        assert!(task(Status::FannedOut).allows(Verb::Pick).is_err());
        assert!(task(Status::Comparing).allows(Verb::Retry).is_ok());
        assert!(task(Status::FannedOut).allows(Verb::Drop).is_ok());
    }
}
