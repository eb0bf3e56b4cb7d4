//! Gemini CLI: `gemini -p ... --output-format stream-json`.
//!
//! | line | events |
//! |---|---|
//! | `init` | `Session{id, model}` |
//! | `message` role assistant | `Message` (streamed chunks joined, see below) |
//! | `message` role user | nothing (the prompt we sent) |
//! | `tool_use` | `ToolCall{id: tool_id, name: tool_name, arg}` (write_file: `file_path`) |
//! | `tool_result` | `ToolResult{ok: status == "success", preview: output or error}` |
//! | `error` | `Notice` (severity warning) or `Error` |
//! | `result` | `Usage` from `stats`, `Finished{is_error: status != "success"}` |
//!
//! **Messages.** Assistant text arrives in chunks marked `"delta": true`.
//! Consecutive chunks are joined and emitted as one `Message` when the next
//! line of another kind arrives (tool call, result...), or by
//! [`OutputParser::finish`] at the end of the output. The cockpit so sees
//! whole messages, at the cost of showing a message only once it is complete.
//!
//! **Usage.** `stats.input_tokens` (cached tokens are part of it) and
//! `stats.output_tokens`, summed over the `result` lines of the process (one
//! per `-p` run); Gemini reports no cost.
//!
//! **Verdict.** Exit codes first: 41 (bad auth settings) → Auth, 42 (input
//! error) → Crash, 53 (turn limit) → TurnLimit. Exit 0 with a `result` of
//! status `success` is Success; exit 0 without a result fails ("agent exited
//! without a result"). Other failures are classified from the result's
//! error, the last `error` line, then stderr (whose stack frames are
//! skipped). Without `--yolo` (gemini-noyolo) the editing tools are withheld
//! and the run still ends in `success` with `stats.tool_calls` 0 and nothing
//! in the stream saying so: the verdict is Success, and noticing that no
//! file changed is the scheduler's business.

use serde::Deserialize;

use super::OutputParser;
use super::common::{
    ARG_MAX, MESSAGE_MAX, failure, key_arg, note_session, one_line, preview, text_line, tool_output,
};
use super::event::{AgentEvent, FailureClass, Verdict};
use super::json::{ArgFields, ErrorBody, MaybeStr, Num, Str, text_of};
use crate::sanitize::sanitize;

/// Parser for Gemini CLI's stream-json output. See the module docs for the mapping.
#[derive(Debug, Default)]
pub struct GeminiParser {
    session: Option<String>,
    /// Assistant chunks joined so far, not emitted yet.
    pending: String,
    /// The last assistant message of the current turn, for `Finished`.
    last_message: String,
    input_tokens: u64,
    output_tokens: u64,
    /// `Some(error text)` once a result was seen; the text is empty on success.
    result: Option<Option<String>>,
    last_error: Option<String>,
}

impl GeminiParser {
    /// A parser for one attempt.
    pub fn new() -> Self {
        Self::default()
    }

    fn flush(&mut self, events: &mut Vec<AgentEvent>) {
        if self.pending.is_empty() {
            return;
        }
        let text = sanitize(&self.pending).trim().to_owned();
        self.pending.clear();
        if !text.is_empty() {
            self.last_message.clone_from(&text);
            events.push(AgentEvent::Message { text });
        }
    }
}

impl OutputParser for GeminiParser {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        if line.trim().is_empty() {
            return Vec::new();
        }
        let Ok(parsed) = serde_json::from_str::<Line<'_>>(line) else {
            let mut events = Vec::new();
            self.flush(&mut events);
            events.extend(text_line(line));
            return events;
        };
        let mut events = Vec::new();
        let kind: &str = &parsed.kind;
        let is_chunk = kind == "message"
            && parsed.role.as_deref() == Some("assistant")
            && parsed.delta.unwrap_or(false);
        if !is_chunk {
            self.flush(&mut events);
        }
        match kind {
            "init" => {
                let id = text_of(&parsed.session_id);
                note_session(&mut self.session, id, parsed.model.as_deref(), &mut events);
            }
            "message" if parsed.role.as_deref() == Some("assistant") => {
                self.pending.push_str(text_of(&parsed.content));
                if !is_chunk {
                    self.flush(&mut events);
                }
            }
            "tool_use" => {
                let name = text_of(&parsed.tool_name);
                let arg = parsed
                    .parameters
                    .as_ref()
                    .map(|p| key_arg(name, p))
                    .unwrap_or_default();
                events.push(AgentEvent::ToolCall {
                    id: parsed
                        .tool_id
                        .as_deref()
                        .map(|id| sanitize(id).into_owned()),
                    name: one_line(name, ARG_MAX),
                    arg,
                });
            }
            "tool_result" => {
                let ok = parsed.status.as_deref() == Some("success");
                let error = parsed.error.as_ref().map(|e| text_of(&e.message));
                let shown = match (ok, error) {
                    (false, Some(e)) if !e.is_empty() => e,
                    _ => parsed.output.as_str(),
                };
                events.push(AgentEvent::ToolResult {
                    id: parsed
                        .tool_id
                        .as_deref()
                        .map(|id| sanitize(id).into_owned()),
                    ok,
                    preview: preview(shown),
                    output: tool_output(shown),
                });
            }
            "error" => {
                let text = one_line(text_of(&parsed.message), MESSAGE_MAX);
                if text.is_empty() {
                    return events;
                }
                if parsed.severity.as_deref() == Some("warning") {
                    events.push(AgentEvent::Notice { text });
                } else {
                    self.last_error = Some(text.clone());
                    events.push(AgentEvent::Error { text });
                }
            }
            "result" => {
                if let Some(stats) = &parsed.stats {
                    self.input_tokens += stats.input_tokens.get().unwrap_or(0);
                    self.output_tokens += stats.output_tokens.get().unwrap_or(0);
                }
                events.push(AgentEvent::Usage {
                    input_tokens: self.input_tokens,
                    output_tokens: self.output_tokens,
                    cost_usd: None,
                });
                let is_error = parsed.status.as_deref() != Some("success");
                let error = parsed
                    .error
                    .as_ref()
                    .map(|e| one_line(text_of(&e.message), MESSAGE_MAX))
                    .filter(|e| !e.is_empty());
                let summary = if is_error {
                    error.clone().unwrap_or_else(|| {
                        format!("status {}", one_line(text_of(&parsed.status), ARG_MAX))
                    })
                } else {
                    std::mem::take(&mut self.last_message)
                };
                self.result = Some(if is_error {
                    Some(summary.clone())
                } else {
                    None
                });
                events.push(AgentEvent::Finished { is_error, summary });
            }
            _ => {}
        }
        events
    }

    fn finish(&mut self) -> Vec<AgentEvent> {
        let mut events = Vec::new();
        self.flush(&mut events);
        events
    }

    fn verdict(&self, exit_code: Option<i32>, stderr_tail: &str) -> Verdict {
        let result_error = self.result.as_ref().and_then(|r| r.as_deref());
        let reason = result_error.or(self.last_error.as_deref());
        match exit_code {
            Some(0) => match &self.result {
                Some(None) => Verdict::Success,
                Some(Some(error)) => failure(None, Some(error), exit_code, stderr_tail),
                None => {
                    let message = match reason {
                        Some(r) => format!("agent exited without a result; last error: {r}"),
                        None => "agent exited without a result".to_owned(),
                    };
                    failure(None, Some(&message), exit_code, stderr_tail)
                }
            },
            Some(41) => failure(
                Some(FailureClass::Auth),
                reason.or(Some("bad auth settings (exit code 41)")),
                exit_code,
                stderr_tail,
            ),
            Some(42) => failure(
                Some(FailureClass::Crash),
                reason.or(Some("input error (exit code 42)")),
                exit_code,
                stderr_tail,
            ),
            Some(53) => failure(
                Some(FailureClass::TurnLimit),
                reason.or(Some("turn limit reached (exit code 53)")),
                exit_code,
                stderr_tail,
            ),
            _ => failure(None, reason, exit_code, stderr_tail),
        }
    }

    fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Str<'a>,
    #[serde(default, borrow)]
    session_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    model: Option<Str<'a>>,
    #[serde(default, borrow)]
    role: Option<Str<'a>>,
    #[serde(default, borrow)]
    content: Option<Str<'a>>,
    #[serde(default)]
    delta: Option<bool>,
    #[serde(default, borrow)]
    tool_name: Option<Str<'a>>,
    #[serde(default, borrow)]
    tool_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    parameters: Option<ArgFields<'a>>,
    #[serde(default, borrow)]
    status: Option<Str<'a>>,
    #[serde(default, borrow)]
    output: MaybeStr<'a>,
    #[serde(default, borrow)]
    error: Option<ErrorBody<'a>>,
    #[serde(default, borrow)]
    severity: Option<Str<'a>>,
    #[serde(default, borrow)]
    message: Option<Str<'a>>,
    #[serde(default)]
    stats: Option<Stats>,
}

#[derive(Deserialize)]
struct Stats {
    #[serde(default)]
    input_tokens: Num,
    #[serde(default)]
    output_tokens: Num,
}
