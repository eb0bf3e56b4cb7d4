//! Nudging and restarting a running attempt.

use super::{Out, Scheduler};
use crate::core::messages::CommandError;
use crate::core::task::TaskId;

impl Scheduler {
    pub(super) fn nudge(
        &mut self,
        task: &TaskId,
        _message: String,
        _out: &mut Out,
    ) -> Result<(), CommandError> {
        Err(CommandError::Invalid(format!(
            "nudge `{task}`: not built yet"
        )))
    }

    pub(super) fn restart(&mut self, task: &TaskId, _out: &mut Out) -> Result<(), CommandError> {
        Err(CommandError::Invalid(format!(
            "restart `{task}`: not built yet"
        )))
    }
}
