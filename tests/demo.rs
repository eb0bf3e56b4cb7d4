//! `fleetdeck demo --headless`, the README's main command, ends as designed:
//! the simulated supervisor turns the demo's goal into its plan, the plan
//! runs, `div` fails twice and is split into two parts that finish it.

mod common;

use common::text;

#[test]
fn the_headless_demo_runs_to_its_designed_end() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("demo");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["demo", "--headless", "--long-secs", "1", "--dir"])
        .arg(&repo)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with(&format!("demo repository: {}", repo.display())),
        "{stdout}"
    );
    assert!(stdout.contains("12 of 17 task(s) done"), "{stdout}");
    assert!(
        stdout.contains("supervisor: consulted (goal: Grow tally into a small calculator"),
        "{stdout}"
    );
    assert!(
        stdout.contains("add `bench`: A long benchmark run"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pow                  attempt 1 failed, retrying"),
        "{stdout}"
    );
    assert!(
        stdout.contains("div                  attempt 1 failed, retrying"),
        "{stdout}"
    );
    assert!(
        stdout.contains("supervisor: consulted (`div` failed: failed 2 attempt(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("add `div-1`: Division and remainder (part 1 of 2) (part of `div`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("div-2                merging -> done"),
        "{stdout}"
    );
    assert!(
        stdout.contains("merge conflict in greeting.txt"),
        "{stdout}"
    );
    // The team layer: the group's gate sent its implementer back once with
    // the tester's failing test, then the group landed as one merge; neg
    // waits for the user's pick between its two candidates.
    assert!(
        stdout.contains("sq-impl              grouped -> queued"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sq-docs              merging -> done"),
        "{stdout}"
    );
    assert!(
        stdout.contains("neg                  fanned out -> comparing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mul                  reviewing -> queued"),
        "the reviewer sent mul back: {stdout}"
    );
    let first_parent = std::process::Command::new("git")
        .args(["log", "--first-parent", "--format=%s", "main"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let subjects = text(&first_parent.stdout);
    assert_eq!(
        subjects.matches("fleet/group/sq").count(),
        1,
        "one merge for the whole group: {subjects}"
    );
    let context = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["context", "contract"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        text(&context.stdout).contains("every lib function echoes its result"),
        "{}",
        text(&context.stdout)
    );
    let mul = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["log", "mul", "--attempt", "2"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let mul = text(&mul.stdout);
    assert!(
        mul.contains("> lib/mul.sh:1: name the loop counter"),
        "{mul}"
    );
    assert!(
        mul.contains("[contract] every lib function echoes"),
        "{mul}"
    );
    // The project works after the fleet's merges: its own tests pass.
    let check = std::process::Command::new("sh")
        .arg("test.sh")
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check.stdout));
    let sum = std::process::Command::new("sh")
        .args(["tally.sh", "mul", "4", "3"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(text(&sum.stdout), "12\n");
    for (op, want) in [("div", "3\n"), ("mod", "1\n")] {
        let got = std::process::Command::new("sh")
            .args(["tally.sh", op, "7", "2"])
            .current_dir(&repo)
            .output()
            .unwrap();
        assert_eq!(
            text(&got.stdout),
            want,
            "{op}: the split task's parts both landed"
        );
    }
    // The plan's history says who changed it and why.
    let history = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["plan", "--history"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let history = text(&history.stdout);
    assert!(
        history.contains("applied by itself: `div` failed"),
        "{history}"
    );
    assert!(
        history.contains("split into `div-1` and then `div-2`"),
        "{history}"
    );
    // A second demo into the same place is refused rather than mixed in.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["demo", "--headless", "--dir"])
        .arg(&repo)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("not empty"));
}
