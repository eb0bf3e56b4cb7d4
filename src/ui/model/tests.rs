//! The read model's transcripts: bounded in memory, older lines read back
//! from a real transcript file equal to what arrived live, a view that does
//! not jump, and a search that reaches the file.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::agent::{Format, parser_for};
use crate::store::transcript::{Header, Stream, Writer};
use crate::ui::app::{App, Detail, Intent, Screen, Tab};
use crate::ui::fixture;

#[test]
fn events_become_sanitized_single_lines() {
    let lines = event_lines(&AgentEvent::ToolResult {
        id: None,
        ok: true,
        preview: "a\nb\u{1b}[2J".into(),
        output: String::new(),
    });
    assert_eq!(lines, [(LineKind::ToolOk, "  ↳ a …".to_owned())]);
    let lines = event_lines(&AgentEvent::Message {
        text: "one\ntwo\u{1b}]0;x\u{7}".into(),
    });
    assert_eq!(
        lines,
        [
            (LineKind::Message, "one".to_owned()),
            (LineKind::Message, "two".to_owned())
        ]
    );
    assert!(
        event_lines(&AgentEvent::Usage {
            input_tokens: 1,
            output_tokens: 1,
            cost_usd: None
        })
        .is_empty()
    );
}

pub(super) fn id(s: &str) -> TaskId {
    TaskId::parse(s).unwrap()
}

fn text(i: usize) -> Notification {
    Notification::Agent {
        task: id("api"),
        attempt: 2,
        event: AgentEvent::Text {
            text: format!("line {i}"),
        },
    }
}

#[test]
fn memory_stays_bounded_while_a_million_lines_arrive() {
    let mut m = fixture::model();
    let key = (id("api"), 2);
    m.transcripts.insert(key.clone(), Transcript::default());
    for i in 0..1_000_000 {
        m.apply(text(i));
    }
    let t = &m.transcripts[&key];
    assert_eq!(t.len(), 1_000_000, "every line is counted");
    assert_eq!(t.held(), TAIL_LINES);
    assert_eq!(t.tail_start(), 1_000_000 - TAIL_LINES);
    assert_eq!(t.get(999_999).unwrap().text, "line 999999");
    assert!(t.get(0).is_none(), "the oldest lines are only in the file");
    // Long lines leave sooner: the text held stays within its budget.
    let mut t = Transcript::default();
    for i in 0..10_000 {
        t.push_text(0, LineKind::Text, &format!("{i} {}", "x".repeat(4_000)));
    }
    assert_eq!(t.held(), MIN_TAIL_LINES);
    assert!(t.held_bytes() <= MIN_TAIL_LINES * 4_010);
    let mut t = Transcript::default();
    for i in 0..10_000 {
        t.push_text(0, LineKind::Text, &format!("{i} {}", "x".repeat(500)));
    }
    assert!(t.held_bytes() <= TAIL_BYTES && t.held() < TAIL_LINES);
}

/// Writes a transcript file and feeds the same output to a model live, as
/// the runtime does: stdout lines parsed into events, every other line as a
/// line notification with its stream. Returns every display line that
/// arrived live.
pub(super) fn record(
    m: &mut Model,
    task: &TaskId,
    attempt: u32,
    format: Format,
    out: &[(Stream, String)],
) -> Vec<(LineKind, String)> {
    let path = m.fleet_dir().join(crate::store::transcript::relative_path(
        task.as_str(),
        attempt,
    ));
    let header = Header {
        task: task.to_string(),
        attempt,
        agent: "a".into(),
        format,
        argv: Vec::new(),
        started_ms: 1,
    };
    let mut w = Writer::create(&path, &header).unwrap();
    let mut parser = parser_for(format);
    let mut live = Vec::new();
    let send = |m: &mut Model, live: &mut Vec<_>, event: AgentEvent| {
        live.extend(event_lines(&event));
        m.apply(Notification::Agent {
            task: task.clone(),
            attempt,
            event,
        });
    };
    let mut ended = false;
    for (s, l) in out {
        w.line(*s, l).unwrap();
        if !ended && *s == Stream::Fleet && l.starts_with(crate::store::transcript::AGENT_ENDED) {
            // The agent run sends what its parser held before noting the end.
            ended = true;
            for e in parser.finish() {
                send(m, &mut live, e);
            }
        }
        if *s == Stream::Out {
            for e in parser.line(l) {
                send(m, &mut live, e);
            }
        } else {
            live.extend(text_lines(stream_kind(*s), l));
            m.apply(Notification::Line {
                task: task.clone(),
                attempt,
                stream: *s,
                line: l.clone(),
            });
        }
    }
    live
}

pub(super) fn model_in(dir: &std::path::Path) -> Model {
    let mut m = fixture::model();
    m.root = dir.to_owned();
    m
}

fn read_all(m: &Model, task: &TaskId, attempt: u32) -> Vec<(LineKind, String)> {
    let t = &m.transcripts[&(task.clone(), attempt)];
    let mut out = Vec::new();
    let mut at = 0;
    while at < t.len() {
        let request = LinesRequest {
            task: task.clone(),
            attempt,
            rel: crate::store::transcript::relative_path(task.as_str(), attempt)
                .to_string_lossy()
                .into_owned(),
            lines: at..(at + 1_500).min(t.len()),
            focus: at,
        };
        let w = read_lines(&m.fleet_dir(), &request).unwrap();
        assert_eq!(w.start, at);
        assert!(!w.lines.is_empty(), "lines from {at}");
        out.extend(w.lines.into_iter().map(|l| (l.kind, l.text)));
        at = out.len();
    }
    out
}

pub(super) fn fixture_lines(name: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/agents")
        .join(name);
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().map(str::to_owned).collect()
}

#[test]
fn lines_read_back_from_the_file_equal_what_arrived_live() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = model_in(dir.path());
    let claude = fixture_lines("claude-stream.jsonl");
    let mut out = Vec::new();
    for round in 0..400 {
        out.extend(claude.iter().map(|l| (Stream::Out, l.clone())));
        out.push((Stream::Err, format!("warning {round}")));
        if round % 50 == 0 {
            out.push((Stream::Fleet, "stopping the agent (SIGTERM)".into()));
        }
    }
    out.push((Stream::Fleet, "agent ended: exit status 0".into()));
    out.push((Stream::Fleet, "verify: cargo test".into()));
    out.extend((0..30).map(|i| (Stream::Verify, format!("test t{i} ... ok"))));
    out.push((Stream::Fleet, "verify: passed".into()));
    let (task, attempt) = (id("api"), 2);
    m.transcripts
        .insert((task.clone(), attempt), Transcript::default());
    let live = record(&mut m, &task, attempt, Format::Claude, &out);
    let t = &m.transcripts[&(task.clone(), attempt)];
    assert_eq!(t.len(), live.len());
    assert!(t.tail_start() > 500, "most lines are only in the file");
    assert_eq!(read_all(&m, &task, attempt), live);
    for (i, expected) in live.iter().enumerate().skip(t.tail_start()) {
        let l = t.get(i).unwrap();
        assert_eq!(&(l.kind, l.text.clone()), expected);
    }
    // An attempt the cockpit did not watch is read whole: the same lines as
    // live; the tail is bounded the same way.
    let whole = load_transcript(&m.fleet_dir(), "runs/api/2.jsonl").unwrap();
    assert_eq!(whole.len(), live.len());
    assert_eq!(whole.held(), TAIL_LINES);
    assert_eq!(whole.get(whole.len() - 1).unwrap().text, "verify: passed");
}

#[test]
fn joined_gemini_messages_read_back_as_they_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = model_in(dir.path());
    let chunk = |text: &str| {
        let text = serde_json::to_string(text).unwrap();
        format!(r#"{{"type":"message","role":"assistant","content":{text},"delta":true}}"#)
    };
    let mut out = vec![(
        Stream::Out,
        r#"{"type":"init","session_id":"s1","model":"gemini"}"#.to_owned(),
    )];
    for i in 0..1_500 {
        out.push((Stream::Out, chunk(&format!("part {i} begins"))));
        out.push((Stream::Out, chunk(&format!(" and ends\nsecond line {i}"))));
        out.push((
            Stream::Out,
            r#"{"type":"tool_use","tool_name":"read_file","tool_id":"t","parameters":{"file_path":"a.rs"}}"#.to_owned(),
        ));
    }
    // Held by the parser until stdout ends.
    out.push((Stream::Out, chunk("the last words")));
    out.push((Stream::Fleet, "agent ended: exit status 0".into()));
    let (task, attempt) = (id("api"), 2);
    m.transcripts
        .insert((task.clone(), attempt), Transcript::default());
    let live = record(&mut m, &task, attempt, Format::Gemini, &out);
    let n = live.len();
    assert_eq!(
        live[n - 2].1,
        "the last words",
        "flushed before the note that the agent ended"
    );
    assert_eq!(
        live[n - 1],
        (LineKind::Fleet, "agent ended: exit status 0".to_owned())
    );
    assert_eq!(live[2], (LineKind::Message, "second line 0".to_owned()));
    assert_eq!(read_all(&m, &task, attempt), live);
}

#[test]
fn a_window_over_its_byte_budget_keeps_the_lines_nearest_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = model_in(dir.path());
    let long = "y".repeat(2_000);
    let out: Vec<_> = (0..3_000)
        .map(|i| (Stream::Out, format!("{i} {long}")))
        .collect();
    let (task, attempt) = (id("api"), 2);
    m.transcripts
        .insert((task.clone(), attempt), Transcript::default());
    record(&mut m, &task, attempt, Format::Text, &out);
    let request = LinesRequest {
        task,
        attempt,
        rel: "runs/api/2.jsonl".into(),
        lines: 0..2_000,
        focus: 1_200,
    };
    let w = read_lines(&m.fleet_dir(), &request).unwrap();
    let bytes: usize = w.lines.iter().map(|l| l.text.len()).sum();
    assert!(bytes <= WINDOW_BYTES, "{bytes}");
    assert!(w.start < 1_200 && w.end() > 1_200);
    assert!(
        w.start.abs_diff(1_200).abs_diff(w.end() - 1_200) <= 1,
        "centred"
    );
    assert_eq!(w.lines[0].text, format!("{} {long}", w.start));
}

/// The fixture app in the detail of `api` (80x24)
/// whose attempt 2 printed `n` lines, one of them `needle` at line `needle`;
/// the transcript file is real.
pub(super) fn app_with_lines(dir: &std::path::Path, n: usize, needle: usize) -> App {
    let mut app = fixture::app(80, 24);
    app.model.root = dir.to_owned();
    let (task, attempt) = (id("api"), 2);
    app.model
        .transcripts
        .insert((task.clone(), attempt), Transcript::default());
    let out: Vec<_> = (0..n)
        .map(|i| {
            let text = if i == needle {
                "a needle in the haystack".to_owned()
            } else {
                format!("line {i}")
            };
            (Stream::Out, text)
        })
        .collect();
    record(&mut app.model, &task, attempt, Format::Text, &out);
    app.screen = Screen::Detail(Detail {
        task,
        tab: Tab::Transcript,
        attempt: None,
        scroll: None,
        search: None,
        info_scroll: 0,
    });
    app
}

/// Carries out reads and searches at once, as the event loop does in the background.
pub(super) fn run(app: &mut App, intents: Vec<Intent>) {
    let dir = app.model.fleet_dir();
    let mut queue = intents;
    let mut steps = 0;
    while let Some(intent) = queue.pop() {
        steps += 1;
        assert!(steps < 10, "reads settle: {intent:?}");
        match intent {
            Intent::LoadLines(r) => {
                let result = read_lines(&dir, &r).map_err(|e| e.to_string());
                app.model.set_lines(&r, result);
                queue.extend(app.pending_loads());
            }
            Intent::SearchTranscript(r) => {
                let result = search_lines(&dir, &r).map_err(|e| e.to_string());
                if let Some(forward) = app.model.set_matches(&r, result) {
                    queue.extend(app.find(forward));
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

pub(super) fn key(app: &mut App, code: KeyCode) -> Vec<Intent> {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn screen(app: &App) -> Vec<String> {
    let (w, h) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| crate::ui::render::render(f, app))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buffer[(x, y)].symbol()).collect::<String>())
        .collect()
}

/// The rows of transcript lines in the transcript pane.
pub(super) fn pane(app: &App) -> usize {
    crate::ui::views::transcript::body_height(
        crate::ui::layout::detail_body(app.area()).height as usize,
    )
}

pub(super) fn scroll(app: &App) -> Option<usize> {
    match &app.screen {
        Screen::Detail(d) => d.scroll,
        _ => None,
    }
}

/// The text of the first transcript line on screen (without its time stamp).
pub(super) fn top_line(app: &App) -> String {
    let y = crate::ui::layout::detail_body(app.area()).y as usize
        + crate::ui::views::transcript::HEADER_ROWS;
    let row = screen(app)[y].trim().to_owned();
    match row.split_once(' ') {
        Some((stamp, text)) if stamp.contains(':') => text.to_owned(),
        _ => row,
    }
}

#[test]
fn scrolling_to_the_top_reads_older_lines_and_shows_loading_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lines(dir.path(), 5_000, usize::MAX);
    assert!(app.pending_loads().is_empty(), "following reads nothing");
    let intents = key(&mut app, KeyCode::Char('g'));
    let [Intent::LoadLines(request)] = intents.as_slice() else {
        panic!("{intents:?}")
    };
    assert_eq!(request.lines, 0..WINDOW_LINES);
    assert_eq!(scroll(&app), Some(0));
    assert!(top_line(&app).contains("loading older lines"));
    assert!(
        key(&mut app, KeyCode::Char('j')).is_empty(),
        "on its way already"
    );
    run(&mut app, intents);
    assert_eq!(top_line(&app), "line 1");
}

#[test]
fn paging_up_from_the_bottom_shows_every_line_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lines(dir.path(), 6_000, usize::MAX);
    let mut reads = 0;
    loop {
        let intents = key(&mut app, KeyCode::PageUp);
        reads += intents.len();
        run(&mut app, intents);
        let top = scroll(&app).unwrap();
        assert_eq!(top_line(&app), format!("line {top}"));
        if top == 0 {
            break;
        }
    }
    // Windows of 2,000 lines read ahead in the direction of travel: 5,000
    // lines above the tail take four reads.
    assert_eq!(reads, 4);
}

#[test]
fn the_view_does_not_jump_while_lines_leave_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lines(dir.path(), 3_000, usize::MAX);
    if let Screen::Detail(d) = &mut app.screen {
        d.scroll = Some(2_500);
    }
    let before = top_line(&app);
    assert_eq!(before, "line 2500");
    // 3,000 more lines: line 2,500 leaves the tail; it was read ahead.
    let mut out = Vec::new();
    for batch in 0..30 {
        for i in 0..100 {
            out.push(format!("line {}", 3_000 + batch * 100 + i));
        }
    }
    let path = app.model.fleet_dir().join("runs/api/2.jsonl");
    let mut w = Writer::open_append(&path).unwrap();
    for (i, l) in out.iter().enumerate() {
        w.line(Stream::Out, l).unwrap();
        app.apply(Notification::Agent {
            task: id("api"),
            attempt: 2,
            event: AgentEvent::Text { text: l.clone() },
        });
        if i % 100 == 99 {
            let intents = app.pending_loads();
            run(&mut app, intents);
            assert_eq!(top_line(&app), before, "after {i}");
        }
    }
    let t = &app.model.transcripts[&(id("api"), 2)];
    assert!(t.tail_start() > 2_600, "line 2,500 left the tail");
    assert_eq!(scroll(&app), Some(2_500));
    assert_eq!(top_line(&app), before);
    assert!(
        screen(&app)
            .iter()
            .any(|r| r.contains(&format!("{} more lines below", 6_000 - pane(&app) - 2_500))),
        "the count below stays right: {:?}",
        screen(&app)
    );
}

#[test]
fn search_finds_a_line_that_is_only_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lines(dir.path(), 5_000, 123);
    assert!(key(&mut app, KeyCode::Char('/')).is_empty());
    let mut intents = Vec::new();
    for c in "Needle".chars() {
        intents.extend(key(&mut app, KeyCode::Char(c)));
    }
    intents.extend(key(&mut app, KeyCode::Enter));
    let [Intent::SearchTranscript(request)] = intents.as_slice() else {
        panic!("{intents:?}")
    };
    assert_eq!((request.query.as_str(), request.upto), ("needle", 4_000));
    assert!(app.toast.as_ref().unwrap().text.starts_with("searching"));
    assert_eq!(scroll(&app), None, "nothing found in memory yet");
    run(&mut app, intents);
    assert_eq!(scroll(&app), Some(123));
    assert!(top_line(&app).contains("needle"), "{}", top_line(&app));
    // The matches are known now: n and N wrap around at once.
    let t = &app.model.transcripts[&(id("api"), 2)];
    assert_eq!(t.matches(123), Some(true));
    assert!(key(&mut app, KeyCode::Char('n')).is_empty());
    assert_eq!(scroll(&app), Some(123));
    key(&mut app, KeyCode::Char('G'));
    assert!(key(&mut app, KeyCode::Char('N')).len() <= 1);
    assert_eq!(scroll(&app), Some(123));
    // A line in the tail is found without the file; a missing one is not found.
    app.apply(Notification::Agent {
        task: id("api"),
        attempt: 2,
        event: AgentEvent::Text {
            text: "another NEEDLE".into(),
        },
    });
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(scroll(&app), Some(5_001 - pane(&app)));
    press_search(&mut app, "nothing like it");
    assert!(app.toast.as_ref().unwrap().text.starts_with("not found"));
}

pub(super) fn press_search(app: &mut App, query: &str) {
    let mut intents = key(app, KeyCode::Char('/'));
    for c in query.chars() {
        intents.extend(key(app, KeyCode::Char(c)));
    }
    intents.extend(key(app, KeyCode::Enter));
    run(app, intents);
}

#[test]
fn a_match_that_leaves_the_tail_during_a_search_is_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lines(dir.path(), 1_000, 10);
    let intents = {
        let mut i = key(&mut app, KeyCode::Char('/'));
        for c in "needle".chars() {
            i.extend(key(&mut app, KeyCode::Char(c)));
        }
        i.extend(key(&mut app, KeyCode::Enter));
        i
    };
    assert!(intents.is_empty(), "everything is in memory");
    assert_eq!(scroll(&app), Some(10));
    // Line 10 leaves the tail; the search remembers it as it goes.
    for i in 0..2_000 {
        app.apply(text(i));
    }
    key(&mut app, KeyCode::Char('G'));
    let intents = key(&mut app, KeyCode::Char('n'));
    assert_eq!(scroll(&app), Some(10));
    let t = app.model.transcripts.values().next().unwrap();
    let brute = (0..t.len()).filter(|i| t.matches(*i) == Some(true)).count();
    assert_eq!(t.match_counts(None).map(|c| c.0), Some(brute));
    run(&mut app, intents);
    assert!(top_line(&app).contains("needle"));
}

#[test]
fn a_cut_transcript_reads_back_with_its_head_the_cut_and_its_tail() {
    let dir = tempfile::tempdir().unwrap();
    let rel = "runs/t/1.jsonl";
    let header = Header {
        task: "t".into(),
        attempt: 1,
        agent: "a".into(),
        format: Format::Text,
        argv: Vec::new(),
        started_ms: 1,
    };
    let mut w = Writer::create_capped(&dir.path().join(rel), &header, 64 * 1024).unwrap();
    for i in 0..2_000 {
        w.line(
            Stream::Out,
            &format!("line {i} of a burst ..................."),
        )
        .unwrap();
    }
    w.line(Stream::Fleet, "agent ended: exit code 0").unwrap();
    drop(w);
    let whole = load_transcript(dir.path(), rel).unwrap();
    let request = LinesRequest {
        task: TaskId::parse("t").unwrap(),
        attempt: 1,
        rel: rel.into(),
        lines: 0..whole.len(),
        focus: 0,
    };
    let lines = read_lines(dir.path(), &request).unwrap().lines;
    assert_eq!(lines.len(), whole.len());
    assert_eq!(lines[0].text, "line 0 of a burst ...................");
    let cuts: Vec<&Line> = lines
        .iter()
        .filter(|l| l.text.starts_with(crate::store::transcript::CUT_MARKER))
        .collect();
    assert_eq!(cuts.len(), 1, "one cut note");
    assert_eq!(cuts[0].kind, LineKind::Fleet);
    let n = lines.len();
    assert_eq!(
        lines[n - 2].text,
        "line 1999 of a burst ..................."
    );
    assert_eq!(lines[n - 1].text, "agent ended: exit code 0");
}

#[test]
fn a_fleet_without_attempts_costs_zero_not_minus_zero() {
    let m = Model::new(crate::ui::fixture::empty_snapshot());
    assert_eq!(format!("${:.4}", m.total_cost()), "$0.0000");
}
