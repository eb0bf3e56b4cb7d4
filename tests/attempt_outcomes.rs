//! Every attempt has one true outcome, and `status --json`, `fleetdeck log`
//! and the cockpit's Info tab show the same word; work that passed its gate
//! is continued from, not thrown away. The real binary on real repositories
//! with the sim agent.

mod common;

use common::*;
use fleetdeck::core::TaskId;
use fleetdeck::runtime::{Engine, EngineOptions};
use fleetdeck::ui::app::{App, Detail, Screen, Tab};
use fleetdeck::ui::keymap::Keymap;
use fleetdeck::ui::model::Model;
use fleetdeck::ui::theme::Theme;

const VERIFY: &str = "test ! -f bad.txt";

fn plan(fleet: &str, tasks: &[String]) -> String {
    format!(
        "[fleet]\n{fleet}\n[verify]\ncommands = [\"{VERIFY}\"]\n{SIM_PROFILE}\n[agents.alt]\ncommand = [\"fleetdeck\", \"sim-agent\", \"{{prompt}}\"]\nformat = \"claude\"\n{}",
        tasks.concat()
    )
}

/// The outcome words of a task's attempts in `status --json`, oldest first.
fn words(repo: &TestRepo, id: &str) -> Vec<String> {
    let row = repo.task(id);
    row["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history in {row}"))
        .iter()
        .map(|a| a["outcome"].as_str().unwrap().to_owned())
        .collect()
}

/// The heading of `fleetdeck log <id> [--attempt n]`.
fn log_heading(repo: &TestRepo, id: &str, attempt: Option<u32>) -> String {
    let n = attempt.map(|n| n.to_string());
    let mut args = vec!["log", id];
    if let Some(n) = &n {
        args.extend(["--attempt", n.as_str()]);
    }
    let out = repo.expect(&args, 0);
    text(&out.stdout).lines().next().unwrap_or("").to_owned()
}

/// The cockpit's Info tab of `task`, drawn from the fleet's state.
fn info(repo: &TestRepo, task: &str) -> String {
    draw(repo, Some(task))
}

/// The cockpit drawn from the fleet's state: the Info tab of `task`, or the board.
fn draw(repo: &TestRepo, task: Option<&str>) -> String {
    let engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let mut app = App::new(
        Model::new(engine.snapshot().unwrap()),
        Keymap::default(),
        Theme::dark(),
    );
    app.size = (120, 40);
    if let Some(task) = task {
        app.screen = Screen::Detail(Detail {
            task: TaskId::parse(task).unwrap(),
            tab: Tab::Info,
            attempt: None,
            scroll: None,
            search: None,
            info_scroll: 0,
        });
    }
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| fleetdeck::ui::render::render(f, &app))
        .unwrap();
    terminal.backend().to_string()
}

/// The Info row of attempt `n`: its outcome word, or a panic showing the screen.
fn info_row(screen: &str, n: u32) -> String {
    let mark = format!("#{n} ");
    screen
        .lines()
        .find(|l| l.contains(&mark))
        .unwrap_or_else(|| panic!("no attempt {n} in\n{screen}"))
        .to_owned()
}

/// Approves task `id` and runs the fleet: the task is done and main's
/// `<id>.txt` holds `content`; returns the message of main's tip.
fn approve_and_merge(repo: &TestRepo, id: &str, content: &str) -> String {
    repo.expect(&["approve", id], 0);
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(repo.task(id)["status"], "done");
    let file = repo.path().join(format!("{id}.txt"));
    assert_eq!(std::fs::read_to_string(file).unwrap(), content);
    repo.first_parent_log().remove(0).1
}

#[test]
fn each_outcome_is_the_same_word_in_status_log_and_info() {
    let tasks = [
        // Attempt 1 breaks the gate, attempt 2 repairs it.
        task(
            "vf",
            &[],
            "if-attempt 1 write bad.txt broken\\n\nif-attempt 2 run rm bad.txt\nwrite vf.txt ok\\n",
        ),
        // Attempt 1's agent fails, attempt 2 succeeds.
        task(
            "af",
            &[],
            "if-attempt 1 fail the model gave up\nwrite af.txt ok\\n",
        ),
        // Attempt 1 changes nothing.
        task("nc", &[], "if-attempt 2 write nc.txt ok\\n"),
        // Passes, then the reviewer rejects it.
        task("rj", &[], "write rj.txt attempt\\n"),
    ];
    let repo = TestRepo::new(&plan("max_parallel = 4", &tasks), &[]);
    repo.fleetdeck(&["run", "--headless"]);
    repo.expect(&["reject", "rj"], 0);

    let expected: [(&str, &[&str]); 4] = [
        ("vf", &["verify failed", "succeeded"]),
        ("af", &["agent failed (crash)", "succeeded"]),
        ("nc", &["no changes", "succeeded"]),
        ("rj", &["rejected"]),
    ];
    for (id, want) in expected {
        assert_eq!(words(&repo, id), want, "status --json of {id}");
        let screen = info(&repo, id);
        for (i, word) in want.iter().enumerate() {
            let n = i as u32 + 1;
            let heading = log_heading(&repo, id, Some(n));
            assert!(
                heading.ends_with(&format!(", {word}")) || heading.contains(&format!(", {word}: ")),
                "log of {id} attempt {n}: {heading}"
            );
            let row = info_row(&screen, n);
            assert!(row.contains(word), "Info of {id} attempt {n}: {row}");
        }
    }
    // The failing command is named, typed in status and in the log.
    let vf = repo.task("vf");
    assert_eq!(vf["history"][0]["detail"]["command"], VERIFY);
    assert_eq!(
        log_heading(&repo, "vf", Some(1)),
        format!("== vf attempt 1 by sim (claude), verify failed: `{VERIFY}`")
    );
    assert!(info(&repo, "vf").contains(&format!("`{VERIFY}`")));
    // The latest attempt by default; a missing one names those that exist.
    assert!(log_heading(&repo, "vf", None).ends_with(", succeeded"));
    let out = repo.expect(&["log", "vf", "--attempt", "7"], 1);
    assert!(
        text(&out.stderr).contains("task `vf` has attempts 1, 2"),
        "{}",
        text(&out.stderr)
    );
    // Rejected work is saved under the number of the rejected attempt.
    // Another agent retries it (a reassign of a failed task queues it).
    repo.expect(&["reassign", "rj", "alt"], 0);
    repo.fleetdeck(&["run", "--headless"]);
    let git = repo.repo();
    let saved = git
        .find_reference("refs/fleet/discarded/rj/1")
        .expect("the rejected work of attempt 1 is kept")
        .peel_to_commit()
        .unwrap();
    let kept = saved.tree().unwrap();
    assert!(kept.get_path(std::path::Path::new("rj.txt")).is_ok());
    let message = saved.message().unwrap();
    assert!(message.contains("(rejected)"), "{message}");
    assert_eq!(trailer(message, "Fleet-Attempt").as_deref(), Some("1"));
    assert_eq!(trailer(message, "Fleet-Agent").as_deref(), Some("sim"));
    assert!(
        git.find_reference("refs/fleet/discarded/rj/2").is_err(),
        "not under the next attempt's number"
    );
    assert_eq!(words(&repo, "rj"), ["rejected", "succeeded"]);
}

#[test]
fn an_attempt_that_adds_nothing_to_verified_work_does_not_use_an_attempt() {
    // Only attempt 1 writes; one attempt is allowed.
    let tasks = [task("a", &[], "if-attempt 1 write a.txt one\\n")];
    let repo = TestRepo::new(&plan("max_attempts = 1", &tasks), &[]);
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(repo.task("a")["status"], "review");
    for n in [2, 3] {
        repo.expect(&["request-changes", "a", "anything", "else?"], 0);
        repo.fleetdeck(&["run", "--headless"]);
        let row = repo.task("a");
        assert_eq!(row["status"], "review", "attempt {n}: {row}");
        assert_eq!(row["attempts"], n);
        let prompt = &repo.prompts("a")[n as usize - 1];
        assert!(
            prompt.contains(
                "The worktree holds the work of attempt 1, which passed verification; continue from it."
            ),
            "{prompt}"
        );
    }
    assert_eq!(
        words(&repo, "a"),
        ["succeeded", "no further changes", "no further changes"]
    );
    assert!(info_row(&info(&repo, "a"), 3).contains("no further changes"));
    // The work in review is attempt 1's: approving merges it, attributed to it.
    let message = approve_and_merge(&repo, "a", "one\n");
    assert_eq!(trailer(&message, "Fleet-Attempt").as_deref(), Some("1"));
}

#[test]
fn reassigning_a_task_in_review_keeps_its_diff_approvable() {
    let tasks = [task("r", &[], "write r.txt by-sim\\n")];
    let repo = TestRepo::new(&plan("", &tasks), &[]);
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(repo.task("r")["status"], "review");
    repo.expect(&["reassign", "r", "alt"], 0);
    let row = repo.task("r");
    assert_eq!(row["status"], "review", "still approvable: {row}");
    assert_eq!(row["agent"], "alt");
    // Nothing was started by the reassign.
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(repo.task("r")["attempts"], 1);
    let screen = info(&repo, "r");
    assert!(
        screen.contains("alt (for the next attempt; the work in review is by sim)"),
        "{screen}"
    );
    let board = draw(&repo, None);
    assert!(board.contains("work by sim"), "the card says so: {board}");
    let message = approve_and_merge(&repo, "r", "by-sim\n");
    assert_eq!(trailer(&message, "Fleet-Agent").as_deref(), Some("sim"));
}
