//! Snapshots of every view on the fixed fixture at 80x24 and 160x48, and
//! every view drawn into tiny areas without panicking.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::ui::app::{App, Detail, Editor, EditorKind, Overlay, Picker, Screen, Tab};
use crate::ui::fixture;
use crate::ui::render::render;

/// The screen as text (for app tests that look at what is drawn).
pub(crate) fn draw_for_tests(app: &App) -> String {
    draw(app)
}

fn draw(app: &App) -> String {
    let (w, h) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| render(f, app)).unwrap();
    terminal.backend().to_string()
}

fn detail(app: &mut App, task: &str, tab: Tab) {
    app.screen = Screen::Detail(Detail {
        task: crate::core::TaskId::parse(task).unwrap(),
        tab,
        attempt: None,
        scroll: None,
        search: None,
        info_scroll: 0,
    });
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

#[test]
fn board() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        app.board.column = 2;
        app.board.selected[2] = 1;
        insta::assert_snapshot!(format!("board_{w}x{h}"), draw(&app));
    }
}

#[test]
fn board_with_a_paused_fleet_and_a_toast() {
    let mut app = fixture::app(160, 48);
    app.model.fleet.set_paused(true);
    app.toast = Some(crate::ui::app::Toast {
        text: "approve `api`: task `api` is running".into(),
        error: true,
    });
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn an_environment_fault_is_read_in_80_columns() {
    let mut app = fixture::app(80, 24);
    app.model.fleet.set_paused(true);
    app.model.warning = Some(
        "cannot create the transcript /r/.fleet/runs/x/1.jsonl: Not a directory (os error 20)"
            .into(),
    );
    let screen = draw(&app);
    let header = screen.lines().next().unwrap_or_default();
    // The fault is read, and the fleet state stays whole (in short labels).
    for part in [
        "PAUSED │ cannot create the",
        "run 2/4",
        "rev 2 · fail 1",
        "$1.76",
    ] {
        assert!(header.contains(part), "{part} in {header}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn transcript() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        detail(&mut app, "api", Tab::Transcript);
        insta::assert_snapshot!(format!("transcript_{w}x{h}"), draw(&app));
    }
}

#[test]
fn transcript_scrolled_with_a_search() {
    let mut app = fixture::app(80, 10);
    detail(&mut app, "api", Tab::Transcript);
    if let Screen::Detail(d) = &mut app.screen {
        d.scroll = Some(1);
        d.search = Some("the".into());
    }
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn info() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        detail(&mut app, "perf", Tab::Info);
        insta::assert_snapshot!(format!("info_{w}x{h}"), draw(&app));
    }
}

#[test]
fn editor() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        app.board.selected[0] = 0;
        let text = crate::ui::app::task_toml(&app.model.task("ui").unwrap().spec, false);
        app.overlay = Some(Overlay::Editor(Editor {
            kind: EditorKind::Task(crate::core::TaskId::parse("ui").unwrap()),
            area: ratatui_textarea::TextArea::new(text.lines().map(String::from).collect()),
            error: Some("line 3, column 8: invalid array".into()),
            pending: false,
            initial: String::new(),
        }));
        insta::assert_snapshot!(format!("editor_{w}x{h}"), draw(&app));
    }
}

/// The supervisor's proposal as a plan diff: reasoning, a warning, a
/// refused change, an expanded edit; then its graph.
#[test]
fn plan_diff_changes_and_graph() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        fixture::supervised(&mut app);
        let mut view = fixture::plan_view(&app, false);
        view.selected = 1;
        view.off
            .insert((crate::core::TaskId::parse("perf").unwrap(), "drop"));
        app.overlay = Some(Overlay::PlanDiff(Box::new(view)));
        insta::assert_snapshot!(format!("plan_diff_{w}x{h}"), draw(&app));
        app.overlay = Some(Overlay::PlanDiff(Box::new(fixture::plan_view(&app, true))));
        insta::assert_snapshot!(format!("plan_graph_{w}x{h}"), draw(&app));
    }
}

#[test]
fn plan_diff_with_an_error() {
    let mut app = fixture::app(80, 24);
    let mut view = fixture::plan_view(&app, false);
    view.error = Some(
        "change 3 (add `perf-lexer`) is turned off, but change 4 (add `perf-parser`) needs it (it depends on `perf-lexer`); turn both off or keep both".into(),
    );
    app.overlay = Some(Overlay::PlanDiff(Box::new(view)));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn supervisor_pane() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        fixture::supervised(&mut app);
        app.screen = Screen::Supervisor(crate::ui::app::SupervisorView {
            selected: Some(1),
            scroll: None,
        });
        insta::assert_snapshot!(format!("supervisor_{w}x{h}"), draw(&app));
    }
}

#[test]
fn goal_editor() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        fixture::supervised(&mut app);
        let mut area = ratatui_textarea::TextArea::default();
        area.set_placeholder_text("What should the fleet build?");
        app.overlay = Some(Overlay::Editor(Editor {
            kind: EditorKind::Goal,
            area,
            error: Some("write the goal first: what should the fleet build?".into()),
            pending: false,
            initial: String::new(),
        }));
        insta::assert_snapshot!(format!("goal_editor_{w}x{h}"), draw(&app));
    }
}

#[test]
fn picker_and_confirm() {
    let mut app = fixture::app(80, 24);
    app.overlay = Some(Overlay::Picker(Picker {
        task: crate::core::TaskId::parse("api").unwrap(),
        agents: vec!["aider".into(), "claude".into(), "codex".into()],
        selected: 1,
    }));
    insta::assert_snapshot!("picker_80x24", draw(&app));
    app.overlay = Some(Overlay::Confirm {
        question: "Drop `ui`? A running agent is stopped; its branch is kept.".into(),
        yes: vec![],
    });
    insta::assert_snapshot!("confirm_80x24", draw(&app));
}

fn team_screens() -> Vec<Screen> {
    use crate::ui::app::{CompareView, ContextView, MessagesView};
    vec![
        Screen::Messages(MessagesView {
            selected: Some(4),
            expanded: true,
            ..Default::default()
        }),
        Screen::Context(ContextView {
            retired: true,
            expanded: true,
            ..Default::default()
        }),
        Screen::Compare(CompareView {
            task: crate::core::TaskId::parse("search").unwrap(),
            focus: 1,
        }),
    ]
}

fn fanout() -> crate::ui::app::FanOutPicker {
    crate::ui::app::FanOutPicker {
        task: crate::core::TaskId::parse("ui").unwrap(),
        agents: ["aider", "claude", "codex"].map(String::from).to_vec(),
        chosen: vec![false, true, true],
        selected: 2,
    }
}

/// The team panes (issue 10): messages (the blocker selected and read in
/// full), the context store with a retired entry shown, the compare view.
#[test]
fn team_panes() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        fixture::teamed(&mut app);
        for (name, screen) in ["messages", "context", "compare"]
            .into_iter()
            .zip(team_screens())
        {
            app.screen = screen;
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&app));
        }
    }
}

/// The add editor of the context pane refusing a bad scope line, and the
/// kind picker and fan-out picker before it.
#[test]
fn team_editor_and_pickers() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        fixture::teamed(&mut app);
        app.screen = Screen::Context(Default::default());
        app.overlay = Some(Overlay::KindPicker(crate::ui::app::KindPicker {
            selected: 1,
        }));
        insta::assert_snapshot!(format!("kind_picker_{w}x{h}"), draw(&app));
        let mut area = ratatui_textarea::TextArea::new(vec![
            "Errors are JSON {code, message}".into(),
            "scope: teams=api".into(),
        ]);
        area.set_cursor_line_style(ratatui::style::Style::default());
        app.overlay = Some(Overlay::Editor(Editor {
            kind: EditorKind::Context {
                kind: crate::core::team::ContextKind::Contract,
                id: None,
            },
            area,
            error: Some(
                "line 2: scope: unknown scope `teams` (expected tasks, paths or roles)".into(),
            ),
            pending: false,
            initial: String::new(),
        }));
        insta::assert_snapshot!(format!("context_editor_{w}x{h}"), draw(&app));
    }
    let mut app = fixture::app(80, 24);
    app.overlay = Some(Overlay::FanOut(fanout()));
    insta::assert_snapshot!("fanout_picker_80x24", draw(&app));
}

/// Cards with the team's markers: role badges, a blocker, an overlap, a
/// group, a fan-out task and its candidates; and the Info tab's review.
#[test]
fn team_cards_and_info() {
    for (w, h) in SIZES {
        let mut app = fixture::app(w, h);
        fixture::teamed(&mut app);
        app.board.column = 1;
        app.board.selected[1] = 1;
        insta::assert_snapshot!(format!("team_board_{w}x{h}"), draw(&app));
        app.board.column = 2;
        insta::assert_snapshot!(format!("team_review_column_{w}x{h}"), draw(&app));
        detail(&mut app, "tests", Tab::Info);
        insta::assert_snapshot!(format!("team_info_{w}x{h}"), draw(&app));
    }
}

/// The reviewer's verdict above the diff, its comments under the lines
/// they name (unified and side by side), the ones off the diff listed.
#[test]
fn diff_with_review_comments() {
    for (w, h) in SIZES {
        for (mode, split) in [("unified", false), ("split", true)] {
            let mut app = fixture::app(w, h);
            fixture::teamed(&mut app);
            detail(&mut app, "tests", Tab::Diff);
            fixture::reviewed_diff(&mut app, split);
            let screen = draw(&app);
            for part in [
                "changes requested",
                "▎ review: use the agreed error shape here",
                "▎ review: line 400: this line is not in the diff",
                "▎ README.md document the new endpoint",
            ] {
                assert!(screen.contains(part), "{part} in\n{screen}");
            }
            insta::assert_snapshot!(format!("review_diff_{mode}_{w}x{h}"), screen);
        }
    }
}

/// Every screen and overlay at sizes from 1x1 up: never a panic.
#[test]
fn tiny_terminals_never_panic() {
    for (w, h) in [(1, 1), (2, 1), (1, 3), (5, 2), (12, 4), (30, 6), (99, 10)] {
        let mut app = fixture::app(w, h);
        fixture::supervised(&mut app);
        draw(&app);
        app.screen = Screen::Supervisor(Default::default());
        draw(&app);
        fixture::teamed(&mut app);
        for screen in team_screens() {
            app.screen = screen;
            draw(&app);
        }
        for tab in Tab::ALL {
            detail(&mut app, "api", tab);
            draw(&app);
        }
        detail(&mut app, "tests", Tab::Diff);
        fixture::teamed(&mut app);
        for split in [false, true] {
            fixture::reviewed_diff(&mut app, split);
            draw(&app);
        }
        app.screen = Screen::Board;
        let overlays = || {
            vec![
                Overlay::Help { scroll: 3 },
                Overlay::Confirm {
                    question: "sure?".into(),
                    yes: vec![],
                },
                Overlay::Editor(Editor {
                    kind: EditorKind::NewTask,
                    area: Default::default(),
                    error: Some("bad".into()),
                    pending: false,
                    initial: String::new(),
                }),
                Overlay::Picker(Picker {
                    task: crate::core::TaskId::parse("api").unwrap(),
                    agents: vec!["a".into()],
                    selected: 0,
                }),
                Overlay::PlanDiff(Box::new(fixture::plan_view(&app, false))),
                Overlay::PlanDiff(Box::new(fixture::plan_view(&app, true))),
                Overlay::Search(Default::default()),
                Overlay::KindPicker(crate::ui::app::KindPicker { selected: 4 }),
                Overlay::FanOut(fanout()),
            ]
        };
        for o in overlays() {
            app.overlay = Some(o);
            draw(&app);
        }
    }
}

/// The markers of issue 4 on cards and in the header, drawn from the model.
#[test]
fn cards_show_budget_rate_limit_stall_and_unusable_markers() {
    let mut app = fixture::app(160, 48);
    let mut ui = app.model.task("ui").unwrap().clone();
    ui.status = crate::core::Status::Queued { held: false };
    ui.spec.deps.clear();
    ui.spent = crate::core::Spend {
        usd: 3.0,
        tokens: 10,
    };
    ui.spec.budget_usd = Some(2.0);
    app.model.fleet.upsert(ui);
    let mut tests = app.model.task("tests").unwrap().clone();
    tests.status = crate::core::Status::Queued { held: false };
    tests.not_before_ms = Some(fixture::NOW + 42_000);
    app.model.fleet.upsert(tests);
    let mut docs = app.model.task("docs").unwrap().clone();
    docs.status = crate::core::Status::Queued { held: false };
    docs.spec.deps.clear();
    docs.spec.agent = "gemini".into();
    app.model.fleet.upsert(docs);
    app.model
        .fleet
        .set_unusable("gemini", Some("401 invalid api key".into()));
    app.model.stall_secs.insert("codex".into(), 60);
    app.model.last_output.insert(
        crate::core::TaskId::parse("api").unwrap(),
        fixture::NOW - 200_000,
    );
    let screen = draw(&app);
    for expected in [
        "over budget",
        "rate limited 42s",
        "gemini unusable",
        "stalled 3m20s",
        "gemini unusable: 401 invalid api key",
    ] {
        assert!(screen.contains(expected), "`{expected}` missing:\n{screen}");
    }
}

/// The header alone at 80, 100 and 200 columns: a calm fleet, and a paused
/// one with a warning and a long path. The fleet state is always whole.
#[test]
fn header_at_80_100_and_200_columns() {
    for w in [80u16, 100, 200] {
        let mut calm = fixture::app(w, 24);
        calm.model.root = "/srv/projects/clients/acme/a-rather-long-repository-name".into();
        let mut alarmed = fixture::app(w, 24);
        alarmed.model.root = calm.model.root.clone();
        alarmed.model.fleet.set_paused(true);
        alarmed.model.warning =
            Some("cannot create the transcript: No space left on device (os error 28)".into());
        for (name, app) in [("calm", &calm), ("paused", &alarmed)] {
            let screen = draw(app);
            let header = screen.lines().next().unwrap_or_default().to_owned();
            let short = name == "paused" && w < 200;
            let parts = if short {
                ["PAUSED", "run 2/4", "rev 2 · fail 1", "$1.76"]
            } else {
                ["fleetdeck", "running 2/4", "review 2 · failed 1", "$1.7631"]
            };
            for part in parts {
                assert!(header.contains(part), "{w} {name}: {part} in {header}");
            }
            if name == "paused" {
                assert!(header.contains("│ cannot create the"), "{header}");
            }
            insta::assert_snapshot!(format!("header_{name}_{w}"), header);
        }
    }
}

/// A verifying card's time runs with the clock (it counts the attempt, gate included).
#[test]
fn a_verifying_cards_timer_advances_with_the_clock() {
    let mut app = fixture::app(160, 48);
    app.board.column = 1;
    let card_line = |app: &App| {
        draw(app)
            .lines()
            .skip_while(|l| !l.contains("lint"))
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    };
    let before = card_line(&app);
    assert!(before.contains("30s"), "{before}");
    app.now_ms += 12_000;
    let after = card_line(&app);
    assert!(after.contains("42s"), "{after}");
    assert!(app.needs_tick(), "a verifying task keeps the clock ticking");
}

/// With the 16-colour palette, no cell of any view carries an RGB or a
/// 256-colour index (what a `TERM=xterm` terminal could not show).
#[test]
fn the_16_colour_palette_leaves_no_rgb_or_indexed_colour_in_any_view() {
    let mut app = fixture::app(160, 48);
    app.theme = crate::ui::theme::Theme::dark().to_ansi16();
    type SetUp = Box<dyn Fn(&mut App)>;
    let mut screens: Vec<SetUp> = vec![Box::new(|_| {})];
    for tab in Tab::ALL {
        screens.push(Box::new(move |app: &mut App| detail(app, "api", tab)));
    }
    screens.push(Box::new(|app: &mut App| {
        app.overlay = Some(Overlay::Help { scroll: 0 })
    }));
    fixture::teamed(&mut app);
    for screen in team_screens() {
        screens.push(Box::new(move |app: &mut App| app.screen = screen.clone()));
    }
    screens.push(Box::new(|app: &mut App| {
        detail(app, "tests", Tab::Diff);
        fixture::reviewed_diff(app, true);
    }));
    for (i, set) in screens.iter().enumerate() {
        app.screen = Screen::Board;
        app.overlay = None;
        set(&mut app);
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
        terminal.draw(|f| render(f, &app)).unwrap();
        let buffer = terminal.backend().buffer();
        for cell in buffer.content() {
            for c in [cell.fg, cell.bg] {
                assert!(
                    crate::ui::theme::is_ansi16(c),
                    "screen {i}: {c:?} at {:?}",
                    cell.symbol()
                );
            }
        }
    }
}
