//! The output formats fleetdeck can parse.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How an agent profile's stdout is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Claude,
    Codex,
    Gemini,
    Opencode,
    Aider,
    Text,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Claude,
        Format::Codex,
        Format::Gemini,
        Format::Opencode,
        Format::Aider,
        Format::Text,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Claude => "claude",
            Format::Codex => "codex",
            Format::Gemini => "gemini",
            Format::Opencode => "opencode",
            Format::Aider => "aider",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format `{s}` (one of claude, codex, gemini, opencode, aider, text)"
                )
            })
    }
}
