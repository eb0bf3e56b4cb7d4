//! `fleetdeck msg KIND "TEXT" [--path P]...`: run by an agent from its
//! worktree to tell the team something typed (progress, a blocker, a
//! decision, a contract...). Checks the kind (the error lists the 12), the
//! text (not empty, at most `inbox::TEXT_MAX` characters) and the paths
//! (relative, no `..`), and writes one message into the fleet's inbox
//! atomically; the engine takes it at once, or at its next start. It first
//! prints, once, the refusals of this task's earlier messages.

use std::path::PathBuf;

use super::agent_env::{agent_from, checked_text, finish, tell_refusals, write_entry};
use crate::core::team::{MessageKind, message::check_path};
use crate::runtime::inbox::Entry;

/// Runs the command; its exit code (2 outside an agent or on a bad argument).
pub fn main(kind: &str, text: &str, paths: &[String]) -> i32 {
    let result = send(kind, text, paths, |k| std::env::var(k).ok());
    finish(
        "msg",
        result.map(|(k, p)| (format!("sent a {k} message to the team"), p)),
    )
}

fn send(
    kind: &str,
    text: &str,
    paths: &[String],
    var: impl Fn(&str) -> Option<String>,
) -> Result<(MessageKind, PathBuf), (i32, String)> {
    let agent = agent_from("msg", var).map_err(|m| (2, m))?;
    tell_refusals(&agent);
    let kind = MessageKind::parse(kind).map_err(|m| (2, m))?;
    let text = checked_text(text, "say something: the text is empty").map_err(|m| (2, m))?;
    let paths = paths
        .iter()
        .map(|p| check_path(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| (2, m))?;
    let entry = Entry {
        kind: kind.name().to_owned(),
        task: agent.task.to_string(),
        attempt: agent.attempt,
        text,
        time_ms: crate::store::now_ms(),
        paths,
        command: None,
    };
    let path = write_entry(&agent, &entry)?;
    Ok((kind, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cli::agent_env::env_of as env;
    use crate::runtime::inbox;

    #[test]
    fn a_message_is_checked_then_one_file_in_the_inbox() {
        let fleet = tempfile::tempdir().unwrap();
        let dir = fleet.path().to_str().unwrap();
        let vars = [
            ("FLEET_DIR", dir),
            ("FLEET_TASK", "api"),
            ("FLEET_ATTEMPT", "2"),
        ];
        let err = |kind: &str, text: &str, paths: &[&str]| {
            let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
            send(kind, text, &paths, env(&vars)).unwrap_err()
        };
        let (code, m) = err("shout", "x", &[]);
        assert_eq!(code, 2);
        assert!(m.contains("`shout`") && m.contains("review-request"), "{m}");
        assert!(err("decision", "  ", &[]).1.contains("empty"));
        assert!(
            err("decision", &"x".repeat(4001), &[])
                .1
                .contains("at most 4000")
        );
        assert!(err("decision", "x", &["/etc"]).1.contains("absolute"));
        assert!(err("decision", "x", &["a/../../b"]).1.contains("`..`"));
        assert!(
            inbox::pending(&inbox::dir(fleet.path())).is_empty(),
            "nothing written"
        );
        let (outside, _) = send("decision", "x", &[], env(&[])).unwrap_err();
        assert_eq!(outside, 2);
        let paths = vec!["./src/api".to_string()];
        let (kind, path) = send("Contract", " GET /items ", &paths, env(&vars)).unwrap();
        assert_eq!(kind, MessageKind::Contract);
        let entry: Entry = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            (
                entry.kind.as_str(),
                entry.task.as_str(),
                entry.attempt,
                entry.text.as_str()
            ),
            ("contract", "api", 2, "GET /items")
        );
        assert_eq!(entry.paths, vec!["src/api".to_string()]);
    }
}
