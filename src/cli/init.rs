//! `fleetdeck init`: write a commented fleet.toml, with a profile for each
//! agent CLI found on PATH (and the simulated agent, which needs nothing).

use std::path::Path;

use crate::config::{Config, FILE_NAME};

/// Agent profiles `init` knows, by the program it looks for on PATH.
pub const PROFILES: [(&str, &str); 5] = [
    (
        "claude",
        r#"# Claude Code. bypassPermissions lets it run commands without asking; as root it also
# needs IS_SANDBOX=1. Use "acceptEdits" to allow file edits only.
[agents.claude]
command = ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose", "--permission-mode", "bypassPermissions"]
format = "claude"
max_parallel = 2
resume = ["--resume", "{session}"]   # a requested change continues the agent's session
timeout_secs = 3600
"#,
    ),
    (
        "codex",
        r#"# Codex CLI, non-interactive. Drop the bypass flag to keep its sandbox (it may then refuse to write).
[agents.codex]
command = ["codex", "exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "{prompt}"]
format = "codex"
resume_command = ["codex", "exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "resume", "{session}", "{prompt}"]
timeout_secs = 3600
"#,
    ),
    (
        "gemini",
        r#"# Gemini CLI. Without --yolo its editing tools are withheld and it cannot change files.
[agents.gemini]
command = ["gemini", "-p", "{prompt}", "--output-format", "stream-json", "--yolo"]
format = "gemini"
timeout_secs = 1800                  # it retries forever when its service is unreachable
"#,
    ),
    (
        "opencode",
        r#"# opencode. Add "-m", "provider/model" to pick a model.
[agents.opencode]
command = ["opencode", "run", "--format", "json", "{prompt}"]
format = "opencode"
"#,
    ),
    (
        "aider",
        r#"# aider. fleetdeck commits the result itself, so aider's own commits are turned off.
[agents.aider]
command = ["aider", "--message", "{prompt}", "--yes-always", "--no-pretty", "--no-auto-commits"]
format = "aider"
"#,
    ),
];

const HEADER: &str = r#"# fleet.toml: the fleet settings, agent profiles and plan for fleetdeck.
# Every option is described in fleet.example.toml in fleetdeck's repository.

[fleet]
# target = "main"       # branch approved work lands on (default: the branch checked out)
max_parallel = 4        # agents running at once
max_attempts = 3        # runs per task before it is Failed

[verify]
# Shell commands run in the task's worktree after its changes are committed.
commands = []           # e.g. ["cargo test"]; [] = no gate

# The simulated agent: runs the prompt as a script (say, write, append, run...).
[agents.sim]
command = ["fleetdeck", "sim-agent", "{prompt}"]
format = "claude"
"#;

/// The supervisor block `init` writes, commented out: planning is opt-in.
const SUPERVISOR: &str = r#"
# The supervisor plans: `fleetdeck plan "Add OAuth login"` asks this profile for
# a task graph and shows it as a plan diff to confirm; it is consulted again
# when a task fails for good or stalls. Uncomment to use it.
# [supervisor]
# agent = "claude"             # the profile that plans
# autonomy = "confirm"         # or "auto", or { retry = "auto", split = "confirm" }
# routing = [{ role = "tester", agent = "codex" }]
# reask_limit = 2              # answers asked again with the errors
# budget_usd = 5.0             # the supervisor's own limit over all its runs
# timeout_secs = 600           # one planner run
# stall_after_secs = 600       # no progress this long: the task is stalled
"#;

/// The roles and reviewer blocks `init` writes, commented out.
const ROLES: &str = r#"
# Roles: a task's `role` (implementer, tester, documenter, reviewer, planner,
# or your own [roles.NAME] with a preamble) opens its prompt with the role's
# preamble; any field of a built-in role can be overridden.
# [roles.tester]
# agent = "sim"                # the profile for its tasks that name none
# verify = ["cargo test"]      # its tasks' gate (a task's own verify wins)
# may_change_files = true      # false: changes are saved aside, never committed
# permission_mode = "acceptEdits"   # Claude --permission-mode
# allowed_tools = ["Read", "Edit"]  # Claude --allowedTools

# A reviewer agent checks each task that passed its gate before you do.
# [review]
# agent = "sim"                # the reviewer's profile
# rounds = 1                   # change requests sent back to the agent by themselves
# auto_approve_on_review = false
"#;

const EXAMPLE_TASK: &str = r#"
# The plan: one [[task]] per task. Later edits made in the cockpit live in .fleet/.
[[task]]
id = "hello"
title = "Say hello"
prompt = "write HELLO.md Hello from the fleet!\\n"
agent = "sim"
deps = []
"#;

/// The text `init` writes, with a profile for each program in `found`.
pub fn template(found: &[&str]) -> String {
    let mut text = HEADER.to_owned();
    for (program, profile) in PROFILES {
        if found.contains(&program) {
            text.push('\n');
            text.push_str(profile);
        }
    }
    text.push_str(SUPERVISOR);
    text.push_str(ROLES);
    text.push_str(EXAMPLE_TASK);
    text
}

/// Whether an executable `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

pub fn main(root: &Path, force: bool) -> i32 {
    let path = root.join(FILE_NAME);
    if path.exists() && !force {
        eprintln!(
            "fleetdeck: {} already exists; use --force to overwrite it",
            path.display()
        );
        return 1;
    }
    let found: Vec<&str> = PROFILES
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| on_path(p))
        .collect();
    let text = template(&found);
    if let Err(e) = Config::parse(&text, &path) {
        eprintln!("fleetdeck: internal error, the template does not parse: {e}");
        return 1;
    }
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("fleetdeck: cannot write {}: {e}", path.display());
        return 1;
    }
    println!("wrote {}", path.display());
    if found.is_empty() {
        println!(
            "no agent CLI (claude, codex, gemini, opencode, aider) found on PATH: only the simulated agent is configured"
        );
    } else {
        println!("agent profiles for: {}", found.join(", "));
    }
    println!("next: edit the [[task]] tables, then `fleetdeck run --headless`");
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_variant_parses() {
        let all: Vec<&str> = PROFILES.iter().map(|(p, _)| *p).collect();
        for found in [vec![], all] {
            let text = template(&found);
            let c = Config::parse(&text, Path::new("fleet.toml")).unwrap();
            assert_eq!(c.agents.len(), 1 + found.len());
            assert_eq!(c.tasks[0].id.as_str(), "hello");
        }
    }
}
