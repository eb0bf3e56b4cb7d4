//! The cockpit's event loop redraws only when something changed and
//! coalesces bursts: counted on a test screen with a paused clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use fleetdeck::agent::AgentEvent;
use fleetdeck::core::TaskId;
use fleetdeck::runtime::{Engine, EngineOptions, Notification};
use fleetdeck::ui::app::App;
use fleetdeck::ui::keymap::Keymap;
use fleetdeck::ui::model::Model;
use fleetdeck::ui::run::{Screen, UiMsg, event_loop};
use fleetdeck::ui::theme::Theme;
use tokio::sync::mpsc;

struct Counting {
    frames: Arc<AtomicU64>,
    terminal: ratatui::Terminal<ratatui::backend::TestBackend>,
}

impl Screen for Counting {
    fn draw(&mut self, app: &App) -> std::io::Result<()> {
        self.frames.fetch_add(1, Ordering::SeqCst);
        self.terminal
            .draw(|f| fleetdeck::ui::render::render(f, app))
            .map(|_| ())
            .map_err(|e| std::io::Error::other(format!("{e:?}")))
    }
}

struct Harness {
    frames: Arc<AtomicU64>,
    notes: mpsc::UnboundedSender<Notification>,
    inbox: mpsc::UnboundedSender<UiMsg>,
    run: tokio::task::JoinHandle<u64>,
    _repo: TestRepo,
}

/// The real loop over a real (idle) fleet, with our own notification channel.
fn start() -> Harness {
    let plan = format!("{SIM_PROFILE}{}", task("t", &[], "say hi"));
    let repo = TestRepo::new(&plan, &[]);
    let engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let mut app = App::new(
        Model::new(engine.snapshot().unwrap()),
        Keymap::default(),
        Theme::dark(),
    );
    app.size = (120, 40);
    let handle = engine.handle();
    let (notes, notes_rx) = mpsc::unbounded_channel();
    let (inbox, inbox_rx) = mpsc::unbounded_channel();
    let frames = Arc::new(AtomicU64::new(0));
    let mut screen = Counting {
        frames: frames.clone(),
        terminal: ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap(),
    };
    let outbox = inbox.clone();
    let run = tokio::spawn(async move {
        let _engine = engine; // keeps the fleet open (lock, channel) for the loop's lifetime
        event_loop(&mut app, &mut screen, notes_rx, inbox_rx, outbox, handle)
            .await
            .unwrap()
    });
    Harness {
        frames,
        notes,
        inbox,
        run,
        _repo: repo,
    }
}

fn line(i: usize) -> Notification {
    Notification::Agent {
        task: TaskId::parse("t").unwrap(),
        attempt: 1,
        event: AgentEvent::Message {
            text: format!("line {i}"),
        },
    }
}

async fn settle() {
    // Let the loop run whatever is ready (the clock is paused: sleeping advances it only when all is idle).
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn an_idle_cockpit_draws_nothing() {
    let h = start();
    settle().await;
    assert_eq!(h.frames.load(Ordering::SeqCst), 1, "the first frame");
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(
        h.frames.load(Ordering::SeqCst),
        1,
        "ten idle minutes draw nothing"
    );
    h.inbox.send(UiMsg::Terminate).unwrap();
    h.run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_output_is_coalesced_into_a_few_frames() {
    let h = start();
    settle().await;
    // 1,000 transcript lines arriving over 100 ms.
    for batch in 0..10 {
        for i in 0..100 {
            h.notes.send(line(batch * 100 + i)).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let frames = h.frames.load(Ordering::SeqCst) - 1;
    assert!((1..=5).contains(&frames), "{frames} frames for 1,000 lines");
    // All at once: one frame.
    let before = h.frames.load(Ordering::SeqCst);
    for i in 0..1000 {
        h.notes.send(line(i)).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(h.frames.load(Ordering::SeqCst) - before, 1);
    h.inbox.send(UiMsg::Terminate).unwrap();
    h.run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn keys_draw_at_once() {
    let h = start();
    settle().await;
    let key = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('l'),
        crossterm::event::KeyModifiers::NONE,
    );
    h.inbox
        .send(UiMsg::Term(crossterm::event::Event::Key(key)))
        .unwrap();
    settle().await;
    assert_eq!(
        h.frames.load(Ordering::SeqCst),
        2,
        "no frame delay for a key"
    );
    h.inbox.send(UiMsg::Terminate).unwrap();
    h.run.await.unwrap();
}
