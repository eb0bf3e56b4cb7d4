//! Task groups with the real binary and three sim profiles (different
//! agent names, so the trailers differ): implementer, tester and
//! documenter of one group run at once; the tester's test fails on the
//! implementer's first attempt in the group's gate; the implementer is
//! told the failing output and fixes it; the group is approved with one
//! `fleetdeck approve` and lands as one merge whose second parent holds
//! one commit per member; the user's files are never overwritten.

mod common;

use common::*;

fn profile(name: &str) -> String {
    format!(
        "\n[agents.{name}]\ncommand = [\"fleetdeck\", \"sim-agent\", \"{{prompt}}\"]\nformat = \"claude\"\n"
    )
}

fn member(id: &str, agent: &str, role: &str, script: &str) -> String {
    format!(
        "\n[[task]]\nid = \"{id}\"\ntitle = \"Task {id}\"\nagent = \"{agent}\"\nrole = \"{role}\"\ngroup = \"calc\"\nprompt = '''\n{script}\n'''\n"
    )
}

const TEST_SCRIPT: &str = r#"write test_calc.sh out=$(sh calc.sh); if [ "$out" != 4 ]; then echo "FAIL test_calc.sh: add 2 2: expected 4, got $out"; exit 1; fi; echo ok\n"#;

fn fleet() -> String {
    let mut toml = String::from(
        "[fleet]\nmax_parallel = 3\n\n[verify]\ncommands = [\"true\"]\n\n[groups.calc]\ntitle = \"The calculator\"\nverify = [\"sh test_calc.sh\"]\n",
    );
    for p in ["impl", "tester", "docs"] {
        toml.push_str(&profile(p));
    }
    toml.push_str(&member(
        "calc",
        "impl",
        "implementer",
        "if-attempt 1 write calc.sh echo 5\\n\nif-attempt 2 write calc.sh echo 4\\n",
    ));
    toml.push_str(&member("calc-tests", "tester", "tester", TEST_SCRIPT));
    toml.push_str(&member(
        "calc-docs",
        "docs",
        "documenter",
        "write CALC.md # calc\\nPrints 2 + 2.\\n",
    ));
    toml
}

fn statuses(repo: &TestRepo) -> Vec<String> {
    ["calc", "calc-tests", "calc-docs"]
        .iter()
        .map(|t| repo.task(t)["status"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn a_group_is_fixed_by_its_implementer_and_lands_as_one_attributed_change() {
    let repo = TestRepo::new(&fleet(), &[("notes.txt", "the user's notes\n")]);
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(statuses(&repo), ["review", "review", "review"]);

    // The group's gate failed on attempt 1: only the implementer ran again,
    // told the failing test's output.
    let prompts = repo.prompts("calc");
    assert_eq!(prompts.len(), 2, "{prompts:#?}");
    assert!(
        prompts[1].contains("> FAIL test_calc.sh: add 2 2: expected 4, got 5"),
        "{}",
        prompts[1]
    );
    assert!(prompts[1].contains("group `calc`"), "{}", prompts[1]);
    assert_eq!(repo.prompts("calc-tests").len(), 1);
    assert_eq!(repo.prompts("calc-docs").len(), 1);
    let integrations: Vec<bool> = repo
        .events()
        .into_iter()
        .filter(|(kind, _, _)| kind == "group_integrated")
        .map(|(_, _, d)| d["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(integrations, [false, true]);
    let transcript = repo.path().join(".fleet/runs/_group-calc/1.jsonl");
    assert!(
        lines_of(&transcript)
            .iter()
            .any(|l| l.contains("expected 4, got 5")),
        "the group gate's output is in its transcript"
    );

    // The user's uncommitted files: one the group would create blocks the
    // landing (never overwritten); one it does not touch stays as it is.
    std::fs::write(repo.path().join("CALC.md"), "the user's own CALC.md\n").unwrap();
    std::fs::write(repo.path().join("notes.txt"), "edited, not committed\n").unwrap();
    let before = repo.first_parent_log().len();
    repo.fleetdeck(&["approve", "calc-tests"]);
    assert_eq!(statuses(&repo), ["review", "review", "review"]);
    assert_eq!(repo.first_parent_log().len(), before, "nothing landed");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("CALC.md")).unwrap(),
        "the user's own CALC.md\n"
    );

    std::fs::remove_file(repo.path().join("CALC.md")).unwrap();
    let out = repo.expect(&["approve", "calc-tests"], 0);
    assert_eq!(
        statuses(&repo),
        ["done", "done", "done"],
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).unwrap(),
        "edited, not committed\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("calc.sh")).unwrap(),
        "echo 4\n"
    );

    // One merge for the group on main's first-parent history, carrying
    // every member's Fleet-Task; its second parent chain has one commit
    // per member, each by its own agent.
    let log = repo.first_parent_log();
    assert_eq!(log.len(), before + 1);
    let (merge, message) = &log[0];
    assert!(
        message.starts_with("Merge fleet/group/calc: The calculator"),
        "{message}"
    );
    for t in ["calc", "calc-tests", "calc-docs"] {
        assert!(message.contains(&format!("Fleet-Task: {t}\n")), "{message}");
    }
    let git = repo.repo();
    let m = git.find_commit(*merge).unwrap();
    assert_eq!(m.parent_count(), 2);
    let base = m.parent_id(0).unwrap();
    let mut agents = Vec::new();
    let mut c = m.parent(1).unwrap();
    while c.id() != base {
        let msg = c.message().unwrap().to_owned();
        assert_eq!(
            trailer(&msg, "Fleet-Group").as_deref(),
            Some("calc"),
            "{msg}"
        );
        agents.push(trailer(&msg, "Fleet-Agent").unwrap());
        c = c.parent(0).unwrap();
    }
    agents.reverse();
    assert_eq!(agents, ["impl", "tester", "docs"]);
    let landed: Vec<String> = repo
        .events()
        .into_iter()
        .filter(|(kind, _, _)| kind == "group_landed")
        .map(|(_, _, d)| d["commit"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(landed, [merge.to_string()]);
}

#[test]
fn two_running_members_writing_the_same_file_are_told_of_the_overlap() {
    let toml = format!(
        "[fleet]\nmax_parallel = 2\n\n[verify]\ncommands = [\"true\"]\n{}{}{}{}",
        profile("impl"),
        profile("docs"),
        member(
            "one",
            "impl",
            "implementer",
            "sleep 300\nwrite same.txt same\\n\nsleep 2500"
        ),
        member(
            "two",
            "docs",
            "documenter",
            "sleep 900\nwrite same.txt same\\n\nsleep 2500"
        ),
    )
    .replace("group = \"calc\"", "group = \"pair\"");
    let repo = TestRepo::new(&toml, &[]);
    let mut run = repo.command(&["run", "--headless"]).spawn().unwrap();
    let overlap = wait_for(
        std::time::Duration::from_secs(30),
        "an overlap event",
        || {
            // The run may not have made its database yet.
            let db = rusqlite::Connection::open(repo.path().join(".fleet/fleet.db")).ok()?;
            db.query_row(
                "SELECT task, detail FROM events WHERE kind = 'overlap' ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)),
            )
            .ok()
            .map(|(task, detail)| {
                (
                    task,
                    serde_json::from_str::<serde_json::Value>(&detail).unwrap(),
                )
            })
        },
    );
    assert_eq!(overlap.0.as_deref(), Some("two"), "{overlap:?}");
    assert_eq!(overlap.1["other"], "one");
    assert_eq!(overlap.1["file"], "same.txt");
    // Both running tasks keep the overlap (saved with the task).
    let db = rusqlite::Connection::open(repo.path().join(".fleet/fleet.db")).unwrap();
    for (task, other) in [("one", "two"), ("two", "one")] {
        let state: String = db
            .query_row("SELECT state FROM tasks WHERE id = ?1", [task], |r| {
                r.get(0)
            })
            .unwrap();
        let state: serde_json::Value = serde_json::from_str(&state).unwrap();
        assert_eq!(
            state["overlaps"],
            serde_json::json!([{ "file": "same.txt", "other": other }]),
            "{task}: {state}"
        );
    }
    let status = wait_for(std::time::Duration::from_secs(60), "the run to end", || {
        run.try_wait().unwrap()
    });
    assert!(status.code().is_some());
    // Overlaps are about running work: gone once the members wait for their group.
    for task in ["one", "two"] {
        let state: String = db
            .query_row("SELECT state FROM tasks WHERE id = ?1", [task], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(!state.contains("overlaps"), "{task}: {state}");
    }
    // Identical changes merge cleanly: the pair waits in review together.
    assert_eq!(repo.task("one")["status"], "review");
    assert_eq!(repo.task("two")["status"], "review");
}
