//! Helpers the format parsers share: shortening text for display, picking
//! a tool call's key argument, and turning failure text into a
//! [`FailureClass`] and a [`Verdict`].

use super::event::{AgentEvent, FailureClass, Verdict};
use super::json::ArgFields;
use crate::sanitize::sanitize;

/// Longest tool-call argument kept, in characters.
pub(crate) const ARG_MAX: usize = 200;
/// Longest tool-result preview kept, in characters.
pub(crate) const PREVIEW_MAX: usize = 200;
/// Longest failure message kept, in characters.
pub(crate) const MESSAGE_MAX: usize = 2000;

/// Which input fields hold the key argument of a tool, by tool name
/// (compared case-insensitively, so Claude's `Write`, Gemini's `write_file`
/// and opencode's `write` share one table).
const KEY_ARGS: &[(&[&str], &[&str])] = &[
    (
        &[
            "write",
            "edit",
            "multiedit",
            "read",
            "notebookedit",
            "write_file",
            "replace",
            "read_file",
            "patch",
        ],
        &[
            "file_path",
            "filePath",
            "absolute_path",
            "notebook_path",
            "path",
        ],
    ),
    (
        &["bash", "run_shell_command", "shell", "exec_command"],
        &["command", "cmd"],
    ),
    (
        &[
            "glob",
            "grep",
            "search_file_content",
            "list",
            "ls",
            "list_directory",
        ],
        &["pattern", "path"],
    ),
    (&["webfetch", "web_fetch"], &["url", "prompt"]),
    (
        &["websearch", "web_search", "google_web_search"],
        &["query"],
    ),
    (&["task"], &["description", "prompt"]),
];

/// The one argument worth showing for a call of `tool`, on one line:
/// the tool's known key field, else the first string field, else `""`.
pub(crate) fn key_arg(tool: &str, input: &ArgFields<'_>) -> String {
    let wanted = KEY_ARGS
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(tool)))
        .map_or(&[][..], |(_, keys)| *keys);
    let value = wanted
        .iter()
        .find_map(|key| input.get(key))
        .or_else(|| input.first())
        .unwrap_or("");
    one_line(value, ARG_MAX)
}

/// `s` sanitized and collapsed to one line: every run of whitespace
/// (newlines included) becomes one space, leading and trailing whitespace
/// goes, and the result is cut at `max` characters with an ellipsis.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let clean = sanitize(s);
    let mut out = String::with_capacity(clean.len().min(max.saturating_mul(4)));
    let mut count = 0;
    let mut space = false;
    for ch in clean.chars() {
        if ch.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        let needed = if space { 2 } else { 1 };
        if count + needed > max {
            out.push('…');
            return out;
        }
        if space {
            out.push(' ');
            count += 1;
            space = false;
        }
        out.push(ch);
        count += 1;
    }
    out
}

/// The first non-blank line of `s`, on one line, followed by ` …` when more
/// text follows it.
pub(crate) fn preview(s: &str) -> String {
    let clean = sanitize(s);
    let mut lines = clean.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let mut out = one_line(first, PREVIEW_MAX);
    if lines.next().is_some() && !out.ends_with('…') {
        out.push_str(" …");
    }
    out
}

/// A tool result's whole output for [`AgentEvent::ToolResult::output`]:
/// sanitized, trailing blank lines dropped, cut at
/// [`super::event::OUTPUT_MAX`] bytes; empty when it has at most one
/// non-blank line (the preview says it all).
pub(crate) fn tool_output(s: &str) -> String {
    if s.lines().filter(|l| !l.trim().is_empty()).nth(1).is_none() {
        return String::new();
    }
    let clean = sanitize(s);
    let mut out = clean.trim_end().trim_start_matches('\n');
    let max = super::event::OUTPUT_MAX;
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out = &out[..cut];
    }
    out.to_owned()
}

/// `s` sanitized, trimmed and cut at `max` characters (newlines kept).
pub(crate) fn clipped(s: &str, max: usize) -> String {
    let clean = sanitize(s);
    let trimmed = clean.trim();
    match trimmed.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// The most telling line of a stderr tail: the last non-blank line that is
/// not a stack frame (`    at ...`), sanitized and on one line.
pub(crate) fn stderr_summary(tail: &str) -> Option<String> {
    let clean = sanitize(tail);
    clean
        .lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .find(|l| {
            let indented = l.starts_with(char::is_whitespace);
            !(indented && l.trim_start().starts_with("at "))
        })
        .map(|l| one_line(l, 500))
}

/// The class an HTTP status code implies, if any.
pub(crate) fn classify_status(status: u64) -> Option<FailureClass> {
    match status {
        401..=403 => Some(FailureClass::Auth),
        429 | 529 => Some(FailureClass::RateLimited),
        _ => None,
    }
}

/// Phrases that mean the profile cannot authenticate or pay.
const AUTH_PHRASES: &[&str] = &[
    "authenticat",
    "unauthorized",
    "invalid api key",
    "invalid x-api-key",
    "incorrect api key",
    "api key not",
    "missing api key",
    "no api key",
    "api_key",
    "apikey",
    "missing environment variable",
    "billing",
    "credit",
    "insufficient_quota",
    "exceeded your current quota",
    "payment required",
];

/// Phrases that mean "try again later".
const RATE_PHRASES: &[&str] = &[
    "rate limit",
    "rate_limit",
    "ratelimit",
    "rate-limit",
    "too many requests",
    "overloaded",
    "high demand",
    "resource_exhausted",
    "resource exhausted",
    "quota",
];

/// Classifies free failure text (an error message, a stderr tail): Auth
/// first (401/403, authentication, API keys, billing, credit), then
/// RateLimited (429/529, rate limit, overloaded, high demand, quota).
/// `None` when nothing matches.
pub(crate) fn classify_text(text: &str) -> Option<FailureClass> {
    let lower = text.to_ascii_lowercase();
    if has_code(&lower, "401")
        || has_code(&lower, "403")
        || AUTH_PHRASES.iter().any(|p| lower.contains(p))
    {
        return Some(FailureClass::Auth);
    }
    if has_code(&lower, "429")
        || has_code(&lower, "529")
        || RATE_PHRASES.iter().any(|p| lower.contains(p))
    {
        return Some(FailureClass::RateLimited);
    }
    None
}

/// True when `code` occurs in `text` as a whole number (not inside a longer
/// run of digits or letters, so a port 18401 or a hash does not count).
fn has_code(text: &str, code: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(code).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + code.len()).copied();
        let joined = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.');
        !joined(before) && !joined(after)
    })
}

/// Describes how the process ended, for failure messages.
pub(crate) fn exit_description(exit_code: Option<i32>) -> String {
    match exit_code {
        Some(code) => format!("agent exited with code {code}"),
        None => "agent was killed by a signal".to_owned(),
    }
}

/// A failure verdict built from what the stream said (`reason`), the exit
/// status and the stderr tail. The class is `class` if given, else what
/// `reason` implies, else what stderr implies, else [`FailureClass::Crash`].
/// The message is `reason`, else the stderr summary, else the exit status;
/// a killed process says so first.
pub(crate) fn failure(
    class: Option<FailureClass>,
    reason: Option<&str>,
    exit_code: Option<i32>,
    stderr_tail: &str,
) -> Verdict {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let class = class
        .or_else(|| reason.and_then(classify_text))
        .or_else(|| classify_text(stderr_tail))
        .unwrap_or(FailureClass::Crash);
    let detail = reason
        .map(|r| clipped(r, MESSAGE_MAX))
        .or_else(|| stderr_summary(stderr_tail));
    let message = match (exit_code, detail) {
        (None, Some(detail)) => format!("{}; last error: {detail}", exit_description(None)),
        (_, Some(detail)) => detail,
        (code, None) => exit_description(code),
    };
    Verdict::Failure { class, message }
}

/// The verdict of a format that only has its exit status to go by (plain
/// text, aider): success on exit 0.
pub(crate) fn exit_verdict(
    exit_code: Option<i32>,
    reason: Option<&str>,
    stderr_tail: &str,
) -> Verdict {
    if exit_code == Some(0) {
        Verdict::Success
    } else {
        failure(None, reason, exit_code, stderr_tail)
    }
}

/// Records the session id a line carried; pushes [`AgentEvent::Session`]
/// when it is the first one or differs from the previous one.
pub(crate) fn note_session(
    current: &mut Option<String>,
    id: &str,
    model: Option<&str>,
    events: &mut Vec<AgentEvent>,
) {
    if id.is_empty() || current.as_deref() == Some(id) {
        return;
    }
    let id = sanitize(id).into_owned();
    if current.as_deref() == Some(id.as_str()) {
        return;
    }
    *current = Some(id.clone());
    events.push(AgentEvent::Session {
        id,
        model: model
            .filter(|m| !m.is_empty())
            .map(|m| one_line(m, ARG_MAX)),
    });
}

/// The events for a line that is not valid for the format: its sanitized
/// text, or nothing when it is blank.
pub(crate) fn text_line(line: &str) -> Vec<AgentEvent> {
    if line.trim().is_empty() {
        Vec::new()
    } else {
        vec![AgentEvent::Text {
            text: sanitize(line).into_owned(),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> ArgFields<'_> {
        serde_json::from_str(json).expect("valid input")
    }

    #[test]
    fn key_arg_prefers_the_known_field() {
        let a = args(r#"{"content":"x\ny","file_path":"/a/b.txt"}"#);
        assert_eq!(key_arg("Write", &a), "/a/b.txt");
        let a = args(r#"{"description":"d","command":"ls -la\n| wc"}"#);
        assert_eq!(key_arg("Bash", &a), "ls -la | wc");
        let a = args(r#"{"n":1,"thing":"first","other":"second"}"#);
        assert_eq!(key_arg("Mystery", &a), "first");
        assert_eq!(key_arg("Mystery", &args("{}")), "");
    }

    #[test]
    fn one_line_collapses_and_cuts() {
        assert_eq!(one_line("  a\n\n b\tc  ", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("ab cd", 3), "ab…");
        assert_eq!(one_line("\x1b[31mred\x1b[0m", 10), "red");
    }

    #[test]
    fn preview_is_the_first_line() {
        assert_eq!(preview("\n first \nsecond"), "first …");
        assert_eq!(preview("only"), "only");
    }

    #[test]
    fn tool_output_is_the_whole_text_when_it_has_more_than_one_line() {
        assert_eq!(tool_output("\n only \n\n"), "");
        assert_eq!(tool_output("a\n\x1b[31mb\x1b[0m\n\n"), "a\nb");
        let big = "x\n".repeat(super::super::event::OUTPUT_MAX);
        assert!(tool_output(&big).len() <= super::super::event::OUTPUT_MAX);
    }

    #[test]
    fn classification() {
        assert_eq!(classify_text("API Error: 401 x"), Some(FailureClass::Auth));
        assert_eq!(
            classify_text("Missing environment variable: `MOCK_API_KEY`."),
            Some(FailureClass::Auth)
        );
        assert_eq!(
            classify_text("HTTP 529 overloaded"),
            Some(FailureClass::RateLimited)
        );
        assert_eq!(classify_text("API Error: 500 at 127.0.0.1:18401"), None);
        assert_eq!(classify_text("port 4010 and sha 4291abc"), None);
    }

    #[test]
    fn stderr_summary_skips_stack_frames() {
        let tail = "Error: boom\n    at foo (x.js:1)\n    at bar (y.js:2)\n";
        assert_eq!(stderr_summary(tail).as_deref(), Some("Error: boom"));
        assert_eq!(stderr_summary(" \n"), None);
    }
}
