//! `fleetdeck report complexity|found "TEXT"`: run by an agent from its
//! worktree to tell the supervisor that its task is bigger than planned or
//! that it found work the plan lacks. Reads `FLEET_DIR`, `FLEET_TASK` and
//! `FLEET_ATTEMPT` (set for every agent fleetdeck runs) and writes one
//! message into the fleet's inbox (see [`crate::runtime::inbox`]); the
//! engine takes it at once, or at its next start.

use std::path::PathBuf;

use clap::ValueEnum;

use super::agent_env::{agent_from, checked_text, finish, write_entry};
use crate::core::supervisor::ReportKind;
use crate::runtime::inbox::{self, Entry};

/// What an agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// The task is bigger or harder than planned.
    Complexity,
    /// New work the plan does not have.
    Found,
}

impl From<KindArg> for ReportKind {
    fn from(k: KindArg) -> ReportKind {
        match k {
            KindArg::Complexity => ReportKind::Complexity,
            KindArg::Found => ReportKind::Found,
        }
    }
}

/// Runs the command; its exit code (2 outside an agent or without text).
pub fn main(kind: KindArg, text: &str) -> i32 {
    let result = report(kind.into(), text, |k| std::env::var(k).ok());
    finish(
        "report",
        result.map(|p| ("reported to the supervisor".to_owned(), p)),
    )
}

fn report(
    kind: ReportKind,
    text: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Result<PathBuf, (i32, String)> {
    let agent = agent_from("report", var).map_err(|m| (2, m))?;
    let text = checked_text(text, "say what you found: the text is empty").map_err(|m| (2, m))?;
    let entry = Entry {
        kind: inbox::report_kind_name(kind),
        task: agent.task.to_string(),
        attempt: agent.attempt,
        text,
        time_ms: crate::store::now_ms(),
        paths: Vec::new(),
        command: None,
    };
    write_entry(&agent, &entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cli::agent_env::env_of as env;

    #[test]
    fn outside_an_agent_it_refuses_and_says_why() {
        let (code, message) = report(ReportKind::Found, "x", env(&[])).unwrap_err();
        assert_eq!(
            (code, message),
            (2, super::super::agent_env::outside("report"))
        );
        let fleet = tempfile::tempdir().unwrap();
        let dir = fleet.path().to_str().unwrap();
        let bad = [
            ("FLEET_DIR", dir),
            ("FLEET_TASK", "api"),
            ("FLEET_ATTEMPT", "x"),
        ];
        assert_eq!(
            report(ReportKind::Found, "x", env(&bad)).unwrap_err().1,
            "FLEET_ATTEMPT=x is not an attempt number"
        );
        let gone = [
            ("FLEET_DIR", "/nonexistent/.fleet"),
            ("FLEET_TASK", "api"),
            ("FLEET_ATTEMPT", "1"),
        ];
        assert!(
            report(ReportKind::Found, "x", env(&gone))
                .unwrap_err()
                .1
                .contains("is not a directory")
        );
    }

    #[test]
    fn a_report_is_one_message_in_the_inbox() {
        let fleet = tempfile::tempdir().unwrap();
        let dir = fleet.path().to_str().unwrap();
        let vars = [
            ("FLEET_DIR", dir),
            ("FLEET_TASK", "api"),
            ("FLEET_ATTEMPT", "3"),
        ];
        assert!(
            report(ReportKind::Found, "  ", env(&vars)).is_err(),
            "empty"
        );
        let path = report(ReportKind::Complexity, " two modules, not one ", env(&vars)).unwrap();
        assert_eq!(
            inbox::pending(&inbox::dir(fleet.path())),
            vec![path.clone()]
        );
        let entry: Entry = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            (
                entry.kind.as_str(),
                entry.task.as_str(),
                entry.attempt,
                entry.text.as_str()
            ),
            ("report.complexity", "api", 3, "two modules, not one")
        );
    }
}
