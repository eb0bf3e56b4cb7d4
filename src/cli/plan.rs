//! `fleetdeck plan`: a goal becomes a proposed plan (through the engine, the
//! one writer: `Command::Plan`, then the proposal's plan diff and task graph
//! printed, applied with `--yes`); `--dry-run` runs the planner without
//! recording anything; `--schema` prints the planner's output contract;
//! `--history` lists every applied change to the plan.

use std::collections::HashSet;
use std::path::Path;

use clap::Args;
use serde_json::json;
use tokio::sync::mpsc;

use super::logging;
use crate::core::supervisor::{Proposal, rules};
use crate::core::{ConsultResult, Event, Task, TaskId, plan_graph};
use crate::runtime::{Engine, EngineHandle, EngineOptions, Notification};
use crate::store::transcript::{self, Stream};

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The goal, e.g. "Add OAuth login" (words are joined with spaces).
    pub goal: Vec<String>,
    /// Apply the proposed plan at once (no agent starts: `fleetdeck run` or the cockpit runs it).
    #[arg(long, conflicts_with = "dry_run")]
    pub yes: bool,
    /// Print one JSON document: the proposal, its changes, warnings and problems.
    #[arg(long)]
    pub json: bool,
    /// Ask the planner and print its plan, changing nothing (not even the stored goal).
    #[arg(long)]
    pub dry_run: bool,
    /// Print the JSON Schema the planner's answer must follow.
    #[arg(long, conflicts_with_all = ["yes", "dry_run", "history"])]
    pub schema: bool,
    /// List every applied change to the plan: when, who proposed it, why, and each change.
    #[arg(long, conflicts_with_all = ["yes", "dry_run"])]
    pub history: bool,
}

/// Width the diff and graph are drawn for.
const WIDTH: usize = 80;
/// Most graph lines printed.
const GRAPH_LINES: usize = 40;

/// `fleetdeck plan --schema`: needs no repository.
pub fn schema() -> i32 {
    match serde_json::to_string_pretty(&crate::core::planner::schema()) {
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(e) => {
            eprintln!("fleetdeck: cannot print the schema: {e}");
            1
        }
    }
}

pub fn main(root: &Path, args: PlanArgs) -> i32 {
    if args.history {
        return history(root, args.json);
    }
    let goal = args.goal.join(" ");
    if goal.trim().is_empty() {
        eprintln!(
            "fleetdeck: give a goal: fleetdeck plan \"Add OAuth login\" (or --schema, --history)"
        );
        return 2;
    }
    logging::init(root);
    super::block_on(async move {
        let mut engine = match Engine::open_held(root, EngineOptions::default()) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("fleetdeck: {e}");
                return e.exit_code();
            }
        };
        if args.dry_run {
            return dry_run(&mut engine, goal.trim(), args.json).await;
        }
        consult(&mut engine, goal.trim(), &args).await
    })
}

/// How a consultation through the engine ended, as the CLI saw it.
enum Outcome {
    /// A proposal waits (or was confirmed with `--yes`: `applied`).
    Proposed {
        proposal: Box<Proposal>,
        changes: Vec<String>,
        applied: Result<bool, String>,
    },
    /// Applied by autonomy without asking.
    Auto { changes: Vec<String> },
    /// No proposal: no change, refused, or the planner failed.
    Ended { consult: u64, message: String },
}

async fn consult(engine: &mut Engine, goal: &str, args: &PlanArgs) -> i32 {
    let mut notes = engine.subscribe();
    let handle = engine.handle();
    let command = crate::core::Command::Plan {
        goal: goal.to_owned(),
    };
    if let Err(e) = engine.command(command) {
        eprintln!("fleetdeck: {e}");
        return 1;
    }
    let tasks_before = engine.scheduler().tasks().to_vec();
    let yes = args.yes;
    let waiter = async {
        let outcome = wait(&mut notes, &handle, &tasks_before, yes).await;
        handle.shutdown();
        outcome
    };
    let ((), outcome) = tokio::join!(engine.run(false), waiter);
    let fleet_dir = engine.root().join(".fleet");
    match outcome {
        None => {
            eprintln!("fleetdeck: the engine stopped before the planner answered");
            1
        }
        Some(Outcome::Ended { consult, message }) => {
            let answer = last_answer(&fleet_dir.join(transcript::supervisor_path(consult)));
            ended(&message, answer.as_deref(), args.json)
        }
        Some(Outcome::Auto { changes }) => {
            if args.json {
                print_json(&json!({ "applied": true, "auto": true, "changes": changes }));
            } else {
                println!("applied by itself ([supervisor] autonomy):");
                for c in &changes {
                    println!("  {c}");
                }
            }
            0
        }
        Some(Outcome::Proposed {
            proposal,
            changes,
            applied,
        }) => proposed(&tasks_before, &proposal, &changes, applied, None, args.json),
    }
}

/// Waits for the end of the consultation this command started; with `yes`
/// confirms the proposal and waits for the plan to change.
async fn wait(
    notes: &mut mpsc::UnboundedReceiver<Notification>,
    handle: &EngineHandle,
    tasks: &[Task],
    yes: bool,
) -> Option<Outcome> {
    let mut ours: Option<u64> = None;
    while let Some(note) = notes.recv().await {
        let Notification::Event { event, .. } = note else {
            continue;
        };
        match event {
            Event::Consulting { consult, .. } if ours.is_none() => ours = Some(consult),
            Event::ConsultEnded {
                consult, message, ..
            } if ours == Some(consult) => {
                return Some(Outcome::Ended { consult, message });
            }
            Event::PlanChanged {
                auto: true,
                changes,
                ..
            } if ours.is_some() => {
                return Some(Outcome::Auto { changes });
            }
            Event::Proposed { proposal } if ours.is_some() => {
                let changes = rules::diff(tasks, &proposal)
                    .changes
                    .iter()
                    .map(rules::change_line)
                    .collect();
                let applied = if yes {
                    confirm(notes, handle, proposal.id).await
                } else {
                    Ok(false)
                };
                return Some(Outcome::Proposed {
                    proposal,
                    changes,
                    applied,
                });
            }
            _ => {}
        }
    }
    None
}

async fn confirm(
    notes: &mut mpsc::UnboundedReceiver<Notification>,
    handle: &EngineHandle,
    proposal: u64,
) -> Result<bool, String> {
    let command = crate::core::Command::ConfirmProposal {
        proposal,
        off: vec![],
    };
    handle.command(command).await.map_err(|e| e.to_string())?;
    while let Some(note) = notes.recv().await {
        match note {
            Notification::Event {
                event: Event::PlanChanged { .. },
                ..
            } => return Ok(true),
            Notification::Event {
                event: Event::Proposed { proposal: again },
                ..
            } => {
                return Err(format!(
                    "the plan changed while the proposal was shown; it is proposal {} now",
                    again.id
                ));
            }
            _ => {}
        }
    }
    Err("the engine stopped before the plan changed".into())
}

/// `--dry-run`: the planner runs outside the scheduler; nothing is recorded.
async fn dry_run(engine: &mut Engine, goal: &str, json: bool) -> i32 {
    let tasks = engine.scheduler().tasks().to_vec();
    match engine.plan_dry_run(goal).await {
        ConsultResult::Answer {
            reasoning,
            specs,
            actions,
            warnings,
            rounds,
            ..
        } => {
            let proposal = Proposal {
                id: 0,
                origin: crate::core::supervisor::Origin::Supervisor,
                trigger: crate::core::supervisor::Trigger::Goal {
                    goal: goal.to_owned(),
                },
                reasoning,
                specs,
                actions,
                warnings,
            };
            let changes: Vec<String> = rules::diff(&tasks, &proposal)
                .changes
                .iter()
                .map(rules::change_line)
                .collect();
            if !json {
                println!("dry run: nothing is applied or recorded");
            }
            proposed(&tasks, &proposal, &changes, Ok(false), Some(rounds), json)
        }
        ConsultResult::Refused {
            answer,
            problems,
            rounds,
            ..
        } => {
            let message = format!(
                "the supervisor's plan was refused after {rounds} answer(s): {}",
                problems.join("; ")
            );
            refused(&answer, &problems, &message, json)
        }
        ConsultResult::Failed { message, .. } => ended(
            &format!("the supervisor could not plan: {message}"),
            None,
            json,
        ),
    }
}

/// Prints a proposal: its diff and graph, reasoning and warnings.
fn proposed(
    tasks: &[Task],
    proposal: &Proposal,
    changes: &[String],
    applied: Result<bool, String>,
    rounds: Option<u32>,
    as_json: bool,
) -> i32 {
    let code = i32::from(applied.is_err());
    if as_json {
        print_json(&json!({
            "proposal": proposal,
            "changes": changes,
            "warnings": proposal.warnings,
            "problems": [],
            "applied": applied.as_ref().is_ok_and(|a| *a),
            "error": applied.as_ref().err(),
            "rounds": rounds,
        }));
        return code;
    }
    let diff = rules::diff(tasks, proposal);
    println!(
        "proposal {} ({}):",
        proposal.id,
        proposal.trigger.describe()
    );
    for line in plan_graph::render_diff(&diff, WIDTH) {
        println!("{line}");
    }
    let changed: HashSet<TaskId> = diff.changes.iter().map(|c| c.task().clone()).collect();
    println!();
    for line in
        plan_graph::render_graph(&graph_tasks(tasks, proposal), &changed, WIDTH, GRAPH_LINES)
    {
        println!("{line}");
    }
    if let Some(why) = proposal
        .reasoning
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        println!("\nreasoning:\n{}", indent(why));
    }
    if !proposal.warnings.is_empty() {
        println!("\nwarnings:");
        for w in &proposal.warnings {
            println!("  - {w}");
        }
    }
    match applied {
        Ok(true) => println!(
            "\napplied: {} change(s); the fleet runs them with `fleetdeck run` or the cockpit",
            changes.len()
        ),
        Ok(false) if proposal.id == 0 => {}
        Ok(false) => println!("\nnot applied: run again with --yes, or confirm it in the cockpit"),
        Err(e) => eprintln!("fleetdeck: not applied: {e}"),
    }
    code
}

/// The proposed plan as tasks for the graph: a kept task keeps its status.
fn graph_tasks(tasks: &[Task], proposal: &Proposal) -> Vec<Task> {
    rules::proposed_plan(tasks, proposal)
        .into_iter()
        .map(|spec| match tasks.iter().find(|t| t.spec.id == spec.id) {
            Some(t) => {
                let mut t = t.clone();
                t.spec = spec;
                t
            }
            None => Task::new(spec),
        })
        .collect()
}

fn ended(message: &str, answer: Option<&str>, as_json: bool) -> i32 {
    let refused = message.contains("refused");
    if refused && let Some(answer) = answer {
        return refused_text(answer, message, as_json);
    }
    if as_json {
        print_json(
            &json!({ "proposal": null, "changes": [], "warnings": [], "problems": [], "message": message }),
        );
    } else {
        println!("{message}");
    }
    // "No change" is an answer; a failed planner is not.
    i32::from(refused || message.contains("could not plan"))
}

fn refused_text(answer: &str, message: &str, as_json: bool) -> i32 {
    let problems: Vec<String> = message
        .split_once(": ")
        .map(|(_, p)| p.split("; ").map(str::to_owned).collect())
        .unwrap_or_default();
    refused(answer, &problems, message, as_json)
}

fn refused(answer: &str, problems: &[String], message: &str, as_json: bool) -> i32 {
    if as_json {
        print_json(&json!({
            "proposal": null, "changes": [], "warnings": [],
            "problems": problems, "answer": answer, "message": message,
        }));
    } else {
        println!(
            "the planner's answer:\n{}\n",
            indent(&crate::sanitize::sanitize(answer))
        );
        println!("it was refused:");
        for p in problems {
            println!("  - {p}");
        }
    }
    1
}

/// The assistant messages of the last round in a consultation's transcript.
fn last_answer(path: &Path) -> Option<String> {
    let t = transcript::read(path).ok()?;
    let format = t.header.as_ref()?.format;
    let mut parser = crate::agent::parser_for(format);
    let mut messages: Vec<String> = Vec::new();
    for line in &t.lines {
        match line.s {
            Stream::Fleet if line.l.contains(": asking again: ") => messages.clear(),
            Stream::Out => {
                for event in parser.line(&line.l) {
                    if let crate::agent::AgentEvent::Message { text }
                    | crate::agent::AgentEvent::Text { text } = event
                    {
                        messages.push(text);
                    }
                }
            }
            _ => {}
        }
    }
    Some(messages.join("\n\n")).filter(|m| !m.trim().is_empty())
}

/// `--history`: every `plan_changed` event of the fleet, oldest first.
fn history(root: &Path, as_json: bool) -> i32 {
    let store = match crate::store::Store::open(&root.join(".fleet")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 1;
        }
    };
    let events = match store.events_of(&["plan_changed"]) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 1;
        }
    };
    let mut rows = Vec::new();
    for rec in events {
        if let Ok(event @ Event::PlanChanged { .. }) = serde_json::from_value(rec.detail.clone()) {
            rows.push((rec.ts_ms, event));
        }
    }
    if as_json {
        let list: Vec<_> = rows
            .iter()
            .map(|(ts, e)| json!({ "ts_ms": ts, "event": e }))
            .collect();
        print_json(&json!({ "history": list }));
        return 0;
    }
    if rows.is_empty() {
        println!("the plan has not been changed yet");
    }
    for (ts, event) in rows {
        if let Event::PlanChanged {
            origin,
            reason,
            proposal,
            auto,
            changes,
        } = event
        {
            let how = if auto {
                "applied by itself"
            } else {
                "confirmed"
            };
            let which = proposal
                .map(|p| format!(" proposal {p},"))
                .unwrap_or_default();
            println!(
                "{}  {}{which} {how}: {}",
                utc(ts),
                origin.name(),
                reason.trim()
            );
            for c in changes {
                println!("    {c}");
            }
        }
    }
    0
}

fn print_json(value: &serde_json::Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("fleetdeck: cannot print JSON: {e}"),
    }
}

fn indent(text: &str) -> String {
    text.trim()
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of Unix milliseconds.
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_civil_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_796_139_723_000), "2026-12-01 15:42:03");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
    }
}
