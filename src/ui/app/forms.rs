//! The text forms of the editors: a task as TOML for `e` and `n`, the
//! not-yet-done plan as TOML for `R`, and turning edited text back into
//! engine commands, with errors that say where.

use serde::Deserialize;

use crate::core::{Command, Fleet, MergeStyle, Status, Task, TaskId, TaskPatch, TaskSpec};

/// A TOML string: a literal multi-line string when it spans lines (easy to
/// edit), else a basic string with escapes.
fn toml_str(s: &str) -> String {
    if s.contains('\n')
        && !s.contains("'''")
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        format!("'''\n{s}'''")
    } else {
        toml::Value::String(s.to_owned()).to_string()
    }
}

fn toml_list(items: &[TaskId]) -> String {
    let items: Vec<String> = items.iter().map(|d| toml_str(d.as_str())).collect();
    format!("[{}]", items.join(", "))
}

/// The editable fields of a task (`id` only when `with_id`).
pub fn task_toml(spec: &TaskSpec, with_id: bool) -> String {
    let mut out = String::new();
    if with_id {
        out.push_str(&format!("id = {}\n", toml_str(spec.id.as_str())));
    }
    out.push_str(&format!("title = {}\n", toml_str(&spec.title)));
    out.push_str(&format!("agent = {}\n", toml_str(&spec.agent)));
    out.push_str(&format!("deps = {}\n", toml_list(&spec.deps)));
    if let Some(role) = &spec.role {
        out.push_str(&format!("role = {}\n", toml_str(role)));
    }
    if spec.priority != 0 {
        out.push_str(&format!("priority = {}\n", spec.priority));
    }
    if spec.auto_approve {
        out.push_str("auto_approve = true\n");
    }
    if let Some(b) = spec.budget_usd {
        out.push_str(&format!("budget_usd = {b}\n"));
    }
    if let Some(b) = spec.budget_tokens {
        out.push_str(&format!("budget_tokens = {b}\n"));
    }
    if let Some(style) = spec.merge_style {
        out.push_str(&format!("merge_style = \"{style}\"\n"));
    }
    if let Some(verify) = &spec.verify {
        let items: Vec<String> = verify.iter().map(|v| toml_str(v)).collect();
        out.push_str(&format!("verify = [{}]\n", items.join(", ")));
    }
    out.push_str(&format!("prompt = {}\n", toml_str(&spec.prompt)));
    out
}

/// The text of the editor for `e` on a task.
pub fn edit_text(task: &Task) -> String {
    format!(
        "# Edit task `{}`: change the values, ctrl-s saves, esc cancels.\n{}",
        task.id(),
        task_toml(&task.spec, false)
    )
}

/// The text of the editor for `n`.
pub fn new_task_text(default_agent: &str) -> String {
    format!(
        "# New task: fill in the values, ctrl-s adds it, esc cancels.\nid = \"\"\ntitle = \"\"\nagent = {}\ndeps = []\nprompt = '''\n'''\n",
        toml_str(default_agent)
    )
}

/// The not-yet-done part of the plan, as `[[task]]` tables.
pub fn replan_text(fleet: &Fleet) -> String {
    let mut out = String::from(
        "# Replan: the tasks that are not done. Add, remove or change [[task]] tables,\n# then ctrl-s to review the changes before they apply; esc cancels.\n",
    );
    for t in fleet.tasks().iter().filter(|t| !t.status.is_final()) {
        out.push_str(&format!("\n[[task]]  # {}\n", t.status));
        out.push_str(&task_toml(&t.spec, true));
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    id: Option<String>,
    title: Option<String>,
    prompt: Option<String>,
    agent: Option<String>,
    #[serde(default)]
    deps: Option<Vec<String>>,
    role: Option<String>,
    verify: Option<Vec<String>>,
    priority: Option<i32>,
    auto_approve: Option<bool>,
    budget_usd: Option<f64>,
    budget_tokens: Option<u64>,
    merge_style: Option<MergeStyle>,
}

/// A TOML error as `line L, column C: message`.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {col}: {}", e.message().trim())
        }
        None => e.message().trim().to_owned(),
    }
}

fn ids(list: Vec<String>) -> Result<Vec<TaskId>, String> {
    list.iter()
        .map(|d| TaskId::parse(d).map_err(|e| e.to_string()))
        .collect()
}

/// Parses the `e` editor into an Edit command.
pub fn parse_edit(task: &TaskId, text: &str) -> Result<Command, String> {
    let f: Fields = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    if f.id.is_some() {
        return Err("the id cannot be changed here (use replan: R)".into());
    }
    let patch = TaskPatch {
        title: f.title,
        prompt: f.prompt,
        deps: f.deps.map(ids).transpose()?,
        agent: f.agent,
        role: Some(f.role),
        verify: Some(f.verify),
        priority: Some(f.priority.unwrap_or(0)),
        auto_approve: Some(f.auto_approve.unwrap_or(false)),
        budget_usd: Some(f.budget_usd),
        budget_tokens: Some(f.budget_tokens),
        merge_style: Some(f.merge_style),
    };
    Ok(Command::Edit {
        task: task.clone(),
        patch,
    })
}

/// The 0-based index of the line of `text` that sets `key` (`key = ...`).
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines().position(|l| {
        l.trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

/// A task table's fields as a spec. `table` is the table's text, starting
/// at 0-based line `first` of the editor: an error names the line of the
/// field it is about ("the new task, line 2: `id` is missing").
fn spec_from(f: Fields, where_: &str, table: &str, first: usize) -> Result<TaskSpec, String> {
    let at = |field: &str| match key_line(table, field) {
        Some(i) => format!("{where_}, line {}", first + i + 1),
        None => where_.to_owned(),
    };
    let raw_id =
        f.id.ok_or_else(|| format!("{}: `id` is missing", at("id")))?;
    let id = TaskId::parse(&raw_id).map_err(|e| format!("{}: {e}", at("id")))?;
    let prompt = f
        .prompt
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| format!("{}: `prompt` is empty", at("prompt")))?;
    let agent = f
        .agent
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("{}: `agent` is missing", at("agent")))?;
    let deps = f
        .deps
        .map(ids)
        .transpose()
        .map_err(|e| format!("{}: {e}", at("deps")))?
        .unwrap_or_default();
    Ok(TaskSpec {
        title: f
            .title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| id.to_string()),
        id,
        prompt,
        deps,
        agent,
        role: f.role,
        verify: f.verify,
        priority: f.priority.unwrap_or(0),
        auto_approve: f.auto_approve.unwrap_or(false),
        budget_usd: f.budget_usd,
        budget_tokens: f.budget_tokens,
        merge_style: f.merge_style,
        files: Vec::new(),
        acceptance: Vec::new(),
        split_from: None,
        fanout: Vec::new(),
        candidate_of: None,
        group: None,
    })
}

/// Parses the `n` editor into an Add command.
pub fn parse_new(text: &str) -> Result<Command, String> {
    let f: Fields = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    Ok(Command::Add {
        spec: spec_from(f, "the new task", text, 0)?,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Plan {
    #[serde(default)]
    task: Vec<Fields>,
}

/// The plan the edited text proposes: the done tasks as they are, then
/// the edited tasks in their order (what the plan diff compares with the
/// fleet). Errors name the task and line; an id of a done or dropped task
/// is refused (ids stay stable: a new task needs a new id).
pub fn parse_replan(fleet: &Fleet, text: &str) -> Result<Vec<TaskSpec>, String> {
    let plan: Plan = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let mut edited: Vec<TaskSpec> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let headers: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].trim_start().starts_with("[[task]]"))
        .collect();
    for (i, f) in plan.task.into_iter().enumerate() {
        let first = headers.get(i).copied().unwrap_or(0);
        let end = headers.get(i + 1).copied().unwrap_or(lines.len());
        let table = lines.get(first..end).unwrap_or_default().join("\n");
        let where_ = format!("task {} of the plan (line {})", i + 1, first + 1);
        let spec = spec_from(f, &where_, &table, first)?;
        if edited.iter().any(|s| s.id == spec.id) {
            return Err(format!("task `{}` appears twice", spec.id));
        }
        if fleet
            .task(spec.id.as_str())
            .is_some_and(|t| t.status.is_final())
        {
            return Err(format!(
                "task `{}` is already done or dropped; give the new task another id",
                spec.id
            ));
        }
        edited.push(spec);
    }
    let mut plan: Vec<TaskSpec> = fleet
        .tasks()
        .iter()
        .filter(|t| matches!(t.status, Status::Done { .. }))
        .map(|t| t.spec.clone())
        .collect();
    plan.extend(edited);
    Ok(plan)
}

/// The text of the budget editor of a task (`task`) or of the fleet.
pub fn budget_text(
    what: &str,
    spent: crate::core::Spend,
    usd: Option<f64>,
    tokens: Option<u64>,
) -> String {
    let line = |key: &str, value: Option<String>, example: &str| match value {
        Some(v) => format!("{key} = {v}\n"),
        None => format!("# {key} = {example}\n"),
    };
    format!(
        "# Budget of {what}: ${:.4} and {} tokens spent so far.\n# Uncomment or change a limit; ctrl-s saves, esc cancels. An agent paused by its budget resumes when it is back under it.\n{}{}",
        spent.usd,
        spent.tokens,
        line("budget_usd", usd.map(|v| v.to_string()), "5.0"),
        line("budget_tokens", tokens.map(|v| v.to_string()), "2000000"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetFields {
    budget_usd: Option<f64>,
    budget_tokens: Option<u64>,
}

/// Parses the budget editor into a SetBudget command (`task` None: the fleet).
pub fn parse_budget(task: Option<TaskId>, text: &str) -> Result<Command, String> {
    let f: BudgetFields = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    if f.budget_usd.is_none() && f.budget_tokens.is_none() {
        return Err("set budget_usd or budget_tokens (remove the # in front of one)".into());
    }
    Ok(Command::SetBudget {
        task,
        usd: f.budget_usd,
        tokens: f.budget_tokens,
    })
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[test]
    fn the_budget_editor_round_trips() {
        let text = budget_text(
            "`a`",
            crate::core::Spend {
                usd: 0.5,
                tokens: 1000,
            },
            Some(2.0),
            None,
        );
        assert!(
            text.contains("budget_usd = 2\n# budget_tokens = 2000000\n"),
            "{text}"
        );
        let id = TaskId::parse("a").unwrap();
        assert_eq!(
            parse_budget(Some(id.clone()), &text).unwrap(),
            Command::SetBudget {
                task: Some(id.clone()),
                usd: Some(2.0),
                tokens: None
            }
        );
        let blank = budget_text("the fleet", crate::core::Spend::default(), None, None);
        assert!(
            parse_budget(None, &blank)
                .unwrap_err()
                .contains("set budget_usd or budget_tokens")
        );
        assert!(
            parse_budget(None, "budget_usd = \"lots\"")
                .unwrap_err()
                .starts_with("line 1")
        );
    }
}
