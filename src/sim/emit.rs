//! Writing Claude Code's stream-json, in the shapes Claude Code 2.1 uses
//! (see `claude-stream.jsonl` and `claude-bash-stream.jsonl` in the agent
//! fixtures), one flushed line at a time.
//!
//! Like the real CLI, every content block is its own `assistant` line;
//! blocks of one model call share a `message.id`, and a new call (a new id)
//! starts after each tool result. Each `assistant` line carries a `usage`
//! snapshot of its call (the call's input tokens, its output tokens so far),
//! and the final `result` carries the totals, so the live snapshots and the
//! result agree. Token counts are deterministic: a call's input is a quarter
//! of the script's length plus 100, a block's output a quarter of its text
//! (or JSON input) length plus one.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

/// The model name the simulated agent reports.
pub(crate) const MODEL: &str = "fleetdeck-sim";

/// Writes one simulated run's stream-json lines and keeps its totals.
pub(super) struct Emitter<'w> {
    out: &'w mut dyn Write,
    session: String,
    seed: u64,
    serial: u64,
    /// Id and output tokens so far of the model call in progress.
    call: Option<(String, u64)>,
    calls: u64,
    call_input: u64,
    input_total: u64,
    output_total: u64,
    cost: f64,
    duration_ms: u64,
    last_text: String,
}

impl<'w> Emitter<'w> {
    pub(super) fn new(out: &'w mut dyn Write, script: &str, attempt: u32) -> Self {
        let seed = fnv1a(script.as_bytes()) ^ fnv1a(&attempt.to_le_bytes()).rotate_left(17);
        Emitter {
            out,
            session: uuid(seed, 0),
            seed,
            serial: 0,
            call: None,
            calls: 0,
            call_input: script.len().div_ceil(4) as u64 + 100,
            input_total: 0,
            output_total: 0,
            cost: 0.0,
            duration_ms: 0,
            last_text: String::new(),
        }
    }

    /// The session id this run reports (deterministic per script and attempt).
    pub(super) fn session(&self) -> &str {
        &self.session
    }

    /// Reports `session` instead (a resumed session keeps its id).
    pub(super) fn set_session(&mut self, session: &str) {
        session.clone_into(&mut self.session);
    }

    pub(super) fn add_cost(&mut self, usd: f64) {
        self.cost += usd;
    }

    pub(super) fn add_duration(&mut self, ms: u64) {
        self.duration_ms = self.duration_ms.saturating_add(ms);
    }

    fn next_uuid(&mut self) -> String {
        self.serial += 1;
        uuid(self.seed, self.serial)
    }

    fn line(&mut self, value: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut *self.out, value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// The `system/init` line.
    pub(super) fn init(&mut self, cwd: &Path) -> io::Result<()> {
        let value = json!({
            "type": "system",
            "subtype": "init",
            "cwd": cwd.display().to_string(),
            "session_id": self.session,
            "tools": ["Bash", "Edit", "Write"],
            "mcp_servers": [],
            "model": MODEL,
            "permissionMode": "bypassPermissions",
            "apiKeySource": "none",
            "claude_code_version": MODEL,
            "output_style": "default",
            "uuid": self.next_uuid(),
        });
        self.line(&value)
    }

    /// One `assistant` line holding `block`, whose size is `size` bytes.
    fn assistant(&mut self, block: Value, size: usize) -> io::Result<()> {
        let output = size.div_ceil(4) as u64 + 1;
        let (id, call_output) = match self.call.take() {
            Some((id, so_far)) => (id, so_far + output),
            None => {
                self.calls += 1;
                self.input_total += self.call_input;
                (format!("msg_sim_{:016x}", self.seed ^ self.calls), output)
            }
        };
        self.output_total += output;
        let value = json!({
            "type": "assistant",
            "message": {
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [block],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {
                    "input_tokens": self.call_input,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": call_output,
                },
            },
            "parent_tool_use_id": null,
            "session_id": self.session,
            "uuid": self.next_uuid(),
        });
        self.call = Some((id, call_output));
        self.line(&value)
    }

    /// Assistant text.
    pub(super) fn text(&mut self, text: &str) -> io::Result<()> {
        self.last_text = text.to_owned();
        self.assistant(json!({"type": "text", "text": text}), text.len())
    }

    /// A tool call; returns its id for the matching [`Emitter::tool_result`].
    pub(super) fn tool_use(&mut self, name: &str, input: Value) -> io::Result<String> {
        self.serial += 1;
        let id = format!("toolu_sim_{:016x}", self.seed ^ self.serial);
        let size = input.to_string().len();
        let block = json!({"type": "tool_use", "id": id, "name": name, "input": input});
        self.assistant(block, size)?;
        Ok(id)
    }

    /// The `user` line answering tool call `id`; the next block starts a new model call.
    pub(super) fn tool_result(
        &mut self,
        id: &str,
        content: &str,
        is_error: bool,
    ) -> io::Result<()> {
        self.call = None;
        let value = json!({
            "type": "user",
            "message": {
                "role": "user",
                "content": [{
                    "tool_use_id": id,
                    "type": "tool_result",
                    "content": content,
                    "is_error": is_error,
                }],
            },
            "parent_tool_use_id": null,
            "session_id": self.session,
            "uuid": self.next_uuid(),
        });
        self.line(&value)
    }

    /// The final `result` line: `failure` is the message of a failed run.
    pub(super) fn result(&mut self, failure: Option<&str>) -> io::Result<()> {
        self.result_with(failure, None)
    }

    /// [`Emitter::result`] carrying `structured` as `structured_output`
    /// (what Claude prints when run with `--json-schema`).
    pub(super) fn result_with(
        &mut self,
        failure: Option<&str>,
        structured: Option<Value>,
    ) -> io::Result<()> {
        let (subtype, text) = match failure {
            Some(message) => ("error_during_execution", message.to_owned()),
            None => ("success", std::mem::take(&mut self.last_text)),
        };
        // Rounded so that sums such as 0.1 + 0.2 print as written.
        let cost = (self.cost * 1e10).round() / 1e10;
        let mut value = json!({
            "type": "result",
            "subtype": subtype,
            "is_error": failure.is_some(),
            "duration_ms": self.duration_ms,
            "duration_api_ms": 0,
            "num_turns": self.calls,
            "result": text,
            "stop_reason": "end_turn",
            "session_id": self.session,
            "total_cost_usd": cost,
            "usage": {
                "input_tokens": self.input_total,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": self.output_total,
            },
            "permission_denials": [],
            "uuid": self.next_uuid(),
        });
        if let (Some(structured), Some(map)) = (structured, value.as_object_mut()) {
            map.insert("structured_output".into(), structured);
        }
        self.line(&value)
    }
}

/// FNV-1a, 64 bits: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A version-4-shaped UUID derived from `seed` and `n`.
fn uuid(seed: u64, n: u64) -> String {
    let hi = fnv1a(&[seed.to_le_bytes(), n.to_le_bytes()].concat());
    let lo = fnv1a(&[hi.to_le_bytes(), seed.to_be_bytes()].concat());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    )
}

/// A session id derived from `text` (stable across runs and Rust versions).
pub(super) fn uuid_for(text: &str) -> String {
    uuid(fnv1a(text.as_bytes()), 0)
}
