//! Review without accidents and a truthful screen (issue 8): approving
//! keeps the selection, drafts are not lost, search counts its matches,
//! TOML editors number their lines.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

#[test]
fn approving_keeps_the_selection_on_the_task_and_a_second_a_merges_nothing() {
    let mut app = on("tests");
    let intents = press(&mut app, &["a"]);
    assert_eq!(commands(&intents), [Command::Approve { task: id("tests") }]);
    for status in [
        crate::core::Status::Merging { attempt: 1 },
        crate::core::Status::Done {
            commit: "abc1234".into(),
        },
    ] {
        let mut t = app.model.task("tests").unwrap().clone();
        t.status = status;
        app.apply(Notification::Task { task: Box::new(t) });
        assert_eq!(
            app.selected_task().unwrap().id().as_str(),
            "tests",
            "the selection follows the approved task"
        );
    }
    // The double tap: `greet` is in review and unseen; nothing is sent for it.
    let intents = press(&mut app, &["a"]);
    assert!(commands(&intents).is_empty(), "{intents:?}");
    assert_eq!(
        toast(&app),
        "task `tests` is done: approve needs a task that is in review"
    );
}

#[test]
fn closing_an_editor_with_a_draft_asks_and_the_draft_can_be_restored_once() {
    let mut app = on("tests");
    press(&mut app, &["c", "f", "i", "x"]);
    // Esc asks; no keeps editing.
    assert!(press(&mut app, &["esc"]).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::Discard(_))));
    press(&mut app, &["n"]);
    let Some(Overlay::Editor(ed)) = &app.overlay else {
        panic!("back in the editor: {:?}", app.overlay)
    };
    assert_eq!(ed.text(), "fix");
    // ctrl-c asks too; yes discards.
    press(&mut app, &["ctrl-c", "y"]);
    assert!(app.overlay.is_none());
    assert!(toast(&app).contains("c offers to restore it"));
    // The same key offers the draft back, once.
    press(&mut app, &["c"]);
    assert!(matches!(app.overlay, Some(Overlay::Restore { .. })));
    press(&mut app, &["y"]);
    let Some(Overlay::Editor(ed)) = &app.overlay else {
        panic!("the draft: {:?}", app.overlay)
    };
    assert_eq!(ed.text(), "fix");
    let sent = commands(&press(&mut app, &["ctrl-s"]));
    assert_eq!(
        sent,
        [Command::RequestChanges {
            task: id("tests"),
            feedback: "fix".into()
        }]
    );
    app.overlay = None;
    press(&mut app, &["c"]);
    assert!(
        matches!(&app.overlay, Some(Overlay::Editor(ed)) if ed.text().is_empty()),
        "restored once only"
    );
    // An editor without changes closes at once.
    assert!(press(&mut app, &["esc"]).is_empty());
    assert!(app.overlay.is_none());
}

#[test]
fn transcript_search_counts_its_matches_and_marks_the_current_one() {
    let mut app = on("api");
    press(&mut app, &["enter", "/"]);
    type_text(&mut app, "routes");
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let first = app.current_match().expect("a current match");
    assert_eq!(app.search_counter().as_deref(), Some("1/2"));
    press(&mut app, &["n"]);
    assert_eq!(app.search_counter().as_deref(), Some("2/2"));
    assert_ne!(app.current_match(), Some(first));
    press(&mut app, &["n"]);
    assert_eq!(app.search_counter().as_deref(), Some("1/2"), "wraps around");
    assert_eq!(app.current_match(), Some(first));
    // Drawn: the counter right of the tabs, the current line marked
    // (the selection style), the other match only highlighted.
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    terminal
        .draw(|f| crate::ui::render::render(f, &app))
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains(" search 1/2 "), "{screen}");
    let buffer = terminal.backend().buffer();
    let body = crate::ui::layout::detail_body(app.area());
    let row_bg = |y: u16| buffer[(body.x + 3, y)].bg;
    let marked: Vec<u16> = (body.y..body.bottom())
        .filter(|y| row_bg(*y) == app.theme.selected.bg.unwrap())
        .collect();
    assert_eq!(marked.len(), 1, "one line marked as current: {marked:?}");
}

#[test]
fn toml_editors_number_their_lines_and_feedback_does_not() {
    let draw = |app: &App| {
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
        terminal
            .draw(|f| crate::ui::render::render(f, app))
            .unwrap();
        terminal.backend().to_string()
    };
    let mut app = on("ui");
    app.size = (100, 30);
    press(&mut app, &["e"]);
    let screen = draw(&app);
    let title = screen
        .lines()
        .find(|l| l.contains("title = "))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(title.contains("2 title = "), "{title}");
    let mut app = on("tests");
    app.size = (100, 30);
    press(&mut app, &["c", "f", "i", "x"]);
    let screen = draw(&app);
    let line = screen.lines().find(|l| l.contains("fix")).unwrap();
    assert!(!line.contains("1 fix"), "{line}");
}

#[test]
fn an_editor_saved_after_its_task_moved_on_shows_the_refusal_and_keeps_the_draft() {
    let mut app = on("tests");
    press(&mut app, &["c", "o", "k"]);
    let mut t = app.model.task("tests").unwrap().clone();
    t.status = crate::core::Status::Merging { attempt: 1 };
    app.apply(Notification::Task { task: Box::new(t) });
    assert!(commands(&press(&mut app, &["ctrl-s"])).is_empty());
    let Some(Overlay::Editor(ed)) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(ed.text(), "ok");
    assert_eq!(
        ed.error.as_deref(),
        Some("task `tests` is merging: request changes needs a task that is in review")
    );
}

/// Moves task `id` to `status`, as the engine's notification would.
fn move_to(app: &mut App, id: &str, status: crate::core::Status) {
    let mut t = app.model.task(id).unwrap().clone();
    t.status = status;
    app.apply(Notification::Task { task: Box::new(t) });
}

#[test]
fn a_second_approval_after_coming_back_to_the_column_is_followed_too() {
    let mut app = on("tests");
    for id in ["tests", "greet"] {
        press(&mut app, &["a"]);
        move_to(&mut app, id, crate::core::Status::Merging { attempt: 1 });
        move_to(
            &mut app,
            id,
            crate::core::Status::Done {
                commit: "abc1234".into(),
            },
        );
        assert_eq!(app.selected_task().unwrap().id().as_str(), id);
        assert_eq!(COLUMNS[app.board.column], crate::core::Column::Done);
        // Back to the Review column: its first card is the next one to look at.
        press(&mut app, &["h"]);
    }
}
