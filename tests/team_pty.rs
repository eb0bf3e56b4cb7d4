//! The team layer in the cockpit, end to end: the real binary in a
//! pseudo-terminal on `fleetdeck demo --autonomy auto` (its plan applies by
//! itself). The agents' messages in the Messages pane, the shared context
//! in the Context pane (an entry added by the user, a bad scope refused
//! with the draft kept), and the fan-out task's candidates side by side,
//! one picked: it lands, the other is saved under `refs/fleet/discarded/`.

mod common;

use std::time::Duration;

use common::pty::{Tty, spawn};

/// Opens the compare view of `neg` from the Review column (its card's
/// place there depends on what else waits in review).
fn open_compare(tty: &mut Tty) -> String {
    for down in 0..10 {
        tty.keys(b"hhhllg"); // the Review column, its top card
        tty.wait("the Review column focused", |s| s.contains("a approve"));
        for _ in 0..down {
            tty.keys(b"j");
        }
        tty.keys(b"\r");
        let screen = tty.wait("a card opened", |s| {
            s.contains("Compare `neg`") || s.contains("Transcript")
        });
        if screen.contains("Compare `neg`") {
            return screen;
        }
        tty.keys(b"\x1b");
        tty.wait("the board again", |s| s.contains("Queued"));
    }
    panic!("no card in the Review column opens the comparison of `neg`");
}

#[test]
fn messages_context_and_the_side_by_side_candidates_in_the_cockpit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("demo");
    let mut tty = spawn(
        &[
            "demo",
            "--autonomy",
            "auto",
            "--long-secs",
            "120",
            "--dir",
            repo.to_str().unwrap(),
        ],
        dir.path(),
    );
    // greet-fr's blocker names it in the header; M opens the messages.
    tty.wait_at_most(Duration::from_secs(30), "the blocker in the header", |s| {
        s.contains("blocker: greet-fr (M)")
    });
    tty.keys(b"M");
    let messages = tty.wait_at_most(Duration::from_secs(30), "the agents' messages", |s| {
        s.contains("Messages (") && s.contains("contract") && s.contains("progress")
    });
    assert!(
        messages.contains("greet-fr blocker"),
        "the blocker is listed: {messages}"
    );
    assert!(
        messages.contains("every lib function echoes its result"),
        "{messages}"
    );

    // The Context pane: add's contract is there; the user adds a convention.
    tty.keys(b"\x1b");
    tty.wait("the board again", |s| s.contains("Queued"));
    tty.press(b"C", "the team context", |s| {
        s.contains("Team context") && s.contains("every lib function echoes")
    });
    tty.press(b"a", "the kind picker", |s| s.contains("convention"));
    tty.keys(b"jjj\r");
    tty.wait("the editor", |s| s.contains("New convention"));
    tty.keys(b"Shell functions are lowercase\rscope: paths=lib oops=1");
    tty.press(b"\x13", "the bad scope refused", |s| {
        s.contains("unknown scope `oops`")
    });
    // The draft is kept: only the bad part is removed.
    tty.keys(&[0x7f; 7]);
    tty.press(b"\x13", "the entry in the list", |s| {
        s.contains("convention") && s.contains("paths=lib") && !s.contains("New convention")
    });
    let context = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["context", "lowercase"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let context = String::from_utf8_lossy(&context.stdout).into_owned();
    assert!(
        context.contains("[convention] Shell functions are lowercase (the user; for paths lib)"),
        "an agent's `fleetdeck context` reads it: {context}"
    );

    // neg ran once per profile: its candidates side by side; pick the second.
    tty.keys(b"\x1b");
    tty.wait("the board again", |s| s.contains("Queued"));
    tty.wait_at_most(Duration::from_secs(60), "neg comparing", |s| {
        s.contains("2 candidates, pick one")
    });
    let compare = open_compare(&mut tty);
    assert!(
        compare.contains("neg--builder") && compare.contains("neg--checker"),
        "{compare}"
    );
    assert!(
        compare.contains("gate    passed"),
        "gate results: {compare}"
    );
    tty.keys(b"\x1b[C"); // → the second candidate
    tty.press(b"p", "the pick question", |s| {
        s.contains("Pick `neg--checker` (checker) for `neg`?")
    });
    tty.keys(b"y");
    tty.wait_at_most(Duration::from_secs(30), "the pick landed", |s| {
        s.contains("status  done") && s.contains("status  dropped")
    });
    tty.keys(b"\x1b");
    tty.wait("the board again", |s| s.contains("Queued"));
    let status = tty.quit();
    assert!(status.success(), "exit status {status:?}");

    let git = git2::Repository::open(&repo).unwrap();
    let main = git.find_branch("main", git2::BranchType::Local).unwrap();
    let tree = main.get().peel_to_tree().unwrap();
    let blob = tree
        .get_path(std::path::Path::new("lib/neg.sh"))
        .unwrap()
        .to_object(&git)
        .unwrap();
    let neg = String::from_utf8_lossy(blob.as_blob().unwrap().content()).into_owned();
    assert!(
        neg.contains("by neg--checker"),
        "the picked one landed: {neg}"
    );
    let saved = git
        .find_reference("refs/fleet/discarded/neg/neg--builder/1")
        .expect("the other candidate's work is saved");
    let saved = saved.peel_to_commit().unwrap().id();
    let tip = main.get().peel_to_commit().unwrap().id();
    assert!(
        !git.graph_descendant_of(tip, saved).unwrap() && tip != saved,
        "the saved candidate is not on main"
    );
}
