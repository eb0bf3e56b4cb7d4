//! Tests of the plan diff and its text (see `plan_diff.rs`, `plan_graph.rs`).

use std::collections::HashSet;

use super::*;
use crate::core::plan_graph::{proposed_tasks, render_diff, render_graph};

fn id(s: &str) -> TaskId {
    TaskId::parse(s).expect("a test id")
}

fn spec(name: &str, deps: &[&str]) -> TaskSpec {
    TaskSpec {
        deps: deps.iter().map(|d| id(d)).collect(),
        ..TaskSpec::new(
            id(name),
            format!("Do {name}"),
            format!("please do {name}"),
            "sim",
        )
    }
}

fn task(name: &str, deps: &[&str], status: Status) -> Task {
    let mut t = Task::new(spec(name, deps));
    t.status = status;
    t
}

fn queued(name: &str, deps: &[&str]) -> Task {
    task(name, deps, Status::Queued { held: false })
}

fn batch(cmd: Command) -> Vec<String> {
    match cmd {
        Command::Batch { commands } => commands.iter().map(Command::describe).collect(),
        other => panic!("not a batch: {other:?}"),
    }
}

#[test]
fn added_and_removed_tasks_in_plan_order() {
    let current = [queued("a", &[]), queued("old", &[])];
    let proposed = [spec("a", &[]), spec("api", &["a"]), spec("web", &["api"])];
    let diff = PlanDiff::between(&current, &proposed);
    assert_eq!(diff.counts(), (2, 1, 0));
    assert_eq!(diff.unchanged, 1);
    let tasks: Vec<&str> = diff.changes.iter().map(|c| c.task().as_str()).collect();
    assert_eq!(tasks, ["api", "web", "old"]);
    assert!(diff.changes.iter().all(|c| c.refused.is_none()));
    assert_eq!(
        batch(diff.commands(&|_| true).expect("a batch")),
        ["add `api`", "add `web`", "drop `old`"]
    );
}

#[test]
fn field_changes_old_to_new_and_the_patch_holds_only_them() {
    let current = [queued("a", &[])];
    let mut new = spec("a", &[]);
    new.title = "New title".into();
    new.agent = "codex".into();
    new.role = Some("tester".into());
    new.priority = 3;
    new.budget_usd = Some(2.5);
    new.merge_style = Some(MergeStyle::Squash);
    new.prompt = "line one\nline two".into();
    new.verify = Some(vec!["cargo test".into(), "cargo fmt --check".into()]);
    new.auto_approve = true;
    new.budget_tokens = Some(5000);
    let diff = PlanDiff::between(&current, &[new]);
    let ChangeKind::Edit {
        fields,
        patch,
        deps_added,
        deps_removed,
        ..
    } = &diff.changes[0].kind
    else {
        panic!("an edit: {diff:?}")
    };
    let got: Vec<(&str, &str, &str)> = fields
        .iter()
        .map(|f| (f.field, f.old.as_str(), f.new.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("title", "Do a", "New title"),
            ("prompt", "please do a", "line one\nline two"),
            ("agent", "sim", "codex"),
            ("role", "none", "tester"),
            ("verify", "default", "cargo test; cargo fmt --check"),
            ("priority", "0", "3"),
            ("auto_approve", "false", "true"),
            ("budget_usd", "default", "$2.5"),
            ("budget_tokens", "default", "5000"),
            ("merge_style", "default", "squash"),
        ]
    );
    assert!(deps_added.is_empty() && deps_removed.is_empty());
    assert_eq!(patch.title.as_deref(), Some("New title"));
    assert_eq!(patch.deps, None, "deps did not change");
    assert_eq!(patch.merge_style, Some(Some(MergeStyle::Squash)));
    assert_eq!(patch.auto_approve, Some(true));
    // The text shows a multi-line value on one line.
    let lines = render_diff(&diff, 80);
    assert!(
        lines.contains(&"    prompt: please do a → line one line two".to_string()),
        "{lines:#?}"
    );
    // Only a changed field is in a patch.
    let mut same = spec("a", &[]);
    same.priority = 9;
    let diff = PlanDiff::between(&[queued("a", &[])], &[same]);
    let ChangeKind::Edit { patch, .. } = &diff.changes[0].kind else {
        panic!("an edit")
    };
    assert_eq!(
        patch,
        &TaskPatch {
            priority: Some(9),
            ..TaskPatch::default()
        }
    );
}

#[test]
fn dependency_changes_per_task_and_reordering_is_no_change() {
    let current = [
        queued("schema", &[]),
        queued("api", &[]),
        queued("docs", &["schema", "api"]),
    ];
    let proposed = [
        spec("schema", &[]),
        spec("api", &[]),
        spec("docs", &["api", "schema"]),
    ];
    assert!(PlanDiff::between(&current, &proposed).is_empty());
    let proposed = [
        spec("schema", &[]),
        spec("api", &[]),
        spec("docs", &["api"]),
    ];
    let mut current2 = current.clone();
    current2[2].spec.deps = vec![id("schema")];
    let diff = PlanDiff::between(&current2, &proposed);
    let ChangeKind::Edit {
        deps_added,
        deps_removed,
        fields,
        patch,
        ..
    } = &diff.changes[0].kind
    else {
        panic!("an edit")
    };
    assert_eq!(deps_added, &[id("api")]);
    assert_eq!(deps_removed, &[id("schema")]);
    assert!(fields.is_empty());
    assert_eq!(patch.deps, Some(vec![id("api")]));
    assert_eq!(render_diff(&diff, 80)[1], "~ edit docs: deps +api −schema");
}

#[test]
fn toggling_a_change_off_leaves_it_out() {
    let current = [queued("a", &[]), queued("old", &[])];
    let mut a = spec("a", &[]);
    a.prompt = "better".into();
    let proposed = [a, spec("extra", &[])];
    let diff = PlanDiff::between(&current, &proposed);
    // 0: edit a, 1: add extra, 2: drop old
    assert_eq!(
        batch(diff.without(&[ChangeId(1)]).expect("a batch")),
        ["edit `a`", "drop `old`"]
    );
    assert_eq!(
        diff.commands(&|_| false),
        Err(DiffError::Empty),
        "nothing on is not an empty batch"
    );
}

#[test]
fn turning_off_an_added_task_that_an_enabled_change_needs_is_refused() {
    let current = [queued("docs", &[])];
    let proposed = [
        spec("api", &[]),
        spec("web", &["api"]),
        spec("docs", &["api"]),
    ];
    let diff = PlanDiff::between(&current, &proposed);
    // 0: add api, 1: add web (needs api), 2: edit docs (adds dep on api)
    let err = diff.without(&[ChangeId(0)]).expect_err("web needs api");
    assert_eq!(
        err.to_string(),
        "change 1 (add `api`) is turned off, but change 2 (add `web`) needs it (it depends on `api`); turn both off or keep both"
    );
    let err = diff
        .without(&[ChangeId(0), ChangeId(1)])
        .expect_err("docs needs api");
    assert!(
        err.to_string()
            .contains("change 3 (edit `docs`) needs it (it adds a dependency on `api`)"),
        "{err}"
    );
    assert_eq!(
        diff.without(&[ChangeId(0), ChangeId(1), ChangeId(2)]),
        Err(DiffError::Empty)
    );
}

#[test]
fn adds_come_after_the_added_tasks_they_depend_on() {
    let proposed = [
        spec("web", &["api"]),
        spec("api", &["schema"]),
        spec("schema", &[]),
    ];
    let diff = PlanDiff::between(&[], &proposed);
    assert_eq!(
        batch(diff.commands(&|_| true).expect("a batch")),
        ["add `schema`", "add `api`", "add `web`"]
    );
}

#[test]
fn drops_come_dependents_first_and_need_the_unlinking_edit() {
    let current = [
        queued("base", &[]),
        queued("mid", &["base"]),
        queued("keep", &["base"]),
    ];
    let proposed = [spec("keep", &[])];
    let diff = PlanDiff::between(&current, &proposed);
    // 0: edit keep (−base), 1: drop base, 2: drop mid
    assert_eq!(
        batch(diff.commands(&|_| true).expect("a batch")),
        ["edit `keep`", "drop `mid`", "drop `base`"]
    );
    let err = diff
        .without(&[ChangeId(0)])
        .expect_err("keep still needs base");
    assert!(
        err.to_string().starts_with(
            "change 1 (edit `keep`) is turned off, but change 2 (drop `base`) needs it (`keep` still depends on `base`)"
        ),
        "{err}"
    );
}

#[test]
fn changes_to_running_and_done_tasks_are_refused_with_the_rule_text() {
    let current = [
        task("run", &[], Status::Running { attempt: 1 }),
        task(
            "fin",
            &[],
            Status::Done {
                commit: "c1".into(),
            },
        ),
        task(
            "gone",
            &[],
            Status::Done {
                commit: "c2".into(),
            },
        ),
        task("merge", &[], Status::Merging { attempt: 1 }),
        task("was", &[], Status::Dropped),
    ];
    let mut run = spec("run", &[]);
    run.prompt = "changed".into();
    let mut fin = spec("fin", &[]);
    fin.title = "reused id".into();
    let proposed = [run, fin, spec("was", &[])];
    let diff = PlanDiff::between(&current, &proposed);
    let got: Vec<(String, Option<String>)> = diff
        .changes
        .iter()
        .map(|c| (c.describe(), c.refused.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "change 1 (edit `run`)".into(),
                Some("task `run` is running: edit needs a task that is queued or failed (not running)".into())
            ),
            (
                "change 2 (edit `fin`)".into(),
                Some("task `fin` is done: edit needs a task that is queued or failed (not running)".into())
            ),
            (
                "change 3 (add `was`)".into(),
                Some("task `was` was dropped; ids stay stable, so a new task needs a new id".into())
            ),
            (
                "change 4 (drop `gone`)".into(),
                Some("task `gone` is done: drop needs a task that is not verifying, updating, merging or finished".into())
            ),
            (
                "change 5 (drop `merge`)".into(),
                Some("task `merge` is merging: drop needs a task that is not verifying, updating, merging or finished".into())
            ),
        ]
    );
    // Refused changes are never part of the batch, even when "on".
    assert_eq!(diff.commands(&|_| true), Err(DiffError::Empty));
    let lines = render_diff(&diff, 80);
    assert!(
        lines.iter().any(|l| l
            == "    refused: task `run` is running: edit needs a task that is queued or failed"),
        "{lines:#?}"
    );
}

#[test]
fn a_change_that_needs_a_refused_one_is_refused() {
    let current = [task("was", &[], Status::Dropped)];
    let proposed = [spec("was", &[]), spec("next", &["was"])];
    let diff = PlanDiff::between(&current, &proposed);
    let err = diff
        .commands(&|_| true)
        .expect_err("next needs the refused add");
    assert!(
        err.to_string()
            .starts_with("change 1 (add `was`) is refused (task `was` was dropped"),
        "{err}"
    );
    assert!(err.to_string().ends_with("turn change 2 off"), "{err}");
}

#[test]
fn a_thousand_task_plan_counts_right() {
    let names: Vec<String> = (0..1000).map(|i| format!("t{i}")).collect();
    let current: Vec<Task> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let deps: Vec<&str> = if i == 0 {
                vec![]
            } else {
                vec![names[i - 1].as_str()]
            };
            queued(n, &deps)
        })
        .collect();
    // Every 10th task edited (prompt), every 100th dropped (its dependent
    // relinked to the one before), 50 tasks added.
    let mut proposed: Vec<TaskSpec> = Vec::new();
    for (i, t) in current.iter().enumerate() {
        if i % 100 == 50 {
            continue;
        }
        let mut s = t.spec.clone();
        if i % 10 == 0 {
            s.prompt.push_str(" again");
        }
        if i % 100 == 51 {
            s.deps = vec![id(&names[i - 2])];
        }
        proposed.push(s);
    }
    for k in 0..50 {
        proposed.push(spec(&format!("new{k}"), &["t999"]));
    }
    let diff = PlanDiff::between(&current, &proposed);
    assert_eq!(diff.counts(), (50, 10, 100));
    assert_eq!(diff.unchanged, 890);
    let Command::Batch { commands } = diff.commands(&|_| true).expect("a batch") else {
        panic!("a batch")
    };
    assert_eq!(commands.len(), 160);
    let tasks = proposed_tasks(&current, &proposed);
    let lines = render_graph(&tasks, &diff.changed_tasks(), 80, 24);
    // Heading and task pairs: 11 fit above the summary line; 1,040 tasks
    // in 991 layers (a 990-long chain, the added ones below its end).
    assert_eq!(lines.len(), 23);
    assert_eq!(lines[0], "layer 0 (1 task)");
    assert_eq!(lines[22], "…and 1029 more in 980 layers");
}

#[test]
fn a_small_graph_in_layers_exact_lines() {
    let tasks = [
        task("schema", &[], Status::Done { commit: "c".into() }),
        queued("api", &["schema"]),
        task("cli", &[], Status::Running { attempt: 1 }),
        queued("docs", &["api", "cli"]),
    ];
    let changed: HashSet<TaskId> = [id("docs")].into_iter().collect();
    assert_eq!(
        render_graph(&tasks, &changed, 80, 24),
        [
            "layer 0 (2 tasks)",
            "    schema done",
            "    cli    running",
            "layer 1 (1 task)",
            "    api    queued    ← schema",
            "layer 2 (1 task)",
            "  * docs   queued    ← api, cli",
        ]
    );
    // A long edge list wraps under itself; nothing exceeds the width.
    let many: Vec<String> = (0..12).map(|i| format!("dependency{i}")).collect();
    let mut tasks: Vec<Task> = many.iter().map(|n| queued(n, &[])).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    tasks.push(queued("sink", &refs));
    let lines = render_graph(&tasks, &HashSet::new(), 60, 24);
    let sink: Vec<&String> = lines.iter().skip_while(|l| !l.contains("sink")).collect();
    assert!(sink.len() > 1, "{lines:#?}");
    assert!(
        sink[1].starts_with("                           dependency"),
        "{lines:#?}"
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 60), "{lines:#?}");
}

#[test]
fn a_cycle_in_the_proposed_plan_is_named_and_refused() {
    let current = [queued("a", &[])];
    let proposed = [
        spec("a", &["c"]),
        spec("b", &["a"]),
        spec("c", &["b"]),
        spec("d", &[]),
    ];
    let diff = PlanDiff::between(&current, &proposed);
    assert_eq!(diff.cycles, [vec![id("a"), id("c"), id("b")]]);
    assert_eq!(
        diff.commands(&|_| true).expect_err("a cycle").to_string(),
        "the proposed plan has a dependency cycle: a -> c -> b -> a; nothing can be applied"
    );
    assert_eq!(
        render_diff(&diff, 80).last().map(String::as_str),
        Some("! dependency cycle: a -> c -> b -> a")
    );
    let tasks = proposed_tasks(&current, &proposed);
    assert_eq!(
        render_graph(&tasks, &diff.changed_tasks(), 80, 24),
        [
            "layer 0 (1 task)",
            "  * d queued",
            "in a dependency cycle: a -> c -> b -> a",
            "  * a queued    ← c",
            "  * b queued    ← a",
            "  * c queued    ← b",
        ]
    );
}

#[test]
fn the_diff_text_reads_at_80_columns() {
    let current = [
        queued("docs", &["schema"]),
        queued("schema", &[]),
        queued("old", &[]),
    ];
    let mut docs = spec("docs", &["api"]);
    docs.prompt = "word ".repeat(100);
    let mut api = spec("api", &[]);
    api.title = "Build the API".into();
    let proposed = [docs, spec("schema", &[]), api];
    let diff = PlanDiff::between(&current, &proposed);
    let lines = render_diff(&diff, 80);
    assert_eq!(
        lines[0],
        "plan diff: 1 added, 1 changed, 1 removed, 1 unchanged"
    );
    assert_eq!(lines[1], "~ edit docs: prompt, deps +api −schema");
    assert!(
        lines[2].starts_with("    prompt: please do docs → word word"),
        "{lines:#?}"
    );
    assert!(lines[2].ends_with('…'));
    assert_eq!(lines[3], "+ add  api: Build the API");
    assert_eq!(lines[4], "- drop old: Do old");
    assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:#?}");
}

#[test]
fn dropping_a_running_task_is_allowed_and_says_what_it_stops() {
    let current = [
        task("run", &[], Status::Running { attempt: 2 }),
        task(
            "rev",
            &[],
            Status::Review {
                attempt: 1,
                block: None,
            },
        ),
        queued("q", &[]),
    ];
    let diff = PlanDiff::between(&current, &[]);
    assert!(diff.changes.iter().all(|c| c.refused.is_none()));
    assert_eq!(
        render_diff(&diff, 80)[1..],
        [
            "- drop run: Do run (stops its running agent)",
            "- drop rev: Do rev (discards its work in review)",
            "- drop q: Do q",
        ]
    );
}
