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

/// Where a message of one kind goes, besides the event log and the task's
/// transcript (every message goes to both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// It marks the card (`Task::blocker`) until the user's next decision
    /// or the task's next attempt.
    pub blocker: bool,
    /// It becomes a context entry of this kind (author the task; scope its
    /// paths, else everyone).
    pub context: Option<super::ContextKind>,
    /// It feeds the progress ledger of the running attempt.
    pub ledger: bool,
    /// The supervisor is consulted about it, when the fleet has one.
    pub supervisor: Option<crate::core::supervisor::ReportKind>,
    /// The user is warned.
    pub warn: bool,
}

impl Route {
    const RECORD: Route = Route {
        blocker: false,
        context: None,
        ledger: false,
        supervisor: None,
        warn: false,
    };

    /// Into the context store as `kind`, nothing else.
    const fn context(kind: super::ContextKind) -> Route {
        Route {
            context: Some(kind),
            ..Route::RECORD
        }
    }
}

impl MessageKind {
    /// The routing table: where a message of this kind goes.
    pub fn route(self) -> Route {
        use super::ContextKind as C;
        use crate::core::supervisor::ReportKind as R;
        match self {
            MessageKind::Blocker => Route {
                blocker: true,
                supervisor: Some(R::Blocker),
                ..Route::RECORD
            },
            MessageKind::Decision => Route::context(C::Decision),
            MessageKind::Contract => Route::context(C::Contract),
            MessageKind::Constraint => Route::context(C::Constraint),
            MessageKind::Progress => Route {
                context: Some(C::Progress),
                ledger: true,
                ..Route::RECORD
            },
            MessageKind::Replan => Route {
                supervisor: Some(R::Complexity),
                ..Route::RECORD
            },
            MessageKind::Conflict => Route {
                warn: true,
                ..Route::RECORD
            },
            MessageKind::Artifact
            | MessageKind::Query
            | MessageKind::ReviewRequest
            | MessageKind::ReviewResult
            | MessageKind::Checkpoint => Route::RECORD,
        }
    }

    /// One line for the agent's prompt: what the kind is for.
    pub fn help(self) -> &'static str {
        match self {
            MessageKind::Progress => "how far you are (\"schema done, API 60%\")",
            MessageKind::Blocker => {
                "you cannot go on without something (the user and the supervisor see it)"
            }
            MessageKind::Artifact => "something you made that others may use (a file, a URL)",
            MessageKind::Decision => {
                "a decision the other agents should follow (goes into the team context)"
            }
            MessageKind::Contract => {
                "an interface others rely on, e.g. an API's shape (team context)"
            }
            MessageKind::Constraint => "a limit others must respect (team context)",
            MessageKind::Query => "a question to the team (read `fleetdeck context` first)",
            MessageKind::Conflict => "your work clashes with another task's",
            MessageKind::ReviewRequest => "ask for a review of what you have so far",
            MessageKind::ReviewResult => "a reviewer's result",
            MessageKind::Replan => "the plan should change (the task is bigger than planned)",
            MessageKind::Checkpoint => "a point a later attempt may continue from",
        }
    }
}

/// A path a message names, checked: relative, no `..`, not empty;
/// `./` and trailing `/` removed. The error says what is wrong.
pub fn check_path(path: &str) -> Result<String, String> {
    let p = path.trim();
    if p.is_empty() {
        return Err("a path is empty".into());
    }
    if p.starts_with('/') {
        return Err(format!(
            "path `{p}` is absolute; name it relative to the repository's root"
        ));
    }
    if p.split('/').any(|c| c == "..") {
        return Err(format!("path `{p}` leaves the repository (`..`)"));
    }
    if p.chars().any(char::is_control) {
        return Err(format!(
            "path `{}` has control characters",
            p.escape_debug()
        ));
    }
    let cleaned: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if cleaned.is_empty() {
        return Err(format!("path `{p}` names no file or directory"));
    }
    Ok(cleaned.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::team::ContextKind;

    #[test]
    fn every_kind_parses_back_from_its_name_and_unknown_ones_list_all() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.name()), Ok(k));
        }
        assert_eq!(
            MessageKind::parse("REVIEW_REQUEST"),
            Ok(MessageKind::ReviewRequest)
        );
        let e = MessageKind::parse("shout").unwrap_err();
        assert!(e.contains("`shout`") && e.contains("checkpoint") && e.contains("progress"));
    }

    #[test]
    fn the_routing_table_sends_each_kind_where_the_issue_says() {
        use crate::core::supervisor::ReportKind;
        let b = MessageKind::Blocker.route();
        assert!(b.blocker && b.supervisor == Some(ReportKind::Blocker) && b.context.is_none());
        for (k, c) in [
            (MessageKind::Decision, ContextKind::Decision),
            (MessageKind::Contract, ContextKind::Contract),
            (MessageKind::Constraint, ContextKind::Constraint),
        ] {
            assert_eq!(k.route().context, Some(c));
            assert!(!k.route().ledger && !k.route().blocker);
        }
        let p = MessageKind::Progress.route();
        assert!(p.ledger && p.context == Some(ContextKind::Progress));
        assert_eq!(
            MessageKind::Replan.route().supervisor,
            Some(ReportKind::Complexity)
        );
        assert!(MessageKind::Conflict.route().warn);
        assert_eq!(MessageKind::Query.route(), Route::RECORD);
        assert_eq!(MessageKind::Checkpoint.route(), Route::RECORD);
    }

    #[test]
    fn paths_must_be_relative_and_stay_inside() {
        assert_eq!(check_path("./src//api/"), Ok("src/api".into()));
        assert!(check_path("/etc/passwd").unwrap_err().contains("absolute"));
        assert!(check_path("src/../../x").unwrap_err().contains("`..`"));
        assert!(check_path(" ").unwrap_err().contains("empty"));
        assert!(check_path("./").unwrap_err().contains("names no file"));
    }
}
