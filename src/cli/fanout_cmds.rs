//! `fleetdeck pick T CANDIDATE` and `fleetdeck fanout T AGENT AGENT...`:
//! the fan-out commands, applied through a held engine like `approve`.

use std::path::Path;

use super::task_cmds::simple;
use crate::core::messages::Command;
use crate::core::task::TaskId;

/// Picks `candidate` of fan-out task `id`: it merges, the others are discarded.
pub fn pick(root: &Path, id: &str, candidate: &str) -> i32 {
    let candidate = match TaskId::parse(candidate) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fleetdeck: candidate: {e}");
            return 2;
        }
    };
    simple(root, id, |task| Command::Pick { task, candidate })
}

/// Makes queued task `id` a fan-out task over `agents`.
pub fn fanout(root: &Path, id: &str, agents: Vec<String>) -> i32 {
    simple(root, id, |task| Command::FanOut { task, agents })
}
