//! Claude Code: `--output-format stream-json --verbose` (and
//! `--output-format json`, whose single line is the final `result`).
//!
//! | line | events |
//! |---|---|
//! | `system/init` | `Session{id, model}` |
//! | `system/api_retry` | `Notice` |
//! | `system/permission_denied` | `PermissionDenied{tool, detail}` |
//! | `assistant` text block | `Message` (`Error` for a synthetic "API Error" message) |
//! | `assistant` tool_use block | `ToolCall{name, arg}` |
//! | `assistant` usage | `Usage` (live estimate, see below) |
//! | `user` tool_result block | `ToolResult{ok: !is_error, preview}` |
//! | `result` | `PermissionDenied` for denials not seen yet, `Usage`, `Finished` |
//! | `stream_event`, other `system` | nothing (the full `assistant` events follow) |
//!
//! **Usage.** Every `Usage` is the attempt's total so far. Each `result`
//! contributes its `usage` (input = input + cache creation + cache read
//! tokens; output tokens), which covers the turns since the previous result.
//! Its cost is the sum of `model_usage_since_last_result[*].costUSD`; when
//! that field is missing, the growth of `total_cost_usd` since the previous
//! result of this process. `total_cost_usd` itself is never used as is: it is
//! cumulative over the process (two results on stdin) and even over a resumed
//! session (claude-resume reports 0.0224 for a 0.0112 run). Between results,
//! the `usage` snapshot of each assistant message (one per `message.id`, the
//! latest snapshot replacing the earlier one) is added to the tokens so far,
//! with the cost of the finished results; the next `result` replaces those
//! estimates with its own figures.
//!
//! **Verdict.** Success only when the process exited 0, the last `result`
//! has `is_error: false` (its `subtype` says nothing: API errors come with
//! `subtype: "success"`), and no tool use was denied. Otherwise:
//! - `subtype: "error_max_turns"` → TurnLimit;
//! - API status 401/402/403 or text about authentication, API keys, billing,
//!   credit → Auth; 429/529, rate limit, overloaded → RateLimited;
//! - any permission denial (a `system/permission_denied` line or
//!   `result.permission_denials`) → PermissionDenied, even when the result
//!   says success: in headless mode a denied tool means the work the prompt
//!   asked for was not done (claude-perm-manual's final text claims a file
//!   was created that never was), and the fix is the profile's permissions;
//! - anything else → Crash. No `result` at all is a failure too ("agent
//!   exited without a result" when it exited 0).

mod wire;

use std::collections::HashMap;

use super::OutputParser;
use super::common::{
    ARG_MAX, MESSAGE_MAX, classify_status, classify_text, clipped, exit_description, failure,
    key_arg, note_session, one_line, preview, text_line, tool_output,
};
use super::event::{AgentEvent, FailureClass, Verdict};
use super::json::text_of;
use crate::sanitize::sanitize;
use wire::{Content, Line, MessageField};

/// Parser for Claude Code's stream-json output. See the module docs for the mapping.
#[derive(Debug, Default)]
pub struct ClaudeParser {
    session: Option<String>,
    usage: UsageBook,
    outcome: Option<Outcome>,
    denials: Vec<Denial>,
    /// The last API error the stream reported (synthetic message or retry).
    api_error: Option<ApiError>,
}

/// What the last `result` line said.
#[derive(Debug)]
struct Outcome {
    is_error: bool,
    subtype: String,
    /// The result text, or the `errors` list joined, sanitized.
    text: String,
    api_status: Option<u64>,
}

#[derive(Debug)]
struct Denial {
    tool_use_id: String,
    tool: String,
    detail: String,
}

#[derive(Debug)]
struct ApiError {
    status: Option<u64>,
    text: String,
}

/// Attempt totals, kept as described in the module docs.
#[derive(Debug, Default)]
struct UsageBook {
    done_input: u64,
    done_output: u64,
    done_cost: f64,
    any_result: bool,
    /// `total_cost_usd` of the previous result of this process.
    last_total_cost: f64,
    /// Latest snapshot per assistant message since the last result.
    pending: HashMap<String, (u64, u64)>,
    pending_input: u64,
    pending_output: u64,
    last_sent: Option<(u64, u64, Option<f64>)>,
}

impl UsageBook {
    /// Records a message's usage snapshot; returns a `Usage` if totals moved.
    fn snapshot(&mut self, message_id: &str, input: u64, output: u64) -> Option<AgentEvent> {
        let old = match self.pending.get_mut(message_id) {
            Some(entry) => std::mem::replace(entry, (input, output)),
            None => {
                self.pending.insert(message_id.to_owned(), (input, output));
                (0, 0)
            }
        };
        self.pending_input = self.pending_input.saturating_sub(old.0) + input;
        self.pending_output = self.pending_output.saturating_sub(old.1) + output;
        let cost = self.any_result.then_some(self.done_cost);
        let totals = (
            self.done_input + self.pending_input,
            self.done_output + self.pending_output,
            cost,
        );
        if self.last_sent == Some(totals) {
            return None;
        }
        Some(self.send(totals))
    }

    /// Adds a result's figures and returns the new totals.
    fn result(&mut self, input: u64, output: u64, cost: f64) -> AgentEvent {
        self.done_input += input;
        self.done_output += output;
        self.done_cost += cost;
        self.any_result = true;
        self.pending.clear();
        self.pending_input = 0;
        self.pending_output = 0;
        self.send((self.done_input, self.done_output, Some(self.done_cost)))
    }

    fn send(&mut self, totals: (u64, u64, Option<f64>)) -> AgentEvent {
        self.last_sent = Some(totals);
        AgentEvent::Usage {
            input_tokens: totals.0,
            output_tokens: totals.1,
            cost_usd: totals.2,
        }
    }
}

impl ClaudeParser {
    /// A parser for one attempt.
    pub fn new() -> Self {
        Self::default()
    }

    fn system(&mut self, line: &Line<'_>, events: &mut Vec<AgentEvent>) {
        match line.subtype.as_deref() {
            Some("api_retry") => {
                let status = line.error_status.get();
                let error = line.error.0.as_deref().unwrap_or("API error");
                let mut text = String::from("API retry");
                if let (Some(attempt), Some(max)) = (line.attempt.get(), line.max_retries.get()) {
                    text.push_str(&format!(" {attempt}/{max}"));
                }
                if let Some(delay) = line.retry_delay_ms.get() {
                    text.push_str(&format!(" in {delay} ms"));
                }
                text.push_str(&format!(" after {error}"));
                if let Some(status) = status {
                    text.push_str(&format!(" (HTTP {status})"));
                }
                let text = one_line(&text, MESSAGE_MAX);
                self.api_error = Some(ApiError {
                    status,
                    text: text.clone(),
                });
                events.push(AgentEvent::Notice { text });
            }
            Some("permission_denied") => {
                let tool = one_line(text_of(&line.tool_name), ARG_MAX);
                let detail = match &line.message {
                    Some(MessageField::Text(t)) => one_line(t, MESSAGE_MAX),
                    _ => String::new(),
                };
                let id = text_of(&line.tool_use_id).to_owned();
                self.denials.push(Denial {
                    tool_use_id: id,
                    tool: tool.clone(),
                    detail: detail.clone(),
                });
                events.push(AgentEvent::PermissionDenied { tool, detail });
            }
            _ => {}
        }
    }

    fn assistant(&mut self, line: &Line<'_>, events: &mut Vec<AgentEvent>) {
        let Some(MessageField::Object(message)) = &line.message else {
            return;
        };
        let synthetic = text_of(&message.model) == "<synthetic>";
        let api_error = line.is_api_error_message || (synthetic && line.error.0.is_some());
        for block in message.content.iter().flat_map(Content::blocks) {
            match block.kind.as_deref() {
                Some("text") => {
                    let text = sanitize(text_of(&block.text)).trim().to_owned();
                    if text.is_empty() {
                        continue;
                    }
                    if api_error {
                        self.api_error = Some(ApiError {
                            status: line.api_error_status.get(),
                            text: text.clone(),
                        });
                        events.push(AgentEvent::Error { text });
                    } else {
                        events.push(AgentEvent::Message { text });
                    }
                }
                Some("tool_use") => {
                    let name = text_of(&block.name);
                    let arg = block
                        .input
                        .as_ref()
                        .map(|input| key_arg(name, input))
                        .unwrap_or_default();
                    events.push(AgentEvent::ToolCall {
                        id: block.id.as_deref().map(|id| sanitize(id).into_owned()),
                        name: one_line(name, ARG_MAX),
                        arg,
                    });
                }
                _ => {}
            }
        }
        if let (Some(usage), false) = (&message.usage, synthetic) {
            let id = text_of(&message.id);
            if let Some(event) = self.usage.snapshot(id, usage.input(), usage.output()) {
                events.push(event);
            }
        }
    }

    fn user(line: &Line<'_>, events: &mut Vec<AgentEvent>) {
        let Some(MessageField::Object(message)) = &line.message else {
            return;
        };
        for block in message.content.iter().flat_map(Content::blocks) {
            if block.kind.as_deref() != Some("tool_result") {
                continue;
            }
            let text = block
                .content
                .as_ref()
                .map(Content::text)
                .unwrap_or_default();
            events.push(AgentEvent::ToolResult {
                id: block
                    .tool_use_id
                    .as_deref()
                    .map(|id| sanitize(id).into_owned()),
                ok: !block.is_error.unwrap_or(false),
                preview: preview(&text),
                output: tool_output(&text),
            });
        }
    }

    fn result(&mut self, line: &Line<'_>, events: &mut Vec<AgentEvent>) {
        for denied in line.permission_denials.iter().flatten() {
            let id = text_of(&denied.tool_use_id);
            if !id.is_empty() && self.denials.iter().any(|d| d.tool_use_id == id) {
                continue;
            }
            let tool = one_line(text_of(&denied.tool_name), ARG_MAX);
            let detail = denied
                .tool_input
                .as_ref()
                .map(|input| key_arg(&tool, input))
                .unwrap_or_default();
            self.denials.push(Denial {
                tool_use_id: id.to_owned(),
                tool: tool.clone(),
                detail: detail.clone(),
            });
            events.push(AgentEvent::PermissionDenied { tool, detail });
        }

        let (input, output) = line
            .usage
            .as_ref()
            .map_or((0, 0), |u| (u.input(), u.output()));
        let cost = match (&line.model_usage_since_last_result, line.total_cost_usd) {
            (Some(models), _) => models.values().filter_map(|m| m.cost_usd).sum(),
            (None, Some(total)) => (total - self.usage.last_total_cost).max(0.0),
            (None, None) => 0.0,
        };
        if let Some(total) = line.total_cost_usd {
            self.usage.last_total_cost = total;
        }
        events.push(self.usage.result(input, output, cost));

        let is_error = line.is_error.unwrap_or(false);
        let subtype = line.subtype.as_deref().unwrap_or("").to_owned();
        let mut text = clipped(line.result.0.as_deref().unwrap_or(""), MESSAGE_MAX);
        if text.is_empty() {
            let errors: Vec<&str> = line
                .errors
                .iter()
                .flatten()
                .filter_map(|e| e.0.as_deref())
                .collect();
            text = clipped(&errors.join("; "), MESSAGE_MAX);
        }
        let summary = if text.is_empty() {
            subtype.clone()
        } else {
            text.clone()
        };
        events.push(AgentEvent::Finished { is_error, summary });
        self.outcome = Some(Outcome {
            is_error,
            subtype,
            text,
            api_status: line.api_error_status.get(),
        });
    }

    fn denial_message(&self) -> String {
        let mut tools: Vec<&str> = Vec::new();
        for d in &self.denials {
            if !tools.contains(&d.tool.as_str()) {
                tools.push(&d.tool);
            }
        }
        let detail = self
            .denials
            .iter()
            .map(|d| d.detail.as_str())
            .find(|d| !d.is_empty())
            .unwrap_or("permission was not granted");
        format!("{} denied: {detail}", tools.join(", "))
    }
}

impl OutputParser for ClaudeParser {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        if line.trim().is_empty() {
            return Vec::new();
        }
        let Ok(parsed) = serde_json::from_str::<Line<'_>>(line) else {
            return text_line(line);
        };
        let mut events = Vec::new();
        let kind: &str = &parsed.kind;
        if let Some(id) = parsed.session_id.as_deref() {
            let model = (kind == "system").then(|| text_of(&parsed.model));
            note_session(&mut self.session, id, model, &mut events);
        }
        match kind {
            "system" => self.system(&parsed, &mut events),
            "assistant" => self.assistant(&parsed, &mut events),
            "user" => Self::user(&parsed, &mut events),
            "result" => self.result(&parsed, &mut events),
            _ => {}
        }
        events
    }

    fn verdict(&self, exit_code: Option<i32>, stderr_tail: &str) -> Verdict {
        let api_status = self.api_error.as_ref().and_then(|e| e.status);
        let api_text = self.api_error.as_ref().map(|e| e.text.as_str());
        let Some(outcome) = &self.outcome else {
            let class = api_status.and_then(classify_status);
            if exit_code == Some(0) {
                let message = match api_text {
                    Some(text) => format!("agent exited without a result; last error: {text}"),
                    None => "agent exited without a result".to_owned(),
                };
                return failure(class, Some(&message), exit_code, stderr_tail);
            }
            return failure(class, api_text, exit_code, stderr_tail);
        };
        if exit_code == Some(0) && !outcome.is_error && self.denials.is_empty() {
            return Verdict::Success;
        }
        if outcome.subtype == "error_max_turns" {
            return failure(
                Some(FailureClass::TurnLimit),
                Some(&outcome.text),
                exit_code,
                stderr_tail,
            );
        }
        let spoken = outcome
            .api_status
            .or(api_status)
            .and_then(classify_status)
            .or_else(|| classify_text(&outcome.text))
            .or_else(|| api_text.and_then(classify_text));
        if let Some(class) = spoken.filter(|_| outcome.is_error) {
            return failure(Some(class), Some(&outcome.text), exit_code, stderr_tail);
        }
        if !self.denials.is_empty() {
            return Verdict::Failure {
                class: FailureClass::PermissionDenied,
                message: self.denial_message(),
            };
        }
        if outcome.is_error {
            let reason = if outcome.text.is_empty() {
                api_text.unwrap_or(&outcome.subtype)
            } else {
                &outcome.text
            };
            return failure(None, Some(reason), exit_code, stderr_tail);
        }
        Verdict::Failure {
            class: classify_text(stderr_tail).unwrap_or(FailureClass::Crash),
            message: format!("{} after reporting success", exit_description(exit_code)),
        }
    }

    fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }
}
