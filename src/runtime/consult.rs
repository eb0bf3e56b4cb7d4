//! Consulting the supervisor: the engine runs the planner for an
//! [`Effect::Consult`](crate::core::Effect::Consult) on the plan as it is
//! and reports [`Report::Proposed`].

use super::Msg;
use super::engine::Engine;
use crate::core::supervisor::Trigger;
use crate::core::{ConsultResult, Report, Spend};

impl Engine {
    pub(super) fn consult(&mut self, consult: u64, trigger: Trigger) {
        let _ = trigger;
        let report = Report::Proposed {
            consult,
            result: ConsultResult::Failed {
                message: "no [supervisor] is configured".into(),
                spend: Spend::default(),
            },
        };
        let _ = self.tx.send(Msg::Report(report));
    }
}
