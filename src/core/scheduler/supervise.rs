//! The supervisor in the scheduler: consultations (a goal, a task failed
//! for good, a stall, an agent's report, the user's feedback), the pending
//! proposal, and applying it (by the user's confirmation or by autonomy),
//! each applied change recorded with its origin and reason.

use super::{Out, Scheduler};
use crate::core::messages::{Actor, Command, CommandError, ConsultResult, Effect, Event};
use crate::core::supervisor::ReportKind;
use crate::core::task::TaskId;

impl Scheduler {
    /// `Plan`, `ConfirmProposal`, `DiscardProposal`, `ProposalFeedback`.
    pub(super) fn supervise_command(
        &mut self,
        command: Command,
        _out: &mut Out,
    ) -> Result<(), CommandError> {
        Err(CommandError::Invalid(format!(
            "{}: no supervisor yet",
            command.describe()
        )))
    }

    pub(super) fn proposed(&mut self, _consult: u64, _result: ConsultResult, _out: &mut Out) {}

    /// A running attempt's ledger says it is stuck: the card shows it
    /// (`Task::stalled`) and the log has it. A report of an attempt that
    /// is no longer live is stale and ignored.
    pub(super) fn stalled(&mut self, task: &TaskId, attempt: u32, why: String, out: &mut Out) {
        let Some(&i) = self.fleet.index.get(task) else {
            return;
        };
        if self.live_attempt(i) != Some(attempt) {
            return;
        }
        self.fleet.tasks[i].stalled = Some(why.clone());
        out.fx.push(Effect::SaveTask { task: task.clone() });
        out.record(
            Actor::Engine,
            Event::Stalled {
                task: task.clone(),
                attempt,
                why,
            },
        );
    }

    /// An agent ran `fleetdeck report`: recorded (also for an attempt that
    /// has ended since: what it found still holds).
    pub(super) fn agent_note(
        &mut self,
        task: &TaskId,
        attempt: u32,
        kind: ReportKind,
        text: String,
        out: &mut Out,
    ) {
        if !self.fleet.index.contains_key(task) {
            return;
        }
        out.record(
            Actor::Engine,
            Event::AgentReported {
                task: task.clone(),
                attempt,
                kind,
                text,
            },
        );
    }
}
