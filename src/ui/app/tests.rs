//! Key handling without a terminal: every binding gives the expected engine
//! command, and a key that means nothing where it is pressed does nothing.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::core::{Command, TaskId};
use crate::ui::fixture;

fn ev(spec: &str) -> KeyEvent {
    let k = crate::ui::keymap::Key::parse(spec).unwrap_or_else(|| panic!("bad key {spec}"));
    // A terminal reports upper-case letters with SHIFT.
    let mods = match k.code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => k.mods | KeyModifiers::SHIFT,
        _ => k.mods,
    };
    KeyEvent::new(k.code, mods)
}

fn press(app: &mut App, keys: &[&str]) -> Vec<Intent> {
    keys.iter().flat_map(|k| app.handle_key(ev(k))).collect()
}

fn commands(intents: &[Intent]) -> Vec<Command> {
    intents
        .iter()
        .filter_map(|i| match i {
            Intent::Command { command, .. } => Some(command.clone()),
            _ => None,
        })
        .collect()
}

/// The text of the toast shown (a test fails when there is none).
fn toast(app: &App) -> &str {
    &app.toast.as_ref().expect("a toast").text
}

fn id(s: &str) -> TaskId {
    TaskId::parse(s).unwrap()
}

/// An app with the card of `task` selected on the board.
fn on(task: &str) -> App {
    let mut app = fixture::app(160, 48);
    let t = app.model.task(task).unwrap();
    let col = COLUMNS
        .iter()
        .position(|c| *c == t.status.column())
        .unwrap();
    let index = app
        .column_tasks(COLUMNS[col])
        .iter()
        .position(|t| t.id().as_str() == task)
        .unwrap();
    app.board.column = col;
    app.board.selected[col] = index;
    assert_eq!(app.selected_task().unwrap().id().as_str(), task);
    app
}

#[test]
fn arrows_move_between_columns_and_cards() {
    let mut app = fixture::app(160, 48);
    assert_eq!(app.selected_task().unwrap().id().as_str(), "ui");
    press(&mut app, &["down"]);
    assert_eq!(app.selected_task().unwrap().id().as_str(), "docs");
    press(&mut app, &["down", "down", "j"]);
    assert_eq!(
        app.selected_task().unwrap().id().as_str(),
        "docs",
        "stops at the end"
    );
    press(&mut app, &["l", "l"]);
    assert_eq!(app.board.column, 2);
    press(&mut app, &["G"]);
    assert_eq!(app.selected_task().unwrap().id().as_str(), "perf");
    press(&mut app, &["g", "right", "right"]);
    assert_eq!(app.board.column, 3);
    assert_eq!(app.selected_task().unwrap().id().as_str(), "schema");
}

#[test]
fn enter_opens_the_detail_and_esc_returns() {
    let mut app = on("api");
    let intents = press(&mut app, &["enter"]);
    assert!(
        intents.is_empty(),
        "the live transcript is in memory: {intents:?}"
    );
    assert!(
        matches!(&app.screen, Screen::Detail(d) if d.task.as_str() == "api" && d.tab == Tab::Transcript)
    );
    let intents = press(&mut app, &["tab"]);
    assert_eq!(intents, [Intent::LoadDiff(id("api"))]);
    press(&mut app, &["tab"]);
    assert!(matches!(&app.screen, Screen::Detail(d) if d.tab == Tab::Info));
    press(&mut app, &["esc"]);
    assert_eq!(app.screen, Screen::Board);
}

#[test]
fn opening_a_task_that_ran_earlier_reads_its_transcript_file_once() {
    let mut app = on("perf");
    let intents = press(&mut app, &["enter"]);
    assert_eq!(
        intents,
        [Intent::LoadTranscript {
            task: id("perf"),
            attempt: 3,
            rel: "runs/perf/3.jsonl".into()
        }]
    );
    assert!(
        press(&mut app, &["tab", "tab", "tab"])
            .iter()
            .all(|i| !matches!(i, Intent::LoadTranscript { .. }))
    );
}

#[test]
fn task_keys_send_their_commands() {
    let mut app = on("api");
    assert_eq!(
        commands(&press(&mut app, &["p"])),
        [Command::PauseTask { task: id("api") }]
    );
    let mut app = on("auth");
    assert_eq!(
        commands(&press(&mut app, &["p"])),
        [Command::ResumeTask { task: id("auth") }]
    );
    let mut app = on("docs");
    assert_eq!(
        commands(&press(&mut app, &["p"])),
        [Command::ResumeTask { task: id("docs") }]
    );
    let mut app = on("perf");
    assert_eq!(
        commands(&press(&mut app, &["t"])),
        [Command::Retry { task: id("perf") }]
    );
    let mut app = on("tests");
    assert_eq!(
        commands(&press(&mut app, &["a"])),
        [Command::Approve { task: id("tests") }]
    );
    assert_eq!(commands(&press(&mut app, &["P"])), [Command::PauseFleet]);
    app.model.fleet.set_paused(true);
    assert_eq!(commands(&press(&mut app, &["P"])), [Command::ResumeFleet]);
}

#[test]
fn reject_and_drop_ask_first() {
    let mut app = on("tests");
    assert!(press(&mut app, &["x"]).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    assert_eq!(
        commands(&press(&mut app, &["y"])),
        [Command::Reject { task: id("tests") }]
    );
    assert!(app.overlay.is_none());
    let mut app = on("ui");
    press(&mut app, &["d"]);
    assert!(
        commands(&press(&mut app, &["n"])).is_empty(),
        "n answers no"
    );
    assert!(app.overlay.is_none());
    press(&mut app, &["d"]);
    assert_eq!(
        commands(&press(&mut app, &["enter"])),
        [Command::Drop { task: id("ui") }]
    );
}

#[test]
fn reassign_picks_an_agent() {
    let mut app = on("api");
    press(&mut app, &["r"]);
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!("no picker")
    };
    assert_eq!(p.agents[p.selected], "codex", "starts on the current agent");
    assert_eq!(
        commands(&press(&mut app, &["up", "enter"])),
        [Command::Reassign {
            task: id("api"),
            agent: "claude".into()
        }]
    );
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
    }
}

#[test]
fn request_changes_sends_the_typed_feedback() {
    let mut app = on("tests");
    press(&mut app, &["c"]);
    assert!(
        matches!(&app.overlay, Some(Overlay::Editor(e)) if e.kind == EditorKind::Feedback(id("tests")))
    );
    assert!(
        commands(&press(&mut app, &["ctrl-s"])).is_empty(),
        "empty feedback is refused"
    );
    type_text(&mut app, "use the fixtures\nplease");
    let intents = press(&mut app, &["ctrl-s"]);
    assert_eq!(
        intents,
        [Intent::Command {
            command: Command::RequestChanges {
                task: id("tests"),
                feedback: "use the fixtures\nplease".into()
            },
            origin: Origin::Editor
        }]
    );
    // The editor waits for the engine's answer, then closes.
    assert!(matches!(&app.overlay, Some(Overlay::Editor(e)) if e.pending));
    app.command_done("request changes".into(), Origin::Editor, Ok(()));
    assert!(app.overlay.is_none());
}

#[test]
fn editing_a_task_validates_in_place() {
    let mut app = on("ui");
    press(&mut app, &["e"]);
    // Break the TOML: an unknown key.
    type_text(&mut app, "colour = 1\n");
    assert!(commands(&press(&mut app, &["ctrl-s"])).is_empty());
    let Some(Overlay::Editor(ed)) = &app.overlay else {
        panic!()
    };
    assert!(
        ed.error
            .as_deref()
            .unwrap()
            .contains("unknown field `colour`"),
        "{:?}",
        ed.error
    );
    // Remove the line again (the cursor is at the start of the next line).
    press(&mut app, &["up"]);
    for _ in 0.."colour = 1".len() {
        app.handle_key(KeyEvent::new(KeyCode::Delete, KeyModifiers::NONE));
    }
    app.handle_key(KeyEvent::new(KeyCode::Delete, KeyModifiers::NONE));
    let cmds = commands(&press(&mut app, &["ctrl-s"]));
    assert!(
        matches!(&cmds[..], [Command::Edit { task, .. }] if task.as_str() == "ui"),
        "{cmds:?}"
    );
    // The engine refuses: the error shows in the editor, which stays open.
    app.command_done(
        "edit".into(),
        Origin::Editor,
        Err(crate::core::CommandError::Invalid(
            "that would make a dependency cycle: ui -> api -> ui".into(),
        )),
    );
    let Some(Overlay::Editor(ed)) = &app.overlay else {
        panic!("the editor closed")
    };
    assert!(ed.error.as_deref().unwrap().contains("cycle"));
    press(&mut app, &["esc"]);
    assert!(app.overlay.is_none());
}

#[test]
fn a_running_task_cannot_be_edited_and_says_why() {
    let mut app = on("api");
    assert!(press(&mut app, &["e"]).is_empty());
    assert!(app.overlay.is_none());
    assert!(toast(&app).contains("edit needs a task that is queued or failed"));
    let mut app = on("api");
    press(&mut app, &["c"]);
    assert!(app.overlay.is_none());
    assert!(toast(&app).contains("in review"));
    press(&mut app, &["x"]);
    assert!(app.overlay.is_none(), "reject needs a task in review");
}

#[test]
fn new_task_adds_what_was_typed() {
    let mut app = fixture::app(80, 24);
    press(&mut app, &["n"]);
    let Some(Overlay::Editor(ed)) = &mut app.overlay else {
        panic!()
    };
    let text = "id = \"cache\"\ntitle = \"Add a cache\"\nagent = \"claude\"\ndeps = [\"api\"]\nprompt = \"cache it\"\n";
    *ed = Editor {
        area: ratatui_textarea::TextArea::new(text.lines().map(String::from).collect()),
        ..Editor {
            kind: EditorKind::NewTask,
            area: Default::default(),
            error: None,
            pending: false,
            initial: String::new(),
        }
    };
    let cmds = commands(&press(&mut app, &["ctrl-s"]));
    let [Command::Add { spec }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        (spec.id.as_str(), spec.deps.len(), spec.agent.as_str()),
        ("cache", 1, "claude")
    );
}

#[test]
fn replan_shows_the_changes_before_applying_them() {
    let mut app = fixture::app(160, 48);
    press(&mut app, &["R"]);
    let Some(Overlay::Editor(ed)) = &mut app.overlay else {
        panic!()
    };
    let text = ed
        .area
        .lines()
        .join("\n")
        .replace("title = \"Web front end\"", "title = \"Web UI\"");
    let text = text[..text.find("[[task]]  # queued\nid = \"docs\"").unwrap()].to_owned()
        + &text[text.find("[[task]]  # review\nid = \"tests\"").unwrap()..];
    ed.area = ratatui_textarea::TextArea::new(text.lines().map(String::from).collect());
    assert!(press(&mut app, &["ctrl-s"]).is_empty());
    let Some(Overlay::PlanDiff(view)) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    let shown: Vec<String> = view.diff.changes.iter().map(|c| c.describe()).collect();
    assert_eq!(shown, ["change 1 (edit `ui`)", "change 2 (drop `docs`)"]);
    assert_eq!(view.origin(), crate::core::supervisor::Origin::User);
    // esc goes back to the editor with the text kept.
    press(&mut app, &["esc"]);
    assert!(
        matches!(&app.overlay, Some(Overlay::Editor(e)) if e.area.lines().join("\n").contains("Web UI"))
    );
    press(&mut app, &["ctrl-s"]);
    let cmds = commands(&press(&mut app, &["enter"]));
    let [Command::Batch { commands }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(commands.len(), 2);
    // If the engine refuses, the plan diff stays open with the reason.
    app.command_done(
        "2 changes".into(),
        Origin::Editor,
        Err(crate::core::CommandError::Invalid(
            "change 2 (drop `docs`): no".into(),
        )),
    );
    assert!(
        matches!(&app.overlay, Some(Overlay::PlanDiff(v)) if v.error.as_deref() == Some("change 2 (drop `docs`): no") && !v.pending)
    );
    // A success closes it.
    press(&mut app, &["enter"]);
    app.command_done("2 changes".into(), Origin::Editor, Ok(()));
    assert!(app.overlay.is_none());
}

#[test]
fn quitting_asks_only_while_agents_run() {
    let mut app = fixture::app(80, 24);
    assert!(press(&mut app, &["q"]).is_empty());
    assert!(
        matches!(&app.overlay, Some(Overlay::Confirm { question, .. }) if question.starts_with("2 agent(s) are running"))
    );
    assert_eq!(press(&mut app, &["y"]), [Intent::Quit]);
    let mut idle = fixture::app(80, 24);
    for t in ["api", "auth"] {
        let mut task = idle.model.task(t).unwrap().clone();
        task.status = crate::core::Status::Queued { held: false };
        idle.model.fleet.upsert(task);
    }
    assert_eq!(press(&mut idle, &["q"]), [Intent::Quit]);
}

#[test]
fn keys_that_mean_nothing_here_do_nothing() {
    let mut app = on("schema");
    let before = app.board.clone();
    for k in ["z", "1", "ctrl-x", "f5", "s", "]", "N", "/", "y"] {
        assert!(press(&mut app, &[k]).is_empty(), "{k}");
    }
    assert_eq!(app.board, before);
    assert!(app.overlay.is_none());
    // Task actions on a done task are refused by the scheduler's rule
    // (Task::allows), in its words, before anything is sent.
    let intents = press(&mut app, &["t"]);
    assert!(commands(&intents).is_empty());
    assert_eq!(
        toast(&app),
        "task `schema` is done: retry needs a task that is failed"
    );
    // What the engine refuses comes back as a toast.
    app.command_done(
        "retry `schema`".into(),
        Origin::Key,
        Err(crate::core::CommandError::Invalid("no".into())),
    );
    assert_eq!(toast(&app), "retry `schema`: no");
    // The help screen swallows keys until closed.
    press(&mut app, &["?"]);
    assert!(press(&mut app, &["a", "d", "x"]).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::Help { .. })));
    press(&mut app, &["esc"]);
    assert!(app.overlay.is_none());
    // An empty column: task keys say there is no task.
    let mut empty = fixture::app(160, 48);
    for col in 0..4 {
        empty.board.column = col;
        empty.board.selected[col] = 99;
    }
    empty.model = crate::ui::model::Model::new(fixture::empty_snapshot());
    assert!(press(&mut empty, &["a", "enter", "down", "e"]).is_empty());
    assert_eq!(empty.toast.as_ref().unwrap().text, "no task selected");
}

#[test]
fn transcript_follows_until_scrolled_and_search_finds() {
    let mut app = on("api");
    press(&mut app, &["enter"]);
    let Screen::Detail(d) = &app.screen else {
        panic!()
    };
    assert_eq!(d.scroll, None, "follows by default");
    app.size = (80, 8); // a 5-line transcript pane
    press(&mut app, &["k"]);
    let Screen::Detail(d) = &app.screen else {
        panic!()
    };
    assert!(d.scroll.is_some());
    press(&mut app, &["f"]);
    let Screen::Detail(d) = &app.screen else {
        panic!()
    };
    assert_eq!(d.scroll, None);
    press(&mut app, &["/"]);
    type_text(&mut app, "routes");
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let Screen::Detail(d) = &app.screen else {
        panic!()
    };
    assert_eq!(d.search.as_deref(), Some("routes"));
    assert_eq!(
        d.scroll,
        Some(1),
        "the first match (wrapping around) is brought into view"
    );
    press(&mut app, &["/"]);
    type_text(&mut app, "nothing-like-this");
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(toast(&app).starts_with("not found"));
}

#[test]
fn the_selection_stays_on_its_task_when_cards_move() {
    let mut app = on("perf");
    assert_eq!(app.selected_index(2), 2);
    // "ui" reaches Review, above "perf" in plan order.
    let mut ui = app.model.task("ui").unwrap().clone();
    ui.status = crate::core::Status::Review {
        attempt: 1,
        block: None,
    };
    app.apply(Notification::Task { task: Box::new(ui) });
    assert_eq!(
        app.selected_task().unwrap().id().as_str(),
        "perf",
        "a key now still acts on perf"
    );
    // An untouched column keeps what was seen too.
    let mut fresh = fixture::app(160, 48);
    fresh.board.column = 2;
    assert_eq!(fresh.selected_task().unwrap().id().as_str(), "tests");
    let mut ui = fresh.model.task("ui").unwrap().clone();
    ui.status = crate::core::Status::Review {
        attempt: 1,
        block: None,
    };
    fresh.apply(Notification::Task { task: Box::new(ui) });
    assert_eq!(fresh.selected_task().unwrap().id().as_str(), "tests");
    // When the selected task leaves the column, the card now at its place (or the last) is selected.
    let mut perf = app.model.task("perf").unwrap().clone();
    perf.status = crate::core::Status::Queued { held: false };
    app.apply(Notification::Task {
        task: Box::new(perf),
    });
    assert_eq!(app.selected_task().unwrap().id().as_str(), "greet");
}

fn click(app: &mut App, column: u16, row: u16) -> Vec<Intent> {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    app.handle_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn wheel(app: &mut App, down: bool, column: u16, row: u16) -> Vec<Intent> {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let kind = if down {
        MouseEventKind::ScrollDown
    } else {
        MouseEventKind::ScrollUp
    };
    app.handle_mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn the_mouse_selects_opens_switches_tabs_and_scrolls() {
    let mut app = fixture::app(160, 48);
    // At 160 columns each column is 40 wide; cards are two lines from row 2.
    // The Review column's second card (greet) is at rows 4-5.
    assert!(click(&mut app, 85, 4).is_empty());
    assert_eq!(app.selected_task().unwrap().id().as_str(), "greet");
    // A second click on the selected card opens it.
    let intents = click(&mut app, 85, 5);
    assert!(
        matches!(&app.screen, Screen::Detail(d) if d.task.as_str() == "greet"),
        "{intents:?}"
    );
    // Clicking the Info tab (the third, 14 columns each).
    click(&mut app, 30, 1);
    assert!(matches!(&app.screen, Screen::Detail(d) if d.tab == Tab::Info));
    wheel(&mut app, true, 10, 10);
    assert!(
        matches!(&app.screen, Screen::Detail(d) if d.info_scroll == 3),
        "the wheel scrolls the pane"
    );
    // Back on the board, the wheel moves through the column under the pointer.
    app.screen = Screen::Board;
    wheel(&mut app, true, 5, 10);
    assert_eq!(app.board.column, 0);
    assert_eq!(app.selected_task().unwrap().id().as_str(), "docs");
    // Clicks below the last card or with the mouse turned off do nothing.
    assert!(click(&mut app, 5, 40).is_empty());
    assert_eq!(app.selected_task().unwrap().id().as_str(), "docs");
    app.mouse = false;
    click(&mut app, 85, 2);
    assert_eq!(app.board.column, 0);
}

#[test]
fn narrow_tabs_can_be_clicked() {
    let mut app = fixture::app(80, 24);
    // One column shown; the tab bar on row 1 splits 80 columns in four.
    click(&mut app, 45, 1);
    assert_eq!(app.board.column, 2);
    assert_eq!(app.selected_task().unwrap().id().as_str(), "tests");
}

mod review;
mod supervisor;
mod team;
mod update;
