//! Codex CLI: `codex exec --json` (spawn it with stdin set to null, or it
//! waits for input).
//!
//! | line | events |
//! |---|---|
//! | `thread.started` | `Session{id: thread_id}` |
//! | `item.started` command_execution | `ToolCall{name: "Bash", arg: command}` |
//! | `item.completed` command_execution | `ToolResult{ok: exit 0, preview: output}` (after a `ToolCall` if the start was not seen) |
//! | `item.completed` agent_message | `Message` |
//! | `item.completed` file_change | per file: `ToolCall{name: "Write"/"Edit"/"Delete", arg: path}`, `ToolResult` |
//! | `item.*` mcp_tool_call / web_search | `ToolCall` on start, `ToolResult` on completion |
//! | `item.completed` error | `Notice` (Codex uses error items for warnings such as missing model metadata) |
//! | `item.*` reasoning, todo_list | nothing |
//! | `error` | `Notice` when it is a reconnect/retry message, else `Error` |
//! | `turn.completed` | `Usage`, `Finished{is_error: false, summary: last agent message}` |
//! | `turn.failed` | `Finished{is_error: true, summary: error message}` |
//!
//! The command of a command_execution is shown without Codex's shell
//! wrapper: `/bin/bash -lc "echo hi"` becomes `echo hi`.
//!
//! **Usage.** `turn.completed.usage` is cumulative for the thread, across
//! processes: a resumed thread (codex-resume) reports the earlier runs'
//! tokens too. Input is `input_tokens` (cached tokens are part of it),
//! output is `output_tokens` (reasoning tokens are part of it); Codex reports
//! no cost. The attempt's totals are the last cumulative figures minus a
//! baseline: zero for a fresh thread ([`CodexParser::new`]), the thread's
//! totals before this attempt for a resumed one ([`CodexParser::resuming`];
//! the runtime knows them as the sum of the earlier attempts on that thread).
//! Without the baseline a resumed attempt reports the thread's totals.
//!
//! **Verdict.** Success when the process exited 0 after a `turn.completed`
//! and no `turn.failed`. Otherwise the failure is classified from the
//! `turn.failed` message, else the last `error`, else stderr: a missing API
//! key variable is Auth, "high demand" / rate limits are RateLimited,
//! anything else Crash. A run killed while reconnecting (codex-envurl) is a
//! Crash whose message ends with the last reconnect notice.

use std::collections::HashSet;

use serde::Deserialize;

use super::OutputParser;
use super::common::{
    ARG_MAX, MESSAGE_MAX, failure, key_arg, note_session, one_line, preview, text_line, tool_output,
};
use super::event::{AgentEvent, Verdict};
use super::json::{ArgFields, ErrorBody, Num, Str, text_of};
use crate::sanitize::sanitize;

/// Parser for `codex exec --json`. See the module docs for the mapping.
#[derive(Debug, Default)]
pub struct CodexParser {
    session: Option<String>,
    baseline: (u64, u64),
    /// Items whose `ToolCall` was already emitted on `item.started`.
    started: HashSet<String>,
    last_message: Option<String>,
    turn_completed: bool,
    turn_failed: Option<String>,
    /// The last `error` line that was not a retry notice.
    last_error: Option<String>,
    /// The last retry/reconnect notice.
    last_retry: Option<String>,
}

impl CodexParser {
    /// A parser for an attempt on a fresh thread.
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser for an attempt that resumes a thread which had already used
    /// `input_tokens` and `output_tokens`: they are subtracted from the
    /// thread's cumulative usage so that `Usage` counts this attempt only.
    pub fn resuming(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            baseline: (input_tokens, output_tokens),
            ..Self::default()
        }
    }

    fn item(&mut self, started: bool, item: &Item<'_>, events: &mut Vec<AgentEvent>) {
        let id = text_of(&item.id);
        match item.kind.as_deref() {
            Some("command_execution") => {
                let call = |events: &mut Vec<AgentEvent>| {
                    events.push(AgentEvent::ToolCall {
                        id: item_id(id),
                        name: "Bash".to_owned(),
                        arg: one_line(unwrap_shell(text_of(&item.command)), ARG_MAX),
                    });
                };
                self.call_then_result(started, id, events, call, || {
                    let ok = item.exit_code.signed() == Some(0)
                        && item.status.as_deref() != Some("failed");
                    let output = text_of(&item.aggregated_output);
                    let preview = if output.trim().is_empty() {
                        match item.exit_code.signed() {
                            Some(code) => format!("(no output, exit code {code})"),
                            None => "(no output)".to_owned(),
                        }
                    } else {
                        preview(output)
                    };
                    AgentEvent::ToolResult {
                        id: item_id(id),
                        ok,
                        preview,
                        output: tool_output(output),
                    }
                });
            }
            Some("mcp_tool_call") => {
                let name = format!("{}/{}", text_of(&item.server), text_of(&item.tool));
                let call = |events: &mut Vec<AgentEvent>| {
                    let arg = item
                        .arguments
                        .as_ref()
                        .map(|a| key_arg(text_of(&item.tool), a))
                        .unwrap_or_default();
                    events.push(AgentEvent::ToolCall {
                        id: item_id(id),
                        name: one_line(&name, ARG_MAX),
                        arg,
                    });
                };
                self.call_then_result(started, id, events, call, || {
                    let error = item.error.as_ref().map(|e| text_of(&e.message));
                    AgentEvent::ToolResult {
                        id: item_id(id),
                        ok: error.is_none() && item.status.as_deref() != Some("failed"),
                        preview: preview(error.unwrap_or("")),
                        output: tool_output(error.unwrap_or("")),
                    }
                });
            }
            Some("web_search") => {
                let call = |events: &mut Vec<AgentEvent>| {
                    events.push(AgentEvent::ToolCall {
                        id: item_id(id),
                        name: "WebSearch".to_owned(),
                        arg: one_line(text_of(&item.query), ARG_MAX),
                    });
                };
                self.call_then_result(started, id, events, call, || AgentEvent::ToolResult {
                    id: item_id(id),
                    ok: item.status.as_deref() != Some("failed"),
                    preview: String::new(),
                    output: String::new(),
                });
            }
            Some("file_change") if !started => {
                let ok = item.status.as_deref() != Some("failed");
                for change in item.changes.iter().flatten() {
                    let name = match change.kind.as_deref() {
                        Some("add") => "Write",
                        Some("delete") => "Delete",
                        _ => "Edit",
                    };
                    events.push(AgentEvent::ToolCall {
                        id: item_id(id),
                        name: name.to_owned(),
                        arg: one_line(text_of(&change.path), ARG_MAX),
                    });
                    events.push(AgentEvent::ToolResult {
                        id: item_id(id),
                        ok,
                        preview: String::new(),
                        output: String::new(),
                    });
                }
            }
            Some("agent_message") if !started => {
                let text = sanitize(text_of(&item.text)).trim().to_owned();
                if !text.is_empty() {
                    self.last_message = Some(text.clone());
                    events.push(AgentEvent::Message { text });
                }
            }
            Some("error") if !started => {
                let text = one_line(text_of(&item.message), MESSAGE_MAX);
                if !text.is_empty() {
                    events.push(AgentEvent::Notice { text });
                }
            }
            _ => {}
        }
    }

    /// Emits the call on `item.started`, and on `item.completed` the call
    /// (unless already emitted) followed by the result.
    fn call_then_result(
        &mut self,
        started: bool,
        id: &str,
        events: &mut Vec<AgentEvent>,
        call: impl FnOnce(&mut Vec<AgentEvent>),
        result: impl FnOnce() -> AgentEvent,
    ) {
        if started {
            if self.started.insert(id.to_owned()) {
                call(events);
            }
            return;
        }
        if !self.started.remove(id) {
            call(events);
        }
        events.push(result());
    }
}

fn item_id(id: &str) -> Option<String> {
    (!id.is_empty()).then(|| sanitize(id).into_owned())
}

/// `command` without a leading `bash -lc "..."` / `sh -c '...'` wrapper.
fn unwrap_shell(command: &str) -> &str {
    const SHELLS: &[&str] = &[
        "/bin/bash -lc ",
        "/bin/bash -c ",
        "bash -lc ",
        "bash -c ",
        "/bin/zsh -lc ",
        "/bin/zsh -c ",
        "zsh -lc ",
        "/bin/sh -c ",
        "sh -c ",
    ];
    let Some(rest) = SHELLS.iter().find_map(|s| command.strip_prefix(s)) else {
        return command;
    };
    let rest = rest.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = rest.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            // Inner quotes of the same kind would need unescaping: keep the
            // command as it was rather than show it wrong.
            if quote == '\'' && inner.contains('\'') {
                return command;
            }
            if quote == '"' && (inner.contains("\\\"") || inner.contains('$')) {
                return command;
            }
            return inner;
        }
    }
    command
}

/// True for Codex's transient connection messages ("Reconnecting... 2/5").
fn is_retry(message: &str) -> bool {
    let lower = message.trim_start().to_ascii_lowercase();
    lower.starts_with("reconnecting") || lower.contains("retrying")
}

impl OutputParser for CodexParser {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        if line.trim().is_empty() {
            return Vec::new();
        }
        let Ok(parsed) = serde_json::from_str::<Line<'_>>(line) else {
            return text_line(line);
        };
        let mut events = Vec::new();
        match &*parsed.kind {
            "thread.started" => {
                note_session(
                    &mut self.session,
                    text_of(&parsed.thread_id),
                    None,
                    &mut events,
                );
            }
            "item.started" | "item.updated" | "item.completed" => {
                if let Some(item) = &parsed.item {
                    let started = &*parsed.kind != "item.completed";
                    self.item(started, item, &mut events);
                }
            }
            "error" => {
                let text = one_line(text_of(&parsed.message), MESSAGE_MAX);
                if is_retry(&text) {
                    self.last_retry = Some(text.clone());
                    events.push(AgentEvent::Notice { text });
                } else if !text.is_empty() {
                    self.last_error = Some(text.clone());
                    events.push(AgentEvent::Error { text });
                }
            }
            "turn.completed" => {
                self.turn_completed = true;
                let usage = parsed.usage.as_ref();
                let input = usage.and_then(|u| u.input_tokens.get()).unwrap_or(0);
                let output = usage.and_then(|u| u.output_tokens.get()).unwrap_or(0);
                events.push(AgentEvent::Usage {
                    input_tokens: input.saturating_sub(self.baseline.0),
                    output_tokens: output.saturating_sub(self.baseline.1),
                    cost_usd: None,
                });
                events.push(AgentEvent::Finished {
                    is_error: false,
                    summary: self.last_message.clone().unwrap_or_default(),
                });
            }
            "turn.failed" => {
                let message = parsed
                    .error
                    .as_ref()
                    .map(|e| one_line(text_of(&e.message), MESSAGE_MAX))
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "turn failed".to_owned());
                self.turn_failed = Some(message.clone());
                events.push(AgentEvent::Finished {
                    is_error: true,
                    summary: message,
                });
            }
            _ => {}
        }
        events
    }

    fn verdict(&self, exit_code: Option<i32>, stderr_tail: &str) -> Verdict {
        if exit_code == Some(0) && self.turn_completed && self.turn_failed.is_none() {
            return Verdict::Success;
        }
        let reason = self
            .turn_failed
            .as_deref()
            .or(self.last_error.as_deref())
            .or(self.last_retry.as_deref());
        if exit_code == Some(0) && self.turn_failed.is_none() {
            let message = match reason {
                Some(r) => format!("agent exited without a result; last error: {r}"),
                None => "agent exited without a result".to_owned(),
            };
            return failure(None, Some(&message), exit_code, stderr_tail);
        }
        failure(None, reason, exit_code, stderr_tail)
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
    thread_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    message: Option<Str<'a>>,
    #[serde(default, borrow)]
    error: Option<ErrorBody<'a>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default, borrow)]
    item: Option<Item<'a>>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: Num,
    #[serde(default)]
    output_tokens: Num,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default, borrow)]
    id: Option<Str<'a>>,
    #[serde(rename = "type", default, borrow)]
    kind: Option<Str<'a>>,
    #[serde(default, borrow)]
    text: Option<Str<'a>>,
    #[serde(default, borrow)]
    message: Option<Str<'a>>,
    #[serde(default, borrow)]
    command: Option<Str<'a>>,
    #[serde(default, borrow)]
    aggregated_output: Option<Str<'a>>,
    #[serde(default)]
    exit_code: Num,
    #[serde(default, borrow)]
    status: Option<Str<'a>>,
    #[serde(default, borrow)]
    changes: Option<Vec<Change<'a>>>,
    #[serde(default, borrow)]
    server: Option<Str<'a>>,
    #[serde(default, borrow)]
    tool: Option<Str<'a>>,
    #[serde(default, borrow)]
    arguments: Option<ArgFields<'a>>,
    #[serde(default, borrow)]
    query: Option<Str<'a>>,
    #[serde(default, borrow)]
    error: Option<ErrorBody<'a>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(default, borrow)]
    path: Option<Str<'a>>,
    #[serde(default, borrow)]
    kind: Option<Str<'a>>,
}

#[cfg(test)]
mod tests {
    use super::unwrap_shell;

    #[test]
    fn shell_wrappers_are_removed_when_safe() {
        assert_eq!(
            unwrap_shell("/bin/bash -lc \"echo 'hello from mock' > hello.txt\""),
            "echo 'hello from mock' > hello.txt"
        );
        assert_eq!(unwrap_shell("bash -lc 'ls -la'"), "ls -la");
        assert_eq!(unwrap_shell("ls -la"), "ls -la");
        let escaped = "/bin/bash -lc \"echo \\\"hi\\\"\"";
        assert_eq!(unwrap_shell(escaped), escaped);
    }
}
