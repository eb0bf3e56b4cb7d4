//! The simulated planner's plans for a goal, pure: the directives a goal
//! may hold (`plan-file`, `plan-task`, `plan-notes`, the faults, and
//! `sim-replan reassign`), and the default plan (implement, test, document)
//! for any other goal, with agents chosen from the prompt's list and
//! prompts that are working sim scripts.

use crate::core::planner::{AgentProfile, PlanAnswer, PlannedTask, ReadPrompt};

/// A first answer with a fault, corrected after the re-ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// A ```json block that does not parse.
    BadJson,
    /// A task assigned to an agent that is not a profile.
    UnknownAgent,
    /// A dependency cycle.
    Cycle,
}

/// The agent name the `plan-unknown-agent` fault uses.
pub(super) const UNKNOWN_AGENT: &str = "no-such-agent";

/// What a goal's text asks of the simulated planner.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct GoalDirectives {
    /// The goal without its directive lines (its first line names the default plan).
    pub text: String,
    pub plan_file: Option<String>,
    pub tasks: Vec<PlannedTask>,
    pub notes: Option<String>,
    pub fault: Option<Fault>,
    /// `sim-replan reassign`: a failed task is reassigned, not split.
    pub reassign: bool,
}

/// Reads the directives of `goal`: a line whose first word is one of them
/// (`plan-file <path>`, `plan-task <id> | ...`, `plan-notes <text>`,
/// `plan-bad-json`, `plan-unknown-agent`, `plan-cycle`, `sim-replan
/// reassign`); a directive word may also follow text on a line
/// (`Grow tally plan-file plan.json`), the rest of the line being its argument.
pub(super) fn directives(goal: &str) -> GoalDirectives {
    let mut d = GoalDirectives::default();
    let mut text = Vec::new();
    for line in goal.lines() {
        let (before, word, rest) = find_directive(line);
        if !before.trim().is_empty() {
            text.push(before.trim());
        }
        let rest = rest.trim();
        match word {
            Some("plan-file") if !rest.is_empty() => {
                d.plan_file = rest.split_whitespace().next().map(str::to_owned);
            }
            Some("plan-task") => d.tasks.extend(plan_task(rest)),
            Some("plan-notes") if !rest.is_empty() => d.notes = Some(rest.to_owned()),
            Some("plan-bad-json") => d.fault = Some(Fault::BadJson),
            Some("plan-unknown-agent") => d.fault = Some(Fault::UnknownAgent),
            Some("plan-cycle") => d.fault = Some(Fault::Cycle),
            Some("sim-replan") if rest.starts_with("reassign") => d.reassign = true,
            _ => {}
        }
    }
    d.text = text.join("\n");
    d
}

const WORDS: [&str; 7] = [
    "plan-file",
    "plan-task",
    "plan-notes",
    "plan-bad-json",
    "plan-unknown-agent",
    "plan-cycle",
    "sim-replan",
];

/// The text before the first directive word of `line`, the word, the rest.
fn find_directive(line: &str) -> (&str, Option<&'static str>, &str) {
    let mut at = 0;
    for word in line.split(' ') {
        if let Some(found) = WORDS.iter().find(|w| **w == word.trim()) {
            return (&line[..at], Some(found), &line[at + word.len()..]);
        }
        at += word.len() + 1;
    }
    (line, None, "")
}

/// `<id> | <title> | <deps,comma> | <agent> | <role> | <prompt with \n>`;
/// only the id is needed (the title defaults to it, the prompt to a `say`).
fn plan_task(rest: &str) -> Option<PlannedTask> {
    let mut parts = rest.splitn(6, '|').map(str::trim);
    let id = parts.next().filter(|id| !id.is_empty())?.to_owned();
    let title = parts
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or(&id)
        .to_owned();
    let deps = parts
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect();
    let agent = parts.next().unwrap_or("").to_owned();
    let role = parts.next().filter(|r| !r.is_empty()).map(str::to_owned);
    let prompt = match parts.next().filter(|p| !p.is_empty()) {
        Some(p) => super::unescape(p),
        None => format!("say {title}"),
    };
    let mut task = PlannedTask::new(id, title, prompt, agent);
    task.deps = deps;
    task.role = role;
    Some(task)
}

/// The plan for the prompt's goal: the plan file's answer (`file`: its
/// text, or why it could not be read), then the `plan-task` lines; the
/// default plan when the goal has neither. A `plan-task` without an agent
/// gets the implementer's.
pub(super) fn goal_plan(
    prompt: &ReadPrompt,
    d: &GoalDirectives,
    file: Option<&PlanAnswer>,
) -> PlanAnswer {
    let mut tasks = file.map(|f| f.tasks.clone()).unwrap_or_default();
    let implementer = pick(&prompt.agents, Pick::Implementer);
    for t in &d.tasks {
        let mut t = t.clone();
        if t.agent.is_empty() {
            t.agent.clone_from(&implementer);
        }
        tasks.push(t);
    }
    if tasks.is_empty() && d.plan_file.is_none() {
        return default_plan(prompt, &d.text);
    }
    let notes = file
        .and_then(|f| f.notes.clone())
        .or_else(|| Some(format!("The plan the goal gives, {} task(s).", tasks.len())));
    PlanAnswer {
        tasks,
        notes,
        actions: file.map(|f| f.actions.clone()).unwrap_or_default(),
    }
}

#[derive(Clone, Copy)]
pub(super) enum Pick {
    Implementer,
    Tester,
    Documenter,
}

fn is_low(agent: &AgentProfile) -> bool {
    agent
        .cost
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("low"))
}

/// The agent for a role: the implementer the first one not declared cheap,
/// the tester another one where there is one, the documenter a cheap one.
pub(super) fn pick(agents: &[AgentProfile], role: Pick) -> String {
    let first = || agents.first().map(|a| a.name.clone()).unwrap_or_default();
    let implementer = || {
        agents
            .iter()
            .find(|a| !is_low(a))
            .map(|a| a.name.clone())
            .unwrap_or_else(first)
    };
    match role {
        Pick::Implementer => implementer(),
        Pick::Tester => {
            let imp = implementer();
            agents
                .iter()
                .find(|a| a.name != imp && !is_low(a))
                .or_else(|| agents.iter().find(|a| a.name != imp))
                .map(|a| a.name.clone())
                .unwrap_or(imp)
        }
        Pick::Documenter => agents
            .iter()
            .find(|a| is_low(a))
            .or_else(|| agents.last())
            .map(|a| a.name.clone())
            .unwrap_or_default(),
    }
}

/// A task id made of the goal's first line (`goal` when nothing is left).
pub(super) fn slug(goal: &str) -> String {
    let line = goal.lines().next().unwrap_or("").to_ascii_lowercase();
    let mut out = String::new();
    for c in line.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 32 {
            break;
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() { "goal".into() } else { out }
}

/// Escapes `text` for one line of a sim `write`.
fn one_line(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', " ")
}

/// The `run` lines of the fleet's verify commands.
pub(super) fn verify_lines(prompt: &ReadPrompt) -> String {
    prompt.verify.iter().map(|v| format!("run {v}\n")).collect()
}

/// Implement, test, document: three tasks named after the goal, the two
/// last after the first, each a sim script that writes its file and runs
/// the fleet's verify commands.
pub(super) fn default_plan(prompt: &ReadPrompt, goal: &str) -> PlanAnswer {
    let goal = goal.lines().next().unwrap_or("").trim();
    let goal = if goal.is_empty() { "the goal" } else { goal };
    let slug = slug(goal);
    let line = one_line(goal);
    let verify = verify_lines(prompt);
    let impl_id = format!("{slug}-impl");
    let task = |suffix: &str, title: &str, role: &str, as_: Pick, file: String| {
        let mut t = PlannedTask::new(
            format!("{slug}-{suffix}"),
            format!("{title}: {goal}"),
            String::new(),
            pick(&prompt.agents, as_),
        );
        if suffix != "impl" {
            t.deps = vec![impl_id.clone()];
        }
        t.role = Some(role.to_owned());
        t.files = vec![file];
        t
    };
    let mut implement = task(
        "impl",
        "Implement",
        "implementer",
        Pick::Implementer,
        format!("{slug}.txt"),
    );
    implement.prompt = format!(
        "say Implementing: {line}\nwrite {slug}.txt {line}\\n\n{verify}say Done: {slug}.txt holds the goal.\n"
    );
    implement.acceptance = vec![
        format!("{slug}.txt states the goal"),
        "the verify commands pass".to_owned(),
    ];
    let mut test = task(
        "tests",
        "Test",
        "tester",
        Pick::Tester,
        format!("{slug}.test.txt"),
    );
    test.prompt = format!(
        "say Testing: {line}\nrun test -f {slug}.txt\nwrite {slug}.test.txt checked: {slug}.txt exists\\n\n{verify}say Tested.\n"
    );
    test.acceptance = vec![format!("{slug}.test.txt records that {slug}.txt exists")];
    let mut document = task(
        "docs",
        "Document",
        "documenter",
        Pick::Documenter,
        format!("{slug}.md"),
    );
    document.prompt = format!(
        "say Documenting: {line}\nwrite {slug}.md # {line}\\n\\nSee {slug}.txt.\\n\n{verify}say Documented.\n"
    );
    document.acceptance = vec![format!("{slug}.md describes the goal")];
    PlanAnswer {
        tasks: vec![implement, test, document],
        notes: Some(format!(
            "A default plan for \"{goal}\": implement first, then test and document in parallel \
             (both need the implementation); the documentation goes to the cheapest agent."
        )),
        actions: Vec::new(),
    }
}

/// `plan` with `fault` put in (the fault's text answer for bad JSON).
pub(super) fn with_fault(plan: &PlanAnswer, fault: Fault) -> Result<PlanAnswer, String> {
    let mut plan = plan.clone();
    match fault {
        Fault::BadJson => {
            let json = serde_json::to_string_pretty(&plan).unwrap_or_default();
            let cut = json.len() / 2;
            let cut = (0..=cut)
                .rev()
                .find(|i| json.is_char_boundary(*i))
                .unwrap_or(0);
            return Err(format!(
                "Here is the plan.\n\n```json\n{}\n```\n",
                &json[..cut]
            ));
        }
        Fault::UnknownAgent => {
            if let Some(t) = plan.tasks.first_mut() {
                t.agent = UNKNOWN_AGENT.into();
            }
        }
        Fault::Cycle => {
            let last = plan.tasks.last().map(|t| t.id.clone());
            if let (Some(last), Some(first)) = (last, plan.tasks.first_mut()) {
                first.deps.push(last);
            }
        }
    }
    Ok(plan)
}
