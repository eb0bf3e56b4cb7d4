//! Where an agent runs its `fleetdeck report|msg|context` from: its fleet,
//! task and attempt, read from `FLEET_DIR`, `FLEET_TASK` and
//! `FLEET_ATTEMPT` (set for every agent fleetdeck runs), each checked.

use std::path::PathBuf;

use crate::core::TaskId;

/// The agent's fleet, task and attempt.
#[derive(Debug, PartialEq)]
pub(crate) struct Agent {
    pub fleet_dir: PathBuf,
    pub task: TaskId,
    pub attempt: u32,
}

/// What `fleetdeck COMMAND` says when it is run outside an agent.
pub(crate) fn outside(command: &str) -> String {
    format!(
        "this is not a fleet agent: FLEET_DIR, FLEET_TASK and FLEET_ATTEMPT are set for the \
         agents fleetdeck runs; `fleetdeck {command}` is run by an agent from its worktree"
    )
}

/// The agent from the environment `var`, or what is missing or wrong.
pub(crate) fn agent_from(
    command: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Agent, String> {
    let (Some(dir), Some(task), Some(attempt)) =
        (var("FLEET_DIR"), var("FLEET_TASK"), var("FLEET_ATTEMPT"))
    else {
        return Err(outside(command));
    };
    let fleet_dir = PathBuf::from(&dir);
    if !fleet_dir.is_dir() {
        return Err(format!(
            "FLEET_DIR={dir} is not a directory (the fleet's .fleet directory)"
        ));
    }
    let task = TaskId::parse(&task).map_err(|e| format!("FLEET_TASK={task}: {e}"))?;
    let attempt = attempt
        .parse()
        .map_err(|_| format!("FLEET_ATTEMPT={attempt} is not an attempt number"))?;
    Ok(Agent {
        fleet_dir,
        task,
        attempt,
    })
}

/// The text of a message, trimmed, or why it cannot be sent.
pub(crate) fn checked_text(text: &str, empty: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(empty.to_owned());
    }
    let n = text.chars().count();
    if n > crate::runtime::inbox::TEXT_MAX {
        return Err(format!(
            "the text has {n} characters; at most {}",
            crate::runtime::inbox::TEXT_MAX
        ));
    }
    Ok(text.to_owned())
}

/// Writes `entry` into the agent's inbox: the file's path, or exit code 1
/// and why.
pub(crate) fn write_entry(
    agent: &Agent,
    entry: &crate::runtime::inbox::Entry,
) -> Result<PathBuf, (i32, String)> {
    crate::runtime::inbox::write(&agent.fleet_dir, entry).map_err(|e| {
        let dir = crate::runtime::inbox::dir(&agent.fleet_dir);
        (1, format!("cannot write into {}: {e}", dir.display()))
    })
}

/// Ends `fleetdeck COMMAND`: `done` and the file's name on stdout (exit
/// 0), or the error on stderr with its exit code.
pub(crate) fn finish(command: &str, result: Result<(String, PathBuf), (i32, String)>) -> i32 {
    match result {
        Ok((done, path)) => {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            println!("{done} ({name})");
            0
        }
        Err((code, message)) => {
            eprintln!("fleetdeck {command}: {message}");
            code
        }
    }
}

/// An environment of `vars` only (tests).
#[cfg(test)]
pub(crate) fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

/// Prints the refusals of the agent's earlier messages not yet told
/// (first, on stdout: what the agent reads of a command).
pub(crate) fn tell_refusals(agent: &Agent) {
    for (name, why) in crate::runtime::inbox::take_refusals(&agent.fleet_dir, &agent.task) {
        println!("your earlier message {name} was refused: {why}");
    }
}
