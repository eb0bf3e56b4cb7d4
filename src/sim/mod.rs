//! The simulated agent (`fleetdeck sim-agent <script>`): a deterministic
//! stand-in for a real agent CLI, used by the demo and by tests.
//!
//! It runs its script (the prompt) one line at a time in a directory and
//! prints what it does as Claude Code stream-json (see `emit.rs`), so the
//! cockpit reads it with the same parser as the real CLI.
//!
//! Directives (the first word of a line):
//! - `say <text>`: assistant text.
//! - `write <path> <text>`: create or overwrite `<path>` (parent directories
//!   created) with `<text>`, where `\n` stands for a newline and `\\` for a
//!   backslash (no trailing newline unless written). Shown as a `Write` tool call.
//! - `append <path> <text>`: append to `<path>` likewise. Shown as an `Edit`
//!   tool call with `old_string: ""` and `new_string: <text>`.
//! - `run <command>`: run `sh -c <command>` in the directory, stdin null,
//!   output captured. Shown as a `Bash` tool call; a non-zero exit status
//!   gives an error tool result (`Exit code N` then the output) and the
//!   script goes on.
//! - `msg <kind> <text>`: run `fleetdeck msg <kind> '<text>'` (the real
//!   `fleetdeck` first on the agent's `PATH`) like `run`: a typed message
//!   to the team (see `fleetdeck msg --help` for the kinds).
//! - `context [query]`: run `fleetdeck context [query]` like `run`: what
//!   the team's context store holds (matching the query).
//! - `sleep <ms>`: wait.
//! - `cost <usd>`: add to the run's reported `total_cost_usd`.
//! - `fail [message]`: stop here with a failed `result` (`is_error: true`,
//!   subtype `error_during_execution`) and exit code 1.
//! - `if-attempt <n> <line>`: run `<line>` (a directive, or text to echo)
//!   only when this is attempt `n`.
//!
//! Any other line is echoed as assistant text, so feedback appended to a
//! prompt does not break a script. In particular a line that starts with
//! whitespace or `>` (the scheduler quotes feedback with `> `) is never a
//! directive, and neither is a directive word without the arguments it
//! needs (`sleep soon`, `write` alone); blank lines are skipped. Paths are
//! one word (no spaces) and relative to the directory unless absolute.
//!
//! A directive that fails (a write to an impossible path, a command that
//! cannot be started) is reported as an error tool result and the script
//! goes on, as a real agent would see a tool error and carry on. The run
//! ends with a successful `result` (exit 0) unless `fail` stopped it.
//!
//! With `--resume <session>` the run reports that session id (a nudge in
//! a resumed session is a script like any other).
//!
//! ## As a planner (`planner.rs`)
//!
//! When the script is a planning prompt (it starts with the first sentence
//! `core::planner::planning_prompt` writes), or a re-ask
//! (`core::planner::reask_prompt`) in a session resumed with `--resume`,
//! the sim answers as the supervisor's planner: one ```json block in its
//! final message, and with `--json-schema <schema>` also as the `result`
//! line's `structured_output`. Directives in the goal (at the start of a
//! line, or after text on it, the rest of the line being the argument):
//! - `plan-file <path>`: the answer is this JSON file (relative to the
//!   working directory), as it is when it is not a valid plan document.
//! - `plan-task <id> | <title> | <deps,comma> | <agent> | <role> | <prompt>`:
//!   one task (`\n` in the prompt is a line break; an empty agent: the
//!   implementer's); after the plan file's tasks, if any.
//! - `plan-notes <text>`: the answer's notes.
//! - `plan-bad-json`, `plan-unknown-agent`, `plan-cycle`: the first answer
//!   has that fault (a cut ```json block, the first task's agent
//!   `no-such-agent`, the first task after the last); the answer to the
//!   re-ask (a resumed session, or the prompt with the re-ask appended) is
//!   the valid plan.
//! - `sim-replan reassign` (in the goal or the failed task's prompt): a
//!   failed task is given to another listed agent, its failing lines left
//!   out, with a `retry` action, instead of being split.
//!
//! Any other goal gets the default plan: `<slug>-impl`, then `<slug>-tests`
//! and `<slug>-docs` after it (implementer, tester, documenter; the docs to
//! a `cost: low` agent), each a script that writes a file named after the
//! goal and runs the verify commands. Replans (`## What happened`): a
//! failed task or reported complexity → a split in two parts with
//! `split_from`; a stall → a `nudge`; new work found → a task after the
//! reporting one; feedback on a proposal → the same answer with
//! `drop <id>` applied and the feedback quoted in the notes. Every answer
//! has `notes` saying why.
//!
//! ## As a reviewer (`review.rs`)
//!
//! A review prompt (`core::team::review_prompt`) is answered with a verdict
//! from `sim-review approve|changes FILE LINE TEXT|bad-json` in the
//! reviewed task's prompt (changes in round 1, approve later; default
//! approve); `sim-review sleep MS` waits before answering.

mod emit;
mod planner;
#[cfg(test)]
mod planner_tests;
mod plans;
mod replan;
mod review;
#[cfg(test)]
mod tests;

pub use planner::Options;

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use emit::Emitter;

/// Runs `script` as attempt `attempt` in the current directory, writing
/// stream-json to `out`; returns the exit code (0, or 1 after `fail` or
/// when `out` cannot be written).
pub fn run(script: &str, attempt: u32, out: &mut dyn Write) -> i32 {
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    run_in(script, attempt, &dir, out)
}

/// [`run`] in `dir` instead of the current directory.
pub fn run_in(script: &str, attempt: u32, dir: &Path, out: &mut dyn Write) -> i32 {
    run_with(script, attempt, &Options::default(), dir, out)
}

/// [`run_in`] with the command line's options: a planning prompt or a
/// re-ask is answered as a planner (see the module doc).
pub fn run_with(
    script: &str,
    attempt: u32,
    opts: &Options,
    dir: &Path,
    out: &mut dyn Write,
) -> i32 {
    let mut emitter = Emitter::new(out, script, attempt);
    if review::is_review(script) {
        return match review::run(script, opts.json_schema, &mut emitter) {
            Ok(()) => 0,
            Err(err) => {
                eprintln!("sim-agent: cannot write output: {err}");
                1
            }
        };
    }
    if planner::is_planner(script) {
        return match planner::run(script, opts, dir, &mut emitter) {
            Ok(()) => 0,
            Err(err) => {
                eprintln!("sim-agent: cannot write output: {err}");
                1
            }
        };
    }
    if let Some(session) = &opts.resume {
        emitter.set_session(session);
    }
    match execute(script, attempt, dir, &mut emitter) {
        Ok(Outcome::Completed) => 0,
        Ok(Outcome::Failed) => 1,
        Err(err) => {
            eprintln!("sim-agent: cannot write output: {err}");
            1
        }
    }
}

/// The session id [`run`] reports for `script` and `attempt`.
pub fn session_id(script: &str, attempt: u32) -> String {
    Emitter::new(&mut io::sink(), script, attempt)
        .session()
        .to_owned()
}

/// How a script, or one step of it, ended.
enum Outcome {
    Completed,
    Failed,
}

/// One parsed script line.
#[derive(Debug, PartialEq)]
enum Directive<'a> {
    Say(&'a str),
    Write {
        path: &'a str,
        text: &'a str,
    },
    Append {
        path: &'a str,
        text: &'a str,
    },
    Run(&'a str),
    /// `fleetdeck msg KIND TEXT`, run like `Run`.
    Msg(&'a str, &'a str),
    /// `fleetdeck context [QUERY]`, run like `Run`.
    Context(&'a str),
    Sleep(u64),
    Cost(f64),
    Fail(&'a str),
    IfAttempt(u32, &'a str),
    /// Not a directive: echoed as assistant text.
    Echo(&'a str),
}

fn parse(line: &str) -> Directive<'_> {
    if line.starts_with(char::is_whitespace) || line.starts_with('>') {
        return Directive::Echo(line);
    }
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let path_and_text = || {
        let (path, text) = rest.split_once(' ').unwrap_or((rest, ""));
        (!path.is_empty()).then_some((path, text))
    };
    let parsed = match word {
        "say" if !rest.is_empty() => Some(Directive::Say(rest)),
        "write" => path_and_text().map(|(path, text)| Directive::Write { path, text }),
        "append" => path_and_text().map(|(path, text)| Directive::Append { path, text }),
        "run" if !rest.trim().is_empty() => Some(Directive::Run(rest)),
        "msg" => rest
            .split_once(' ')
            .filter(|(kind, text)| !kind.is_empty() && !text.trim().is_empty())
            .map(|(kind, text)| Directive::Msg(kind, text)),
        "context" => Some(Directive::Context(rest.trim())),
        "sleep" => rest.trim().parse().ok().map(Directive::Sleep),
        "cost" => rest
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|c| c.is_finite() && *c >= 0.0)
            .map(Directive::Cost),
        "fail" => Some(Directive::Fail(rest.trim())),
        "if-attempt" => rest.split_once(' ').and_then(|(n, inner)| {
            let n = n.parse().ok()?;
            (!inner.trim().is_empty()).then_some(Directive::IfAttempt(n, inner))
        }),
        _ => None,
    };
    parsed.unwrap_or(Directive::Echo(line))
}

/// `\n` → newline, `\\` → backslash; any other backslash is kept.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn execute(script: &str, attempt: u32, dir: &Path, em: &mut Emitter<'_>) -> io::Result<Outcome> {
    em.init(dir)?;
    for line in script.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let Some(directive) = for_attempt(parse(line), attempt) else {
            continue;
        };
        if let Outcome::Failed = step(directive, dir, em)? {
            return Ok(Outcome::Failed);
        }
    }
    em.result(None)?;
    Ok(Outcome::Completed)
}

/// The directive to run on `attempt`: `if-attempt` chains resolved (without
/// recursion), `None` when a condition does not hold.
fn for_attempt(mut directive: Directive<'_>, attempt: u32) -> Option<Directive<'_>> {
    while let Directive::IfAttempt(n, inner) = directive {
        if n != attempt {
            return None;
        }
        directive = parse(inner);
    }
    Some(directive)
}

fn step(directive: Directive<'_>, dir: &Path, em: &mut Emitter<'_>) -> io::Result<Outcome> {
    match directive {
        // Resolved by `for_attempt` before a step runs.
        Directive::IfAttempt(..) => {}
        Directive::Say(text) | Directive::Echo(text) => em.text(text)?,
        Directive::Write { path, text } => {
            let target = dir.join(path);
            let content = unescape(text);
            let input = json!({"file_path": target.display().to_string(), "content": content});
            let id = em.tool_use("Write", input)?;
            let existed = target.exists();
            match write_file(&target, &content, false) {
                Ok(()) if existed => em.tool_result(
                    &id,
                    &format!(
                        "The file {} has been updated successfully.",
                        target.display()
                    ),
                    false,
                )?,
                Ok(()) => em.tool_result(
                    &id,
                    &format!("File created successfully at: {}", target.display()),
                    false,
                )?,
                Err(err) => em.tool_result(&id, &format!("Error: {err}"), true)?,
            }
        }
        Directive::Append { path, text } => {
            let target = dir.join(path);
            let content = unescape(text);
            let input = json!({
                "file_path": target.display().to_string(),
                "old_string": "",
                "new_string": content,
            });
            let id = em.tool_use("Edit", input)?;
            match write_file(&target, &content, true) {
                Ok(()) => em.tool_result(
                    &id,
                    &format!(
                        "The file {} has been updated successfully.",
                        target.display()
                    ),
                    false,
                )?,
                Err(err) => em.tool_result(&id, &format!("Error: {err}"), true)?,
            }
        }
        Directive::Run(command) => return run_directive(em, command, dir),
        Directive::Msg(kind, text) => {
            let command = format!("fleetdeck msg {} {}", sh_quote(kind), sh_quote(text));
            return run_directive(em, &command, dir);
        }
        Directive::Context(query) => {
            let command = if query.is_empty() {
                "fleetdeck context".to_owned()
            } else {
                format!("fleetdeck context {}", sh_quote(query))
            };
            return run_directive(em, &command, dir);
        }
        Directive::Sleep(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            em.add_duration(ms);
        }
        Directive::Cost(usd) => em.add_cost(usd),
        Directive::Fail(message) => {
            let message = if message.is_empty() {
                "simulated failure"
            } else {
                message
            };
            em.result(Some(message))?;
            return Ok(Outcome::Failed);
        }
    }
    Ok(Outcome::Completed)
}

fn write_file(path: &Path, content: &str, append: bool) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)?;
    file.write_all(content.as_bytes())
}

/// A shell command as a `Bash` tool call and its result.
fn run_directive(em: &mut Emitter<'_>, command: &str, dir: &Path) -> io::Result<Outcome> {
    let id = em.tool_use("Bash", json!({"command": command}))?;
    let (content, is_error) = run_command(command, dir);
    em.tool_result(&id, &content, is_error)?;
    Ok(Outcome::Completed)
}

/// `text` as one word for `sh` (single quotes).
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Runs `sh -c command` in `dir`; returns the tool result text and whether it is an error.
fn run_command(command: &str, dir: &Path) -> (String, bool) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(err) => return (format!("Error: cannot run sh: {err}"), true),
    };
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&stderr);
    }
    let text = text.trim_end().to_owned();
    if output.status.success() {
        if text.is_empty() {
            ("(Bash completed with no output)".to_owned(), false)
        } else {
            (text, false)
        }
    } else {
        let status = match output.status.code() {
            Some(code) => format!("Exit code {code}"),
            None => "Killed by a signal".to_owned(),
        };
        if text.is_empty() {
            (status, true)
        } else {
            (format!("{status}\n{text}"), true)
        }
    }
}
