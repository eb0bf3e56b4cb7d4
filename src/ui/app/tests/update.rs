//! The update keys (issue 8): `u` updates a task in review, `E` and `!`
//! resolve an update conflict; the diff follows the resolution.

use super::*;

#[test]
fn u_updates_a_task_in_review_and_e_or_bang_resolve_an_update_conflict() {
    let mut app = on("greet");
    assert_eq!(
        commands(&press(&mut app, &["u"])),
        [Command::Update { task: id("greet") }]
    );
    // No update conflict yet: E says so and does nothing.
    assert!(press(&mut app, &["E"]).is_empty());
    assert!(app.toast.take().is_some());
    let mut t = app.model.task("greet").unwrap().clone();
    t.status = crate::core::Status::Review {
        attempt: 1,
        block: Some(crate::core::MergeBlock::UpdateConflict {
            files: vec!["greeting.txt".into()],
        }),
    };
    app.model.fleet.upsert(t);
    let intents = press(&mut app, &["E", "!"]);
    let edits: Vec<(String, Vec<String>, bool)> = intents
        .iter()
        .filter_map(|i| match i {
            Intent::EditConflicts { task, files, shell } => {
                Some((task.to_string(), files.clone(), *shell))
            }
            _ => None,
        })
        .collect();
    let files = vec!["greeting.txt".to_owned()];
    assert_eq!(
        edits,
        [
            ("greet".to_owned(), files.clone(), false),
            ("greet".to_owned(), files, true)
        ]
    );
    // u on the conflicted card sends the agent (the scheduler decides).
    assert_eq!(
        commands(&press(&mut app, &["u"])),
        [Command::Update { task: id("greet") }]
    );
    // Not in review: refused with a toast.
    let mut app = on("perf");
    assert!(press(&mut app, &["u"]).is_empty());
    assert!(app.toast.is_some());
}

#[test]
fn a_diff_loaded_during_an_update_conflict_is_read_again_once_it_is_resolved() {
    let mut app = on("greet");
    let mut t = app.model.task("greet").unwrap().clone();
    t.status = crate::core::Status::Review {
        attempt: 1,
        block: Some(crate::core::MergeBlock::UpdateConflict {
            files: vec!["greeting.txt".into()],
        }),
    };
    app.model.fleet.upsert(t.clone());
    press(&mut app, &["enter"]);
    assert_eq!(press(&mut app, &["tab"]), [Intent::LoadDiff(id("greet"))]);
    assert!(
        app.pending_loads().is_empty(),
        "loaded once while unchanged"
    );
    // The agent resolved it in attempt 2: still in review, but another diff.
    t.status = crate::core::Status::Review {
        attempt: 2,
        block: None,
    };
    app.model.fleet.upsert(t);
    assert_eq!(app.pending_loads(), [Intent::LoadDiff(id("greet"))]);
}
