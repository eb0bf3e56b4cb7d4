//! The output formats an agent profile can declare (`format = "claude"`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How an agent CLI writes its standard output, and so which parser reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Claude Code `--output-format stream-json --verbose` (also reads `--output-format json`).
    Claude,
    /// Codex CLI `exec --json`.
    Codex,
    /// Gemini CLI `--output-format stream-json`.
    Gemini,
    /// opencode `run --format json`.
    Opencode,
    /// aider `--no-pretty` plain text.
    Aider,
    /// Any other program: every line is text, the exit code decides.
    Text,
}

impl Format {
    /// Every format, in the order the documentation lists them.
    pub const ALL: [Format; 6] = [
        Format::Claude,
        Format::Codex,
        Format::Gemini,
        Format::Opencode,
        Format::Aider,
        Format::Text,
    ];

    /// The name used in `fleet.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Claude => "claude",
            Format::Codex => "codex",
            Format::Gemini => "gemini",
            Format::Opencode => "opencode",
            Format::Aider => "aider",
            Format::Text => "text",
        }
    }

    /// Paths the CLI keeps its own state in inside the working directory
    /// (gitignore-style patterns): never part of an attempt's commit, and
    /// added to the repository's `info/exclude` before an agent starts.
    /// aider writes `.aider.chat.history.md`, `.aider.input.history` and
    /// `.aider.tags.cache.v4/`.
    pub fn builtin_excludes(self) -> &'static [&'static str] {
        match self {
            Format::Aider => &[".aider*"],
            Format::Claude | Format::Codex | Format::Gemini | Format::Opencode | Format::Text => {
                &[]
            }
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format {0:?} (expected claude, codex, gemini, opencode, aider or text)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses a format name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
            let json = serde_json::to_string(&f).expect("serializes");
            assert_eq!(json, format!("\"{f}\""));
            assert_eq!(serde_json::from_str::<Format>(&json).ok(), Some(f));
        }
        assert_eq!("Claude".parse::<Format>(), Ok(Format::Claude));
        assert!("cursor".parse::<Format>().is_err());
    }
}
