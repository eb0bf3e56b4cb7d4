//! `fleetdeck demo --headless`, the README's main command, ends as designed.

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
    assert!(stdout.contains("7 of 8 task(s) done"), "{stdout}");
    assert!(
        stdout.contains("pow                  attempt 1 failed, retrying"),
        "{stdout}"
    );
    assert!(
        stdout.contains("merge conflict in greeting.txt"),
        "{stdout}"
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
    // A second demo into the same place is refused rather than mixed in.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["demo", "--headless", "--dir"])
        .arg(&repo)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("not empty"));
}
