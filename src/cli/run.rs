//! `fleetdeck run`: the headless runner (the cockpit comes with the TUI).

use std::path::Path;
use std::time::Instant;

use tokio::sync::mpsc;

use super::{RunArgs, logging};
use crate::core::{Column, Command, Event, Status};
use crate::runtime::{Engine, EngineOptions, Notification};
use crate::store::now_ms;
use crate::summary;

pub fn main(root: &Path, args: RunArgs) -> i32 {
    logging::init(root);
    super::block_on(headless(root, args))
}

/// Runs the fleet until nothing can progress; the exit code: 0 when every
/// task is Done (or dropped), 1 when any is Failed or waits in Review (or
/// cannot start), 2 for a bad configuration.
pub async fn headless(root: &Path, args: RunArgs) -> i32 {
    let mut engine = match Engine::open(
        root,
        EngineOptions {
            auto_approve: args.auto_approve,
            ..EngineOptions::default()
        },
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return e.exit_code();
        }
    };
    let events = engine.subscribe();
    let printer = tokio::spawn(print(events, args.json));
    engine.start();
    if args.resume
        && let Err(e) = engine.command(Command::ResumeFleet)
    {
        eprintln!("fleetdeck: {e}");
    }
    let handle = engine.handle();
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            handle.shutdown();
        }
    });
    engine.run(true).await;
    interrupt.abort();
    let code = finish(&engine, args.json);
    drop(engine); // closes the event stream
    let _ = printer.await;
    code
}

/// Prints the outcome and picks the exit code.
pub(super) fn finish(engine: &Engine, json: bool) -> i32 {
    let attempts = engine.store().all_attempts().unwrap_or_default();
    let rows = summary::rows(engine.scheduler(), &attempts);
    let all_done = rows.iter().all(|r| r.column == Column::Done);
    if !json {
        let done = rows.iter().filter(|r| r.status == "done").count();
        let cost: f64 = rows.iter().map(|r| r.cost_usd).sum();
        println!(
            "{done} of {} task(s) done, ${cost:.4} spent; target branch `{}`",
            rows.len(),
            engine.target()
        );
        for r in rows
            .iter()
            .filter(|r| r.column != Column::Done || r.reason.is_some())
        {
            let why = r.reason.as_deref().unwrap_or("");
            println!("  {:<20} {:<9} {why}", r.id, r.status);
        }
        if engine.scheduler().fleet_paused() && !all_done {
            let why = match engine.store().fleet_paused_reason().ok().flatten() {
                Some(why) => crate::sanitize::sanitize(&why).into_owned(),
                None => "an earlier run was interrupted, or you paused it".into(),
            };
            println!("the fleet is paused ({why}): run again with --resume to continue");
        }
    }
    if all_done { 0 } else { 1 }
}

pub(super) async fn print(mut events: mpsc::UnboundedReceiver<Notification>, json: bool) {
    let started = Instant::now();
    while let Some(n) = events.recv().await {
        let Notification::Event { actor, event } = n else {
            if let Notification::Warning { message } = n {
                eprintln!("fleetdeck: warning: {message}");
            }
            continue;
        };
        if json {
            let line = serde_json::json!({ "ts_ms": now_ms(), "actor": actor, "event": event });
            println!("{line}");
            continue;
        }
        let t = started.elapsed().as_secs_f64();
        if let Some(text) = describe(&event, now_ms()) {
            println!("[{t:7.1}s] {text}");
        }
    }
}

/// One line for a state change at `now_ms`, or None for events that are not one.
fn describe(event: &Event, now_ms: i64) -> Option<String> {
    Some(match event {
        Event::Status { task, from, to } => {
            let detail = match to {
                Status::Running { attempt } if *attempt > 1 => format!(" (attempt {attempt})"),
                Status::Failed { reason } => format!(": {reason}"),
                Status::Review {
                    block: Some(block), ..
                } => format!(": {block}"),
                Status::Done { commit } => {
                    format!(" (merged as {})", &commit[..commit.len().min(10)])
                }
                _ => String::new(),
            };
            format!("{task:<20} {from} -> {to}{detail}")
        }
        Event::Interrupted { task, attempt } => {
            format!("{task:<20} attempt {attempt} was interrupted")
        }
        Event::FleetPaused { reason } => format!("fleet paused: {reason}"),
        Event::FleetResumed => "fleet resumed".into(),
        Event::AttemptFailed {
            task,
            attempt,
            reason,
            retrying: true,
        } => {
            let reason = crate::sanitize::sanitize(reason);
            format!("{task:<20} attempt {attempt} failed, retrying: {reason}")
        }
        Event::RateLimited {
            task,
            attempt,
            retry_at_ms,
        } => {
            let secs = crate::core::fleet::seconds_until(*retry_at_ms, now_ms);
            format!(
                "{task:<20} attempt {attempt} was rate limited: retrying in {secs} s (not counted as an attempt)"
            )
        }
        Event::AgentUnusable { agent, reason } => format!(
            "{}; its tasks wait",
            crate::core::fleet::unusable_reason(agent, &crate::sanitize::sanitize(reason))
        ),
        Event::BudgetExceeded {
            task: Some(task),
            spent,
        } => format!(
            "{task:<20} crossed its budget (${:.4}, {} tokens): its agent is paused; raise it with `fleetdeck budget {task} --usd N`",
            spent.usd, spent.tokens
        ),
        Event::BudgetExceeded { task: None, spent } => format!(
            "the fleet crossed its budget (${:.4}, {} tokens): paused; raise it with `fleetdeck budget --usd N`",
            spent.usd, spent.tokens
        ),
        Event::Consulting { trigger, .. } => {
            format!("supervisor: consulted ({})", trigger.describe())
        }
        Event::ConsultEnded { message, .. } => format!("supervisor: {message}"),
        Event::FannedOut { task, candidates } => {
            let names: Vec<&str> = candidates.iter().map(|c| c.as_str()).collect();
            format!("{task:<20} fanned out to {}", names.join(", "))
        }
        Event::Picked {
            task,
            candidate,
            discarded,
        } => {
            let names: Vec<&str> = discarded.iter().map(|c| c.as_str()).collect();
            if names.is_empty() {
                format!("{task:<20} picked {candidate}")
            } else {
                format!(
                    "{task:<20} picked {candidate}; discarded {} (work kept under refs/fleet/discarded/{task}/)",
                    names.join(", ")
                )
            }
        }
        Event::PlanChanged {
            origin, changes, ..
        } => format!(
            "plan changed by the {}: {}",
            origin.name(),
            changes.join("; ")
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_wait_is_rounded_up() {
        let event = Event::RateLimited {
            task: crate::core::TaskId::parse("t").unwrap(),
            attempt: 1,
            retry_at_ms: 10_000,
        };
        let line = |now| describe(&event, now).unwrap();
        assert!(line(9_000).contains("retrying in 1 s"), "{}", line(9_000));
        assert!(line(9_001).contains("retrying in 1 s"), "{}", line(9_001));
        assert!(line(8_999).contains("retrying in 2 s"), "{}", line(8_999));
        assert!(line(10_500).contains("retrying in 0 s"), "{}", line(10_500));
    }
}
