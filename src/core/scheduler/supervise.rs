//! The supervisor in the scheduler: consultations (a goal, a task failed
//! for good, a stall, an agent's report, the user's feedback), the pending
//! proposal, and applying it (by the user's confirmation or by autonomy),
//! each applied change recorded with its origin and reason.

use super::{Out, Scheduler};
use crate::core::messages::{Command, CommandError, ConsultResult};
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

    pub(super) fn stalled(&mut self, _task: &TaskId, _attempt: u32, _why: String, _out: &mut Out) {}

    pub(super) fn agent_note(
        &mut self,
        _task: &TaskId,
        _attempt: u32,
        _kind: ReportKind,
        _text: String,
        _out: &mut Out,
    ) {
    }
}
