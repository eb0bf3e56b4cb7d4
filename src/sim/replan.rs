//! The simulated planner's replans, pure: from the prompt's `## What
//! happened` (written from `Trigger::describe`) and `## Current plan`, the
//! plan again with the smallest change: a failed task split in two (or
//! reassigned with a `retry` when the goal or its prompt says `sim-replan
//! reassign`), a nudge for a stalled one, a split for reported complexity,
//! a new task for reported new work, and the user's feedback applied
//! (`drop <id>` drops a task; the notes quote it). Tasks the planner knows
//! (from the goal's plan or an earlier answer) keep their prompts; a task
//! that is done or dropped is left out, as one that is running and unknown
//! (the rules keep those).

use std::collections::BTreeMap;

use super::plans::verify_lines;
use super::{Directive, parse};
use crate::core::planner::{
    ActionKind, CurrentTask, PlanAnswer, PlannedAction, PlannedTask, ReadPrompt,
};

/// Why the planner is asked again, read from the situation's first line.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Why {
    Failed(String),
    Stalled(String, String),
    Complexity(String, String),
    Found(String, String),
    Other,
}

/// The situation's trigger and, for feedback on a proposal, the feedback line.
pub(super) fn why(situation: &str) -> (Why, Option<String>) {
    let first = situation.lines().next().unwrap_or("").trim();
    let (inner, feedback) = match first.strip_prefix("feedback on ") {
        Some(inner) => (inner, Some(first.to_owned())),
        None => (first, None),
    };
    let why = (|| {
        let rest = inner.strip_prefix('`')?;
        let (task, rest) = rest.split_once('`')?;
        let task = task.to_owned();
        let text = |prefix: &str| rest.strip_prefix(prefix).map(|t| t.trim().to_owned());
        if text(" failed:").is_some() {
            Some(Why::Failed(task))
        } else if let Some(t) = text(" stalled:") {
            Some(Why::Stalled(task, t))
        } else if let Some(t) = text(" reported complexity:") {
            Some(Why::Complexity(task, t))
        } else {
            text(" reported found:").map(|t| Why::Found(task, t))
        }
    })();
    (why.unwrap_or(Why::Other), feedback)
}

fn active(state: &str) -> bool {
    !matches!(state, "queued" | "failed" | "done" | "dropped")
}

/// The plan again for a replan: the current tasks that are not done or
/// dropped, as known (`known`: id → the task as last planned) with the
/// current line's title, agent, role and deps, then the change for
/// `situation`. `reassign`: the goal says `sim-replan reassign`.
pub(super) fn replan(
    prompt: &ReadPrompt,
    situation: &str,
    known: &BTreeMap<String, PlannedTask>,
    reassign: bool,
) -> PlanAnswer {
    let mut tasks = kept(&prompt.current, known);
    let mut actions = Vec::new();
    let (why, feedback) = why(situation);
    let current = |id: &str| prompt.current.iter().find(|t| t.id == id);
    let subject = why_task(&why).and_then(current);
    let mut notes = match subject.map(|t| t.state.as_str()) {
        Some(state @ "dropped") => gone(&why, state),
        Some(state @ "done") if !matches!(why, Why::Found(..)) => gone(&why, state),
        _ => change_for(prompt, &why, &mut tasks, &mut actions, known, reassign),
    };
    if let Some(feedback) = &feedback {
        notes.push_str(&apply_feedback(prompt, situation, &mut tasks, &mut actions));
        notes.push_str(&format!(" Feedback applied: \"{feedback}\"."));
    }
    if tasks.is_empty()
        && let Some(t) = subject.filter(|t| !matches!(t.state.as_str(), "done" | "dropped"))
    {
        tasks.push(task_of(t, known));
    }
    PlanAnswer {
        tasks,
        notes: Some(notes),
        actions,
    }
}

/// The note for a consultation about a task that is already `state`.
fn gone(why: &Why, state: &str) -> String {
    format!(
        "`{}` is already {state}: nothing to change.",
        why_task(why).unwrap_or_default()
    )
}

/// Whether the supervisor already split or reassigned `id`.
fn replanned(known: &BTreeMap<String, PlannedTask>, id: &str) -> bool {
    known
        .get(id)
        .is_some_and(|t| t.split_from.is_some() || t.prompt.starts_with("say Reassigned from "))
}

/// The change for `why`, made to `tasks` and `actions`; returns the note.
fn change_for(
    prompt: &ReadPrompt,
    why: &Why,
    tasks: &mut Vec<PlannedTask>,
    actions: &mut Vec<PlannedAction>,
    known: &BTreeMap<String, PlannedTask>,
    reassign: bool,
) -> String {
    let current = |id: &str| prompt.current.iter().find(|t| t.id == id);
    match why {
        Why::Failed(id) => match current(id) {
            Some(cur) => on_failure(prompt, tasks, actions, cur, known, reassign),
            None => format!("`{id}` is not in the current plan: nothing to change."),
        },
        Why::Stalled(id, stalled) => {
            actions.push(action(
                ActionKind::Nudge,
                id,
                Some(format!(
                    "You seem stuck ({stalled}). Stop repeating the same step: read the last error, \
                     try another way, and finish the task."
                )),
            ));
            format!("`{id}` stalled ({stalled}): a nudge in its session is the smallest change.")
        }
        Why::Complexity(id, _) if replanned(known, id) => format!(
            "`{id}` reports more complexity after it was split or reassigned: no further split; \
             it carries on."
        ),
        Why::Complexity(id, text) => match current(id) {
            Some(cur) => {
                let why = format!("reported complexity (\"{text}\")");
                split(prompt, tasks, cur, known, &why)
            }
            None => format!("`{id}` is not in the current plan: nothing to change."),
        },
        Why::Found(id, text) => {
            let agent = current(id).map(|c| c.agent.clone()).unwrap_or_default();
            let new = found_task(prompt, tasks, id, &agent, text);
            let note = format!(
                "`{id}` found new work (\"{text}\"): `{}` does it after `{id}`.",
                new.id
            );
            tasks.push(new);
            note
        }
        Why::Other => "Nothing in the situation calls for a change: the plan as it is.".into(),
    }
}

/// A failed task: reassigned (when asked for and another agent is
/// listed) or split; one that was already split or reassigned by the
/// supervisor is not again: the user is asked what to do.
fn on_failure(
    prompt: &ReadPrompt,
    tasks: &mut Vec<PlannedTask>,
    actions: &mut Vec<PlannedAction>,
    cur: &CurrentTask,
    known: &BTreeMap<String, PlannedTask>,
    reassign: bool,
) -> String {
    let id = &cur.id;
    let was = known.get(id);
    let prompt_says = was.is_some_and(|t| t.prompt.contains("sim-replan reassign"));
    let replanned =
        was.is_some_and(|t| t.split_from.is_some() || t.prompt.starts_with("say Reassigned from "));
    if replanned {
        actions.push(action(
            ActionKind::Ask,
            id,
            Some(format!(
                "`{id}` failed again after the supervisor split or reassigned it: retry it, \
                 rewrite its prompt, or drop it?"
            )),
        ));
        return format!(
            "`{id}` failed again after a replan: asking you rather than splitting it further."
        );
    }
    let other = prompt.agents.iter().find(|a| a.name != cur.agent);
    match other.filter(|_| reassign || prompt_says) {
        Some(other) => {
            let task = task_of(cur, known);
            let to = other.name.clone();
            tasks.retain(|t| t.id != *id);
            tasks.push(reassigned(task, &cur.agent, &to));
            actions.push(action(ActionKind::Retry, id, None));
            format!(
                "`{id}` failed with `{}`: giving it to `{to}` with the failing steps \
                 left out of its prompt, and retrying it.",
                cur.agent
            )
        }
        None => split(prompt, tasks, cur, known, "failed"),
    }
}

fn why_task(why: &Why) -> Option<&str> {
    match why {
        Why::Failed(id) | Why::Stalled(id, _) | Why::Complexity(id, _) | Why::Found(id, _) => {
            Some(id)
        }
        Why::Other => None,
    }
}

fn action(kind: ActionKind, task: &str, message: Option<String>) -> PlannedAction {
    PlannedAction {
        kind,
        task: task.to_owned(),
        message,
    }
}

/// The current tasks to list again: not done or dropped, and not running
/// unless known (the rules keep a running task the answer leaves out).
fn kept(current: &[CurrentTask], known: &BTreeMap<String, PlannedTask>) -> Vec<PlannedTask> {
    current
        .iter()
        .filter(|c| !matches!(c.state.as_str(), "done" | "dropped"))
        .filter(|c| !active(&c.state) || known.contains_key(&c.id))
        .map(|c| task_of(c, known))
        .collect()
}

/// A current task as a planned one: what is known of it, with the line's
/// title, agent, role and deps (the plan may have been edited since).
fn task_of(cur: &CurrentTask, known: &BTreeMap<String, PlannedTask>) -> PlannedTask {
    let mut task = known
        .get(&cur.id)
        .cloned()
        .unwrap_or_else(|| PlannedTask::new(&cur.id, &cur.title, format!("say {}", cur.title), ""));
    task.title.clone_from(&cur.title);
    task.agent.clone_from(&cur.agent);
    task.role.clone_from(&cur.role);
    task.deps.clone_from(&cur.deps);
    task.split_from = None;
    task
}

/// Whether a prompt line fails the run on some attempt.
fn fails(line: &str) -> bool {
    let mut d = parse(line);
    while let Directive::IfAttempt(_, inner) = d {
        d = parse(inner);
    }
    matches!(d, Directive::Fail(_))
}

/// The prompt without its failing lines.
fn without_failures(prompt: &str) -> Vec<&str> {
    prompt
        .lines()
        .filter(|l| !l.trim().is_empty() && !fails(l))
        .collect()
}

fn reassigned(mut task: PlannedTask, from: &str, to: &str) -> PlannedTask {
    let mut prompt = format!("say Reassigned from `{from}` to `{to}` by the supervisor.\n");
    for line in without_failures(&task.prompt) {
        prompt.push_str(line);
        prompt.push('\n');
    }
    task.prompt = prompt;
    task.agent = to.to_owned();
    task
}

/// An id not used by `taken`, from `base`.
fn free_id(base: &str, taken: &dyn Fn(&str) -> bool) -> String {
    let base: String = base.chars().take(60).collect();
    let base = base.trim_end_matches('-');
    if !taken(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or_default()
}

/// Replaces `cur` by two parts with `split_from` (the second after the
/// first; the first half of its work lines each, failing lines left out);
/// tasks after it come after the second part. Returns the note.
fn split(
    prompt: &ReadPrompt,
    tasks: &mut Vec<PlannedTask>,
    cur: &CurrentTask,
    known: &BTreeMap<String, PlannedTask>,
    why: &str,
) -> String {
    let original = task_of(cur, known);
    tasks.retain(|t| t.id != cur.id);
    let verify = verify_lines(prompt);
    let taken =
        |id: &str| prompt.current.iter().any(|t| t.id == id) || tasks.iter().any(|t| t.id == id);
    let first_id = free_id(&format!("{}-1", cur.id), &taken);
    let taken2 = |id: &str| taken(id) || id == first_id;
    let second_id = free_id(&format!("{}-2", cur.id), &taken2);
    let scripts = part_scripts(&original.prompt, &cur.id, &verify);
    let mut parts = Vec::new();
    for (n, (id, script)) in [&first_id, &second_id].into_iter().zip(scripts).enumerate() {
        let mut part = original.clone();
        part.id = id.clone();
        part.title = format!("{} (part {} of 2)", original.title, n + 1);
        part.prompt = script;
        part.split_from = Some(cur.id.clone());
        if n == 1 {
            part.deps = vec![first_id.clone()];
        }
        parts.push(part);
    }
    for t in tasks.iter_mut() {
        for d in t.deps.iter_mut().filter(|d| **d == cur.id) {
            d.clone_from(&second_id);
        }
    }
    // A split drops the task it replaces, running or not (no `drop` action needed).
    tasks.extend(parts);
    format!(
        "`{}` {why}: it is split into `{first_id}` and then `{second_id}`, each with half of \
         its work and without the steps that failed; its work so far goes to both.",
        cur.id
    )
}

/// Whether a prompt line reports to the supervisor (`run fleetdeck report ...`).
fn reports(line: &str) -> bool {
    matches!(parse(line), Directive::Run(c) if c.trim_start().starts_with("fleetdeck report"))
}

/// The scripts of a split's two parts: the original's lines without its
/// failing steps and its reports, each part with half of the lines that
/// change files (a part left without one writes a note, so that it has
/// work of its own).
fn part_scripts(original: &str, from: &str, verify: &str) -> [String; 2] {
    let lines: Vec<&str> = without_failures(original)
        .into_iter()
        .filter(|l| !reports(l))
        .collect();
    let changes: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            matches!(
                parse(lines[i]),
                Directive::Write { .. } | Directive::Append { .. }
            )
        })
        .collect();
    let half = changes.len().div_ceil(2);
    [0, 1].map(|n| {
        let mine = if n == 0 { &changes[..half] } else { &changes[half..] };
        let mut script = format!("say Part {} of 2 of `{from}`, split by the supervisor.\n", n + 1);
        for (i, line) in lines.iter().enumerate() {
            if !changes.contains(&i) || mine.contains(&i) {
                script.push_str(line);
                script.push('\n');
            }
        }
        if mine.is_empty() {
            script.push_str(&format!(
                "write {from}.part{}.md Part {} of `{from}`: the work was all in the other part.\\n\n{verify}",
                n + 1,
                n + 1
            ));
        }
        script
    })
}

fn found_task(
    prompt: &ReadPrompt,
    tasks: &[PlannedTask],
    after: &str,
    agent: &str,
    text: &str,
) -> PlannedTask {
    let taken =
        |id: &str| prompt.current.iter().any(|t| t.id == id) || tasks.iter().any(|t| t.id == id);
    let id = free_id(&format!("{after}-found"), &taken);
    let line = text.replace('\\', "\\\\");
    let summary: String = text.chars().take(60).collect();
    let mut task = PlannedTask::new(
        &id,
        format!("Found by {after}: {summary}"),
        format!(
            "say Following up on what `{after}` found: {line}\nwrite {id}.txt {line}\\n\n{}say Done.\n",
            verify_lines(prompt)
        ),
        agent,
    );
    task.deps = vec![after.to_owned()];
    task.role = Some("implementer".into());
    task.files = vec![format!("{id}.txt")];
    task.acceptance = vec![format!("{id}.txt says what was found")];
    task
}

/// `drop <id>` in the feedback: the task left out (a drop action when it
/// is running); returns what the notes say about it.
fn apply_feedback(
    prompt: &ReadPrompt,
    situation: &str,
    tasks: &mut Vec<PlannedTask>,
    actions: &mut Vec<PlannedAction>,
) -> String {
    let words: Vec<&str> = situation
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '`' || c == '"')
        .filter(|w| !w.is_empty())
        .collect();
    let mut dropped = Vec::new();
    for pair in words.windows(2) {
        if !pair[0].eq_ignore_ascii_case("drop") {
            continue;
        }
        let id = pair[1].trim_end_matches('.');
        let cur = prompt.current.iter().find(|t| t.id == id);
        if cur.is_some_and(|c| c.state == "done") || dropped.iter().any(|d| d == id) {
            continue;
        }
        if cur.is_none() && !tasks.iter().any(|t| t.id == id) {
            continue;
        }
        tasks.retain(|t| t.id != id);
        for t in tasks.iter_mut() {
            t.deps.retain(|d| d != id);
        }
        if cur.is_some_and(|c| active(&c.state)) {
            actions.push(action(ActionKind::Drop, id, None));
        }
        dropped.push(id.to_owned());
    }
    if dropped.is_empty() {
        String::new()
    } else {
        format!(" Dropped as asked: `{}`.", dropped.join("`, `"))
    }
}

/// A new goal on a plan that exists: the current tasks kept, and the
/// goal's tasks whose ids are new added.
pub(super) fn scope_change(
    prompt: &ReadPrompt,
    goal_plan: &PlanAnswer,
    known: &BTreeMap<String, PlannedTask>,
) -> PlanAnswer {
    let mut tasks = kept(&prompt.current, known);
    let mut added = Vec::new();
    for t in &goal_plan.tasks {
        if !prompt.current.iter().any(|c| c.id == t.id) {
            added.push(t.id.clone());
            tasks.push(t.clone());
        }
    }
    let notes = if added.is_empty() {
        "The goal's tasks are already in the plan: nothing to add.".to_owned()
    } else {
        format!(
            "A new goal on the current plan: done and running work is kept; added `{}`.",
            added.join("`, `")
        )
    };
    PlanAnswer {
        tasks,
        notes: Some(notes),
        actions: Vec::new(),
    }
}
