//! Reading and validating a 1,000-task planner answer (target: under 10 ms):
//! a fenced JSON block in prose, extracted, checked with the plan rules and
//! turned into specs, with file-overlap warnings computed.

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::core::planner::{PlanAnswer, PlannedTask, extract, validate};

/// 1,000 tasks in layers of 10, each depending on two tasks of the layer
/// before; neighbours of a layer share a file (500 warnings).
fn answer_text(n: usize) -> String {
    let tasks = (0..n)
        .map(|i| {
            let agent = if i % 3 == 0 { "claude" } else { "sim" };
            let mut t = PlannedTask::new(
                format!("t{i}"),
                format!("Task {i}"),
                format!("Implement part {i} of the feature and its tests."),
                agent,
            );
            if i >= 10 {
                t.deps = vec![
                    format!("t{}", i - 10),
                    format!("t{}", (i / 10 - 1) * 10 + (i + 1) % 10),
                ];
            }
            t.role = Some("implementer".into());
            t.files = vec![
                format!("src/col{}.rs", i % 10),
                format!("src/pair{}.rs", i / 2),
            ];
            t.acceptance = vec![format!("part {i} is tested")];
            t
        })
        .collect();
    let json = serde_json::to_string(&PlanAnswer {
        tasks,
        notes: None,
        actions: vec![],
    })
    .unwrap();
    format!("Here is the plan.\n\n```json\n{json}\n```\n")
}

fn bench(c: &mut Criterion) {
    let text = answer_text(1000);
    let agents = vec!["claude".to_owned(), "sim".to_owned()];
    let roles = vec!["implementer".to_owned()];
    c.bench_function("planner/extract_and_validate_1000", |b| {
        b.iter(|| {
            let plan = extract(&text).unwrap();
            validate(&plan, &agents, &roles, &[]).unwrap().specs.len()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
