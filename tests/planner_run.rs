//! The supervisor's planner run through the real binary on real
//! repositories, with a script planner (`tests/agents/planner.sh`) that
//! records its prompts, arguments and working directory and answers from
//! files: valid answers, prose around the JSON, re-asks with the exact
//! errors, refusals, a planner that writes in its scratch worktree, the
//! scratch worktree at the target's tip, routing, structured output and
//! session resume; and the `fleetdeck plan` command itself (`--schema`,
//! `--dry-run`, `--yes`, `--history`).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use git2::{IndexAddOption, Repository, Signature};
use serde_json::Value;

fn script() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents/planner.sh")
        .to_string_lossy()
        .into_owned()
}

/// A repository whose planner keeps its state in `planner`.
struct Fleet {
    repo: TestRepo,
    planner: tempfile::TempDir,
}

/// `profile` is added to the planner's profile, `supervisor` to `[supervisor]`.
fn fleet(profile: &str, supervisor: &str) -> Fleet {
    let planner = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"{SIM_PROFILE}
[verify]
commands = ["true"]

[agents.planner]
command = [{script:?}, "--prompt", "{{prompt}}"]
{format}
strengths = "planning"
cost = "high"
env = {{ PLANNER_DIR = {dir:?}{profile_env} }}
{profile}

[supervisor]
agent = "planner"
{supervisor}
"#,
        script = script(),
        dir = planner.path().to_string_lossy(),
        format = if profile.contains("format") {
            ""
        } else {
            "format = \"text\""
        },
        profile_env = if profile.contains("claude") {
            ", FORMAT = \"claude\""
        } else {
            ""
        },
    );
    let files = [
        ("README.md", "# Hello project\nIt greets.\n"),
        ("src/lib.rs", "pub fn hi() {}\n"),
        ("marker.txt", "one\n"),
    ];
    Fleet {
        repo: TestRepo::new(&toml, &files),
        planner,
    }
}

impl Fleet {
    fn answer(&self, n: Option<u32>, text: &str) {
        let name = n.map_or("answer".to_owned(), |n| format!("answer-{n}"));
        std::fs::write(self.planner.path().join(&name), text).unwrap();
        let json = serde_json::to_string(text).unwrap();
        std::fs::write(self.planner.path().join(format!("{name}.json")), json).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.planner.path().join(name)).unwrap_or_default()
    }

    fn runs(&self) -> u32 {
        self.read("count").trim().parse().unwrap_or(0)
    }

    /// `plan --dry-run --json GOAL`: the exit code and the document.
    fn dry_run(&self, goal: &str) -> (i32, Value) {
        let out = self.repo.fleetdeck(&["plan", "--dry-run", "--json", goal]);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {}",
                text(&out.stdout),
                text(&out.stderr)
            )
        });
        (out.status.code().unwrap(), doc)
    }

    fn meta(&self, key: &str) -> Option<String> {
        let conn = rusqlite::Connection::open(self.repo.path().join(".fleet/fleet.db")).unwrap();
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .ok()
    }
}

const VALID: &str = r#"{"tasks": [
  {"id": "api", "title": "Build the API", "prompt": "say api", "agent": "sim", "role": "implementer", "files": ["src/api.rs"]},
  {"id": "api-test", "title": "Test the API", "prompt": "say test", "agent": "sim", "role": "tester", "deps": ["api"]}
], "notes": "API first, then its tests."}"#;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn commit_file(repo: &Repository, path: &Path, name: &str, content: &str) {
    std::fs::write(path.join(name), content).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all([name], IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test User", "test@example.com").unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "change\n", &tree, &[&parent])
        .unwrap();
}

#[test]
fn a_valid_answer_is_proposed_routed_and_the_prompt_describes_the_repository() {
    let f = fleet("", "routing = [{ role = \"tester\", agent = \"planner\" }]");
    f.answer(None, VALID);
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["rounds"], 1);
    let specs = doc["proposal"]["specs"].as_array().unwrap();
    assert_eq!(specs[0]["agent"], "sim");
    assert_eq!(specs[1]["agent"], "planner", "routed by role");
    assert!(
        strings(&doc["warnings"]).contains(&"`api-test` routed to `planner` (role tester)".into()),
        "{doc}"
    );
    assert_eq!(doc["proposal"]["reasoning"], "API first, then its tests.");
    assert!(strings(&doc["changes"]).contains(&"add `api`: Build the API".into()));

    let prompt = f.read("prompt-1");
    for part in [
        "## Goal\n\nBuild an API",
        "# Hello project",
        "src/",
        "marker.txt",
        "Languages: Markdown, Rust",
        "- `true`",
        "- `planner` (strengths: planning; cost: high)",
        "- `sim`",
        "## Output contract",
    ] {
        assert!(
            prompt.contains(part),
            "the prompt lacks {part:?}:\n{prompt}"
        );
    }
    let env = f.read("env-1");
    assert!(env.contains("FLEET_TASK=_supervisor\n"), "{env}");
    assert!(
        !strings(&doc["warnings"])
            .iter()
            .any(|w| w.contains("discarded")),
        "a planner that changes nothing gets no warning"
    );
    // A dry run records nothing: no task, no goal, no history.
    assert_eq!(f.repo.status()["tasks"].as_array().unwrap().len(), 0);
    assert_eq!(f.meta("goal"), None);
    let history = f.repo.expect(&["plan", "--history"], 0);
    assert!(text(&history.stdout).contains("has not been changed"));
}

#[test]
fn prose_around_the_json_is_read() {
    let f = fleet("", "");
    f.answer(
        None,
        &format!("I looked at the repository.\n\n```json\n{VALID}\n```\n\nThat is the plan."),
    );
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["proposal"]["specs"].as_array().unwrap().len(), 2);
    assert_eq!(f.runs(), 1);
}

#[test]
fn malformed_json_is_asked_again_with_its_error_and_the_second_answer_counts() {
    let f = fleet("", "");
    f.answer(Some(1), "```json\n{\"tasks\": [\n```\n");
    f.answer(None, VALID);
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["rounds"], 2);
    assert_eq!(f.runs(), 2);
    let second = f.read("prompt-2");
    assert!(
        second.contains(
            "Your plan could not be accepted:\n\n- the ```json block at line 1 is not valid JSON"
        ),
        "{second}"
    );
    assert!(
        second.starts_with(&f.read("prompt-1")),
        "a profile that cannot resume gets the whole prompt again, then the errors"
    );
    let transcript =
        std::fs::read_to_string(f.repo.path().join(".fleet/runs/_supervisor/0.jsonl")).unwrap();
    assert!(
        transcript.contains("round 2: asking again: 1 problem"),
        "{transcript}"
    );
}

#[test]
fn an_unknown_agent_is_asked_again_with_the_exact_error_then_refused_with_the_answer() {
    let f = fleet("", "reask_limit = 1");
    let ghost = VALID.replace(
        "\"agent\": \"sim\", \"role\": \"implementer\"",
        "\"agent\": \"ghost\"",
    );
    f.answer(None, &ghost);
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 1, "{doc}");
    let error = "task `api` uses agent `ghost`, which is not a profile (known: planner, sim)";
    assert_eq!(strings(&doc["problems"]), [error]);
    assert!(
        doc["answer"].as_str().unwrap().contains("\"ghost\""),
        "{doc}"
    );
    assert_eq!(f.runs(), 2, "one answer and one re-ask");
    assert!(f.read("prompt-2").contains(&format!("- {error}\n")));

    // Through the engine: the user sees the planner's answer and the errors.
    let out = f.repo.fleetdeck(&["plan", "Build an API"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("the planner's answer:"), "{stdout}");
    assert!(stdout.contains("\"ghost\""), "{stdout}");
    assert!(stdout.contains(&format!("  - {error}")), "{stdout}");
    assert_eq!(f.repo.status()["tasks"].as_array().unwrap().len(), 0);
}

#[test]
fn what_the_planner_writes_in_its_scratch_worktree_is_discarded_with_a_warning() {
    let f = fleet("", "");
    f.answer(None, VALID);
    std::fs::write(f.planner.path().join("write"), "").unwrap();
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 0, "the answer still counts: {doc}");
    let warnings = strings(&doc["warnings"]);
    let w = warnings
        .iter()
        .find(|w| w.contains("discarded"))
        .unwrap_or_else(|| panic!("no warning: {warnings:?}"));
    assert!(
        w.contains("`README.md`") && w.contains("`planner-was-here.txt`"),
        "{w}"
    );
    let scratch = f.repo.path().join(".fleet/scratch/supervisor");
    assert!(!scratch.join("planner-was-here.txt").exists());
    assert_eq!(
        std::fs::read_to_string(scratch.join("README.md")).unwrap(),
        "# Hello project\nIt greets.\n"
    );
    // The user's checkout was never touched.
    assert!(!f.repo.path().join("planner-was-here.txt").exists());
    assert_eq!(
        std::fs::read_to_string(f.repo.path().join("README.md")).unwrap(),
        "# Hello project\nIt greets.\n"
    );
    let repo = f.repo.repo();
    let changed: Vec<String> = repo
        .statuses(None)
        .unwrap()
        .iter()
        .filter(|s| !s.status().is_ignored())
        .map(|s| format!("{:?} {}", s.status(), s.path().unwrap_or("?")))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
}

#[test]
fn the_scratch_worktree_is_detached_at_the_targets_tip_for_every_consultation() {
    let f = fleet("", "");
    f.answer(None, VALID);
    let repo = f.repo.repo();
    commit_file(&repo, f.repo.path(), "marker.txt", "two\n");
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(f.read("seen-1"), "two\n");
    let scratch = f.repo.path().join(".fleet/scratch/supervisor");
    let env = f.read("env-1");
    assert!(
        env.lines()
            .any(|l| l.starts_with("pwd=") && l.ends_with("/.fleet/scratch/supervisor")),
        "{env}"
    );
    let tip = || repo.head().unwrap().peel_to_commit().unwrap().id();
    let wt = Repository::open(&scratch).unwrap();
    assert!(wt.head_detached().unwrap());
    assert_eq!(wt.head().unwrap().target(), Some(tip()));
    assert!(
        repo.branches(None).unwrap().count() == 1,
        "no branch of its own"
    );

    commit_file(&repo, f.repo.path(), "marker.txt", "three\n");
    let (code, _) = f.dry_run("Build an API");
    assert_eq!(code, 0);
    assert_eq!(f.read("seen-2"), "three\n", "reset to the new tip");
    let wt = Repository::open(&scratch).unwrap();
    assert_eq!(wt.head().unwrap().target(), Some(tip()));
}

#[test]
fn claude_gets_the_schema_and_a_reask_resumes_its_session_with_only_the_errors() {
    let f = fleet(
        "format = \"claude\"\nresume = [\"--resume\", \"{session}\"]",
        "",
    );
    f.answer(
        Some(1),
        &VALID.replace("\"deps\": [\"api\"]", "\"deps\": [\"nope\"]"),
    );
    f.answer(None, VALID);
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["rounds"], 2);
    let args: Vec<String> = f.read("args-1").lines().map(str::to_owned).collect();
    let at = args.iter().position(|a| a == "--json-schema").unwrap();
    let schema: Value = serde_json::from_str(&args[at + 1]).unwrap();
    assert!(schema["properties"]["tasks"].is_object(), "{schema}");
    let args2 = f.read("args-2");
    assert!(args2.contains("--resume\nsess-1\n"), "{args2}");
    let second = f.read("prompt-2");
    assert!(
        second
            .starts_with("Your plan could not be accepted:\n\n- task `api-test` depends on `nope`"),
        "only the re-ask in a resumed session: {second}"
    );
    let spent: Value = serde_json::from_str(&f.meta("supervisor_dry_run_spend").unwrap()).unwrap();
    assert_eq!(spent["usd"], 0.5, "two rounds at $0.25");
}

#[test]
fn the_supervisors_budget_stops_the_planner_and_then_refuses_to_run_it() {
    let f = fleet("format = \"claude\"", "budget_usd = 0.2");
    f.answer(None, VALID);
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 1, "{doc}");
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.contains(
            "the planner ran over the supervisor's budget: the supervisor's budget is spent ($0.25 of $0.20"
        ),
        "{message}"
    );
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 1);
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .contains("not consulting the planner: the supervisor's budget is spent"),
        "{doc}"
    );
    assert_eq!(f.runs(), 1, "the second consultation never ran the planner");
}

#[test]
fn a_planner_running_past_its_timeout_is_stopped_and_the_consultation_fails() {
    let f = fleet("", "timeout_secs = 1");
    f.answer(None, VALID);
    std::fs::write(f.planner.path().join("sleep"), "60").unwrap();
    let started = std::time::Instant::now();
    let (code, doc) = f.dry_run("Build an API");
    assert_eq!(code, 1, "{doc}");
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .contains("the planner timed out after 1 s ([supervisor] timeout_secs)"),
        "{doc}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "stopped, not waited for"
    );
}

#[test]
fn plan_schema_needs_no_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["plan", "--schema"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        schema["properties"]["tasks"]["items"]["$ref"],
        "#/$defs/task"
    );
    let required = strings(&schema["$defs"]["task"]["required"]);
    assert_eq!(required, ["id", "title", "prompt", "agent"], "{schema}");
}

#[test]
fn plan_proposes_then_yes_applies_and_history_lists_it() {
    let f = fleet("", "");
    f.answer(None, VALID);
    let out = f.repo.expect(&["plan", "Build an API"], 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("+ add  api: Build the API"), "{stdout}");
    assert!(stdout.contains("layer 1"), "the graph: {stdout}");
    assert!(stdout.contains("API first, then its tests."), "{stdout}");
    assert!(
        stdout.contains("not applied: run again with --yes"),
        "{stdout}"
    );
    assert_eq!(f.repo.status()["tasks"].as_array().unwrap().len(), 0);
    assert_eq!(f.meta("goal").as_deref(), Some("Build an API"));

    let out = f.repo.expect(&["plan", "--yes", "Build an API"], 0);
    assert!(
        text(&out.stdout).contains("applied: 2 change(s)"),
        "{}",
        text(&out.stdout)
    );
    let status = f.repo.status();
    let ids: Vec<&str> = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["api", "api-test"]);

    let history = text(&f.repo.expect(&["plan", "--history"], 0).stdout);
    assert!(
        history.contains("supervisor proposal 2, confirmed: goal: Build an API"),
        "{history}"
    );
    assert!(
        history.contains("    add `api`: Build the API"),
        "{history}"
    );
    let json: Value =
        serde_json::from_slice(&f.repo.expect(&["plan", "--history", "--json"], 0).stdout).unwrap();
    let first = &json["history"][0]["event"];
    assert_eq!(first["origin"], "supervisor");
    assert_eq!(first["auto"], false);
}

#[test]
fn the_simulated_supervisor_plans_a_goal_through_the_same_run() {
    let toml = format!("{SIM_PROFILE}\n[supervisor]\nagent = \"sim\"\n");
    let repo = TestRepo::new(&toml, &[("README.md", "# Sim\n")]);
    let out = repo.fleetdeck(&["plan", "--dry-run", "--json", "Add login"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let specs = doc["proposal"]["specs"].as_array().unwrap();
    assert!(specs.len() >= 2, "{doc}");
    assert_eq!(doc["rounds"], 1);
    let header =
        std::fs::read_to_string(repo.path().join(".fleet/runs/_supervisor/0.jsonl")).unwrap();
    assert!(
        header.lines().next().unwrap().contains("--json-schema"),
        "Claude's format gets the schema option: {header}"
    );
}
