use super::*;
use crate::core::Verified;
use crate::core::messages::Command;
use crate::core::planner::Action;
use crate::core::supervisor::Origin;

fn id(s: &str) -> TaskId {
    TaskId::parse(s).unwrap()
}

fn spec(name: &str, deps: &[&str]) -> TaskSpec {
    let mut s = TaskSpec::new(
        id(name),
        format!("Title {name}"),
        format!("do {name}"),
        "sim",
    );
    s.deps = deps.iter().map(|d| id(d)).collect();
    s
}

fn task(name: &str, deps: &[&str], status: Status) -> Task {
    let mut t = Task::new(spec(name, deps));
    t.status = status;
    t
}

fn failed() -> Status {
    Status::Failed {
        reason: "verify failed".into(),
    }
}

fn proposal(trigger: Trigger, specs: Vec<TaskSpec>, actions: Vec<Action>) -> Proposal {
    Proposal {
        id: 1,
        origin: Origin::Supervisor,
        trigger,
        reasoning: None,
        specs,
        actions,
        warnings: vec![],
    }
}

fn goal() -> Trigger {
    Trigger::Goal {
        goal: "more".into(),
    }
}

fn failed_trigger(name: &str) -> Trigger {
    Trigger::Failed {
        task: id(name),
        reason: "verify failed".into(),
    }
}

fn action(kind: ActionKind, name: &str, message: Option<&str>) -> Action {
    Action {
        kind,
        task: id(name),
        message: message.map(str::to_owned),
    }
}

fn lines(diff: &PlanDiff) -> Vec<String> {
    diff.changes.iter().map(change_line).collect()
}

#[test]
fn a_scope_change_keeps_done_running_and_reviewed_work_it_leaves_out() {
    let current = [
        task("db", &[], Status::Done { commit: "c".into() }),
        task("api", &["db"], Status::Running { attempt: 1 }),
        task(
            "ui",
            &[],
            Status::Review {
                attempt: 2,
                block: None,
            },
        ),
        task("docs", &["api"], Status::Queued { held: false }),
        task("old", &[], failed()),
    ];
    // The new goal's answer names only new work.
    let p = proposal(goal(), vec![spec("logout", &["api"])], vec![]);
    let d = diff(&current, &p);
    assert_eq!(
        lines(&d),
        [
            "add `logout`: Title logout",
            "drop `docs`: Title docs",
            "drop `old`: Title old"
        ]
    );
    assert!(d.changes.iter().all(|c| c.refused.is_none()));
    assert_eq!(
        kinds(&d, &p.trigger),
        [DecisionKind::Plan, DecisionKind::Drop].into()
    );
}

#[test]
fn queued_work_that_passed_its_gate_is_not_dropped_by_leaving_it_out() {
    let mut waiting = task("api", &[], Status::Queued { held: false });
    waiting.verified = Some(Verified {
        attempt: 1,
        commit: "abc".into(),
    });
    let p = proposal(goal(), vec![spec("new", &[])], vec![]);
    assert_eq!(lines(&diff(&[waiting], &p)), ["add `new`: Title new"]);
}

#[test]
fn fan_out_candidates_are_the_schedulers_a_replan_neither_edits_nor_drops_them() {
    let parent = task("neg", &[], Status::FannedOut);
    let mut a = task("neg--a", &[], Status::Queued { held: false });
    a.spec.candidate_of = Some(id("neg"));
    let mut b = task("neg--b", &[], Status::Queued { held: false });
    b.spec.candidate_of = Some(id("neg"));
    // The planner lists one candidate with its own prompt and leaves the
    // other out (it does not know what they are).
    let mut echoed = spec("neg--a", &[]);
    echoed.prompt = "say Title neg--a".into();
    let p = proposal(
        failed_trigger("div"),
        vec![spec("neg", &[]), echoed, spec("new", &[])],
        vec![],
    );
    assert_eq!(lines(&diff(&[parent, a, b], &p)), ["add `new`: Title new"]);
}

#[test]
fn a_running_attempt_goes_only_by_an_explicit_drop_that_says_what_it_stops() {
    let current = [task("api", &[], Status::Running { attempt: 1 })];
    let p = proposal(goal(), vec![], vec![action(ActionKind::Drop, "api", None)]);
    let d = diff(&current, &p);
    let ChangeKind::Drop { discards, .. } = &d.changes[0].kind else {
        panic!("{:?}", d.changes)
    };
    assert!(discards.is_some(), "the drop says it stops the agent");
    assert_eq!(
        d.changes.len(),
        1,
        "the drop action is the drop, not a second change"
    );
}

#[test]
fn a_split_drops_the_failed_task_and_adds_its_parts_in_order() {
    let current = [
        task("api", &[], failed()),
        task("docs", &["api"], Status::Queued { held: false }),
    ];
    let mut a = spec("api-models", &[]);
    a.split_from = Some(id("api"));
    let mut b = spec("api-routes", &["api-models"]);
    b.split_from = Some(id("api"));
    let mut docs = spec("docs", &["api-routes"]);
    docs.title = "Title docs".into();
    let p = proposal(failed_trigger("api"), vec![a, b, docs], vec![]);
    let d = diff(&current, &p);
    assert_eq!(
        lines(&d),
        [
            "add `api-models`: Title api-models (part of `api`)",
            "add `api-routes`: Title api-routes (part of `api`)",
            "edit `docs`: deps",
            "drop `api`: Title api",
        ]
    );
    let kinds_of: Vec<_> = d
        .changes
        .iter()
        .map(|c| kind_of(c, &d, &p.trigger))
        .collect();
    use DecisionKind::*;
    assert_eq!(
        kinds_of,
        [Some(Split), Some(Split), Some(Retry), Some(Split)]
    );
    let Command::Batch { commands } = d.without(&[]).unwrap() else {
        panic!()
    };
    let order: Vec<String> = commands.iter().map(Command::describe).collect();
    assert_eq!(
        order,
        [
            "add `api-models`",
            "add `api-routes`",
            "edit `docs`",
            "drop `api`"
        ]
    );
}

#[test]
fn ids_stay_stable_a_dropped_id_cannot_come_back() {
    let current = [task("api", &[], Status::Dropped)];
    let p = proposal(goal(), vec![spec("api", &[])], vec![]);
    let d = diff(&current, &p);
    assert!(
        d.changes[0]
            .refused
            .as_deref()
            .unwrap()
            .contains("ids stay stable")
    );
}

#[test]
fn actions_are_refused_where_the_task_state_does_not_allow_them() {
    let current = [
        task("a", &[], failed()),
        task("b", &[], Status::Running { attempt: 2 }),
        task("c", &[], Status::Queued { held: false }),
        task("d", &[], Status::Done { commit: "c".into() }),
    ];
    let specs = vec![spec("a", &[]), spec("c", &[])];
    let p = proposal(
        failed_trigger("a"),
        specs,
        vec![
            action(ActionKind::Retry, "a", None),
            action(ActionKind::Nudge, "b", Some("run the tests")),
            action(ActionKind::Restart, "c", None),
            action(ActionKind::Retry, "b", None),
            action(ActionKind::Ask, "d", Some("why?")),
        ],
    );
    let d = diff(&current, &p);
    let refused: Vec<Option<&str>> = d.changes.iter().map(|c| c.refused.as_deref()).collect();
    assert_eq!(refused[0], None);
    assert_eq!(refused[1], None);
    assert_eq!(
        refused[2],
        Some("task `c` is queued: restart needs a task that is running")
    );
    assert!(
        refused[3]
            .unwrap()
            .starts_with("task `b` is running: retry needs")
    );
    assert_eq!(
        refused[4],
        Some("task `d` is done: there is nothing to ask about")
    );
    let Command::Batch { commands } = d.without(&[]).unwrap() else {
        panic!()
    };
    assert_eq!(
        commands,
        [
            Command::Retry { task: id("a") },
            Command::Nudge {
                task: id("b"),
                message: "run the tests".into()
            }
        ]
    );
}

#[test]
fn a_reassign_is_an_edit_of_the_agent_then_a_retry() {
    let current = [task("a", &[], failed())];
    let mut moved = spec("a", &[]);
    moved.agent = "codex".into();
    let p = proposal(
        failed_trigger("a"),
        vec![moved],
        vec![action(ActionKind::Retry, "a", None)],
    );
    let d = diff(&current, &p);
    assert_eq!(
        kinds(&d, &p.trigger),
        [DecisionKind::Retry, DecisionKind::Reassign].into()
    );
    let Command::Batch { commands } = d.without(&[]).unwrap() else {
        panic!()
    };
    assert!(matches!(commands[0], Command::Edit { .. }));
    assert_eq!(commands[1], Command::Retry { task: id("a") });
}

#[test]
fn autonomy_applies_only_when_every_kind_in_the_proposal_is_auto() {
    let current = [task("api", &[], failed())];
    let mut a = spec("api-1", &[]);
    a.split_from = Some(id("api"));
    let split = proposal(failed_trigger("api"), vec![a], vec![]);
    let d = diff(&current, &split);
    let mut table = AutonomyTable::default();
    assert!(!applies_by_itself(&d, &split.trigger, &table));
    table.split = Autonomy::Auto;
    assert!(applies_by_itself(&d, &split.trigger, &table));

    // The same with a new task too: `add` is still confirm.
    let mut b = spec("api-1", &[]);
    b.split_from = Some(id("api"));
    let more = proposal(failed_trigger("api"), vec![b, spec("extra", &[])], vec![]);
    assert!(!applies_by_itself(
        &diff(&current, &more),
        &more.trigger,
        &table
    ));

    // A question alone is never applied by itself.
    let ask = proposal(
        failed_trigger("api"),
        vec![spec("api", &[])],
        vec![action(ActionKind::Ask, "api", Some("which database?"))],
    );
    let all_auto = AutonomyTable {
        plan: Autonomy::Auto,
        retry: Autonomy::Auto,
        reassign: Autonomy::Auto,
        split: Autonomy::Auto,
        add: Autonomy::Auto,
        drop: Autonomy::Auto,
    };
    assert!(!applies_by_itself(
        &diff(&current, &ask),
        &ask.trigger,
        &all_auto
    ));
}

#[test]
fn a_refused_change_keeps_a_proposal_from_applying_by_itself() {
    let current = [task("api", &[], Status::Running { attempt: 1 })];
    let mut edited = spec("api", &[]);
    edited.prompt = "something else".into();
    let p = proposal(goal(), vec![edited], vec![]);
    let d = diff(&current, &p);
    assert!(
        d.changes[0].refused.is_some(),
        "a running task cannot be edited"
    );
    let table = AutonomyTable {
        plan: Autonomy::Auto,
        ..AutonomyTable::default()
    };
    assert!(!applies_by_itself(&d, &p.trigger, &table));
}

#[test]
fn a_thousand_task_replan_diff_is_exact() {
    let current: Vec<Task> = (0..1000)
        .map(|i| {
            let deps: Vec<String> = if i > 0 {
                vec![format!("t{}", i - 1)]
            } else {
                vec![]
            };
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            let status = if i < 300 {
                Status::Done { commit: "c".into() }
            } else {
                Status::Queued { held: false }
            };
            task(&format!("t{i}"), &deps, status)
        })
        .collect();
    // Keep every queued task but the last 10, retitle one, add 5.
    let mut specs: Vec<TaskSpec> = current[300..990].iter().map(|t| t.spec.clone()).collect();
    specs[100].title = "Renamed".into();
    for i in 0..5 {
        specs.push(spec(&format!("new{i}"), &["t989"]));
    }
    let d = diff(&current, &proposal(goal(), specs, vec![]));
    assert_eq!(d.counts(), (5, 10, 1));
    assert_eq!(d.unchanged, 300 + 689);
    assert!(d.cycles.is_empty());
}
