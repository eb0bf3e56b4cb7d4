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
    /// The reviewer agent (`[review] agent`) asked for changes: one
    /// `path:line: text` line per comment, then its summary.
    Review,
    /// The user moved the task from agent `from` to another one.
    Reassigned { from: String },
    /// The running attempt was stopped to tell the agent something (a
    /// nudge): its session is resumed with the text where it can be.
    Nudged,
    /// Updating the task onto the target tip conflicted in `files`: the
    /// worktree holds them with conflict markers (see [`conflict_text`]).
    Conflict { files: Vec<String> },
    /// The task is a member of group `group`, whose work was merged with
    /// the other members' onto the integration branch: the group's verify
    /// command `command` failed there and the failure is about this
    /// member's work, or (no command) its work conflicted with theirs.
    Group {
        group: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command: Option<String>,
    },
}

/// A commit of the target that changed a conflicting file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictChange {
    /// The commit (hex).
    pub commit: String,
    /// The task whose merge it is (its `Fleet-Task` trailer), if any.
    pub task: Option<String>,
    /// Its subject line.
    pub subject: String,
}

/// A file an update could not merge, as the git layer found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictFile {
    pub path: String,
    /// Target commits that changed it since the task's old base, newest first.
    pub changed_by: Vec<ConflictChange>,
    /// The target's diff of the file since the old base (cut).
    pub target_diff: String,
}

/// The feedback text of a conflict: for each file, which tasks (title and
/// prompt summary, from `describe`: a task id to its title and prompt) or
/// commits changed it on the target, and the target's diff there.
/// Called when an update ends in a conflict.
pub fn conflict_text(
    files: &[ConflictFile],
    describe: impl Fn(&str) -> Option<(String, String)>,
) -> String {
    let mut out = String::new();
    for f in files {
        out.push_str(&format!("{}:\n", f.path));
        if f.changed_by.is_empty() {
            out.push_str("  changed on the target\n");
        }
        for c in &f.changed_by {
            let short = &c.commit[..c.commit.len().min(10)];
            match c.task.as_deref().map(|t| (t, describe(t))) {
                Some((task, Some((title, prompt)))) => out.push_str(&format!(
                    "  changed by task `{task}` \"{title}\" ({short}): {}\n",
                    prompt_summary(&prompt)
                )),
                Some((task, None)) => out.push_str(&format!(
                    "  changed by task `{task}` ({short}): {}\n",
                    c.subject
                )),
                None => out.push_str(&format!("  changed by commit {short}: {}\n", c.subject)),
            }
        }
        if !f.target_diff.trim().is_empty() {
            out.push_str("  what the target changed there:\n");
            for line in f.target_diff.lines() {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.trim_end().to_owned()
}

/// The first line of a prompt, at most 100 characters.
fn prompt_summary(prompt: &str) -> String {
    let line = prompt
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > 100 {
        format!("{}...", line.chars().take(100).collect::<String>())
    } else {
        line.to_owned()
    }
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
            FeedbackKind::Review => format!(
                "The reviewer agent looked at the result of attempt {n} and asks for changes (file:line: comment):"
            ),
            FeedbackKind::Reassigned { from } => format!(
                "This task was reassigned to you from agent `{from}` (attempt {n}). The worktree holds what it did so far:"
            ),
            FeedbackKind::Nudged => format!(
                "Attempt {n} was stopped to tell you this; the worktree holds what it did so far, carry on from there:"
            ),
            FeedbackKind::Conflict { files } => format!(
                "The work of attempt {n} was brought onto the target branch's latest commit, and these files conflict: {}. \
                 The worktree holds them with conflict markers (<<<<<<<, =======, >>>>>>>); everything else is merged. \
                 Resolve each conflict so that both the target's changes and this task's work are kept, and remove every marker. \
                 What the target changed there:",
                files.join(", ")
            ),
            FeedbackKind::Group {
                group,
                command: Some(command),
            } => format!(
                "Attempt {n} passed its own gate and was merged with the other members of group `{group}`, but the group's verify command `{command}` failed on the merged work, and the failure is about your part. Fix it; its output:"
            ),
            FeedbackKind::Group {
                group,
                command: None,
            } => format!(
                "Attempt {n} passed its own gate, but merging it with the other members of group `{group}` conflicts:"
            ),
        }
    }

    /// The heading and the quoted text, without the task's prompt: what a
    /// resumed session is told.
    pub fn message(&self) -> String {
        let mut out = self.heading();
        for line in self.text.lines() {
            out.push_str("\n> ");
            out.push_str(line);
        }
        out.push('\n');
        out
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
    out.push_str(&fb.message());
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
    fn conflict_feedback_names_files_tasks_and_the_target_change() {
        let files = vec![ConflictFile {
            path: "src/a.rs".into(),
            changed_by: vec![
                ConflictChange {
                    commit: "0123456789abcdef".into(),
                    task: Some("login".into()),
                    subject: "Merge fleet/login".into(),
                },
                ConflictChange {
                    commit: "fedcba9876543210".into(),
                    task: None,
                    subject: "fix typo".into(),
                },
            ],
            target_diff: "-old\n+new".into(),
        }];
        let text = conflict_text(&files, |t| {
            (t == "login").then(|| {
                (
                    "Add a login".to_owned(),
                    "Write the login page\nmore".to_owned(),
                )
            })
        });
        assert_eq!(
            text,
            "src/a.rs:\n  changed by task `login` \"Add a login\" (0123456789): Write the login page\n  changed by commit fedcba9876: fix typo\n  what the target changed there:\n    -old\n    +new"
        );
        let fb = Feedback {
            attempt: 2,
            kind: FeedbackKind::Conflict {
                files: vec!["src/a.rs".into()],
            },
            text,
        };
        let p = compose_prompt("do it", Some(&fb));
        assert!(p.contains("these files conflict: src/a.rs"), "{p}");
        assert!(p.contains("conflict markers"), "{p}");
        assert!(p.contains("\n>   changed by task `login`"), "{p}");
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
