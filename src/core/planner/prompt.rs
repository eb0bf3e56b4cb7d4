//! The text sent to the planner: the planning prompt (goal, repository,
//! agents, roles, the current plan and the output contract) and the
//! follow-up that re-asks with the errors of a refused answer.

use std::fmt::Write;

use super::{PlanProblem, schema};
use crate::core::fleet::Task;
use crate::core::status::Status;

/// What the repository is, as gathered by the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoSummary {
    /// The top-level tree, one entry a line.
    pub tree: String,
    /// The first lines of the README.
    pub readme_head: String,
    pub languages: Vec<String>,
    /// The fleet's verify commands.
    pub verify: Vec<String>,
}

/// An agent profile the planner may assign tasks to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentProfile {
    pub name: String,
    /// What the profile is good at, as the user declared it.
    pub strengths: Option<String>,
    /// Its relative cost, as the user declared it (`low`, `high`...).
    pub cost: Option<String>,
}

/// Everything the planning prompt is made of.
#[derive(Debug, Clone, Copy)]
pub struct PlanningContext<'a> {
    pub goal: &'a str,
    pub repo: &'a RepoSummary,
    pub agents: &'a [AgentProfile],
    pub roles: &'a [String],
    /// The current plan (empty for a first plan).
    pub current: &'a [Task],
    /// Why the planner is consulted again, when it is not for a goal: a
    /// task failed, stalled, reported something, or the user's feedback.
    pub situation: Option<&'a str>,
}

/// The planning prompt for `ctx`, ending with the exact output contract.
pub fn planning_prompt(ctx: &PlanningContext<'_>) -> String {
    let mut out = String::new();
    out.push_str(
        "You are the planner of a fleet of coding agents. Turn the goal below into a plan: \
         a dependency graph of small, independently reviewable tasks, each run by one agent \
         in its own git worktree and merged in dependency order. Do not change any file yourself.\n\n",
    );
    let _ = writeln!(out, "## Goal\n\n{}\n", ctx.goal.trim());
    if let Some(situation) = ctx.situation.map(str::trim).filter(|s| !s.is_empty()) {
        let _ = writeln!(
            out,
            "## What happened\n\n{situation}\n\nPropose the smallest change to the plan that deals with it, \
             and say why in `notes`.\n"
        );
    }
    out.push_str(&repo_section(ctx.repo));
    out.push_str("## Agents\n\n");
    if ctx.agents.is_empty() {
        out.push_str("(none defined)\n");
    }
    for agent in ctx.agents {
        let mut about = Vec::new();
        if let Some(s) = &agent.strengths {
            about.push(format!("strengths: {}", s.trim()));
        }
        if let Some(c) = &agent.cost {
            about.push(format!("cost: {}", c.trim()));
        }
        if about.is_empty() {
            let _ = writeln!(out, "- `{}`", agent.name);
        } else {
            let _ = writeln!(out, "- `{}` ({})", agent.name, about.join("; "));
        }
    }
    out.push_str("\nPrefer cheaper agents for routine work.\n\n## Roles\n\n");
    if ctx.roles.is_empty() {
        out.push_str("(any label: implementer, tester, documenter, reviewer...)\n\n");
    } else {
        let _ = writeln!(out, "{}\n", ctx.roles.join(", "));
    }
    out.push_str(&current_section(ctx.current));
    out.push_str(&contract_section());
    out
}

fn repo_section(repo: &RepoSummary) -> String {
    let mut out = String::from("## Repository\n\n");
    let or_none = |s: &str| {
        if s.trim().is_empty() {
            "(none)".to_owned()
        } else {
            s.trim_end().to_owned()
        }
    };
    let _ = writeln!(
        out,
        "Top-level tree:\n\n```\n{}\n```\n",
        or_none(&repo.tree)
    );
    let _ = writeln!(
        out,
        "README (head):\n\n```\n{}\n```\n",
        or_none(&repo.readme_head)
    );
    let _ = writeln!(out, "Languages: {}\n", or_none(&repo.languages.join(", ")));
    out.push_str("Verify commands (run on every task's result):\n");
    if repo.verify.is_empty() {
        out.push_str("(none)\n");
    }
    for v in &repo.verify {
        let _ = writeln!(out, "- `{v}`");
    }
    out.push('\n');
    out
}

fn current_section(current: &[Task]) -> String {
    let mut out = String::from("## Current plan\n\n");
    if current.is_empty() {
        out.push_str("(empty: this is a new plan)\n\n");
        return out;
    }
    out.push_str(
        "Keep the id of every task you keep. Tasks that are done or running stay as they are: \
         do not propose a done task's id again.\n\n",
    );
    for task in current {
        let s = &task.spec;
        let state = match &task.status {
            Status::Failed { reason } => format!("failed: {}", reason.trim()),
            other => other.name().to_owned(),
        };
        let _ = write!(
            out,
            "- `{}` [{state}] {} (agent `{}`",
            s.id, s.title, s.agent
        );
        if let Some(role) = &s.role {
            let _ = write!(out, ", role {role}");
        }
        if !s.deps.is_empty() {
            let deps: Vec<&str> = s.deps.iter().map(|d| d.as_str()).collect();
            let _ = write!(out, ", after {}", deps.join(", "));
        }
        out.push_str(")\n");
    }
    out.push('\n');
    out
}

fn contract_section() -> String {
    let schema = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    format!(
        "## Output contract\n\n\
         Answer with one ```json block holding a JSON document that follows this JSON Schema \
         (every field of a task is described in it). List the files each task expects to touch \
         and its acceptance criteria; tasks that touch the same files should depend on each other. \
         To split a task, leave it out and give each part `split_from` with its id: its work so far \
         is handed to the parts. Use `actions` to retry, restart or nudge a task, to ask the user a \
         question, or to drop a task that is running or in review.\n\n\
         ```json\n{schema}\n```\n"
    )
}

/// The follow-up after a refused answer: the errors, one a line, and the
/// request for a corrected full plan in the same contract.
pub fn reask_prompt(problems: &[PlanProblem]) -> String {
    let mut out = String::from("Your plan could not be accepted:\n\n");
    for p in problems {
        let _ = writeln!(out, "- {p}");
    }
    out.push_str(
        "\nAnswer again with the corrected full plan (every task, not only the changed ones), \
         as one ```json block following the same JSON Schema as before.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::planner::AnswerError;
    use crate::core::task::TaskSpec;

    fn task(id: &str, deps: &[&str], status: Status) -> Task {
        let spec: TaskSpec = serde_json::from_value(serde_json::json!({
            "id": id, "title": format!("Title of {id}"), "prompt": "p", "deps": deps,
            "agent": "claude", "role": "implementer"
        }))
        .unwrap();
        let mut t = Task::new(spec);
        t.status = status;
        t
    }

    fn repo() -> RepoSummary {
        RepoSummary {
            tree: "Cargo.toml\nREADME.md\nsrc/\ntests/".into(),
            readme_head: "# demo\nA small web service.".into(),
            languages: vec!["Rust".into(), "TOML".into()],
            verify: vec!["cargo test".into()],
        }
    }

    fn agents() -> Vec<AgentProfile> {
        vec![
            AgentProfile {
                name: "claude".into(),
                strengths: Some("architecture, refactoring".into()),
                cost: Some("high".into()),
            },
            AgentProfile {
                name: "sim".into(),
                strengths: None,
                cost: Some("low".into()),
            },
        ]
    }

    #[test]
    fn a_first_plan_prompt() {
        let repo = repo();
        let agents = agents();
        let roles = vec!["implementer".to_owned(), "tester".to_owned()];
        let prompt = planning_prompt(&PlanningContext {
            goal: "Add OAuth login",
            repo: &repo,
            agents: &agents,
            roles: &roles,
            current: &[],
            situation: None,
        });
        insta::assert_snapshot!(prompt);
    }

    #[test]
    fn a_replan_prompt_lists_every_task_with_its_state() {
        let current = [
            task(
                "schema",
                &[],
                Status::Done {
                    commit: "abc".into(),
                },
            ),
            task("api", &["schema"], Status::Running { attempt: 1 }),
            task("docs", &["api"], Status::Queued { held: false }),
            task(
                "ui",
                &[],
                Status::Failed {
                    reason: "verify failed: 2 tests".into(),
                },
            ),
        ];
        let repo = RepoSummary::default();
        let prompt = planning_prompt(&PlanningContext {
            goal: "Also add logout",
            repo: &repo,
            agents: &[],
            roles: &[],
            current: &current,
            situation: Some("Task `ui` failed after 2 attempts: verify failed."),
        });
        let plan = prompt
            .split("## Current plan")
            .nth(1)
            .and_then(|s| s.split("## Output contract").next())
            .unwrap();
        insta::assert_snapshot!(plan);
        assert!(prompt.contains(
            "## What happened\n\nTask `ui` failed after 2 attempts: verify failed.\n\nPropose"
        ));
        assert!(prompt.contains("Top-level tree:\n\n```\n(none)\n```"));
        assert!(prompt.contains("Agents\n\n(none defined)"));
    }

    #[test]
    fn the_contract_embeds_the_schema_that_parses_back() {
        let repo = repo();
        let prompt = planning_prompt(&PlanningContext {
            goal: "g",
            repo: &repo,
            agents: &agents(),
            roles: &[],
            current: &[],
            situation: None,
        });
        let block = prompt.rsplit("```json\n").next().unwrap();
        let json = block.split("\n```").next().unwrap();
        let back: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, schema());
        assert!(prompt.contains("Answer with one ```json block"));
    }

    #[test]
    fn reask_lists_each_problem() {
        let problems = [
            PlanProblem::Answer(AnswerError::NoPlan),
            PlanProblem::SelfDep { task: "a".into() },
        ];
        insta::assert_snapshot!(reask_prompt(&problems));
    }
}
