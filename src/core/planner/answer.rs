//! Finding the plan in a planner's answer: a bare JSON document, the last
//! fenced ```json block of prose that holds a plan, or the final message
//! inside a CLI's structured-output envelope (Claude's `result` or
//! `structured_output`, Codex's `agent_message`, Gemini's assistant
//! `message`s, opencode's `text` parts, one JSON object per line). Shape
//! errors carry the JSON path.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    ACTION_FIELDS, ANSWER_FIELDS, ActionKind, PlanAnswer, REQUIRED_TASK_FIELDS, TASK_FIELDS,
};

/// Why no plan could be read from an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no JSON plan found in the answer (expected a ```json block)")]
    NoPlan,
    #[error("{origin} is not valid JSON: {message} at line {line}, column {column}")]
    Syntax {
        /// Where the JSON was: "the answer", "the ```json block at line 4".
        origin: String,
        message: String,
        /// Line in the answer text (1-based), column in that line.
        line: usize,
        column: usize,
    },
    #[error("{}", join(.problems))]
    Shape { problems: Vec<ShapeProblem> },
}

/// A JSON document that is not shaped like a plan, at `path` (`tasks[3].deps`;
/// empty for the document itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ShapeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

fn join(problems: &[ShapeProblem]) -> String {
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    text.join("; ")
}

/// How deep envelopes may nest (a `result` string holding a fenced block...).
const MAX_DEPTH: usize = 4;

/// Reads the plan out of `answer_text`.
pub fn extract(answer_text: &str) -> Result<PlanAnswer, AnswerError> {
    extract_at(answer_text, 0)
}

fn extract_at(text: &str, depth: usize) -> Result<PlanAnswer, AnswerError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || depth > MAX_DEPTH {
        return Err(AnswerError::NoPlan);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(value) => return from_document(&value, depth),
            Err(whole) => {
                if let Some(found) = from_json_lines(trimmed, depth) {
                    return found;
                }
                if !trimmed.contains("```") {
                    let offset = text.len() - text.trim_start().len();
                    return Err(syntax("the answer", &whole, line_of(text, offset)));
                }
            }
        }
    }
    from_fenced_blocks(text, depth)
}

/// A document: a plan itself, or an envelope around the final message.
fn from_document(value: &Value, depth: usize) -> Result<PlanAnswer, AnswerError> {
    if let Some(map) = value.as_object().filter(|m| !m.contains_key("tasks")) {
        if let Some(inner) = map.get("structured_output").filter(|v| v.is_object()) {
            return plan_from_value(inner);
        }
        if let Some(text) = envelope_text(map) {
            return extract_at(text, depth + 1);
        }
        if is_event(map) {
            return Err(AnswerError::NoPlan);
        }
    }
    plan_from_value(value)
}

/// The final-message text of one envelope object, if it is one.
fn envelope_text(map: &Map<String, Value>) -> Option<&str> {
    if let Some(result) = map.get("result").and_then(Value::as_str) {
        return Some(result); // Claude --output-format json / stream-json result line
    }
    // Codex item.completed agent_message; opencode text part.
    let item = map.get("item").or_else(|| map.get("part"))?.as_object()?;
    match item.get("type")?.as_str()? {
        "agent_message" | "text" => item.get("text")?.as_str(),
        _ => None,
    }
}

/// An event line of a CLI stream (it has a `type`) that carries no plan.
fn is_event(map: &Map<String, Value>) -> bool {
    !map.contains_key("tasks") && map.get("type").is_some_and(Value::is_string)
}

/// A JSON-lines stream (one object per line): the last final message in it.
/// `None` when the text is not such a stream.
fn from_json_lines(text: &str, depth: usize) -> Option<Result<PlanAnswer, AnswerError>> {
    let mut lines = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        lines.push(serde_json::from_str::<Value>(line.trim()).ok()?);
    }
    let mut messages: Vec<String> = Vec::new();
    let mut gemini = String::new();
    for line in &lines {
        let Some(map) = line.as_object() else {
            continue;
        };
        if map.get("type").and_then(Value::as_str) == Some("message")
            && map.get("role").and_then(Value::as_str) == Some("assistant")
        {
            // Gemini: assistant text arrives as deltas to concatenate.
            if let Some(content) = map.get("content").and_then(Value::as_str) {
                gemini.push_str(content);
            }
            continue;
        }
        if map.contains_key("tasks") || map.contains_key("structured_output") {
            messages.push(line.to_string());
        } else if let Some(text) = envelope_text(map) {
            messages.push(text.to_owned());
        }
    }
    if !gemini.is_empty() {
        messages.push(gemini);
    }
    let mut first_error = None;
    for message in messages.iter().rev() {
        match extract_at(message, depth + 1) {
            Ok(plan) => return Some(Ok(plan)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Some(Err(first_error.unwrap_or(AnswerError::NoPlan)))
}

/// A fenced block of the answer: its info string, first content line (1-based), text.
struct Block<'a> {
    info: &'a str,
    line: usize,
    text: String,
}

fn fenced_blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks = Vec::new();
    let mut open: Option<Block<'_>> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        match open.as_mut() {
            None => {
                if let Some(info) = fence.strip_prefix("```") {
                    open = Some(Block {
                        info: info.trim(),
                        line: n + 2,
                        text: String::new(),
                    });
                }
            }
            Some(block) => {
                if fence.trim_end() == "```" {
                    blocks.extend(open.take());
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
        }
    }
    blocks
}

/// The last fenced JSON block that holds a plan; else the error of the last
/// JSON block; else the outermost `{...}` of the prose.
fn from_fenced_blocks(text: &str, depth: usize) -> Result<PlanAnswer, AnswerError> {
    let blocks: Vec<Block<'_>> = fenced_blocks(text)
        .into_iter()
        .filter(|b| b.info.is_empty() || b.info.eq_ignore_ascii_case("json"))
        .filter(|b| b.info.eq_ignore_ascii_case("json") || b.text.trim_start().starts_with('{'))
        .collect();
    let mut last_error = None;
    for block in blocks.iter().rev() {
        let origin = format!("the ```json block at line {}", block.line - 1);
        let result = match serde_json::from_str::<Value>(&block.text) {
            Ok(value) => from_document(&value, depth),
            Err(e) => Err(syntax(&origin, &e, block.line - 1)),
        };
        match result {
            Ok(plan) => return Ok(plan),
            Err(e) => {
                last_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = last_error {
        return Err(e);
    }
    // No fence: a plan object written straight into the prose.
    match (text.find('{'), text.rfind('}')) {
        (Some(start), Some(end)) if start < end => {
            let inner = &text[start..=end];
            match serde_json::from_str::<Value>(inner) {
                Ok(value) if value.get("tasks").is_some() => plan_from_value(&value),
                _ => Err(AnswerError::NoPlan),
            }
        }
        _ => Err(AnswerError::NoPlan),
    }
}

/// 1-based line of byte `offset` in `text`, minus one (lines before it).
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count()
}

fn syntax(origin: &str, e: &serde_json::Error, lines_before: usize) -> AnswerError {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(at) => full[..at].to_owned(),
        None => full,
    };
    AnswerError::Syntax {
        origin: origin.to_owned(),
        message,
        line: e.line() + lines_before,
        column: e.column(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn fields_list(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    quoted.join(", ")
}

/// Checks the shape of a plan document, reporting every problem with its path.
fn plan_from_value(value: &Value) -> Result<PlanAnswer, AnswerError> {
    let mut problems = Vec::new();
    let mut at = |path: String, message: String| problems.push(ShapeProblem { path, message });
    match value.as_object() {
        None => at(
            String::new(),
            format!(
                "expected an object with a `tasks` array, found {}",
                kind(value)
            ),
        ),
        Some(map) => {
            for key in map.keys().filter(|k| !ANSWER_FIELDS.contains(&k.as_str())) {
                at(
                    String::new(),
                    format!(
                        "unknown field `{key}` (expected {})",
                        fields_list(&ANSWER_FIELDS)
                    ),
                );
            }
            match map.get("notes") {
                None | Some(Value::Null) | Some(Value::String(_)) => {}
                Some(other) => at(
                    "notes".into(),
                    format!("expected a string, found {}", kind(other)),
                ),
            }
            match map.get("actions") {
                None | Some(Value::Null) => {}
                Some(Value::Array(actions)) => {
                    for (i, action) in actions.iter().enumerate() {
                        check_action(&format!("actions[{i}]"), action, &mut at);
                    }
                }
                Some(other) => at(
                    "actions".into(),
                    format!("expected an array of actions, found {}", kind(other)),
                ),
            }
            match map.get("tasks") {
                None => at(String::new(), "missing field `tasks`".into()),
                Some(Value::Array(tasks)) => {
                    for (i, task) in tasks.iter().enumerate() {
                        check_task(&format!("tasks[{i}]"), task, &mut at);
                    }
                }
                Some(other) => at(
                    "tasks".into(),
                    format!("expected an array of tasks, found {}", kind(other)),
                ),
            }
        }
    }
    if problems.is_empty() {
        PlanAnswer::deserialize(value).map_err(|e| AnswerError::Shape {
            problems: vec![ShapeProblem {
                path: String::new(),
                message: e.to_string(),
            }],
        })
    } else {
        Err(AnswerError::Shape { problems })
    }
}

fn check_task(path: &str, task: &Value, at: &mut impl FnMut(String, String)) {
    let Some(map) = task.as_object() else {
        at(
            path.to_owned(),
            format!("expected a task object, found {}", kind(task)),
        );
        return;
    };
    for key in map.keys().filter(|k| !TASK_FIELDS.contains(&k.as_str())) {
        at(
            path.to_owned(),
            format!(
                "unknown field `{key}` (expected one of {})",
                fields_list(&TASK_FIELDS)
            ),
        );
    }
    for field in REQUIRED_TASK_FIELDS {
        if !map.contains_key(field) {
            at(path.to_owned(), format!("missing field `{field}`"));
        }
    }
    for (key, v) in map {
        let here = format!("{path}.{key}");
        match (key.as_str(), v) {
            ("id" | "title" | "prompt" | "agent", Value::String(_)) => {}
            ("role" | "split_from" | "group", Value::String(_) | Value::Null) => {}
            ("verify", Value::Null) => {}
            ("auto_approve", Value::Bool(_) | Value::Null) => {}
            ("auto_approve", other) => {
                at(
                    here,
                    format!("expected true or false, found {}", kind(other)),
                );
            }
            ("id" | "title" | "prompt" | "agent" | "role" | "split_from" | "group", other) => {
                at(here, format!("expected a string, found {}", kind(other)));
            }
            ("deps" | "files" | "acceptance" | "verify" | "fanout", Value::Array(items)) => {
                for (j, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        at(
                            format!("{here}[{j}]"),
                            format!("expected a string, found {}", kind(item)),
                        );
                    }
                }
            }
            ("deps" | "files" | "acceptance" | "verify", other) => {
                at(
                    here,
                    format!("expected an array of strings, found {}", kind(other)),
                );
            }
            _ => {} // unknown, reported above
        }
    }
}

fn check_action(path: &str, action: &Value, at: &mut impl FnMut(String, String)) {
    let Some(map) = action.as_object() else {
        at(
            path.to_owned(),
            format!("expected an action object, found {}", kind(action)),
        );
        return;
    };
    for key in map.keys().filter(|k| !ACTION_FIELDS.contains(&k.as_str())) {
        at(
            path.to_owned(),
            format!(
                "unknown field `{key}` (expected one of {})",
                fields_list(&ACTION_FIELDS)
            ),
        );
    }
    let kinds: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
    match map.get("kind") {
        None => at(path.to_owned(), "missing field `kind`".into()),
        Some(Value::String(k)) if kinds.contains(&k.as_str()) => {}
        Some(other) => at(
            format!("{path}.kind"),
            format!(
                "expected one of {}, found {}",
                fields_list(&kinds),
                match other {
                    Value::String(k) => format!("`{k}`"),
                    v => kind(v).to_owned(),
                }
            ),
        ),
    }
    match map.get("task") {
        None => at(path.to_owned(), "missing field `task`".into()),
        Some(Value::String(_)) => {}
        Some(other) => at(
            format!("{path}.task"),
            format!("expected a string, found {}", kind(other)),
        ),
    }
    match map.get("message") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(other) => at(
            format!("{path}.message"),
            format!("expected a string, found {}", kind(other)),
        ),
    }
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
