//! What an earlier attempt did, for the prompt of a fresh run that
//! continues it (the task was reassigned, or a reviewer asked for changes
//! and the session cannot be resumed): its last messages and the files it
//! changed. The wording fits both: the feedback before it says which.

use std::path::Path;

use crate::agent::{AgentEvent, parser_for};
use crate::sanitize::sanitize;
use crate::store::transcript::{self, Stream};

/// Most messages quoted.
const MESSAGES: usize = 3;
/// Most characters per quoted message.
const MESSAGE_CHARS: usize = 400;
/// Most file names listed.
const FILES: usize = 40;

/// The last assistant messages of the transcript at `path` (oldest first).
pub(crate) fn last_messages(path: &Path) -> Vec<String> {
    let Ok(t) = transcript::read(path) else {
        return Vec::new();
    };
    let mut parser = parser_for(
        t.header
            .as_ref()
            .map_or(crate::agent::Format::Text, |h| h.format),
    );
    // Only messages are kept (tool results carry their whole output).
    let is_message = |e: &AgentEvent| matches!(e, AgentEvent::Message { .. });
    let mut events: Vec<AgentEvent> = Vec::new();
    for line in t.lines.iter().filter(|l| l.s == Stream::Out) {
        events.extend(parser.line(&line.l).into_iter().filter(is_message));
    }
    events.extend(parser.finish().into_iter().filter(is_message));
    let messages: Vec<String> = events
        .into_iter()
        .filter_map(|e| match e {
            AgentEvent::Message { text } => Some(
                sanitize(&text)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        })
        .filter(|m| !m.is_empty())
        .collect();
    let skip = messages.len().saturating_sub(MESSAGES);
    messages
        .into_iter()
        .skip(skip)
        .map(|m| {
            if m.chars().count() > MESSAGE_CHARS {
                m.chars().take(MESSAGE_CHARS).collect::<String>() + " …"
            } else {
                m
            }
        })
        .collect()
}

/// Usage already reported on agent session `session` by attempts before
/// attempt `before` (each stored as its own share): what a resumed Codex
/// thread's cumulative figures must be reduced by to give that attempt's
/// own usage. Used when the attempt starts and when its transcript is read
/// back (`fleetdeck log`).
pub fn session_baseline(
    attempts: &[crate::store::AttemptRecord],
    session: &str,
    before: u32,
) -> crate::store::Usage {
    let mut baseline = crate::store::Usage::default();
    for a in attempts {
        if a.n < before && a.session_id.as_deref() == Some(session) {
            baseline += a.usage;
        }
    }
    baseline
}

/// The summary appended to the prompt, every line quoted with `> `.
pub(crate) fn summary(attempt: u32, agent: &str, messages: &[String], files: &[String]) -> String {
    let mut out = format!("\nWhat the previous attempt ({attempt}, by `{agent}`) did:\n");
    if messages.is_empty() {
        out.push_str("> It said nothing.\n");
    } else {
        out.push_str("> Its last messages:\n");
        for m in messages {
            out.push_str(&format!("> - {m}\n"));
        }
    }
    if files.is_empty() {
        out.push_str("> It changed no file.\n");
    } else {
        let more = files.len().saturating_sub(FILES);
        let shown: Vec<&str> = files.iter().take(FILES).map(String::as_str).collect();
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "> Files changed so far (in your worktree): {}{tail}\n",
            shown.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_quotes_every_line() {
        let s = summary(
            2,
            "claude",
            &["I added x".into(), "tests fail".into()],
            &["a.rs".into()],
        );
        assert_eq!(
            s,
            "\nWhat the previous attempt (2, by `claude`) did:\n> Its last messages:\n> - I added x\n> - tests fail\n> Files changed so far (in your worktree): a.rs\n"
        );
        assert!(summary(1, "x", &[], &[]).contains("> It said nothing.\n> It changed no file.\n"));
    }
}
