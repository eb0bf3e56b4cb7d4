//! What the next attempt of a task is told about the previous one, and how
//! it is added to the task's prompt.

use serde::{Deserialize, Serialize};

/// Why a task is being run again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeedbackKind {
    /// The agent exited with an error.
    AgentFailed,
    /// The agent exited without changing anything.
    NoChanges,
    /// A verify command failed.
    VerifyFailed { command: String },
    /// Committing or verifying failed for a reason outside the agent's work.
    GateError,
    /// A reviewer asked for changes.
    Reviewer,
    /// The user moved the task from agent `from` to another one.
    Reassigned { from: String },
}

/// Feedback for the next attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The attempt the feedback is about.
    pub attempt: u32,
    pub kind: FeedbackKind,
    /// Already trimmed with [`trim_output`].
    pub text: String,
}

/// Most lines of failure output carried into a prompt.
pub const MAX_FEEDBACK_LINES: usize = 60;
/// Most bytes of failure output carried into a prompt.
pub const MAX_FEEDBACK_BYTES: usize = 4000;

/// Keeps the end of a long output (where errors usually are): at most
/// [`MAX_FEEDBACK_LINES`] lines and [`MAX_FEEDBACK_BYTES`] bytes, trimmed of
/// blank lines, with a marker saying how much was cut.
pub fn trim_output(output: &str) -> String {
    let lines: Vec<&str> = output.trim().lines().map(str::trim_end).collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut bytes = 0;
    for line in lines.iter().rev() {
        if kept.len() == MAX_FEEDBACK_LINES || bytes + line.len() + 1 > MAX_FEEDBACK_BYTES {
            break;
        }
        bytes += line.len() + 1;
        kept.push(line);
    }
    kept.reverse();
    let cut = lines.len() - kept.len();
    let mut text = String::new();
    if cut > 0 {
        text.push_str(&format!("[... {cut} earlier lines cut ...]\n"));
    }
    text.push_str(&kept.join("\n"));
    if kept.is_empty() && cut > 0 {
        // A single enormous line: keep its tail.
        let last = lines.last().copied().unwrap_or_default();
        let mut start = last.len().saturating_sub(MAX_FEEDBACK_BYTES);
        while !last.is_char_boundary(start) {
            start += 1;
        }
        text.push_str(&last[start..]);
    }
    text
}

impl Feedback {
    fn heading(&self) -> String {
        let n = self.attempt;
        match &self.kind {
            FeedbackKind::AgentFailed => format!("Attempt {n} failed. The agent reported:"),
            FeedbackKind::NoChanges => {
                format!(
                    "Attempt {n} ended without changing any file. Make the changes the task asks for."
                )
            }
            FeedbackKind::VerifyFailed { command } => {
                format!(
                    "Attempt {n} was committed, but the verify command `{command}` failed. Fix the problem; its output:"
                )
            }
            FeedbackKind::GateError => format!("Attempt {n} could not be verified:"),
            FeedbackKind::Reviewer => {
                format!("A reviewer looked at the result of attempt {n} and asks for changes:")
            }
            FeedbackKind::Reassigned { from } => format!(
                "This task was reassigned to you from agent `{from}` (attempt {n}). The worktree holds what it did so far:"
            ),
        }
    }
}

/// The prompt for the next attempt: the task's own prompt, then the feedback
/// with every line quoted with `> ` (so it can never be mistaken for an
/// instruction of a scripted agent).
pub fn compose_prompt(prompt: &str, feedback: Option<&Feedback>) -> String {
    let Some(fb) = feedback else {
        return prompt.to_owned();
    };
    let mut out = String::with_capacity(prompt.len() + fb.text.len() + 200);
    out.push_str(prompt.trim_end());
    out.push_str("\n\n");
    out.push_str(&fb.heading());
    for line in fb.text.lines() {
        out.push_str("\n> ");
        out.push_str(line);
    }
    out.push('\n');
    out
}

/// [`compose_prompt`] for an attempt that starts in a worktree holding the
/// work of attempt `verified`, which passed verification: the prompt says
/// so after the feedback, so the agent continues from it. When a new
/// attempt starts (request-changes, reassign, retry on verified work).
pub fn compose_prompt_after(
    prompt: &str,
    feedback: Option<&Feedback>,
    verified: Option<u32>,
) -> String {
    let mut out = compose_prompt(prompt, feedback);
    if let Some(n) = verified {
        if feedback.is_none() {
            out = out.trim_end().to_owned();
            out.push('\n');
        }
        out.push_str(&format!(
            "\nThe worktree holds the work of attempt {n}, which passed verification; continue from it.\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        assert_eq!(trim_output("\n  error: boom\n\n"), "error: boom");
    }

    #[test]
    fn long_output_keeps_its_tail_and_says_so() {
        let out: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let t = trim_output(&out);
        assert!(
            t.starts_with("[... 140 earlier lines cut ...]\nline 140\n"),
            "{t}"
        );
        assert!(t.ends_with("line 199"));
    }

    #[test]
    fn one_huge_line_is_cut_to_its_tail_on_a_char_boundary() {
        let out = "é".repeat(10_000);
        let t = trim_output(&out);
        assert!(t.len() < MAX_FEEDBACK_BYTES + 100);
        assert!(t.ends_with('é'));
    }

    #[test]
    fn feedback_is_quoted_after_the_prompt() {
        let fb = Feedback {
            attempt: 1,
            kind: FeedbackKind::VerifyFailed {
                command: "cargo test".into(),
            },
            text: "fail here\nrun this".into(),
        };
        let p = compose_prompt("write x\n", Some(&fb));
        assert_eq!(
            p,
            "write x\n\nAttempt 1 was committed, but the verify command `cargo test` failed. Fix the problem; its output:\n> fail here\n> run this\n"
        );
        assert_eq!(compose_prompt("write x", None), "write x");
    }

    #[test]
    fn a_prompt_after_verified_work_says_to_continue_from_it() {
        let fb = Feedback {
            attempt: 2,
            kind: FeedbackKind::Reviewer,
            text: "more tests".into(),
        };
        let p = compose_prompt_after("write x", Some(&fb), Some(2));
        assert!(
            p.ends_with("> more tests\n\nThe worktree holds the work of attempt 2, which passed verification; continue from it.\n"),
            "{p}"
        );
        assert_eq!(compose_prompt_after("write x", None, None), "write x");
    }
}
