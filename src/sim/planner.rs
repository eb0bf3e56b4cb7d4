//! The simulated planner: when the sim agent's script is a planning prompt
//! (`core::planner::planning_prompt`) or a re-ask (`reask_prompt`) in a
//! resumed session, it answers as a planner, deterministically and without
//! a network: the goal's directives or its default plan (`plans.rs`), or a
//! replan for what happened (`replan.rs`), as one ```json block in its
//! final message, and as `structured_output` of the `result` line when run
//! with `--json-schema`.
//!
//! State kept between runs, under `$TMPDIR/fleetdeck-sim/` (never in the
//! working directory, which is the supervisor's read-only scratch
//! worktree): each session's planning prompt (so that a re-ask in a
//! resumed session is answered for it), and per working directory the
//! tasks of the planner's last answers (so that a replan lists a task with
//! the prompt it was planned with; the prompt shows only its title).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::emit::{Emitter, uuid_for};
use super::plans;
use super::replan;
use crate::core::planner::{
    PlanAnswer, PlannedTask, ReadPrompt, extract, is_planning_prompt, is_reask, read_prompt,
};

/// How `fleetdeck sim-agent` was called besides its script.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// `--json-schema` was given: the `result` line carries `structured_output`.
    pub json_schema: bool,
    /// `--resume <session>`: the session to continue.
    pub resume: Option<String>,
}

/// What one planner run says.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Answer {
    /// The final message.
    pub text: String,
    /// The plan in it, when the message holds a valid JSON document.
    pub plan: Option<PlanAnswer>,
    /// The tasks to remember (the corrected plan's, also for a faulty answer).
    pub remember: Vec<PlannedTask>,
}

impl Answer {
    fn text(text: String) -> Self {
        Answer {
            text,
            plan: None,
            remember: Vec::new(),
        }
    }
}

/// Whether the sim answers `script` as a planner.
pub(super) fn is_planner(script: &str) -> bool {
    is_planning_prompt(script) || is_reask(script)
}

/// Where the planner keeps its state.
fn state_dir() -> PathBuf {
    std::env::temp_dir().join("fleetdeck-sim")
}

/// A file name for a session id given on the command line.
fn session_file(session: &str) -> PathBuf {
    let safe = session
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let name = if safe && !session.is_empty() && session.len() <= 100 {
        session.to_owned()
    } else {
        uuid_for(session)
    };
    state_dir().join(format!("session-{name}.json"))
}

fn memory_file(dir: &Path) -> PathBuf {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    state_dir().join(format!(
        "memory-{}.json",
        uuid_for(&dir.display().to_string())
    ))
}

fn write_state(path: &Path, value: &impl serde::Serialize) {
    let written = fs::create_dir_all(state_dir()).and_then(|()| {
        let text = serde_json::to_string(value).map_err(io::Error::other)?;
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, text)?;
        fs::rename(&tmp, path)
    });
    if let Err(err) = written {
        eprintln!("sim-agent: cannot keep state in {}: {err}", path.display());
    }
}

fn load_memory(dir: &Path) -> BTreeMap<String, PlannedTask> {
    fs::read_to_string(memory_file(dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Runs a planner turn in `dir`: answers `script` (a planning prompt, or a
/// re-ask in the session `opts.resume`).
pub(super) fn run(
    script: &str,
    opts: &Options,
    dir: &Path,
    em: &mut Emitter<'_>,
) -> io::Result<()> {
    let (prompt, fixed) = if is_planning_prompt(script) {
        (Some(script.to_owned()), false)
    } else {
        let saved = opts
            .resume
            .as_deref()
            .and_then(|s| fs::read_to_string(session_file(s)).ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.get("prompt")?.as_str().map(str::to_owned));
        (saved, true)
    };
    let session = match (&opts.resume, &prompt) {
        (Some(s), _) => s.clone(),
        (None, p) => uuid_for(&format!(
            "{}\n{}",
            dir.display(),
            p.as_deref().unwrap_or(script)
        )),
    };
    em.set_session(&session);
    em.init(dir)?;
    let Some(prompt) = prompt else {
        em.text(&format!(
            "I have no planning prompt for this session ({}): send the whole planning prompt again.",
            opts.resume.as_deref().unwrap_or("none")
        ))?;
        return em.result(None);
    };
    write_state(
        &session_file(&session),
        &serde_json::json!({ "prompt": prompt }),
    );
    let Some(read) = read_prompt(&prompt) else {
        em.text("The saved prompt is not a planning prompt.")?;
        return em.result(None);
    };
    let fixed = fixed || read.reask.is_some();
    let file = plans::directives(&read.goal)
        .plan_file
        .map(|p| read_plan_file(dir, &p));
    let memory = load_memory(dir);
    let answer = answer(&read, file, &memory, fixed);
    em.text(&format!("Planning: {}", headline(&read)))?;
    em.add_cost(0.003);
    em.text(&answer.text)?;
    let structured = answer
        .plan
        .as_ref()
        .filter(|_| opts.json_schema)
        .and_then(|p| serde_json::to_value(p).ok());
    if !answer.remember.is_empty() {
        let mut memory = memory;
        for t in &answer.remember {
            memory.insert(t.id.clone(), t.clone());
        }
        write_state(&memory_file(dir), &memory);
    }
    em.result_with(None, structured)
}

fn headline(read: &ReadPrompt) -> String {
    match &read.situation {
        Some(s) => s.lines().next().unwrap_or("").to_owned(),
        None => format!("goal: {}", read.goal.lines().next().unwrap_or("")),
    }
}

/// The text of the plan file at `path` (relative to `dir`), or why not.
fn read_plan_file(dir: &Path, path: &str) -> Result<String, String> {
    fs::read_to_string(dir.join(path))
        .map_err(|e| format!("The goal names the plan file `{path}`, which cannot be read: {e}."))
}

/// The answer to `read`: `file` is the goal's plan file (its text or why it
/// could not be read), `memory` the tasks of earlier answers, `fixed`
/// whether this answers a re-ask (a goal's fault is left out then).
pub(super) fn answer(
    read: &ReadPrompt,
    file: Option<Result<String, String>>,
    memory: &BTreeMap<String, PlannedTask>,
    fixed: bool,
) -> Answer {
    let d = plans::directives(&read.goal);
    let from_file = match file {
        None => None,
        Some(Err(why)) => return Answer::text(why),
        Some(Ok(text)) => match extract(&text) {
            Ok(plan) => Some(plan),
            // Given as it is: the validator says what is wrong with it.
            Err(_) => return Answer::text(text),
        },
    };
    let goal_plan = plans::goal_plan(read, &d, from_file.as_ref());
    let mut known: BTreeMap<String, PlannedTask> = goal_plan
        .tasks
        .iter()
        .map(|t| (t.id.clone(), t.clone()))
        .collect();
    known.extend(memory.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut plan = match &read.situation {
        Some(situation) => replan::replan(read, situation, &known, d.reassign),
        None if !read.current.is_empty() => replan::scope_change(read, &goal_plan, &known),
        None => {
            let mut plan = goal_plan;
            if let Some(notes) = &d.notes {
                plan.notes = Some(notes.clone());
            }
            plan
        }
    };
    let fault = d.fault.filter(|_| read.situation.is_none() && !fixed);
    if fixed && d.fault.is_some() {
        let note = plan.notes.take().unwrap_or_default();
        plan.notes = Some(
            format!("{note} (Corrected after the re-ask.)")
                .trim()
                .to_owned(),
        );
    }
    let shown = match fault.map(|f| plans::with_fault(&plan, f)) {
        None => Ok(plan.clone()),
        Some(faulty) => faulty,
    };
    let remember = plan.tasks;
    match shown {
        Err(text) => Answer {
            text,
            plan: None,
            remember,
        },
        Ok(shown) => {
            let json = serde_json::to_string_pretty(&shown).unwrap_or_default();
            Answer {
                text: format!("Here is the plan.\n\n```json\n{json}\n```\n"),
                plan: Some(shown),
                remember,
            }
        }
    }
}
