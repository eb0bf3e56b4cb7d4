//! Key bindings: every key maps to an [`Action`] in a [`Context`]; `[ui.keys]`
//! in fleet.toml overrides single actions; the help screen lists the map.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// Where the user is; the same key can mean different things in different contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// The board of columns.
    Board,
    /// Task detail, transcript tab.
    Transcript,
    /// Task detail, diff tab.
    Diff,
    /// Task detail, info tab.
    Info,
    /// A text editor (feedback, task, replan): only these keys are taken; the rest is text.
    Editor,
    /// A yes/no question.
    Confirm,
}

/// Everything a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Back,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    NextTab,
    PrevTab,
    Pause,
    PauseFleet,
    Reassign,
    Edit,
    NewTask,
    Replan,
    Drop,
    Retry,
    Approve,
    RequestChanges,
    Reject,
    Search,
    SearchNext,
    SearchPrev,
    Follow,
    ToggleSplit,
    NextHunk,
    PrevHunk,
    NextFile,
    PrevFile,
    Save,
    Yes,
    No,
}

use Action::*;
use Context::*;

const NAV: &[Context] = &[Board, Transcript, Diff, Info];
const TASK: &[Context] = &[Board, Transcript, Diff, Info];

/// (action, default keys, contexts, description) — the source of the help screen.
pub const DEFAULTS: &[(Action, &[&str], &[Context], &str)] = &[
    (
        Quit,
        &["q"],
        &[Board],
        "Quit (asks first while agents run; they resume next start)",
    ),
    (Help, &["?"], NAV, "Show every key binding"),
    (
        Back,
        &["esc"],
        &[Transcript, Diff, Info, Editor, Confirm],
        "Close the view, dialog or editor",
    ),
    (Up, &["up", "k"], NAV, "Move up / scroll up"),
    (Down, &["down", "j"], NAV, "Move down / scroll down"),
    (
        Left,
        &["left", "h"],
        &[Board, Diff],
        "Previous column / file list",
    ),
    (Right, &["right", "l"], &[Board, Diff], "Next column / diff"),
    (PageUp, &["pgup", "ctrl-u"], NAV, "Page up"),
    (PageDown, &["pgdn", "ctrl-d"], NAV, "Page down"),
    (Top, &["home", "g"], NAV, "Go to the top"),
    (
        Bottom,
        &["end", "G"],
        NAV,
        "Go to the bottom (the transcript follows again)",
    ),
    (Open, &["enter"], &[Board], "Open the selected task"),
    (
        NextTab,
        &["tab"],
        NAV,
        "Next tab (in a narrow terminal: next column)",
    ),
    (PrevTab, &["shift-tab"], NAV, "Previous tab / column"),
    (
        Pause,
        &["p"],
        TASK,
        "Pause or resume the task's agent (or hold a queued task)",
    ),
    (PauseFleet, &["P"], NAV, "Pause or resume the whole fleet"),
    (
        Reassign,
        &["r"],
        TASK,
        "Reassign the task to another agent profile",
    ),
    (
        Edit,
        &["e"],
        TASK,
        "Edit the task (title, prompt, dependencies, agent) as TOML",
    ),
    (NewTask, &["n"], &[Board], "Add a new task"),
    (
        Replan,
        &["R"],
        &[Board],
        "Edit the not-yet-done part of the plan as TOML",
    ),
    (Drop, &["d"], TASK, "Drop the task"),
    (Retry, &["t"], TASK, "Retry a failed task"),
    (
        Approve,
        &["a"],
        TASK,
        "Approve: merge the task into the target",
    ),
    (
        RequestChanges,
        &["c"],
        TASK,
        "Request changes: send feedback to the agent",
    ),
    (Reject, &["x"], TASK, "Reject the task's work"),
    (Search, &["/"], &[Transcript], "Search the transcript"),
    (SearchNext, &["n"], &[Transcript], "Next search match"),
    (SearchPrev, &["N"], &[Transcript], "Previous search match"),
    (Follow, &["f"], &[Transcript], "Follow new output"),
    (ToggleSplit, &["s"], &[Diff], "Unified or side-by-side diff"),
    (NextHunk, &["n"], &[Diff], "Next hunk"),
    (PrevHunk, &["N"], &[Diff], "Previous hunk"),
    (NextFile, &["]"], &[Diff], "Next file"),
    (PrevFile, &["["], &[Diff], "Previous file"),
    (Save, &["ctrl-s"], &[Editor], "Save the editor"),
    (Yes, &["y", "enter"], &[Confirm], "Yes"),
    (No, &["n"], &[Confirm], "No"),
];

/// A key with its modifiers, as written in fleet.toml (`a`, `A`, `ctrl-a`, `enter`, `f1`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    /// Parses a key description; None when it is not one.
    pub fn parse(s: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-") {
                mods |= KeyModifiers::SHIFT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
            _ => return None,
        };
        Some(Key { code, mods })
    }

    /// The key of a terminal event, normalised (shift is part of an upper-case char).
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        let code = match ev.code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Key { code, mods }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The bindings in force: the defaults with the user's overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<(Action, Vec<Key>, &'static [Context], &'static str)>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS
            .iter()
            .map(|(a, keys, ctx, desc)| {
                (
                    *a,
                    keys.iter().filter_map(|k| Key::parse(k)).collect(),
                    *ctx,
                    *desc,
                )
            })
            .collect();
        Keymap { bindings }
    }
}

impl Keymap {
    /// The action `key` triggers in `ctx`, if any.
    pub fn action(&self, ctx: Context, key: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(key);
        self.bindings
            .iter()
            .find(|(_, keys, contexts, _)| contexts.contains(&ctx) && keys.contains(&key))
            .map(|(a, ..)| *a)
    }

    /// The first key bound to `action`, for hints ("a approve").
    pub fn key_label(&self, action: Action) -> String {
        self.bindings
            .iter()
            .find(|(a, ..)| *a == action)
            .and_then(|(_, keys, ..)| keys.first())
            .map_or_else(|| "—".to_owned(), ToString::to_string)
    }

    /// Every binding: (action, keys, contexts, description), in help order.
    pub fn bindings(
        &self,
    ) -> impl Iterator<Item = (Action, &[Key], &'static [Context], &'static str)> {
        self.bindings
            .iter()
            .map(|(a, k, c, d)| (*a, k.as_slice(), *c, *d))
    }
}
