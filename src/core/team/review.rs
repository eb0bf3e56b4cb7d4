//! The reviewer agent's verdict on a task's gated work: approve, or
//! changes requested with comments anchored to files and lines.

use serde::{Deserialize, Serialize};

/// The reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Changes,
}

/// A comment on one place of the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewComment {
    /// Path relative to the repository root.
    pub file: String,
    /// Line in the new version of the file (from 1); None: the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub text: String,
}

/// One review of one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewVerdict {
    pub verdict: Verdict,
    /// The reviewer's summary, one paragraph.
    #[serde(default)]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<ReviewComment>,
    /// The attempt reviewed.
    pub attempt: u32,
    /// Which review round of the task this was (from 1).
    pub round: u32,
    /// The reviewer's profile.
    pub agent: String,
    /// When fan-out candidates are reviewed: the reviewer's rank of this one
    /// among its siblings (1 = best), if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
}
