use super::*;
use crate::core::{Status, TaskSpec};

fn spec(id: &str) -> TaskSpec {
    TaskSpec {
        deps: vec![],
        ..TaskSpec::new(TaskId::parse(id).unwrap(), id, "p", "sim")
    }
}

#[test]
fn the_plan_is_imported_once_by_id_and_later_edits_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(store.import_plan(&[spec("b"), spec("a")]).unwrap().len(), 2);
    let mut tasks = store.load_tasks().unwrap();
    assert_eq!(
        tasks.iter().map(|t| t.id().as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    tasks[0].spec.prompt = "edited".into();
    tasks[1].status = Status::Dropped;
    store.save_task(&tasks[0]).unwrap();
    store.save_task(&tasks[1]).unwrap();
    drop(store);

    let mut store = Store::open(dir.path()).unwrap();
    let added = store
        .import_plan(&[spec("b"), spec("a"), spec("c")])
        .unwrap();
    assert_eq!(added, [TaskId::parse("c").unwrap()]);
    let tasks = store.load_tasks().unwrap();
    assert_eq!(tasks[0].spec.prompt, "edited");
    assert_eq!(tasks[1].status, Status::Dropped);
    assert_eq!(tasks[2].id().as_str(), "c");
}

#[test]
fn a_task_added_at_runtime_is_not_imported_over() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut t = Task::new(spec("x"));
    t.spec.prompt = "from the cockpit".into();
    store.save_task(&t).unwrap();
    assert!(store.import_plan(&[spec("x")]).unwrap().is_empty());
    assert_eq!(
        store.load_tasks().unwrap()[0].spec.prompt,
        "from the cockpit"
    );
}

#[test]
fn events_and_attempts_are_kept_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = TaskId::parse("a").unwrap();
    store
        .record(
            Actor::Engine,
            &Event::AgentStarted {
                task: id.clone(),
                attempt: 1,
                agent: "sim".into(),
            },
        )
        .unwrap();
    store.record(Actor::User, &Event::FleetResumed).unwrap();
    let events = store.events(None).unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["agent_started", "fleet_resumed"]
    );
    assert_eq!(events[0].task.as_deref(), Some("a"));
    assert_eq!(events[1].actor, "user");
    assert_eq!(events[0].detail["agent"], "sim");
    assert_eq!(store.events(Some("a")).unwrap().len(), 1);
    let only: Vec<String> = store
        .events_of(&["fleet_resumed", "no_such_kind"])
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(only, ["fleet_resumed"]);

    store
        .begin_attempt(&AttemptStart {
            task: "a",
            n: 1,
            agent: "sim",
            prompt: "p",
            base: "abc",
            transcript: "runs/a/1.jsonl",
        })
        .unwrap();
    store
        .set_attempt_usage(
            "a",
            1,
            Usage {
                input_tokens: 10,
                output_tokens: 5,
                cost_usd: 0.5,
            },
        )
        .unwrap();
    assert_eq!(store.open_attempts().unwrap()[0].ended_ms, None);
    store.end_attempt("a", 1, Some("boom")).unwrap();
    assert!(store.open_attempts().unwrap().is_empty());
    let a = store.attempt("a", 1).unwrap().unwrap();
    assert_eq!((a.outcome, a.message.as_deref()), (None, Some("boom")));
    let failed = crate::core::AttemptOutcome::VerifyFailed {
        command: "cargo test".into(),
    };
    store
        .set_attempt_outcome("a", 1, &failed, Some("test x failed"))
        .unwrap();
    let a = store.attempt("a", 1).unwrap().unwrap();
    assert_eq!(
        (a.outcome, a.message.as_deref()),
        (Some(failed), Some("test x failed"))
    );
    // Rows written by older versions hold a word.
    store
        .sql(|c| c.execute("UPDATE attempts SET outcome = 'failed' WHERE n = 1", []))
        .unwrap();
    let a = store.attempt("a", 1).unwrap().unwrap();
    assert_eq!(
        a.outcome,
        Some(crate::core::AttemptOutcome::AgentFailed { class: None })
    );
    assert_eq!(a.usage.tokens(), 15);
}

#[test]
fn fleet_pause_survives_a_reopen_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(!store.fleet_paused().unwrap());
    store.set_fleet_paused(true).unwrap();
    store
        .sql(|c| c.execute_batch("PRAGMA user_version = 99"))
        .unwrap();
    drop(store);
    let err = Store::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("newer fleetdeck"), "{err}");
}

#[test]
fn two_stores_open_the_same_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || Store::open(&p).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
}

#[test]
fn a_store_is_empty_by_content_not_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    assert!(store.is_empty().unwrap(), "a new file holds no fleet");
    store.set_fleet_paused(true).unwrap();
    assert!(store.is_empty().unwrap(), "settings alone are no fleet");
    store.import_plan(&[spec("a")]).unwrap();
    assert!(!store.is_empty().unwrap());

    // Only the imported mark left (the task row deleted by hand): not empty.
    store.sql(|c| c.execute("DELETE FROM tasks", [])).unwrap();
    assert!(!store.is_empty().unwrap());
    store
        .sql(|c| c.execute("DELETE FROM imported", []))
        .unwrap();
    assert!(store.is_empty().unwrap());
    // A recovered fleet with nothing to recover is not new either.
    store.set_meta("recovered", "1").unwrap();
    assert!(!store.is_empty().unwrap());
}

#[test]
fn the_paused_reason_is_the_last_pause_not_followed_by_a_resume() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.fleet_paused_reason().unwrap(), None);
    let paused = |reason: &str| Event::FleetPaused {
        reason: reason.into(),
    };
    store.record(Actor::Engine, &paused("first")).unwrap();
    store.record(Actor::User, &Event::FleetResumed).unwrap();
    assert_eq!(store.fleet_paused_reason().unwrap(), None);
    store.record(Actor::Engine, &paused("disk full")).unwrap();
    assert_eq!(
        store.fleet_paused_reason().unwrap().as_deref(),
        Some("disk full")
    );
}

#[test]
fn a_write_refused_by_the_database_is_an_environment_fault() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // As root, file modes do not stop writes: make the connection read-only.
    store
        .sql(|c| c.execute_batch("PRAGMA query_only = ON"))
        .unwrap();
    let err = store.set_meta("k", "v").unwrap_err();
    assert!(err.is_environment(), "{err:?}");
    let bad = StoreError::Corrupt {
        path: dir.path().into(),
        what: "task".into(),
        source: serde_json::from_str::<u8>("x").unwrap_err(),
    };
    assert!(!bad.is_environment());
}

#[test]
fn the_database_and_its_wal_are_private_whatever_the_umask_allows() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join(".fleet");
    std::fs::create_dir(&fleet).unwrap();
    std::fs::set_permissions(&fleet, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = Store::open(&fleet).unwrap();
    store.set_meta("k", "v").unwrap();
    let mode = |name: &str| {
        std::fs::metadata(fleet.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700, "an existing open .fleet is tightened");
    for f in [DB_FILE, "fleet.db-wal", "fleet.db-shm"] {
        assert_eq!(mode(f), 0o600, "{f}");
    }
}
