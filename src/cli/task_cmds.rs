//! Commands that change one task while no run is active: add, approve,
//! reject, retry, request-changes, update, resolve. Each takes the fleet lock, applies the
//! command and carries out its immediate work (a merge) with the fleet held,
//! so no agent starts.

use std::path::Path;

use clap::Args;

use super::logging;
use crate::core::{Command, MergeBlock, Status, TaskId, TaskSpec};
use crate::runtime::{Engine, EngineOptions, editor};

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The new task's id: lowercase letters, digits and dashes.
    pub id: String,
    /// What the agent is asked to do.
    #[arg(long, short)]
    pub prompt: String,
    /// A short title (default: the id).
    #[arg(long, short)]
    pub title: Option<String>,
    /// The agent profile (default: [fleet] default_agent, or the only profile).
    #[arg(long, short)]
    pub agent: Option<String>,
    /// A task this one waits for (repeat for several).
    #[arg(long = "dep", short)]
    pub deps: Vec<String>,
    #[arg(long)]
    pub role: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub priority: i32,
    /// Merge as soon as the verify gate passes, without review.
    #[arg(long)]
    pub auto_approve: bool,
}

pub fn add(root: &Path, args: AddArgs) -> i32 {
    let parse = |s: &str| TaskId::parse(s).map_err(|e| e.to_string());
    let spec = (|| -> Result<Command, String> {
        Ok(Command::Add {
            spec: TaskSpec {
                deps: args
                    .deps
                    .iter()
                    .map(|d| parse(d))
                    .collect::<Result<_, _>>()?,
                role: args.role.clone(),
                priority: args.priority,
                auto_approve: args.auto_approve,
                // The agent is filled in below (the fleet's default).
                ..TaskSpec::new(
                    parse(&args.id)?,
                    args.title.clone().unwrap_or_else(|| args.id.clone()),
                    args.prompt.clone(),
                    String::new(),
                )
            },
        })
    })();
    let command = match spec {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 2;
        }
    };
    apply(root, Some(&args.id), move |engine| {
        let Command::Add { mut spec } = command else {
            return command;
        };
        spec.agent = match args.agent.clone() {
            Some(a) => a,
            None => default_agent(engine).unwrap_or_default(),
        };
        Command::Add { spec }
    })
}

fn default_agent(engine: &Engine) -> Option<String> {
    let c = engine.config();
    c.fleet.default_agent.clone().or_else(|| {
        (c.agents.len() == 1)
            .then(|| c.agents.keys().next().cloned())
            .flatten()
    })
}

pub fn approve(root: &Path, id: &str) -> i32 {
    simple(root, id, |task| Command::Approve { task })
}

pub fn reject(root: &Path, id: &str) -> i32 {
    simple(root, id, |task| Command::Reject { task })
}

pub fn update(root: &Path, id: &str) -> i32 {
    simple(root, id, |task| Command::Update { task })
}

#[derive(Args, Debug)]
pub struct ResolveArgs {
    /// The task whose update conflicted.
    pub id: String,
    /// Open $SHELL in the worktree instead of $EDITOR on the files.
    #[arg(long)]
    pub shell: bool,
    /// Do not open anything: the files are already resolved.
    #[arg(long)]
    pub done: bool,
}

/// `fleetdeck resolve`: the user resolves an update conflict in the
/// task's worktree ($EDITOR on the conflicting files, or a shell), then
/// fleetdeck gates the result (refused while markers remain).
pub fn resolve(root: &Path, args: ResolveArgs) -> i32 {
    let task = match TaskId::parse(&args.id) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 2;
        }
    };
    if !args.done {
        let files = match conflict_files(root, &task) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("fleetdeck: {e}");
                return 1;
            }
        };
        let opener = if args.shell {
            editor::Opener::Shell
        } else {
            editor::Opener::Editor
        };
        match editor::edit_conflicts(root, task.as_str(), &files, opener) {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("fleetdeck: the editor ended with {status}; nothing was taken");
                return 1;
            }
            Err(e) => {
                eprintln!("fleetdeck: {e}");
                return 1;
            }
        }
    }
    apply(root, Some(&args.id), move |_| Command::Resolved { task })
}

/// The files of `task`'s update conflict, as the store holds its status.
fn conflict_files(root: &Path, task: &TaskId) -> Result<Vec<String>, String> {
    let store = crate::store::Store::open(&root.join(".fleet")).map_err(|e| e.to_string())?;
    let tasks = store.load_tasks().map_err(|e| e.to_string())?;
    let t = tasks
        .iter()
        .find(|t| t.id() == task)
        .ok_or_else(|| format!("there is no task `{task}`"))?;
    match &t.status {
        Status::Review {
            block: Some(MergeBlock::UpdateConflict { files }),
            ..
        } => Ok(files.clone()),
        other => Err(format!(
            "task `{task}` is {other} without an update conflict: `fleetdeck update {task}` first"
        )),
    }
}

pub fn retry(root: &Path, id: &str) -> i32 {
    simple(root, id, |task| Command::Retry { task })
}

pub fn reassign(root: &Path, id: &str, agent: String) -> i32 {
    simple(root, id, |task| Command::Reassign { task, agent })
}

#[derive(Args, Debug)]
pub struct BudgetArgs {
    /// The task (default: the whole fleet).
    pub id: Option<String>,
    /// The limit in US dollars.
    #[arg(long)]
    pub usd: Option<f64>,
    /// The limit in tokens.
    #[arg(long)]
    pub tokens: Option<u64>,
}

pub fn budget(root: &Path, args: BudgetArgs) -> i32 {
    let task = match args.id.as_deref().map(TaskId::parse).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 2;
        }
    };
    if args.usd.is_none() && args.tokens.is_none() {
        return show_budget(root, task.as_ref());
    }
    let label = task
        .as_ref()
        .map_or_else(|| "the fleet".to_owned(), |t| format!("`{t}`"));
    let id = task.as_ref().map(ToString::to_string);
    let code = apply(root, id.as_deref(), move |_| Command::SetBudget {
        task,
        usd: args.usd,
        tokens: args.tokens,
    });
    if code == 0 {
        println!("budget of {label} set");
    }
    code
}

/// Prints the limits and the spending, without taking the lock.
fn show_budget(root: &Path, task: Option<&TaskId>) -> i32 {
    let store = match crate::store::Store::open(&root.join(".fleet")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 1;
        }
    };
    let config = crate::config::Config::load(root).ok();
    let fleet = config
        .as_ref()
        .map(|c| c.limits(false).budget)
        .unwrap_or_default();
    let saved = store
        .meta("fleet_budget")
        .ok()
        .flatten()
        .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok());
    let fleet_usd = saved
        .as_ref()
        .and_then(|v| v["usd"].as_f64())
        .or(fleet.fleet_usd);
    let fleet_tokens = saved
        .as_ref()
        .and_then(|v| v["tokens"].as_u64())
        .or(fleet.fleet_tokens);
    let tasks = store.load_tasks().unwrap_or_default();
    let show = |what: &str, spent: crate::core::Spend, usd: Option<f64>, tokens: Option<u64>| {
        let usd = usd.map_or("no limit".to_owned(), |u| format!("${u:.2}"));
        let tokens = tokens.map_or("no limit".to_owned(), |t| t.to_string());
        println!(
            "{what}: spent ${:.4} and {} tokens; budget {usd} and {tokens} tokens",
            spent.usd, spent.tokens
        );
    };
    match task {
        Some(id) => match tasks.iter().find(|t| t.id() == id) {
            Some(t) => show(
                &format!("task `{id}`"),
                t.spent + t.live,
                t.spec.budget_usd.or(fleet.task_usd),
                t.spec.budget_tokens.or(fleet.task_tokens),
            ),
            None => {
                eprintln!("fleetdeck: there is no task `{id}`");
                return 1;
            }
        },
        None => {
            let spent = tasks
                .iter()
                .fold(crate::core::Spend::default(), |a, t| a + t.spent + t.live);
            show("the fleet", spent, fleet_usd, fleet_tokens);
        }
    }
    0
}

pub fn request_changes(root: &Path, id: &str, feedback: &str) -> i32 {
    let feedback = feedback.to_owned();
    simple(root, id, move |task| Command::RequestChanges {
        task,
        feedback,
    })
}

pub(super) fn simple(root: &Path, id: &str, make: impl FnOnce(TaskId) -> Command) -> i32 {
    match TaskId::parse(id) {
        Ok(task) => {
            let command = make(task);
            apply(root, Some(id), move |_| command)
        }
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            2
        }
    }
}

/// Opens the fleet held (no agent starts), applies the command, waits for
/// the work it caused, and reports where task `report` stands (None: a
/// fleet-wide command, nothing to report).
fn apply(root: &Path, report: Option<&str>, make: impl FnOnce(&Engine) -> Command) -> i32 {
    logging::init(root);
    super::block_on(async {
        let mut engine = match Engine::open_held(root, EngineOptions::default()) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("fleetdeck: {e}");
                return e.exit_code();
            }
        };
        let command = make(&engine);
        if let Err(e) = engine.command(command) {
            eprintln!("fleetdeck: {e}");
            return 1;
        }
        engine.run(true).await;
        let Some(id) = report else {
            return 0;
        };
        let Some(task) = engine.scheduler().task(id) else {
            eprintln!("fleetdeck: task `{id}` is no longer in the plan");
            return 1;
        };
        // This engine held the fleet for itself: say where the task stands
        // in the fleet as it really is (paused or not).
        let paused = crate::store::Store::open(&root.join(".fleet"))
            .and_then(|s| s.fleet_paused())
            .unwrap_or(true);
        let reason = engine
            .scheduler()
            .reason_when(task, paused)
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        println!("{id}: {}{reason}", task.status);
        if let Some(group) = &task.spec.group {
            let members: Vec<&str> = (engine.scheduler().tasks().iter())
                .filter(|t| t.spec.group.as_ref() == Some(group))
                .map(|t| t.spec.id.as_str())
                .collect();
            println!(
                "`{id}` is a member of group `{group}` ({}): the group is reviewed, approved and landed as one change",
                members.join(", ")
            );
        }
        match (&task.status, &task.feedback) {
            (
                Status::Review {
                    block: Some(MergeBlock::UpdateConflict { .. }),
                    ..
                },
                Some(fb),
            ) => {
                println!("{}", fb.text);
                println!(
                    "resolve it: `fleetdeck update {id}` (the agent), or `fleetdeck resolve {id}` (your $EDITOR)"
                );
            }
            (
                Status::Review {
                    block: Some(MergeBlock::Conflict { .. } | MergeBlock::Refused { .. }),
                    ..
                },
                _,
            ) => println!(
                "bring it onto `{}`: `fleetdeck update {id}`",
                engine.target()
            ),
            _ => {}
        }
        match &task.status {
            Status::Done { commit } => {
                println!("merged into `{}` as {commit}", engine.target());
                0
            }
            Status::Review { block: Some(_), .. } => 1,
            _ => 0,
        }
    })
}
