//! The supervisor in the cockpit, through the real binary in a
//! pseudo-terminal: a goal entered with `o` comes back from the planner
//! (the script planner `tests/agents/planner.sh`) as a plan diff; its graph
//! is one tab away; one change is turned off, the rest confirmed, and the
//! tasks appear on the board — the one turned off does not.

mod common;

use std::path::PathBuf;

use common::pty::spawn_with;
use common::*;

const ANSWER: &str = r#"{"tasks": [
  {"id": "api", "title": "Build the API", "prompt": "write src/api.rs api", "agent": "sim", "role": "implementer", "files": ["src/api.rs"]},
  {"id": "api-test", "title": "Test the API", "prompt": "write tests/api.rs test", "agent": "sim", "role": "tester", "deps": ["api"], "files": ["tests/api.rs"]},
  {"id": "docs", "title": "Document the API", "prompt": "write docs.md docs", "agent": "sim", "role": "writer", "files": ["README.md"]}
], "notes": "The API first, then its tests; the docs alongside."}"#;

#[test]
fn a_goal_becomes_a_plan_diff_with_a_graph_and_the_confirmed_tasks_appear() {
    let planner = tempfile::tempdir().unwrap();
    std::fs::write(planner.path().join("answer"), ANSWER).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/agents/planner.sh");
    let toml = format!(
        r#"{sim}
[verify]
commands = ["true"]

[agents.planner]
command = [{script:?}, "--prompt", "{{prompt}}"]
format = "text"
env = {{ PLANNER_DIR = {dir:?} }}

[supervisor]
agent = "planner"
"#,
        sim = sim_profile_abs(),
        script = script.to_string_lossy(),
        dir = planner.path().to_string_lossy(),
    );
    let repo = TestRepo::new(&toml, &[("README.md", "# Hello\n")]);
    let mut tty = spawn_with(&[], repo.path(), &[]);
    tty.wait("the board", |s| {
        s.contains("o goal") && s.contains("Queued")
    });

    tty.press(b"o", "the goal editor", |s| {
        s.contains("Goal for the supervisor")
    });
    // An empty goal is refused in place.
    tty.press(b"\x13", "the refusal", |s| {
        s.contains("write the goal first")
    });
    tty.keys(b"Build an API with tests and docs");
    tty.press(b"\x13", "the plan diff", |s| {
        s.contains("Proposal 1 from the supervisor")
            && s.contains("[x] + add `api-test`")
            && s.contains("The API first")
    });
    assert_eq!(
        std::fs::read_to_string(planner.path().join("count"))
            .unwrap()
            .trim(),
        "1"
    );
    let prompt = std::fs::read_to_string(planner.path().join("prompt-1")).unwrap();
    assert!(
        prompt.contains("Build an API with tests and docs"),
        "{prompt}"
    );

    // The graph: api-test one layer below api.
    let graph = tty.press(b"\t", "the graph", |s| s.contains("layer 1 (1 task)"));
    assert!(graph.contains("* api-test"), "{graph}");
    tty.press(b"\t", "the changes again", |s| {
        s.contains("[x] + add `docs`")
    });

    // docs off, the rest confirmed.
    tty.press(b"jj ", "docs turned off", |s| {
        s.contains("[ ] + add `docs`")
    });
    tty.press(b"\r", "the tasks on the board", |s| {
        s.contains("api Build the API")
            && s.contains("api-test Test the API")
            && !s.contains("Proposal 1")
    });
    let board = tty.wait("api in Review, api-test waiting for it", |s| {
        s.contains("review 1") && s.contains("blocked: api")
    });
    assert!(
        !board.contains("docs Document"),
        "docs was turned off: {board}"
    );
    assert!(!board.contains("waiting: Y"), "nothing waits: {board}");

    // The supervisor pane shows the consultation and its outcome.
    tty.press(b"S", "the supervisor pane", |s| {
        s.contains("Supervisor (planner)") && s.contains("proposal 1 applied")
    });
    tty.press(b"\x1b", "the board", |s| s.contains("o goal"));
    tty.quit();
}
