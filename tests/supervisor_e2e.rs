//! The supervisor end to end through the real binary, with the simulated
//! planner (`fleetdeck sim-agent`): a scope change that keeps done work,
//! `autonomy = "auto"` applying a plan without a prompt and recording why,
//! and a stalled agent nudged by the supervisor that then finishes.

mod common;

use common::{TestRepo, sim_profile_abs};

/// A fleet whose supervisor and workers are the sim agent; `extra` goes
/// into `[supervisor]`.
fn fleet(extra: &str) -> TestRepo {
    let sim = sim_profile_abs();
    let planner = sim.replace("[agents.sim]", "[agents.planner]");
    let toml = format!(
        "[fleet]\nmax_parallel = 2\n\n[supervisor]\nagent = \"planner\"\n{extra}\n{planner}resume = [\"--resume\", \"{{session}}\"]\n{sim}resume = [\"--resume\", \"{{session}}\"]\ncost = \"low\"\n"
    );
    TestRepo::new(&toml, &[("README.md", "# calc\nA tiny calculator.\n")])
}

fn statuses(repo: &TestRepo) -> Vec<(String, String)> {
    let status = repo.status();
    status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn history(repo: &TestRepo) -> Vec<serde_json::Value> {
    let out = repo.expect(&["plan", "--history", "--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["history"].as_array().unwrap().clone()
}

#[test]
fn a_scope_change_keeps_the_work_that_is_done() {
    let repo = fleet("");
    repo.expect(&["plan", "Add a greeting", "--yes"], 0);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let first = statuses(&repo);
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(first.iter().all(|(_, s)| s == "done"), "{first:?}");
    let merged_before = repo.merged_tasks();

    // A new goal on the plan that exists: only new tasks are proposed.
    let out = repo.expect(&["plan", "Add a farewell", "--yes"], 0);
    let printed = common::text(&out.stdout);
    assert!(
        printed.contains("3 added, 0 changed, 0 removed"),
        "{printed}"
    );
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let after = statuses(&repo);
    assert_eq!(after.len(), 6, "{after:?}");
    for (id, status) in &first {
        assert!(
            after.contains(&(id.clone(), status.clone())),
            "`{id}` kept as {status}: {after:?}"
        );
    }
    assert!(after.iter().all(|(_, s)| s == "done"), "{after:?}");
    let merged_after = repo.merged_tasks();
    assert!(merged_before.iter().all(|t| merged_after.contains(t)));
    assert_eq!(
        merged_after.len(),
        6,
        "each task merged once: {merged_after:?}"
    );
    let h = history(&repo);
    assert_eq!(h.len(), 2, "{h:#?}");
    assert!(
        h[1]["event"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("goal: Add a farewell")
    );
}

#[test]
fn autonomy_auto_applies_a_plan_without_asking_and_records_why() {
    let repo = fleet("autonomy = \"auto\"");
    let out = repo.expect(&["plan", "Add a greeting"], 0);
    let printed = common::text(&out.stdout);
    assert!(printed.contains("applied by itself"), "{printed}");
    assert_eq!(statuses(&repo).len(), 3);
    let h = history(&repo);
    assert_eq!(h.len(), 1, "{h:#?}");
    let e = &h[0]["event"];
    assert_eq!(e["origin"], "supervisor");
    assert_eq!(e["auto"], true);
    let reason = e["reason"].as_str().unwrap();
    assert!(reason.starts_with("goal: Add a greeting — "), "{reason}");
    assert_eq!(e["changes"].as_array().unwrap().len(), 3);
}

#[test]
fn a_stalled_agent_is_nudged_by_the_supervisor_and_finishes() {
    let repo = fleet("[supervisor.autonomy]\nretry = \"auto\"");
    // The worker writes its file, then repeats the same call: a loop.
    let mut script = String::from("write work.txt done\\n\\n");
    for _ in 0..40 {
        script.push_str("run sleep 0.25\\n");
    }
    let goal = format!("Loop\nplan-task work | Do the work | | sim | implementer | {script}");
    repo.expect(&["plan", &goal, "--yes"], 0);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);

    let events = repo.events();
    let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
    let at = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k} in {kinds:?}"))
    };
    assert!(at("stalled") < at("nudged"), "{kinds:?}");
    let changed = events
        .iter()
        .find(|(k, _, e)| k == "plan_changed" && e["auto"] == true)
        .expect("the nudge applied by itself");
    let reason = changed.2["reason"].as_str().unwrap();
    assert!(reason.starts_with("`work` stalled: repeats"), "{reason}");
    let task = repo.task("work");
    assert_eq!(task["status"], "done", "{task}");
    assert_eq!(task["tries"], 1, "the nudge used no try: {task}");
    // The resumed session got the supervisor's words.
    let prompts = repo.prompts("work");
    assert!(
        prompts.last().unwrap().contains("You seem stuck"),
        "{prompts:?}"
    );
}

#[test]
fn a_new_viewer_gets_the_past_consultations_and_what_the_planner_said() {
    let repo = fleet("");
    repo.expect(&["plan", "Add a greeting", "--yes"], 0);
    let engine = fleetdeck::runtime::Engine::open(repo.path(), Default::default()).unwrap();
    let snap = engine.snapshot().unwrap();
    let kinds: Vec<&str> = snap
        .supervisor_history
        .iter()
        .map(|(_, e)| e.kind())
        .collect();
    assert_eq!(
        kinds,
        ["consulting", "proposed", "consult_ended", "plan_changed"],
        "{:#?}",
        snap.supervisor_history
    );
    let [(1, lines)] = &snap.supervisor_lines[..] else {
        panic!("{:#?}", snap.supervisor_lines)
    };
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.starts_with("Here is the plan.")),
        "parsed, not stream-json: {lines:#?}"
    );
    assert!(lines.iter().all(|(_, l)| !l.starts_with('{')), "{lines:#?}");
}
