//! What every agent is told about `fleetdeck report` when the fleet has a
//! supervisor: the section [`with_reporting`] appends to its prompt (the
//! engine does, when it starts an agent; a resumed session gets only its
//! new instructions).

/// The heading of the section, so it is added once.
pub const HEADING: &str = "## Reporting to the supervisor";

/// The section appended to an agent's prompt.
pub fn reporting_section() -> String {
    format!(
        "{HEADING}\n\
         A supervisor watches this task and can change the plan. From this worktree you can tell it:\n\
         - `fleetdeck report complexity \"WHAT\"` when the task is bigger or harder than planned (it may split it);\n\
         - `fleetdeck report found \"WHAT\"` when you find work the task does not cover (it may add a task).\n\
         Keep working on your task after reporting.\n"
    )
}

/// `prompt` with the reporting section at its end (once).
pub fn with_reporting(prompt: &str) -> String {
    if prompt.contains(HEADING) {
        return prompt.to_owned();
    }
    let mut out = prompt.trim_end().to_owned();
    out.push_str("\n\n");
    out.push_str(&reporting_section());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_names_both_kinds_and_is_added_once() {
        let once = with_reporting("do the work\n");
        assert!(once.starts_with("do the work\n\n## Reporting to the supervisor\n"));
        assert!(once.contains("fleetdeck report complexity \"WHAT\""));
        assert!(once.contains("fleetdeck report found \"WHAT\""));
        assert_eq!(with_reporting(&once), once);
    }
}
