//! The simulated reviewer: when the sim agent's script is a review prompt
//! (`core::team::review_prompt::review_prompt`, or its re-ask), it answers
//! with a verdict in one ```json block (and as `structured_output` with
//! `--json-schema`), from directives in the reviewed task's prompt (quoted
//! in the review prompt with `> `):
//! - `sim-review changes FILE LINE TEXT`: changes on FILE at LINE in round
//!   1, approve in later rounds;
//! - `sim-review approve`: approve;
//! - `sim-review bad-json`: an answer that is not JSON, every time (also
//!   to a re-ask that repeats the prompt; a re-ask alone in a resumed
//!   session, which does not show the task, is approved);
//! - `sim-review sleep MS`: wait that long before answering (with any of
//!   the others);
//! - `sim-review scribble PATH`: write PATH in the reviewer's working
//!   directory first (a reviewer that does not keep to read-only).
//!
//! Without a directive the sim approves.

use std::io;

use serde_json::{Value, json};

use super::emit::Emitter;
use crate::core::team::review::PROMPT_OPENING;

/// Whether the sim answers `script` as a reviewer.
pub(super) fn is_review(script: &str) -> bool {
    script.starts_with(PROMPT_OPENING)
}

/// What the reviewed task's prompt asks of the sim reviewer.
#[derive(Debug, Clone, PartialEq)]
enum Directive {
    Approve,
    Changes {
        file: String,
        line: u32,
        text: String,
    },
    BadJson,
}

fn directive(script: &str) -> Directive {
    for line in script.lines() {
        let Some(rest) = line
            .trim_start_matches('>')
            .trim()
            .strip_prefix("sim-review ")
        else {
            continue;
        };
        let mut words = rest.split_whitespace();
        match words.next() {
            Some("sleep" | "scribble") => continue,
            Some("approve") => return Directive::Approve,
            Some("bad-json") => return Directive::BadJson,
            Some("changes") => {
                let file = words.next().unwrap_or("README.md").to_owned();
                let line = words.next().and_then(|l| l.parse().ok()).unwrap_or(1);
                let text = words.collect::<Vec<_>>().join(" ");
                return Directive::Changes { file, line, text };
            }
            _ => {}
        }
    }
    Directive::Approve
}

/// The review round the prompt names ("review round N of M").
fn round(script: &str) -> u32 {
    script
        .split("review round ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The verdict for `script`: None for a bad answer.
fn verdict(script: &str) -> Option<Value> {
    match directive(script) {
        Directive::BadJson => None,
        Directive::Changes { file, line, text } if round(script) == 1 => Some(json!({
            "verdict": "changes",
            "summary": "Changes requested by the sim reviewer.",
            "comments": [{ "file": file, "line": line, "text": text }],
        })),
        _ => Some(json!({ "verdict": "approve", "summary": "Looks good to the sim reviewer." })),
    }
}

/// How long `sim-review sleep MS` asks to wait.
fn sleep_ms(script: &str) -> Option<u64> {
    script.lines().find_map(|l| {
        let rest = l
            .trim_start_matches('>')
            .trim()
            .strip_prefix("sim-review sleep ")?;
        rest.trim().parse().ok()
    })
}

/// The path `sim-review scribble PATH` writes.
fn scribble(script: &str) -> Option<&str> {
    script.lines().find_map(|l| {
        let rest = l
            .trim_start_matches('>')
            .trim()
            .strip_prefix("sim-review scribble ")?;
        rest.split_whitespace().next()
    })
}

/// Answers a review prompt.
pub(super) fn run(script: &str, json_schema: bool, em: &mut Emitter<'_>) -> io::Result<()> {
    if let Some(path) = scribble(script)
        && let Err(e) = std::fs::write(path, "the reviewer was here\n")
    {
        em.text(&format!("cannot write {path}: {e}"))?;
    }
    if let Some(ms) = sleep_ms(script) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    em.add_cost(0.002);
    match verdict(script) {
        None => {
            em.text("Verdict: {\"verdict\": approve, oops")?;
            em.result(None)
        }
        Some(v) => {
            em.text(&format!("```json\n{v}\n```"))?;
            em.result_with(None, Some(v).filter(|_| json_schema))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(task: &str, round: u32) -> String {
        let quoted: String = task.lines().map(|l| format!("> {l}\n")).collect();
        format!(
            "{PROMPT_OPENING} Review attempt 1 of task `a` (review round {round} of 2).\n\n## Task: A\n\n{quoted}"
        )
    }

    #[test]
    fn the_directive_in_the_task_decides_the_verdict_and_its_round() {
        let p = prompt(
            "write src/a.rs x\nsim-review changes src/a.rs 3 handle zero",
            1,
        );
        assert!(is_review(&p));
        let v = verdict(&p).unwrap();
        assert_eq!(v["verdict"], "changes");
        assert_eq!(
            v["comments"][0],
            json!({"file": "src/a.rs", "line": 3, "text": "handle zero"})
        );
        let later = prompt("sim-review changes src/a.rs 3 handle zero", 2);
        assert_eq!(verdict(&later).unwrap()["verdict"], "approve");
        assert!(verdict(&prompt("sim-review bad-json", 1)).is_none());
        assert_eq!(
            verdict(&prompt("just do it", 1)).unwrap()["verdict"],
            "approve"
        );
        assert!(!is_review("write a.txt hello"));
        let slow = prompt("sim-review sleep 20\nsim-review changes a.rs 2 x", 1);
        assert_eq!(sleep_ms(&slow), Some(20));
        assert_eq!(verdict(&slow).unwrap()["verdict"], "changes");
        assert_eq!(
            scribble(&prompt("sim-review scribble notes.md", 1)),
            Some("notes.md")
        );
    }
}
