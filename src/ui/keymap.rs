//! Key bindings: every key maps to an [`Action`] in a [`Context`]; `[ui.keys]`
//! in fleet.toml overrides single actions; the help screen lists the map.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};

use crate::config::KeysSpec;
use crate::ui::theme::did_you_mean;

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
    /// The plan diff: a proposal or a replan to confirm. Moving, scrolling
    /// and tabs use the board's keys ([`Context::borrows`]).
    Plan,
    /// The supervisor pane: consultations and their transcripts. Moving,
    /// scrolling and help use the board's keys.
    Supervisor,
    /// The messages pane: the agents' typed messages. Moves like the board.
    Messages,
    /// The context pane: the shared context store. Moves like the board.
    ContextPane,
    /// The compare view of a fan-out task's candidates. Moves like the board.
    Compare,
}

impl Context {
    /// The context whose keys `self` uses for `action`: the plan diff and
    /// the supervisor pane move, scroll and switch tabs with the board's
    /// keys and close with the transcript's (so that `[ui.keys]` overrides
    /// apply there too, and the help lists them once).
    pub fn borrows(self, action: Action) -> Option<Context> {
        use Action::*;
        let moves = matches!(action, Up | Down | PageUp | PageDown | Top | Bottom);
        let from_board = match self {
            Plan => moves || matches!(action, NextTab | PrevTab),
            Supervisor => moves || matches!(action, Help | ShowProposal),
            Messages | ContextPane => moves || matches!(action, Help),
            Compare => moves || matches!(action, Help | Left | Right),
            _ => false,
        };
        match (self, action) {
            (Plan | Supervisor | Messages | ContextPane | Compare, Back) => Some(Transcript),
            _ if from_board => Some(Board),
            _ => None,
        }
    }

    /// How the help screen and warnings name the context.
    pub fn label(self) -> &'static str {
        match self {
            Board => "board",
            Transcript => "transcript",
            Diff => "diff",
            Info => "info",
            Editor => "editor",
            Confirm => "yes/no question",
            Plan => "plan diff",
            Supervisor => "supervisor pane",
            Messages => "messages pane",
            ContextPane => "context pane",
            Compare => "compare view",
        }
    }
}

/// Everything a key can do. The snake_case names (`request_changes`) are the
/// names `[ui.keys]` uses.
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
    Update,
    Resolve,
    ResolveShell,
    Budget,
    FleetBudget,
    Search,
    SearchNext,
    SearchPrev,
    Follow,
    OlderAttempt,
    NewerAttempt,
    ToggleFold,
    VerifyOutput,
    ToggleSplit,
    NextHunk,
    PrevHunk,
    NextFile,
    PrevFile,
    ScrollLeft,
    ScrollRight,
    Save,
    Yes,
    No,
    Goal,
    ShowProposal,
    SupervisorPane,
    ToggleChange,
    AllChanges,
    ExpandChange,
    ConfirmPlan,
    PlanFeedback,
    DiscardProposal,
    MessagesPane,
    TeamContext,
    FilterTask,
    Expand,
    ShowRetired,
    AddContext,
    EditContext,
    RetireContext,
    FanOut,
    Pick,
    CandidateDiff,
    NextComment,
    PrevComment,
}

impl Action {
    /// The action `[ui.keys]` calls `name` (its snake_case serde name).
    pub fn from_name(name: &str) -> Option<Action> {
        let name: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            name.into_deserializer();
        Action::deserialize(name).ok()
    }

    /// Every action, in help order.
    pub fn all() -> impl Iterator<Item = Action> {
        DEFAULTS.iter().map(|(action, ..)| *action)
    }
}

/// The snake_case name, as in `[ui.keys]`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => f.write_str(&name),
            _ => write!(f, "{self:?}"),
        }
    }
}

mod defaults;

use Context::*;
pub use defaults::DEFAULTS;

/// Examples of keys, for error messages.
const KEY_EXAMPLES: &str = "a, A, ctrl-a, alt-x, enter, esc, tab, shift-tab, up, pgdn, f5, space";

/// A key with its modifiers, as written in fleet.toml (`a`, `A`, `ctrl-a`, `enter`, `f1`...).
///
/// Normalised so that a parsed key equals the key of the terminal event it
/// stands for: upper-case letters and symbols carry no SHIFT (`G`, `?`),
/// shift-tab is `BackTab` without SHIFT, and control letters are lower-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    /// Parses a key description; None when it is not one. Modifiers (`ctrl-`,
    /// `alt-`, `shift-`) and key names (`enter`, `PgDn`) ignore case; single
    /// characters do not (`g` and `G` differ). `shift-` with anything but a
    /// letter or tab is refused: write the character itself (`?`, not `shift-/`).
    pub fn parse(s: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let prefixes = [
                ("ctrl-", KeyModifiers::CONTROL),
                ("alt-", KeyModifiers::ALT),
                ("shift-", KeyModifiers::SHIFT),
            ];
            let stripped = prefixes.iter().find_map(|(prefix, m)| {
                let head = rest.get(..prefix.len())?;
                let tail = rest.get(prefix.len()..).filter(|t| !t.is_empty())?;
                head.eq_ignore_ascii_case(prefix).then_some((tail, *m))
            });
            match stripped {
                Some((tail, m)) => {
                    mods |= m;
                    rest = tail;
                }
                None => break,
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some('↑'), None) => KeyCode::Up,
            (Some('↓'), None) => KeyCode::Down,
            (Some('←'), None) => KeyCode::Left,
            (Some('→'), None) => KeyCode::Right,
            (Some(c), None) => KeyCode::Char(c),
            _ => named_key(&rest.to_ascii_lowercase())?,
        };
        Key { code, mods }.normalised()
    }

    /// The key of a terminal event, normalised like [`Key::parse`]: crossterm
    /// reports `G` as `Char('G')` with SHIFT, shift-tab as `BackTab` with
    /// SHIFT, and ctrl-a as `Char('a')` with CONTROL.
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            KeyCode::Char(c) => {
                let c = if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else if mods.contains(KeyModifiers::SHIFT) {
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// The one spelling of a key; None when no terminal event can match it.
    fn normalised(mut self) -> Option<Key> {
        let shift = self.mods.contains(KeyModifiers::SHIFT);
        let ctrl = self.mods.contains(KeyModifiers::CONTROL);
        match self.code {
            KeyCode::Char(c) if shift && !c.is_ascii_alphabetic() => return None,
            KeyCode::Char(c) if ctrl => self.code = KeyCode::Char(c.to_ascii_lowercase()),
            KeyCode::Char(c) if shift => self.code = KeyCode::Char(c.to_ascii_uppercase()),
            KeyCode::Tab if shift => self.code = KeyCode::BackTab,
            _ => {}
        }
        if matches!(self.code, KeyCode::Char(_) | KeyCode::BackTab) {
            self.mods.remove(KeyModifiers::SHIFT);
        }
        Some(self)
    }
}

/// A key written as a name (lower-case): `enter`, `pgdn`, `f5`...
fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "space" => KeyCode::Char(' '),
        f => {
            let n: u8 = f.strip_prefix('f')?.parse().ok()?;
            if !(1..=24).contains(&n) {
                return None;
            }
            KeyCode::F(n)
        }
    })
}

/// The spelling [`Key::parse`] reads back (arrows as `↑` `↓` `←` `→`).
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) && self.code != KeyCode::BackTab {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
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
            other => write!(f, "{}", format!("{other:?}").to_lowercase()),
        }
    }
}

/// A `[ui.keys]` table that cannot be applied; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    /// The table names an action that does not exist.
    #[error("[ui.keys]: unknown action `{name}`{suggestion}; valid actions: {valid}")]
    UnknownAction {
        name: String,
        suggestion: String,
        valid: String,
    },
    /// A key of an action is not a key description.
    #[error(
        "[ui.keys] {action}: `{key}` is not a key; write keys like {KEY_EXAMPLES} \
         (upper-case letters and symbols as themselves: G, ?)"
    )]
    BadKey { action: String, key: String },
    /// Two overridden actions claim the same key where both apply.
    #[error(
        "[ui.keys]: `{key}` is given to both `{first}` and `{second}`, which both apply in \
         {contexts}; give one of them another key"
    )]
    Conflict {
        key: String,
        first: String,
        second: String,
        contexts: String,
    },
}

/// One action's keys where it applies.
#[derive(Debug, Clone)]
struct Binding {
    action: Action,
    /// Every key bound in at least one of `contexts`.
    keys: Vec<Key>,
    contexts: &'static [Context],
    description: &'static str,
    /// (key, context): keys another action's override took in some contexts.
    taken: Vec<(Key, Context)>,
}

impl Binding {
    fn has(&self, key: Key, ctx: Context) -> bool {
        self.contexts.contains(&ctx)
            && self.keys.contains(&key)
            && !self.taken.contains(&(key, ctx))
    }
}

/// The bindings in force: the defaults with the user's overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS
            .iter()
            .map(|(action, keys, contexts, description)| Binding {
                action: *action,
                keys: keys.iter().filter_map(|k| Key::parse(k)).collect(),
                contexts,
                description,
                taken: Vec::new(),
            })
            .collect();
        Keymap { bindings }
    }
}

impl Keymap {
    /// The defaults with `[ui.keys]` applied, and warnings for the app's log.
    ///
    /// Each entry replaces every default key of one action (`approve =
    /// "ctrl-a"`, `down = ["j", "ctrl-n"]`, `[]` unbinds). When an override takes
    /// a key another action has in a shared context, the override wins there
    /// and a warning names both. Errors: an unknown action, a key that does
    /// not parse, or two overrides claiming one key where both apply.
    pub fn with_overrides(
        overrides: &BTreeMap<String, KeysSpec>,
    ) -> Result<(Keymap, Vec<String>), KeymapError> {
        let mut parsed: Vec<(Action, Vec<Key>)> = Vec::new();
        for (name, spec) in overrides {
            let action = Action::from_name(name).ok_or_else(|| {
                let names: Vec<String> = Action::all().map(|a| a.to_string()).collect();
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                KeymapError::UnknownAction {
                    name: name.clone(),
                    suggestion: did_you_mean(name, &refs),
                    valid: names.join(", "),
                }
            })?;
            let mut keys = Vec::new();
            for text in spec.keys() {
                let key = Key::parse(text).ok_or_else(|| KeymapError::BadKey {
                    action: name.clone(),
                    key: text.to_owned(),
                })?;
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            parsed.push((action, keys));
        }

        let mut map = Keymap::default();
        for (i, (first, first_keys)) in parsed.iter().enumerate() {
            for (second, second_keys) in &parsed[i + 1..] {
                let shared = shared(map.contexts(*first), map.contexts(*second));
                let clash = first_keys.iter().find(|k| second_keys.contains(k));
                if let (Some(key), false) = (clash, shared.is_empty()) {
                    return Err(KeymapError::Conflict {
                        key: key.to_string(),
                        first: first.to_string(),
                        second: second.to_string(),
                        contexts: labels(&shared),
                    });
                }
            }
        }
        for binding in &mut map.bindings {
            if let Some((_, keys)) = parsed.iter().find(|(a, _)| *a == binding.action) {
                binding.keys = keys.clone();
            }
        }

        let mut warnings = Vec::new();
        for (action, keys) in &parsed {
            let contexts = map.contexts(*action);
            for key in keys {
                for other in map.bindings.iter_mut().filter(|b| b.action != *action) {
                    let lost: Vec<Context> = shared(contexts, other.contexts)
                        .into_iter()
                        .filter(|c| other.has(*key, *c))
                        .collect();
                    if lost.is_empty() {
                        continue;
                    }
                    other.taken.extend(lost.iter().map(|c| (*key, *c)));
                    if other.contexts.iter().all(|c| !other.has(*key, *c)) {
                        other.keys.retain(|k| k != key);
                        other.taken.retain(|(k, _)| k != key);
                    }
                    let bare: Vec<Context> = lost
                        .iter()
                        .copied()
                        .filter(|c| other.keys.iter().all(|k| !other.has(*k, *c)))
                        .collect();
                    let mut warning = format!(
                        "[ui.keys] {action}: `{key}` now means `{action}` in {}, so `{}` loses it there",
                        labels(&lost),
                        other.action
                    );
                    if !bare.is_empty() {
                        warning.push_str(&format!(
                            " and has no key left in {}; give it one in [ui.keys]",
                            labels(&bare)
                        ));
                    }
                    warnings.push(warning);
                }
            }
        }
        Ok((map, warnings))
    }

    /// The action `key` triggers in `ctx`, if any. Key releases trigger nothing
    /// (terminals that report them would otherwise act twice).
    pub fn action(&self, ctx: Context, key: &KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::from_event(key);
        let own = self.bindings.iter().find(|b| b.has(key, ctx));
        let borrowed = || {
            self.bindings
                .iter()
                .find(|b| ctx.borrows(b.action).is_some_and(|from| b.has(key, from)))
        };
        own.or_else(borrowed).map(|b| b.action)
    }

    /// The first key bound to `action`, for hints ("a approve"); `—` when none.
    pub fn key_label(&self, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map_or_else(|| "—".to_owned(), ToString::to_string)
    }

    /// The keys that trigger `action` in `ctx` (empty where it does not apply).
    pub fn keys_in(&self, action: Action, ctx: Context) -> Vec<Key> {
        let ctx = ctx.borrows(action).unwrap_or(ctx);
        self.bindings
            .iter()
            .filter(|b| b.action == action)
            .flat_map(|b| b.keys.iter().copied().filter(|k| b.has(*k, ctx)))
            .collect()
    }

    /// Every binding: (action, keys, contexts, description), in help order.
    /// The keys are those bound in at least one of the contexts; an override
    /// elsewhere may have taken some in some contexts (see [`Keymap::keys_in`]).
    pub fn bindings(
        &self,
    ) -> impl Iterator<Item = (Action, &[Key], &'static [Context], &'static str)> {
        self.bindings
            .iter()
            .map(|b| (b.action, b.keys.as_slice(), b.contexts, b.description))
    }

    fn contexts(&self, action: Action) -> &'static [Context] {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .map_or(&[], |b| b.contexts)
    }
}

/// The contexts in both lists, in the order of the first.
fn shared(a: &[Context], b: &[Context]) -> Vec<Context> {
    a.iter().copied().filter(|c| b.contains(c)).collect()
}

/// "board, transcript, diff".
fn labels(contexts: &[Context]) -> String {
    let labels: Vec<&str> = contexts.iter().map(|c| c.label()).collect();
    labels.join(", ")
}
