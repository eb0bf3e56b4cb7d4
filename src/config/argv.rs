//! Agent command templates: placeholders substituted per argument, never through a shell.

/// The placeholders an agent `command` may use.
pub const PLACEHOLDERS: [&str; 5] = ["prompt", "task", "attempt", "worktree", "session"];

/// Values for one attempt.
#[derive(Debug, Clone, Default)]
pub struct ArgvVars<'a> {
    pub prompt: &'a str,
    pub task: &'a str,
    pub attempt: u32,
    pub worktree: &'a str,
    /// The agent session to resume, if any (empty otherwise).
    pub session: &'a str,
}

/// Substitutes the placeholders in every argument. An argument is never split
/// or interpreted: a prompt full of quotes and `$(...)` stays one argument.
pub fn render_argv(template: &[String], vars: &ArgvVars) -> Vec<String> {
    template.iter().map(|arg| render_arg(arg, vars)).collect()
}

fn render_arg(arg: &str, vars: &ArgvVars) -> String {
    if !arg.contains('{') {
        return arg.to_owned();
    }
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| (&after[..close], close)) {
            Some((name, close)) if PLACEHOLDERS.contains(&name) => {
                match name {
                    "prompt" => out.push_str(vars.prompt),
                    "task" => out.push_str(vars.task),
                    "attempt" => out.push_str(&vars.attempt.to_string()),
                    "worktree" => out.push_str(vars.worktree),
                    _ => out.push_str(vars.session),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first `{word}` in `arg` whose word is not a known placeholder.
/// Braces that do not enclose a plain word (JSON, shell) are left alone.
pub(super) fn unknown_placeholder(arg: &str) -> Option<String> {
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find('}') {
            let name = &after[..close];
            let wordlike =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if wordlike && !PLACEHOLDERS.contains(&name) {
                return Some(name.to_owned());
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_inside_arguments_without_splitting() {
        let vars = ArgvVars {
            prompt: "say \"hi\" $(rm -rf /) {task}",
            task: "t1",
            attempt: 3,
            worktree: "/w/t1",
            session: "",
        };
        let argv: Vec<String> = [
            "x",
            "{prompt}",
            "--task={task}-{attempt}",
            "{worktree}",
            "{nope}",
            "{",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            render_argv(&argv, &vars),
            [
                "x",
                "say \"hi\" $(rm -rf /) {task}",
                "--task=t1-3",
                "/w/t1",
                "{nope}",
                "{"
            ]
        );
    }

    #[test]
    fn finds_unknown_placeholders_but_not_json() {
        assert_eq!(unknown_placeholder("--x={promt}"), Some("promt".into()));
        assert_eq!(unknown_placeholder("{\"a\": 1}"), None);
        assert_eq!(unknown_placeholder("{prompt}{session}"), None);
    }
}
