//! The context pane's keys: moving through the shared context store's
//! entries, `h` to show the retired ones, `/` to filter (like `fleetdeck
//! context QUERY`), `a` to add one (a kind picker, then an editor), `e` to
//! edit, `d` to retire after a question. Also the editor's text format:
//! the entry's text and an optional `scope:` line ([`parse_context`]).
//! The view is `src/ui/views/context.rs`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::{Handled, Hint};
use crate::core::team::{ContextEntry, ContextKind, Scope};
use crate::core::{Command, TaskId};
use crate::ui::app::{App, EditorKind, Intent, Origin, Overlay, Screen};
use crate::ui::keymap::Action;
use crate::ui::model::{TeamModel, cursor, matches};

/// Where the user is in the context pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextView {
    /// The id of the selected entry; None: the newest shown.
    pub selected: Option<u64>,
    /// Retired entries are shown too (dimmed).
    pub retired: bool,
    /// Only entries whose kind, scope, author or text contains this.
    pub query: Option<String>,
    /// The selected entry shown in full.
    pub expanded: bool,
}

impl ContextView {
    /// The entries shown, in id order.
    pub fn shown<'a>(&self, team: &'a TeamModel) -> Vec<&'a ContextEntry> {
        let q = self.query.as_deref().unwrap_or("");
        team.context
            .iter()
            .filter(|e| self.retired || !e.retired)
            .filter(|e| {
                matches(&e.text, q)
                    || matches(e.kind.name(), q)
                    || matches(&scope_text(&e.scope), q)
                    || matches(&e.author.short(), q)
            })
            .collect()
    }

    /// The index of the selected entry among `shown`.
    pub fn cursor(&self, shown: &[&ContextEntry]) -> Option<usize> {
        cursor(shown.iter().map(|e| e.id), self.selected)
    }
}

/// The kind picker that opens the add editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindPicker {
    pub selected: usize,
}

/// Carries out a ContextPane-context action.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let page = app.size.1.saturating_sub(6).max(1) as usize;
    let Screen::Context(view) = &app.screen else {
        return None;
    };
    let shown = view.shown(&app.model.team);
    let at = view.cursor(&shown);
    let last = shown.len().saturating_sub(1);
    let pick = |i: usize| shown.get(i.min(last)).map(|e| e.id);
    let current = at.and_then(|i| shown.get(i)).map(|e| (*e).clone());
    let moved = at.and_then(|at| match action {
        Action::Up => pick(at.saturating_sub(1)),
        Action::Down => pick(at + 1),
        Action::PageUp => pick(at.saturating_sub(page)),
        Action::PageDown => pick(at + page),
        Action::Top => pick(0),
        Action::Bottom => pick(last),
        _ => None,
    });
    let Screen::Context(view) = &mut app.screen else {
        return None;
    };
    match action {
        Action::Back if view.expanded => view.expanded = false,
        Action::Back => app.screen = Screen::Board,
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => view.selected = moved.or(view.selected),
        Action::Expand => view.expanded = !view.expanded,
        Action::ShowRetired => view.retired = !view.retired,
        Action::Search => {
            let mut area = TextArea::default();
            area.set_placeholder_text("filter the entries (enter to apply, empty: all)");
            app.overlay = Some(Overlay::Search(area));
        }
        Action::AddContext => app.overlay = Some(Overlay::KindPicker(KindPicker { selected: 0 })),
        Action::EditContext => return Some(edit(app, current)),
        Action::RetireContext => return Some(retire(app, current)),
        _ => return None,
    }
    super::done()
}

fn edit(app: &mut App, entry: Option<ContextEntry>) -> Vec<Intent> {
    let Some(e) = entry else {
        return app.toast("no entry selected: a adds one");
    };
    if e.retired {
        return app.toast(format!(
            "context entry {} is retired: add a new one instead (a)",
            e.id
        ));
    }
    let mut text = e.text.clone();
    if !e.scope.is_everyone() {
        text.push_str(&format!("\nscope: {}", scope_text(&e.scope)));
    }
    app.open_editor(
        EditorKind::Context {
            kind: e.kind,
            id: Some(e.id),
        },
        &text,
    )
}

fn retire(app: &mut App, entry: Option<ContextEntry>) -> Vec<Intent> {
    let Some(e) = entry else {
        return app.toast("no entry selected");
    };
    if e.retired {
        return app.toast(format!("context entry {} is retired already", e.id));
    }
    let text = crate::sanitize::sanitize(&e.text).replace('\n', " ");
    app.overlay = Some(Overlay::Confirm {
        question: format!(
            "Retire context entry {} ({}: {})? It is kept for history but never goes into a prompt again.",
            e.id,
            e.kind,
            crate::ui::views::chrome::fit(&text, 80)
        ),
        yes: vec![Intent::Command {
            command: Command::RetireContext { id: e.id },
            origin: Origin::Key,
        }],
    });
    Vec::new()
}

impl App {
    /// A key in the kind picker: Enter opens the editor for that kind.
    pub(in crate::ui::app) fn kind_picker_key(
        &mut self,
        mut p: KindPicker,
        nav: Option<Action>,
        key: KeyEvent,
    ) -> Vec<Intent> {
        let last = ContextKind::ALL.len() - 1;
        match nav {
            Some(Action::Up) => p.selected = p.selected.saturating_sub(1),
            Some(Action::Down) => p.selected = (p.selected + 1).min(last),
            Some(Action::Open) => {
                let kind = ContextKind::ALL[p.selected.min(last)];
                return self.open_editor(EditorKind::Context { kind, id: None }, "");
            }
            _ if key.code == KeyCode::Esc => return Vec::new(),
            _ => {}
        }
        self.overlay = Some(Overlay::KindPicker(p));
        Vec::new()
    }
}

/// The pane's hints.
pub(in crate::ui::app) fn hints(view: &ContextView) -> Vec<Hint> {
    vec![
        (Action::Back, "back"),
        (Action::AddContext, "add"),
        (Action::EditContext, "edit"),
        (Action::RetireContext, "retire"),
        (
            Action::ShowRetired,
            if view.retired {
                "hide retired"
            } else {
                "show retired"
            },
        ),
        (Action::Search, "filter"),
        (Action::Expand, "read"),
        (Action::Help, "help"),
    ]
}

/// A scope as the editor's `scope:` line writes it: `tasks=a,b paths=src/api
/// roles=tester`, or `everyone`.
pub fn scope_text(scope: &Scope) -> String {
    if scope.is_everyone() {
        return "everyone".into();
    }
    let mut parts = Vec::new();
    let tasks: Vec<&str> = scope.tasks.iter().map(TaskId::as_str).collect();
    for (name, list) in [
        ("tasks", tasks),
        ("paths", scope.paths.iter().map(String::as_str).collect()),
        ("roles", scope.roles.iter().map(String::as_str).collect()),
    ] {
        if !list.is_empty() {
            parts.push(format!("{name}={}", list.join(",")));
        }
    }
    parts.join(" ")
}

/// Reads a `scope:` line's value (see [`scope_text`]).
fn parse_scope(value: &str) -> Result<Scope, String> {
    let mut scope = Scope::everyone();
    if value.trim().is_empty() || value.trim() == "everyone" {
        return Ok(scope);
    }
    for part in value.split_whitespace() {
        let Some((name, list)) = part.split_once('=') else {
            return Err(format!(
                "`{part}` is not NAME=VALUES (write tasks=a,b paths=src/api roles=tester)"
            ));
        };
        let values: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
        if values.is_empty() {
            return Err(format!("`{name}=` names nothing"));
        }
        match name.trim() {
            "tasks" | "task" => {
                for v in values {
                    let id = TaskId::parse(&v).map_err(|e| format!("tasks: `{v}`: {e}"))?;
                    scope.tasks.push(id);
                }
            }
            "paths" | "path" => scope.paths.extend(values),
            "roles" | "role" => scope.roles.extend(values),
            other => {
                return Err(format!(
                    "unknown scope `{other}` (expected tasks, paths or roles)"
                ));
            }
        }
    }
    Ok(scope)
}

/// The command of the context editor's text: the entry's text, and an
/// optional line `scope: ...` (see [`scope_text`]); a bad scope line is
/// refused with its line number and the reason.
pub fn parse_context(kind: ContextKind, id: Option<u64>, text: &str) -> Result<Command, String> {
    let mut scope = Scope::everyone();
    let mut body = Vec::new();
    let mut seen = false;
    for (n, line) in text.lines().enumerate() {
        let head = line.trim_start();
        match head.get(..6) {
            Some(h) if h.eq_ignore_ascii_case("scope:") => {
                if seen {
                    return Err(format!("line {}: a second scope: line", n + 1));
                }
                seen = true;
                scope =
                    parse_scope(&head[6..]).map_err(|e| format!("line {}: scope: {e}", n + 1))?;
            }
            _ => body.push(line),
        }
    }
    let text = body.join("\n").trim().to_owned();
    if text.is_empty() {
        return Err(format!(
            "write the {kind} first (its text, then an optional scope: line)"
        ));
    }
    Ok(match id {
        Some(id) => Command::EditContext { id, text, scope },
        None => Command::AddContext {
            kind,
            text,
            scope,
            supersedes: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lines_read_back_what_they_write() {
        let Ok(Command::AddContext { scope, text, .. }) = parse_context(
            ContextKind::Contract,
            None,
            "Errors are JSON\n{code, message}\nscope: tasks=api,ui paths=src/api roles=tester",
        ) else {
            panic!("parsed")
        };
        assert_eq!(text, "Errors are JSON\n{code, message}");
        assert_eq!(
            scope_text(&scope),
            "tasks=api,ui paths=src/api roles=tester"
        );
        assert_eq!(parse_scope(&scope_text(&scope)), Ok(scope));
        assert_eq!(parse_scope("everyone"), Ok(Scope::everyone()));
    }

    #[test]
    fn bad_scope_lines_and_empty_texts_say_what_is_wrong() {
        let bad = |t: &str| parse_context(ContextKind::Decision, Some(3), t).unwrap_err();
        assert_eq!(
            bad("x\nscope: teams=a"),
            "line 2: scope: unknown scope `teams` (expected tasks, paths or roles)"
        );
        assert_eq!(
            bad("x\nscope: tasks=api Id"),
            "line 2: scope: `Id` is not NAME=VALUES (write tasks=a,b paths=src/api roles=tester)"
        );
        assert!(bad("x\nscope: tasks=-x").starts_with("line 2: scope: tasks: `-x`"));
        assert_eq!(
            bad("x\nscope: roles="),
            "line 2: scope: `roles=` names nothing"
        );
        assert_eq!(
            bad("scope: roles=a\nscope: roles=b"),
            "line 2: a second scope: line"
        );
        assert_eq!(
            bad("\nscope: roles=tester\n"),
            "write the decision first (its text, then an optional scope: line)"
        );
        assert!(matches!(
            parse_context(ContextKind::Decision, Some(3), "y"),
            Ok(Command::EditContext { id: 3, .. })
        ));
    }
}
