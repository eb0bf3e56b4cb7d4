//! The event loop: one inbound stream of terminal events, engine
//! notifications and results of background work. It applies everything that
//! is waiting, then draws once; bursts are coalesced to at most one frame per
//! [`FRAME`]; nothing wakes it when nothing happens (no polling: terminal
//! events come from a thread blocked in `read`).

use std::io;
use std::time::Duration;

use tokio::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::app::{App, Intent, Origin};
use super::diff::DiffModel;
use super::model::{
    Hits, LinesRequest, SearchRequest, Transcript, Window, load_transcript, read_lines,
    search_lines,
};
use crate::core::{CommandError, TaskId};
use crate::runtime::{EngineHandle, Notification};

/// The shortest time between two frames drawn for engine output; keys draw at once.
pub const FRAME: Duration = Duration::from_millis(33);

/// Everything the loop receives besides engine notifications.
pub enum UiMsg {
    Term(TermEvent),
    CommandDone {
        what: String,
        origin: Origin,
        result: Result<(), CommandError>,
    },
    DiffLoaded {
        task: TaskId,
        result: Result<DiffModel, String>,
    },
    TranscriptLoaded {
        task: TaskId,
        attempt: u32,
        result: Result<Transcript, String>,
    },
    /// Lines read for [`Intent::LoadLines`].
    LinesLoaded {
        request: LinesRequest,
        result: Result<Window, String>,
    },
    /// The file's matches for [`Intent::SearchTranscript`].
    Searched {
        request: SearchRequest,
        result: Result<Hits, String>,
    },
    /// SIGTERM or SIGHUP: leave as if the user quit.
    Terminate,
}

/// Where frames go: the real terminal, or a test screen that counts them.
pub trait Screen {
    fn draw(&mut self, app: &App) -> io::Result<()>;
    /// Gives the terminal to another program (the user's editor).
    fn suspend(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Takes it back after [`Screen::suspend`]; the next frame is drawn whole.
    fn resume(&mut self, _mouse: bool) -> io::Result<()> {
        Ok(())
    }
}

impl Screen for super::terminal::Tui {
    fn draw(&mut self, app: &App) -> io::Result<()> {
        ratatui::Terminal::draw(self, |f| super::render::render(f, app)).map(|_| ())
    }
    fn suspend(&mut self) -> io::Result<()> {
        super::suspend::leave()
    }
    fn resume(&mut self, mouse: bool) -> io::Result<()> {
        super::suspend::reenter(mouse)?;
        // A blank frame, so the next one is drawn whole (`clear` would ask
        // the terminal for the cursor position).
        ratatui::Terminal::draw(self, |f| f.render_widget(ratatui::widgets::Clear, f.area()))
            .map(|_| ())
    }
}

/// Reads terminal events on a thread of its own (blocked in `read`, so an
/// idle cockpit makes no wakeups) into the loop's channel.
pub fn spawn_terminal_reader(tx: UnboundedSender<UiMsg>) {
    std::thread::spawn(move || {
        while let Ok(ev) = crossterm::event::read() {
            if tx.send(UiMsg::Term(ev)).is_err() {
                break;
            }
            super::suspend::reader_sent();
        }
    });
}

/// Runs until the user quits (or the engine goes away). Returns the number of frames drawn.
pub async fn event_loop<S: Screen>(
    app: &mut App,
    screen: &mut S,
    mut notes: UnboundedReceiver<Notification>,
    mut inbox: UnboundedReceiver<UiMsg>,
    outbox: UnboundedSender<UiMsg>,
    engine: EngineHandle,
) -> io::Result<u64> {
    let mut frames = 0u64;
    let mut dirty = true;
    let mut urgent = true;
    let mut last_draw = Instant::now();
    loop {
        let now = Instant::now();
        if dirty && (urgent || now.duration_since(last_draw) >= FRAME) {
            app.now_ms = crate::store::now_ms();
            screen.draw(app)?;
            frames += 1;
            last_draw = now;
            dirty = false;
            urgent = false;
        }
        if app.quitting {
            return Ok(frames);
        }
        let frame_due = dirty.then(|| last_draw + FRAME);
        let tick_due = app.needs_tick().then(|| last_draw + App::TICK);
        let mut intents = Vec::new();
        let mut terms = 0u64;
        tokio::select! {
            n = notes.recv() => match n {
                Some(n) => {
                    dirty |= app.apply(n);
                    while let Ok(n) = notes.try_recv() {
                        dirty |= app.apply(n);
                    }
                    intents.extend(app.pending_loads());
                }
                None => return Ok(frames), // the engine stopped
            },
            m = inbox.recv() => {
                let Some(m) = m else { return Ok(frames) };
                urgent = true;
                dirty = true;
                terms += u64::from(matches!(m, UiMsg::Term(_)));
                intents.extend(handle(app, m));
                while let Ok(m) = inbox.try_recv() {
                    terms += u64::from(matches!(m, UiMsg::Term(_)));
                    intents.extend(handle(app, m));
                }
            }
            () = sleep_until(frame_due) => {}
            () = sleep_until(tick_due) => dirty = true,
        }
        for intent in intents {
            match intent {
                Intent::EditConflicts { task, files, shell } => {
                    for next in super::suspend::edit(app, screen, task, files, shell).await? {
                        execute(app, next, &outbox, &engine);
                    }
                }
                other => execute(app, other, &outbox, &engine),
            }
        }
        super::suspend::loop_handled(terms);
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn handle(app: &mut App, m: UiMsg) -> Vec<Intent> {
    match m {
        UiMsg::Term(TermEvent::Key(key)) if is_ctrl_c(&key) => {
            // ctrl-c closes what is open, else quits (asking while agents run).
            if app.overlay.take().is_some() {
                Vec::new()
            } else {
                app.request_quit()
            }
        }
        UiMsg::Term(TermEvent::Key(key)) => app.handle_key(key),
        UiMsg::Term(TermEvent::Mouse(m)) => app.handle_mouse(m),
        UiMsg::Term(TermEvent::Paste(text)) => {
            app.handle_paste(&text);
            Vec::new()
        }
        UiMsg::Term(TermEvent::Resize(w, h)) => {
            app.size = (w, h);
            Vec::new()
        }
        UiMsg::Term(_) => Vec::new(),
        UiMsg::CommandDone {
            what,
            origin,
            result,
        } => {
            app.command_done(what, origin, result);
            Vec::new()
        }
        UiMsg::DiffLoaded { task, result } => {
            if let Some(loaded) = app.diff.as_mut().filter(|l| l.task == task) {
                loaded.result = result;
            }
            Vec::new()
        }
        UiMsg::TranscriptLoaded {
            task,
            attempt,
            result,
        } => {
            app.requested.remove(&(task.clone(), attempt));
            match result {
                Ok(t) => app.model.set_transcript(task, attempt, t),
                Err(e) => {
                    app.toast = Some(super::app::Toast {
                        text: format!("cannot read the transcript: {e}"),
                        error: true,
                    })
                }
            }
            Vec::new()
        }
        UiMsg::LinesLoaded { request, result } => {
            // A failed read shows in place of the lines, in the view. What
            // the view needs next was asked for when it moved.
            app.model.set_lines(&request, result);
            Vec::new()
        }
        UiMsg::Searched { request, result } => {
            let failed = result.as_ref().err().cloned();
            let waiting = app.model.set_matches(&request, result);
            if let Some(e) = failed {
                app.toast = Some(super::app::Toast {
                    text: format!("cannot search the transcript file: {e}"),
                    error: true,
                });
            }
            // The step the user asked for, if they still look at that search.
            let shown = match &app.screen {
                super::app::Screen::Detail(d) => {
                    d.task == request.task
                        && app.shown_attempt(d).map(|a| a.n) == Some(request.attempt)
                        && d.search.as_deref().map(str::to_lowercase) == Some(request.query)
                }
                _ => false,
            };
            match waiting {
                Some(forward) if shown => app.find(forward),
                _ => Vec::new(),
            }
        }
        UiMsg::Terminate => vec![Intent::Quit],
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Carries out an intent: commands and loads run as tasks that answer through the inbox.
fn execute(app: &mut App, intent: Intent, outbox: &UnboundedSender<UiMsg>, engine: &EngineHandle) {
    match intent {
        Intent::Quit => app.quitting = true,
        // Needs the screen: carried out by the loop itself.
        Intent::EditConflicts { .. } => {}
        Intent::Command { command, origin } => {
            let (tx, engine) = (outbox.clone(), engine.clone());
            let what = command.describe();
            tokio::spawn(async move {
                let result = engine.command(command).await;
                let _ = tx.send(UiMsg::CommandDone {
                    what,
                    origin,
                    result,
                });
            });
        }
        Intent::LoadDiff(task) => {
            let (tx, root, target) = (
                outbox.clone(),
                app.model.root.clone(),
                app.model.target.clone(),
            );
            // A done task shows what its merge brought in, not its (merged)
            // branch; a task whose update conflicted, what its worktree holds
            // (the branch is the target's tip, the work and the markers are
            // in the files).
            use crate::core::{MergeBlock, Status};
            let source = match app.model.task(task.as_str()).map(|t| &t.status) {
                Some(Status::Done { commit }) => DiffSource::Merged(commit.clone()),
                Some(Status::Review {
                    block: Some(MergeBlock::UpdateConflict { .. }),
                    ..
                }) => DiffSource::Worktree,
                _ => DiffSource::Branch,
            };
            tokio::task::spawn_blocking(move || {
                let changes = match &source {
                    DiffSource::Merged(commit) => crate::git::merged_changes(&root, commit),
                    DiffSource::Worktree => crate::git::worktree_changes(&root, task.as_str()),
                    DiffSource::Branch => crate::git::task_changes(&root, task.as_str(), &target),
                };
                let result = changes.map(DiffModel::new).map_err(|e| e.to_string());
                let _ = tx.send(UiMsg::DiffLoaded { task, result });
            });
        }
        Intent::LoadTranscript { task, attempt, rel } => {
            let (tx, dir) = (outbox.clone(), app.model.fleet_dir());
            tokio::task::spawn_blocking(move || {
                let result = load_transcript(&dir, &rel).map_err(|e| e.to_string());
                let _ = tx.send(UiMsg::TranscriptLoaded {
                    task,
                    attempt,
                    result,
                });
            });
        }
        Intent::LoadLines(request) => {
            let (tx, dir) = (outbox.clone(), app.model.fleet_dir());
            tokio::task::spawn_blocking(move || {
                let result = read_lines(&dir, &request).map_err(|e| e.to_string());
                let _ = tx.send(UiMsg::LinesLoaded { request, result });
            });
        }
        Intent::SearchTranscript(request) => {
            let (tx, dir) = (outbox.clone(), app.model.fleet_dir());
            tokio::task::spawn_blocking(move || {
                let result = search_lines(&dir, &request).map_err(|e| e.to_string());
                let _ = tx.send(UiMsg::Searched { request, result });
            });
        }
    }
}

/// Where a task's diff comes from.
enum DiffSource {
    /// Its branch against the target (the usual case).
    Branch,
    /// What its merge commit brought in (a done task).
    Merged(String),
    /// Its worktree against its HEAD (an update conflict).
    Worktree,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resize_changes_the_layout_the_next_frame_uses() {
        let mut app = crate::ui::fixture::app(160, 48);
        assert!(handle(&mut app, UiMsg::Term(TermEvent::Resize(80, 24))).is_empty());
        assert_eq!(app.size, (80, 24));
        assert!(app.narrow(), "the board now shows one column at a time");
    }
}
