//! aider: `aider --message ... --yes-always --no-pretty`, plain text.
//!
//! | line | events |
//! |---|---|
//! | `Applied edit to <path>` | `ToolCall{name: "edit", arg: path}` |
//! | `Commit <hash> <message>` | `Notice` |
//! | `Tokens: 2.4k sent, 80 received. Cost: $0.01 message, $0.02 session.` | `Usage` |
//! | `Aider v...`, `Model: ...`, `Git repo: ...`, `Repo-map: ...` | `Notice` |
//! | `litellm.<Name>Error: ...` (an API call failed), `Error: ...` | `Error` |
//! | `Retrying in 0.5 seconds...` (after a retryable API error) | `Notice` |
//! | `Model ... has hit a token limit!` (context window exceeded) | `Error` |
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
//! **Verdict.** aider exits 0 even when it gave up on its model service
//! (`litellm.AuthenticationError` at once, `litellm.RateLimitError` after
//! retrying for about a minute): a `litellm.` error or a token-limit error
//! that no later `Tokens:` line (a model call that worked) followed is a
//! failure whatever the exit code, classified by the exception's name
//! ([`api_error_class`]). Otherwise the exit code decides; a failure is
//! classified from the last error line, then stderr.

use super::OutputParser;
use super::common::{
    ARG_MAX, MESSAGE_MAX, classify_text, exit_verdict, failure, one_line, text_line,
};
use super::event::{AgentEvent, FailureClass, Verdict};
use crate::sanitize::sanitize;

/// Parser for aider's plain-text output. See the module docs for the mapping.
#[derive(Debug, Default)]
pub struct AiderParser {
    input_tokens: u64,
    output_tokens: u64,
    cost: Option<f64>,
    last_error: Option<String>,
    /// The API error aider ended on: set by a `litellm.` or token-limit
    /// error line, cleared by a later `Tokens:` line.
    gave_up: Option<(FailureClass, String)>,
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

/// The class of a failed API call from litellm's exception name (the
/// `AuthenticationError` of `litellm.AuthenticationError: ...`), as the other
/// formats classify the same HTTP errors: authentication and budget errors
/// make the profile unusable, rate limits park the task, an overloaded
/// service is a rate limit too, anything else is a crash.
pub(crate) fn api_error_class(name: &str, line: &str) -> FailureClass {
    match name {
        "AuthenticationError" | "PermissionDeniedError" | "BudgetExceededError" => {
            FailureClass::Auth
        }
        "RateLimitError" | "RouterRateLimitError" => FailureClass::RateLimited,
        _ => classify_text(line).unwrap_or(FailureClass::Crash),
    }
}

/// The exception name of a `litellm.<Name>: ...` line.
fn litellm_exception(line: &str) -> Option<&str> {
    let (name, _) = line.strip_prefix("litellm.")?.split_once(':')?;
    let plausible = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric());
    (plausible && (name.ends_with("Error") || name == "Timeout")).then_some(name)
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
            self.gave_up = None; // a model call worked after the error
            return vec![self.tokens(report)];
        }
        if trimmed.starts_with("Retrying in ") && trimmed.ends_with("seconds...") {
            return vec![AgentEvent::Notice {
                text: one_line(trimmed, MESSAGE_MAX),
            }];
        }
        if let Some(name) = litellm_exception(trimmed) {
            let text = one_line(trimmed, MESSAGE_MAX);
            self.gave_up = Some((api_error_class(name, trimmed), text.clone()));
            self.last_error = Some(text.clone());
            return vec![AgentEvent::Error { text }];
        }
        if trimmed.starts_with("Model ") && trimmed.ends_with("has hit a token limit!") {
            let text = one_line(trimmed, MESSAGE_MAX);
            self.gave_up = Some((FailureClass::Crash, text.clone()));
            self.last_error = Some(text.clone());
            return vec![AgentEvent::Error { text }];
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
        match &self.gave_up {
            Some((class, message)) => failure(Some(*class), Some(message), exit_code, stderr_tail),
            None => exit_verdict(exit_code, self.last_error.as_deref(), stderr_tail),
        }
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
