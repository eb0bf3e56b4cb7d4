//! Reading a planning prompt back into its parts: the inverse of
//! [`planning_prompt`](super::planning_prompt) and
//! [`reask_prompt`](super::reask_prompt), for the simulated planner
//! (`fleetdeck sim-agent`), which answers from what the prompt says. Kept
//! next to the prompt code and tested against it, so the two cannot drift.

use super::AgentProfile;

/// The first sentence of every planning prompt.
pub const PLANNING_OPENING: &str = "You are the planner of a fleet of coding agents.";
/// The first line of every re-ask.
pub const REASK_OPENING: &str = "Your plan could not be accepted:";

const GOAL: &str = "## Goal\n\n";
const HAPPENED: &str = "\n## What happened\n\n";
const HAPPENED_END: &str = "\n\nPropose the smallest change to the plan that deals with it";
const REPOSITORY: &str = "\n## Repository\n\n";
const VERIFY: &str = "Verify commands (run on every task's result):\n";
const AGENTS: &str = "\n## Agents\n\n";
const ROLES: &str = "\n## Roles\n\n";
const CURRENT: &str = "\n## Current plan\n\n";
const CONTRACT: &str = "\n## Output contract\n\n";

/// What a planning prompt says, as far as a planner needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadPrompt {
    pub goal: String,
    /// `## What happened`, without the request that follows it.
    pub situation: Option<String>,
    pub verify: Vec<String>,
    pub agents: Vec<AgentProfile>,
    /// Empty when any label is allowed.
    pub roles: Vec<String>,
    pub current: Vec<CurrentTask>,
    /// A re-ask appended to the prompt (a fresh run after a refused answer).
    pub reask: Option<String>,
}

/// One line of `## Current plan`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurrentTask {
    pub id: String,
    /// The status name (`queued`, `failed`...).
    pub state: String,
    /// A failed task's reason.
    pub reason: Option<String>,
    pub title: String,
    pub agent: String,
    pub role: Option<String>,
    pub deps: Vec<String>,
}

/// Whether `text` is a planning prompt (it may have a re-ask appended).
pub fn is_planning_prompt(text: &str) -> bool {
    text.trim_start().starts_with(PLANNING_OPENING)
}

/// Whether `text` is a re-ask on its own (the prompt of a resumed session).
pub fn is_reask(text: &str) -> bool {
    text.trim_start().starts_with(REASK_OPENING)
}

/// Reads a planning prompt; `None` when `text` is not one.
pub fn read_prompt(text: &str) -> Option<ReadPrompt> {
    if !is_planning_prompt(text) {
        return None;
    }
    let goal_at = text.find(GOAL)? + GOAL.len();
    let goal_end = [HAPPENED, REPOSITORY]
        .iter()
        .filter_map(|h| text[goal_at..].find(h))
        .min()
        .map_or(text.len(), |i| goal_at + i);
    let goal = text[goal_at..goal_end].trim().to_owned();
    let mut rest = &text[goal_end..];
    let mut situation = None;
    if let Some(after) = rest.strip_prefix(HAPPENED) {
        let end = after.find(HAPPENED_END).unwrap_or(after.len());
        situation = Some(after[..end].trim().to_owned()).filter(|s| !s.is_empty());
        rest = &after[end..];
    }
    // The README head comes before the agents and may hold any heading:
    // the later sections are found from the end.
    let (rest, reask) = match rest.find(CONTRACT) {
        Some(i) => {
            let tail = &rest[i..];
            let reask = tail
                .find(REASK_OPENING)
                .map(|j| tail[j..].trim().to_owned());
            (&rest[..i], reask)
        }
        None => (rest, None),
    };
    let (rest, current) = split_last(rest, CURRENT);
    let (rest, roles) = split_last(rest, ROLES);
    let (repo, agents) = split_last(rest, AGENTS);
    Some(ReadPrompt {
        goal,
        situation,
        verify: read_verify(repo),
        agents: agents.map(read_agents).unwrap_or_default(),
        roles: roles.map(read_roles).unwrap_or_default(),
        current: current.map(read_current).unwrap_or_default(),
        reask,
    })
}

/// `text` before the last `heading`, and the section after it.
fn split_last<'a>(text: &'a str, heading: &str) -> (&'a str, Option<&'a str>) {
    match text.rfind(heading) {
        Some(i) => (&text[..i], Some(&text[i + heading.len()..])),
        None => (text, None),
    }
}

/// The text of a "- `x`" list item: between the first and the last backtick.
fn backticked(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("- `")?;
    let end = inner.rfind('`')?;
    Some(&inner[..end])
}

fn read_verify(repo: &str) -> Vec<String> {
    let Some(i) = repo.rfind(VERIFY) else {
        return Vec::new();
    };
    repo[i + VERIFY.len()..]
        .lines()
        .map_while(|l| backticked(l).map(str::to_owned))
        .collect()
}

fn read_agents(section: &str) -> Vec<AgentProfile> {
    let mut out = Vec::new();
    for line in section.lines() {
        let Some(inner) = line.strip_prefix("- `") else {
            continue;
        };
        let Some((name, about)) = inner.split_once('`') else {
            continue;
        };
        let about = about
            .trim()
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
            .unwrap_or("");
        let (strengths, cost) = match about.rfind("cost: ") {
            Some(0) => ("", Some(&about[6..])),
            Some(i) if about[..i].ends_with("; ") => (&about[..i - 2], Some(&about[i + 6..])),
            _ => (about, None),
        };
        out.push(AgentProfile {
            name: name.to_owned(),
            strengths: strengths
                .strip_prefix("strengths: ")
                .map(|s| s.trim().to_owned()),
            cost: cost.map(|c| c.trim().to_owned()),
        });
    }
    out
}

fn read_roles(section: &str) -> Vec<String> {
    let line = section.lines().next().unwrap_or("").trim();
    if line.starts_with('(') {
        return Vec::new();
    }
    line.split(", ")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The task lines; a line that does not start an item continues the one
/// before it (a failure reason of several lines).
fn read_current(section: &str) -> Vec<CurrentTask> {
    let mut items: Vec<String> = Vec::new();
    for line in section.lines() {
        if line.starts_with("- `") {
            items.push(line.to_owned());
        } else if let Some(last) = items.last_mut().filter(|_| !line.trim().is_empty()) {
            last.push('\n');
            last.push_str(line);
        }
    }
    items.iter().filter_map(|i| read_task(i)).collect()
}

/// "- `id` [state] title (agent `a`, role r, after x, y)"
fn read_task(item: &str) -> Option<CurrentTask> {
    let inner = item.strip_prefix("- `")?;
    let (id, rest) = inner.split_once("` [")?;
    let paren = rest.rfind(" (agent `")?;
    let (head, tail) = (&rest[..paren], &rest[paren + " (agent `".len()..]);
    // A failure reason may hold "] " too: it ends at the last one.
    let (state, title) = if head.starts_with("failed: ") {
        head.rsplit_once("] ")?
    } else {
        head.split_once("] ")?
    };
    let (agent, mut fields) = tail.strip_suffix(')')?.split_once('`')?;
    let mut role = None;
    let mut deps = Vec::new();
    if let Some(after) = fields.strip_prefix(", role ") {
        let (r, more) = match after.find(", after ") {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        role = Some(r.to_owned());
        fields = more;
    }
    if let Some(after) = fields.strip_prefix(", after ") {
        deps = after.split(", ").map(str::to_owned).collect();
    }
    let (state, reason) = match state.split_once(": ") {
        Some((s, r)) => (s, Some(r.to_owned())),
        None => (state, None),
    };
    Some(CurrentTask {
        id: id.to_owned(),
        state: state.to_owned(),
        reason,
        title: title.to_owned(),
        agent: agent.to_owned(),
        role,
        deps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fleet::Task;
    use crate::core::planner::{
        AnswerError, PlanProblem, PlanningContext, RepoSummary, planning_prompt, reask_prompt,
    };
    use crate::core::status::Status;
    use crate::core::task::TaskSpec;

    fn task(id: &str, deps: &[&str], role: Option<&str>, status: Status) -> Task {
        let spec: TaskSpec = serde_json::from_value(serde_json::json!({
            "id": id, "title": format!("Title (agent `x`) of {id}"), "prompt": "p",
            "deps": deps, "agent": "claude", "role": role
        }))
        .unwrap();
        let mut t = Task::new(spec);
        t.status = status;
        t
    }

    fn agents() -> Vec<AgentProfile> {
        vec![
            AgentProfile {
                name: "claude".into(),
                strengths: Some("architecture; refactoring".into()),
                cost: Some("high".into()),
            },
            AgentProfile {
                name: "sim".into(),
                strengths: None,
                cost: Some("low".into()),
            },
            AgentProfile {
                name: "plain".into(),
                strengths: Some("docs".into()),
                cost: None,
            },
        ]
    }

    #[test]
    fn a_prompt_reads_back_into_what_it_was_made_of() {
        let repo = RepoSummary {
            tree: "README.md\nsrc/".into(),
            readme_head: "# x\n## Agents\n\n- `fake`\n## Current plan\n".into(),
            languages: vec!["Rust".into()],
            verify: vec!["cargo test".into(), "sh `t`.sh".into()],
        };
        let current = [
            task("schema", &[], None, Status::Done { commit: "a".into() }),
            task(
                "api",
                &["schema"],
                Some("implementer"),
                Status::Running { attempt: 1 },
            ),
            task(
                "ui",
                &["api", "schema"],
                Some("tester"),
                Status::Failed {
                    reason: "verify failed: [2] tests\nsecond line".into(),
                },
            ),
        ];
        let roles = vec!["implementer".to_owned(), "tester".to_owned()];
        let prompt = planning_prompt(&PlanningContext {
            goal: "Add login\nplan-notes ## Repository is not a heading here",
            repo: &repo,
            agents: &agents(),
            roles: &roles,
            current: &current,
            situation: Some("`ui` failed: verify failed"),
        });
        let read = read_prompt(&prompt).unwrap();
        assert_eq!(
            read.goal,
            "Add login\nplan-notes ## Repository is not a heading here"
        );
        assert_eq!(
            read.situation.as_deref(),
            Some("`ui` failed: verify failed")
        );
        assert_eq!(read.verify, ["cargo test", "sh `t`.sh"]);
        assert_eq!(read.agents, agents());
        assert_eq!(read.roles, roles);
        assert_eq!(read.reask, None);
        let ids: Vec<&str> = read.current.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["schema", "api", "ui"]);
        let ui = &read.current[2];
        assert_eq!(ui.state, "failed");
        assert_eq!(
            ui.reason.as_deref(),
            Some("verify failed: [2] tests\nsecond line")
        );
        assert_eq!(ui.title, "Title (agent `x`) of ui");
        assert_eq!(ui.agent, "claude");
        assert_eq!(ui.role.as_deref(), Some("tester"));
        assert_eq!(ui.deps, ["api", "schema"]);
        assert_eq!(read.current[0].state, "done");
        assert_eq!(read.current[0].role, None);
        assert!(read.current[0].deps.is_empty());
    }

    #[test]
    fn an_empty_first_plan_prompt_and_an_appended_reask() {
        let repo = RepoSummary::default();
        let prompt = planning_prompt(&PlanningContext {
            goal: "  g  ",
            repo: &repo,
            agents: &[],
            roles: &[],
            current: &[],
            situation: None,
        });
        assert!(is_planning_prompt(&prompt) && !is_reask(&prompt));
        let read = read_prompt(&prompt).unwrap();
        assert_eq!(
            read,
            ReadPrompt {
                goal: "g".into(),
                ..ReadPrompt::default()
            }
        );
        let reask = reask_prompt(&[PlanProblem::Answer(AnswerError::NoPlan)]);
        assert!(is_reask(&reask) && !is_planning_prompt(&reask));
        let both = read_prompt(&format!("{prompt}\n{reask}")).unwrap();
        assert_eq!(both.reask.as_deref(), Some(reask.trim()));
        assert_eq!(both.goal, "g");
        assert_eq!(read_prompt("say hello"), None);
    }
}
