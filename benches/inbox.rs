//! Inbox benchmark: 10,000 messages from 50 agents (50 writer threads of
//! 200 messages each, written while no engine runs), then the time the
//! real engine takes to ingest them all at its start: read, check,
//! number, route, record each in the event log, remove the file.
//! Reported as messages per second (criterion's throughput).
//!
//! Run with `cargo bench --bench inbox`.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleetdeck::runtime::{Engine, EngineOptions, inbox};

const AGENTS: usize = 50;
const PER_AGENT: usize = 200;

/// A repository with one commit and a fleet of `AGENTS` tasks, paused so
/// that no agent starts: only the inbox is taken.
fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo = git2::Repository::init_opts(dir.path(), &opts).expect("git init");
    let mut toml = String::from(
        "[verify]\ncommands = [\"true\"]\n[agents.sim]\ncommand = [\"fleetdeck\", \"sim-agent\", \"{prompt}\"]\nformat = \"claude\"\n",
    );
    for a in 0..AGENTS {
        toml.push_str(&format!(
            "\n[[task]]\nid = \"t{a}\"\ntitle = \"Task {a}\"\nagent = \"sim\"\nprompt = \"say hi\"\n"
        ));
    }
    std::fs::write(dir.path().join("fleet.toml"), toml).expect("fleet.toml");
    let mut index = repo.index().expect("index");
    index
        .add_path(Path::new("fleet.toml"))
        .expect("add fleet.toml");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::now("Bench", "bench@example.com").expect("signature");
    repo.commit(Some("HEAD"), &sig, &sig, "initial\n", &tree, &[])
        .expect("commit");
    let fleet_dir = dir.path().join(".fleet");
    std::fs::create_dir_all(&fleet_dir).expect(".fleet");
    let store = fleetdeck::store::Store::open(&fleet_dir).expect("store");
    store.set_fleet_paused(true).expect("paused");
    dir
}

/// 10,000 messages from 50 writer threads at once.
fn write_messages(fleet_dir: &Path) {
    let threads: Vec<_> = (0..AGENTS)
        .map(|a| {
            let fleet_dir = fleet_dir.to_owned();
            std::thread::spawn(move || {
                for i in 0..PER_AGENT {
                    let entry = inbox::Entry {
                        kind: if i % 10 == 0 { "decision" } else { "progress" }.into(),
                        task: format!("t{a}"),
                        attempt: 1,
                        text: format!("agent {a}, message {i}"),
                        time_ms: fleetdeck::store::now_ms(),
                        paths: Vec::new(),
                        command: None,
                    };
                    inbox::write(&fleet_dir, &entry).expect("an inbox write");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a writer");
    }
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("inbox");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements((AGENTS * PER_AGENT) as u64));
    group.bench_function("ingest 10,000 messages from 50 agents", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = fleet();
                let fleet_dir = dir.path().join(".fleet");
                write_messages(&fleet_dir);
                let mut engine =
                    Engine::open(dir.path(), EngineOptions::default()).expect("an engine");
                let start = Instant::now();
                rt.block_on(engine.run(true));
                total += start.elapsed();
                let left = inbox::pending(&inbox::dir(&fleet_dir)).len();
                assert_eq!(left, 0, "every message taken");
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
