//! A database written by fleetdeck's first schema (a finished demo run),
//! checked in, must keep loading: tasks, statuses, attempts and events.

use fleetdeck::core::{MergeBlock, Scheduler, Status};
use fleetdeck::store::Store;

#[test]
fn the_first_schema_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state-v1/fleet.db");
    std::fs::copy(fixture, dir.path().join("fleet.db")).unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tasks = store.load_tasks().unwrap();
    let ids: Vec<&str> = tasks.iter().map(|t| t.id().as_str()).collect();
    assert_eq!(
        ids,
        [
            "add", "sub", "mul", "pow", "docs", "greet-en", "greet-fr", "bench"
        ]
    );
    assert_eq!(
        tasks
            .iter()
            .filter(|t| matches!(t.status, Status::Done { .. }))
            .count(),
        7
    );
    let greet = &tasks[6];
    assert_eq!(
        greet.status,
        Status::Review {
            attempt: 1,
            block: Some(MergeBlock::Conflict {
                files: vec!["greeting.txt".into()]
            })
        }
    );
    assert_eq!(tasks[3].attempts, 2, "pow failed its verify once");
    let pow = store.attempts("pow").unwrap();
    assert_eq!(pow.len(), 2);
    assert!(
        pow[1].prompt.contains("pow 2 3 gave 4, expected 8"),
        "{}",
        pow[1].prompt
    );
    assert!(pow.iter().all(|a| a.usage.cost_usd > 0.0));
    let events = store.events(None).unwrap();
    assert!(events.len() > 50);
    assert!(events.iter().all(|e| e.detail.get("event").is_some()));
    let scheduler = Scheduler::new(
        Default::default(),
        ["builder", "checker", "writer"].map(String::from),
        tasks,
        false,
    );
    assert_eq!(
        scheduler
            .reason(scheduler.task("greet-fr").unwrap())
            .unwrap(),
        "merge conflict in greeting.txt"
    );
}
