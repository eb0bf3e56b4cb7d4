//! The shared context store: what the team has decided and discovered,
//! scoped, searchable, and put into each new attempt's prompt within a
//! size bound.
//!
//! The scheduler holds the [`ContextStore`] (loaded from the database at
//! start, every change saved with `Effect::SaveContext`); entries come from
//! agents' messages (decision, contract, constraint, progress) and from the
//! user (any kind, `Command::AddContext`).

use serde::{Deserialize, Serialize};

use crate::core::TaskId;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextKind {
    Decision,
    Contract,
    Constraint,
    Convention,
    Progress,
}

impl ContextKind {
    pub const ALL: [ContextKind; 5] = [
        ContextKind::Decision,
        ContextKind::Contract,
        ContextKind::Constraint,
        ContextKind::Convention,
        ContextKind::Progress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ContextKind::Decision => "decision",
            ContextKind::Contract => "contract",
            ContextKind::Constraint => "constraint",
            ContextKind::Convention => "convention",
            ContextKind::Progress => "progress",
        }
    }

    /// The kind named `word`, or an error listing every kind.
    pub fn parse(word: &str) -> Result<ContextKind, String> {
        let w = word.trim().to_ascii_lowercase();
        ContextKind::ALL
            .into_iter()
            .find(|k| k.name() == w)
            .ok_or_else(|| {
                let all: Vec<&str> = ContextKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown context kind `{word}` (expected one of: {})",
                    all.join(", ")
                )
            })
    }
}

impl std::fmt::Display for ContextKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Who wrote an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Author {
    /// An agent working on a task (from its message).
    Task {
        task: TaskId,
        agent: String,
        attempt: u32,
    },
    /// The user, from the cockpit or the CLI.
    User,
}

/// Who an entry is for. Everything empty: everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Only these tasks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskId>,
    /// Only tasks expected to touch these paths (a path is a file or a
    /// directory prefix, matched against the task's `files`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Only tasks of these roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

impl Scope {
    pub fn everyone() -> Scope {
        Scope::default()
    }

    pub fn is_everyone(&self) -> bool {
        self.tasks.is_empty() && self.paths.is_empty() && self.roles.is_empty()
    }
}

/// One entry of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextEntry {
    /// Numbered by the scheduler from 1; never reused.
    pub id: u64,
    pub kind: ContextKind,
    pub text: String,
    pub author: Author,
    #[serde(default)]
    pub scope: Scope,
    /// The entry this one replaces (that one is retired when this is added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<u64>,
    /// Retired entries are kept (history, export) but never go into prompts.
    #[serde(default)]
    pub retired: bool,
    /// When it was added or last edited (Unix ms).
    pub time_ms: i64,
}

/// Every entry, in id order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextStore {
    pub entries: Vec<ContextEntry>,
}

/// The heading of the context section in an agent's prompt.
pub const HEADING: &str = "## Team context";

impl ContextStore {
    /// Entries that are not retired, in id order.
    pub fn active(&self) -> impl Iterator<Item = &ContextEntry> {
        self.entries.iter().filter(|e| !e.retired)
    }

    pub fn get(&self, id: u64) -> Option<&ContextEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Active entries whose scope includes `spec` (its id, its role, or one
    /// of its expected files under a scoped path), newest first.
    pub fn in_scope(&self, spec: &crate::core::TaskSpec) -> Vec<&ContextEntry> {
        let mut out: Vec<&ContextEntry> =
            self.active().filter(|e| e.scope.includes(spec)).collect();
        out.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(b.id.cmp(&a.id)));
        out
    }
}

impl Scope {
    /// Whether a task with `spec` is in this scope.
    pub fn includes(&self, spec: &crate::core::TaskSpec) -> bool {
        if self.is_everyone() {
            return true;
        }
        let by_task = self.tasks.contains(&spec.id);
        let by_role = spec
            .role
            .as_deref()
            .is_some_and(|r| self.roles.iter().any(|s| s == r));
        let by_path = self.paths.iter().any(|p| {
            let dir = p.trim_end_matches('/');
            spec.files
                .iter()
                .any(|f| f == dir || f.starts_with(&format!("{dir}/")))
        });
        by_task || by_role || by_path
    }
}

/// The context section of a prompt: `entries` (newest first) as long as
/// they fit in `bound` characters, whole entries only, with a note of how
/// many were left out. None when there is nothing to say (no entries, or
/// a bound of 0).
pub fn prompt_section(entries: &[&ContextEntry], bound: usize) -> Option<String> {
    if entries.is_empty() || bound == 0 {
        return None;
    }
    let mut out = format!(
        "{HEADING}\nWhat the team has decided and agreed so far (newest first); follow it:\n"
    );
    let mut used = 0;
    let mut shown = 0;
    for e in entries {
        let line = format!("- [{}] {} ({})\n", e.kind, e.text.trim(), e.author.short());
        if used + line.chars().count() > bound {
            break;
        }
        used += line.chars().count();
        out.push_str(&line);
        shown += 1;
    }
    if shown == 0 {
        return None;
    }
    let left = entries.len() - shown;
    if left > 0 {
        out.push_str(&format!(
            "({left} older entries left out: run `fleetdeck context` to read them)\n"
        ));
    }
    Some(out)
}

impl Author {
    /// "the user" or "task `api` (claude)".
    pub fn short(&self) -> String {
        match self {
            Author::User => "the user".into(),
            Author::Task { task, agent, .. } => format!("task `{task}`, {agent}"),
        }
    }
}
