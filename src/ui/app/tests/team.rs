//! The cockpit side of the team layer (issue 10): the messages pane, the
//! context pane and its editor, the compare view's pick, the fan-out
//! picker; every key's command, and keys that mean nothing do nothing.

use super::*;
use crate::core::team::{ContextKind, Scope};
use crate::ui::keymap::Context;

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        let key = match c {
            ' ' => "space".to_owned(),
            '\n' => "enter".to_owned(),
            c => c.to_string(),
        };
        press(app, &[key.as_str()]);
    }
}

fn teamed_on(task: &str) -> App {
    let mut app = on(task);
    fixture::teamed(&mut app);
    app
}

fn editor(app: &App) -> &Editor {
    match &app.overlay {
        Some(Overlay::Editor(e)) => e,
        other => panic!("no editor: {other:?}"),
    }
}

fn selected_message(app: &App) -> Option<u64> {
    let Screen::Messages(v) = &app.screen else {
        panic!("not the messages pane: {:?}", app.screen)
    };
    let shown = v.shown(&app.model.team);
    v.cursor(&shown).map(|i| shown[i].id)
}

#[test]
fn m_opens_the_messages_on_the_blocker_and_t_and_slash_filter() {
    let mut app = teamed_on("auth");
    assert!(press(&mut app, &["M"]).is_empty());
    assert_eq!(app.context(), Context::Messages);
    assert_eq!(selected_message(&app), Some(4), "auth's blocker");
    press(&mut app, &["t"]);
    let Screen::Messages(v) = &app.screen else {
        panic!()
    };
    assert_eq!(v.task, Some(id("auth")));
    assert_eq!(v.shown(&app.model.team).len(), 1);
    press(&mut app, &["t"]);
    press(&mut app, &["/"]);
    typed(&mut app, "routes\n");
    assert!(app.overlay.is_none());
    let Screen::Messages(v) = &app.screen else {
        panic!()
    };
    assert_eq!(v.query.as_deref(), Some("routes"));
    assert_eq!(selected_message(&app), Some(5));
    press(&mut app, &["/", "enter"]);
    press(&mut app, &["up", "up"]);
    assert_eq!(selected_message(&app), Some(2));
    press(&mut app, &["enter"]);
    assert!(matches!(&app.screen, Screen::Messages(v) if v.expanded));
    press(&mut app, &["esc"]);
    assert!(matches!(&app.screen, Screen::Messages(v) if !v.expanded));
    // Task keys and other panes' keys mean nothing here.
    for k in ["a", "x", "d", "F", "p", "e"] {
        assert!(press(&mut app, &[k]).is_empty(), "{k}");
        assert!(app.overlay.is_none(), "{k}");
        assert!(matches!(app.screen, Screen::Messages(_)), "{k}");
    }
    press(&mut app, &["esc"]);
    assert_eq!(app.screen, Screen::Board);
    // From a task without a blocker: the newest.
    let mut app = teamed_on("api");
    press(&mut app, &["M"]);
    assert_eq!(selected_message(&app), Some(7));
}

#[test]
fn the_context_pane_hides_retired_entries_until_h() {
    let mut app = teamed_on("api");
    press(&mut app, &["C"]);
    assert_eq!(app.context(), Context::ContextPane);
    let ids = |app: &App| {
        let Screen::Context(v) = &app.screen else {
            panic!()
        };
        v.shown(&app.model.team)
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&app), [1, 2, 4]);
    press(&mut app, &["h"]);
    assert_eq!(ids(&app), [1, 2, 3, 4]);
    press(&mut app, &["/"]);
    typed(&mut app, "tester\n");
    assert_eq!(ids(&app), [4], "by scope, like `fleetdeck context`");
}

#[test]
fn a_adds_an_entry_and_a_bad_scope_line_is_refused_with_the_draft_kept() {
    let mut app = teamed_on("api");
    press(&mut app, &["C", "a"]);
    assert!(matches!(app.overlay, Some(Overlay::KindPicker(_))));
    press(&mut app, &["down", "enter"]);
    assert_eq!(
        editor(&app).kind,
        EditorKind::Context {
            kind: ContextKind::Contract,
            id: None
        }
    );
    typed(&mut app, "Errors carry a code\nscope: teams=api");
    assert!(press(&mut app, &["ctrl-s"]).is_empty());
    let ed = editor(&app);
    assert_eq!(
        ed.error.as_deref(),
        Some("line 2: scope: unknown scope `teams` (expected tasks, paths or roles)")
    );
    assert_eq!(
        ed.text(),
        "Errors carry a code\nscope: teams=api",
        "the draft stays"
    );
    for _ in 0.."teams=api".len() {
        press(&mut app, &["backspace"]);
    }
    typed(&mut app, "tasks=api,ui paths=src/api");
    let intents = press(&mut app, &["ctrl-s"]);
    assert_eq!(
        commands(&intents),
        [Command::AddContext {
            kind: ContextKind::Contract,
            text: "Errors carry a code".into(),
            scope: Scope {
                tasks: vec![id("api"), id("ui")],
                paths: vec!["src/api".into()],
                roles: vec![],
            },
            supersedes: None,
        }]
    );
    // The engine's refusal is shown in the editor, which stays open.
    app.command_done(
        "add a contract to the context".into(),
        Origin::Editor,
        Err(crate::core::CommandError::Invalid(
            "the store is full".into(),
        )),
    );
    assert_eq!(editor(&app).error.as_deref(), Some("the store is full"));
    press(&mut app, &["ctrl-s"]);
    app.command_done("add".into(), Origin::Editor, Ok(()));
    assert!(app.overlay.is_none());
}

#[test]
fn e_edits_and_d_retires_after_a_question() {
    let mut app = teamed_on("api");
    press(&mut app, &["C", "up"]);
    // Entry 2: a contract scoped to src/api.
    press(&mut app, &["e"]);
    let ed = editor(&app);
    assert_eq!(
        ed.kind,
        EditorKind::Context {
            kind: ContextKind::Contract,
            id: Some(2)
        }
    );
    assert_eq!(
        ed.text(),
        "Errors are JSON {code, message}\nscope: paths=src/api"
    );
    press(&mut app, &["down", "end"]);
    typed(&mut app, ",src/db");
    assert_eq!(
        commands(&press(&mut app, &["ctrl-s"])),
        [Command::EditContext {
            id: 2,
            text: "Errors are JSON {code, message}".into(),
            scope: Scope {
                paths: vec!["src/api".into(), "src/db".into()],
                ..Scope::default()
            },
        }]
    );
    app.command_done("edit".into(), Origin::Editor, Ok(()));
    assert!(press(&mut app, &["d"]).is_empty(), "asks first");
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    assert!(press(&mut app, &["n"]).is_empty());
    assert!(app.overlay.is_none());
    press(&mut app, &["d"]);
    assert_eq!(
        commands(&press(&mut app, &["y"])),
        [Command::RetireContext { id: 2 }]
    );
    // A retired entry is neither edited nor retired again.
    press(&mut app, &["h", "down"]);
    assert!(press(&mut app, &["e"]).is_empty());
    assert_eq!(
        toast(&app),
        "context entry 3 is retired: add a new one instead (a)"
    );
    assert!(press(&mut app, &["d"]).is_empty());
    assert!(app.overlay.is_none());
}

#[test]
fn enter_on_a_comparing_task_opens_the_compare_view_and_pick_asks_first() {
    let mut app = fixture::app(160, 48);
    fixture::teamed(&mut app);
    let col = 2;
    let index = app
        .column_tasks(COLUMNS[col])
        .iter()
        .position(|t| t.id().as_str() == "search")
        .unwrap();
    app.board.column = col;
    app.select(col, index);
    assert!(press(&mut app, &["enter"]).is_empty());
    assert_eq!(app.context(), Context::Compare);
    press(&mut app, &["right"]);
    assert!(press(&mut app, &["p"]).is_empty(), "asks first");
    assert!(press(&mut app, &["esc"]).is_empty());
    assert!(app.overlay.is_none());
    for k in ["a", "x", "F", "t", "e"] {
        assert!(press(&mut app, &[k]).is_empty(), "{k}");
        assert!(app.overlay.is_none(), "{k}");
    }
    press(&mut app, &["enter"]);
    let Some(Overlay::Confirm { question, .. }) = &app.overlay else {
        panic!("a question")
    };
    assert!(question.starts_with("Pick `search-codex` (codex) for `search`?"));
    assert_eq!(
        commands(&press(&mut app, &["y"])),
        [Command::Pick {
            task: id("search"),
            candidate: id("search-codex"),
        }]
    );
    press(&mut app, &["left"]);
    assert!(press(&mut app, &["tab"]).contains(&Intent::LoadDiff(id("search-claude"))));
    assert!(
        matches!(&app.screen, Screen::Detail(d) if d.task.as_str() == "search-claude" && d.tab == Tab::Diff)
    );
    press(&mut app, &["esc"]);
    assert!(
        matches!(&app.screen, Screen::Compare(v) if v.focus == 0),
        "back to the comparison"
    );
}

#[test]
fn f_fans_a_queued_task_out_to_two_profiles_or_more() {
    let mut app = on("api");
    assert!(press(&mut app, &["F"]).is_empty());
    assert!(app.overlay.is_none());
    assert_eq!(
        toast(&app),
        "`api` is running: only a queued task can be fanned out"
    );
    let mut app = on("ui");
    press(&mut app, &["F"]);
    assert!(matches!(app.overlay, Some(Overlay::FanOut(_))));
    assert!(press(&mut app, &["enter"]).is_empty());
    assert!(toast(&app).starts_with("choose at least two profiles"));
    assert!(
        press(&mut app, &["space", "enter"]).is_empty(),
        "one is not enough"
    );
    assert!(matches!(app.overlay, Some(Overlay::FanOut(_))));
    press(&mut app, &["down", "down", "space"]);
    assert_eq!(
        commands(&press(&mut app, &["enter"])),
        [Command::FanOut {
            task: id("ui"),
            agents: vec!["aider".into(), "codex".into()],
        }]
    );
    assert!(app.overlay.is_none());
    press(&mut app, &["F", "space", "esc"]);
    assert!(app.overlay.is_none(), "esc cancels");
}

#[test]
fn the_wheel_moves_through_messages_and_the_slash_input_shows() {
    let mut app = teamed_on("api");
    press(&mut app, &["M"]);
    wheel(&mut app, false, 10, 5);
    assert_eq!(selected_message(&app), Some(6));
    wheel(&mut app, true, 10, 5);
    assert_eq!(selected_message(&app), Some(7));
    press(&mut app, &["/"]);
    typed(&mut app, "shape");
    let screen = crate::ui::snapshots::draw_for_tests(&app);
    assert!(screen.contains("/ shape"), "{screen}");
}

#[test]
fn team_events_reach_the_panes() {
    let mut app = fixture::app(80, 24);
    press(&mut app, &["M"]);
    let message = crate::core::team::Message {
        id: 9,
        task: id("api"),
        attempt: 2,
        kind: crate::core::team::MessageKind::Blocker,
        text: "stuck".into(),
        paths: vec![],
        time_ms: fixture::NOW,
    };
    app.apply(Notification::Event {
        event: crate::core::Event::Message { message },
        actor: crate::core::Actor::Engine,
    });
    assert_eq!(selected_message(&app), Some(9), "the newest is followed");
    assert!(crate::ui::snapshots::draw_for_tests(&app).contains("stuck"));
}

#[test]
fn dot_and_comma_jump_between_review_comments_in_the_diff() {
    let mut app = teamed_on("tests");
    press(&mut app, &["enter", "tab"]);
    fixture::reviewed_diff(&mut app, false);
    let scroll = |app: &App| app.diff.as_ref().map(|d| d.view.scroll);
    assert_eq!(press(&mut app, &["."]), []);
    assert_eq!(scroll(&app), Some(4), "the comment on new line 2");
    press(&mut app, &["."]);
    assert_eq!(scroll(&app), Some(4), "the last stays");
    press(&mut app, &[","]);
    assert_eq!(
        scroll(&app),
        Some(0),
        "the file's header holds the one off the diff"
    );
}
