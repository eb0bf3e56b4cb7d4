//! `fleetdeck context [QUERY] [--json] [--export FILE.md] [--all]`: the
//! team's shared context store, the entries matching QUERY (every word, in
//! text, kind, author or scope), newest first. Run by an agent it reads
//! `.fleet/context.json` (the engine's mirror, no database lock); run by
//! the user it reads that file, or the database when there is none.
//! `--add KIND "TEXT" [--task T]... [--path P]... [--role R]...` and
//! `--retire ID` are the user's: written into the inbox as the user's
//! command, so the engine stays the one writer (taken at once, or at its
//! next start).

use std::path::{Path, PathBuf};

use clap::Args;

use super::agent_env::{Agent, agent_from, tell_refusals};
use crate::core::team::{ContextEntry, ContextKind, ContextStore, Scope, message::check_path};
use crate::core::{Command, TaskId};
use crate::runtime::inbox::{self, Entry, USER_COMMAND};

#[derive(Args, Debug, Clone)]
pub struct ContextArgs {
    /// Words that must all match (text, kind, author or scope); none: every entry.
    pub query: Vec<String>,
    /// Print the entries as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the matching entries as Markdown to this file.
    #[arg(long, value_name = "FILE.md")]
    pub export: Option<PathBuf>,
    /// Include retired entries.
    #[arg(long)]
    pub all: bool,
    /// Add an entry (the user's): KIND is decision, contract, constraint,
    /// convention or progress.
    #[arg(long, num_args = 2, value_names = ["KIND", "TEXT"], conflicts_with = "retire")]
    pub add: Option<Vec<String>>,
    /// With --add: only for this task (repeatable).
    #[arg(long = "task", value_name = "T", requires = "add")]
    pub tasks: Vec<String>,
    /// With --add: only for tasks touching this path (repeatable).
    #[arg(long = "path", value_name = "P", requires = "add")]
    pub paths: Vec<String>,
    /// With --add: only for tasks of this role (repeatable).
    #[arg(long = "role", value_name = "R", requires = "add")]
    pub roles: Vec<String>,
    /// With --add: the entry it replaces (retired).
    #[arg(long, value_name = "ID", requires = "add")]
    pub supersedes: Option<u64>,
    /// Retire an entry (kept for history, never in a prompt again).
    #[arg(long, value_name = "ID")]
    pub retire: Option<u64>,
}

/// Runs the command; its exit code.
pub fn main(repo: Option<&Path>, args: ContextArgs) -> i32 {
    let var = |k: &str| std::env::var(k).ok();
    let agent = match var("FLEET_DIR") {
        Some(_) => match agent_from("context", var) {
            Ok(agent) => Some(agent),
            Err(m) => return fail(2, &m),
        },
        None => None,
    };
    let fleet_dir = match &agent {
        Some(a) => a.fleet_dir.clone(),
        None => match super::repo_root(repo) {
            Ok(root) => root.join(".fleet"),
            Err(m) => return fail(2, &m),
        },
    };
    if let Some(a) = &agent {
        tell_refusals(a);
    }
    let change = change_command(&args, agent.as_ref());
    match change {
        Ok(Some(command)) => return send(&fleet_dir, command),
        Ok(None) => {}
        Err(m) => return fail(2, &m),
    }
    let store = match load(&fleet_dir, agent.is_some()) {
        Ok(store) => store,
        Err(m) => return fail(1, &m),
    };
    show(&store, &args)
}

fn fail(code: i32, message: &str) -> i32 {
    eprintln!("fleetdeck context: {message}");
    code
}

/// The user's `--add` or `--retire` as a command, checked.
fn change_command(args: &ContextArgs, agent: Option<&Agent>) -> Result<Option<Command>, String> {
    if args.add.is_none() && args.retire.is_none() {
        return Ok(None);
    }
    if agent.is_some() {
        return Err("agents add to the context with `fleetdeck msg decision|contract|constraint \"TEXT\"`; --add and --retire are the user's".into());
    }
    if let Some(id) = args.retire {
        return Ok(Some(Command::RetireContext { id }));
    }
    let Some([kind, text]) = args.add.as_deref() else {
        return Err("--add takes KIND and TEXT".into());
    };
    let kind = ContextKind::parse(kind)?;
    let text = super::agent_env::checked_text(text, "--add: the text is empty")?;
    let tasks = args
        .tasks
        .iter()
        .map(|t| TaskId::parse(t).map_err(|e| format!("--task {t}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let paths = args
        .paths
        .iter()
        .map(|p| check_path(p).map_err(|e| format!("--path: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let scope = Scope {
        tasks,
        paths,
        roles: args.roles.clone(),
    };
    Ok(Some(Command::AddContext {
        kind,
        text,
        scope,
        supersedes: args.supersedes,
    }))
}

fn send(fleet_dir: &Path, command: Command) -> i32 {
    let what = command.describe();
    let entry = Entry {
        kind: USER_COMMAND.into(),
        task: String::new(),
        attempt: 0,
        text: what.clone(),
        time_ms: crate::store::now_ms(),
        paths: Vec::new(),
        command: Some(command),
    };
    match inbox::write(fleet_dir, &entry) {
        Ok(path) => {
            println!(
                "{what}: written to the inbox ({}); the engine takes it now, or at its next start",
                path.display()
            );
            0
        }
        Err(e) => fail(
            1,
            &format!("cannot write into {}: {e}", inbox::dir(fleet_dir).display()),
        ),
    }
}

/// The store: `.fleet/context.json`, else (for the user) the database.
fn load(fleet_dir: &Path, agent: bool) -> Result<ContextStore, String> {
    let json = crate::runtime::team::context_json(fleet_dir);
    if json.exists() {
        return crate::runtime::team::read_context_json(fleet_dir);
    }
    if agent || !fleet_dir.join("fleet.db").exists() {
        return Ok(ContextStore::default());
    }
    let store = crate::store::Store::open(fleet_dir).map_err(|e| e.to_string())?;
    store.load_context().map_err(|e| e.to_string())
}

fn show(store: &ContextStore, args: &ContextArgs) -> i32 {
    let query = args.query.join(" ");
    let found = if args.all {
        store.search_all(&query)
    } else {
        store.search(&query)
    };
    if let Some(path) = &args.export {
        let mut entries: Vec<ContextEntry> = found.iter().map(|e| (*e).clone()).collect();
        entries.sort_by_key(|e| e.id);
        let md = ContextStore { entries }.to_markdown();
        if let Err(e) = std::fs::write(path, md) {
            return fail(1, &format!("cannot write {}: {e}", path.display()));
        }
        println!("wrote {} entries to {}", found.len(), path.display());
        return 0;
    }
    if args.json {
        match serde_json::to_string_pretty(&found) {
            Ok(j) => println!("{j}"),
            Err(e) => return fail(1, &e.to_string()),
        }
        return 0;
    }
    if found.is_empty() {
        println!(
            "{}",
            if query.is_empty() {
                "the team's context is empty".to_owned()
            } else {
                format!("no context entry matches `{query}`")
            }
        );
    }
    for e in found {
        println!("{}", line(e));
    }
    0
}

/// `#3 [decision] errors are JSON (task `api`, claude; for paths src/api)`.
fn line(e: &ContextEntry) -> String {
    let mut meta = e.author.short();
    if !e.scope.is_everyone() {
        meta.push_str(&format!("; for {}", e.scope.describe()));
    }
    if e.retired {
        meta.push_str("; retired");
    }
    format!("#{} [{}] {} ({meta})", e.id, e.kind, e.text.trim())
}
