//! A split task's work is handed to its parts: the real binary and the sim
//! agent on real repositories. The split itself (drop + adds with
//! `split_from`, in one batch) goes through the engine API, as the
//! supervisor's confirmed proposal will.

mod common;

use std::path::Path;
use std::process::Command as Process;

use common::*;
use fleetdeck::core::{Command, TaskId, TaskSpec};
use fleetdeck::runtime::{Engine, EngineOptions};

/// `api`: attempt 1 commits `routes.txt` and edits `README.md` but its gate
/// fails (`verify = ["false"]`); attempt 2 adds `handlers.txt` and fails as
/// an agent, so that stays uncommitted. Two attempts, then it is failed.
fn fleet_toml() -> String {
    format!(
        "[fleet]\nmax_parallel = 2\nmax_attempts = 2\n{SIM_PROFILE}\n\
         [[task]]\nid = \"api\"\ntitle = \"Build the API\"\nagent = \"sim\"\nverify = [\"false\"]\n\
         prompt = '''\n\
         if-attempt 1 write routes.txt GET /users\\n\n\
         if-attempt 1 write README.md readme\\nthe API lives in routes.txt\\n\n\
         if-attempt 2 write handlers.txt fn users() {{}}\\n\n\
         if-attempt 2 say the handlers are half done\n\
         if-attempt 2 fail the model gave up\n'''\n"
    )
}

/// A repository whose task `api` has failed with committed and uncommitted work.
fn failed_api() -> TestRepo {
    let repo = TestRepo::new(&fleet_toml(), &[("README.md", "readme\n")]);
    repo.fleetdeck(&["run", "--headless"]);
    assert_eq!(repo.task("api")["status"], "failed", "{}", repo.task("api"));
    let wt = worktree(&repo, "api");
    assert!(
        wt.join("handlers.txt").is_file(),
        "attempt 2's work is in the worktree"
    );
    assert!(
        file_at(&repo, "fleet/api", "routes.txt").is_some(),
        "attempt 1's work is committed on fleet/api"
    );
    repo
}

/// A part of `api` whose script first writes what its worktree looked like
/// when it started (`git status`, HEAD) to `<seen>/<id>.*`, outside it.
fn part(id: &str, seen: &Path, work: &str) -> TaskSpec {
    let seen = path_str(seen);
    let script = format!(
        "run git status --porcelain --untracked-files=all > {seen}/{id}.status && git rev-parse HEAD > {seen}/{id}.head\n{work}"
    );
    TaskSpec {
        split_from: Some(TaskId::parse("api").unwrap()),
        ..TaskSpec::new(
            TaskId::parse(id).unwrap(),
            format!("Part {id}"),
            script,
            "sim",
        )
    }
}

/// Drops `api` and adds `parts` in one batch, with the fleet held (no
/// agent starts); returns once the dropped worktree is removed.
fn split(repo: &TestRepo, parts: Vec<TaskSpec>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut engine = Engine::open_held(repo.path(), EngineOptions::default()).unwrap();
        let mut commands = vec![Command::Drop {
            task: TaskId::parse("api").unwrap(),
        }];
        commands.extend(parts.into_iter().map(|spec| Command::Add { spec }));
        engine.command(Command::Batch { commands }).unwrap();
        engine.run(true).await;
    });
    assert_eq!(repo.task("api")["status"], "dropped");
    assert!(
        !worktree(repo, "api").exists(),
        "the dropped worktree is removed"
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The content of `path` in the commit or ref `rev`.
fn file_at(repo: &TestRepo, rev: &str, path: &str) -> Option<String> {
    let git = repo.repo();
    let blob = git.revparse_single(&format!("{rev}:{path}")).ok()?;
    let blob = blob.peel_to_blob().ok()?;
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

/// The target holds the split task's work (once: a line added twice would
/// show) and both parts' files; `git fsck` is clean.
fn landed_once(repo: &TestRepo) {
    for (path, want) in [
        ("README.md", "readme\nthe API lives in routes.txt\n"),
        ("routes.txt", "GET /users\n"),
        ("handlers.txt", "fn users() {}\n"),
        ("part-a.txt", "a\n"),
        ("part-b.txt", "b\n"),
    ] {
        assert_eq!(file_at(repo, "main", path).as_deref(), Some(want), "{path}");
    }
    fsck(repo);
}

fn fsck(repo: &TestRepo) {
    let out = Process::new("git")
        .arg("-C")
        .arg(repo.path())
        .args(["fsck", "--strict", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "git fsck: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn both_parts_inherit_the_split_tasks_work_and_it_lands_once() {
    let repo = failed_api();
    let seen = tempfile::tempdir().unwrap();
    let start = repo.repo().refname_to_id("refs/heads/main").unwrap();
    split(
        &repo,
        vec![
            part("api-a", seen.path(), "write part-a.txt a\\n"),
            part("api-b", seen.path(), "write part-b.txt b\\n"),
        ],
    );
    // Kept before the worktree went: the commit and the uncommitted work.
    let saved = "refs/fleet/split/api";
    assert_eq!(file_at(&repo, saved, "routes.txt").unwrap(), "GET /users\n");
    assert_eq!(
        file_at(&repo, saved, "handlers.txt").unwrap(),
        "fn users() {}\n"
    );

    repo.fleetdeck(&["run", "--headless", "--auto-approve"]);
    for id in ["api-a", "api-b"] {
        assert_eq!(repo.task(id)["status"], "done", "{}", repo.task(id));
        // The worktree held the work, uncommitted, on the target's tip.
        let status = read(&seen.path().join(format!("{id}.status")));
        let mut lines: Vec<&str> = status.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [" M README.md", "?? handlers.txt", "?? routes.txt"],
            "{id}"
        );
        assert_eq!(
            read(&seen.path().join(format!("{id}.head"))).trim(),
            start.to_string()
        );
        // Its prompt says what it inherited, from what, and how that ended.
        let prompt = repo.prompts(id).remove(0);
        for want in [
            "This task is part of `api` (Build the API), which was split.",
            "> Its work so far is already in your worktree, uncommitted: README.md, handlers.txt, routes.txt.",
            "> Its last attempt ended: agent failed (crash).",
            "> - the handlers are half done",
        ] {
            assert!(
                prompt.contains(want),
                "{id}'s prompt lacks {want:?}:\n{prompt}"
            );
        }
        // So does its transcript (`fleetdeck log`).
        let log = text(&repo.expect(&["log", id], 0).stdout);
        let note = "split from `api`: its work is in the worktree, uncommitted (README.md, handlers.txt, routes.txt)";
        assert!(log.contains(note), "log of {id}:\n{log}");
    }
    // The target holds the split task's work once, and both parts'.
    let mut merged = repo.merged_tasks();
    merged.sort();
    assert_eq!(merged, ["api-a", "api-b"]);
    landed_once(&repo);

    // Cleanup removes the dropped task's branch, never its saved work.
    repo.expect(&["gc", "--yes"], 0);
    assert!(
        repo.repo()
            .find_branch("fleet/api", git2::BranchType::Local)
            .is_err()
    );
    assert_eq!(
        file_at(&repo, saved, "handlers.txt").unwrap(),
        "fn users() {}\n"
    );
    assert_eq!(file_at(&repo, saved, "routes.txt").unwrap(), "GET /users\n");
    fsck(&repo);
}

#[test]
fn work_that_conflicts_with_the_moved_target_is_not_applied_and_the_prompt_says_where_it_is() {
    let repo = failed_api();
    // The user changes the README line the split task changed.
    std::fs::write(
        repo.path().join("README.md"),
        "readme\nthe API is elsewhere\n",
    )
    .unwrap();
    let git = repo.repo();
    let mut index = git.index().unwrap();
    index.add_path(Path::new("README.md")).unwrap();
    index.write().unwrap();
    let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
    let head = git.head().unwrap().peel_to_commit().unwrap();
    let sig = git2::Signature::now("Test User", "test@example.com").unwrap();
    git.commit(Some("HEAD"), &sig, &sig, "user: README\n", &tree, &[&head])
        .unwrap();

    let seen = tempfile::tempdir().unwrap();
    split(
        &repo,
        vec![part("api-a", seen.path(), "write part-a.txt a\\n")],
    );
    repo.fleetdeck(&["run", "--headless", "--auto-approve"]);
    assert_eq!(
        repo.task("api-a")["status"],
        "done",
        "{}",
        repo.task("api-a")
    );
    assert_eq!(
        read(&seen.path().join("api-a.status")),
        "",
        "nothing was applied"
    );
    let prompt = repo.prompts("api-a").remove(0);
    let want = "> Its work so far could not be applied onto the current target (conflicts in README.md); it is saved at refs/fleet/split/api.";
    assert!(prompt.contains(want), "{prompt}");
    let log = text(&repo.expect(&["log", "api-a"], 0).stdout);
    let note = "split from `api`: its work conflicts with the target in README.md, not applied (saved at refs/fleet/split/api)";
    assert!(log.contains(note), "{log}");
    assert_eq!(
        file_at(&repo, "refs/fleet/split/api", "handlers.txt").unwrap(),
        "fn users() {}\n"
    );
    assert_eq!(file_at(&repo, "main", "handlers.txt"), None);
    fsck(&repo);
}

#[test]
fn a_task_dropped_without_a_split_keeps_its_uncommitted_work_too() {
    let repo = failed_api();
    split(&repo, Vec::new());
    let git = repo.repo();
    let saved: Vec<String> = git
        .references_glob("refs/fleet/dropped/api/*")
        .unwrap()
        .names()
        .map(|n| n.unwrap().to_owned())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(
        file_at(&repo, &saved[0], "handlers.txt").unwrap(),
        "fn users() {}\n"
    );
    assert_eq!(
        file_at(&repo, &saved[0], "routes.txt").unwrap(),
        "GET /users\n"
    );
    assert!(git.refname_to_id("refs/fleet/split/api").is_err());
    fsck(&repo);
}

/// The supervisor's split, applied by itself (`autonomy = "auto"`) when
/// `api` fails for good: the planner (`tests/agents/planner.sh`) answers
/// with two parts naming `api` in `split_from`.
#[test]
fn a_split_the_supervisor_applies_by_itself_hands_the_work_to_both_parts() {
    let planner = tempfile::tempdir().unwrap();
    let answer = r#"{"tasks": [
  {"id": "api-a", "title": "Routes", "prompt": "write part-a.txt a\\n", "agent": "sim", "split_from": "api"},
  {"id": "api-b", "title": "Handlers", "prompt": "write part-b.txt b\\n", "agent": "sim", "split_from": "api"}
], "notes": "api is two jobs: routes and handlers."}"#;
    std::fs::write(planner.path().join("answer"), answer).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/planner.sh");
    let toml = format!(
        "{}\n[agents.planner]\ncommand = [{:?}, \"--prompt\", \"{{prompt}}\"]\nformat = \"text\"\nenv = {{ PLANNER_DIR = {:?} }}\n\n[supervisor]\nagent = \"planner\"\nautonomy = \"auto\"\n",
        fleet_toml(),
        path_str(&script),
        path_str(planner.path()),
    );
    let repo = TestRepo::new(&toml, &[("README.md", "readme\n")]);
    repo.fleetdeck(&["run", "--headless", "--auto-approve"]);
    assert_eq!(
        repo.task("api")["status"],
        "dropped",
        "{}",
        repo.task("api")
    );
    for id in ["api-a", "api-b"] {
        assert_eq!(repo.task(id)["status"], "done", "{}", repo.task(id));
        let prompt = repo.prompts(id).remove(0);
        let want = "> Its work so far is already in your worktree, uncommitted: README.md, handlers.txt, routes.txt.";
        assert!(prompt.contains(want), "{id}:\n{prompt}");
    }
    landed_once(&repo);
}
