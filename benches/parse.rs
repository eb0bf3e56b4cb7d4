//! Agent output parsing throughput on one core (target: ≥ 100 MB/s), on the
//! recorded Claude and Codex streams repeated to a few megabytes.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleetdeck::agent::{Format, parser_for};

fn corpus(file: &str, bytes: usize) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/agents")
        .join(file);
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let mut out = Vec::new();
    let mut size = 0;
    while size < bytes {
        for l in &lines {
            size += l.len() + 1;
            out.push((*l).to_owned());
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    for (name, file, format) in [
        ("claude_stream_json", "claude-stream.jsonl", Format::Claude),
        ("codex_json", "codex-stream.jsonl", Format::Codex),
    ] {
        let lines = corpus(file, 4 << 20);
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        let mut group = c.benchmark_group("parse");
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut parser = parser_for(format);
                let mut events = 0;
                for l in &lines {
                    events += parser.line(l).len();
                }
                events
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
