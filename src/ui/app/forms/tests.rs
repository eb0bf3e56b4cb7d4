//! The forms' TOML round trips, errors with lines, and replans.
use super::*;
use crate::core::Status;

fn spec(id: &str, deps: &[&str]) -> TaskSpec {
    TaskSpec {
        deps: deps.iter().map(|d| TaskId::parse(d).unwrap()).collect(),
        role: Some("tester".into()),
        ..TaskSpec::new(
            TaskId::parse(id).unwrap(),
            format!("Title {id}"),
            format!("line one of {id}\nline two with '''quotes\" and \\ backslash"),
            "sim",
        )
    }
}

fn fleet() -> Fleet {
    let mut done = Task::new(spec("done", &[]));
    done.status = Status::Done { commit: "c".into() };
    let mut plain = spec("b", &["a"]);
    plain.prompt = "simple\nprompt".into();
    Fleet::new(
        vec![done, Task::new(spec("a", &[])), Task::new(plain)],
        ["sim".to_string()],
        false,
    )
}

#[test]
fn a_task_round_trips_through_its_toml() {
    for s in [
        spec("a", &["x", "y"]),
        TaskSpec {
            prompt: "multi\nline".into(),
            ..spec("b", &[])
        },
    ] {
        let text = task_toml(&s, true);
        let Command::Add { spec: back } = parse_new(&text).unwrap() else {
            panic!()
        };
        assert_eq!(back, s, "{text}");
    }
}

#[test]
fn edit_errors_point_at_the_line() {
    let id = TaskId::parse("a").unwrap();
    let err = parse_edit(&id, "title = \"x\"\nprompt = \"unterminated\n").unwrap_err();
    assert!(err.starts_with("line 2, column "), "{err}");
    let err = parse_edit(&id, "titel = \"x\"\n").unwrap_err();
    assert!(err.contains("unknown field `titel`"), "{err}");
    let err = parse_edit(&id, "deps = [\"Bad Id\"]\n").unwrap_err();
    assert!(err.contains("not a valid task id"), "{err}");
    let Command::Edit { patch, .. } =
        parse_edit(&id, &edit_text(&Task::new(spec("a", &[])))).unwrap()
    else {
        panic!()
    };
    assert_eq!(patch.title.as_deref(), Some("Title a"));
}

/// The replan's plan diff against the fleet.
fn replan_diff(f: &Fleet, text: &str) -> crate::core::plan_diff::PlanDiff {
    let plan = parse_replan(f, text).unwrap();
    crate::core::plan_diff::PlanDiff::between(f.tasks(), &plan)
}

#[test]
fn an_unchanged_replan_is_nothing_to_confirm() {
    let f = fleet();
    let text = replan_text(&f);
    assert!(
        !text.contains("id = \"done\""),
        "done tasks are not part of a replan"
    );
    let diff = replan_diff(&f, &text);
    assert!(diff.is_empty(), "{:?}", diff.changes);
    assert_eq!(diff.unchanged, f.tasks().len());
}

#[test]
fn a_replan_lists_adds_edits_and_drops_and_batches_them_in_order() {
    let f = fleet();
    let text = replan_text(&f)
        .replace("deps = [\"a\"]", "deps = [\"c\"]")
        .replace("[[task]]  # queued\nid = \"a\"", "[[task]]\nid = \"c\"");
    let diff = replan_diff(&f, &text);
    let shown: Vec<String> = diff.changes.iter().map(|c| c.describe()).collect();
    assert_eq!(
        shown,
        ["change 1 (add `c`)", "change 2 (edit `b`)", "change 3 (drop `a`)"]
    );
    let Ok(Command::Batch { commands }) = diff.without(&[]) else {
        panic!()
    };
    let kinds: Vec<String> = commands.iter().map(Command::describe).collect();
    assert_eq!(kinds, ["add `c`", "edit `b`", "drop `a`"]);
}

#[test]
fn a_replan_shows_what_the_scheduler_would_refuse_and_sends_nothing_for_it() {
    let mut f = fleet();
    let mut running = f.task("b").unwrap().clone();
    running.status = Status::Running { attempt: 1 };
    f.upsert(running);
    let text = replan_text(&f).replace("title = \"Title a\"", "title = \"A again\"");
    // b is running: its prompt cannot be edited; a's title can.
    let text = text.replace("simple\nprompt", "other\nprompt");
    let diff = replan_diff(&f, &text);
    let refused: Vec<Option<String>> = diff.changes.iter().map(|c| c.refused.clone()).collect();
    assert_eq!(
        refused,
        [
            None,
            Some(
                "task `b` is running: edit needs a task that is queued or failed (not running)"
                    .into()
            )
        ]
    );
    let Ok(Command::Batch { commands }) = diff.without(&[]) else {
        panic!()
    };
    let kinds: Vec<String> = commands.iter().map(Command::describe).collect();
    assert_eq!(kinds, ["edit `a`"], "nothing is sent for b");
    // Only refused changes: nothing to apply.
    let only_b = replan_text(&f).replace("simple\nprompt", "other\nprompt");
    assert_eq!(
        replan_diff(&f, &only_b).without(&[]),
        Err(crate::core::plan_diff::DiffError::Empty)
    );
}

#[test]
fn form_errors_cite_the_line_of_the_field() {
    let err = parse_new("id = \"x\"\ntitle = \"T\"\nagent = \"\"\nprompt = \"p\"\n").unwrap_err();
    assert_eq!(err, "the new task, line 3: `agent` is missing");
    let f = fleet();
    let text = replan_text(&f)
        + "\n[[task]]\nid = \"n\"\nagent = \"sim\"\ndeps = [\"Bad Id\"]\nprompt = \"p\"\n";
    let err = parse_replan(&f, &text).unwrap_err();
    let header = text
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| *l == "[[task]]")
        .unwrap()
        + 1;
    assert!(
        err.starts_with(&format!(
            "task 3 of the plan (line {header}), line {}: ",
            header + 3
        )),
        "{err}"
    );
}

#[test]
fn a_replan_cannot_reuse_a_finished_id() {
    let f = fleet();
    let text = format!(
        "{}\n[[task]]\nid = \"done\"\nagent = \"sim\"\nprompt = \"again\"\n",
        replan_text(&f)
    );
    assert!(
        parse_replan(&f, &text)
            .unwrap_err()
            .contains("already done")
    );
}
