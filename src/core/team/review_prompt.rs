//! The reviewer agent's prompt, pure: the task (title, prompt, acceptance
//! criteria), its diff against its base (bounded, with what was cut), the
//! team context in its scope, the rest of the plan for the coherence
//! check, the round, and the answer format. Also the re-ask after a bad
//! answer.

use super::review::{ANSWER_FORMAT, PROMPT_OPENING};

/// Most characters of the diff in a review prompt when `[review]
/// context_chars` does not say.
pub const DEFAULT_DIFF_CHARS: usize = 60_000;

/// Another task of the plan, as the reviewer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanLine {
    pub id: String,
    pub title: String,
    pub role: Option<String>,
    /// Its status name (`queued`, `done`...).
    pub status: String,
}

/// Everything a review prompt says.
#[derive(Debug, Clone)]
pub struct ReviewInput<'a> {
    pub task: &'a str,
    pub title: &'a str,
    pub prompt: &'a str,
    pub role: Option<&'a str>,
    pub acceptance: &'a [String],
    /// The unified diff of the task's work against its base.
    pub diff: &'a str,
    /// Most characters of the diff shown.
    pub diff_chars: usize,
    /// `core::team::context::prompt_section` of the entries in the task's scope.
    pub context: Option<String>,
    /// The other tasks of the plan.
    pub plan: &'a [PlanLine],
    pub attempt: u32,
    pub round: u32,
    pub rounds: u32,
}

/// The review prompt.
pub fn review_prompt(input: &ReviewInput<'_>) -> String {
    let mut out = format!(
        "{PROMPT_OPENING} Review attempt {} of task `{}` (review round {} of {}). \
         You are read-only: do not change any file (changes are discarded). \
         Check that the work does what the task and its acceptance criteria ask, \
         that it honours the team's contracts and decisions below, and that its names \
         and conventions are consistent with the rest of the plan.\n\n",
        input.attempt,
        input.task,
        input.round,
        input.rounds.max(input.round)
    );
    out.push_str(&format!("## Task: {}\n\n", input.title));
    if let Some(role) = input.role {
        out.push_str(&format!("Role: {role}\n\n"));
    }
    for line in input.prompt.trim().lines() {
        out.push_str("> ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("\n## Acceptance criteria\n\n");
    if input.acceptance.is_empty() {
        out.push_str("(none given: judge by the task's prompt)\n");
    }
    for a in input.acceptance {
        out.push_str(&format!("- {}\n", a.trim()));
    }
    out.push_str("\n## The diff against the task's base\n\n");
    out.push_str(&bounded_diff(input.diff, input.diff_chars));
    if let Some(context) = &input.context {
        out.push('\n');
        out.push_str(context.trim_end());
        out.push('\n');
    }
    out.push_str("\n## The rest of the plan\n\n");
    if input.plan.is_empty() {
        out.push_str("(no other tasks)\n");
    }
    for t in input.plan {
        let role = t
            .role
            .as_deref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        out.push_str(&format!("- `{}`{role} {} ({})\n", t.id, t.title, t.status));
    }
    out.push_str(&format!(
        "\n## Your answer\n\nAnswer with one JSON object and nothing else, in a ```json block:\n{ANSWER_FORMAT}\n\
         \"approve\" when the work is ready for the human reviewer; \"changes\" when the agent must \
         change something, with one comment per problem anchored to the file (path from the \
         repository root) and the line in the new version of the file. The agent gets your \
         comments as they are: say what to change.\n"
    ));
    out
}

/// The diff, cut at `bound` characters on a line boundary, with a note of
/// what was cut (and the files it touched).
fn bounded_diff(diff: &str, bound: usize) -> String {
    if diff.trim().is_empty() {
        return "(the diff is empty)\n".into();
    }
    let mut out = String::from("```diff\n");
    let mut used = 0;
    let mut cut_lines = 0;
    let mut cut_files: Vec<&str> = Vec::new();
    for line in diff.lines() {
        let n = line.chars().count() + 1;
        if cut_lines == 0 && used + n <= bound {
            used += n;
            out.push_str(line);
            out.push('\n');
            continue;
        }
        cut_lines += 1;
        if let Some(file) = line.strip_prefix("+++ b/")
            && !cut_files.contains(&file)
        {
            cut_files.push(file);
        }
    }
    out.push_str("```\n");
    if cut_lines > 0 {
        out.push_str(&format!(
            "[the diff was cut after {bound} characters: {cut_lines} more lines not shown"
        ));
        if !cut_files.is_empty() {
            out.push_str(&format!(", in files {}", cut_files.join(", ")));
        }
        out.push_str("; read them in the worktree]\n");
    }
    out
}

/// The re-ask after an answer that was not a valid verdict: the exact error.
pub fn reask_prompt(error: &str) -> String {
    format!(
        "{PROMPT_OPENING} Your last answer was not a valid verdict: {error}\n\
         Answer again with one JSON object and nothing else, in a ```json block:\n{ANSWER_FORMAT}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(diff: &'a str, plan: &'a [PlanLine], acceptance: &'a [String]) -> ReviewInput<'a> {
        ReviewInput {
            task: "api",
            title: "Build the API",
            prompt: "write src/api.rs\nwith a div function",
            role: Some("implementer"),
            acceptance,
            diff,
            diff_chars: 200,
            context: Some("## Team context\n- [contract] errors are JSON (user)\n".into()),
            plan,
            attempt: 2,
            round: 1,
            rounds: 2,
        }
    }

    #[test]
    fn the_prompt_says_the_task_its_criteria_diff_context_plan_round_and_format() {
        let plan = [PlanLine {
            id: "api-test".into(),
            title: "Test the API".into(),
            role: Some("tester".into()),
            status: "queued".into(),
        }];
        let acceptance = ["div by zero is an error".to_owned()];
        let diff = "diff --git a/src/api.rs b/src/api.rs\n+++ b/src/api.rs\n+pub fn div() {}\n";
        let p = review_prompt(&input(diff, &plan, &acceptance));
        assert!(p.starts_with(PROMPT_OPENING), "{p}");
        assert!(
            p.contains("attempt 2 of task `api` (review round 1 of 2)"),
            "{p}"
        );
        assert!(p.contains("## Task: Build the API\n\nRole: implementer\n\n> write src/api.rs\n> with a div function\n"), "{p}");
        assert!(p.contains("- div by zero is an error\n"), "{p}");
        assert!(
            p.contains("```diff\ndiff --git a/src/api.rs b/src/api.rs\n"),
            "{p}"
        );
        assert!(p.contains("- [contract] errors are JSON (user)"), "{p}");
        assert!(
            p.contains("- `api-test` [tester] Test the API (queued)\n"),
            "{p}"
        );
        assert!(p.contains(ANSWER_FORMAT), "{p}");
        assert!(!p.contains("was cut"), "{p}");
    }

    #[test]
    fn a_long_diff_is_cut_on_a_line_and_the_prompt_says_what_was_cut() {
        let mut diff = String::from("+++ b/src/a.rs\n");
        diff.push_str(&"+a line of code\n".repeat(20));
        diff.push_str("+++ b/src/b.rs\n+more\n");
        let p = review_prompt(&input(&diff, &[], &[]));
        assert!(
            p.contains("(none given: judge by the task's prompt)"),
            "{p}"
        );
        assert!(p.contains("(no other tasks)"), "{p}");
        assert!(
            p.contains("[the diff was cut after 200 characters: 11 more lines not shown, in files src/b.rs; read them in the worktree]"),
            "{p}"
        );
        let shown = p.split("```diff\n").nth(1).unwrap_or_default();
        let shown = shown.split("```").next().unwrap_or_default();
        assert!(shown.chars().count() <= 200, "{shown}");
        assert!(shown.ends_with('\n'));
    }

    #[test]
    fn the_reask_quotes_the_exact_error() {
        let r = reask_prompt("expected `,` at line 1 column 9");
        assert!(r.starts_with(PROMPT_OPENING));
        assert!(r.contains("expected `,` at line 1 column 9"));
        assert!(r.contains(ANSWER_FORMAT));
    }
}
