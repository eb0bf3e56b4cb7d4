//! Environment faults in the engine: a write under `.fleet` (or into the
//! repository) that the machine refuses (disk full, read-only file system,
//! permissions). They pause the fleet with one warning per episode instead
//! of failing tasks; see [`crate::core::scheduler::environment_reason`].

use super::engine::{Engine, Notification};
use crate::agent::FailureClass;
use crate::core::{AgentResult, GateResult, Report};
use crate::store::StoreError;

/// The message of a job's report that says it hit an environment fault.
pub(super) fn environment_fault_of(report: &Report) -> Option<String> {
    match report {
        Report::AgentExited {
            result:
                AgentResult::Failed {
                    class: FailureClass::Environment,
                    message,
                },
            ..
        }
        | Report::Gated {
            result: GateResult::Environment { message },
            ..
        } => Some(message.clone()),
        _ => None,
    }
}

impl Engine {
    /// After a store write: an environment fault (disk full, read-only...)
    /// pauses the fleet; any other failure is logged and observers are told;
    /// the engine goes on either way.
    pub(super) fn check(&mut self, result: Result<(), StoreError>) {
        match result {
            Ok(()) => {}
            Err(e) if e.is_environment() => {
                self.environment_fault(&format!("writing the fleet's database failed: {e}"));
            }
            Err(e) => {
                tracing::error!("{e}");
                self.notify(Notification::Warning {
                    message: e.to_string(),
                });
            }
        }
    }

    /// A write under `.fleet` failed for a reason outside fleetdeck and the
    /// agents (`message` says what, where and the OS error). The first fault
    /// of an episode pauses the fleet and warns once, with what to do; later
    /// ones, until the fleet is resumed, are only logged.
    pub(super) fn environment_fault(&mut self, message: &str) {
        if self.fault {
            tracing::warn!("environment fault (fleet already paused for it): {message}");
            return;
        }
        self.fault = true;
        let reason = crate::core::scheduler::environment_reason(message);
        tracing::error!("environment fault: {reason}");
        self.notify(Notification::Warning {
            message: reason.clone(),
        });
        let fx = self.scheduler.environment_fault(message);
        self.apply(fx);
    }
}
