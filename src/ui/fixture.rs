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

mod team;
pub use team::{reviewed_diff, teamed};

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
        supervisor_history: Vec::new(),
        supervisor_lines: Vec::new(),
        messages: Vec::new(),
        context: Vec::new(),
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

/// The snapshot of a fleet with nothing in it.
pub fn empty_snapshot() -> Snapshot {
    Snapshot {
        root: "/r".into(),
        target: "main".into(),
        tasks: vec![],
        fleet_paused: false,
        agents: vec![],
        max_parallel: 1,
        attempts: vec![],
        budget: Default::default(),
        stall_secs: Default::default(),
        supervisor: None,
        proposals: vec![],
        supervisor_history: vec![],
        supervisor_lines: vec![],
        messages: vec![],
        context: vec![],
    }
}

/// An app over the fixture at `w` x `h`.
pub fn app(w: u16, h: u16) -> App {
    let mut app = App::new(model(), Keymap::default(), Theme::dark());
    app.size = (w, h);
    app.now_ms = NOW;
    app
}

/// The supervisor's proposal 2 for the fixture: after `perf` failed, split
/// it in two, retitle `docs`, rewrite the prompt of the running `api`
/// (refused: it runs), with reasoning and a warning.
pub fn proposal(model: &Model) -> crate::core::supervisor::Proposal {
    use crate::core::supervisor::{Origin, Proposal, Trigger};
    let mut specs: Vec<TaskSpec> = model
        .fleet
        .tasks()
        .iter()
        .filter(|t| !matches!(t.status, Status::Dropped) && t.id().as_str() != "perf")
        .map(|t| t.spec.clone())
        .collect();
    for s in &mut specs {
        match s.id.as_str() {
            "docs" => s.title = "Document the API and the login".into(),
            "api" => s.prompt = "Build the REST API, without the admin routes.".into(),
            _ => {}
        }
    }
    specs.push(spec(
        "perf-lexer",
        "Speed up the lexer",
        &["schema"],
        "codex",
    ));
    specs.push(spec(
        "perf-parser",
        "Speed up the parser's hot loop",
        &["perf-lexer"],
        "claude",
    ));
    Proposal {
        id: 2,
        origin: Origin::Supervisor,
        trigger: Trigger::Failed {
            task: TaskId::parse("perf").unwrap(),
            reason: "verify failed 3 times".into(),
        },
        reasoning: Some(
            "perf failed three times on the same benchmark: the lexer and the parser are two \
             separate problems. Split it so that each attempt has one measurable goal, and give \
             the lexer to codex, which is cheaper for mechanical work."
                .into(),
        ),
        specs,
        actions: vec![],
        warnings: vec![
            "`perf-lexer` and `perf-parser` both expect src/parse.rs without a dependency between them"
                .into(),
        ],
    }
}

/// The plan diff of [`proposal`] as the overlay holds it (on its graph tab
/// when `graph`), with `perf-parser` expanded.
pub fn plan_view(app: &App, graph: bool) -> crate::ui::app::PlanView {
    let mut view = crate::ui::app::PlanView::proposal(Box::new(proposal(&app.model)), &app.model);
    if graph {
        view.tab = crate::ui::app::PlanTab::Graph;
    }
    view.expanded
        .insert((TaskId::parse("docs").unwrap(), "edit"));
    view
}

/// The fixture with a supervisor: consultations (one applied, one that
/// proposed [`proposal`], one thinking), live lines, a stalled card and a
/// question.
pub fn supervised(app: &mut App) {
    use crate::core::Event;
    use crate::core::supervisor::Trigger;
    use crate::store::transcript::Stream;
    let m = &mut app.model;
    m.supervisor.profile = Some("claude".into());
    let goal = Trigger::Goal {
        goal: "Add a login page".into(),
    };
    let perf = proposal(m).trigger;
    let stalled = Trigger::Stalled {
        task: TaskId::parse("api").unwrap(),
        attempt: 2,
        why: "no file changed for 10m".into(),
    };
    let p = proposal(m);
    let ended = |consult, message: &str, proposal| Event::ConsultEnded {
        consult,
        message: message.into(),
        proposal,
        spend: crate::core::Spend {
            usd: 0.0312,
            tokens: 5_400,
        },
        failed: false,
    };
    let events = [
        Event::Consulting {
            consult: 1,
            trigger: goal,
        },
        Event::Proposed {
            proposal: Box::new(crate::core::supervisor::Proposal { id: 1, ..p.clone() }),
        },
        ended(1, "proposed 5 changes", Some(1)),
        Event::PlanChanged {
            origin: crate::core::supervisor::Origin::Supervisor,
            reason: "goal".into(),
            proposal: Some(1),
            auto: false,
            changes: vec![],
        },
        Event::Consulting {
            consult: 2,
            trigger: perf,
        },
        Event::Proposed {
            proposal: Box::new(p),
        },
        ended(2, "proposed 5 changes", Some(2)),
        Event::Consulting {
            consult: 3,
            trigger: stalled,
        },
    ];
    for (i, e) in events.iter().enumerate() {
        m.supervisor.apply_event(e, NOW - 60_000 + i as i64 * 1_000);
    }
    for (consult, stream, line) in [
        (
            2,
            Stream::Fleet,
            "supervisor: claude in a read-only worktree at main",
        ),
        (2, Stream::Out, "Reading the failed attempts of perf."),
        (
            2,
            Stream::Out,
            "The lexer and the parser fail separately: splitting.",
        ),
        (2, Stream::Err, "warning: \u{1b}[31mslow\u{1b}[0m network"),
        (
            3,
            Stream::Out,
            "Looking at what api did in the last 10 minutes…",
        ),
    ] {
        m.supervisor.push_line(consult, stream, line, NOW - 30_000);
    }
    for (id, stalled, question) in [
        ("api", Some("no file changed for 10m"), None),
        (
            "perf",
            None,
            Some(
                "Should the parser keep the old grammar?\nThe new one is faster but breaks two tests.",
            ),
        ),
    ] {
        let mut t = m.task(id).unwrap().clone();
        t.stalled = stalled.map(String::from);
        t.question = question.map(String::from);
        m.fleet.upsert(t);
    }
}
