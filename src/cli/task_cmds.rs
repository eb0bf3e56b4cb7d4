//! Commands that change one task while no run is active: add, approve,
//! reject, retry, request-changes. Each takes the fleet lock, applies the
//! command and carries out its immediate work (a merge) with the fleet held,
//! so no agent starts.

use std::path::Path;

use clap::Args;

use super::logging;
use crate::core::{Command, Status, TaskId, TaskSpec};
use crate::runtime::{Engine, EngineOptions};

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
                id: parse(&args.id)?,
                title: args.title.clone().unwrap_or_else(|| args.id.clone()),
                prompt: args.prompt.clone(),
                deps: args
                    .deps
                    .iter()
                    .map(|d| parse(d))
                    .collect::<Result<_, _>>()?,
                agent: String::new(),
                role: args.role.clone(),
                verify: None,
                priority: args.priority,
                auto_approve: args.auto_approve,
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
    apply(root, &args.id, move |engine| {
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

pub fn retry(root: &Path, id: &str) -> i32 {
    simple(root, id, |task| Command::Retry { task })
}

pub fn request_changes(root: &Path, id: &str, feedback: &str) -> i32 {
    let feedback = feedback.to_owned();
    simple(root, id, move |task| Command::RequestChanges {
        task,
        feedback,
    })
}

fn simple(root: &Path, id: &str, make: impl FnOnce(TaskId) -> Command) -> i32 {
    match TaskId::parse(id) {
        Ok(task) => {
            let command = make(task);
            apply(root, id, move |_| command)
        }
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            2
        }
    }
}

/// Opens the fleet held (no agent starts), applies the command, waits for
/// the work it caused, and reports where the task stands.
fn apply(root: &Path, id: &str, make: impl FnOnce(&Engine) -> Command) -> i32 {
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
        let Some(task) = engine.scheduler().task(id) else {
            return 1;
        };
        let reason = engine
            .scheduler()
            .reason(task)
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        println!("{id}: {}{reason}", task.status);
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
