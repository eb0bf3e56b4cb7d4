//! `fleetdeck demo`: a scratch repository with a small real project (a POSIX
//! shell calculator whose `sh test.sh` is the verify gate) and a plan of
//! simulated agents with dependencies, a verify failure, a merge conflict and
//! a long task, run to the end. No API key, no network.

use std::path::{Path, PathBuf};

use clap::Args;
use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};

use super::{RunArgs, logging};
use crate::core::{MergeBlock, Status};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run without the cockpit, printing state changes, and exit at the end.
    #[arg(long)]
    pub headless: bool,
    /// Where to create the scratch repository (must not exist yet; default: a new directory under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How long the long-running demo task takes, in seconds (default: 6 headless, 60 in the cockpit).
    #[arg(long)]
    pub long_secs: Option<u64>,
}

const FILES: [(&str, &str); 4] = [
    ("tally.sh", include_str!("../../assets/demo/tally.sh")),
    ("test.sh", include_str!("../../assets/demo/test.sh")),
    ("README.md", include_str!("../../assets/demo/README.md")),
    (
        "greeting.txt",
        include_str!("../../assets/demo/greeting.txt"),
    ),
];
const PLAN: &str = include_str!("../../assets/demo/fleet.toml");

pub fn main(args: DemoArgs, theme: Option<&str>) -> i32 {
    let dir = match args.dir.clone() {
        Some(d) => d,
        None => std::env::temp_dir().join(format!(
            "fleetdeck-demo-{}-{}",
            std::process::id(),
            crate::store::now_ms()
        )),
    };
    let long_secs = args.long_secs.unwrap_or(if args.headless { 6 } else { 60 });
    if let Err(e) = create(&dir, long_secs) {
        eprintln!(
            "fleetdeck: cannot create the demo repository in {}: {e}",
            dir.display()
        );
        return 1;
    }
    println!("demo repository: {}", dir.display());
    if !args.headless {
        let code = super::cockpit::main(&dir, theme);
        println!(
            "demo repository: {} (`fleetdeck -C {}` opens it again)",
            dir.display(),
            dir.display()
        );
        return code;
    }
    logging::init(&dir);
    let run = RunArgs {
        headless: true,
        auto_approve: true,
        resume: false,
        json: false,
    };
    super::block_on(super::run::headless(&dir, run));
    explain(&dir)
}

/// Writes the project and the plan and commits them on `main`.
pub fn create(dir: &Path, long_secs: u64) -> Result<(), String> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .next()
            .is_some()
    {
        return Err("the directory exists and is not empty".into());
    }
    let mut init = RepositoryInitOptions::new();
    init.initial_head("main");
    let repo = Repository::init_opts(dir, &init).map_err(|e| e.to_string())?;
    let mut config = repo.config().map_err(|e| e.to_string())?;
    config
        .set_str("user.name", "fleetdeck demo")
        .map_err(|e| e.to_string())?;
    config
        .set_str("user.email", "demo@fleetdeck.invalid")
        .map_err(|e| e.to_string())?;
    for (name, text) in FILES {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    let plan = PLAN.replace("{LONG_MS}", &(long_secs * 500).to_string());
    std::fs::write(dir.join(crate::config::FILE_NAME), plan).map_err(|e| e.to_string())?;
    let mut index = repo.index().map_err(|e| e.to_string())?;
    index
        .add_all(["*"], IndexAddOption::DEFAULT, None)
        .map_err(|e| e.to_string())?;
    index.write().map_err(|e| e.to_string())?;
    let tree = repo
        .find_tree(index.write_tree().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let sig =
        Signature::now("fleetdeck demo", "demo@fleetdeck.invalid").map_err(|e| e.to_string())?;
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "tally: a tiny shell calculator\n",
        &tree,
        &[],
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Says what the demo showed; 0 when it ended as designed (every task done
/// except the one that conflicts on purpose).
fn explain(dir: &Path) -> i32 {
    let Ok(store) = crate::store::Store::open(&dir.join(".fleet")) else {
        return 1;
    };
    let Ok(tasks) = store.load_tasks() else {
        return 1;
    };
    let as_designed = tasks.iter().all(|t| match &t.status {
        Status::Done { .. } => true,
        Status::Review {
            block: Some(MergeBlock::Conflict { files }),
            ..
        } => files == &["greeting.txt".to_owned()],
        _ => false,
    });
    println!();
    println!(
        "The fleet merged its work into `main` of {}:",
        dir.display()
    );
    println!(
        "  git -C {} log --first-parent --oneline main",
        dir.display()
    );
    println!(
        "One of greet-en / greet-fr conflicts on greeting.txt on purpose and waits in review."
    );
    println!("  fleetdeck -C {} status", dir.display());
    println!(
        "  fleetdeck -C {} log pow     # attempt 2 got the verify failure of attempt 1",
        dir.display()
    );
    if as_designed { 0 } else { 1 }
}
