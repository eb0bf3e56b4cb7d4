//! Themes (shipped, partial, broken, NO_COLOR), key parsing, `[ui.keys]`
//! overrides, and the help screen.

use std::collections::BTreeMap;
use std::io::Write;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use fleetdeck::config::KeysSpec;
use fleetdeck::ui::keymap::{Action, Context, Key, Keymap, KeymapError};
use fleetdeck::ui::theme::{Theme, builtin_names};
use fleetdeck::ui::views::help;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

fn theme_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

fn load_file(text: &str, no_color: bool) -> (Theme, Vec<String>, String) {
    let file = theme_file(text);
    let path = file.path().display().to_string();
    let (theme, warnings) = Theme::load(Some(&path), no_color);
    (theme, warnings, path)
}

fn mono() -> Theme {
    Theme::builtin("mono").expect("mono")
}

// ---- themes ----

#[test]
fn shipped_themes_load_by_name_without_warnings() {
    assert_eq!(builtin_names(), ["dark", "light", "high-contrast", "mono"]);
    for name in builtin_names() {
        let (theme, warnings) = Theme::load(Some(name), false);
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        assert_eq!(Some(&theme), Theme::builtin(name).as_ref());
    }
    let (light, _) = Theme::load(Some("light"), false);
    assert_ne!(light, Theme::dark());
    assert_eq!(Theme::load(Some("dark"), false).0, Theme::dark());
    assert_eq!(Theme::default(), Theme::dark());
}

#[test]
fn a_partial_theme_falls_back_per_name_without_warnings() {
    let (theme, warnings, _) = load_file(
        "# only two\n[styles]\nrunning = { fg = \"blue\", bold = true }\nadded = { fg = 34 }\n",
        false,
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(theme.running, Style::new().fg(Color::Blue).bold());
    assert_eq!(theme.added, Style::new().fg(Color::Indexed(34)));
    let dark = Theme::dark();
    assert_eq!(theme.failed, dark.failed);
    assert_eq!(theme.selected, dark.selected);

    let (theme, warnings, _) = load_file(
        "extends = \"light\"\n[styles]\ntext = { fg = \"#102030\" }\n",
        false,
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(theme.text, Style::new().fg(Color::Rgb(0x10, 0x20, 0x30)));
    assert_eq!(
        theme.running,
        Theme::builtin("light").expect("light").running
    );

    let (theme, warnings, _) = load_file("", false);
    assert!(warnings.is_empty());
    assert_eq!(theme, Theme::dark());
}

#[test]
fn a_syntax_error_warns_with_file_and_position_and_gives_the_default() {
    let (theme, warnings, path) = load_file("[styles]\nrunning = { fg = \"red\" \n", false);
    assert_eq!(theme, Theme::dark());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert!(w.contains(&path), "{w}");
    assert!(w.contains("not valid TOML at line 2"), "{w}");
    assert!(w.contains("default theme"), "{w}");
    assert!(!w.contains('\n'), "one line for the log: {w}");
}

#[test]
fn bad_colours_modifiers_and_names_warn_per_key_and_keep_the_rest() {
    let text = r##"
        [styles]
        running = { fg = "grene" }
        paused = { fg = 300 }
        review = { fg = "#12345" }
        failed = { bolt = true }
        done = { bold = "yes" }
        conflict = "red"
        runing = { fg = "red" }
        added = { fg = "light_blue", underlined = true }
        [colors]
        x = 1
    "##;
    let (theme, warnings, path) = load_file(text, false);
    let dark = Theme::dark();
    for (name, style) in [
        ("running", theme.running),
        ("paused", theme.paused),
        ("review", theme.review),
        ("failed", theme.failed),
        ("done", theme.done),
        ("conflict", theme.conflict),
    ] {
        let default = dark.styles().into_iter().find(|(n, _)| *n == name);
        assert_eq!(Some((name, style)), default);
    }
    assert_eq!(
        theme.added,
        Style::new().fg(Color::LightBlue).underlined(),
        "valid keys still apply"
    );
    assert!(warnings.iter().all(|w| w.contains(&path)), "{warnings:#?}");
    let expect = [
        "styles.running.fg: unknown colour `grene`",
        "styles.paused.fg: colour index 300 is outside 0..=255",
        "styles.review.fg: `#12345` is not a colour of the form #rrggbb",
        "styles.failed.bolt: unknown attribute (did you mean `bold`?)",
        "styles.done.bold: expected true or false, not string",
        "styles.conflict: expected a table like { fg = \"green\", bold = true }, not string",
        "`runing` is not a style name (did you mean `running`?)",
        "unknown key `colors`",
    ];
    for part in expect {
        assert!(
            warnings.iter().any(|w| w.contains(part)),
            "no warning contains {part:?}: {warnings:#?}"
        );
    }
    assert_eq!(warnings.len(), expect.len(), "{warnings:#?}");
}

#[test]
fn unreadable_files_and_unknown_names_warn_and_give_the_default() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("nope.toml").display().to_string();
    for spec in [
        missing.as_str(),
        "solarized",
        &dir.path().display().to_string(),
    ] {
        let (theme, warnings) = Theme::load(Some(spec), false);
        assert_eq!(theme, Theme::dark(), "{spec}");
        assert_eq!(warnings.len(), 1, "{spec}: {warnings:?}");
        let w = &warnings[0];
        assert!(w.contains(spec), "{w}");
        assert!(w.contains("dark, light, high-contrast, mono"), "{w}");
    }
    let (theme, warnings) = Theme::load(Some("solarized"), true);
    assert_eq!((theme, warnings.len()), (mono(), 1));
}

#[test]
fn no_color_selects_mono_unless_a_theme_is_explicit() {
    assert_eq!(Theme::load(None, true), (mono(), vec![]));
    assert_eq!(Theme::load(Some("  "), true), (mono(), vec![]));
    assert_eq!(Theme::load(None, false), (Theme::dark(), vec![]));
    assert_eq!(Theme::load(Some("dark"), true), (Theme::dark(), vec![]));
    assert_eq!(
        Theme::load(Some("light"), true).0,
        Theme::builtin("light").expect("light")
    );
    // A partial explicit file: what it gives wins, the rest is the NO_COLOR default.
    let (theme, warnings, _) = load_file("[styles]\nrunning = { fg = \"red\" }\n", true);
    assert!(warnings.is_empty());
    assert_eq!(theme.running, Style::new().fg(Color::Red));
    assert_eq!(theme.added, mono().added);
    for (name, style) in mono().styles() {
        assert_eq!((style.fg, style.bg), (None, None), "mono.{name}");
    }
}

// ---- keys ----

#[test]
fn key_descriptions_round_trip() {
    let canonical = [
        "a",
        "A",
        "G",
        "?",
        "/",
        "[",
        "-",
        "ctrl-a",
        "alt-x",
        "ctrl-alt-x",
        "alt-X",
        "enter",
        "esc",
        "tab",
        "shift-tab",
        "↑",
        "↓",
        "←",
        "→",
        "pgup",
        "pgdn",
        "home",
        "end",
        "f1",
        "f5",
        "f12",
        "space",
        "ctrl-space",
        "backspace",
        "delete",
        "insert",
        "ctrl--",
        "shift-↑",
        "ctrl-enter",
    ];
    for text in canonical {
        let key = Key::parse(text).unwrap_or_else(|| panic!("{text} parses"));
        assert_eq!(key.to_string(), text);
        assert_eq!(Key::parse(&key.to_string()), Some(key));
    }
    let same = [
        ("up", "↑"),
        ("Down", "↓"),
        ("shift-g", "G"),
        ("shift-G", "G"),
        ("ctrl-A", "ctrl-a"),
        ("Ctrl-a", "ctrl-a"),
        ("backtab", "shift-tab"),
        ("shift-Tab", "shift-tab"),
        ("PgDn", "pgdn"),
        ("pagedown", "pgdn"),
        ("F5", "f5"),
        ("escape", "esc"),
        (" ", "space"),
    ];
    for (alias, canonical) in same {
        assert_eq!(Key::parse(alias), Key::parse(canonical), "{alias}");
    }
    let g = Key::parse("G").expect("G");
    assert_eq!((g.code, g.mods), (KeyCode::Char('G'), KeyModifiers::NONE));
    for bad in [
        "", "ctrl-", "ctrl+a", "shift-1", "shift-?", "f0", "f25", "hello", "enterr",
    ] {
        assert_eq!(Key::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn real_terminal_events_find_their_actions() {
    use {Action as A, Context as C, KeyCode as K, KeyModifiers as M};
    let map = Keymap::default();
    // What crossterm reports for G, shift-tab, ctrl-s and ? from a real terminal.
    let cases = [
        (C::Board, K::Char('G'), M::SHIFT, Some(A::Bottom)),
        (C::Board, K::Char('g'), M::NONE, Some(A::Top)),
        (C::Diff, K::BackTab, M::SHIFT, Some(A::PrevTab)),
        (C::Board, K::BackTab, M::NONE, Some(A::PrevTab)),
        (C::Editor, K::Char('s'), M::CONTROL, Some(A::Save)),
        (C::Editor, K::Char('s'), M::NONE, None),
        (C::Board, K::Char('?'), M::NONE, Some(A::Help)),
        (C::Board, K::Char('?'), M::SHIFT, Some(A::Help)),
        (C::Board, K::Char('P'), M::SHIFT, Some(A::PauseFleet)),
        (C::Board, K::Char('p'), M::NONE, Some(A::Pause)),
        (C::Board, K::Char('d'), M::CONTROL, Some(A::PageDown)),
        (C::Transcript, K::Char('n'), M::NONE, Some(A::SearchNext)),
        (C::Diff, K::Char('n'), M::NONE, Some(A::NextHunk)),
        (C::Confirm, K::Enter, M::NONE, Some(A::Yes)),
        (C::Editor, K::Char('q'), M::NONE, None),
    ];
    for (ctx, code, mods, expected) in cases {
        let event = KeyEvent::new(code, mods);
        assert_eq!(map.action(ctx, &event), expected, "{ctx:?} {event:?}");
    }
    let release = KeyEvent::new_with_kind(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
        KeyEventKind::Release,
    );
    assert_eq!(map.action(Context::Board, &release), None);
    assert_eq!(map.key_label(Action::Approve), "a");
    assert_eq!(map.key_label(Action::Up), "↑");
}

#[test]
fn default_bindings_are_complete_and_never_clash() {
    let map = Keymap::default();
    let listed: Vec<Action> = map.bindings().map(|(a, ..)| a).collect();
    assert_eq!(listed, Action::all().collect::<Vec<_>>());
    for action in Action::all() {
        // Every variant appears: adding one fails to compile here until it is listed.
        use Action::*;
        match action {
            Quit | Help | Back | Up | Down | Left | Right | PageUp | PageDown | Top | Bottom
            | Open | NextTab | PrevTab | Pause | PauseFleet | Reassign | Edit | NewTask
            | Replan | Drop | Retry | Approve | RequestChanges | Reject | Update | Resolve
            | ResolveShell | Budget | FleetBudget | Search | SearchNext | SearchPrev | Follow
            | OlderAttempt | NewerAttempt | ToggleFold | VerifyOutput | ToggleSplit | NextHunk
            | PrevHunk | NextFile | PrevFile | ScrollLeft | ScrollRight | Save | Yes | No
            | Goal | ShowProposal | SupervisorPane | ToggleChange | AllChanges | ExpandChange
            | ConfirmPlan | PlanFeedback | DiscardProposal | MessagesPane | TeamContext
            | FilterTask | Expand | ShowRetired | AddContext | EditContext | RetireContext
            | FanOut | Pick | CandidateDiff | NextComment | PrevComment => {}
        }
        assert_eq!(Action::from_name(&action.to_string()), Some(action));
    }
    assert_eq!(listed.len(), 70);
    assert_eq!(Action::RequestChanges.to_string(), "request_changes");
    for (i, (a, a_keys, a_ctx, _)) in map.bindings().enumerate() {
        assert!(!a_keys.is_empty(), "{a} has a default key");
        for (b, _, b_ctx, _) in map.bindings().skip(i + 1) {
            for ctx in a_ctx.iter().filter(|c| b_ctx.contains(c)) {
                for key in map.keys_in(a, *ctx) {
                    assert!(
                        !map.keys_in(b, *ctx).contains(&key),
                        "{a}/{b}: {key} in {ctx:?}"
                    );
                }
            }
        }
    }
}

fn overrides(pairs: &[(&str, &[&str])]) -> BTreeMap<String, KeysSpec> {
    pairs
        .iter()
        .map(|(action, keys)| {
            let spec = match keys {
                [one] => KeysSpec::One((*one).to_owned()),
                many => KeysSpec::Many(many.iter().map(|k| (*k).to_owned()).collect()),
            };
            ((*action).to_owned(), spec)
        })
        .collect()
}

fn key(text: &str) -> KeyEvent {
    let key = Key::parse(text).expect("key");
    KeyEvent::new(key.code, key.mods)
}

#[test]
fn overrides_replace_every_default_key_of_an_action() {
    let (map, warnings) = Keymap::with_overrides(&overrides(&[
        ("approve", &["ctrl-a"]),
        ("down", &["j", "ctrl-n"]),
        ("quit", &[]),
    ]))
    .expect("valid");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        map.action(Context::Board, &key("ctrl-a")),
        Some(Action::Approve)
    );
    assert_eq!(
        map.action(Context::Diff, &key("ctrl-a")),
        Some(Action::Approve)
    );
    assert_eq!(map.action(Context::Board, &key("a")), None);
    assert_eq!(
        map.action(Context::Info, &key("ctrl-n")),
        Some(Action::Down)
    );
    assert_eq!(map.action(Context::Info, &key("↓")), None);
    assert_eq!(map.action(Context::Board, &key("q")), None);
    assert_eq!(map.key_label(Action::Approve), "ctrl-a");
    assert_eq!(map.key_label(Action::Quit), "—");
    let (same, _) = Keymap::with_overrides(&BTreeMap::new()).expect("empty");
    assert_eq!(
        same.action(Context::Board, &key("a")),
        Some(Action::Approve)
    );
}

#[test]
fn an_override_takes_its_key_from_other_actions_where_they_meet() {
    let (map, warnings) =
        Keymap::with_overrides(&overrides(&[("approve", &["n"]), ("follow", &["g"])]))
            .expect("valid");
    assert_eq!(map.action(Context::Board, &key("n")), Some(Action::Approve));
    assert_eq!(
        map.action(Context::Transcript, &key("n")),
        Some(Action::Approve)
    );
    assert_eq!(map.action(Context::Diff, &key("n")), Some(Action::Approve));
    assert_eq!(
        map.action(Context::Confirm, &key("n")),
        Some(Action::No),
        "not shared"
    );
    // follow applies only in the transcript, so top keeps g elsewhere.
    assert_eq!(
        map.action(Context::Transcript, &key("g")),
        Some(Action::Follow)
    );
    assert_eq!(map.action(Context::Diff, &key("g")), Some(Action::Top));
    assert_eq!(
        map.keys_in(Action::Top, Context::Transcript),
        [Key::parse("home").expect("home")]
    );
    assert!(
        map.keys_in(Action::Top, Context::Board)
            .contains(&Key::parse("g").expect("g"))
    );

    let find = |other: &str| {
        warnings
            .iter()
            .find(|w| w.contains(&format!("`{other}` loses it")))
            .unwrap_or_else(|| panic!("no warning about {other}: {warnings:#?}"))
    };
    let w = find("new_task");
    assert!(
        w.contains("approve") && w.contains("`n`") && w.contains("board"),
        "{w}"
    );
    assert!(w.contains("no key left in board"), "{w}");
    assert!(find("search_next").contains("transcript"));
    assert!(find("next_hunk").contains("diff"));
    let w = find("top");
    assert!(
        w.contains("follow") && w.contains("in transcript,") && !w.contains("no key left"),
        "{w}"
    );
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
}

#[test]
fn override_errors_say_what_is_wrong_and_how_to_fix_it() {
    let err = Keymap::with_overrides(&overrides(&[("aprove", &["a"])])).expect_err("unknown");
    assert!(matches!(err, KeymapError::UnknownAction { .. }));
    let msg = err.to_string();
    for part in [
        "`aprove`",
        "did you mean `approve`",
        "request_changes",
        "page_down",
        "quit",
    ] {
        assert!(msg.contains(part), "{part}: {msg}");
    }

    let err =
        Keymap::with_overrides(&overrides(&[("down", &["j", "ctrl+n"])])).expect_err("bad key");
    let msg = err.to_string();
    for part in [
        "down",
        "`ctrl+n`",
        "ctrl-a",
        "alt-x",
        "shift-tab",
        "pgdn",
        "f5",
        "space",
    ] {
        assert!(msg.contains(part), "{part}: {msg}");
    }

    let err = Keymap::with_overrides(&overrides(&[("approve", &["x"]), ("reject", &["x"])]))
        .expect_err("conflict");
    let msg = err.to_string();
    for part in ["`x`", "`approve`", "`reject`", "board"] {
        assert!(msg.contains(part), "{part}: {msg}");
    }

    // The same key for actions that never meet is fine.
    let (map, warnings) = Keymap::with_overrides(&overrides(&[
        ("search_next", &["m"]),
        ("next_hunk", &["m"]),
    ]))
    .expect("disjoint contexts");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(map.action(Context::Diff, &key("m")), Some(Action::NextHunk));
    assert_eq!(
        map.action(Context::Transcript, &key("m")),
        Some(Action::SearchNext)
    );
}

// ---- help screen ----

fn draw_help(width: u16, height: u16, keymap: &Keymap, scroll: usize) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| help::render(frame, frame.area(), keymap, &Theme::dark(), scroll))
        .expect("draw");
    terminal
}

fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    terminal.backend().to_string()
}

#[test]
fn help_80x24() {
    let terminal = draw_help(80, 24, &Keymap::default(), 0);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_80x24_scrolled_past_the_end_is_clamped() {
    let map = Keymap::default();
    let area = Rect::new(0, 0, 80, 24);
    let max = help::max_scroll(&map, area);
    assert_eq!(max, help::line_count(&map) - 22);
    let end = screen_text(&draw_help(80, 24, &map, max));
    assert_eq!(screen_text(&draw_help(80, 24, &map, usize::MAX)), end);
    insta::assert_snapshot!(end);
}

#[test]
fn help_160x48() {
    let map = Keymap::default();
    // Since the team's keys (issue 10) the help needs 60 rows to fit in
    // two columns; at 48 it scrolls.
    assert!(help::max_scroll(&map, Rect::new(0, 0, 160, 48)) > 0);
    assert_eq!(help::max_scroll(&map, Rect::new(0, 0, 160, 60)), 0);
    let terminal = draw_help(160, 60, &map, 0);
    let text = screen_text(&terminal);
    for (_, _, _, description) in map.bindings() {
        assert!(text.contains(description), "{description} is on screen");
    }
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_shows_keys_taken_by_overrides_per_context() {
    let (map, _) = Keymap::with_overrides(&overrides(&[("follow", &["g"])])).expect("valid");
    let text = screen_text(&draw_help(100, 110, &map, 0)); // one column
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle}: {text}"))
    };
    let under = |heading: &str, binding: &str| {
        let from = at(heading);
        let line = lines[from..].iter().find(|l| l.contains(binding));
        line.unwrap_or_else(|| panic!("{binding} under {heading}: {text}"))
            .to_string()
    };
    assert!(under("│  Diff, info ", "Go to the top").contains("home g "));
    let transcript = under("│  Transcript ", "Go to the top");
    assert!(transcript.contains("home ") && !transcript.contains("home g"));
    assert!(under("│  Transcript ", "Follow new output").contains(" g "));
}

#[test]
fn help_survives_tiny_areas() {
    let map = Keymap::default();
    for (w, h) in [(1, 1), (2, 2), (3, 3), (10, 4), (40, 6), (200, 3)] {
        draw_help(w, h, &map, 7);
    }
    let mut terminal = Terminal::new(TestBackend::new(20, 10)).expect("terminal");
    terminal
        .draw(|frame| {
            help::render(frame, Rect::new(5, 5, 1, 1), &map, &Theme::dark(), 0);
            help::render(frame, Rect::new(0, 0, 0, 0), &map, &Theme::dark(), 0);
            help::render(frame, Rect::new(15, 8, 50, 50), &map, &Theme::dark(), 0);
        })
        .expect("draw");
}

#[test]
fn help_draws_keys_headings_and_frame_in_theme_styles() {
    let theme = Theme::dark();
    let terminal = draw_help(80, 24, &Keymap::default(), 0);
    let buffer = terminal.backend().buffer();
    let cell = |x: u16, y: u16| buffer.cell((x, y)).expect("cell");
    // Row 2 is `│   q            Quit ...`: the key, then its description.
    assert_eq!(cell(5, 2).symbol(), "q");
    assert_eq!(cell(5, 2).fg, theme.key.fg.expect("key colour"));
    assert!(cell(5, 2).modifier.contains(ratatui::style::Modifier::BOLD));
    assert_eq!(cell(18, 2).symbol(), "Q");
    assert_eq!(cell(18, 2).bg, theme.dialog.bg.expect("dialog background"));
    assert_eq!(cell(1, 0).fg, theme.border_focus.fg.expect("border colour"));
}
