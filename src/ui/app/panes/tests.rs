//! The footer over every context: each key shown once, and only keys
//! that act where they are shown.

use std::collections::BTreeMap;

use crate::config::KeysSpec;
use crate::ui::app::{App, COLUMNS, Screen, Tab};
use crate::ui::fixture;
use crate::ui::keymap::Keymap;

/// Every place a footer is drawn: the board on each task, and each tab
/// of each task's detail, with and without a search.
fn every_context(app: &mut App, check: &mut dyn FnMut(&App, &str)) {
    let ids: Vec<String> = app
        .model
        .fleet
        .tasks()
        .iter()
        .map(|t| t.id().to_string())
        .collect();
    for id in &ids {
        let t = app.model.task(id).expect("fixture task");
        let col = COLUMNS
            .iter()
            .position(|c| *c == t.status.column())
            .expect("a column");
        let index = app
            .column_tasks(COLUMNS[col])
            .iter()
            .position(|t| t.id().as_str() == id)
            .expect("in its column");
        app.screen = Screen::Board;
        app.select(col, index);
        app.board.column = col;
        check(app, &format!("board on {id}"));
        app.open_detail();
        for tab in Tab::ALL {
            for search in [None, Some("x".to_owned())] {
                if let Screen::Detail(d) = &mut app.screen {
                    d.tab = tab;
                    d.search = search.clone();
                }
                check(app, &format!("{id} {tab:?} search {search:?}"));
            }
        }
    }
}

fn assert_unique(app: &App, place: &str) {
    let hints = app.footer_hints();
    assert!(!hints.is_empty(), "{place}: no hints");
    let mut keys: Vec<&str> = hints.iter().map(|(k, _)| k.as_str()).collect();
    let all = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), all, "{place}: a key twice in {hints:?}");
}

#[test]
fn the_footer_never_shows_a_key_twice() {
    let mut app = fixture::app(160, 48);
    every_context(&mut app, &mut assert_unique);
}

#[test]
fn an_override_that_takes_a_key_leaves_the_footer_one_hint_for_it() {
    // `follow = "p"` takes p from pause in the transcript: the footer must
    // not offer "p follow" and "p pause" there.
    let mut overrides = BTreeMap::new();
    overrides.insert("follow".to_owned(), KeysSpec::One("p".to_owned()));
    overrides.insert("search".to_owned(), KeysSpec::One("a".to_owned()));
    let (keymap, _warnings) = Keymap::with_overrides(&overrides).expect("valid overrides");
    let mut app = fixture::app(160, 48);
    app.keymap = keymap;
    every_context(&mut app, &mut assert_unique);
}

#[test]
fn every_footer_key_acts_where_it_is_shown() {
    let mut app = fixture::app(160, 48);
    every_context(&mut app, &mut |app, place| {
        let ctx = app.screen_context();
        for (key, label) in app.footer_hints() {
            let parsed = crate::ui::keymap::Key::parse(&key).expect("a key");
            let bound = app
                .keymap
                .bindings()
                .any(|(action, ..)| app.keymap.keys_in(action, ctx).contains(&parsed));
            assert!(bound, "{place}: `{key} {label}` does nothing here");
        }
    });
}
