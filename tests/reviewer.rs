//! The reviewer agent before the human, and roles, with the real binary on
//! real repositories: the sim reviewer (`sim-review ...` in the reviewed
//! task's prompt) requests changes on a line, the agent's next attempt is
//! told `path:line: text`, the next round approves and the task waits for
//! the human with the verdict in `status --json` and `log`; auto-approval
//! on review merges; a reviewer that answers bad JSON twice leaves the
//! human to review alone; a role's preamble opens the prompt; an unknown
//! role is a configuration error with its position.

mod common;

use std::time::Duration;

use common::*;

const REVIEWER: &str = r#"
[agents.rev]
command = ["fleetdeck", "sim-agent", "{prompt}"]
format = "claude"
"#;

fn fleet(review: &str, tasks: &str) -> String {
    format!(
        "[verify]\ncommands = [\"test -f src/div.rs\"]\n{SIM_PROFILE}{REVIEWER}\n[review]\nagent = \"rev\"\n{review}\n{tasks}"
    )
}

fn kinds(repo: &TestRepo, kind: &str) -> Vec<serde_json::Value> {
    repo.events()
        .into_iter()
        .filter(|(k, _, _)| k == kind)
        .map(|(_, _, d)| d)
        .collect()
}

#[test]
fn changes_requested_on_a_line_reach_the_agent_then_the_approval_reaches_the_human() {
    let script = "write src/div.rs pub fn div(a: i32, b: i32) -> i32 { a / b }\\n\n\
                  if-attempt 2 append src/div.rs // zero is checked\\n\n\
                  sim-review changes src/div.rs 1 handle division by zero";
    let repo = TestRepo::new(&fleet("rounds = 1", &task("div", &[], script)), &[]);
    repo.expect(&["run", "--headless"], 1); // a task waits for the human

    let prompts = repo.prompts("div");
    assert_eq!(prompts.len(), 2, "{prompts:#?}");
    assert!(
        prompts[1].contains("> src/div.rs:1: handle division by zero"),
        "{}",
        prompts[1]
    );
    assert!(prompts[1].contains("The reviewer agent looked at the result of attempt 1"));
    let row = repo.task("div");
    assert_eq!(row["status"], "review", "{row}");
    let review = &row["review"];
    assert_eq!(review["verdict"], "approve", "{row}");
    assert_eq!(
        (review["round"].as_u64(), review["attempt"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(review["agent"], "rev");
    let asked = kinds(&repo, "changes_requested");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(kinds(&repo, "reviewed").len(), 2);
    for name in ["review-1.1.jsonl", "review-2.2.jsonl"] {
        assert!(
            repo.path().join(".fleet/runs/div").join(name).is_file(),
            "{name}"
        );
    }
    // The reviewer worked in its own detached worktree at the gated commit.
    let scratch = git2::Repository::open(repo.path().join(".fleet/scratch/review-div")).unwrap();
    assert!(scratch.head_detached().unwrap());
    let log = text(&repo.expect(&["log", "div"], 0).stdout);
    assert!(
        log.contains("== reviewer\nreview round 2 of attempt 2 by rev: approved"),
        "{log}"
    );
    assert!(
        repo.merged_tasks().is_empty(),
        "the human has the last word"
    );
}

#[test]
fn auto_approve_on_review_merges_an_approved_task() {
    let script = "write src/div.rs pub fn div() {}\\n\nsim-review approve";
    let repo = TestRepo::new(
        &fleet("auto_approve_on_review = true", &task("div", &[], script)),
        &[],
    );
    repo.expect(&["run", "--headless"], 0);
    assert_eq!(repo.task("div")["status"], "done");
    assert_eq!(repo.merged_tasks(), ["div"]);
    assert_eq!(repo.task("div")["review"]["verdict"], "approve");
    assert!(
        !repo.path().join(".fleet/scratch/review-div").exists(),
        "the reviewer's worktree goes with the task's"
    );
    assert!(!repo.path().join(".git/worktrees/_review-div").exists());
}

#[test]
fn a_reviewer_answering_bad_json_twice_leaves_the_human_to_review_alone() {
    let script = "write src/div.rs pub fn div() {}\\n\nsim-review bad-json";
    let repo = TestRepo::new(
        &fleet("auto_approve_on_review = true", &task("div", &[], script)),
        &[],
    );
    repo.expect(&["run", "--headless"], 1); // a task waits for the human
    let row = repo.task("div");
    assert_eq!(row["status"], "review", "{row}");
    assert!(row.get("review").is_none(), "{row}");
    let failed = kinds(&repo, "review_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let message = failed[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("the reviewer gave no valid verdict, also when asked again:"),
        "{message}"
    );
    let t = std::fs::read_to_string(repo.path().join(".fleet/runs/div/review-1.1.jsonl")).unwrap();
    assert!(t.contains("asking the reviewer again"), "{t}");
    assert!(repo.merged_tasks().is_empty());
}

#[test]
fn a_roles_preamble_opens_the_prompt_and_its_tasks_outside_the_review_go_to_the_human() {
    let tasks = format!(
        "{}role = \"documenter\"\n",
        task("docs", &[], "write src/div.rs docs\\n")
    );
    let repo = TestRepo::new(&fleet("roles = [\"tester\"]", &tasks), &[]);
    repo.expect(&["run", "--headless"], 1); // a task waits for the human
    let prompts = repo.prompts("docs");
    assert!(
        prompts[0].starts_with("## Your role: documenter\n\nYou document"),
        "{}",
        prompts[0]
    );
    assert_eq!(repo.task("docs")["status"], "review");
    assert!(kinds(&repo, "reviewed").is_empty());
}

#[test]
fn an_unknown_role_in_fleet_toml_is_an_error_with_its_position() {
    let tasks = format!("{}role = \"writer\"\n", task("docs", &[], "write a b"));
    let repo = TestRepo::new(&fleet("", &tasks), &[]);
    let out = repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("fleet.toml:"), "{err}");
    assert!(
        err.contains("task `docs` has role `writer`, which is not a role (known: documenter, implementer, planner, reviewer, tester)"),
        "{err}"
    );
}

#[test]
fn a_read_only_roles_changes_are_saved_not_committed_and_the_outcome_says_why() {
    let tasks = format!(
        "{}role = \"auditor\"\n\n[roles.auditor]\npreamble = \"You audit.\"\nmay_change_files = false\n",
        task("audit", &[], "write src/div.rs oops\\n")
    );
    let config = format!("[fleet]\nmax_attempts = 1\n{}", fleet("", &tasks));
    let repo = TestRepo::new(&config, &[]);
    repo.expect(&["run", "--headless"], 1);
    let row = repo.task("audit");
    assert_eq!(row["status"], "failed", "{row}");
    let message = row["history"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("role `auditor` may not change files (may_change_files = false): the changes were saved under refs/fleet/discarded/audit/1, not committed"),
        "{row}"
    );
    let git = repo.repo();
    let saved = git.find_reference("refs/fleet/discarded/audit/1").unwrap();
    let tree = saved.peel_to_commit().unwrap().tree().unwrap();
    assert!(tree.get_path(std::path::Path::new("src/div.rs")).is_ok());
    let branch = git
        .find_branch("fleet/audit", git2::BranchType::Local)
        .unwrap();
    let tip = branch.get().peel_to_commit().unwrap();
    assert!(
        tip.tree()
            .unwrap()
            .get_path(std::path::Path::new("src/div.rs"))
            .is_err(),
        "nothing committed"
    );
    assert!(
        !worktree(&repo, "audit").join("src/div.rs").exists(),
        "the worktree is back at its base"
    );
}

#[test]
fn a_task_in_review_when_the_engine_is_killed_is_reviewed_again_at_the_next_start() {
    let script = "write src/div.rs pub fn div() {}\\n\nsim-review sleep 2000\nsim-review approve";
    let repo = TestRepo::new(&fleet("", &task("div", &[], script)), &[]);
    let mut engine = escape::start_headless(&repo, &[]);
    wait_for(Duration::from_secs(30), "the task to be reviewed", || {
        repo.try_task("div")
            .filter(|t| t["status"] == "reviewing")
            .map(|_| ())
    });
    escape::sigkill(engine.id() as i32);
    let _ = engine.wait();
    escape::assert_fleet_gone(&repo);
    assert!(kinds(&repo, "reviewed").is_empty());
    repo.expect(&["run", "--headless", "--resume"], 1);
    let row = repo.task("div");
    assert_eq!(row["status"], "review", "{row}");
    assert_eq!(row["review"]["verdict"], "approve", "{row}");
    assert_eq!(kinds(&repo, "reviewed").len(), 1);
    assert_eq!(repo.prompts("div").len(), 1, "the agent did not run again");
}

#[test]
fn what_the_reviewer_changes_in_its_scratch_worktree_is_discarded_with_a_warning() {
    let script =
        "write src/div.rs pub fn div() {}\\n\nsim-review scribble notes.md\nsim-review approve";
    let repo = TestRepo::new(&fleet("", &task("div", &[], script)), &[]);
    repo.expect(&["run", "--headless"], 1);
    assert_eq!(repo.task("div")["review"]["verdict"], "approve");
    let t = std::fs::read_to_string(repo.path().join(".fleet/runs/div/review-1.1.jsonl")).unwrap();
    assert!(
        t.contains("the reviewer changed notes.md in its read-only scratch worktree: discarded"),
        "{t}"
    );
    assert!(
        !repo
            .path()
            .join(".fleet/scratch/review-div/notes.md")
            .exists()
    );
    assert!(!worktree(&repo, "div").join("notes.md").exists());
}
