//! Bad configurations given to the real binary: exit code 2 and a message
//! that names the line or the task.

mod common;

use common::*;

fn run_with(config: &str) -> (Option<i32>, String) {
    let repo = TestRepo::new(config, &[]);
    let out = repo.fleetdeck(&["run", "--headless"]);
    (out.status.code(), text(&out.stderr))
}

fn with_tasks(tasks: &str) -> String {
    format!("{SIM_PROFILE}{tasks}")
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let (code, err) = run_with("[fleet]\nmax_parallel = 4\ntarget = \"main\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("fleet.toml:3:15:"), "{err}");
}

#[test]
fn an_unknown_key_is_named() {
    let (code, err) = run_with("[fleet]\nmax_paralel = 4\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("fleet.toml:2:1: unknown field `max_paralel`"),
        "{err}"
    );
}

#[test]
fn an_unknown_dependency_names_the_task_and_its_line() {
    let (code, err) = run_with(&with_tasks(&task("a", &["ghost"], "say hi")));
    assert_eq!(code, Some(2));
    assert!(
        err.contains(":7:6: task `a` depends on `ghost`, which is not a task in the plan"),
        "{err}"
    );
}

#[test]
fn a_duplicate_id_names_the_second_definition() {
    let (code, err) = run_with(&with_tasks(
        &(task("a", &[], "say 1") + &task("a", &[], "say 2")),
    ));
    assert_eq!(code, Some(2));
    assert!(
        err.contains(":16:6: task `a` is defined more than once"),
        "{err}"
    );
}

#[test]
fn a_bad_id_is_explained() {
    let (code, err) = run_with(&with_tasks(&task("Bad_Id", &[], "say 1")));
    assert_eq!(code, Some(2));
    assert!(
        err.contains(":7:6:") && err.contains("`Bad_Id` is not a valid task id"),
        "{err}"
    );
}

#[test]
fn a_cycle_names_its_tasks() {
    let tasks = task("a", &["c"], "say") + &task("b", &["a"], "say") + &task("c", &["b"], "say");
    let (code, err) = run_with(&with_tasks(&tasks));
    assert_eq!(code, Some(2));
    assert!(err.contains("dependency cycle: a -> c -> b -> a"), "{err}");
}

#[test]
fn an_unknown_agent_is_named() {
    let (code, err) = run_with(&with_tasks(
        &task("a", &[], "say").replace("agent = \"sim\"", "agent = \"claude\""),
    ));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("task `a` uses agent `claude`, which is not defined"),
        "{err}"
    );
}

#[test]
fn status_without_a_fleet_says_how_to_start() {
    let repo = TestRepo::new("", &[]);
    std::fs::remove_file(repo.path().join("fleet.toml")).unwrap();
    let out = repo.expect(&["status"], 1);
    assert!(
        text(&out.stderr).contains("fleetdeck init"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !repo.path().join(".fleet").exists(),
        "status creates nothing"
    );
}

#[test]
fn outside_a_repository_the_message_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .arg("-C")
        .arg(dir.path())
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("fleetdeck works inside a git repository"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_cockpit_without_a_fleet_says_how_to_start() {
    let repo = TestRepo::new("", &[]);
    std::fs::remove_file(repo.path().join("fleet.toml")).unwrap();
    let out = repo.expect(&[], 2);
    let err = text(&out.stderr);
    assert!(
        err.contains("there is no fleet.toml")
            && err.contains("fleetdeck init")
            && err.contains("fleetdeck demo"),
        "{err}"
    );
}

#[test]
fn a_supervisor_with_an_unknown_agent_or_routing_is_named_with_its_line() {
    let config = format!(
        "{SIM_PROFILE}\n[supervisor]\nagent = \"planner\"\nrouting = [{{ role = \"tester\", agent = \"codex\" }}]\nautonomy = {{ split = \"always\" }}\n"
    );
    let (code, err) = run_with(&config);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(":7:9: [supervisor] agent `planner` is not a profile (known: sim)"),
        "{err}"
    );
    assert!(
        err.contains(
            ":8:12: [supervisor] routing: role `tester` goes to agent `codex`, which is not a profile (known: sim)"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            ":9:12: [supervisor] autonomy: split = \"always\": expected \"confirm\" or \"auto\""
        ),
        "{err}"
    );
}
