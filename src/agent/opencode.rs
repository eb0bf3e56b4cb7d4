//! opencode: `opencode run --format json`.
//!
//! | line | events |
//! |---|---|
//! | any line's `sessionID` (first time) | `Session{id, model: None}` |
//! | `tool_use` | `ToolCall{id: callID, name: tool, arg}` (bash: `command`, edit/write/read: `filePath`), then `ToolResult` once the state is completed or error |
//! | `text` | `Message` |
//! | `step_finish` | `Usage`; with reason `stop` also `Finished{is_error: false, summary: last text}` |
//! | `error` | `Error`, `Finished{is_error: true}` |
//! | `step_start`, `reasoning` | nothing |
//!
//! A bash tool result is `ok` only when its state is `completed` and its
//! exit code (`metadata.exit`), if any, is 0.
//!
//! **Usage.** opencode has no final summary: each `step_finish` carries the
//! step's own tokens and cost, which are summed. Input is `input` plus cache
//! reads and writes (opencode counts them apart); output is `output`
//! (reasoning tokens are not added, as providers already count them in the
//! output); cost is the sum of `cost`.
//!
//! **Verdict.** Success when the process exited 0, no `error` event came, and
//! the last `step_finish` had reason `stop`. An `error` event is classified
//! by its HTTP status (401/403 → Auth, 429/529 → RateLimited), its name
//! (`ProviderAuthError` → Auth), then its text; a 500 is a Crash.

use serde::Deserialize;

use super::OutputParser;
use super::common::{
    ARG_MAX, MESSAGE_MAX, classify_status, failure, key_arg, note_session, one_line, preview,
    text_line, tool_output,
};
use super::event::{AgentEvent, FailureClass, Verdict};
use super::json::{ArgFields, MaybeStr, Num, Str, text_of};
use crate::sanitize::sanitize;

/// Parser for `opencode run --format json`. See the module docs for the mapping.
#[derive(Debug, Default)]
pub struct OpencodeParser {
    session: Option<String>,
    input_tokens: u64,
    output_tokens: u64,
    cost: f64,
    last_text: String,
    last_reason: Option<String>,
    error: Option<(Option<FailureClass>, String)>,
}

impl OpencodeParser {
    /// A parser for one attempt.
    pub fn new() -> Self {
        Self::default()
    }

    fn tool_use(part: &Part<'_>, events: &mut Vec<AgentEvent>) {
        let name = text_of(&part.tool);
        let id = part.call_id.as_deref().map(|id| sanitize(id).into_owned());
        let state = part.state.as_ref();
        let arg = state
            .and_then(|s| s.input.as_ref())
            .map(|input| key_arg(name, input))
            .unwrap_or_default();
        events.push(AgentEvent::ToolCall {
            id: id.clone(),
            name: one_line(name, ARG_MAX),
            arg,
        });
        let Some(state) = state else { return };
        let status = state.status.as_deref().unwrap_or("");
        if status != "completed" && status != "error" {
            return;
        }
        let exit = state.metadata.as_ref().and_then(|m| m.exit.signed());
        let ok = status == "completed" && exit.is_none_or(|code| code == 0);
        let shown = if status == "error" {
            state.error.as_str()
        } else {
            state.output.as_str()
        };
        events.push(AgentEvent::ToolResult {
            id,
            ok,
            preview: preview(shown),
            output: tool_output(shown),
        });
    }

    fn error(&mut self, error: Option<&ErrorBody<'_>>, events: &mut Vec<AgentEvent>) {
        let name = error.map_or("", |e| text_of(&e.name));
        let data = error.and_then(|e| e.data.as_ref());
        let message = data.and_then(|d| d.message.0.as_deref()).unwrap_or("");
        let status = data.and_then(|d| d.status_code.get());
        let mut text = match (name.is_empty(), message.is_empty()) {
            (false, false) => format!("{name}: {message}"),
            (false, true) => name.to_owned(),
            (true, false) => message.to_owned(),
            (true, true) => "error".to_owned(),
        };
        if let Some(status) = status {
            text.push_str(&format!(" (HTTP {status})"));
        }
        let text = one_line(&text, MESSAGE_MAX);
        let class = status.and_then(classify_status).or_else(|| {
            name.eq_ignore_ascii_case("ProviderAuthError")
                .then_some(FailureClass::Auth)
        });
        self.error = Some((class, text.clone()));
        events.push(AgentEvent::Error { text: text.clone() });
        events.push(AgentEvent::Finished {
            is_error: true,
            summary: text,
        });
    }
}

impl OutputParser for OpencodeParser {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        if line.trim().is_empty() {
            return Vec::new();
        }
        let Ok(parsed) = serde_json::from_str::<Line<'_>>(line) else {
            return text_line(line);
        };
        let mut events = Vec::new();
        note_session(
            &mut self.session,
            text_of(&parsed.session_id),
            None,
            &mut events,
        );
        let part = parsed.part.as_ref();
        match &*parsed.kind {
            "tool_use" => {
                if let Some(part) = part {
                    Self::tool_use(part, &mut events);
                }
            }
            "text" => {
                let text = sanitize(part.map_or("", |p| text_of(&p.text)))
                    .trim()
                    .to_owned();
                if !text.is_empty() {
                    self.last_text.clone_from(&text);
                    events.push(AgentEvent::Message { text });
                }
            }
            "step_finish" => {
                if let Some(tokens) = part.and_then(|p| p.tokens.as_ref()) {
                    let cache = tokens.cache.as_ref();
                    let cached = cache.map_or(0, |c| {
                        c.read.get().unwrap_or(0) + c.write.get().unwrap_or(0)
                    });
                    self.input_tokens += tokens.input.get().unwrap_or(0) + cached;
                    self.output_tokens += tokens.output.get().unwrap_or(0);
                }
                self.cost += part.and_then(|p| p.cost).unwrap_or(0.0);
                events.push(AgentEvent::Usage {
                    input_tokens: self.input_tokens,
                    output_tokens: self.output_tokens,
                    cost_usd: Some(self.cost),
                });
                let reason = part.map_or("", |p| text_of(&p.reason));
                self.last_reason = Some(one_line(reason, ARG_MAX));
                if reason == "stop" {
                    events.push(AgentEvent::Finished {
                        is_error: false,
                        summary: self.last_text.clone(),
                    });
                }
            }
            "error" => self.error(parsed.error.as_ref(), &mut events),
            _ => {}
        }
        events
    }

    fn verdict(&self, exit_code: Option<i32>, stderr_tail: &str) -> Verdict {
        if let Some((class, text)) = &self.error {
            return failure(*class, Some(text), exit_code, stderr_tail);
        }
        if exit_code != Some(0) {
            return failure(None, None, exit_code, stderr_tail);
        }
        match self.last_reason.as_deref() {
            Some("stop") => Verdict::Success,
            Some(reason) => {
                let message = format!("agent exited after a step that ended with {reason:?}");
                failure(None, Some(&message), exit_code, stderr_tail)
            }
            None => failure(
                None,
                Some("agent exited without a result"),
                exit_code,
                stderr_tail,
            ),
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
    #[serde(rename = "sessionID", default, borrow)]
    session_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    part: Option<Part<'a>>,
    #[serde(default, borrow)]
    error: Option<ErrorBody<'a>>,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(default, borrow)]
    text: Option<Str<'a>>,
    #[serde(default, borrow)]
    tool: Option<Str<'a>>,
    #[serde(rename = "callID", default, borrow)]
    call_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    state: Option<ToolState<'a>>,
    #[serde(default, borrow)]
    reason: Option<Str<'a>>,
    #[serde(default)]
    tokens: Option<Tokens>,
    #[serde(default)]
    cost: Option<f64>,
}

#[derive(Deserialize)]
struct ToolState<'a> {
    #[serde(default, borrow)]
    status: Option<Str<'a>>,
    #[serde(default, borrow)]
    input: Option<ArgFields<'a>>,
    #[serde(default, borrow)]
    output: MaybeStr<'a>,
    #[serde(default, borrow)]
    error: MaybeStr<'a>,
    #[serde(default)]
    metadata: Option<ToolMetadata>,
}

#[derive(Deserialize)]
struct ToolMetadata {
    #[serde(default)]
    exit: Num,
}

#[derive(Deserialize)]
struct Tokens {
    #[serde(default)]
    input: Num,
    #[serde(default)]
    output: Num,
    #[serde(default)]
    cache: Option<CacheTokens>,
}

#[derive(Deserialize)]
struct CacheTokens {
    #[serde(default)]
    read: Num,
    #[serde(default)]
    write: Num,
}

#[derive(Deserialize)]
struct ErrorBody<'a> {
    #[serde(default, borrow)]
    name: Option<Str<'a>>,
    #[serde(default, borrow)]
    data: Option<ErrorData<'a>>,
}

#[derive(Deserialize)]
struct ErrorData<'a> {
    #[serde(default, borrow)]
    message: MaybeStr<'a>,
    #[serde(rename = "statusCode", default)]
    status_code: Num,
}
