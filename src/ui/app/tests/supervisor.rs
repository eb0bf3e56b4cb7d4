//! The cockpit side of the supervisor (issue 9): the goal editor, the plan
//! diff of a proposal (toggles, needed changes, feedback, discard, hiding
//! and showing it again), the supervisor pane, stalled and question cards.

use super::*;
use crate::core::supervisor::Trigger;
use crate::store::transcript::Stream;

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        let key = if c == ' ' {
            "space".to_owned()
        } else {
            c.to_string()
        };
        press(app, &[key.as_str()]);
    }
}

fn proposed(app: &mut App) {
    let proposal = Box::new(fixture::proposal(&app.model));
    app.apply(Notification::Event {
        event: crate::core::Event::Proposed { proposal },
        actor: crate::core::Actor::Engine,
    });
}

fn view(app: &App) -> &PlanView {
    match &app.overlay {
        Some(Overlay::PlanDiff(v)) => v,
        other => panic!("no plan diff: {other:?}"),
    }
}

/// The fixture with a supervisor, its proposal 2 on screen.
fn with_proposal() -> App {
    let mut app = fixture::app(80, 24);
    app.model.supervisor.profile = Some("claude".into());
    proposed(&mut app);
    app
}

#[test]
fn o_opens_the_goal_editor_refuses_an_empty_goal_and_sends_the_plan_command() {
    let mut app = fixture::app(80, 24);
    assert!(press(&mut app, &["o"]).is_empty());
    assert!(app.overlay.is_none());
    assert!(toast(&app).starts_with("no supervisor: add [supervisor]"));
    app.model.supervisor.profile = Some("claude".into());
    press(&mut app, &["o"]);
    assert!(matches!(&app.overlay, Some(Overlay::Editor(e)) if e.kind == EditorKind::Goal));
    assert!(press(&mut app, &["ctrl-s"]).is_empty());
    let Some(Overlay::Editor(ed)) = &app.overlay else {
        panic!()
    };
    assert_eq!(
        ed.error.as_deref(),
        Some("write the goal first: what should the fleet build?")
    );
    typed(&mut app, "Add OAuth login");
    let cmds = commands(&press(&mut app, &["ctrl-s"]));
    assert_eq!(
        cmds,
        [Command::Plan {
            goal: "Add OAuth login".into()
        }]
    );
    app.command_done("plan a goal".into(), Origin::Editor, Ok(()));
    assert!(app.overlay.is_none());
}

#[test]
fn a_proposal_opens_its_plan_diff_and_esc_hides_it_until_y() {
    let mut app = with_proposal();
    let v = view(&app);
    assert_eq!(v.proposal_id(), Some(2));
    let shown: Vec<String> = v.diff.changes.iter().map(|c| c.describe()).collect();
    assert_eq!(
        shown,
        [
            "change 1 (edit `api`)",
            "change 2 (edit `docs`)",
            "change 3 (add `perf-lexer`)",
            "change 4 (add `perf-parser`)",
            "change 5 (drop `perf`)",
        ]
    );
    assert!(press(&mut app, &["esc"]).is_empty());
    assert!(app.overlay.is_none());
    assert_eq!(toast(&app), "proposal 2 is waiting: Y shows it again");
    press(&mut app, &["Y"]);
    assert_eq!(view(&app).proposal_id(), Some(2));
}

#[test]
fn a_proposal_does_not_cover_an_editor_with_unsaved_text() {
    let mut app = fixture::app(80, 24);
    app.model.supervisor.profile = Some("claude".into());
    press(&mut app, &["o"]);
    typed(&mut app, "half a goal");
    proposed(&mut app);
    assert!(matches!(&app.overlay, Some(Overlay::Editor(_))));
    let screen = crate::ui::snapshots::draw_for_tests(&app);
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("proposal 2 waiting: Y"),
        "{screen}"
    );
}

#[test]
fn space_toggles_a_change_and_a_refused_one_says_why_instead() {
    let mut app = with_proposal();
    press(&mut app, &["space"]);
    let v = view(&app);
    assert!(
        v.off.is_empty(),
        "the refused edit of the running api is not toggled"
    );
    assert_eq!(
        v.error.as_deref(),
        Some(
            "change 1 (edit `api`) is refused: task `api` is running: edit needs a task that is queued or failed (not running)"
        )
    );
    press(&mut app, &["down", "space"]);
    let v = view(&app);
    assert!(v.error.is_none());
    assert!(!v.is_on(1));
    press(&mut app, &["space"]);
    assert!(view(&app).is_on(1));
}

#[test]
fn turning_a_needed_change_off_shows_the_diff_error_and_sends_nothing() {
    let mut app = with_proposal();
    // change 3 adds perf-lexer, which the added perf-parser depends on.
    let intents = press(&mut app, &["down", "down", "space", "enter"]);
    assert!(intents.is_empty(), "{intents:?}");
    let v = view(&app);
    assert!(!v.pending);
    assert_eq!(
        v.error.as_deref(),
        Some(
            "change 3 (add `perf-lexer`) is turned off, but change 4 (add `perf-parser`) needs it (it depends on `perf-lexer`); turn both off or keep both"
        )
    );
    // Both off: the rest goes, numbered as shown.
    let cmds = commands(&press(&mut app, &["down", "space", "enter"]));
    assert_eq!(
        cmds,
        [Command::ConfirmProposal {
            proposal: 2,
            off: vec![3, 4]
        }]
    );
    assert!(view(&app).pending);
    app.command_done("confirm proposal 2".into(), Origin::Editor, Ok(()));
    assert!(app.overlay.is_none());
}

#[test]
fn a_turns_everything_off_then_on_and_nothing_on_is_refused() {
    let mut app = with_proposal();
    press(&mut app, &["a"]);
    assert!((0..5).all(|i| !view(&app).is_on(i)));
    assert!(press(&mut app, &["enter"]).is_empty());
    assert_eq!(view(&app).error.as_deref(), Some("no change is turned on"));
    press(&mut app, &["a"]);
    assert!((1..5).all(|i| view(&app).is_on(i)));
    let cmds = commands(&press(&mut app, &["enter"]));
    assert_eq!(
        cmds,
        [Command::ConfirmProposal {
            proposal: 2,
            off: vec![]
        }]
    );
}

#[test]
fn f_sends_feedback_and_x_discards() {
    let mut app = with_proposal();
    press(&mut app, &["f"]);
    assert!(
        matches!(&app.overlay, Some(Overlay::Editor(e)) if e.kind == EditorKind::ProposalFeedback(2))
    );
    assert!(
        press(&mut app, &["ctrl-s"]).is_empty(),
        "empty feedback is refused"
    );
    typed(&mut app, "keep perf whole");
    let cmds = commands(&press(&mut app, &["ctrl-s"]));
    assert_eq!(
        cmds,
        [Command::ProposalFeedback {
            proposal: 2,
            feedback: "keep perf whole".into()
        }]
    );
    let mut app = with_proposal();
    let cmds = commands(&press(&mut app, &["x"]));
    assert_eq!(cmds, [Command::DiscardProposal { proposal: 2 }]);
    assert!(app.overlay.is_none());
}

#[test]
fn tab_shows_the_graph_and_e_the_fields_of_a_change() {
    let mut app = with_proposal();
    press(&mut app, &["down", "e"]);
    assert!(view(&app).expanded.contains(&(id("docs"), "edit")));
    press(&mut app, &["tab", "down", "down"]);
    let v = view(&app);
    assert_eq!((v.tab, v.scroll, v.selected), (PlanTab::Graph, 2, 1));
    // Space means nothing on the graph.
    press(&mut app, &["space"]);
    assert!(view(&app).off.is_empty());
    press(&mut app, &["shift-tab"]);
    assert_eq!(view(&app).tab, PlanTab::Changes);
}

#[test]
fn keys_that_mean_nothing_in_the_plan_diff_do_nothing_and_say_nothing() {
    let mut app = with_proposal();
    for key in ["q", "d", "r", "t", "o", "S", "P", "?", "n", "1"] {
        assert!(press(&mut app, &[key]).is_empty(), "{key}");
        assert!(app.toast.is_none(), "{key}");
        let v = view(&app);
        assert!(
            v.error.is_none() && v.off.is_empty() && v.tab == PlanTab::Changes,
            "{key}"
        );
    }
    // And the plan diff's keys mean nothing on the board.
    let mut board = fixture::app(80, 24);
    for key in ["space", "f", "x", "Y", "e"] {
        let before = board.board.clone();
        let cmds = commands(&press(&mut board, &[key]));
        assert!(cmds.is_empty(), "{key}: {cmds:?}");
        assert_eq!(board.board, before);
    }
}

#[test]
fn the_diff_is_computed_again_when_the_tasks_change_and_closes_when_settled() {
    let mut app = with_proposal();
    assert!(view(&app).diff.changes[0].refused.is_some());
    let mut api = app.model.task("api").unwrap().clone();
    api.status = crate::core::Status::Failed {
        reason: "stopped".into(),
    };
    app.apply(Notification::Task {
        task: Box::new(api),
    });
    assert!(
        view(&app).diff.changes[0].refused.is_none(),
        "api may be edited now"
    );
    app.apply(Notification::Event {
        event: crate::core::Event::ProposalDiscarded { proposal: 2 },
        actor: crate::core::Actor::Engine,
    });
    assert!(app.overlay.is_none());
    assert_eq!(
        toast(&app),
        "proposal 2 is no longer waiting (applied or discarded)"
    );
    assert_eq!(press(&mut app, &["Y"]), []);
    assert_eq!(toast(&app), "no proposal is waiting");
}

#[test]
fn the_supervisor_pane_lists_consultations_and_follows_the_live_one() {
    let mut app = fixture::app(80, 24);
    fixture::supervised(&mut app);
    press(&mut app, &["S"]);
    assert!(matches!(app.screen, Screen::Supervisor(_)));
    assert_eq!(app.context(), crate::ui::keymap::Context::Supervisor);
    let screen = crate::ui::snapshots::draw_for_tests(&app);
    assert!(screen.contains("#3 · thinking…"), "{screen}");
    assert!(screen.contains("Looking at what api did"), "{screen}");
    app.apply(Notification::Supervisor {
        consult: 3,
        stream: Stream::Out,
        line: "api edits the same file over and over".into(),
    });
    let screen = crate::ui::snapshots::draw_for_tests(&app);
    assert!(screen.contains("api edits the same file"), "{screen}");
    press(&mut app, &["up"]);
    let screen = crate::ui::snapshots::draw_for_tests(&app);
    assert!(screen.contains("The lexer and the parser fail"), "{screen}");
    assert!(
        screen.contains("proposed 5 changes: proposal 2 waits"),
        "{screen}"
    );
    // Y shows the proposal from here too; task keys do nothing.
    assert!(press(&mut app, &["a", "d"]).is_empty());
    assert!(app.toast.is_none());
    press(&mut app, &["Y"]);
    assert_eq!(view(&app).proposal_id(), Some(2));
    press(&mut app, &["esc", "esc"]);
    assert_eq!(app.screen, Screen::Board);
    let ended = crate::core::Event::ConsultEnded {
        consult: 3,
        message: "no change: api is making progress".into(),
        proposal: None,
        spend: Default::default(),
        failed: false,
    };
    app.apply(Notification::Event {
        event: ended,
        actor: crate::core::Actor::Engine,
    });
    assert!(!app.model.supervisor.thinking());
    let trigger = &app.model.supervisor.consult(3).unwrap().trigger;
    assert!(matches!(trigger, Trigger::Stalled { .. }));
    // An ending without a proposal to look at says so where the user is.
    assert_eq!(
        toast(&app),
        "no change: api is making progress (S: the supervisor pane)"
    );
    assert!(!app.toast.as_ref().unwrap().error);
    let refused = crate::core::Event::ConsultEnded {
        consult: 3,
        message:
            "the supervisor's plan was refused after 3 answer(s): tasks[0]: missing field `agent`"
                .into(),
        proposal: None,
        spend: Default::default(),
        failed: true,
    };
    app.apply(Notification::Event {
        event: refused,
        actor: crate::core::Actor::Engine,
    });
    assert!(app.toast.as_ref().unwrap().error);
    assert!(toast(&app).contains("missing field `agent`"));
}

#[test]
fn a_question_card_says_how_to_answer_it() {
    let mut app = on("perf");
    fixture::supervised(&mut app);
    let hints: Vec<String> = app
        .footer_hints()
        .into_iter()
        .map(|(k, l)| format!("{k} {l}"))
        .collect();
    assert_eq!(
        &hints[..3],
        [
            "enter read the question",
            "e answer in the prompt",
            "t retry"
        ]
    );
    let screen = crate::ui::snapshots::draw_for_tests(&app);
    assert!(screen.contains("question: Should the p"), "{screen}");
    assert!(screen.contains("stalled: no file changed"), "{screen}");
}
