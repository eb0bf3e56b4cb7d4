//! End to end: the real binary in a pseudo-terminal. `fleetdeck demo` opens
//! the cockpit (with `--autonomy auto`, the supervisor's plan for the demo's
//! goal applies by itself); we wait for a task in Review, open its diff,
//! approve it, see it reach Done, and quit cleanly — reading the screen like
//! a user.

mod common;

use std::time::Duration;

use common::pty::spawn;

/// The line of the screen that contains `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(needle))
}

/// The board column (0 Queued .. 3 Done) where `needle` is drawn, on a 120-column screen.
fn column_of(screen: &str, needle: &str) -> Option<usize> {
    line_with(screen, needle)
        .and_then(|l| l.chars().collect::<String>().find(needle))
        .map(|byte| byte / 30)
}

#[test]
fn demo_review_the_diff_approve_and_quit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("demo");
    let mut tty = spawn(
        &[
            "demo",
            "--long-secs",
            "120",
            "--dir",
            repo.to_str().unwrap(),
        ],
        dir.path(),
    );

    // The demo starts from a goal: the supervisor's plan arrives as a plan
    // diff, and Enter applies it.
    tty.wait_at_most(Duration::from_secs(30), "the plan diff", |s| {
        s.contains("Proposal 1 from the supervisor") && s.contains("enter apply")
    });
    tty.keys(b"\r");

    // div fails twice within seconds; the supervisor proposes to split
    // it, and one key (Enter) confirms the split.
    let split_shown = |s: &str| s.contains("from the supervisor") && s.contains("part of `div`");
    let split = tty.wait_at_most(Duration::from_secs(60), "the split proposal", |s| {
        split_shown(s) || s.contains("waiting: Y")
    });
    if !split_shown(&split) {
        tty.keys(b"Y");
    }
    let split = tty.wait("the split's plan diff", split_shown);
    assert!(split.contains("drop `div`"), "{split}");
    tty.keys(b"\r");

    // The plan runs: mul waits in Review (add, which it needs, merged by
    // itself; the reviewer agent sent mul back once), pow is queued behind
    // mul, bench runs, div's parts are on the board. Within 30 seconds.
    tty.wait_at_most(
        Duration::from_secs(30),
        "pow queued, mul in Review, bench running, div split",
        |s| {
            column_of(s, "pow Powers") == Some(0)
                && column_of(s, "mul Multiply") == Some(2)
                && column_of(s, "bench A long") == Some(1)
                && s.contains("div-1")
                && !split_shown(s)
        },
    );
    let header = tty.contents().lines().next().unwrap_or_default().to_owned();
    // The repository is named (its path shortened from the left when the
    // header's alerts need the room).
    assert!(
        header.contains(&repo.display().to_string()) || header.contains("…/demo → main"),
        "the demo repository's path is shown: {header}"
    );

    // Go to the Review column, to its top card (mul, first in plan order), open it, switch to its diff.
    tty.keys(b"llg");
    tty.wait("the Review column focused", |s| s.contains("a approve"));
    tty.keys(b"\r");
    tty.wait("the task detail of mul", |s| {
        s.contains("mul [review]") && s.contains("Transcript")
    });
    tty.keys(b"\t");
    tty.wait("the diff of mul", |s| {
        s.contains("lib/mul.sh") && s.contains("mul()")
    });

    // Approve: the task merges and reaches Done.
    tty.keys(b"a");
    tty.wait("mul merged", |s| s.contains("mul [done]"));
    tty.keys(b"\x1b");
    tty.wait("the board again", |s| {
        s.contains("Done") && s.contains("fleetdeck")
    });

    // Quit: bench is still running, so it asks first.
    tty.keys(b"q");
    tty.wait("the quit question", |s| {
        s.contains("agent(s) are running. Quit?")
    });
    tty.keys(b"y");
    let status = tty.exit_status();
    assert!(status.success(), "exit status {status:?}");
    let after = tty.wait("the normal screen back", |s| {
        s.contains("running agent(s); their attempts are redone")
    });
    assert!(after.contains("demo repository:"), "{after}");

    // The approved merge is really in the repository, and div is split.
    let git = git2::Repository::open(&repo).unwrap();
    let mut walk = git.revwalk().unwrap();
    walk.push_head().unwrap();
    let merged = walk
        .filter_map(Result::ok)
        .filter_map(|oid| git.find_commit(oid).ok())
        .any(|c| c.message().is_ok_and(|m| m.starts_with("Merge fleet/mul")));
    assert!(merged, "mul's merge is on the target");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["-C", repo.to_str().unwrap(), "status", "--json"])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.contains("\"div-1\""), "{status}");
}

/// Every attempt can be read: a task whose first attempt fails its verify
/// gate and whose second passes; in the cockpit, attempt 1's transcript is
/// one key away, with its verify output, its failed command unfolded, a
/// long output folded, and worktree paths relative.
#[test]
fn an_earlier_attempt_and_its_verify_output_are_read_in_the_cockpit() {
    let sim = common::sim_profile_abs();
    let script = [
        "write a.txt work\\n",
        "run printf 'one\\ntwo\\nthree\\n'",
        "run echo $PWD/notes.txt",
        "if-attempt 1 run echo first failure line; echo second failure line; exit 3",
        "if-attempt 2 write ok.txt fine\\n",
    ]
    .join("\n");
    let toml = format!(
        "[verify]\ncommands = [\"test -f ok.txt || {{ echo verify-says-ok.txt-is-missing; exit 1; }}\"]\n{sim}{}",
        common::task("t", &[], &script)
    );
    let repo = common::TestRepo::new(&toml, &[]);
    let mut tty = spawn(&[], repo.path());
    tty.wait("t in Review after its second attempt", |s| {
        column_of(s, "t Task t") == Some(2)
    });
    tty.press(b"ll", "the Review column focused", |s| {
        s.contains("a approve")
    });
    let newest = tty.press(b"\r", "the transcript of attempt 2", |s| {
        s.contains("t [review]") && s.contains("attempt 2 of 2")
    });
    assert!(!newest.contains("second failure line"), "{newest}");

    let older = tty.press(b"[", "attempt 1", |s| {
        s.contains("attempt 1 of 2 (older)") && s.contains("verify-says-ok.txt-is-missing")
    });
    // The failed command's output is open, the long one folded, paths relative.
    assert!(older.contains("first failure line"), "{older}");
    assert!(older.contains("second failure line"), "{older}");
    assert!(older.contains("+ one … (3 lines)"), "{older}");
    assert!(line_with(&older, "↳ notes.txt").is_some(), "{older}");
    assert!(!older.contains(".fleet/worktrees/t"), "{older}");

    tty.press(b"\r", "the long output unfolded in place", |s| {
        let three = s
            .lines()
            .any(|l| l.trim_end().ends_with(" three") && !l.contains("printf"));
        s.contains("- one … (3 lines)") && three
    });
    tty.press(b"v", "the verify output again", |s| {
        s.contains("verify-says-ok.txt-is-missing") && s.contains("verify: test -f ok.txt")
    });
    tty.press(b"]", "attempt 2 again", |s| s.contains("attempt 2 of 2"));

    tty.press(b"\x1b", "the board again", |s| !s.contains("t [review]"));
    tty.keys(b"q");
    let status = tty.exit_status();
    assert!(status.success(), "exit status {status:?}");
}
