//! Updating a task onto the target after its merge conflicted, end to end:
//! the real binary, real repositories, the simulated agent.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::pty;
use common::*;

/// The verify gate fails while a conflict marker is left in shared.txt.
fn config(fleet: &str, tasks: &[String]) -> String {
    format!(
        "[fleet]\n{fleet}\n[verify]\ncommands = [\"! grep -q '<<<<<<<' shared.txt\"]\n{SIM_PROFILE}{}",
        tasks.concat()
    )
}

/// `one` and `two` change the same line of shared.txt; `two`'s second
/// attempt (the conflict resolution) writes both.
fn conflicting(fleet: &str) -> TestRepo {
    let tasks = [
        task("one", &[], "write shared.txt version one\\n"),
        task(
            "two",
            &[],
            "sleep 300\nwrite shared.txt version two\\n\nif-attempt 2 write shared.txt version one and two\\n",
        ),
    ];
    TestRepo::new(&config(fleet, &tasks), &[("shared.txt", "original\n")])
}

/// A scripted `$EDITOR`: a shell script running `body`, given the files.
fn editor(repo: &TestRepo, body: &str) -> std::path::PathBuf {
    let script = repo.path().join(".fleet/editor.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn read(repo: &TestRepo, rel: &str) -> String {
    std::fs::read_to_string(repo.path().join(rel)).unwrap()
}

/// The repository's first-parent history of main holds one merge per task
/// and nothing else on top of the initial commit.
fn assert_one_merge_per_task(repo: &TestRepo, tasks: &[&str]) {
    let log = repo.first_parent_log();
    assert_eq!(log.len(), tasks.len() + 1, "{log:#?}");
    assert_eq!(repo.merged_tasks(), tasks);
    let r = repo.repo();
    for (oid, _) in &log[..tasks.len()] {
        assert_eq!(
            r.find_commit(*oid).unwrap().parent_count(),
            2,
            "a merge commit"
        );
    }
}

/// Runs until `two`'s merge conflicted, then `fleetdeck update two`: the
/// conflict is in two's worktree. Returns the update's stdout.
fn conflict_after_update(repo: &TestRepo) -> String {
    repo.expect(&["run", "--headless", "--auto-approve"], 1);
    assert_eq!(repo.merged_tasks(), ["one"]);
    assert_eq!(repo.task("two")["reason"], "merge conflict in shared.txt");
    let again = text(&repo.expect(&["approve", "two"], 1).stdout);
    assert!(again.contains("`fleetdeck update two`"), "{again}");
    let out = text(&repo.expect(&["update", "two"], 1).stdout);
    let two = repo.task("two");
    assert_eq!(two["status"], "review", "{two}");
    assert!(
        two["reason"]
            .as_str()
            .unwrap()
            .contains("update conflict in shared.txt"),
        "{two}"
    );
    // Approving it now would merge nothing: refused, nothing merged.
    let refused = text(&repo.expect(&["approve", "two"], 1).stderr);
    assert!(
        refused.contains("unresolved update conflict in shared.txt"),
        "{refused}"
    );
    assert_eq!(repo.merged_tasks(), ["one"]);
    let marked = std::fs::read_to_string(worktree(repo, "two").join("shared.txt")).unwrap();
    assert!(
        marked.contains("<<<<<<< main") && marked.contains("version one"),
        "{marked}"
    );
    assert!(
        marked.contains("version two") && marked.contains(">>>>>>> fleet/two"),
        "{marked}"
    );
    // The Diff tab of a conflicted task shows what its worktree holds.
    let shown = fleetdeck::git::worktree_changes(repo.path(), "two").unwrap();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].path, "shared.txt");
    assert_eq!(shown[0].old.as_deref(), Some("version one\n"));
    assert_eq!(shown[0].new.as_deref(), Some(marked.as_str()));
    out
}

#[test]
fn the_agent_resolves_a_conflicting_update_and_both_changes_land() {
    let repo = conflicting("");
    let out = conflict_after_update(&repo);
    // Which task changed the file on the target, with its title and prompt.
    assert!(out.contains("changed by task `one` \"Task one\""), "{out}");
    assert!(out.contains("write shared.txt version one"), "{out}");
    // u again: the agent resolves it (on the next run).
    repo.expect(&["update", "two"], 0);
    assert_eq!(repo.task("two")["status"], "queued");
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(read(&repo, "shared.txt"), "version one and two\n");
    assert_one_merge_per_task(&repo, &["one", "two"]);
    let prompts = repo.prompts("two");
    assert_eq!(prompts.len(), 2);
    assert!(
        prompts[1].contains("these files conflict: shared.txt"),
        "{}",
        prompts[1]
    );
    assert!(prompts[1].contains("conflict markers"), "{}", prompts[1]);
    let kinds: Vec<String> = repo.events().into_iter().map(|e| e.0).collect();
    assert!(kinds.contains(&"updated".to_owned()), "{kinds:?}");
}

#[test]
fn auto_update_sends_the_agent_without_being_asked() {
    let repo = conflicting("auto_update = true");
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(read(&repo, "shared.txt"), "version one and two\n");
    assert_one_merge_per_task(&repo, &["one", "two"]);
}

#[test]
fn the_user_resolves_a_conflicting_update_in_their_editor() {
    let repo = conflicting("");
    conflict_after_update(&repo);
    // An editor that leaves the markers: refused, with the file named.
    let out = repo
        .command(&["resolve", "two"])
        .env("EDITOR", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("conflict markers") && err.contains("shared.txt"),
        "{err}"
    );
    assert_eq!(repo.task("two")["status"], "review");
    // A scripted editor that resolves the file it is given.
    let script = editor(&repo, "printf 'version one and two\\n' > \"$1\"\n");
    let out = repo
        .command(&["resolve", "two"])
        .env("EDITOR", &script)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Verified by the command itself: back in review, then merged.
    assert_eq!(repo.task("two")["status"], "review");
    repo.expect(&["approve", "two"], 0);
    assert_eq!(read(&repo, "shared.txt"), "version one and two\n");
    assert_one_merge_per_task(&repo, &["one", "two"]);
    // No agent ran again: the resolution is attempt 1's work.
    assert_eq!(repo.prompts("two").len(), 1);
    let (_, msg) = &repo.first_parent_log()[0];
    assert_eq!(trailer(msg, "Fleet-Attempt").as_deref(), Some("1"));
}

#[test]
fn a_clean_update_is_verified_again_and_diffs_only_the_tasks_work() {
    let tasks = [
        task("one", &[], "write a.txt from one\\n"),
        task("two", &[], "sleep 300\nwrite b.txt from two\\n"),
    ];
    let repo = TestRepo::new(&config("", &tasks), &[("shared.txt", "original\n")]);
    // Both wait in review (exit 1: nothing more without a human).
    repo.expect(&["run", "--headless"], 1);
    repo.expect(&["approve", "one"], 0);
    let old_base = repo
        .repo()
        .find_reference("refs/heads/fleet/two")
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .parent_id(0)
        .unwrap();
    // The command itself verifies the updated work again: two is back in
    // review when it returns, approvable at once.
    repo.expect(&["update", "two"], 0);
    assert_eq!(repo.task("two")["status"], "review");
    let r = repo.repo();
    let main = r
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let two = r
        .find_reference("refs/heads/fleet/two")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert_ne!(main.id(), old_base);
    assert_eq!(two.parent_ids().collect::<Vec<_>>(), vec![main.id()]);
    let diff = r
        .diff_tree_to_tree(
            Some(&main.tree().unwrap()),
            Some(&two.tree().unwrap()),
            None,
        )
        .unwrap();
    let paths: Vec<String> = diff
        .deltas()
        .map(|d| d.new_file().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(paths, ["b.txt"]);
    assert!(r.find_reference("refs/fleet/updated/two/1").is_ok());
    // The gate ran again, then two was back in review; it merges.
    let statuses: Vec<String> = repo
        .events()
        .into_iter()
        .filter(|(kind, task, _)| kind == "status" && task.as_deref() == Some("two"))
        .map(|(_, _, d)| d["to"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        statuses.ends_with(&["updating".into(), "verifying".into(), "review".into()]),
        "{statuses:?}"
    );
    repo.expect(&["approve", "two"], 0);
    assert_eq!(read(&repo, "a.txt"), "from one\n");
    assert_eq!(read(&repo, "b.txt"), "from two\n");
    assert_one_merge_per_task(&repo, &["one", "two"]);
}

#[test]
fn the_user_resolves_in_the_cockpit_with_e_and_the_editor_gets_the_keys() {
    let repo = conflicting("");
    conflict_after_update(&repo);
    // An editor that reads the resolution from the terminal: if the cockpit
    // still read the terminal meanwhile, it would take these keys.
    let started = repo.path().join(".fleet/editor-started");
    let script = editor(
        &repo,
        &format!(
            "touch {}\nIFS= read -r line\nprintf '%s\\n' \"$line\" > \"$1\"\n",
            path_str(&started)
        ),
    );
    let mut tty = pty::spawn_with(&[], repo.path(), &[("EDITOR", &path_str(&script))]);
    tty.wait("the board", |s| s.contains("Review"));
    tty.keys(b"ll");
    tty.wait("the conflicted card selected", |s| {
        s.contains("edit yourself")
    });
    tty.keys(b"E");
    wait_for(std::time::Duration::from_secs(30), "the editor", || {
        started.exists().then_some(())
    });
    tty.keys(b"version one and two\r");
    tty.wait("two verified and back in review", |s| {
        s.contains("a approve") && !s.contains("edit yourself")
    });
    tty.keys(b"a");
    wait_for(std::time::Duration::from_secs(30), "two merged", || {
        (repo.merged_tasks().len() == 2).then_some(())
    });
    tty.keys(b"q");
    wait_for(
        std::time::Duration::from_secs(30),
        "the cockpit to quit",
        || tty.child.try_wait().unwrap(),
    );
    assert_eq!(read(&repo, "shared.txt"), "version one and two\n");
    assert_one_merge_per_task(&repo, &["one", "two"]);
    assert_eq!(
        repo.prompts("two").len(),
        1,
        "no agent ran for the resolution"
    );
}
