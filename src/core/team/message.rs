//! Typed messages from agents (`fleetdeck msg KIND "TEXT"`), as the engine
//! ingests them from the inbox, and where each kind is routed.

use serde::{Deserialize, Serialize};

use crate::core::TaskId;

/// What an agent's message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageKind {
    /// How far the agent is ("schema done, API 60%"): feeds the progress ledger.
    Progress,
    /// The agent cannot go on without something: marks the card, reaches
    /// the user and the supervisor.
    Blocker,
    /// Something the agent produced that others may use (a file, a URL).
    Artifact,
    /// A decision the team should follow: into the context store.
    Decision,
    /// An interface others rely on (an API's shape): into the context store.
    Contract,
    /// A limit others must respect: into the context store.
    Constraint,
    /// A question to the team; answered from the context store.
    Query,
    /// The agent found its work clashes with another task's.
    Conflict,
    /// The agent asks for a review of what it has so far.
    ReviewRequest,
    /// A reviewer's result.
    ReviewResult,
    /// The plan should change (like `fleetdeck report complexity`): reaches the supervisor.
    Replan,
    /// A point the agent reached that a later attempt may continue from.
    Checkpoint,
}

impl MessageKind {
    pub const ALL: [MessageKind; 12] = [
        MessageKind::Progress,
        MessageKind::Blocker,
        MessageKind::Artifact,
        MessageKind::Decision,
        MessageKind::Contract,
        MessageKind::Constraint,
        MessageKind::Query,
        MessageKind::Conflict,
        MessageKind::ReviewRequest,
        MessageKind::ReviewResult,
        MessageKind::Replan,
        MessageKind::Checkpoint,
    ];

    /// The word on the command line and in the inbox (`review-request`).
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Progress => "progress",
            MessageKind::Blocker => "blocker",
            MessageKind::Artifact => "artifact",
            MessageKind::Decision => "decision",
            MessageKind::Contract => "contract",
            MessageKind::Constraint => "constraint",
            MessageKind::Query => "query",
            MessageKind::Conflict => "conflict",
            MessageKind::ReviewRequest => "review-request",
            MessageKind::ReviewResult => "review-result",
            MessageKind::Replan => "replan",
            MessageKind::Checkpoint => "checkpoint",
        }
    }

    /// The kind named `word`, or an error listing every kind.
    pub fn parse(word: &str) -> Result<MessageKind, String> {
        let w = word.trim().to_ascii_lowercase().replace('_', "-");
        MessageKind::ALL
            .into_iter()
            .find(|k| k.name() == w)
            .ok_or_else(|| {
                let all: Vec<&str> = MessageKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown message kind `{word}` (expected one of: {})",
                    all.join(", ")
                )
            })
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// One message as the scheduler took it (numbered by the scheduler from 1,
/// in the order taken).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: u64,
    pub task: TaskId,
    pub attempt: u32,
    pub kind: MessageKind,
    /// Sanitized, at most `inbox::TEXT_MAX` characters.
    pub text: String,
    /// Paths the message is about (scope of a context entry it becomes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// When the agent wrote it (Unix ms).
    pub time_ms: i64,
}
