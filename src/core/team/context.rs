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

/// Why a change to the store was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("there is no context entry {0} (`fleetdeck context --all` lists them)")]
    Unknown(u64),
    #[error("context entry {0} is retired; add a new entry instead")]
    Retired(u64),
    #[error("the text of a context entry is empty")]
    EmptyText,
    #[error("the text of a context entry has {0} characters; at most {TEXT_MAX}")]
    TooLong(usize),
    #[error(
        "context entry {0} already says this, for the same scope (edit it, or retire it first)"
    )]
    Duplicate(u64),
}

/// Most characters of an entry's text (as of a message's).
pub const TEXT_MAX: usize = 4000;

/// What [`ContextStore::add`] changed: the new entry, and the entry it
/// superseded (now retired), both to be saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    pub entry: ContextEntry,
    pub retired: Option<ContextEntry>,
}

/// A new entry, before the store numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub kind: ContextKind,
    pub text: String,
    pub author: Author,
    pub scope: Scope,
    pub supersedes: Option<u64>,
    pub time_ms: i64,
}

fn checked_text(text: &str) -> Result<String, ContextError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ContextError::EmptyText);
    }
    let n = text.chars().count();
    if n > TEXT_MAX {
        return Err(ContextError::TooLong(n));
    }
    Ok(text.to_owned())
}

impl ContextStore {
    /// The id the next entry gets.
    pub fn next_id(&self) -> u64 {
        // Entries are kept in id order (`add` appends the next, `put` sorts).
        self.entries.last().map_or(0, |e| e.id) + 1
    }

    fn index_active(&self, id: u64) -> Result<usize, ContextError> {
        let i = self
            .entries
            .iter()
            .position(|e| e.id == id)
            .ok_or(ContextError::Unknown(id))?;
        if self.entries[i].retired {
            return Err(ContextError::Retired(id));
        }
        Ok(i)
    }

    /// Adds an entry (numbered next); the entry it supersedes, which must
    /// exist and be active, is retired. On error nothing changed.
    pub fn add(&mut self, new: NewEntry) -> Result<Added, ContextError> {
        let text = checked_text(&new.text)?;
        let old = new.supersedes.map(|id| self.index_active(id)).transpose()?;
        // An agent's retried attempt sends its decisions again; two agents
        // may agree on the same one: one entry says it once.
        if let Some(same) = self
            .active()
            .find(|e| e.kind == new.kind && e.text == text && e.scope == new.scope)
        {
            return Err(ContextError::Duplicate(same.id));
        }
        let retired = old.map(|i| {
            self.entries[i].retired = true;
            self.entries[i].clone()
        });
        let entry = ContextEntry {
            id: self.next_id(),
            kind: new.kind,
            text,
            author: new.author,
            scope: new.scope,
            supersedes: new.supersedes,
            retired: false,
            time_ms: new.time_ms,
        };
        self.entries.push(entry.clone());
        Ok(Added { entry, retired })
    }

    /// Changes the text and scope of an active entry; the entry as saved.
    pub fn edit(
        &mut self,
        id: u64,
        text: &str,
        scope: Scope,
        time_ms: i64,
    ) -> Result<ContextEntry, ContextError> {
        let text = checked_text(text)?;
        let i = self.index_active(id)?;
        let e = &mut self.entries[i];
        e.text = text;
        e.scope = scope;
        e.time_ms = time_ms;
        Ok(e.clone())
    }

    /// Retires an active entry (kept, never in a prompt again).
    pub fn retire(&mut self, id: u64) -> Result<ContextEntry, ContextError> {
        let i = self.index_active(id)?;
        self.entries[i].retired = true;
        Ok(self.entries[i].clone())
    }

    /// Puts `entry` in (replacing the one with its id): loading and
    /// mirroring a saved store.
    pub fn put(&mut self, entry: ContextEntry) {
        match self.entries.iter_mut().find(|e| e.id == entry.id) {
            Some(e) => *e = entry,
            None => {
                self.entries.push(entry);
                self.entries.sort_by_key(|e| e.id);
            }
        }
    }

    /// Active entries matching `query` (see [`ContextEntry::matches`]),
    /// newest first; an empty query matches every entry.
    pub fn search(&self, query: &str) -> Vec<&ContextEntry> {
        newest_first(self.active().filter(|e| e.matches(query)).collect())
    }

    /// Like [`ContextStore::search`], retired entries too.
    pub fn search_all(&self, query: &str) -> Vec<&ContextEntry> {
        newest_first(self.entries.iter().filter(|e| e.matches(query)).collect())
    }

    /// The whole store as Markdown, active entries by kind then the retired
    /// ones: for `fleetdeck context --export`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# Team context\n");
        for kind in ContextKind::ALL {
            let entries: Vec<&ContextEntry> =
                newest_first(self.active().filter(|e| e.kind == kind).collect());
            if entries.is_empty() {
                continue;
            }
            out.push_str(&format!("\n## {}\n\n", capitalized(kind.name())));
            for e in entries {
                out.push_str(&markdown_item(e));
            }
        }
        let retired: Vec<&ContextEntry> = self.entries.iter().filter(|e| e.retired).collect();
        if !retired.is_empty() {
            out.push_str("\n## Retired\n\n");
            for e in retired {
                out.push_str(&markdown_item(e));
            }
        }
        if self.entries.is_empty() {
            out.push_str("\nNothing yet.\n");
        }
        out
    }
}

fn newest_first(mut v: Vec<&ContextEntry>) -> Vec<&ContextEntry> {
    v.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(b.id.cmp(&a.id)));
    v
}

fn capitalized(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn markdown_item(e: &ContextEntry) -> String {
    let mut meta = vec![format!("#{}", e.id), e.author.short()];
    if !e.scope.is_everyone() {
        meta.push(format!("for {}", e.scope.describe()));
    }
    if let Some(old) = e.supersedes {
        meta.push(format!("replaces #{old}"));
    }
    let text = e.text.trim().replace('\n', "\n  ");
    format!("- {} ({})\n", text, meta.join(", "))
}

impl Scope {
    /// "tasks api, web; paths src/api; roles tester", or "everyone".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.tasks.is_empty() {
            let t: Vec<&str> = self.tasks.iter().map(|t| t.as_str()).collect();
            parts.push(format!("tasks {}", t.join(", ")));
        }
        if !self.paths.is_empty() {
            parts.push(format!("paths {}", self.paths.join(", ")));
        }
        if !self.roles.is_empty() {
            parts.push(format!("roles {}", self.roles.join(", ")));
        }
        if parts.is_empty() {
            "everyone".into()
        } else {
            parts.join("; ")
        }
    }
}

impl ContextEntry {
    /// Whether every word of `query` (case-insensitive) is in the entry's
    /// text, kind, author or scope.
    pub fn matches(&self, query: &str) -> bool {
        let hay = format!(
            "{} {} {} {} {}",
            self.text,
            self.kind,
            self.author.short(),
            self.scope.describe(),
            if self.retired { "retired" } else { "" }
        )
        .to_lowercase();
        query
            .split_whitespace()
            .all(|w| hay.contains(&w.to_lowercase()))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> Author {
        Author::Task {
            task: TaskId::parse(id).unwrap(),
            agent: "sim".into(),
            attempt: 1,
        }
    }

    fn new(kind: ContextKind, text: &str, author: Author, t: i64) -> NewEntry {
        NewEntry {
            kind,
            text: text.into(),
            author,
            scope: Scope::everyone(),
            supersedes: None,
            time_ms: t,
        }
    }

    #[test]
    fn add_numbers_entries_and_superseding_retires_the_old_one() {
        let mut s = ContextStore::default();
        let a = s
            .add(new(ContextKind::Decision, " use REST ", task("api"), 1))
            .unwrap();
        assert_eq!(
            (a.entry.id, a.entry.text.as_str(), a.retired),
            (1, "use REST", None)
        );
        let mut n = new(ContextKind::Decision, "use gRPC", Author::User, 2);
        n.supersedes = Some(1);
        let b = s.add(n.clone()).unwrap();
        assert_eq!(b.entry.id, 2);
        assert!(b.retired.unwrap().retired);
        assert_eq!(s.active().map(|e| e.id).collect::<Vec<_>>(), vec![2]);
        assert_eq!(s.add(n.clone()).unwrap_err(), ContextError::Retired(1));
        n.supersedes = Some(9);
        assert_eq!(s.add(n).unwrap_err(), ContextError::Unknown(9));
        let empty = new(ContextKind::Decision, "  ", Author::User, 3);
        assert_eq!(s.add(empty).unwrap_err(), ContextError::EmptyText);
        // The same decision again (a retried attempt, another agent): once.
        let again = new(ContextKind::Decision, "use gRPC ", task("web"), 4);
        assert_eq!(
            s.add(again.clone()).unwrap_err(),
            ContextError::Duplicate(2)
        );
        assert!(
            ContextError::Duplicate(2)
                .to_string()
                .contains("edit it, or retire it first")
        );
        let elsewhere = NewEntry {
            scope: Scope {
                paths: vec!["web".into()],
                ..Scope::default()
            },
            ..again
        };
        assert_eq!(
            s.add(elsewhere).unwrap().entry.id,
            3,
            "another scope is another entry"
        );
        assert_eq!(s.entries.len(), 3, "refused changes change nothing");
    }

    #[test]
    fn edit_and_retire_refuse_unknown_and_retired_entries() {
        let mut s = ContextStore::default();
        s.add(new(ContextKind::Contract, "GET /items", task("api"), 1))
            .unwrap();
        let scope = Scope {
            paths: vec!["src/api".into()],
            ..Scope::default()
        };
        let e = s.edit(1, "GET /items?page=N", scope.clone(), 5).unwrap();
        assert_eq!(
            (e.text.as_str(), &e.scope, e.time_ms),
            ("GET /items?page=N", &scope, 5)
        );
        assert_eq!(
            s.edit(1, " ", Scope::default(), 6).unwrap_err(),
            ContextError::EmptyText
        );
        assert_eq!(
            s.edit(7, "x", Scope::default(), 6).unwrap_err(),
            ContextError::Unknown(7)
        );
        assert!(s.retire(1).unwrap().retired);
        assert_eq!(s.retire(1).unwrap_err(), ContextError::Retired(1));
        assert_eq!(
            s.edit(1, "x", Scope::default(), 6).unwrap_err(),
            ContextError::Retired(1)
        );
        assert_eq!(s.next_id(), 2, "ids are never reused");
    }

    #[test]
    fn search_needs_every_word_in_text_kind_author_or_scope() {
        let mut s = ContextStore::default();
        s.add(new(
            ContextKind::Decision,
            "Errors are JSON objects",
            task("api"),
            1,
        ))
        .unwrap();
        let mut scoped = new(ContextKind::Constraint, "no new crates", Author::User, 2);
        scoped.scope.roles = vec!["tester".into()];
        s.add(scoped).unwrap();
        let ids = |v: Vec<&ContextEntry>| v.iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(s.search("")), vec![2, 1], "newest first");
        assert_eq!(ids(s.search("json ERRORS")), vec![1]);
        assert_eq!(ids(s.search("decision api")), vec![1], "kind and author");
        assert_eq!(ids(s.search("tester crates")), vec![2], "scope");
        assert_eq!(ids(s.search("user")), vec![2]);
        assert!(s.search("json tester").is_empty(), "every word must match");
        s.retire(1).unwrap();
        assert!(s.search("json").is_empty());
        assert_eq!(ids(s.search_all("json")), vec![1]);
    }

    #[test]
    fn markdown_groups_active_entries_by_kind_and_lists_retired_ones() {
        let mut s = ContextStore::default();
        assert!(s.to_markdown().contains("Nothing yet."));
        s.add(new(ContextKind::Decision, "use REST", task("api"), 1))
            .unwrap();
        let mut c = new(ContextKind::Convention, "snake_case names", Author::User, 2);
        c.scope.paths = vec!["src".into()];
        s.add(c).unwrap();
        s.add(new(ContextKind::Decision, "old idea", Author::User, 3))
            .unwrap();
        s.retire(3).unwrap();
        let md = s.to_markdown();
        assert!(md.starts_with("# Team context\n"), "{md}");
        assert!(
            md.contains("## Decision\n\n- use REST (#1, task `api`, sim)\n"),
            "{md}"
        );
        assert!(
            md.contains("- snake_case names (#2, the user, for paths src)"),
            "{md}"
        );
        let retired = md.find("## Retired").unwrap();
        assert!(md[retired..].contains("old idea (#3"), "{md}");
        assert!(md.find("## Decision").unwrap() < md.find("## Convention").unwrap());
    }
}
