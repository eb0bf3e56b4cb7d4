//! Memory held by the cockpit's read model while agents print: fifty
//! attempts each receiving 10 MB of Claude stream-json (the recorded
//! `claude-stream.jsonl` repeated), parsed by the Claude parser and applied
//! to [`Model::apply`] as live notifications, interleaved as real agents are.
//!
//! Memory is measured by a counting global allocator (bytes currently
//! allocated through it), so the numbers are the model's real heap, not an
//! estimate. The first agent's output also goes to a real transcript file,
//! which is then read back as the cockpit does when the user scrolls up or
//! searches: time and peak memory of each read. Run with
//! `cargo bench --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Instant;

use fleetdeck::agent::{Format, OutputParser, parser_for};
use fleetdeck::core::{Actor, Event, TaskId};
use fleetdeck::runtime::{Notification, Snapshot};
use fleetdeck::store::transcript::{Header, Stream, Writer, relative_path};
use fleetdeck::ui::model::{
    LinesRequest, Model, SearchRequest, load_transcript, read_lines, search_lines,
};

/// Counts the bytes currently allocated and the peak since the last reset.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const AGENTS: usize = 50;
const BYTES_PER_AGENT: usize = 10 << 20;

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
}

fn fixture() -> Vec<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents/claude-stream.jsonl");
    let text = std::fs::read_to_string(path).expect("the Claude fixture");
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Plain output such as a build log: ~80-byte lines, each one display line.
fn build_log() -> Vec<String> {
    (0..100)
        .map(|i| {
            format!("   Compiling crate-{i:03} v0.{i}.0 (/home/dev/work/repo1/crates/crate-{i:03})")
        })
        .collect()
}

fn model(root: PathBuf) -> Model {
    Model::new(Snapshot {
        root,
        target: "main".into(),
        tasks: Vec::new(),
        fleet_paused: false,
        agents: vec!["agent".into()],
        max_parallel: AGENTS,
        attempts: Vec::new(),
        budget: Default::default(),
        stall_secs: Default::default(),
        supervisor: None,
        proposals: Vec::new(),
        supervisor_history: Vec::new(),
        supervisor_lines: Vec::new(),
        messages: Vec::new(),
        context: Vec::new(),
    })
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let model = feed(dir.path(), "Claude stream-json", Format::Claude, &fixture());
    read_back(&model, &TaskId::parse("t0").expect("a task id"));
    drop(model);
    let dir = tempfile::tempdir().expect("a temporary directory");
    feed(dir.path(), "plain text", Format::Text, &build_log());
}

/// Fifty agents print `lines` over and over, round-robin, until each has
/// printed 10 MB; the first one's output also goes to its transcript file.
fn feed(root: &std::path::Path, what: &str, format: Format, lines: &[String]) -> Model {
    let round: usize = lines.iter().map(|l| l.len() + 1).sum();
    let tasks: Vec<TaskId> = (0..AGENTS)
        .map(|i| TaskId::parse(&format!("t{i}")).expect("a task id"))
        .collect();
    let mut parsers: Vec<Box<dyn OutputParser>> = (0..AGENTS).map(|_| parser_for(format)).collect();
    let mut model = model(root.to_owned());
    let header = Header {
        task: "t0".into(),
        attempt: 1,
        agent: "agent".into(),
        format,
        argv: Vec::new(),
        started_ms: 0,
    };
    let path = model.fleet_dir().join(relative_path("t0", 1));
    let mut file = Writer::create(&path, &header).expect("a transcript");
    for task in &tasks {
        model.apply(Notification::Event {
            actor: Actor::Engine,
            event: Event::AgentStarted {
                task: task.clone(),
                attempt: 1,
                agent: "agent".into(),
            },
        });
    }
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    let (mut fed, mut events) = (0usize, 0usize);
    while fed < BYTES_PER_AGENT {
        for (i, (task, parser)) in tasks.iter().zip(parsers.iter_mut()).enumerate() {
            for line in lines {
                if i == 0 {
                    file.line(Stream::Out, line).expect("a transcript line");
                }
                for event in parser.line(line) {
                    events += 1;
                    model.apply(Notification::Agent {
                        task: task.clone(),
                        attempt: 1,
                        event,
                    });
                }
            }
        }
        fed += round;
    }
    let elapsed = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let held = CURRENT.load(Ordering::Relaxed) - base;
    let shown: usize = tasks
        .iter()
        .filter_map(|t| model.transcripts.get(&(t.clone(), 1)))
        .map(|t| t.len())
        .sum();
    println!(
        "{AGENTS} agents x {} of {what} ({} in all, {events} events, {shown} display lines) in {elapsed:.2?}",
        mb(fed),
        mb(fed * AGENTS),
    );
    println!(
        "  model memory growth: peak {}, held at the end {}",
        mb(peak),
        mb(held)
    );
    model
}

/// Times a read of the transcript file and the memory it needs on top of
/// what is held.
fn measure<T>(what: &str, read: impl FnOnce() -> std::io::Result<T>) -> Option<T> {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    let out = read();
    let elapsed = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    match out {
        Ok(out) => {
            println!("  {what}: {elapsed:.1?}, peak {}", mb(peak));
            Some(out)
        }
        Err(e) => {
            println!("  {what}: {e}");
            None
        }
    }
}

/// The first agent's transcript (10 MB) read back as the cockpit does.
fn read_back(model: &Model, task: &TaskId) {
    let Some(t) = model.transcripts.get(&(task.clone(), 1)) else {
        return;
    };
    let rel = relative_path(task.as_str(), 1)
        .to_string_lossy()
        .into_owned();
    let dir = model.fleet_dir();
    let window = |lines: std::ops::Range<usize>| LinesRequest {
        task: task.clone(),
        attempt: 1,
        rel: rel.clone(),
        focus: lines.start,
        lines,
    };
    let size = std::fs::metadata(dir.join(&rel)).map_or(0, |m| m.len() as usize);
    println!(
        "  its first agent's transcript file: {}, {} lines, {} in memory",
        mb(size),
        t.len(),
        t.held()
    );
    let tail = t.tail_start();
    measure("read the first 2,000 lines", || {
        read_lines(&dir, &window(0..2_000))
    });
    measure("read the 2,000 lines above the tail", || {
        read_lines(&dir, &window(tail.saturating_sub(2_000)..tail))
    });
    let hits = measure("search the lines above the tail", || {
        search_lines(
            &dir,
            &SearchRequest {
                task: task.clone(),
                attempt: 1,
                rel: rel.clone(),
                query: "file created".into(),
                upto: tail,
            },
        )
    });
    if let Some(hits) = hits {
        println!("    ({} matching lines)", hits.len());
    }
    measure("read the whole file (an attempt not watched)", || {
        load_transcript(&dir, &rel)
    });
}
