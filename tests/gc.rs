//! `fleetdeck gc` on a fleet run by the real engine: it removes only merged
//! or saved work. A done task's branch goes (its tip saved), a dropped
//! task's branch goes after being saved, a task waiting in review and a
//! failed task keep their branches and worktrees; the dry run changes
//! nothing; `--yes` twice is the same as once; gc refuses while an engine runs.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use fleetdeck::core::{Command, TaskId};
use fleetdeck::runtime::{Engine, EngineOptions};

/// Every ref of the repository and where it points.
fn refs(repo: &TestRepo) -> BTreeMap<String, String> {
    let git = repo.repo();
    let mut all = BTreeMap::new();
    for r in git.references().unwrap() {
        let r = r.unwrap();
        if let (Ok(name), Some(id)) = (r.name(), r.target()) {
            all.insert(name.to_owned(), id.to_string());
        }
    }
    all
}

fn wait_task(repo: &TestRepo, id: &str, status: &str) {
    wait_for(Duration::from_secs(60), &format!("{id} {status}"), || {
        (repo.task(id)["status"] == status).then_some(())
    });
}

fn plan() -> String {
    format!(
        "[fleet]\nmax_attempts = 1\n{}{}auto_approve = true\nmerge_style = \"squash\"\n{}{}{}verify = [\"false\"]\n",
        sim_profile_abs(),
        task("done", &[], "write done.txt done"),
        task("review", &[], "write review.txt waits for review"),
        task("dropme", &[], "write dropme.txt dropped work"),
        task("failed", &[], "write failed.txt fails its gate"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_removes_only_merged_or_saved_work() {
    let repo = TestRepo::new(&plan(), &[]);
    let mut engine = Engine::open(repo.path(), EngineOptions::default()).unwrap();
    let handle = engine.handle();
    let run = tokio::spawn(async move { engine.run(false).await });
    for (id, status) in [
        ("done", "done"),
        ("review", "review"),
        ("dropme", "review"),
        ("failed", "failed"),
    ] {
        let repo = &repo;
        tokio::task::block_in_place(|| wait_task(repo, id, status));
    }
    handle
        .command(Command::Drop {
            task: TaskId::parse("dropme").unwrap(),
        })
        .await
        .unwrap();
    tokio::task::block_in_place(|| wait_task(&repo, "dropme", "dropped"));

    // While the engine runs, gc refuses and touches nothing.
    let before = refs(&repo);
    let out = tokio::task::block_in_place(|| repo.expect(&["gc", "--yes"], 1));
    assert!(
        text(&out.stderr).contains("already running"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(refs(&repo), before);
    handle.shutdown();
    run.await.unwrap();

    let before = refs(&repo);
    let tip = |branch: &str| before[&format!("refs/heads/fleet/{branch}")].clone();
    let (done_tip, dropped_tip) = (tip("done"), tip("dropme"));
    let (review_tip, failed_tip) = (tip("review"), tip("failed"));
    assert!(worktree(&repo, "review").exists() && worktree(&repo, "failed").exists());

    // The dry run lists the two branches with their reasons and changes nothing.
    let out = repo.expect(&["gc"], 0);
    let dry = text(&out.stdout);
    assert!(dry.starts_with("would remove"), "{dry}");
    assert!(
        dry.contains("branch fleet/done at") && dry.contains("(done: merged as"),
        "{dry}"
    );
    assert!(
        dry.contains("branch fleet/dropme at") && dry.contains("(dropme: dropped"),
        "{dry}"
    );
    assert!(
        !dry.contains("fleet/review at") && !dry.contains("fleet/failed at"),
        "{dry}"
    );
    assert_eq!(refs(&repo), before);

    let out = repo.expect(&["gc", "--yes", "--verbose"], 0);
    let done = text(&out.stdout);
    assert!(done.starts_with("removed:"), "{done}");
    assert!(
        done.contains("branch fleet/review: the task is review, not done or dropped"),
        "{done}"
    );
    assert!(
        done.contains("branch fleet/failed: the task is failed"),
        "{done}"
    );
    let after = refs(&repo);
    assert!(!after.contains_key("refs/heads/fleet/done"), "{after:?}");
    assert!(!after.contains_key("refs/heads/fleet/dropme"), "{after:?}");
    let saved = |kind: &str, id: &str| {
        after
            .iter()
            .find(|(name, _)| name.starts_with(&format!("refs/fleet/{kind}/{id}/")))
            .map(|(_, oid)| oid.clone())
    };
    assert_eq!(saved("merged", "done"), Some(done_tip));
    assert_eq!(saved("dropped", "dropme"), Some(dropped_tip));
    assert_eq!(after["refs/heads/fleet/review"], review_tip);
    assert_eq!(after["refs/heads/fleet/failed"], failed_tip);
    assert_eq!(after["refs/heads/main"], before["refs/heads/main"]);
    assert!(worktree(&repo, "review").exists() && worktree(&repo, "failed").exists());

    // Again: nothing to remove, nothing changes, and it says what it keeps.
    let out = repo.expect(&["gc", "--yes"], 0);
    let again = text(&out.stdout);
    assert!(again.starts_with("nothing to remove\nkept:\n"), "{again}");
    assert_eq!(refs(&repo), after);
}
