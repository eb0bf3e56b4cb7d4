//! Roles: the built-in ones (`implementer`, `tester`, `documenter`,
//! `reviewer`, `planner`) with their default preambles; `[roles.NAME]` in
//! fleet.toml overrides or adds to them (see `config::roles`).

use serde::{Deserialize, Serialize};

/// The names of the built-in roles.
pub const BUILT_IN: [&str; 5] = ["implementer", "tester", "documenter", "reviewer", "planner"];

/// A role as loaded: a built-in one with the file's overrides, or one the
/// file defines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    /// Opens each new attempt's prompt, under "## Your role: NAME".
    pub preamble: String,
    /// The profile of a task of this role that names none.
    #[serde(default)]
    pub agent: Option<String>,
    /// Extra arguments appended to the profile's argv for this role's tasks.
    #[serde(default)]
    pub args: Vec<String>,
    /// The CLI's permission mode (Claude `--permission-mode`).
    #[serde(default)]
    pub permission_mode: Option<String>,
    /// The tools the CLI may use (Claude `--allowedTools`).
    #[serde(default)]
    pub allowed_tools: Vec<String>,
    /// Verify commands of this role's tasks (a task's own `verify` wins).
    #[serde(default)]
    pub verify: Option<Vec<String>>,
    /// False: the role's attempts must not change files; changes they make
    /// are saved under `refs/fleet/discarded/<id>/<n>`, never committed.
    pub may_change_files: bool,
}

/// The built-in role `name` with its default preamble.
pub fn built_in(name: &str) -> Option<Role> {
    let (preamble, may_change_files) = match name {
        "implementer" => (
            "You implement this task in the worktree. Read the code around the change first and \
             follow its conventions and names. Keep the change to what the task asks; add or \
             update the tests that prove it works, and run them before you finish.",
            true,
        ),
        "tester" => (
            "You write tests for this task. Test the behaviour the acceptance criteria describe, \
             including edge cases and errors, against the real code, not mocks of it. A test \
             that fails because the code is wrong is a finding: keep it and say so; do not \
             change the code under test to make it pass.",
            true,
        ),
        "documenter" => (
            "You document this task's feature for its users. Describe what exists in the code \
             now, with the names, options and examples the code really has; check each claim \
             against the source. Keep the existing structure and tone of the documents.",
            true,
        ),
        "reviewer" => (
            "You review work; you do not change files. Check the diff against the task and its \
             acceptance criteria, the team's contracts and conventions, and the rest of the \
             plan. Point at file and line for each problem and say what to change.",
            false,
        ),
        "planner" => (
            "You plan; you do not change files. Split the goal into small tasks that can run in \
             parallel, each with a clear prompt, acceptance criteria and the files it touches; \
             name dependencies only where one task needs another's result.",
            false,
        ),
        _ => return None,
    };
    Some(Role {
        name: name.to_owned(),
        preamble: preamble.to_owned(),
        agent: None,
        args: Vec::new(),
        permission_mode: None,
        allowed_tools: Vec::new(),
        verify: None,
        may_change_files,
    })
}

/// Every built-in role, in [`BUILT_IN`] order.
pub fn built_ins() -> Vec<Role> {
    BUILT_IN.iter().filter_map(|n| built_in(n)).collect()
}

/// The section that opens a new attempt's prompt for a task of `role`.
pub fn prompt_section(role: &Role) -> String {
    let mut out = format!("## Your role: {}\n\n{}\n", role.name, role.preamble.trim());
    if !role.may_change_files {
        out.push_str(
            "\nThis role does not change files: anything you change in the worktree is set aside, not committed.\n",
        );
    }
    out
}

/// `prompt` opened by the role's section, when there is a role.
pub fn with_role(role: Option<&Role>, prompt: &str) -> String {
    match role {
        Some(role) => format!("{}\n{prompt}", prompt_section(role)),
        None => prompt.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_role_has_a_short_preamble() {
        for role in built_ins() {
            let sentences = role.preamble.matches(". ").count() + 1;
            assert!(
                (2..=5).contains(&sentences),
                "{}: {}",
                role.name,
                role.preamble
            );
        }
        assert_eq!(built_ins().len(), BUILT_IN.len());
        assert!(built_in("writer").is_none());
    }

    #[test]
    fn the_role_opens_the_prompt_and_a_read_only_role_says_so() {
        let tester = built_in("tester").unwrap_or_else(|| unreachable!());
        let prompt = with_role(Some(&tester), "write tests for div");
        assert!(
            prompt.starts_with("## Your role: tester\n\nYou write tests"),
            "{prompt}"
        );
        assert!(prompt.ends_with("write tests for div"), "{prompt}");
        assert!(!prompt.contains("set aside"));
        let reviewer = built_in("reviewer").unwrap_or_else(|| unreachable!());
        assert!(prompt_section(&reviewer).contains("set aside, not committed"));
        assert_eq!(with_role(None, "p"), "p");
    }
}
