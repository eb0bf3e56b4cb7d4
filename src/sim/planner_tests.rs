//! The simulated planner: prompts built with `planning_prompt`, answers
//! read back with `extract` and checked with `validate`.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::*;
use crate::core::fleet::Task;
use crate::core::planner::{
    ActionKind, AgentProfile, AnswerError, PlanAnswer, PlanProblem, PlannedTask, PlanningContext,
    RepoSummary, Validated, extract, planning_prompt, reask_prompt, validate,
};
use crate::core::status::Status;
use crate::core::supervisor::{DecisionKind, Origin, Proposal, ReportKind, Trigger, rules};
use crate::core::task::{TaskId, TaskSpec};

fn agents() -> Vec<AgentProfile> {
    let a = |name: &str, cost: Option<&str>| AgentProfile {
        name: name.into(),
        strengths: Some(format!("{name} things")),
        cost: cost.map(str::to_owned),
    };
    vec![
        a("builder", Some("high")),
        a("checker", None),
        a("writer", Some("low")),
    ]
}

fn names() -> Vec<String> {
    agents().into_iter().map(|a| a.name).collect()
}

fn prompt(goal: &str, current: &[Task], situation: Option<&str>) -> String {
    let repo = RepoSummary {
        tree: "README.md\ntest.sh".into(),
        readme_head: "# demo".into(),
        languages: vec!["Shell".into()],
        verify: vec!["sh test.sh".into()],
    };
    planning_prompt(&PlanningContext {
        goal,
        repo: &repo,
        agents: &agents(),
        roles: &[],
        current,
        situation,
    })
}

struct Asked {
    stdout: String,
    code: i32,
}

impl Asked {
    fn result_line(&self) -> Value {
        let last = self.stdout.lines().last().expect("a result line");
        serde_json::from_str(last).expect("JSON")
    }

    fn session(&self) -> String {
        self.result_line()["session_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The plan read from the `result` line, as fleetdeck reads it.
    fn plan(&self) -> Result<PlanAnswer, AnswerError> {
        extract(&self.result_line().to_string())
    }
}

fn ask_with(script: &str, dir: &Path, opts: &Options) -> Asked {
    let mut out = Vec::new();
    let code = run_with(script, 1, opts, dir, &mut out);
    Asked {
        stdout: String::from_utf8(out).unwrap(),
        code,
    }
}

fn ask(script: &str, dir: &Path) -> Asked {
    ask_with(script, dir, &Options::default())
}

fn check(plan: &PlanAnswer, current: &[Task]) -> Result<Validated, Vec<PlanProblem>> {
    validate(plan, &names(), &[], current)
}

/// The tasks of `plan` as the fleet's current plan, with the given states.
fn current(plan: &PlanAnswer, states: &[(&str, Status)]) -> Vec<Task> {
    let specs = check(plan, &[]).expect("a valid plan").specs;
    specs
        .into_iter()
        .map(|spec: TaskSpec| {
            let status = states
                .iter()
                .find(|(id, _)| *id == spec.id.as_str())
                .map_or(Status::Queued { held: false }, |(_, s)| s.clone());
            let mut t = Task::new(spec);
            t.status = status;
            t
        })
        .collect()
}

fn id(s: &str) -> TaskId {
    TaskId::parse(s).unwrap()
}

fn ids(plan: &PlanAnswer) -> Vec<&str> {
    plan.tasks.iter().map(|t| t.id.as_str()).collect()
}

fn task<'a>(plan: &'a PlanAnswer, id: &str) -> &'a PlannedTask {
    plan.tasks.iter().find(|t| t.id == id).expect(id)
}

/// The plan diff of `plan` as a proposal for `trigger`, as the scheduler
/// computes it: nothing in it refused, no cycle, and its kinds of decision.
fn kinds(plan: &PlanAnswer, tasks: &[Task], trigger: Trigger) -> Vec<DecisionKind> {
    let v = check(plan, tasks).expect("accepted");
    let proposal = Proposal {
        id: 1,
        origin: Origin::Supervisor,
        trigger: trigger.clone(),
        reasoning: plan.notes.clone(),
        specs: v.specs,
        actions: v.actions,
        warnings: v.warnings,
    };
    let diff = rules::diff(tasks, &proposal);
    assert!(diff.cycles.is_empty(), "{:?}", diff.cycles);
    for c in &diff.changes {
        assert_eq!(c.refused, None, "{}", c.describe());
    }
    assert!(diff.without(&[]).is_ok());
    rules::kinds(&diff, &trigger).into_iter().collect()
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn the_default_plan_implements_tests_and_documents_and_runs() {
    let d = dir();
    let asked = ask(&prompt("Add OAuth login", &[], None), d.path());
    assert_eq!(asked.code, 0, "{}", asked.stdout);
    let plan = asked.plan().unwrap();
    assert_eq!(
        ids(&plan),
        [
            "add-oauth-login-impl",
            "add-oauth-login-tests",
            "add-oauth-login-docs"
        ]
    );
    let v = check(&plan, &[]).expect("accepted");
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    let roles: Vec<_> = plan
        .tasks
        .iter()
        .map(|t| t.role.as_deref().unwrap())
        .collect();
    assert_eq!(roles, ["implementer", "tester", "documenter"]);
    let agents: Vec<_> = plan.tasks.iter().map(|t| t.agent.as_str()).collect();
    assert_eq!(
        agents,
        ["builder", "checker", "writer"],
        "docs to the cheap one"
    );
    assert_eq!(plan.tasks[1].deps, ["add-oauth-login-impl"]);
    assert_eq!(plan.tasks[2].deps, ["add-oauth-login-impl"]);
    assert!(
        plan.tasks
            .iter()
            .all(|t| !t.files.is_empty() && !t.acceptance.is_empty())
    );
    assert!(plan.notes.as_deref().unwrap().contains("Add OAuth login"));
    // Each prompt is a script that does its part and runs the verify command.
    let work = dir();
    fs::write(work.path().join("test.sh"), "echo verified\n").unwrap();
    for t in &plan.tasks {
        let mut out = Vec::new();
        assert_eq!(run_in(&t.prompt, 1, work.path(), &mut out), 0);
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("verified"), "{}: {out}", t.id);
        assert!(work.path().join(&t.files[0]).exists(), "{}", t.id);
        assert!(!out.contains("\"is_error\":true"), "{}: {out}", t.id);
    }
}

#[test]
fn plan_file_plan_task_and_plan_notes_come_from_the_goal() {
    let d = dir();
    let file =
        r#"{"tasks": [{"id": "one", "title": "One", "prompt": "say 1", "agent": "checker"}]}"#;
    fs::write(d.path().join("plan.json"), file).unwrap();
    let goal = "Grow it plan-file plan.json\n\
                plan-task two | Second | one | | tester | say a\\nwrite b.txt x\\\\n\n\
                plan-notes Two steps, on purpose.";
    let plan = ask(&prompt(goal, &[], None), d.path()).plan().unwrap();
    assert_eq!(ids(&plan), ["one", "two"]);
    let two = task(&plan, "two");
    assert_eq!(
        (two.title.as_str(), two.agent.as_str()),
        ("Second", "builder")
    );
    assert_eq!(two.deps, ["one"]);
    assert_eq!(two.role.as_deref(), Some("tester"));
    assert_eq!(two.prompt, "say a\nwrite b.txt x\\n");
    assert_eq!(plan.notes.as_deref(), Some("Two steps, on purpose."));
    check(&plan, &[]).expect("accepted");
    // A plan file that is not a plan is given as it is; a missing one is named.
    fs::write(d.path().join("bad.json"), "{\"tasks\": [").unwrap();
    let bad = ask(&prompt("plan-file bad.json", &[], None), d.path()).plan();
    assert!(matches!(bad, Err(AnswerError::Syntax { .. })), "{bad:?}");
    let missing = ask(&prompt("plan-file nowhere.json", &[], None), d.path());
    assert_eq!(missing.plan(), Err(AnswerError::NoPlan));
    assert!(
        missing
            .stdout
            .contains("`nowhere.json`, which cannot be read")
    );
}

#[test]
fn json_schema_puts_the_plan_in_structured_output() {
    let d = dir();
    let text = prompt("Ship it", &[], None);
    let plain = ask(&text, d.path());
    assert!(plain.result_line().get("structured_output").is_none());
    let opts = Options {
        json_schema: true,
        resume: None,
    };
    let structured = ask_with(&text, d.path(), &opts);
    let value = structured.result_line()["structured_output"].clone();
    let from_structured: PlanAnswer = serde_json::from_value(value).unwrap();
    assert_eq!(Ok(from_structured), plain.plan());
    assert_eq!(structured.plan(), plain.plan());
}

#[test]
fn bad_json_is_fixed_in_the_resumed_session() {
    let d = dir();
    let first = ask(&prompt("Ship it\nplan-bad-json", &[], None), d.path());
    let problem = match first.plan() {
        Err(e @ AnswerError::Syntax { .. }) => PlanProblem::Answer(e),
        other => panic!("{other:?}"),
    };
    let opts = Options {
        json_schema: true,
        resume: Some(first.session()),
    };
    let again = ask_with(&reask_prompt(&[problem]), d.path(), &opts);
    assert_eq!(again.session(), first.session(), "the same session");
    let plan = again.plan().unwrap();
    check(&plan, &[]).expect("the corrected plan is accepted");
    assert!(plan.notes.as_deref().unwrap().contains("re-ask"));
    assert!(again.result_line()["structured_output"].is_object());
}

#[test]
fn an_unknown_agent_and_a_cycle_are_fixed_when_the_reask_is_appended() {
    for (directive, expect) in [
        ("plan-unknown-agent", "no-such-agent"),
        ("plan-cycle", "cycle"),
    ] {
        let d = dir();
        let text = prompt(&format!("Ship it\n{directive}"), &[], None);
        let first = ask(&text, d.path()).plan().unwrap();
        let problems = check(&first, &[]).expect_err(directive);
        assert!(
            problems.iter().any(|p| p.to_string().contains(expect)),
            "{directive}: {problems:?}"
        );
        let fresh = format!("{text}\n{}", reask_prompt(&problems));
        let plan = ask(&fresh, d.path()).plan().unwrap();
        check(&plan, &[]).expect("the corrected plan is accepted");
    }
}

#[test]
fn a_reask_without_a_known_session_says_so() {
    let d = dir();
    let opts = Options {
        json_schema: false,
        resume: Some("unheard-of".into()),
    };
    let asked = ask_with(&reask_prompt(&[]), d.path(), &opts);
    assert_eq!(asked.plan(), Err(AnswerError::NoPlan));
    assert!(asked.stdout.contains("no planning prompt for this session"));
}

/// The default plan for "Ship it" as the current plan, and the goal.
fn shipped(d: &Path, goal: &str, states: &[(&str, Status)]) -> Vec<Task> {
    let plan = ask(&prompt(goal, &[], None), d).plan().unwrap();
    current(&plan, states)
}

fn failed() -> Status {
    Status::Failed {
        reason: "the agent failed twice".into(),
    }
}

#[test]
fn a_failed_task_is_split_in_two_that_continue_it() {
    let d = dir();
    let goal = "Ship it";
    let tasks = shipped(d.path(), goal, &[("ship-it-impl", failed())]);
    let trigger = Trigger::Failed {
        task: id("ship-it-impl"),
        reason: "the agent failed twice".into(),
    };
    let situation = trigger.describe();
    let plan = ask(&prompt(goal, &tasks, Some(&situation)), d.path())
        .plan()
        .unwrap();
    assert_eq!(
        ids(&plan),
        [
            "ship-it-tests",
            "ship-it-docs",
            "ship-it-impl-1",
            "ship-it-impl-2"
        ]
    );
    let (one, two) = (task(&plan, "ship-it-impl-1"), task(&plan, "ship-it-impl-2"));
    assert_eq!(one.split_from.as_deref(), Some("ship-it-impl"));
    assert_eq!(two.split_from.as_deref(), Some("ship-it-impl"));
    assert_eq!(two.deps, ["ship-it-impl-1"]);
    assert!(one.prompt.contains("write ship-it.txt"), "{}", one.prompt);
    assert!(two.prompt.contains("run sh test.sh"), "{}", two.prompt);
    assert_eq!(task(&plan, "ship-it-tests").deps, ["ship-it-impl-2"]);
    // Kept tasks keep the prompt they were planned with.
    assert_eq!(task(&plan, "ship-it-docs").prompt, tasks[2].spec.prompt);
    assert!(plan.notes.as_deref().unwrap().contains("split"));
    assert_eq!(
        kinds(&plan, &tasks, trigger),
        [DecisionKind::Retry, DecisionKind::Split],
        "the split, and the tests and docs now after its second part"
    );
}

#[test]
fn a_split_leaves_out_the_failing_lines() {
    let d = dir();
    let goal = "Divide\nplan-task div | Divide | | builder | implementer | say div and mod\\n\
                write lib/div.sh d\\nif-attempt 1 fail too big\\nif-attempt 2 fail still too big\\n\
                write lib/mod.sh m";
    let tasks = shipped(d.path(), goal, &[("div", failed())]);
    let trigger = Trigger::Failed {
        task: id("div"),
        reason: "still too big".into(),
    };
    let situation = trigger.describe();
    let plan = ask(&prompt(goal, &tasks, Some(&situation)), d.path())
        .plan()
        .unwrap();
    let (one, two) = (task(&plan, "div-1"), task(&plan, "div-2"));
    assert!(one.prompt.contains("write lib/div.sh") && !one.prompt.contains("lib/mod.sh"));
    assert!(two.prompt.contains("write lib/mod.sh") && !two.prompt.contains("lib/div.sh"));
    for p in [&one.prompt, &two.prompt] {
        assert!(!p.contains("fail"), "{p}");
        let mut out = Vec::new();
        assert_eq!(run_in(p, 2, d.path(), &mut out), 0);
    }
    assert_eq!(kinds(&plan, &tasks, trigger), [DecisionKind::Split]);
}

#[test]
fn sim_replan_reassign_gives_the_failed_task_to_another_agent() {
    let d = dir();
    let goal = "Ship it\nsim-replan reassign";
    let tasks = shipped(d.path(), goal, &[("ship-it-impl", failed())]);
    let t_situation = Trigger::Failed {
        task: id("ship-it-impl"),
        reason: "no".into(),
    };
    let situation = t_situation.describe();
    let plan = ask(&prompt(goal, &tasks, Some(&situation)), d.path())
        .plan()
        .unwrap();
    let t = task(&plan, "ship-it-impl");
    assert_eq!(t.agent, "checker");
    assert!(
        t.prompt
            .starts_with("say Reassigned from `builder` to `checker`")
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].kind, ActionKind::Retry);
    assert_eq!(plan.actions[0].task, "ship-it-impl");
    assert_eq!(
        kinds(&plan, &tasks, t_situation),
        [DecisionKind::Retry, DecisionKind::Reassign]
    );
}

#[test]
fn a_stalled_task_gets_a_nudge() {
    let d = dir();
    let running = Status::Running { attempt: 1 };
    let tasks = shipped(d.path(), "Ship it", &[("ship-it-impl", running)]);
    let t_situation = Trigger::Stalled {
        task: id("ship-it-impl"),
        attempt: 1,
        why: "the same call 5 times".into(),
    };
    let situation = t_situation.describe();
    let plan = ask(&prompt("Ship it", &tasks, Some(&situation)), d.path())
        .plan()
        .unwrap();
    let v = check(&plan, &tasks).expect("accepted");
    assert_eq!(v.actions.len(), 1);
    assert_eq!(v.actions[0].kind, ActionKind::Nudge);
    assert!(
        v.actions[0]
            .message
            .as_deref()
            .unwrap()
            .contains("the same call 5 times")
    );
    // Nothing else changes: every task as it was planned.
    let specs: Vec<_> = tasks.iter().map(|t| t.spec.clone()).collect();
    assert_eq!(v.specs, specs);
    assert_eq!(kinds(&plan, &tasks, t_situation), [DecisionKind::Retry]);
}

#[test]
fn reported_complexity_splits_the_running_task_and_found_work_adds_one() {
    let d = dir();
    let running = Status::Running { attempt: 1 };
    let tasks = shipped(d.path(), "Ship it", &[("ship-it-impl", running)]);
    let t_complexity = Trigger::Reported {
        task: id("ship-it-impl"),
        kind: ReportKind::Complexity,
        text: "the parser needs a rewrite".into(),
    };
    let complexity = t_complexity.describe();
    let plan = ask(&prompt("Ship it", &tasks, Some(&complexity)), d.path())
        .plan()
        .unwrap();
    assert!(ids(&plan).contains(&"ship-it-impl-1") && !ids(&plan).contains(&"ship-it-impl"));
    assert!(
        plan.actions.is_empty(),
        "the split drops it: {:?}",
        plan.actions
    );
    assert!(
        plan.notes
            .as_deref()
            .unwrap()
            .contains("the parser needs a rewrite")
    );
    assert!(kinds(&plan, &tasks, t_complexity).contains(&DecisionKind::Split));
    let t_found = Trigger::Reported {
        task: id("ship-it-impl"),
        kind: ReportKind::Found,
        text: "the CLI has no --help".into(),
    };
    let found = t_found.describe();
    let plan = ask(&prompt("Ship it", &tasks, Some(&found)), d.path())
        .plan()
        .unwrap();
    let new = task(&plan, "ship-it-impl-found");
    assert_eq!(new.deps, ["ship-it-impl"]);
    assert!(new.prompt.contains("the CLI has no --help"));
    assert_eq!(plan.tasks.len(), 4);
    assert_eq!(kinds(&plan, &tasks, t_found), [DecisionKind::Add]);
}

#[test]
fn feedback_is_applied_visibly() {
    let d = dir();
    let tasks = shipped(d.path(), "Ship it", &[("ship-it-impl", failed())]);
    let on = Trigger::Failed {
        task: id("ship-it-impl"),
        reason: "no".into(),
    };
    let trigger = Trigger::Feedback {
        on: Box::new(on),
        feedback: "drop ship-it-docs, we have docs".into(),
    };
    let situation = trigger.describe();
    let plan = ask(&prompt("Ship it", &tasks, Some(&situation)), d.path())
        .plan()
        .unwrap();
    assert!(!ids(&plan).contains(&"ship-it-docs"), "{:?}", ids(&plan));
    assert!(
        ids(&plan).contains(&"ship-it-impl-2"),
        "the split is proposed again"
    );
    let notes = plan.notes.clone().unwrap();
    assert!(notes.contains("drop ship-it-docs, we have docs"), "{notes}");
    assert!(
        notes.contains("Dropped as asked: `ship-it-docs`"),
        "{notes}"
    );
    assert!(kinds(&plan, &tasks, trigger).contains(&DecisionKind::Drop));
}

#[test]
fn a_new_goal_keeps_the_plan_and_adds_its_tasks() {
    let d = dir();
    let done = Status::Done { commit: "c".into() };
    let tasks = shipped(d.path(), "Ship it", &[("ship-it-impl", done)]);
    let plan = ask(&prompt("Add logout", &tasks, None), d.path())
        .plan()
        .unwrap();
    assert_eq!(
        ids(&plan),
        [
            "ship-it-tests",
            "ship-it-docs",
            "add-logout-impl",
            "add-logout-tests",
            "add-logout-docs"
        ]
    );
    assert!(plan.notes.as_deref().unwrap().contains("added"));
    check(&plan, &tasks).expect("accepted: the done task is not proposed again");
}

#[test]
fn a_worker_resumed_keeps_its_session() {
    let d = dir();
    let opts = Options {
        json_schema: false,
        resume: Some("sess-1".into()),
    };
    let asked = ask_with("say carrying on", d.path(), &opts);
    assert_eq!(asked.code, 0);
    assert_eq!(asked.session(), "sess-1");
    assert!(asked.stdout.contains("carrying on"));
}
