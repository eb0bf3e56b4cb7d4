//! The `text` format: any program. Every line is [`AgentEvent::Text`]; the
//! exit code decides the verdict.

use super::OutputParser;
use super::common::{exit_verdict, text_line};
use super::event::{AgentEvent, Verdict};

/// Parser for plain-text agents.
#[derive(Debug, Default)]
pub struct TextParser;

impl TextParser {
    /// A parser for one attempt.
    pub fn new() -> Self {
        TextParser
    }
}

impl OutputParser for TextParser {
    /// Every non-blank line becomes sanitized [`AgentEvent::Text`].
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        text_line(line)
    }

    /// Success on exit 0; otherwise a failure classified from stderr.
    fn verdict(&self, exit_code: Option<i32>, stderr_tail: &str) -> Verdict {
        exit_verdict(exit_code, None, stderr_tail)
    }

    /// Plain text carries no session.
    fn session_id(&self) -> Option<&str> {
        None
    }
}
