//! The normalized event stream every output format is turned into.
//!
//! A parser reads an agent CLI's stdout line by line and produces these
//! events; the runtime records them, the cockpit draws them and the
//! scheduler acts on the final [`Verdict`].

use serde::{Deserialize, Serialize};

/// Most bytes of a tool result's whole output kept in its event: a command
/// that printed more is cut at its end (the transcript file is capped too).
pub const OUTPUT_MAX: usize = 1 << 20;

/// One thing an agent said or did, independent of the CLI that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The CLI announced its session (Claude `system/init`, Codex `thread.started`...).
    /// Emitted again when a later line carries a different id.
    Session { id: String, model: Option<String> },
    /// Assistant prose meant for the human.
    Message { text: String },
    /// The agent invoked a tool; `arg` is the one argument worth showing
    /// (a file path, a shell command, a URL), already shortened to one line.
    ToolCall {
        id: Option<String>,
        name: String,
        arg: String,
    },
    /// The result of a tool call; `preview` is its first line or so,
    /// `output` the whole output (sanitized, newlines kept, capped at
    /// [`OUTPUT_MAX`] bytes; empty when it is the preview or there is none),
    /// which the cockpit shows folded under the preview.
    ToolResult {
        id: Option<String>,
        ok: bool,
        preview: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        output: String,
    },
    /// Status from the CLI itself: an API retry, a reconnect, a rate-limit wait.
    Notice { text: String },
    /// The agent or its CLI reported an error (not necessarily fatal).
    Error { text: String },
    /// A tool use was refused because the agent lacked permission.
    PermissionDenied { tool: String, detail: String },
    /// Running totals for this attempt so far (not deltas): parsers turn
    /// cumulative-per-thread or per-step counts into attempt totals.
    Usage {
        input_tokens: u64,
        output_tokens: u64,
        cost_usd: Option<f64>,
    },
    /// The CLI's own final report (Claude `result`, Codex `turn.completed`,
    /// Gemini `result`...). `is_error` is the CLI's verdict, before the exit code
    /// is taken into account.
    Finished { is_error: bool, summary: String },
    /// A line that is not valid for the format (or the whole output of a
    /// plain-text agent): kept verbatim, after sanitizing.
    Text { text: String },
}

/// Why an attempt failed, coarse enough for the scheduler to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Rate limited or overloaded (HTTP 429/529/overloaded): retry later.
    RateLimited,
    /// Authentication or billing problem: the profile is unusable until fixed.
    Auth,
    /// The agent needed a permission it was not given.
    PermissionDenied,
    /// The CLI hit its turn limit.
    TurnLimit,
    /// The attempt ran longer than its profile's timeout.
    Timeout,
    /// Anything else: non-zero exit, API error, crash.
    Crash,
    /// Not the agent's fault: fleetdeck's own environment failed (a
    /// transcript under `.fleet` or the task's worktree that cannot be
    /// created: disk full, read-only file system, permissions; a git lock
    /// held by a live process; a damaged worktree that could not be
    /// repaired). The fleet pauses with the reason until the user fixes it
    /// and resumes; the attempt is not counted.
    Environment,
}

/// How an attempt's agent run ended, from the exit status and the events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Verdict {
    /// The agent says it finished its work.
    Success,
    /// The agent failed; `message` is what a human (and the next attempt) should read.
    Failure {
        class: FailureClass,
        message: String,
    },
}
