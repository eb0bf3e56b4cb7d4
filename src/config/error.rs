//! Configuration errors that point at the place to fix.

use std::fmt;
use std::path::PathBuf;

/// One problem in `fleet.toml`, with its position when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub col: Option<usize>,
    pub message: String,
}

/// Why `fleet.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Syntax errors, unknown keys, wrong types and plan errors, each with its position.
    #[error("{}", render(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// True when the file simply does not exist.
    pub fn is_missing(&self) -> bool {
        matches!(self, ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

fn render(path: &std::path::Path, problems: &[Problem]) -> String {
    let name = path.display();
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&p.at(&name));
    }
    out
}

impl Problem {
    /// `path:line:col: message`, leaving out what is unknown.
    pub fn at(&self, path: &impl fmt::Display) -> String {
        match (self.line, self.col) {
            (Some(l), Some(c)) => format!("{path}:{l}:{c}: {}", self.message),
            (Some(l), None) => format!("{path}:{l}: {}", self.message),
            _ => format!("{path}: {}", self.message),
        }
    }
}
