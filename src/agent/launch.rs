//! What each agent CLI needs at launch beyond its argv: the environment that
//! points it at an isolated home, and the parser for a resumed session. A new
//! format's launch quirks belong here, so the runtime stays format-agnostic.

use std::path::{Path, PathBuf};

use super::{CodexParser, Format, OutputParser, parser_for};

/// The variables that send an agent CLI to `home` instead of the user's home
/// directory, so parallel agents do not fight over their configuration files.
/// Set for every format: a CLI ignores the variables it does not read.
pub fn isolated_home_env(home: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("HOME", home.to_path_buf()),
        ("XDG_CONFIG_HOME", home.join(".config")),
        // Codex keeps its configuration and sessions here.
        ("CODEX_HOME", home.join(".codex")),
        // Claude Code's configuration directory.
        ("CLAUDE_CONFIG_DIR", home.join(".claude")),
    ]
}

/// Token usage a resumed session had already reported before this attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionBaseline {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The parser for one attempt: a fresh one, or, for a CLI that reports the
/// whole session's totals when resumed (Codex), one that subtracts what the
/// session had already reported.
pub fn parser_for_attempt(
    format: Format,
    resumed: Option<SessionBaseline>,
) -> Box<dyn OutputParser> {
    match (format, resumed) {
        (Format::Codex, Some(b)) => {
            Box::new(CodexParser::resuming(b.input_tokens, b.output_tokens))
        }
        _ => parser_for(format),
    }
}
