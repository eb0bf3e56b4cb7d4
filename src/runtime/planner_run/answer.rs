//! Reading a planner round's output: its events (session, messages,
//! usage), the plan in it, what the user is shown of a refused answer, and
//! the structured-output options per format.

use std::path::Path;

use super::{ANSWER_CAP, Round};
use crate::agent::AgentEvent;
use crate::core::planner;
use crate::core::{Spend, Task};

pub(crate) fn spend_of(round: &Round) -> Spend {
    Spend {
        usd: round.usd,
        tokens: round.input_tokens + round.output_tokens,
    }
}

pub(crate) fn take_event(
    event: AgentEvent,
    round: &mut Round,
    price: Option<crate::config::Price>,
) {
    match event {
        AgentEvent::Session { id, .. } => round.session = Some(id),
        AgentEvent::Message { text } => round.messages.push(text),
        AgentEvent::Finished { summary, .. } if !summary.trim().is_empty() => {
            round.messages.push(summary);
        }
        AgentEvent::Usage {
            input_tokens,
            output_tokens,
            cost_usd,
        } if crate::agent::check_usage(&AgentEvent::Usage {
            input_tokens,
            output_tokens,
            cost_usd,
        })
        .is_ok() =>
        {
            round.input_tokens = input_tokens;
            round.output_tokens = output_tokens;
            round.usd = cost_usd
                .or_else(|| price.map(|p| p.cost(input_tokens, output_tokens)))
                .unwrap_or(0.0);
        }
        _ => {}
    }
}

/// The extra arguments that ask a CLI for output following the plan schema:
/// Claude's `--json-schema <JSON>`, Codex's `--output-schema <file>`;
/// nothing for the others (the final message's ```json block is read).
pub(super) fn structured_args(format: crate::agent::Format, schema_file: &Path) -> Vec<String> {
    use crate::agent::Format;
    match format {
        Format::Claude => vec![
            "--json-schema".into(),
            serde_json::to_string(&planner::schema()).unwrap_or_default(),
        ],
        Format::Codex => vec![
            "--output-schema".into(),
            schema_file.to_string_lossy().into_owned(),
        ],
        _ => Vec::new(),
    }
}

/// The plan in a round's output: from the whole stdout (a CLI envelope, a
/// JSON stream, or a plain answer), else from its messages. The error is
/// the most telling one: a broken plan over no plan at all.
pub(super) fn read_answer(
    stdout: &str,
    messages: &[String],
) -> Result<planner::PlanAnswer, planner::AnswerError> {
    let first = match planner::extract(stdout) {
        Ok(answer) => return Ok(answer),
        Err(e) => e,
    };
    match planner::extract(&messages.join("\n\n")) {
        Ok(answer) => Ok(answer),
        Err(e) if first == planner::AnswerError::NoPlan => Err(e),
        Err(_) => Err(first),
    }
}

/// What the user is shown of a refused round: its messages, or its stdout.
pub(super) fn shown_answer(round: &Round) -> String {
    let text = round.messages.join("\n\n");
    if text.trim().is_empty() {
        round.stdout.clone()
    } else {
        text
    }
}

/// `text`, cut at [`ANSWER_CAP`] bytes (on a character boundary) with a note.
pub(super) fn cap(text: &str) -> String {
    if text.len() <= ANSWER_CAP {
        return text.to_owned();
    }
    let mut end = ANSWER_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[... {} more bytes cut]",
        &text[..end],
        text.len() - end
    )
}

/// The roles of fleet.toml, then any other role of the plan, in plan order.
pub(super) fn roles_of(configured: &[String], tasks: &[Task]) -> Vec<String> {
    let mut roles: Vec<String> = configured.to_vec();
    for role in tasks.iter().filter_map(|t| t.spec.role.as_deref()) {
        if !roles.iter().any(|r| r == role) {
            roles.push(role.to_owned());
        }
    }
    roles
}

pub(super) fn list_paths(paths: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut shown: Vec<String> = paths.iter().take(SHOWN).map(|p| format!("`{p}`")).collect();
    if paths.len() > SHOWN {
        shown.push(format!("{} more", paths.len() - SHOWN));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Format;

    const PLAN: &str = r#"{"tasks":[{"id":"a","title":"A","prompt":"p","agent":"sim"}]}"#;

    #[test]
    fn the_answer_is_read_from_stdout_or_else_from_the_messages() {
        assert_eq!(read_answer(PLAN, &[]).unwrap().tasks[0].id, "a");
        let prose = format!("Here it is:\n```json\n{PLAN}\n```\n");
        let stream = "{\"type\":\"system\"}\nnot json at all\n";
        let from_messages = read_answer(stream, &[prose]).unwrap();
        assert_eq!(from_messages.tasks[0].id, "a");
    }

    #[test]
    fn a_broken_plan_is_reported_over_no_plan() {
        let err = read_answer("```json\n{\"tasks\": [\n```\n", &["hello".into()]).unwrap_err();
        assert!(matches!(err, planner::AnswerError::Syntax { .. }), "{err}");
        let err = read_answer("nothing here", &["```json\n{oops\n```".into()]).unwrap_err();
        assert!(matches!(err, planner::AnswerError::Syntax { .. }), "{err}");
    }

    #[test]
    fn structured_output_options_per_format() {
        let file = Path::new("/f/scratch/plan-schema.json");
        let claude = structured_args(Format::Claude, file);
        assert_eq!(claude[0], "--json-schema");
        let schema: serde_json::Value = serde_json::from_str(&claude[1]).unwrap();
        assert_eq!(schema, planner::schema());
        assert_eq!(
            structured_args(Format::Codex, file),
            ["--output-schema", "/f/scratch/plan-schema.json"]
        );
        assert!(structured_args(Format::Gemini, file).is_empty());
        assert!(structured_args(Format::Text, file).is_empty());
    }

    #[test]
    fn a_long_answer_is_capped_on_a_character_boundary() {
        let long = "é".repeat(ANSWER_CAP);
        let capped = cap(&long);
        assert!(capped.len() < ANSWER_CAP + 40);
        assert!(capped.ends_with("more bytes cut]"));
        assert_eq!(cap("short"), "short");
    }
}
