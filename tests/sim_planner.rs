//! The simulated planner through the real binary: `fleetdeck sim-agent`
//! given a planning prompt prints Claude stream-json whose answer is a
//! valid plan; `--resume` carries a re-ask to the session that made a bad
//! answer; and a worker's `run fleetdeck report ...` line reaches the
//! `fleetdeck` on its PATH with its words intact.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::text;
use fleetdeck::core::planner::{
    AgentProfile, AnswerError, PlanProblem, PlanningContext, RepoSummary, extract, planning_prompt,
    reask_prompt, schema, validate,
};

fn agents() -> Vec<AgentProfile> {
    ["builder", "writer"]
        .iter()
        .map(|n| AgentProfile {
            name: (*n).into(),
            strengths: None,
            cost: Some(if *n == "writer" { "low" } else { "high" }.into()),
        })
        .collect()
}

fn prompt(goal: &str) -> String {
    let repo = RepoSummary {
        tree: "README.md".into(),
        readme_head: "# x".into(),
        languages: vec![],
        verify: vec!["true".into()],
    };
    planning_prompt(&PlanningContext {
        goal,
        repo: &repo,
        agents: &agents(),
        roles: &[],
        current: &[],
        situation: None,
    })
}

fn sim(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .arg("sim-agent")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out
}

fn result_line(out: &Output) -> serde_json::Value {
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().expect("output");
    serde_json::from_str(last).expect("a JSON result line")
}

fn names() -> Vec<String> {
    agents().into_iter().map(|a| a.name).collect()
}

#[test]
fn a_planning_prompt_gets_a_valid_plan_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema().to_string();
    let out = sim(
        dir.path(),
        &[&prompt("Add a changelog"), "--json-schema", &schema],
    );
    // The whole stream, as a CLI's output, and the result line both hold it.
    let plan = extract(&text(&out.stdout)).expect("a plan in the stream");
    assert_eq!(extract(&result_line(&out).to_string()), Ok(plan.clone()));
    assert!(result_line(&out)["structured_output"]["tasks"].is_array());
    let v = validate(&plan, &names(), &[], &[]).expect("accepted");
    let ids: Vec<&str> = v.specs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "add-a-changelog-impl",
            "add-a-changelog-tests",
            "add-a-changelog-docs"
        ]
    );
    assert_eq!(v.specs[2].agent, "writer");
}

#[test]
fn a_reask_in_the_resumed_session_gets_the_corrected_plan() {
    let dir = tempfile::tempdir().unwrap();
    let first = sim(
        dir.path(),
        &[&prompt("Add a changelog\nplan-unknown-agent")],
    );
    let plan = extract(&text(&first.stdout)).unwrap();
    let problems = validate(&plan, &names(), &[], &[]).expect_err("an unknown agent");
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("`no-such-agent`")),
        "{problems:?}"
    );
    let session = result_line(&first)["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = sim(
        dir.path(),
        &[&reask_prompt(&problems), "--resume", &session],
    );
    assert_eq!(result_line(&again)["session_id"], session.as_str());
    let plan = extract(&text(&again.stdout)).unwrap();
    validate(&plan, &names(), &[], &[]).expect("the corrected plan is accepted");
    // A bad JSON answer is re-asked the same way.
    let bad = sim(dir.path(), &[&prompt("Add a changelog\nplan-bad-json")]);
    let err = extract(&text(&bad.stdout)).expect_err("bad JSON");
    assert!(matches!(err, AnswerError::Syntax { .. }), "{err:?}");
    let session = result_line(&bad)["session_id"].as_str().unwrap().to_owned();
    let reask = reask_prompt(&[PlanProblem::Answer(err)]);
    let fixed = sim(dir.path(), &[&reask, "--resume", &session]);
    assert!(extract(&text(&fixed.stdout)).is_ok());
}

#[test]
fn run_fleetdeck_report_reaches_the_fleetdeck_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("fleetdeck");
    std::fs::write(
        &fake,
        "#!/bin/sh\npwd > \"$0.cwd\"\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$0.args\"\necho reported\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let worktree = dir.path().join("worktree");
    std::fs::create_dir(&worktree).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args([
            "sim-agent",
            "say checking\nrun fleetdeck report complexity \"the parser needs a rewrite\"",
        ])
        .env("PATH", path)
        .current_dir(&worktree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let args = std::fs::read_to_string(bin.join("fleetdeck.args")).unwrap();
    assert_eq!(args, "report\ncomplexity\nthe parser needs a rewrite\n");
    let cwd = std::fs::read_to_string(bin.join("fleetdeck.cwd")).unwrap();
    assert_eq!(
        Path::new(cwd.trim()).canonicalize().unwrap(),
        worktree.canonicalize().unwrap()
    );
    assert!(text(&out.stdout).contains("reported"));
}
