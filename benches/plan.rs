//! Plan benchmarks: validating a 1,000-task plan, diffing it against the
//! current plan, and drawing the first 24 lines of its graph (target: all
//! well under 10 ms).
//!
//! Run with `cargo bench --bench plan`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::core::plan::validate;
use fleetdeck::core::plan_diff::PlanDiff;
use fleetdeck::core::plan_graph::{proposed_tasks, render_graph};
use fleetdeck::core::supervisor::{Origin, Proposal, Trigger, rules};
use fleetdeck::core::{Task, TaskId, TaskSpec};

fn spec(i: usize) -> TaskSpec {
    // Each task depends on up to three earlier ones: a wide, deep graph.
    let deps = [1, 7, 31]
        .iter()
        .filter(|&&k| i >= k)
        .map(|k| TaskId::parse(&format!("t{}", i - k)).expect("an id"))
        .collect();
    TaskSpec {
        deps,
        ..TaskSpec::new(
            TaskId::parse(&format!("t{i}")).expect("an id"),
            format!("Task number {i}"),
            format!("Implement part {i} of the system, with tests."),
            "sim",
        )
    }
}

fn benches(c: &mut Criterion) {
    let current: Vec<Task> = (0..1000).map(|i| Task::new(spec(i))).collect();
    // Every 10th task's prompt rewritten, every 100th dropped (t99, t199...), 50 added.
    let mut proposed: Vec<TaskSpec> = (0..1000)
        .filter(|i| i % 100 != 99)
        .map(|i| {
            let mut s = spec(i);
            if i % 10 == 0 {
                s.prompt.push_str(" Rewritten.");
            }
            s
        })
        .collect();
    proposed.extend((1000..1050).map(spec));
    // Dependencies on the dropped tasks go too (a valid plan).
    let dropped = |d: &TaskId| d.as_str().ends_with("99");
    for s in &mut proposed {
        s.deps.retain(|d| !dropped(d));
    }
    assert!(validate(&proposed, &|a| a == "sim").is_ok(), "a valid plan");
    let sim = |agent: &str| agent == "sim";

    c.bench_function("plan/validate_1000", |b| {
        b.iter(|| black_box(validate(black_box(&proposed), &sim)))
    });
    c.bench_function("plan/diff_1000", |b| {
        b.iter(|| black_box(PlanDiff::between(black_box(&current), black_box(&proposed))))
    });
    // The supervisor's replan of the same: the proposal's rules (kept
    // work, actions, decision kinds) on top of the diff.
    let proposal = Proposal {
        id: 1,
        origin: Origin::Supervisor,
        trigger: Trigger::Goal { goal: "g".into() },
        reasoning: None,
        specs: proposed.clone(),
        actions: Vec::new(),
        warnings: Vec::new(),
    };
    c.bench_function("plan/proposal_diff_kinds_1000", |b| {
        b.iter(|| {
            let diff = rules::diff(black_box(&current), black_box(&proposal));
            let kinds = rules::kinds(&diff, &proposal.trigger);
            black_box((diff, kinds))
        })
    });
    c.bench_function("plan/validate_diff_graph24_1000", |b| {
        b.iter(|| {
            let ok = validate(&proposed, &sim).is_ok();
            let diff = PlanDiff::between(&current, &proposed);
            let tasks = proposed_tasks(&current, &proposed);
            let lines = render_graph(&tasks, &diff.changed_tasks(), 80, 24);
            black_box((ok, diff, lines))
        })
    });
}

criterion_group!(plan, benches);
criterion_main!(plan);
