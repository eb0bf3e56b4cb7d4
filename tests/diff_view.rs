//! The diff viewer: a task's changes read from a real repository, the model
//! (hunks, counts, rows), navigation, and snapshots of the rendered view.

use std::fs;
use std::path::PathBuf;

use fleetdeck::git::{
    Attribution, CommitOutcome, FileChange, GitError, commit_attempt, ensure_worktree, task_changes,
};
use fleetdeck::ui::diff::{DiffModel, FileStatus, Hunk, RowKind};
use fleetdeck::ui::keymap::Action;
use fleetdeck::ui::theme::Theme;
use fleetdeck::ui::views::diff::{DiffFocus, DiffView, render, viewport_height};
use git2::{Repository, RepositoryInitOptions, Signature};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use tempfile::TempDir;

// ---------------------------------------------------------------- git

struct Repo {
    _dir: TempDir,
    root: PathBuf,
}

fn sig() -> Signature<'static> {
    Signature::now("Test User", "test@example.com").unwrap()
}

fn commit_all(repo: &Repository, message: &str) {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig(), &sig(), message, &tree, &parents)
        .unwrap();
}

fn numbered(n: usize, prefix: &str) -> String {
    (1..=n).map(|i| format!("{prefix} {i}\n")).collect()
}

impl Repo {
    /// `main` with a few files; task `t1` then modifies, deletes, renames
    /// and adds files (one binary); `main` moves on afterwards.
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(&root, &opts).unwrap();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::write(root.join("modified.txt"), "one\ntwo\nthree\n").unwrap();
        fs::write(root.join("deleted.txt"), "bye\n").unwrap();
        fs::write(root.join("src/old.rs"), numbered(30, "fn line")).unwrap();
        fs::write(root.join("target-side.txt"), "base\n").unwrap();
        commit_all(&repo, "initial");

        let wt = ensure_worktree(&root, "t1", "main").unwrap();
        let p = &wt.path;
        fs::write(p.join("modified.txt"), "one\nTWO\nthree\n").unwrap();
        fs::remove_file(p.join("deleted.txt")).unwrap();
        let moved = numbered(30, "fn line").replace("fn line 30\n", "fn line thirty\n");
        fs::remove_file(p.join("src/old.rs")).unwrap();
        fs::write(p.join("src/new.rs"), moved).unwrap();
        fs::write(p.join("added.txt"), "hello\n").unwrap();
        fs::write(p.join("image.bin"), b"\x89PNG\0\0\x01\x02binary").unwrap();
        let attr = Attribution {
            task: "t1",
            agent: "claude",
            attempt: 1,
            title: "Change things",
        };
        let outcome = commit_attempt(&root, wt.head, &attr).unwrap();
        assert!(matches!(outcome, CommitOutcome::Committed(_)));

        // The target moves on after the task branched.
        fs::write(root.join("target-side.txt"), "changed on main\n").unwrap();
        fs::write(root.join("main-only.txt"), "landed later\n").unwrap();
        commit_all(&repo, "main moves on");
        Repo { _dir: dir, root }
    }
}

fn find<'a>(changes: &'a [FileChange], path: &str) -> &'a FileChange {
    changes
        .iter()
        .find(|c| c.path == path)
        .unwrap_or_else(|| panic!("{path} not in {changes:#?}"))
}

#[test]
fn task_changes_lists_every_kind_of_change_sorted() {
    let repo = Repo::new();
    let changes = task_changes(&repo.root, "t1", "main").unwrap();
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "added.txt",
            "deleted.txt",
            "image.bin",
            "modified.txt",
            "src/new.rs"
        ]
    );

    let added = find(&changes, "added.txt");
    assert_eq!(
        (added.old.as_deref(), added.new.as_deref()),
        (None, Some("hello\n"))
    );
    let deleted = find(&changes, "deleted.txt");
    assert_eq!(
        (deleted.old.as_deref(), deleted.new.as_deref()),
        (Some("bye\n"), None)
    );
    let modified = find(&changes, "modified.txt");
    assert_eq!(modified.old.as_deref(), Some("one\ntwo\nthree\n"));
    assert_eq!(modified.new.as_deref(), Some("one\nTWO\nthree\n"));
    assert!(!modified.binary && modified.old_path.is_none());

    let renamed = find(&changes, "src/new.rs");
    assert_eq!(renamed.old_path.as_deref(), Some("src/old.rs"));
    assert!(renamed.old.as_deref().unwrap().ends_with("fn line 30\n"));
    assert!(
        renamed
            .new
            .as_deref()
            .unwrap()
            .ends_with("fn line thirty\n")
    );

    let binary = find(&changes, "image.bin");
    assert!(binary.binary);
    assert_eq!((binary.old.as_deref(), binary.new.as_deref()), (None, None));
}

#[test]
fn task_changes_ignores_what_landed_on_the_target_since() {
    let repo = Repo::new();
    let changes = task_changes(&repo.root, "t1", "main").unwrap();
    assert!(changes.iter().all(|c| c.path != "main-only.txt"));
    assert!(changes.iter().all(|c| c.path != "target-side.txt"));
}

#[test]
fn task_changes_reports_missing_branches_and_bad_ids() {
    let repo = Repo::new();
    let err = task_changes(&repo.root, "nope", "main").unwrap_err();
    assert!(matches!(err, GitError::BranchNotFound { ref branch } if branch == "fleet/nope"));
    let err = task_changes(&repo.root, "t1", "develop").unwrap_err();
    assert!(matches!(err, GitError::BranchNotFound { .. }));
    let err = task_changes(&repo.root, "../x", "main").unwrap_err();
    assert!(matches!(err, GitError::InvalidTaskId { .. }));
}

#[test]
fn a_real_task_diff_models_and_renders() {
    let repo = Repo::new();
    let model = DiffModel::new(task_changes(&repo.root, "t1", "main").unwrap());
    let statuses: Vec<FileStatus> = model.files().iter().map(|f| f.status).collect();
    use FileStatus::*;
    assert_eq!(statuses, [Added, Deleted, Modified, Modified, Renamed]);
    let renamed = &model.files()[4];
    assert_eq!((renamed.added, renamed.removed), (1, 1));
    let screen = draw(&model, &DiffView::new(), 160, 48);
    assert!(screen.contains("R src/old.rs → src/new.rs"), "{screen}");
    assert!(screen.contains("binary file changed"), "{screen}");
}

// ---------------------------------------------------------------- model

fn text(path: &str, old: Option<&str>, new: Option<&str>) -> FileChange {
    FileChange {
        path: path.to_owned(),
        old_path: None,
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
        binary: false,
    }
}

fn binary(path: &str) -> FileChange {
    FileChange {
        path: path.to_owned(),
        old_path: None,
        old: None,
        new: None,
        binary: true,
    }
}

/// a.txt: two hunks (a replaced line near the top; a deletion and an
/// insertion near the bottom); b.txt: one replaced line; c.bin: binary.
fn small_model() -> DiffModel {
    let old_a = numbered(20, "line");
    let new_a = old_a
        .replace("line 2\n", "line two\n")
        .replace("line 18\n", "")
        + "inserted\n";
    DiffModel::new(vec![
        text("a.txt", Some(&old_a), Some(&new_a)),
        text("b.txt", Some("x\ny\nz\n"), Some("x\nY\nz\n")),
        binary("c.bin"),
    ])
}

#[test]
fn hunks_and_counts_of_a_small_diff() {
    let model = small_model();
    let a = &model.files()[0];
    assert_eq!((a.added, a.removed), (2, 2));
    let hunk = |file, old_start, old_len, new_start, new_len| Hunk {
        file,
        old_start,
        old_len,
        new_start,
        new_len,
    };
    assert_eq!(
        model.hunks(),
        [
            hunk(0, 0, 5, 0, 5),
            hunk(0, 14, 6, 14, 6),
            hunk(1, 0, 3, 0, 3)
        ]
    );
    assert_eq!(model.hunks()[0].header(), "@@ -1,5 +1,5 @@");
    assert_eq!(model.hunks()[1].header(), "@@ -15,6 +15,6 @@");

    let unified = model.layout(false);
    let kinds: Vec<RowKind> = unified.rows(0, 100).iter().map(|r| r.kind()).collect();
    use RowKind::*;
    #[rustfmt::skip]
    assert_eq!(kinds, [
        FileHeader, HunkHeader, Context, Removed, Added, Context, Context, Context,
        HunkHeader, Context, Context, Context, Removed, Context, Context, Added,
        FileHeader, HunkHeader, Context, Removed, Added, Context,
        FileHeader, Binary,
    ]);
    let row = unified.row(3).unwrap();
    assert_eq!(
        (row.old_line(), row.new_line(), row.pair()),
        (Some(1), None, Some((1, 1)))
    );
    let row = unified.row(12).unwrap();
    assert_eq!((row.old_line(), row.pair()), (Some(17), None));
    assert_eq!(model.files()[0].old_line(17), "line 18");

    let split = model.layout(true);
    let kinds: Vec<RowKind> = split.rows(0, 100).iter().map(|r| r.kind()).collect();
    #[rustfmt::skip]
    assert_eq!(kinds, [
        FileHeader, HunkHeader, Context, Changed, Context, Context, Context,
        HunkHeader, Context, Context, Context, Changed, Context, Context, Changed,
        FileHeader, HunkHeader, Context, Changed, Context,
        FileHeader, Binary,
    ]);
    let lines = |i| {
        let r = split.row(i).unwrap();
        (r.old_line(), r.new_line())
    };
    assert_eq!(lines(3), (Some(1), Some(1)));
    assert_eq!(lines(11), (Some(17), None));
    assert_eq!(lines(14), (None, Some(19)));
    assert_eq!(model.number_width(), 2);
}

#[test]
fn added_deleted_and_unchanged_files() {
    let mut renamed = text("new.rs", Some("same\n"), Some("same\n"));
    renamed.old_path = Some("old.rs".to_owned());
    let model = DiffModel::new(vec![
        text("add.txt", None, Some("a\nb")),
        text("del.txt", Some("a\n"), None),
        renamed,
        text("empty.txt", None, Some("")),
    ]);
    let f = model.files();
    assert_eq!(
        (f[0].status, f[0].added, f[0].removed),
        (FileStatus::Added, 2, 0)
    );
    assert_eq!(
        (f[1].status, f[1].added, f[1].removed),
        (FileStatus::Deleted, 0, 1)
    );
    assert_eq!(f[2].status, FileStatus::Renamed);
    assert_eq!(model.hunks()[0].header(), "@@ -0,0 +1,2 @@");
    assert_eq!(model.hunks()[1].header(), "@@ -1,1 +0,0 @@");
    let unified = model.layout(false);
    assert_eq!(
        unified
            .row(unified.file_row(2).unwrap() + 1)
            .unwrap()
            .kind(),
        RowKind::Unchanged
    );
    assert_eq!(
        unified
            .row(unified.file_row(3).unwrap() + 1)
            .unwrap()
            .kind(),
        RowKind::Unchanged
    );
    let screen = draw(&model, &DiffView::new(), 80, 24);
    assert!(
        screen.contains("renamed without content changes"),
        "{screen}"
    );
}

// ---------------------------------------------------------------- navigation

fn view(height: usize) -> DiffView {
    DiffView {
        height,
        ..DiffView::new()
    }
}

#[test]
fn hunk_navigation_lands_on_hunk_headers() {
    let model = small_model();
    let mut v = view(5);
    let mut seen = Vec::new();
    for _ in 0..4 {
        v.next_hunk(&model);
        seen.push((v.scroll, v.selected_file));
    }
    assert_eq!(seen, [(1, 0), (8, 0), (17, 1), (17, 1)]);
    seen.clear();
    for _ in 0..3 {
        v.prev_hunk(&model);
        seen.push((v.scroll, v.selected_file));
    }
    assert_eq!(seen, [(8, 0), (1, 0), (1, 0)]);

    v.toggle_split(&model);
    assert_eq!(v.scroll, 1);
    for expected in [7, 16, 16] {
        v.next_hunk(&model);
        assert_eq!(v.scroll, expected);
    }
}

#[test]
fn file_navigation_selects_files_and_clamps_at_the_end() {
    let model = small_model();
    let mut v = view(5);
    v.next_file(&model);
    assert_eq!((v.scroll, v.selected_file), (16, 1));
    // The last file's header cannot reach the top: the view stops at the
    // last page, but the file is selected.
    v.next_file(&model);
    assert_eq!((v.scroll, v.selected_file), (19, 2));
    v.next_file(&model);
    assert_eq!((v.scroll, v.selected_file), (19, 2));
    v.prev_file(&model);
    assert_eq!((v.scroll, v.selected_file), (16, 1));
    // Inside a file, `[` goes back to its header first.
    v.scroll_by(&model, 3);
    assert_eq!((v.scroll, v.selected_file), (19, 1));
    v.prev_file(&model);
    assert_eq!((v.scroll, v.selected_file), (16, 1));
    v.prev_file(&model);
    assert_eq!((v.scroll, v.selected_file), (0, 0));
    v.prev_file(&model);
    assert_eq!((v.scroll, v.selected_file), (0, 0));
    v.select_file(&model, 99);
    assert_eq!((v.scroll, v.selected_file), (19, 2));
}

#[test]
fn scrolling_clamps_at_both_ends() {
    let model = small_model();
    let mut v = view(5);
    v.scroll_by(&model, -5);
    assert_eq!(v.scroll, 0);
    v.page(&model, 1);
    assert_eq!(v.scroll, 4);
    v.page(&model, -3);
    assert_eq!(v.scroll, 0);
    v.scroll_by(&model, 1000);
    assert_eq!(v.scroll, 19);
    v.top(&model);
    assert_eq!((v.scroll, v.selected_file), (0, 0));
    v.bottom(&model);
    assert_eq!((v.scroll, v.selected_file), (19, 2));
    v.scroll_by(&model, i64::MIN);
    assert_eq!(v.scroll, 0);
    v.scroll_by(&model, i64::MAX);
    assert_eq!(v.scroll, 19);

    let empty = DiffModel::new(Vec::new());
    let mut v = view(5);
    for action in [
        Action::Down,
        Action::PageDown,
        Action::Bottom,
        Action::NextHunk,
    ] {
        assert!(v.handle(action, &empty));
    }
    v.next_file(&empty);
    v.toggle_split(&empty);
    assert_eq!((v.scroll, v.selected_file), (0, 0));
}

#[test]
fn toggle_split_keeps_the_line_at_the_top() {
    let model = small_model();
    let mut v = view(5);
    // unified row -> split row: removed line 18 / added "inserted" / the
    // replaced pair / a hunk header / a file header.
    for (unified, split) in [
        (12, 11),
        (15, 14),
        (4, 3),
        (3, 3),
        (8, 7),
        (16, 15),
        (13, 12),
    ] {
        v.split = false;
        v.scroll = unified;
        v.toggle_split(&model);
        assert!(v.split);
        assert_eq!(v.scroll, split, "unified row {unified}");
    }
    v.scroll = 11;
    v.toggle_split(&model);
    assert_eq!((v.split, v.scroll), (false, 12));
    v.scroll = 14;
    v.toggle_split(&model);
    v.toggle_split(&model);
    assert_eq!((v.split, v.scroll), (false, 14));
}

#[test]
fn keys_move_focus_and_files() {
    let model = small_model();
    let mut v = view(5);
    assert!(v.handle(Action::Left, &model));
    assert_eq!(v.focus, DiffFocus::Files);
    assert!(v.handle(Action::Down, &model));
    assert_eq!((v.scroll, v.selected_file), (16, 1));
    assert!(v.handle(Action::Up, &model));
    assert_eq!((v.scroll, v.selected_file), (0, 0));
    assert!(v.handle(Action::Right, &model));
    assert!(v.handle(Action::Down, &model));
    assert_eq!((v.scroll, v.focus), (1, DiffFocus::Diff));
    assert!(v.handle(Action::ToggleSplit, &model));
    assert!(v.split);
    assert!(!v.handle(Action::Approve, &model));
    assert_eq!(viewport_height(Rect::new(0, 0, 80, 24)), 22);
}

// ---------------------------------------------------------------- rendering

fn draw(model: &DiffModel, view: &DiffView, width: u16, height: u16) -> String {
    let terminal = draw_terminal(model, view, width, height);
    terminal.backend().to_string()
}

fn draw_terminal(
    model: &DiffModel,
    view: &DiffView,
    width: u16,
    height: u16,
) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let theme = Theme::default();
    terminal
        .draw(|frame| render(frame, frame.area(), model, view, &theme))
        .unwrap();
    terminal
}

/// The fixed model of the snapshots: a modified README, a binary, a deleted
/// doc, an added file, a multi-hunk file with word-level changes, a rename.
fn fixture_model() -> DiffModel {
    let engine_old: String = [
        "//! The engine.",
        "",
        "use std::collections::HashMap;",
        "",
        "pub struct Engine {",
        "\tjobs: HashMap<String, Job>,",
        "    limit: usize,",
        "}",
        "",
        "impl Engine {",
        "    pub fn new(limit: usize) -> Engine {",
        "        Engine { jobs: HashMap::new(), limit }",
        "    }",
        "",
        "    pub fn len(&self) -> usize {",
        "        self.jobs.len()",
        "    }",
        "",
        "    pub fn is_full(&self) -> bool {",
        "        self.jobs.len() >= self.limit",
        "    }",
        "",
        "    pub fn start(&mut self, id: &str) -> bool {",
        "        if self.is_full() {",
        "            return false;",
        "        }",
        "        self.jobs.insert(id.to_owned(), Job::default());",
        "        true",
        "    }",
        "}",
    ]
    .iter()
    .map(|l| format!("{l}\n"))
    .collect();
    let engine_new = engine_old
        .replace(
            "use std::collections::HashMap;",
            "use std::collections::BTreeMap;",
        )
        .replace("\tjobs: HashMap<String, Job>,", "\tjobs: BTreeMap<String, Job>,")
        .replace("HashMap::new(), limit", "BTreeMap::new(), limit")
        .replace(
            "        if self.is_full() {\n            return false;\n        }\n",
            "        if self.is_full() || self.jobs.contains_key(id) {\n            tracing::debug!(id, \"refused\");\n            return false;\n        }\n",
        );
    let mut renamed = text(
        "src/store/mod.rs",
        Some("pub mod db;\npub mod lock;\n"),
        Some("pub mod db;\npub mod lock;\npub mod transcript;\n"),
    );
    renamed.old_path = Some("src/store.rs".to_owned());
    DiffModel::new(vec![
        text(
            "README.md",
            Some("# fleetdeck\n\nA cockpit for agents.\n"),
            Some("# fleetdeck\n\nA terminal cockpit for coding agents.\n"),
        ),
        binary("assets/logo.png"),
        text("docs/old.md", Some("Obsolete.\n"), None),
        text(
            "src/added.rs",
            None,
            Some("pub fn added() -> u32 {\n    42\n}\n"),
        ),
        text("src/engine.rs", Some(&engine_old), Some(&engine_new)),
        renamed,
    ])
}

#[test]
fn snapshot_unified_80x24() {
    insta::assert_snapshot!(draw(&fixture_model(), &view(22), 80, 24));
}

#[test]
fn snapshot_split_80x24() {
    let model = fixture_model();
    let mut v = view(22);
    v.toggle_split(&model);
    v.select_file(&model, 4);
    insta::assert_snapshot!(draw(&model, &v, 80, 24));
}

#[test]
fn snapshot_unified_160x48() {
    insta::assert_snapshot!(draw(&fixture_model(), &view(46), 160, 48));
}

#[test]
fn snapshot_split_160x48() {
    let model = fixture_model();
    let mut v = view(46);
    v.toggle_split(&model);
    insta::assert_snapshot!(draw(&model, &v, 160, 48));
}

#[test]
fn snapshot_files_focused_160x48() {
    let model = fixture_model();
    let mut v = view(46);
    v.handle(Action::Left, &model);
    v.handle(Action::Down, &model);
    v.handle(Action::Down, &model);
    v.handle(Action::Down, &model);
    v.handle(Action::Down, &model);
    insta::assert_snapshot!(draw(&model, &v, 160, 48));
}

#[test]
fn snapshot_files_focused_80x24() {
    let model = fixture_model();
    let mut v = view(22);
    v.handle(Action::Left, &model);
    v.select_file(&model, 4);
    v.next_hunk(&model);
    insta::assert_snapshot!(draw(&model, &v, 80, 24));
}

#[test]
fn changed_words_are_highlighted() {
    let model = fixture_model();
    let theme = Theme::default();
    for split in [false, true] {
        let mut v = view(46);
        v.split = split;
        v.select_file(&model, 4);
        let terminal = draw_terminal(&model, &v, 160, 48);
        let buf = terminal.backend().buffer();
        let styled = |style: ratatui::style::Style| -> String {
            buf.content()
                .iter()
                .filter(|c| c.fg == style.fg.unwrap() && c.bg == style.bg.unwrap())
                .map(|c| c.symbol())
                .collect()
        };
        assert!(
            styled(theme.removed_word).contains("HashMap"),
            "split={split}"
        );
        assert!(
            styled(theme.added_word).contains("BTreeMap"),
            "split={split}"
        );
        assert!(
            !styled(theme.added_word).contains("collections"),
            "split={split}"
        );
    }
}

#[test]
fn empty_diff_says_no_changes() {
    let model = DiffModel::new(Vec::new());
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = draw(&model, &view(h as usize - 2), w, h);
        assert!(screen.contains("no changes"), "{screen}");
    }
}

#[test]
fn tiny_areas_do_not_panic() {
    let model = fixture_model();
    let mut v = view(0);
    v.scroll = usize::MAX;
    v.selected_file = usize::MAX;
    for split in [false, true] {
        v.split = split;
        draw(&model, &v, 1, 1);
        draw(&model, &v, 3, 2);
        draw(&model, &v, 100, 3);
        let mut terminal = Terminal::new(TestBackend::new(40, 10)).unwrap();
        terminal
            .draw(|frame| {
                render(frame, Rect::new(0, 0, 40, 0), &model, &v, &Theme::default());
                render(
                    frame,
                    Rect::new(39, 9, 10, 10),
                    &model,
                    &v,
                    &Theme::default(),
                );
            })
            .unwrap();
    }
    draw(&DiffModel::new(Vec::new()), &v, 1, 1);
}

#[test]
fn hostile_content_never_reaches_the_terminal() {
    let evil = "ok\n\x1b]52;c;cm0gLXJmIH4=\x07 clip\n\x1b[2J\x1b[H wipe\n\u{9b}31m c1\tx\r\n";
    let evil2 = "ok\n\x1b]52;c;cm0gLXJmIH4=\x07 clip!\n\x1b[2J\x1b[H wipe\n";
    let model = DiffModel::new(vec![
        text("evil\x1b[31m.txt", None, Some(evil)),
        text("evil2.txt", Some(evil), Some(evil2)),
    ]);
    for split in [false, true] {
        for (w, h) in [(80, 24), (160, 48)] {
            let mut v = view(h as usize - 2);
            v.split = split;
            let screen = draw(&model, &v, w, h);
            assert!(!screen.contains('\x1b'), "{screen}");
            assert!(
                !screen.chars().any(|c| c.is_control() && c != '\n'),
                "{screen}"
            );
            // The reviewer sees that something is there.
            assert!(screen.contains("␛]52;c;"), "{screen}");
        }
    }
}

#[test]
fn render_does_not_change_the_view() {
    let model = fixture_model();
    let v = DiffView {
        scroll: 10_000,
        selected_file: 3,
        height: 3,
        ..DiffView::new()
    };
    let before = v.clone();
    draw(&model, &v, 160, 48);
    assert_eq!(v, before);
}

#[test]
fn a_done_task_keeps_its_diff_what_the_merge_brought_against_the_target_before() {
    use fleetdeck::git::{MergeOutcome, merged_changes};
    let repo = Repo::new();
    let before = task_changes(&repo.root, "t1", "main").unwrap();
    let attr = Attribution {
        task: "t1",
        agent: "claude",
        attempt: 1,
        title: "Change things",
    };
    let outcome = fleetdeck::git::merge_task(&repo.root, "main", &attr).unwrap();
    let MergeOutcome::Merged { commit, .. } = outcome else {
        panic!("merged: {outcome:?}")
    };
    // The branch is merged: its own diff against the target is empty now.
    assert!(task_changes(&repo.root, "t1", "main").unwrap().is_empty());
    let after = merged_changes(&repo.root, &commit.to_string()).unwrap();
    assert_eq!(
        after, before,
        "the merge brought exactly the task's changes"
    );
    assert!(after.iter().all(|c| c.path != "main-only.txt"));
    let err = merged_changes(&repo.root, "not-a-commit").unwrap_err();
    assert!(err.to_string().contains("not-a-commit"), "{err}");
}

#[test]
fn the_diff_scrolls_horizontally_and_marks_cut_lines() {
    let long = format!("start {} END", "x".repeat(80));
    let model = DiffModel::new(vec![FileChange {
        path: "long.txt".into(),
        old_path: None,
        old: Some("short\n".into()),
        new: Some(format!("short\n{long}\n")),
        binary: false,
    }]);
    let mut view = DiffView::new();
    let row = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains("xxxx"))
            .unwrap_or_else(|| panic!("the long line in {screen}"))
            .to_owned()
    };
    let screen = draw(&model, &view, 60, 12);
    let line = row(&screen);
    assert!(line.contains("+start"), "{line}");
    assert!(line.contains("x›"), "cut at the right edge: {line}");
    assert!(!line.contains("END"), "{line}");
    assert!(!line.contains('‹'), "nothing cut on the left yet: {line}");
    for _ in 0..10 {
        assert!(view.handle(Action::ScrollRight, &model));
    }
    let line = row(&draw(&model, &view, 60, 12));
    assert!(line.contains("+‹x"), "cut at the left edge: {line}");
    assert!(line.contains("END"), "the end is in view: {line}");
    assert!(!line.contains('›'), "{line}");
    // Back to the start.
    for _ in 0..20 {
        view.handle(Action::ScrollLeft, &model);
    }
    assert_eq!(view.left, 0);
    // Side by side, both halves mark their cuts the same way.
    view.split = true;
    let line = row(&draw(&model, &view, 60, 12));
    assert!(line.contains('›'), "{line}");
}
