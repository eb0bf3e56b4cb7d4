//! Fan-out and compare with the real binary: one task run by two sim
//! profiles that write different content, the second picked; the first's
//! work saved under `refs/fleet/discarded/...` and never merged; the task
//! done with the pick's commit, and its dependent then runs on it.

mod common;

use common::*;

fn profile(name: &str) -> String {
    format!(
        "\n[agents.{name}]\ncommand = [\"fleetdeck\", \"sim-agent\", \"{{prompt}}\"]\nformat = \"claude\"\nenv = {{ WHO = \"{name}\" }}\n"
    )
}

fn fleet_toml() -> String {
    format!(
        r#"[fleet]
max_parallel = 4

[verify]
commands = ["test -s out.txt"]
{}{}
[[task]]
id = "t"
title = "Say who"
fanout = ["sim-a", "sim-b"]
prompt = '''
run printf '%s\n' "$WHO" > out.txt
'''

[[task]]
id = "after"
agent = "sim-a"
deps = ["t"]
prompt = '''
run cp out.txt seen.txt
'''
"#,
        profile("sim-a"),
        profile("sim-b")
    )
}

fn blob_text(repo: &git2::Repository, tree: &git2::Tree, path: &str) -> String {
    let entry = tree.get_path(std::path::Path::new(path)).unwrap();
    let blob = repo.find_blob(entry.id()).unwrap();
    String::from_utf8_lossy(blob.content()).into_owned()
}

#[test]
fn the_picked_candidate_lands_and_the_other_is_saved_but_never_merged() {
    let repo = TestRepo::new(&fleet_toml(), &[("README", "hi\n")]);
    let out = repo.fleetdeck(&["run", "--headless"]);
    let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(repo.task("t")["status"], "comparing", "{log}");
    assert!(log.contains("fanned out to t--sim-a, t--sim-b"), "{log}");
    for c in ["t--sim-a", "t--sim-b"] {
        let row = repo.task(c);
        assert_eq!(row["status"], "review", "{c}: {row}\n{log}");
        assert_eq!(row["candidate_of"], "t", "{row}");
    }
    assert_eq!(repo.task("t--sim-b")["agent"], "sim-b");
    assert_eq!(repo.task("after")["status"], "queued");

    // `status` lists the candidates under their parent, which says what to do.
    let table = text(&repo.expect(&["status"], 0).stdout);
    let lines: Vec<&str> = table.lines().collect();
    let at = |id: &str| lines.iter().position(|l| l.starts_with(id)).unwrap();
    assert_eq!(at("  t--sim-a"), at("t ") + 1, "{table}");
    assert_eq!(at("  t--sim-b"), at("t ") + 2, "{table}");
    assert!(
        table.contains("pick one (`fleetdeck pick t CANDIDATE`"),
        "{table}"
    );

    // A candidate is picked, not approved.
    let out = repo.expect(&["approve", "t--sim-a"], 1);
    assert!(
        text(&out.stderr).contains("pick it: `fleetdeck pick t t--sim-a`"),
        "{}",
        text(&out.stderr)
    );

    let out = repo.expect(&["pick", "t", "t--sim-b"], 0);
    assert!(
        text(&out.stdout).contains("t: done"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(repo.task("t--sim-b")["status"], "done");
    assert_eq!(repo.task("t--sim-a")["status"], "dropped");
    assert!(!worktree(&repo, "t--sim-a").exists());

    let git = repo.repo();
    let main = git.find_reference("refs/heads/main").unwrap();
    let main_commit = main.peel_to_commit().unwrap();
    assert_eq!(
        blob_text(&git, &main_commit.tree().unwrap(), "out.txt"),
        "sim-b\n"
    );
    let saved = git
        .find_reference("refs/fleet/discarded/t/t--sim-a/1")
        .expect("sim-a's work is saved under refs/fleet/discarded/t/t--sim-a/1");
    let saved = saved.peel_to_commit().unwrap();
    assert_eq!(
        blob_text(&git, &saved.tree().unwrap(), "out.txt"),
        "sim-a\n"
    );
    let main_id = main_commit.id();
    assert!(!git.graph_descendant_of(main_id, saved.id()).unwrap());
    let branch_a = git
        .find_reference("refs/heads/fleet/t--sim-a")
        .and_then(|r| r.peel_to_commit())
        .map(|c| c.id());
    if let Ok(tip) = branch_a {
        assert!(!git.graph_descendant_of(main_id, tip).unwrap() && tip != main_id);
    }
    assert_eq!(repo.merged_tasks(), ["t--sim-b"]);

    // T is done with the pick's commit: its dependent runs on it.
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    assert_eq!(repo.task("after")["status"], "done");
    let git = repo.repo();
    let tip = git
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert_eq!(blob_text(&git, &tip.tree().unwrap(), "seen.txt"), "sim-b\n");

    // A lost database rebuilt from git: the task is done by its picked candidate.
    for name in ["fleet.db", "fleet.db-wal", "fleet.db-shm"] {
        let path = repo.path().join(".fleet").join(name);
        if path.exists() {
            std::fs::remove_file(path).unwrap();
        }
    }
    let out = repo.expect(&["recover"], 0);
    assert!(
        text(&out.stdout).contains("t: done"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(repo.task("t")["status"], "done");
    assert_eq!(repo.task("after")["status"], "done");
}

#[test]
fn a_fanout_naming_one_profile_is_refused_with_its_line() {
    let text_toml = fleet_toml().replace(r#"fanout = ["sim-a", "sim-b"]"#, r#"fanout = ["sim-a"]"#);
    let repo = TestRepo::new(&text_toml, &[("README", "hi\n")]);
    let out = repo.expect(&["status"], 2);
    let err = text(&out.stderr);
    assert!(err.contains("fleet.toml:"), "{err}");
    assert!(
        err.contains("task `t`: fanout needs at least two agent profiles"),
        "{err}"
    );
}

#[test]
fn a_comparing_task_whose_candidates_all_failed_fans_out_afresh_and_keeps_their_work() {
    let toml = fleet_toml()
        .replace("max_parallel = 4", "max_parallel = 4\nmax_attempts = 1")
        .replace(
            r#"commands = ["test -s out.txt"]"#,
            r#"commands = ["grep -q sim-b out.txt"]"#,
        );
    let repo = TestRepo::new(&toml, &[("README", "hi\n")]);
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(repo.task("t")["status"], "comparing");
    assert_eq!(repo.task("t--sim-a")["status"], "failed");
    assert_eq!(repo.task("t--sim-b")["status"], "review");

    let out = repo.expect(&["retry", "t"], 1);
    let err = text(&out.stderr);
    assert!(err.contains("candidates in review (t--sim-b)"), "{err}");
    repo.expect(&["reject", "t--sim-b"], 0);
    assert_eq!(repo.task("t")["status"], "comparing");

    repo.expect(&["retry", "t"], 0);
    assert_eq!(repo.task("t")["status"], "fanned out");
    assert_eq!(repo.task("t--sim-a")["status"], "dropped");
    assert_eq!(repo.task("t--sim-b")["status"], "dropped");
    assert_eq!(repo.task("t--sim-a-2")["candidate_of"], "t");
    assert_eq!(repo.task("t--sim-b-2")["agent"], "sim-b");
    let git = repo.repo();
    for (candidate, who) in [("t--sim-a", "sim-a\n"), ("t--sim-b", "sim-b\n")] {
        let name = format!("refs/fleet/discarded/t/{candidate}/1");
        let saved = git
            .find_reference(&name)
            .unwrap_or_else(|_| panic!("no {name}"));
        let tree = saved.peel_to_commit().unwrap().tree().unwrap();
        assert_eq!(blob_text(&git, &tree, "out.txt"), who, "{name}");
        assert!(!worktree(&repo, candidate).exists(), "{candidate}");
    }

    // The fresh candidates run and are compared again.
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(repo.task("t")["status"], "comparing");
    assert_eq!(repo.task("t--sim-a-2")["status"], "failed");
    assert_eq!(repo.task("t--sim-b-2")["status"], "review");
    assert!(repo.merged_tasks().is_empty());
}
