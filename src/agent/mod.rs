//! Agent CLI output: the normalized event stream and one parser per format.
//!
//! The runtime reads an agent's stdout line by line, hands each line to the
//! [`OutputParser`] that [`parser_for`] returns for the profile's [`Format`],
//! records the [`AgentEvent`]s, and asks for a [`Verdict`] when the process
//! has ended. Every text that goes into an event has been through
//! [`crate::sanitize::sanitize`].
//!
//! Rules shared by all parsers:
//! - a line that is not valid for a JSON format becomes [`AgentEvent::Text`];
//!   an empty line produces nothing; nothing panics;
//! - [`AgentEvent::Usage`] always carries totals for the attempt so far
//!   (never deltas): the latest one replaces the previous ones;
//! - the verdict is decided from the exit status together with what the
//!   stream said, so a CLI that exits 0 after an error still fails.

mod aider;
mod claude;
mod codex;
mod common;
pub mod event;
mod format;
mod gemini;
mod json;
mod launch;
mod opencode;
mod text;
pub mod usage;

pub use aider::AiderParser;
pub use claude::ClaudeParser;
pub use codex::CodexParser;
pub use event::{AgentEvent, FailureClass, Verdict};
pub use format::{Format, UnknownFormat};
pub use gemini::GeminiParser;
pub use launch::{SessionBaseline, isolated_home_env, parser_for_attempt};
pub use opencode::OpencodeParser;
pub use text::TextParser;
pub use usage::{UsageAnomaly, check_usage};

/// Turns one agent CLI's stdout into [`AgentEvent`]s and its end into a [`Verdict`].
pub trait OutputParser: Send {
    /// One line of the agent's stdout, without its line ending (may be invalid for the format, partial, or lossily-decoded from invalid UTF-8).
    fn line(&mut self, line: &str) -> Vec<AgentEvent>;

    /// Stdout reached its end: returns events the parser still held back
    /// (a Gemini message whose streamed chunks were being joined). Call it
    /// once, before [`OutputParser::verdict`]; the default holds nothing back.
    fn finish(&mut self) -> Vec<AgentEvent> {
        Vec::new()
    }

    /// The process ended: `exit_code` is None when killed by a signal; `stderr_tail` is the last few KB of stderr.
    fn verdict(&self, exit_code: Option<i32>, stderr_tail: &str) -> Verdict;

    /// Agent session id seen so far (for resume), if any.
    fn session_id(&self) -> Option<&str>;
}

/// A fresh parser for one attempt of an agent whose profile declares `format`.
///
/// For a resumed Codex thread, build [`CodexParser::resuming`] instead, so
/// that token usage counts only this attempt.
pub fn parser_for(format: Format) -> Box<dyn OutputParser> {
    match format {
        Format::Claude => Box::new(ClaudeParser::new()),
        Format::Codex => Box::new(CodexParser::new()),
        Format::Gemini => Box::new(GeminiParser::new()),
        Format::Opencode => Box::new(OpencodeParser::new()),
        Format::Aider => Box::new(AiderParser::new()),
        Format::Text => Box::new(TextParser::new()),
    }
}

/// Where a transcript was cut (its middle left out to keep it under its
/// cap): returns the events `parser` still held and puts a fresh parser for
/// `format` in its place, so the tail is not joined to what came before the
/// cut (a half-streamed message, a tool call whose result was cut).
pub fn restart_after_cut(parser: &mut Box<dyn OutputParser>, format: Format) -> Vec<AgentEvent> {
    let held = parser.finish();
    *parser = parser_for(format);
    held
}
