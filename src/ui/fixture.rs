//! A fixed fleet for UI tests: every status, attempts with costs, a transcript.

use std::path::PathBuf;

use crate::agent::AgentEvent;
use crate::core::{AttemptOutcome, MergeBlock, Status, Task, TaskId, TaskSpec};
use crate::runtime::Snapshot;
use crate::store::{AttemptRecord, Usage};
use crate::ui::app::App;
use crate::ui::keymap::Keymap;
use crate::ui::model::{LineKind, Model, Transcript};
use crate::ui::theme::Theme;

/// The fixed "now" of the fixture, in Unix milliseconds.
pub const NOW: i64 = 1_800_000_000_000;

pub fn spec(id: &str, title: &str, deps: &[&str], agent: &str) -> TaskSpec {
    TaskSpec {
        deps: deps.iter().map(|d| TaskId::parse(d).unwrap()).collect(),
        role: Some("implementer".into()),
        ..TaskSpec::new(
            TaskId::parse(id).unwrap(),
            title,
            format!("Do the work of {id}.\nKeep it small."),
            agent,
        )
    }
}

fn task(spec: TaskSpec, status: Status, attempts: u32) -> Task {
    let mut t = Task::new(spec);
    t.status = status;
    t.attempts = attempts;
    t
}

fn attempt(
    task: &str,
    n: u32,
    agent: &str,
    started_s_ago: i64,
    ended_s_ago: Option<i64>,
    outcome: Option<&str>,
    cost: f64,
) -> AttemptRecord {
    AttemptRecord {
        task: task.into(),
        n,
        agent: agent.into(),
        prompt: "p".into(),
        base: Some("0".repeat(40)),
        transcript: format!("runs/{task}/{n}.jsonl"),
        started_ms: NOW - started_s_ago * 1000,
        ended_ms: ended_s_ago.map(|s| NOW - s * 1000),
        outcome: outcome.map(|o| match o {
            "failed" => AttemptOutcome::VerifyFailed {
                command: "cargo test".into(),
            },
            o => AttemptOutcome::parse(o).unwrap_or(AttemptOutcome::GateError),
        }),
        message: (outcome == Some("failed")).then(|| "exit code 101".to_owned()),
        commit: None,
        session_id: None,
        usage: Usage {
            input_tokens: 1200,
            output_tokens: 80,
            cost_usd: cost,
        },
    }
}

/// The fixture's model: ten tasks across all columns.
pub fn model() -> Model {
    let tasks = vec![
        task(
            spec("schema", "Design the schema", &[], "claude"),
            Status::Done {
                commit: "a1b2c3d4e5".into(),
            },
            1,
        ),
        task(
            spec(
                "api",
                "Build the HTTP API on the schema",
                &["schema"],
                "codex",
            ),
            Status::Running { attempt: 2 },
            2,
        ),
        task(
            spec("auth", "Sessions and login", &["schema"], "claude"),
            Status::Paused { attempt: 1 },
            1,
        ),
        task(
            spec("ui", "Web front end", &["api"], "gemini"),
            Status::Queued { held: false },
            0,
        ),
        task(
            spec("docs", "Document the API", &["api", "auth"], "aider"),
            Status::Queued { held: true },
            0,
        ),
        task(
            spec("tests", "Integration tests", &["schema"], "codex"),
            Status::Review {
                attempt: 1,
                block: None,
            },
            1,
        ),
        task(
            spec("greet", "Change the greeting", &[], "claude"),
            Status::Review {
                attempt: 1,
                block: Some(MergeBlock::Conflict {
                    files: vec!["greeting.txt".into()],
                }),
            },
            1,
        ),
        task(
            spec("perf", "Speed up the parser", &["schema"], "claude"),
            Status::Failed {
                reason: "failed 3 attempt(s); last: `cargo test` failed: exit code 101".into(),
            },
            3,
        ),
        task(
            spec("lint", "Fix the lints", &[], "aider"),
            Status::Verifying { attempt: 1 },
            1,
        ),
        task(
            spec("old", "An abandoned idea", &[], "claude"),
            Status::Dropped,
            0,
        ),
    ];
    let attempts = vec![
        attempt(
            "schema",
            1,
            "claude",
            900,
            Some(840),
            Some("succeeded"),
            0.42,
        ),
        attempt("api", 1, "codex", 600, Some(500), Some("failed"), 0.1),
        attempt("api", 2, "codex", 125, None, None, 0.0831),
        attempt("auth", 1, "claude", 300, None, None, 0.05),
        attempt("tests", 1, "codex", 400, Some(200), Some("succeeded"), 0.2),
        attempt("greet", 1, "claude", 100, Some(90), Some("succeeded"), 0.01),
        attempt("perf", 1, "claude", 700, Some(650), Some("failed"), 0.3),
        attempt("perf", 2, "claude", 640, Some(600), Some("failed"), 0.3),
        attempt("perf", 3, "claude", 590, Some(550), Some("failed"), 0.3),
        attempt("lint", 1, "aider", 30, Some(5), Some("succeeded"), 0.0),
    ];
    let snapshot = Snapshot {
        root: PathBuf::from("/work/shop"),
        target: "main".into(),
        tasks,
        fleet_paused: false,
        agents: ["aider", "claude", "codex", "gemini"]
            .map(String::from)
            .to_vec(),
        max_parallel: 4,
        attempts,
        budget: Default::default(),
        stall_secs: Default::default(),
        supervisor: None,
        proposals: Vec::new(),
    };
    let mut m = Model::new(snapshot);
    let api = TaskId::parse("api").unwrap();
    let mut t = Transcript::default();
    let start = NOW - 125_000;
    let events = [
        AgentEvent::Session {
            id: "0e59974e".into(),
            model: Some("gpt-5".into()),
        },
        AgentEvent::Message {
            text: "I'll add the routes first.\nThen the handlers.".into(),
        },
        AgentEvent::ToolCall {
            id: None,
            name: "Write".into(),
            arg: "src/routes.rs".into(),
        },
        AgentEvent::ToolResult {
            id: None,
            ok: true,
            preview: "File created successfully".into(),
            output: String::new(),
        },
        AgentEvent::ToolCall {
            id: None,
            name: "Bash".into(),
            arg: "cargo test".into(),
        },
        AgentEvent::ToolResult {
            id: None,
            ok: false,
            preview: "error[E0425]: cannot find value `db`\nmore".into(),
            output: String::new(),
        },
        AgentEvent::Notice {
            text: "API retry 1/3 in 2s (overloaded)".into(),
        },
        AgentEvent::Message {
            text: "Fixing the missing import.".into(),
        },
    ];
    for (i, e) in events.iter().enumerate() {
        t.push_event(start + i as i64 * 7_000, e);
    }
    t.push_text(start + 70_000, LineKind::Fleet, "verify: cargo test");
    m.transcripts.insert((api.clone(), 2), t);
    m.complete.insert((api, 2));
    m
}

/// An app over the fixture at `w` x `h`.
pub fn app(w: u16, h: u16) -> App {
    let mut app = App::new(model(), Keymap::default(), Theme::dark());
    app.size = (w, h);
    app.now_ms = NOW;
    app
}
