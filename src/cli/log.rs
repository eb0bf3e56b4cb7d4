//! `fleetdeck log <id>`: a task's transcript, parsed and sanitized.

use std::path::Path;

use clap::Args;

use crate::agent::{AgentEvent, parser_for, restart_after_cut};
use crate::sanitize::sanitize;
use crate::store::transcript::{self, Stream};
use crate::store::{DB_FILE, Store};

#[derive(Args, Debug)]
pub struct LogArgs {
    /// The task.
    pub id: String,
    /// Which attempt (default: the latest).
    #[arg(long, short)]
    pub attempt: Option<u32>,
    /// Print the raw lines as the agent wrote them (still sanitized).
    #[arg(long)]
    pub raw: bool,
}

pub fn main(root: &Path, args: LogArgs) -> i32 {
    let fleet_dir = root.join(".fleet");
    if !fleet_dir.join(DB_FILE).exists() {
        eprintln!("fleetdeck: no fleet has run in {} yet", root.display());
        return 1;
    }
    let store = match Store::open(&fleet_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 1;
        }
    };
    let attempts = match store.attempts(&args.id) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 1;
        }
    };
    let chosen = match args.attempt {
        Some(n) => attempts.iter().find(|a| a.n == n),
        None => attempts.last(),
    };
    let Some(attempt) = chosen else {
        let known: Vec<String> = attempts.iter().map(|a| a.n.to_string()).collect();
        if known.is_empty() {
            eprintln!(
                "fleetdeck: task `{}` has not run yet (or does not exist)",
                args.id
            );
        } else {
            eprintln!(
                "fleetdeck: task `{}` has attempts {}; there is no such attempt",
                args.id,
                known.join(", ")
            );
        }
        return 1;
    };
    let path = fleet_dir.join(&attempt.transcript);
    let t = match transcript::read(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("fleetdeck: cannot read {}: {e}", path.display());
            return 1;
        }
    };
    let format = t
        .header
        .as_ref()
        .map_or(crate::agent::Format::Text, |h| h.format);
    println!(
        "== {} attempt {} by {} ({}), {}",
        attempt.task,
        attempt.n,
        attempt.agent,
        format,
        outcome_text(&store, attempt)
    );
    let mut parser = match (format, &attempt.session_id) {
        // A resumed Codex thread reports its totals: show this attempt's share, as counted.
        (crate::agent::Format::Codex, Some(session)) => {
            let base = crate::runtime::session_baseline(&attempts, session, attempt.n);
            Box::new(crate::agent::CodexParser::resuming(
                base.input_tokens,
                base.output_tokens,
            ))
        }
        _ => parser_for(format),
    };
    let worktree = Worktree::of(root, &attempt.task);
    let rel = |text: String| worktree.relative(&text);
    let mut last_t = 0;
    for line in &t.lines {
        last_t = line.t;
        let stamp = format!("{:>7.1}s", line.t as f64 / 1000.0);
        let tag = match line.s {
            Stream::Out => "",
            Stream::Err => "stderr ",
            Stream::Fleet => "fleet ",
            Stream::Verify => "verify ",
        };
        if transcript::is_cut_marker(line) && !args.raw {
            // The middle of a capped transcript is missing: the tail parses afresh.
            for event in restart_after_cut(&mut parser, format) {
                if let Some(text) = render(&event) {
                    println!("{stamp} {}", rel(text));
                }
            }
        }
        if args.raw || line.s != Stream::Out {
            println!("{stamp} {tag}{}", rel(sanitize(&line.l).into_owned()));
            continue;
        }
        for event in parser.line(&line.l) {
            if let Some(text) = render(&event) {
                println!("{stamp} {}", rel(text));
            }
        }
    }
    for event in parser.finish() {
        if let Some(text) = render(&event) {
            println!("{:>7.1}s {}", last_t as f64 / 1000.0, rel(text));
        }
    }
    print_review(&store, &args.id);
    0
}

/// The reviewer agent's latest verdict on the task, if it has one.
fn print_review(store: &Store, id: &str) {
    let tasks = store.load_tasks().unwrap_or_default();
    let Some(verdict) = tasks
        .iter()
        .find(|t| t.id().as_str() == id)
        .and_then(|t| t.review.as_ref())
    else {
        return;
    };
    println!("== reviewer");
    for line in crate::core::team::review::describe(verdict) {
        println!("{}", sanitize(&line));
    }
}

/// The task's worktree, as the agent saw it (the path given and the
/// canonical one): paths inside it are printed relative to it.
struct Worktree {
    prefixes: Vec<String>,
}

impl Worktree {
    fn of(root: &Path, task: &str) -> Worktree {
        let given = root.join(".fleet").join("worktrees").join(task);
        let mut prefixes = vec![given.to_string_lossy().into_owned()];
        if let Ok(real) = given.canonicalize() {
            prefixes.push(real.to_string_lossy().into_owned());
        }
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        prefixes.dedup();
        Worktree { prefixes }
    }

    /// `text` with `<worktree>/x` written `x` and the worktree itself `.`.
    fn relative(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for p in &self.prefixes {
            out = relative_to(&out, p);
        }
        out
    }
}

/// `text` with every `prefix/x` written `x` and `prefix` alone `.`; a longer
/// name that starts with `prefix` (another task's worktree) stays as it is.
fn relative_to(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        match after.chars().next() {
            Some('/') => rest = &after[1..],
            Some(c) if c.is_alphanumeric() || "-_.".contains(c) => {
                out.push_str(prefix);
                rest = after;
            }
            _ => {
                out.push('.');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attempt's outcome for the heading: the same word as Info and
/// `status`, with the failing command of a verify failure.
fn outcome_text(store: &Store, attempt: &crate::store::AttemptRecord) -> String {
    match &attempt.outcome {
        Some(o) => o.describe(),
        None => {
            let status = store
                .load_tasks()
                .ok()
                .and_then(|ts| ts.into_iter().find(|t| t.id().as_str() == attempt.task))
                .map(|t| t.status);
            let status = status.unwrap_or(crate::core::Status::Dropped);
            crate::core::outcome::attempt_word(None, attempt.n, &status)
        }
    }
}

/// One line for a parsed event (texts are already sanitized by the parser).
fn render(event: &AgentEvent) -> Option<String> {
    Some(match event {
        AgentEvent::Session { id, model } => {
            format!(
                "session {id}{}",
                model
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            )
        }
        AgentEvent::Message { text } => format!("agent: {text}"),
        AgentEvent::ToolCall { name, arg, .. } => format!("tool {name} {arg}"),
        AgentEvent::ToolResult { ok, preview, .. } => {
            format!("  {} {preview}", if *ok { "ok:" } else { "error:" })
        }
        AgentEvent::Notice { text } => format!("notice: {text}"),
        AgentEvent::Error { text } => format!("error: {text}"),
        AgentEvent::PermissionDenied { tool, detail } => {
            format!("permission denied for {tool}: {detail}")
        }
        AgentEvent::Usage {
            input_tokens,
            output_tokens,
            cost_usd,
        } => format!(
            "usage: {input_tokens} in, {output_tokens} out{}",
            cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default()
        ),
        AgentEvent::Finished { is_error, summary } => {
            format!(
                "finished{}: {summary}",
                if *is_error { " with an error" } else { "" }
            )
        }
        AgentEvent::Text { text } => text.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::relative_to;

    #[test]
    fn paths_inside_the_worktree_are_relative_to_it() {
        let wt = "/r/.fleet/worktrees/a";
        assert_eq!(
            relative_to("Write /r/.fleet/worktrees/a/src/x.rs", wt),
            "Write src/x.rs"
        );
        assert_eq!(
            relative_to("cd /r/.fleet/worktrees/a && ls", wt),
            "cd . && ls"
        );
        assert_eq!(
            relative_to("/r/.fleet/worktrees/ab/y", wt),
            "/r/.fleet/worktrees/ab/y",
            "another task's worktree"
        );
    }
}
