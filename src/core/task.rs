//! Task identity and the user-authored description of a task.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A task id: a slug `[a-z0-9][a-z0-9-]*`, unique within a fleet.
///
/// It names the worktree (`.fleet/worktrees/<id>`) and the branch
/// (`fleet/<id>`), so it is kept to characters that are safe in both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskId(String);

/// Why a string is not a valid [`TaskId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{id}` is not a valid task id: {why} (ids are lowercase letters, digits and dashes, starting with a letter or digit)"
)]
pub struct BadId {
    pub id: String,
    pub why: &'static str,
}

/// Longest id accepted: it becomes a directory and a branch name.
const MAX_ID_LEN: usize = 64;

impl TaskId {
    /// Validates `s` as a task id.
    pub fn parse(s: &str) -> Result<Self, BadId> {
        let bad = |why| BadId {
            id: s.to_owned(),
            why,
        };
        let first = s.chars().next().ok_or_else(|| bad("it is empty"))?;
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Err(bad("it must start with a lowercase letter or a digit"));
        }
        if s.len() > MAX_ID_LEN {
            return Err(bad("it is longer than 64 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad("it contains a character other than a-z, 0-9 and -"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TaskId {
    type Error = BadId;
    fn try_from(s: String) -> Result<Self, BadId> {
        Self::parse(&s)
    }
}

impl From<TaskId> for String {
    fn from(id: TaskId) -> String {
        id.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0) // honours width and alignment, for aligned listings
    }
}

impl std::borrow::Borrow<str> for TaskId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// What the user asked for: the part of a task that comes from the plan and
/// that `edit`, `reassign` and `replan` change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub id: TaskId,
    pub title: String,
    pub prompt: String,
    #[serde(default)]
    pub deps: Vec<TaskId>,
    /// Name of the agent profile (`[agents.NAME]`) that runs this task.
    pub agent: String,
    /// Free-form role label (implementer, tester, documenter...).
    #[serde(default)]
    pub role: Option<String>,
    /// Verify commands for this task instead of `[verify] commands`.
    #[serde(default)]
    pub verify: Option<Vec<String>>,
    /// Higher starts first among ready tasks; ties keep plan order.
    #[serde(default)]
    pub priority: i32,
    /// Merge as soon as the verify gate passes, without waiting for review
    /// (for low-risk work such as documentation).
    #[serde(default)]
    pub auto_approve: bool,
    /// Spending limit of this task in US dollars (default: `[fleet] task_budget_usd`).
    #[serde(default)]
    pub budget_usd: Option<f64>,
    /// Token limit of this task (default: `[fleet] task_budget_tokens`).
    #[serde(default)]
    pub budget_tokens: Option<u64>,
    /// How this task lands on the target (default: `[fleet] merge_style`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_style: Option<MergeStyle>,
    /// Files the planner expected this task to touch (kept for plan diffs
    /// and overlap warnings; not enforced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Acceptance criteria the planner gave for this task (stored, not
    /// added to the agent's prompt).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acceptance: Vec<String>,
    /// The task this one was split from: the split task's work so far is
    /// where this task starts, and its prompt says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_from: Option<TaskId>,
    /// Run this task once per profile named here (fan-out): each candidate
    /// is a task of its own, compared in review, one picked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fanout: Vec<String>,
    /// The fan-out task this one is a candidate of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_of: Option<TaskId>,
    /// The task group this task belongs to (`[groups.NAME]`): members run
    /// at once and land together as one change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl TaskSpec {
    /// A spec with these fields and every other one at its default (no
    /// deps, role or verify override, priority 0, reviewed, fleet budgets
    /// and merge style): for plans built in code (planners, tests, benches).
    pub fn new(
        id: TaskId,
        title: impl Into<String>,
        prompt: impl Into<String>,
        agent: impl Into<String>,
    ) -> Self {
        Self {
            id,
            title: title.into(),
            prompt: prompt.into(),
            deps: Vec::new(),
            agent: agent.into(),
            role: None,
            verify: None,
            priority: 0,
            auto_approve: false,
            budget_usd: None,
            budget_tokens: None,
            merge_style: None,
            files: Vec::new(),
            acceptance: Vec::new(),
            split_from: None,
            fanout: Vec::new(),
            candidate_of: None,
            group: None,
        }
    }
}

/// How an approved task lands on the target branch. Whatever the style, the
/// target receives one commit of the task's work (the approved result on the
/// base the task started from), never the commits of its earlier attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeStyle {
    /// The task's one commit plus a merge commit with the `Fleet-*` trailers
    /// (first parent: the old target tip), so `git log --first-parent`
    /// shows one merge per task.
    #[default]
    Merge,
    /// One commit on the target (parent: the target tip) holding the merge
    /// result, with the trailers; no merge commit.
    Squash,
    /// The task's one commit replayed onto the target tip; the target
    /// fast-forwards to it.
    Rebase,
}

impl MergeStyle {
    /// Every style, in the order the docs list them.
    pub const ALL: [MergeStyle; 3] = [MergeStyle::Merge, MergeStyle::Squash, MergeStyle::Rebase];

    /// The word used in `fleet.toml` (`merge`, `squash`, `rebase`).
    pub fn as_str(self) -> &'static str {
        match self {
            MergeStyle::Merge => "merge",
            MergeStyle::Squash => "squash",
            MergeStyle::Rebase => "rebase",
        }
    }
}

impl fmt::Display for MergeStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change to a task that is not running: every `Some` field replaces the old value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub prompt: Option<String>,
    pub deps: Option<Vec<TaskId>>,
    pub agent: Option<String>,
    pub role: Option<Option<String>>,
    pub verify: Option<Option<Vec<String>>>,
    pub priority: Option<i32>,
    pub auto_approve: Option<bool>,
    pub budget_usd: Option<Option<f64>>,
    pub budget_tokens: Option<Option<u64>>,
    pub merge_style: Option<Option<MergeStyle>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs() {
        for ok in ["a", "schema", "api-v2", "0day", "x-1-2"] {
            assert_eq!(TaskId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_bad_ids_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("-x", "start"),
            ("Schema", "start"),
            ("a_b", "character"),
            ("a b", "character"),
            ("a/b", "character"),
            ("é", "start"),
        ] {
            let err = TaskId::parse(bad).unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
        assert!(TaskId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn merge_styles_read_as_lowercase_words() {
        for style in MergeStyle::ALL {
            let json = format!("\"{style}\"");
            assert_eq!(serde_json::from_str::<MergeStyle>(&json).unwrap(), style);
        }
        assert!(serde_json::from_str::<MergeStyle>("\"Squash\"").is_err());
        assert_eq!(MergeStyle::default(), MergeStyle::Merge);
    }

    #[test]
    fn deserializing_validates() {
        let ok: TaskId = serde_json::from_str("\"ok-1\"").unwrap();
        assert_eq!(ok.as_str(), "ok-1");
        assert!(serde_json::from_str::<TaskId>("\"Not Ok\"").is_err());
    }
}
