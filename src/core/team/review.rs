//! The reviewer agent's verdict on a task's gated work: approve, or
//! changes requested with comments anchored to files and lines. The pure
//! parts of a review run: its prompt ([`review_prompt`]), its answer
//! ([`parse_verdict`], [`schema`]), what the agent is told of it
//! ([`feedback_text`]) and how it is shown ([`describe`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Changes,
}

/// A comment on one place of the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewComment {
    /// Path relative to the repository root.
    pub file: String,
    /// Line in the new version of the file (from 1); None: the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub text: String,
    /// Set when `file` is not among the files the diff changed (the
    /// comment is kept, and shown flagged).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_diff: bool,
}

/// One review of one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewVerdict {
    pub verdict: Verdict,
    /// The reviewer's summary, one paragraph.
    #[serde(default)]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<ReviewComment>,
    /// The attempt reviewed.
    pub attempt: u32,
    /// Which review round of the task this was (from 1).
    pub round: u32,
    /// The reviewer's profile.
    pub agent: String,
    /// When fan-out candidates are reviewed: the reviewer's rank of this one
    /// among its siblings (1 = best), if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
}

/// A verdict as the reviewer wrote it, before it is numbered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub verdict: Verdict,
    pub summary: String,
    pub comments: Vec<ReviewComment>,
}

impl Answer {
    /// The verdict on `attempt`, review `round`, by profile `agent`.
    pub fn into_verdict(self, attempt: u32, round: u32, agent: &str) -> ReviewVerdict {
        ReviewVerdict {
            verdict: self.verdict,
            summary: self.summary,
            comments: self.comments,
            attempt,
            round,
            agent: agent.to_owned(),
            rank: None,
        }
    }
}

/// The first sentence of every review prompt (the sim reviewer knows a
/// review prompt by it).
pub const PROMPT_OPENING: &str =
    "You are the reviewer of a task's work in a team of coding agents.";

/// The answer format the prompt asks for.
pub const ANSWER_FORMAT: &str = r#"{"verdict":"approve"|"changes","summary":"...","comments":[{"file":"src/a.rs","line":12,"text":"..."}]}"#;

/// The JSON Schema of the answer (Claude's `--json-schema`).
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "fleetdeck review verdict",
        "type": "object",
        "required": ["verdict", "summary"],
        "additionalProperties": false,
        "properties": {
            "verdict": { "enum": ["approve", "changes"] },
            "summary": { "type": "string" },
            "comments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["file", "text"],
                    "additionalProperties": false,
                    "properties": {
                        "file": { "type": "string" },
                        "line": { "type": "integer", "minimum": 1 },
                        "text": { "type": "string" }
                    }
                }
            }
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    verdict: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    comments: Vec<RawComment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComment {
    file: String,
    #[serde(default)]
    line: Option<u32>,
    text: String,
}

/// The verdict in the reviewer's answer `text`: the last ```json block, or
/// the whole text, or the outermost `{...}` in it. Comments on files not
/// in `diff_files` are kept and flagged ([`ReviewComment::outside_diff`]).
/// The error says exactly what is wrong (for the re-ask).
pub fn parse_verdict(text: &str, diff_files: &[String]) -> Result<Answer, String> {
    let json = answer_json(text).ok_or_else(|| {
        format!("the answer holds no JSON object; answer with exactly {ANSWER_FORMAT}")
    })?;
    let raw: RawAnswer = serde_json::from_str(json)
        .map_err(|e| format!("the verdict is not valid: {e} (expected {ANSWER_FORMAT})"))?;
    let verdict = match raw.verdict.trim() {
        "approve" => Verdict::Approve,
        "changes" => Verdict::Changes,
        other => {
            return Err(format!(
                "\"verdict\" must be \"approve\" or \"changes\", not \"{other}\""
            ));
        }
    };
    let mut comments = Vec::new();
    for (n, c) in raw.comments.into_iter().enumerate() {
        let file = c.file.trim().trim_start_matches("./").to_owned();
        if file.is_empty() || c.text.trim().is_empty() {
            return Err(format!(
                "comment {} needs a \"file\" and a \"text\"; both must not be empty",
                n + 1
            ));
        }
        if c.line == Some(0) {
            return Err(format!(
                "comment {} on {file}: \"line\" counts from 1 (leave it out for the whole file)",
                n + 1
            ));
        }
        comments.push(ReviewComment {
            outside_diff: !diff_files.contains(&file),
            file,
            line: c.line,
            text: c.text.trim().to_owned(),
        });
    }
    if verdict == Verdict::Changes && comments.is_empty() && raw.summary.trim().is_empty() {
        return Err(
            "a \"changes\" verdict needs comments or a summary saying what to change".into(),
        );
    }
    Ok(Answer {
        verdict,
        summary: raw.summary.trim().to_owned(),
        comments,
    })
}

/// Where the JSON object of an answer is.
fn answer_json(text: &str) -> Option<&str> {
    let mut last_block = None;
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map_or(after.len(), |n| n + 1);
        let body = &after[body_start..];
        let Some(end) = body.find("```") else {
            break;
        };
        if body[..end].trim_start().starts_with('{') {
            last_block = Some(body[..end].trim());
        }
        rest = &body[end + 3..];
    }
    if last_block.is_some() {
        return last_block;
    }
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        return Some(trimmed);
    }
    let (start, end) = (text.find('{')?, text.rfind('}')?);
    (start < end).then(|| &text[start..=end])
}

/// One line per comment, `path:line: text` (`path: text` for a whole
/// file), then the summary: what the agent is told when the reviewer asks
/// for changes.
pub fn feedback_text(verdict: &ReviewVerdict) -> String {
    let mut out: Vec<String> = verdict.comments.iter().map(comment_line).collect();
    if !verdict.summary.trim().is_empty() {
        out.push(format!("Summary: {}", verdict.summary.trim()));
    }
    out.join("\n")
}

fn comment_line(c: &ReviewComment) -> String {
    match c.line {
        Some(line) => format!("{}:{line}: {}", c.file, c.text),
        None => format!("{}: {}", c.file, c.text),
    }
}

/// The verdict for `fleetdeck log`, Info and the cockpit: a headline, the
/// summary, one line per comment (flagged when outside the diff).
pub fn describe(v: &ReviewVerdict) -> Vec<String> {
    let word = match v.verdict {
        Verdict::Approve => "approved",
        Verdict::Changes => "changes requested",
    };
    let mut out = vec![format!(
        "review round {} of attempt {} by {}: {word}",
        v.round, v.attempt, v.agent
    )];
    if let Some(rank) = v.rank {
        out[0].push_str(&format!(" (ranked {rank})"));
    }
    if !v.summary.trim().is_empty() {
        out.push(format!("  {}", v.summary.trim()));
    }
    for c in &v.comments {
        let flag = if c.outside_diff {
            " (file not in the diff)"
        } else {
            ""
        };
        out.push(format!("  {}{flag}", comment_line(c)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<String> {
        vec!["src/a.rs".into()]
    }

    #[test]
    fn a_verdict_is_read_from_a_json_block_bare_json_or_prose() {
        let block = "Looks fine.\n```json\n{\"verdict\":\"approve\",\"summary\":\"ok\"}\n```\n";
        let a = parse_verdict(block, &files()).unwrap();
        assert_eq!((a.verdict, a.summary.as_str()), (Verdict::Approve, "ok"));
        let bare = r#"{"verdict":"changes","summary":"fix","comments":[{"file":"./src/a.rs","line":12,"text":"handle zero"}]}"#;
        let a = parse_verdict(bare, &files()).unwrap();
        assert_eq!(a.verdict, Verdict::Changes);
        assert_eq!(a.comments[0].file, "src/a.rs");
        assert_eq!(a.comments[0].line, Some(12));
        assert!(!a.comments[0].outside_diff);
        let prose = r#"My verdict: {"verdict":"approve","summary":""} thanks"#;
        assert_eq!(
            parse_verdict(prose, &files()).unwrap().verdict,
            Verdict::Approve
        );
    }

    #[test]
    fn a_comment_on_a_file_outside_the_diff_is_kept_and_flagged() {
        let text = r#"{"verdict":"changes","summary":"","comments":[{"file":"README.md","text":"mention div"}]}"#;
        let a = parse_verdict(text, &files()).unwrap();
        assert!(a.comments[0].outside_diff);
        let v = a.into_verdict(1, 1, "rev");
        assert_eq!(
            describe(&v),
            [
                "review round 1 of attempt 1 by rev: changes requested",
                "  README.md: mention div (file not in the diff)"
            ]
        );
    }

    #[test]
    fn bad_answers_are_refused_with_what_is_wrong() {
        let e = parse_verdict("no json here", &files()).unwrap_err();
        assert!(e.contains("holds no JSON object"), "{e}");
        let e = parse_verdict("```json\n{\"verdict\": \"approve\",,}\n```", &files()).unwrap_err();
        assert!(e.contains("line 1 column"), "{e}");
        let e = parse_verdict(r#"{"verdict":"maybe"}"#, &files()).unwrap_err();
        assert!(e.contains("not \"maybe\""), "{e}");
        let e = parse_verdict(r#"{"verdict":"changes"}"#, &files()).unwrap_err();
        assert!(e.contains("needs comments or a summary"), "{e}");
        let e = parse_verdict(
            r#"{"verdict":"changes","comments":[{"file":"src/a.rs","line":0,"text":"x"}]}"#,
            &files(),
        )
        .unwrap_err();
        assert!(e.contains("counts from 1"), "{e}");
        let e = parse_verdict(r#"{"verdict":"approve","score":3}"#, &files()).unwrap_err();
        assert!(e.contains("unknown field `score`"), "{e}");
    }

    #[test]
    fn the_agent_is_told_path_line_text_then_the_summary() {
        let v = ReviewVerdict {
            verdict: Verdict::Changes,
            summary: "Close, but zero is not handled.".into(),
            comments: vec![
                ReviewComment {
                    file: "src/a.rs".into(),
                    line: Some(12),
                    text: "return an error for zero".into(),
                    outside_diff: false,
                },
                ReviewComment {
                    file: "src/b.rs".into(),
                    line: None,
                    text: "add a test".into(),
                    outside_diff: false,
                },
            ],
            attempt: 1,
            round: 1,
            agent: "rev".into(),
            rank: Some(2),
        };
        assert_eq!(
            feedback_text(&v),
            "src/a.rs:12: return an error for zero\nsrc/b.rs: add a test\nSummary: Close, but zero is not handled."
        );
        let shown = describe(&v);
        assert_eq!(
            shown[0],
            "review round 1 of attempt 1 by rev: changes requested (ranked 2)"
        );
        assert_eq!(shown[1], "  Close, but zero is not handled.");
        assert_eq!(shown[2], "  src/a.rs:12: return an error for zero");
    }

    #[test]
    fn the_schema_names_both_verdicts() {
        let s = schema();
        assert_eq!(
            s["properties"]["verdict"]["enum"],
            json!(["approve", "changes"])
        );
    }
}
