//! aider: `aider --message ... --yes-always --no-pretty`, plain text.
//!
//! | line | events |
//! |---|---|
//! | `Applied edit to <path>` | `ToolCall{name: "edit", arg: path}` |
//! | `Commit <hash> <message>` | `Notice` |
//! | `Tokens: 2.4k sent, 80 received. Cost: $0.01 message, $0.02 session.` | `Usage` |
//! | `Aider v...`, `Model: ...`, `Git repo: ...`, `Repo-map: ...` | `Notice` |
//! | `litellm.<Something>Error: ...`, `Error: ...` | `Error` |
//! | any other non-blank line | `Text` (aider's prose, edit blocks and warnings cannot be told apart) |
//!
//! **Usage.** Each `Tokens:` line reports one model call: the `sent` figures
//! are summed as input and the `received` figures as output (`k`/`M`
//! suffixes understood; the `cache write`/`cache hit` figures are already
//! part of `sent` and are not added). The cost is the latest `$... session`
//! figure, which aider keeps for the whole process; `None` until aider
//! reports one (it prints no `Cost:` when it could not fetch model prices,
//! as in the fixtures).
//!
//! **Verdict.** From the exit code alone; a failure is classified from the
//! last error line, then stderr.

use super::OutputParser;
use super::common::{ARG_MAX, MESSAGE_MAX, exit_verdict, one_line, text_line};
use super::event::{AgentEvent, Verdict};
use crate::sanitize::sanitize;

/// Parser for aider's plain-text output. See the module docs for the mapping.
#[derive(Debug, Default)]
pub struct AiderParser {
    input_tokens: u64,
    output_tokens: u64,
    cost: Option<f64>,
    last_error: Option<String>,
}

impl AiderParser {
    /// A parser for one attempt.
    pub fn new() -> Self {
        Self::default()
    }

    fn tokens(&mut self, report: &str) -> AgentEvent {
        let (counts, cost) = match report.split_once("Cost:") {
            Some((counts, cost)) => (counts, Some(cost)),
            None => (report, None),
        };
        for part in counts.split(',') {
            let part = part.trim().trim_end_matches('.');
            let Some((number, label)) = part.split_once(' ') else {
                continue;
            };
            let Some(count) = parse_count(number) else {
                continue;
            };
            match label.trim() {
                "sent" => self.input_tokens += count,
                "received" => self.output_tokens += count,
                _ => {}
            }
        }
        if let Some(session) = cost.and_then(session_cost) {
            self.cost = Some(session);
        }
        AgentEvent::Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cost_usd: self.cost,
        }
    }
}

/// `2.4k` → 2400, `1.2M` → 1 200 000, `80` → 80.
fn parse_count(s: &str) -> Option<u64> {
    let (digits, scale) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1e3),
        'm' | 'M' => (&s[..s.len() - 1], 1e6),
        _ => (s, 1.0),
    };
    let value: f64 = digits.replace(',', "").parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    // Rounded and non-negative: the conversion cannot lose anything that matters.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((value * scale).round() as u64)
}

/// The session figure of `" $0.01 message, $0.02 session."`.
fn session_cost(s: &str) -> Option<f64> {
    s.split(',')
        .map(|p| p.trim().trim_end_matches('.'))
        .find_map(|p| p.strip_suffix(" session"))
        .and_then(|amount| amount.trim().trim_start_matches('$').parse().ok())
        .filter(|c: &f64| c.is_finite())
}

/// True for `Commit <hex hash> ...`.
fn is_commit(rest: &str) -> bool {
    let hash = rest.split(' ').next().unwrap_or("");
    (7..=40).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

const BANNERS: &[&str] = &[
    "Aider v",
    "Model: ",
    "Main model: ",
    "Weak model: ",
    "Editor model: ",
    "Git repo: ",
    "Repo-map: ",
];

impl OutputParser for AiderParser {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        let clean = sanitize(line);
        let trimmed = clean.trim();
        if trimmed.is_empty() {
            return Vec::new();
        }
        if let Some(report) = trimmed.strip_prefix("Tokens: ") {
            return vec![self.tokens(report)];
        }
        if let Some(path) = trimmed.strip_prefix("Applied edit to ") {
            return vec![AgentEvent::ToolCall {
                id: None,
                name: "edit".to_owned(),
                arg: one_line(path, ARG_MAX),
            }];
        }
        if trimmed.strip_prefix("Commit ").is_some_and(is_commit)
            || BANNERS.iter().any(|b| trimmed.starts_with(b))
        {
            return vec![AgentEvent::Notice {
                text: one_line(trimmed, MESSAGE_MAX),
            }];
        }
        let is_error = (trimmed.starts_with("litellm.") && trimmed.contains("Error"))
            || trimmed.starts_with("Error:");
        if is_error {
            let text = one_line(trimmed, MESSAGE_MAX);
            self.last_error = Some(text.clone());
            return vec![AgentEvent::Error { text }];
        }
        text_line(line)
    }

    fn verdict(&self, exit_code: Option<i32>, stderr_tail: &str) -> Verdict {
        exit_verdict(exit_code, self.last_error.as_deref(), stderr_tail)
    }

    /// aider has no session id to resume.
    fn session_id(&self) -> Option<&str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_costs() {
        assert_eq!(parse_count("2.4k"), Some(2400));
        assert_eq!(parse_count("1.2M"), Some(1_200_000));
        assert_eq!(parse_count("80"), Some(80));
        assert_eq!(parse_count("x"), None);
        assert_eq!(session_cost(" $0.01 message, $0.02 session."), Some(0.02));
    }

    #[test]
    fn a_full_tokens_line() {
        let mut p = AiderParser::new();
        let line =
            "Tokens: 2.4k sent, 1.1k cache hit, 80 received. Cost: $0.01 message, $0.02 session.";
        assert_eq!(
            p.line(line),
            vec![AgentEvent::Usage {
                input_tokens: 2400,
                output_tokens: 80,
                cost_usd: Some(0.02)
            }]
        );
        let again = p.line("Tokens: 1k sent, 20 received. Cost: $0.01 message, $0.03 session.");
        assert_eq!(
            again,
            vec![AgentEvent::Usage {
                input_tokens: 3400,
                output_tokens: 100,
                cost_usd: Some(0.03)
            }]
        );
    }
}
