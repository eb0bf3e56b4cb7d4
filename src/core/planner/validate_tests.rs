use super::*;
use crate::core::planner::{ActionKind, PlannedAction, extract};

fn planned(id: &str, deps: &[&str], files: &[&str]) -> PlannedTask {
    let mut t = PlannedTask::new(id, format!("Title {id}"), format!("do {id}"), "sim");
    t.deps = deps.iter().map(|d| d.to_string()).collect();
    t.files = files.iter().map(|f| f.to_string()).collect();
    t
}

fn answer(tasks: Vec<PlannedTask>) -> PlanAnswer {
    PlanAnswer {
        tasks,
        notes: None,
        actions: vec![],
    }
}

fn agents() -> Vec<String> {
    vec!["claude".into(), "sim".into()]
}

fn problems(a: &PlanAnswer, existing: &[Task]) -> Vec<String> {
    validate(a, &agents(), &[], existing)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn existing(id: &str, status: Status) -> Task {
    let spec = crate::core::planner::validate::to_spec(
        &planned(id, &[], &[]),
        TaskId::parse(id).unwrap(),
        vec![],
        None,
    );
    let mut t = Task::new(TaskSpec {
        priority: 7,
        budget_usd: Some(2.0),
        ..spec
    });
    t.status = status;
    t
}

#[test]
fn a_valid_plan_becomes_specs_keeping_files_and_acceptance() {
    let text = r#"Plan:
```json
{"tasks": [
  {"id": "schema", "title": "Schema", "prompt": "Add the table", "agent": "sim",
   "files": ["./migrations/1.sql", "migrations/1.sql"], "acceptance": ["the migration runs"]},
  {"id": "api", "title": "API", "prompt": "Add /login", "deps": ["schema", "schema"],
   "agent": "claude", "role": "implementer", "verify": ["cargo test api"]}
]}
```"#;
    let plan = extract(text).unwrap();
    let ok = validate(&plan, &agents(), &["implementer".into()], &[]).unwrap();
    assert_eq!(ok.warnings, Vec::<String>::new());
    assert_eq!(ok.specs.len(), 2);
    let (schema, api) = (&ok.specs[0], &ok.specs[1]);
    assert_eq!(schema.id.as_str(), "schema");
    assert_eq!(schema.files, ["migrations/1.sql"]);
    assert_eq!(schema.acceptance, ["the migration runs"]);
    assert_eq!(schema.prompt, "Add the table"); // criteria stored, not appended
    assert_eq!(api.deps, [TaskId::parse("schema").unwrap()]);
    assert_eq!(api.agent, "claude");
    assert_eq!(api.role.as_deref(), Some("implementer"));
    assert_eq!(api.verify, Some(vec!["cargo test api".to_owned()]));
}

#[test]
fn bad_and_duplicate_ids_and_empty_fields() {
    let mut empty = planned("c", &[], &[]);
    empty.prompt = "  ".into();
    let a = answer(vec![
        planned("a", &[], &[]),
        planned("Bad_Id", &[], &[]),
        planned("a", &[], &[]),
        empty,
    ]);
    assert_eq!(
        problems(&a, &[]),
        [
            "tasks[1]: `Bad_Id` is not a valid task id: it must start with a lowercase letter or a digit (ids are lowercase letters, digits and dashes, starting with a letter or digit)",
            "tasks[2]: id `a` is already used by tasks[0]",
            "tasks[3]: `prompt` of task `c` is empty",
        ]
    );
    assert_eq!(problems(&answer(vec![]), &[]), ["the plan has no tasks"]);
}

#[test]
fn unknown_deps_and_agents_name_the_known_ones() {
    let mut b = planned("b", &["a", "ghost", "b"], &[]);
    b.agent = "gpt".into();
    let a = answer(vec![planned("a", &[], &[]), b]);
    assert_eq!(
        problems(&a, &[]),
        [
            "task `b` depends on `ghost`, which is not a task in the plan",
            "task `b` depends on itself",
            "task `b` uses agent `gpt`, which is not a profile (known: claude, sim)",
        ]
    );
}

#[test]
fn a_cycle_is_named() {
    let a = answer(vec![
        planned("start", &[], &[]),
        planned("x", &["z", "start"], &[]),
        planned("y", &["x"], &[]),
        planned("z", &["y"], &[]),
    ]);
    assert_eq!(problems(&a, &[]), ["dependency cycle: x -> z -> y -> x"]);
}

#[test]
fn a_cycle_through_an_existing_task_is_found() {
    let mut old = existing("old", Status::Queued { held: false });
    old.spec.deps = vec![TaskId::parse("new").unwrap()];
    let a = answer(vec![planned("new", &["old"], &[])]);
    assert_eq!(
        problems(&a, &[old]),
        ["dependency cycle: new -> old -> new"]
    );
}

#[test]
fn existing_tasks_may_be_deps_but_a_done_id_is_refused() {
    let done = existing(
        "schema",
        Status::Done {
            commit: "abc".into(),
        },
    );
    let dropped = existing("old", Status::Dropped);
    let a = answer(vec![planned("api", &["schema"], &[])]);
    let ok = validate(&a, &agents(), &[], &[done.clone(), dropped.clone()]).unwrap();
    assert_eq!(ok.specs[0].deps, [TaskId::parse("schema").unwrap()]);
    let a = answer(vec![
        planned("schema", &[], &[]),
        planned("api", &["old"], &[]),
    ]);
    assert_eq!(
        problems(&a, &[done, dropped]),
        [
            "tasks[0]: id `schema` belongs to a task that is already done; choose a new id",
            "task `api` depends on `old`, which was dropped from the plan",
        ]
    );
}

#[test]
fn a_kept_task_keeps_the_fields_the_contract_lacks() {
    let queued = existing("api", Status::Queued { held: false });
    let ok = validate(
        &answer(vec![planned("api", &[], &[])]),
        &agents(),
        &[],
        &[queued],
    )
    .unwrap();
    assert_eq!(ok.specs[0].priority, 7);
    assert_eq!(ok.specs[0].budget_usd, Some(2.0));
}

#[test]
fn overlapping_files_without_a_path_warn_naming_file_and_tasks() {
    let a = answer(vec![
        planned("base", &[], &["src/lib.rs"]),
        planned("left", &["base"], &["src/auth.rs", "./src/lib.rs"]),
        planned("right", &["base"], &["src/auth.rs", "src/lib.rs"]),
        planned("after", &["left"], &["src/auth.rs"]), // ordered after left, not right
    ]);
    let ok = validate(&a, &agents(), &[], &[]).unwrap();
    assert_eq!(
        ok.warnings,
        [
            "tasks `left` and `right` both expect to touch `src/auth.rs`, `src/lib.rs` but neither depends on the other: their changes may conflict (add a dependency or merge them)",
            "tasks `right` and `after` both expect to touch `src/auth.rs` but neither depends on the other: their changes may conflict (add a dependency or merge them)",
        ]
    );
}

#[test]
fn an_unknown_role_is_a_warning() {
    let mut t = planned("a", &[], &[]);
    t.role = Some("poet".into());
    let ok = validate(
        &answer(vec![t]),
        &agents(),
        &["implementer".into(), "tester".into()],
        &[],
    )
    .unwrap();
    assert_eq!(
        ok.warnings,
        ["task `a` has role `poet`, which is not a known role (known: implementer, tester)"]
    );
}

#[test]
fn answer_errors_become_problems() {
    let p: PlanProblem = extract("nothing").unwrap_err().into();
    assert_eq!(
        p.to_string(),
        "no JSON plan found in the answer (expected a ```json block)"
    );
}

#[test]
fn a_500_task_plan_with_prose_around_it_is_accepted() {
    // (Its speed is measured by `cargo bench --bench planner`, not here.)
    // 50 layers of 10; each task depends on two of the layer before. A
    // column (i % 10) shares a file along its dependency chain (no warning);
    // two neighbours of a layer (2k, 2k+1) share one and are unordered.
    let tasks: Vec<PlannedTask> = (0..500)
        .map(|i| {
            let deps: Vec<String> = if i < 10 {
                vec![]
            } else {
                vec![
                    format!("t{}", i - 10),
                    format!("t{}", (i / 10 - 1) * 10 + (i + 1) % 10),
                ]
            };
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            let files = [
                format!("src/col{}.rs", i % 10),
                format!("src/pair{}.rs", i / 2),
            ];
            planned(&format!("t{i}"), &deps, &[&files[0], &files[1]])
        })
        .collect();
    let json = serde_json::to_string(&answer(tasks)).unwrap();
    let text = format!("Here you go:\n```json\n{json}\n```");
    let plan = extract(&text).unwrap();
    let ok = validate(&plan, &agents(), &[], &[]).unwrap();
    assert_eq!(ok.specs.len(), 500);
    // 250 unordered pairs: 200 listed, the rest counted.
    assert_eq!(ok.warnings.len(), 201);
    assert!(
        ok.warnings[0].starts_with("tasks `t0` and `t1` both expect to touch `src/pair0.rs` but")
    );
    assert_eq!(
        ok.warnings[200],
        "50 more cases of unordered tasks expecting the same file are not listed"
    );
}

#[test]
fn a_file_every_task_expects_gives_a_bounded_list_of_warnings() {
    let tasks = (0..1000)
        .map(|i| planned(&format!("t{i}"), &[], &["Cargo.toml"]))
        .collect();
    let ok = validate(&answer(tasks), &agents(), &[], &[]).unwrap();
    assert_eq!(ok.warnings.len(), 201);
    assert_eq!(
        ok.warnings[200],
        format!(
            "{} more cases of unordered tasks expecting the same file are not listed",
            1000 * 999 / 2 - 200
        )
    );
}

#[test]
fn a_split_names_a_current_task_left_out_of_the_plan() {
    let failed = existing(
        "api",
        Status::Failed {
            reason: "verify failed".into(),
        },
    );
    let done = existing("db", Status::Done { commit: "c".into() });
    let mut a = planned("api-models", &[], &[]);
    a.split_from = Some("api".into());
    let mut b = planned("api-routes", &["api-models"], &[]);
    b.split_from = Some("api".into());
    let ok = validate(
        &answer(vec![a.clone(), b]),
        &agents(),
        &[],
        &[failed.clone(), done.clone()],
    )
    .unwrap();
    assert_eq!(
        ok.specs[1].split_from.as_ref().map(|f| f.as_str()),
        Some("api")
    );

    let mut from_done = planned("db-2", &[], &[]);
    from_done.split_from = Some("db".into());
    let mut from_nothing = planned("x", &[], &[]);
    from_nothing.split_from = Some("nope".into());
    let kept = planned("api", &[], &[]);
    let got = problems(
        &answer(vec![a, from_done, from_nothing, kept]),
        &[failed, done],
    );
    assert_eq!(
        got,
        [
            "task `api-models` is split from `api`, which is still in the plan (leave the split task out: its parts replace it)",
            "task `db-2` is split from `db`, which is already done (add a new task instead)",
            "task `x` is split from `nope`, which is not a task of the current plan",
        ]
    );
}

#[test]
fn actions_name_current_tasks_and_nudges_say_something() {
    let running = existing("api", Status::Running { attempt: 1 });
    let mut a = answer(vec![planned("api", &[], &[])]);
    a.actions = vec![
        PlannedAction {
            kind: ActionKind::Nudge,
            task: "api".into(),
            message: Some("  run the tests first ".into()),
        },
        PlannedAction {
            kind: ActionKind::Ask,
            task: "api".into(),
            message: Some(" ".into()),
        },
        PlannedAction {
            kind: ActionKind::Retry,
            task: "ghost".into(),
            message: None,
        },
    ];
    assert_eq!(
        problems(&a, std::slice::from_ref(&running)),
        [
            "actions[1]: a `ask` action needs a `message`",
            "actions[2]: `ghost` is not a task of the current plan",
        ]
    );
    a.actions.truncate(1);
    let ok = validate(&a, &agents(), &[], &[running]).unwrap();
    assert_eq!(
        ok.actions,
        [Action {
            kind: ActionKind::Nudge,
            task: TaskId::parse("api").unwrap(),
            message: Some("run the tests first".into()),
        }]
    );
}

#[test]
fn an_action_of_an_unknown_kind_is_a_shape_error_with_its_path() {
    let text = r#"{"tasks": [{"id": "a", "title": "t", "prompt": "p", "agent": "sim"}],
        "actions": [{"kind": "explode", "task": "a"}, {"task": 3}]}"#;
    let err = extract(text).unwrap_err().to_string();
    assert_eq!(
        err,
        "actions[0].kind: expected one of `retry`, `restart`, `nudge`, `ask`, `drop`, found `explode`; actions[1]: missing field `kind`; actions[1].task: expected a string, found a number"
    );
}

#[test]
fn a_planned_fanout_needs_two_known_profiles_and_reaches_the_spec() {
    let mut t = planned("t", &[], &[]);
    t.fanout = vec!["sim".into(), "nope".into()];
    let p = problems(&answer(vec![t.clone()]), &[]);
    assert_eq!(
        p,
        ["task `t`: fanout names agent `nope`, which is not defined (add [agents.nope])"]
    );
    t.fanout = vec!["sim".into(), "claude".into()];
    let v = validate(&answer(vec![t.clone()]), &agents(), &[], &[]).unwrap();
    assert_eq!(v.specs[0].fanout, ["sim", "claude"]);
    // A replan that says nothing of the fan-out keeps it.
    let mut old = existing("t", Status::Queued { held: false });
    old.spec.fanout = vec!["sim".into(), "claude".into()];
    t.fanout = Vec::new();
    let v = validate(&answer(vec![t]), &agents(), &[], &[old]).unwrap();
    assert_eq!(v.specs[0].fanout, ["sim", "claude"]);
    let json = r#"{"tasks": [{"id": "t", "title": "T", "prompt": "p", "agent": "sim", "fanout": ["sim", 3]}]}"#;
    let e = extract(json).unwrap_err().to_string();
    assert!(e.contains("fanout"), "{e}");
}

#[test]
fn a_planned_group_is_kept_and_its_rules_checked() {
    let member = |id: &str, deps: &[&str]| PlannedTask {
        group: Some("login".into()),
        ..planned(id, deps, &[])
    };
    let ok = validate(
        &answer(vec![member("code", &[]), member("tests", &[])]),
        &agents(),
        &[],
        &[],
    )
    .unwrap();
    assert_eq!(ok.specs[1].group.as_deref(), Some("login"));
    let bad = problems(
        &answer(vec![member("code", &[]), member("tests", &["code"])]),
        &[],
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("both are in group `login`"), "{bad:?}");
    let lonely = problems(&answer(vec![member("code", &[])]), &[]);
    assert!(lonely[0].contains("only one member"), "{lonely:?}");
}
