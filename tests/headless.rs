//! End-to-end runs of `fleetdeck run --headless` on real repositories with the simulated agent.

mod common;

use std::time::Duration;

use common::*;

fn config(fleet: &str, verify: &str, tasks: &[String]) -> String {
    format!(
        "[fleet]\n{fleet}\n[verify]\ncommands = [{verify}]\n{SIM_PROFILE}{}",
        tasks.concat()
    )
}

#[test]
fn a_chain_and_a_diamond_all_merge_in_dependency_order_with_trailers() {
    let tasks = [
        task("base", &[], "write base.txt base\\n"),
        task(
            "left",
            &["base"],
            "write left.txt left\\n\nrun cat base.txt",
        ),
        task("right", &["base"], "write right.txt right\\n"),
        task("join", &["left", "right"], "write join.txt joined\\n"),
        task("after", &["join"], "append base.txt more\\n"),
        task("last", &["after"], "write last.txt last\\n\ncost 0.25"),
    ];
    let repo = TestRepo::new(
        &config("max_parallel = 4", "\"test -f base.txt\"", &tasks),
        &[("README", "hi\n")],
    );
    let out = repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("6 of 6 task(s) done"), "{stdout}");
    assert!(
        stdout.contains("join                 merging -> done"),
        "{stdout}"
    );

    let merged = repo.merged_tasks();
    assert_eq!(merged.len(), 6, "{merged:?}");
    let pos = |t: &str| merged.iter().position(|m| m == t).unwrap();
    for (task, deps) in [
        ("left", vec!["base"]),
        ("right", vec!["base"]),
        ("join", vec!["left", "right"]),
        ("after", vec!["join"]),
        ("last", vec!["after"]),
    ] {
        for d in deps {
            assert!(
                pos(d) < pos(task),
                "{d} must merge before {task}: {merged:?}"
            );
        }
    }
    // Every merge and every agent commit carries the three trailers.
    let repo_git = repo.repo();
    for (oid, msg) in repo
        .first_parent_log()
        .into_iter()
        .filter(|(_, m)| m.starts_with("Merge fleet/"))
    {
        let task = trailer(&msg, "Fleet-Task").unwrap();
        assert_eq!(trailer(&msg, "Fleet-Agent").as_deref(), Some("sim"));
        assert_eq!(trailer(&msg, "Fleet-Attempt").as_deref(), Some("1"));
        let commit = repo_git.find_commit(oid).unwrap();
        assert_eq!(commit.parent_count(), 2);
        let agent_commit = commit.parent(1).unwrap();
        let amsg = agent_commit.message().unwrap();
        assert_eq!(
            trailer(amsg, "Fleet-Task").as_deref(),
            Some(task.as_str()),
            "{amsg}"
        );
        assert_eq!(trailer(amsg, "Fleet-Agent").as_deref(), Some("sim"));
        assert_eq!(trailer(amsg, "Fleet-Attempt").as_deref(), Some("1"));
    }
    // The user's checkout follows main, and fleetdeck's state is invisible to git.
    assert_eq!(
        std::fs::read_to_string(repo.path().join("base.txt")).unwrap(),
        "base\nmore\n"
    );
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).include_ignored(false);
    let statuses = repo_git.statuses(Some(&mut opts)).unwrap();
    assert!(
        statuses.is_empty(),
        "{:?}",
        statuses
            .iter()
            .map(|s| s.path().unwrap().to_owned())
            .collect::<Vec<_>>()
    );
    // Status reports cost and the column.
    let last = repo.task("last");
    assert_eq!(last["column"], "done");
    assert_eq!(last["cost_usd"], 0.25);
    // Spending per agent profile and in total.
    let doc = repo.status();
    assert_eq!(doc["agents"][0]["agent"], "sim");
    assert_eq!(doc["agents"][0]["attempts"], 6);
    assert_eq!(doc["agents"][0]["cost_usd"], 0.25);
    assert_eq!(doc["total"]["cost_usd"], 0.25);
    assert!(doc["total"]["tokens"].as_u64().unwrap() > 0);
    assert!(last["tokens"].as_u64().unwrap() > 0);
}

/// The largest number of agents running at once according to the event log, overall and per agent.
fn max_concurrency(repo: &TestRepo) -> (usize, std::collections::HashMap<String, usize>) {
    let mut running: std::collections::HashMap<String, String> = Default::default();
    let mut max = 0;
    let mut per: std::collections::HashMap<String, usize> = Default::default();
    for (kind, task, detail) in repo.events() {
        let task = task.unwrap_or_default();
        match kind.as_str() {
            "agent_started" => {
                running.insert(task, detail["agent"].as_str().unwrap().to_owned());
            }
            "agent_ended" => {
                running.remove(&task);
            }
            _ => continue,
        }
        max = max.max(running.len());
        for agent in running.values() {
            let n = running.values().filter(|a| *a == agent).count();
            let e = per.entry(agent.clone()).or_default();
            *e = (*e).max(n);
        }
    }
    (max, per)
}

#[test]
fn caps_limit_agents_running_at_once() {
    let mut plan = "[fleet]\nmax_parallel = 2\n[verify]\ncommands = []\n".to_owned();
    plan.push_str(SIM_PROFILE);
    plan.push_str("\n[agents.slow]\ncommand = [\"fleetdeck\", \"sim-agent\", \"{prompt}\"]\nformat = \"claude\"\nmax_parallel = 1\n");
    for i in 0..6 {
        let agent = if i % 2 == 0 { "sim" } else { "slow" };
        plan.push_str(&format!("\n[[task]]\nid = \"t{i}\"\nagent = \"{agent}\"\nprompt = \"sleep 150\\nwrite f{i}.txt {i}\\\\n\"\n"));
    }
    let repo = TestRepo::new(&plan, &[]);
    repo.expect(&["run", "--headless", "--auto-approve"], 0);
    let (max, per) = max_concurrency(&repo);
    assert_eq!(max, 2, "the global cap is reached but never exceeded");
    assert_eq!(per["slow"], 1, "{per:?}");
    assert_eq!(repo.merged_tasks().len(), 6);
}

#[test]
fn a_failing_verify_is_retried_with_its_output_then_the_task_fails() {
    let tasks = [
        task("flaky", &[], "write out.txt attempt\\n"),
        task("ok", &[], "write ok.txt ok\\n"),
    ];
    let verify = "\"test -f ok.txt || { echo 'expected ok.txt to exist'; exit 3; }\"";
    let repo = TestRepo::new(&config("max_attempts = 2", verify, &tasks), &[]);
    repo.expect(&["run", "--headless", "--auto-approve"], 1);
    let flaky = repo.task("flaky");
    assert_eq!(flaky["status"], "failed");
    assert_eq!(flaky["attempts"], 2);
    assert!(
        flaky["reason"]
            .as_str()
            .unwrap()
            .contains("failed 2 attempt(s)"),
        "{flaky}"
    );
    let prompts = repo.prompts("flaky");
    assert_eq!(prompts.len(), 2);
    assert!(!prompts[0].contains("expected ok.txt"));
    assert!(
        prompts[1].contains("> expected ok.txt to exist"),
        "{}",
        prompts[1]
    );
    assert!(prompts[1].contains("exit code 3"), "{}", prompts[1]);
    assert_eq!(repo.task("ok")["status"], "done");
}

#[test]
fn no_changes_fail_the_attempt() {
    let tasks = [task("idle", &[], "say I did nothing")];
    let repo = TestRepo::new(&config("max_attempts = 1", "", &tasks), &[]);
    repo.expect(&["run", "--headless"], 1);
    let idle = repo.task("idle");
    assert!(
        idle["reason"]
            .as_str()
            .unwrap()
            .contains("agent made no changes"),
        "{idle}"
    );
}

#[test]
fn two_tasks_changing_the_same_line_one_merges_one_is_conflicted() {
    let tasks = [
        task("one", &[], "write shared.txt version one\\n"),
        task("two", &[], "sleep 300\nwrite shared.txt version two\\n"),
    ];
    let repo = TestRepo::new(&config("", "", &tasks), &[("shared.txt", "original\n")]);
    repo.expect(&["run", "--headless", "--auto-approve"], 1);
    assert_eq!(repo.merged_tasks(), ["one"]);
    let two = repo.task("two");
    assert_eq!(two["status"], "review");
    assert_eq!(two["reason"], "merge conflict in shared.txt");
    let tip_tree_has = std::fs::read_to_string(repo.path().join("shared.txt")).unwrap();
    assert_eq!(
        tip_tree_has, "version one\n",
        "the failed merge left the target and checkout alone"
    );
    // Approving again does not force it through.
    let out = repo.expect(&["approve", "two"], 1);
    assert!(
        text(&out.stdout).contains("merge conflict in shared.txt"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(repo.merged_tasks(), ["one"]);
}

#[test]
fn a_merge_that_would_overwrite_uncommitted_user_changes_is_refused() {
    let tasks = [task("edit", &[], "write notes.txt agent text\\n")];
    let repo = TestRepo::new(
        &config("", "", &tasks),
        &[("notes.txt", "original\n"), ("other.txt", "x\n")],
    );
    repo.expect(&["run", "--headless"], 1);
    assert_eq!(repo.task("edit")["status"], "review");
    std::fs::write(repo.path().join("notes.txt"), "my precious edit\n").unwrap();
    let before = repo.repo().refname_to_id("refs/heads/main").unwrap();
    let out = repo.expect(&["approve", "edit"], 1);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("uncommitted changes to notes.txt"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).unwrap(),
        "my precious edit\n"
    );
    assert_eq!(
        repo.repo().refname_to_id("refs/heads/main").unwrap(),
        before
    );
    assert!(
        repo.task("edit")["reason"]
            .as_str()
            .unwrap()
            .contains("notes.txt")
    );
    // Once the user's change is out of the way, approval merges.
    std::fs::write(repo.path().join("notes.txt"), "original\n").unwrap();
    repo.expect(&["approve", "edit"], 0);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).unwrap(),
        "agent text\n"
    );
}

#[test]
fn a_missing_agent_binary_fails_its_attempt_by_name_and_the_run_goes_on() {
    let mut plan = config(
        "max_attempts = 1",
        "",
        &[task("works", &[], "write a.txt a\\n")],
    );
    plan.push_str("\n[agents.ghost]\ncommand = [\"no-such-agent-cli-xyz\", \"{prompt}\"]\n");
    plan.push_str("\n[[task]]\nid = \"haunted\"\nagent = \"ghost\"\nprompt = \"boo\"\n");
    let repo = TestRepo::new(&plan, &[]);
    let out = repo.expect(&["run", "--headless", "--auto-approve"], 1);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("agent command not found: `no-such-agent-cli-xyz` (profile `ghost`)"),
        "{stdout}"
    );
    assert_eq!(repo.task("haunted")["status"], "failed");
    assert!(
        repo.task("haunted")["reason"]
            .as_str()
            .unwrap()
            .contains("no-such-agent-cli-xyz")
    );
    assert_eq!(repo.task("works")["status"], "done", "{stdout}");
}

#[test]
fn json_mode_prints_one_event_per_line() {
    let repo = TestRepo::new(&config("", "", &[task("a", &[], "write a.txt a\\n")]), &[]);
    let out = repo.expect(&["run", "--headless", "--json", "--auto-approve"], 0);
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statuses: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"]["event"] == "status")
        .map(|l| l["event"]["to"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["running", "verifying", "review", "merging", "done"]
    );
    assert!(lines.iter().all(|l| l["ts_ms"].as_i64().unwrap() > 0));
}

#[test]
fn a_second_process_on_the_same_fleet_is_refused_clearly() {
    let repo = TestRepo::new(
        &config(
            "",
            "",
            &[task("slow", &[], "sleep 30000\nwrite a.txt a\\n")],
        ),
        &[],
    );
    let mut first = repo
        .command(&["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(
        Duration::from_secs(20),
        "the first run to start its agent",
        || {
            (repo.path().join(".fleet/fleet.db").exists()
                && repo.task("slow")["status"] == "running")
                .then_some(())
        },
    );
    let out = repo.expect(&["run", "--headless"], 1);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("another fleetdeck (pid {})", first.id())),
        "{err}"
    );
    // status still reads while the run is active.
    assert_eq!(repo.task("slow")["column"], "running");
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn an_interrupted_run_leaves_the_fleet_paused_until_resumed() {
    let repo = TestRepo::new(
        &config(
            "",
            "",
            &[task(
                "slow",
                &[],
                "append log.txt before\\n\nsleep 30000\nappend log.txt after\\n",
            )],
        ),
        &[],
    );
    let mut first = repo
        .command(&["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wt = worktree(&repo, "slow");
    wait_for(Duration::from_secs(20), "the agent to write", || {
        wt.join("log.txt").exists().then_some(())
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let out = repo.expect(&["run", "--headless"], 1);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("attempt 1 was interrupted"), "{stdout}");
    assert!(stdout.contains("run again with --resume"), "{stdout}");
    assert_eq!(repo.task("slow")["status"], "queued");
    assert_eq!(repo.task("slow")["reason"], "the fleet is paused");
}
