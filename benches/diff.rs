//! Diff viewer benchmarks: building the model of a large diff, and drawing
//! one 160x48 frame in the middle of it (budget: under 4 ms per frame).
//!
//! Run with `cargo bench --bench diff`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use fleetdeck::git::FileChange;
use fleetdeck::ui::diff::DiffModel;
use fleetdeck::ui::theme::Theme;
use fleetdeck::ui::views::diff::{DiffView, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A 60,000-line file and a copy with scattered edits: every 8th line
/// rewritten (a word changed), every 45th deleted, a line inserted every
/// 50. Nearly every line ends up in a hunk: about 68,000 unified rows,
/// more than the 50,000-line diff the budget is stated for.
fn synthetic() -> Vec<FileChange> {
    let mut old = String::new();
    let mut new = String::new();
    for i in 0..60_000 {
        let line = format!("    let value_{i} = compute(input_{i}, {i}) + offset; // step {i}\n");
        old.push_str(&line);
        if i % 45 == 7 {
            continue;
        }
        if i % 8 == 3 {
            new.push_str(&line.replace("compute", "evaluate"));
        } else {
            new.push_str(&line);
        }
        if i % 50 == 20 {
            new.push_str(&format!("    trace!(\"checkpoint {i}\");\n"));
        }
    }
    vec![FileChange {
        path: "src/generated.rs".to_owned(),
        old_path: None,
        old: Some(old),
        new: Some(new),
        binary: false,
    }]
}

fn benches(c: &mut Criterion) {
    let changes = synthetic();
    let model = DiffModel::new(changes.clone());
    let rows = model.layout(false).len();
    eprintln!(
        "synthetic diff: {rows} unified rows, {} side-by-side rows, {} hunks, +{} -{}",
        model.layout(true).len(),
        model.hunks().len(),
        model.files()[0].added,
        model.files()[0].removed
    );

    c.bench_function("diff/model_build_60k_lines", |b| {
        b.iter_batched(
            || changes.clone(),
            |changes| black_box(DiffModel::new(changes)),
            BatchSize::LargeInput,
        );
    });

    let theme = Theme::default();
    for (name, split) in [
        ("diff/frame_160x48_unified_middle", false),
        ("diff/frame_160x48_split_middle", true),
    ] {
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");
        let middle = model.layout(split).len() / 2;
        let mut view = DiffView {
            split,
            scroll: middle,
            height: 46,
            ..DiffView::new()
        };
        // Alternate between two positions half a page apart, so that every
        // frame changes the whole screen and is flushed to the backend.
        let mut flip = false;
        c.bench_function(name, |b| {
            b.iter(|| {
                flip = !flip;
                view.scroll = middle + if flip { 23 } else { 0 };
                terminal
                    .draw(|frame| render(frame, frame.area(), &model, &view, &theme))
                    .expect("draw");
            });
        });
    }
}

criterion_group!(diff, benches);
criterion_main!(diff);
