//! Frame times of the cockpit's heavy views at 160x48 (target: < 4 ms each):
//! a board of 1,000 tasks and a transcript of 100,000 lines.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::agent::AgentEvent;
use fleetdeck::core::{Status, Task, TaskId, TaskSpec};
use fleetdeck::runtime::Snapshot;
use fleetdeck::store::{AttemptRecord, Usage};
use fleetdeck::ui::app::{App, Detail, Screen, Tab};
use fleetdeck::ui::keymap::Keymap;
use fleetdeck::ui::model::{Model, Transcript};
use fleetdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn spec(i: usize) -> TaskSpec {
    TaskSpec {
        deps: if i > 0 && i.is_multiple_of(3) {
            vec![TaskId::parse(&format!("task-{}", i - 1)).unwrap()]
        } else {
            vec![]
        },
        ..TaskSpec::new(
            TaskId::parse(&format!("task-{i}")).unwrap(),
            format!("Task number {i} with a reasonably long title"),
            "do it",
            ["claude", "codex", "gemini"][i % 3],
        )
    }
}

fn app(tasks: usize) -> App {
    let statuses = [
        Status::Queued { held: false },
        Status::Running { attempt: 1 },
        Status::Review {
            attempt: 1,
            block: None,
        },
        Status::Done {
            commit: "abcdef1234".into(),
        },
    ];
    let tasks: Vec<Task> = (0..tasks)
        .map(|i| {
            let mut t = Task::new(spec(i));
            t.status = statuses[i % 4].clone();
            t
        })
        .collect();
    let attempts = (0..tasks.len())
        .filter(|i| i % 4 != 0)
        .map(|i| AttemptRecord {
            task: format!("task-{i}"),
            n: 1,
            agent: "claude".into(),
            prompt: String::new(),
            base: None,
            transcript: String::new(),
            started_ms: 1_000,
            ended_ms: None,
            outcome: None,
            message: None,
            commit: None,
            session_id: None,
            usage: Usage {
                input_tokens: 10,
                output_tokens: 10,
                cost_usd: 0.01,
            },
        })
        .collect();
    let snapshot = Snapshot {
        root: PathBuf::from("/repo"),
        target: "main".into(),
        tasks,
        fleet_paused: false,
        agents: vec!["claude".into(), "codex".into(), "gemini".into()],
        max_parallel: 8,
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
    let mut app = App::new(Model::new(snapshot), Keymap::default(), Theme::dark());
    app.size = (160, 48);
    app.now_ms = 100_000;
    app
}

fn bench(c: &mut Criterion) {
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();

    let mut board = app(1000);
    board.board.column = 2;
    board.board.selected = [100, 100, 100, 100];
    c.bench_function("board_1000_tasks_160x48", |b| {
        b.iter(|| {
            terminal
                .draw(|f| fleetdeck::ui::render::render(f, &board))
                .unwrap();
        })
    });

    let mut long = app(4);
    let id = TaskId::parse("task-1").unwrap();
    let event = |i: i64| match i % 4 {
        0 => AgentEvent::Message {
            text: format!("thinking about step {i} of the plan, which is long enough to be cut"),
        },
        1 => AgentEvent::ToolCall {
            id: None,
            name: "Bash".into(),
            arg: format!("cargo test --package p{i}"),
        },
        2 => AgentEvent::ToolResult {
            id: None,
            ok: i % 8 != 2,
            preview: "ok: 42 tests passed".into(),
            output: String::new(),
        },
        _ => AgentEvent::Text {
            text: format!("stray line {i}"),
        },
    };
    let mut t = Transcript::default();
    for i in 0..100_000 {
        t.push_event(1_000 + i, &event(i));
    }
    long.model.transcripts.insert((id.clone(), 1), t);
    long.model.complete.insert((id.clone(), 1));
    // The middle of the transcript is no longer in memory: install the window
    // of older lines the cockpit would have read from the file.
    if let Some(request) =
        long.model
            .request_lines(&id, 1, "runs/task-1/1.jsonl", 49_990..50_060, false)
    {
        // Each generated event is exactly one display line, so line i is event i.
        let lines = request
            .lines
            .clone()
            .flat_map(|i| {
                fleetdeck::ui::model::event_lines(&event(i as i64))
                    .into_iter()
                    .map(move |(kind, text)| (i, kind, text))
            })
            .map(|(i, kind, text)| fleetdeck::ui::model::Line {
                at_ms: 1_000 + i as i64,
                kind,
                text,
            })
            .collect();
        long.model.set_lines(
            &request,
            Ok(fleetdeck::ui::model::Window {
                start: request.lines.start,
                lines,
            }),
        );
    }
    let detail = |scroll| {
        Screen::Detail(Detail {
            task: id.clone(),
            tab: Tab::Transcript,
            attempt: None,
            scroll,
            search: None,
            info_scroll: 0,
        })
    };
    long.screen = detail(None);
    c.bench_function("transcript_100k_lines_following_160x48", |b| {
        b.iter(|| {
            terminal
                .draw(|f| fleetdeck::ui::render::render(f, &long))
                .unwrap();
        })
    });
    assert!(
        long.model.transcripts[&(id.clone(), 1)]
            .get(50_010)
            .is_some(),
        "the window is installed"
    );
    long.screen = detail(Some(50_000));
    if let Screen::Detail(d) = &mut long.screen {
        d.search = Some("step".into());
    }
    c.bench_function("transcript_100k_lines_middle_with_search_160x48", |b| {
        b.iter(|| {
            terminal
                .draw(|f| fleetdeck::ui::render::render(f, &long))
                .unwrap();
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
