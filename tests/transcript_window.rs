//! The real event loop reads older transcript lines and searches the
//! transcript file in the background when the user scrolls above what the
//! cockpit keeps in memory: keys in, screens out, with real time (the reads
//! run on blocking threads) and a timeout.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::agent::{AgentEvent, Format};
use fleetdeck::core::{Actor, Event, TaskId};
use fleetdeck::runtime::{Engine, EngineOptions, Notification};
use fleetdeck::store::transcript::{Header, Stream, Writer, relative_path};
use fleetdeck::ui::app::App;
use fleetdeck::ui::keymap::Keymap;
use fleetdeck::ui::model::{Model, TAIL_LINES};
use fleetdeck::ui::run::{Screen, UiMsg, event_loop};
use fleetdeck::ui::theme::Theme;
use tokio::sync::mpsc;

/// Keeps the text of the last frame.
struct Shot {
    text: Arc<Mutex<String>>,
    terminal: ratatui::Terminal<ratatui::backend::TestBackend>,
}

impl Screen for Shot {
    fn draw(&mut self, app: &App) -> std::io::Result<()> {
        self.terminal
            .draw(|f| fleetdeck::ui::render::render(f, app))
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        *self.text.lock().unwrap() = self.terminal.backend().to_string();
        Ok(())
    }
}

fn key(c: KeyCode) -> UiMsg {
    UiMsg::Term(TermEvent::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

/// Waits until the screen shows a row whose text ends with `end`.
async fn wait_for(screen: &Arc<Mutex<String>>, end: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        {
            let text = screen.lock().unwrap();
            if text
                .lines()
                .any(|row| row.trim_end_matches([' ', '"']).ends_with(end))
            {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("no row ending with {end:?} in\n{text}");
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn older_lines_and_search_matches_come_from_the_transcript_file() {
    let plan = format!("{SIM_PROFILE}{}", task("t", &[], "say hi"));
    let repo = TestRepo::new(&plan, &[]);
    let engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let mut app = App::new(
        Model::new(engine.snapshot().unwrap()),
        Keymap::default(),
        Theme::dark(),
    );
    app.size = (120, 40);
    let (notes, notes_rx) = mpsc::unbounded_channel();
    let (inbox, inbox_rx) = mpsc::unbounded_channel();
    let text = Arc::new(Mutex::new(String::new()));
    let mut screen = Shot {
        text: text.clone(),
        terminal: ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap(),
    };
    let (outbox, handle) = (inbox.clone(), engine.handle());
    let run = tokio::spawn(async move {
        let _engine = engine;
        event_loop(&mut app, &mut screen, notes_rx, inbox_rx, outbox, handle)
            .await
            .unwrap()
    });

    // An attempt prints 3,000 lines: to its transcript file, and live.
    let t = TaskId::parse("t").unwrap();
    notes
        .send(Notification::Event {
            actor: Actor::Engine,
            event: Event::AgentStarted {
                task: t.clone(),
                attempt: 1,
                agent: "sim".into(),
            },
        })
        .unwrap();
    let header = Header {
        task: "t".into(),
        attempt: 1,
        agent: "sim".into(),
        format: Format::Text,
        argv: Vec::new(),
        started_ms: fleetdeck::store::now_ms(),
    };
    let path = repo.path().join(".fleet").join(relative_path("t", 1));
    let mut file = Writer::create(&path, &header).unwrap();
    for i in 0..3_000 {
        let line = match i {
            42 => "the needle".to_owned(),
            _ => format!("line {i}"),
        };
        file.line(Stream::Out, &line).unwrap();
        notes
            .send(Notification::Agent {
                task: t.clone(),
                attempt: 1,
                event: AgentEvent::Text { text: line },
            })
            .unwrap();
    }
    const { assert!(3_000 > TAIL_LINES, "most lines are only in the file") };

    // Open the task: it follows the output.
    inbox.send(key(KeyCode::Enter)).unwrap();
    wait_for(&text, "line 2999").await;
    // The top: read from the file in the background.
    inbox.send(key(KeyCode::Char('g'))).unwrap();
    wait_for(&text, "line 0").await;
    // Back to the bottom, then search: the match is only in the file.
    inbox.send(key(KeyCode::Char('G'))).unwrap();
    inbox.send(key(KeyCode::Char('/'))).unwrap();
    for c in "needle".chars() {
        inbox.send(key(KeyCode::Char(c))).unwrap();
    }
    inbox.send(key(KeyCode::Enter)).unwrap();
    wait_for(&text, "the needle").await;
    {
        let screen = text.lock().unwrap();
        let row = screen
            .lines()
            .position(|r| r.contains("the needle"))
            .unwrap();
        let first = screen.lines().position(|r| r.contains("line 43")).unwrap();
        assert_eq!(first, row + 1, "the match is at the top:\n{screen}");
    }
    inbox.send(UiMsg::Terminate).unwrap();
    run.await.unwrap();
}
