//! Every attempt can be read: tool results folded under their line (errors
//! open), unfolding within the memory budget, older attempts picked in the
//! pane, the verify section one key away, worktree paths made relative.

use crossterm::event::KeyCode;

use super::tests::{app_with_lines, id, key, pane, press_search, record, run, screen, scroll};
use super::*;
use crate::agent::Format;
use crate::store::transcript::Stream;
use crate::ui::app::{App, Detail, Intent, Screen, Tab};
use crate::ui::fixture;

/// A tool result whose output has `n` lines `out {i}`.
fn result(ok: bool, n: usize) -> AgentEvent {
    let output: Vec<String> = (0..n).map(|i| format!("out {i}")).collect();
    AgentEvent::ToolResult {
        id: None,
        ok,
        preview: "out 0 …".into(),
        output: output.join("\n"),
    }
}

/// The fixture app in the detail of `api`, whose live attempt 2 ran
/// `cargo test` with `n` lines of output, then said `done`.
fn app_with_result(ok: bool, n: usize) -> App {
    let mut app = fixture::app(80, 24);
    app.screen = Screen::Detail(Detail {
        task: id("api"),
        tab: Tab::Transcript,
        attempt: None,
        scroll: None,
        search: None,
        info_scroll: 0,
    });
    let t = app.model.transcripts.entry((id("api"), 2)).or_default();
    *t = Transcript::default();
    t.push_event(0, &call("Bash", "cargo test"));
    t.push_event(0, &result(ok, n));
    t.push_event(
        0,
        &AgentEvent::Message {
            text: "done".into(),
        },
    );
    app
}

fn call(name: &str, arg: &str) -> AgentEvent {
    AgentEvent::ToolCall {
        id: None,
        name: name.into(),
        arg: arg.into(),
    }
}

/// The transcript rows on screen, trimmed.
fn rows(app: &App) -> Vec<String> {
    let body = crate::ui::layout::detail_body(app.area());
    let s = screen(app);
    s[body.y as usize..(body.y + body.height) as usize]
        .iter()
        .map(|r| {
            let r = r.trim();
            match r.split_once(' ') {
                Some((stamp, text)) if is_stamp(stamp) => text.trim().to_owned(),
                _ => r.to_owned(),
            }
        })
        .collect()
}

/// `m:ss`, the time stamp of a line.
fn is_stamp(s: &str) -> bool {
    s.split_once(':').is_some_and(|(m, ss)| {
        !m.is_empty() && ss.len() == 2 && (m.chars().chain(ss.chars())).all(|c| c.is_ascii_digit())
    })
}

#[test]
fn a_tool_result_is_folded_to_one_line_and_enter_unfolds_it_in_place() {
    let mut app = app_with_result(true, 143);
    let shown = rows(&app);
    assert_eq!(shown[1], "▸ Bash cargo test");
    assert_eq!(shown[2], "+ out 0 … (143 lines)");
    assert_eq!(shown[3], "done");
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    let t = &app.model.transcripts[&(id("api"), 2)];
    assert_eq!(
        t.folds().all(),
        [Fold {
            header: 1,
            end: 145,
            open: true
        }]
    );
    // Following: the end of the output is on screen, above `done`.
    let shown = rows(&app);
    let last = shown.iter().rposition(|r| !r.is_empty()).unwrap();
    assert_eq!(shown[last], "done");
    assert_eq!(shown[last - 1], "out 142");
    key(&mut app, KeyCode::Char('g'));
    let shown = rows(&app);
    assert_eq!(shown[2], "- out 0 … (143 lines)");
    assert_eq!(shown[3], "out 0");
    assert_eq!(shown[4], "out 1");
    key(&mut app, KeyCode::Enter);
    assert_eq!(rows(&app)[3], "done", "folded again");
}

#[test]
fn a_search_that_lands_in_a_folded_output_unfolds_it() {
    let mut app = app_with_result(true, 143);
    press_search(&mut app, "out 77");
    let t = &app.model.transcripts[&(id("api"), 2)];
    assert!(t.folds().all()[0].open);
    assert!(
        rows(&app).contains(&"out 77".to_owned()),
        "{:#?}",
        rows(&app)
    );
}

#[test]
fn errors_are_unfolded_by_default() {
    let app = app_with_result(false, 5);
    let shown = rows(&app);
    assert_eq!(shown[2], "- out 0 … (5 lines)");
    assert_eq!(
        &shown[3..9],
        ["out 0", "out 1", "out 2", "out 3", "out 4", "done"]
    );
}

#[test]
fn moving_skips_folded_lines_and_the_bottom_counts_shown_lines() {
    let mut f = Folds::default();
    // 0 call, 1 result, 2..12 its output, 12 message, 13 result, 14..16 output (error).
    let kinds = [LineKind::Tool, LineKind::ToolOk]
        .into_iter()
        .chain([LineKind::ToolOutput; 10])
        .chain([LineKind::Message, LineKind::ToolError])
        .chain([LineKind::ToolOutput; 2]);
    for (i, k) in kinds.enumerate() {
        f.push(i, k);
    }
    let len = 16;
    assert_eq!(f.rows(0, 5, len), [0, 1, 12, 13, 14]);
    assert_eq!(f.shown(5), 1);
    assert_eq!(f.step(0, 2, len), 12);
    assert_eq!(f.step(12, -1, len), 1);
    assert_eq!(f.bottom(4, len), 12);
    assert_eq!(f.shown_between(0, 16), 6);
    assert!(f.toggle(1));
    assert_eq!(f.rows(0, 4, len), [0, 1, 2, 3]);
    assert_eq!(f.shown_between(0, 16), 16);
    assert!(!f.toggle(2), "not a result line");
}

#[test]
fn a_huge_folded_result_unfolds_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lines(dir.path(), 0, usize::MAX);
    let (task, n) = (id("api"), 2);
    app.model
        .transcripts
        .insert((task.clone(), n), Transcript::default());
    let lines = 40_000;
    let output: Vec<String> = (0..lines)
        .map(|i| format!("test case {i} ... ok"))
        .collect();
    let result = serde_json::json!({"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": output.join("\n"), "is_error": false}
    ]}});
    let call = serde_json::json!({"type": "assistant", "message": {"id": "m1", "content": [
        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo test"}}
    ]}});
    let out = [
        (Stream::Out, call.to_string()),
        (Stream::Out, result.to_string()),
        (Stream::Fleet, "agent says done".to_owned()),
    ];
    record(&mut app.model, &task, n, Format::Claude, &out);
    let t = &app.model.transcripts[&(task.clone(), n)];
    assert_eq!(t.len(), lines + 3);
    // Following shows the result's line, which left the tail: it is read.
    let intents = app.pending_loads();
    run(&mut app, intents);
    assert!(
        rows(&app).contains(&"+ test case 0 ... ok … (40000 lines)".to_owned()),
        "{:#?}",
        rows(&app)
    );
    let intents = key(&mut app, KeyCode::Enter);
    run(&mut app, intents);
    if let Screen::Detail(d) = &mut app.screen {
        d.scroll = Some(30_000);
    }
    let intents = app.pending_loads();
    assert!(!intents.is_empty(), "the middle of the output is read");
    run(&mut app, intents);
    let shown = rows(&app);
    assert_eq!(shown[1], "test case 29998 ... ok");
    let t = &app.model.transcripts[&(task, n)];
    assert!(t.held() <= TAIL_LINES + WINDOW_LINES, "{} lines", t.held());
    assert!(t.held_bytes() <= TAIL_BYTES + WINDOW_BYTES);
    assert_eq!(scroll(&app), Some(30_000));
    // Down moves one shown line.
    let intents = key(&mut app, KeyCode::Char('j'));
    run(&mut app, intents);
    assert_eq!(rows(&app)[1], "test case 29999 ... ok");
    assert!(pane(&app) > 3);
}

/// Carries out the reads of a whole transcript file an intent asks for.
fn load(app: &mut App, intents: Vec<Intent>) {
    for intent in intents {
        if let Intent::LoadTranscript { task, attempt, rel } = intent {
            let t = load_transcript(&app.model.fleet_dir(), &rel).unwrap();
            app.model.set_transcript(task, attempt, t);
        }
    }
}

#[test]
fn an_older_attempt_is_picked_in_the_pane_and_its_verify_output_is_one_key_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lines(dir.path(), 30, usize::MAX);
    let task = id("api");
    // Attempt 1 ran before the cockpit watched: only its file is there.
    let mut other = super::tests::model_in(dir.path());
    let mut out: Vec<(Stream, String)> = (0..40)
        .map(|i| (Stream::Out, format!("first try {i}")))
        .collect();
    out.push((Stream::Fleet, "verify: cargo test".into()));
    out.push((Stream::Verify, "test parse ... FAILED".into()));
    out.push((Stream::Fleet, "verify failed".into()));
    other
        .transcripts
        .insert((task.clone(), 1), Transcript::default());
    record(&mut other, &task, 1, Format::Text, &out);
    app.model.transcripts.remove(&(task.clone(), 1));
    app.model.complete.remove(&(task.clone(), 1));
    let header = |app: &App| rows(app)[0].clone();
    assert!(header(&app).starts_with("attempt 2 of 2 · codex · running"));

    let intents = key(&mut app, KeyCode::Char('['));
    assert!(
        intents
            .iter()
            .any(|i| matches!(i, Intent::LoadTranscript { attempt: 1, .. })),
        "{intents:?}"
    );
    load(&mut app, intents);
    let h = header(&app);
    assert!(
        h.starts_with("attempt 1 of 2 (older) · codex · verify"),
        "{h}"
    );
    assert!(
        rows(&app).contains(&"test parse ... FAILED".to_owned()),
        "{:#?}",
        rows(&app)
    );
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(rows(&app)[1], "first try 0");
    key(&mut app, KeyCode::Char('v'));
    let shown = rows(&app);
    let v = shown
        .iter()
        .position(|r| r == "verify: cargo test")
        .unwrap();
    assert_eq!(shown[v + 1], "test parse ... FAILED");
    key(&mut app, KeyCode::Char('['));
    assert_eq!(
        app.toast.as_ref().unwrap().text,
        "this is the task's first attempt"
    );

    key(&mut app, KeyCode::Char(']'));
    let Screen::Detail(d) = &app.screen else {
        panic!()
    };
    assert_eq!((d.attempt, d.scroll), (None, None), "the newest follows");
    assert!(header(&app).starts_with("attempt 2 of 2"));
    key(&mut app, KeyCode::Char('v'));
    assert_eq!(
        app.toast.as_ref().unwrap().text,
        "attempt 2 has no verify output (its gate did not run)"
    );
}

#[test]
fn paths_inside_the_worktree_are_shown_relative_to_it() {
    let mut app = app_with_result(true, 0);
    let wt = app.model.root.join(".fleet/worktrees/api");
    let t = app.model.transcripts.get_mut(&(id("api"), 2)).unwrap();
    t.push_event(0, &call("Write", &format!("{}/src/lib.rs", wt.display())));
    t.push_event(
        0,
        &AgentEvent::Error {
            text: format!("error: {}/src/lib.rs:3:1: expected `;`", wt.display()),
        },
    );
    let shown = rows(&app);
    assert!(
        shown.contains(&"▸ Write src/lib.rs".to_owned()),
        "{shown:?}"
    );
    assert!(shown.contains(&"error: src/lib.rs:3:1: expected `;`".to_owned()));
}

/// One failing command of each JSON format, as its CLI prints it.
const FAILING: &[(Format, &str)] = &[
    (
        Format::Claude,
        r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"error[E0425]: x\n  --> src/lib.rs:1\nerror: could not compile","is_error":true}]}}"#,
    ),
    (
        Format::Codex,
        r#"{"type":"item.completed","item":{"id":"i","type":"command_execution","command":"cargo test","aggregated_output":"error[E0425]: x\n  --> src/lib.rs:1\nerror: could not compile\n","exit_code":101,"status":"failed"}}"#,
    ),
    (
        Format::Gemini,
        r#"{"type":"tool_result","tool_id":"t","status":"error","output":"error[E0425]: x\n  --> src/lib.rs:1\nerror: could not compile"}"#,
    ),
    (
        Format::Opencode,
        r#"{"type":"tool_use","part":{"type":"tool","tool":"bash","callID":"c","state":{"status":"completed","input":{"command":"cargo test"},"output":"error[E0425]: x\n  --> src/lib.rs:1\nerror: could not compile","metadata":{"exit":101}}}}"#,
    ),
];

#[test]
fn a_failed_command_of_every_cli_shows_its_whole_output_unfolded() {
    for (format, line) in FAILING {
        let mut parser = crate::agent::parser_for(*format);
        let mut t = Transcript::default();
        for e in parser.line(line) {
            t.push_event(0, &e);
        }
        let fold = *t
            .folds()
            .all()
            .last()
            .unwrap_or_else(|| panic!("{format:?}"));
        assert!(fold.open, "{format:?}");
        let body: Vec<&str> = fold.body().map(|i| t.get(i).unwrap().text.trim()).collect();
        assert_eq!(
            body,
            [
                "error[E0425]: x",
                "--> src/lib.rs:1",
                "error: could not compile"
            ],
            "{format:?}"
        );
        assert_eq!(t.get(fold.header).unwrap().kind, LineKind::ToolError);
    }
}

#[test]
fn the_pane_with_folded_and_unfolded_results() {
    let mut app = app_with_result(true, 4);
    let t = app.model.transcripts.get_mut(&(id("api"), 2)).unwrap();
    t.push_event(0, &call("Bash", "cargo clippy"));
    t.push_event(0, &result(false, 3));
    let draw = |app: &App| screen(app).join("\n");
    insta::assert_snapshot!("transcript_folded_and_an_error_open", draw(&app));
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("transcript_both_unfolded", draw(&app));
}
