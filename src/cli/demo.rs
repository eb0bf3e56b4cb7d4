//! `fleetdeck demo`: a scratch repository with a small real project (a POSIX
//! shell calculator whose `sh test.sh` is the verify gate), simulated agents
//! and a simulated supervisor, and a goal given to the supervisor at start:
//! its plan (dependencies, a verify failure, a task that fails twice and is
//! split, a merge conflict, a long task) arrives as a plan diff to confirm
//! (in the cockpit; headless, `autonomy = "auto"` applies it), and runs to
//! the end. No API key, no network.

use std::path::{Path, PathBuf};

use clap::Args;
use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};

use super::logging;
use crate::core::{Command, MergeBlock, Status};
use crate::runtime::{Engine, EngineOptions};

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
    /// Whether the supervisor's proposals wait for you as a plan diff
    /// (`confirm`, the cockpit's default) or apply by themselves (`auto`,
    /// the headless default).
    #[arg(long, value_parser = ["confirm", "auto"])]
    pub autonomy: Option<String>,
}

/// The goal the demo gives the supervisor: the first line is what the
/// cockpit shows, the second names the plan the sim planner answers with.
pub const GOAL: &str = "Grow tally into a small calculator: operations with tests, docs, greetings and a benchmark\nplan-file plan.json";

const FILES: [(&str, &str); 5] = [
    ("tally.sh", include_str!("../../assets/demo/tally.sh")),
    ("test.sh", include_str!("../../assets/demo/test.sh")),
    ("README.md", include_str!("../../assets/demo/README.md")),
    (
        "greeting.txt",
        include_str!("../../assets/demo/greeting.txt"),
    ),
    ("plan.json", include_str!("../../assets/demo/plan.json")),
];
const FLEET: &str = include_str!("../../assets/demo/fleet.toml");

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
    let autonomy = match &args.autonomy {
        Some(a) => a.as_str(),
        None if args.headless => "auto",
        None => "confirm",
    };
    if let Err(e) = create(&dir, long_secs, autonomy) {
        eprintln!(
            "fleetdeck: cannot create the demo repository in {}: {e}",
            dir.display()
        );
        return 1;
    }
    println!("demo repository: {}", dir.display());
    if !args.headless {
        let goal = Command::Plan { goal: GOAL.into() };
        let code = super::cockpit::main_with(&dir, theme, Some(goal));
        println!(
            "demo repository: {} (`fleetdeck -C {}` opens it again)",
            dir.display(),
            dir.display()
        );
        return code;
    }
    logging::init(&dir);
    super::block_on(headless(&dir));
    explain(&dir)
}

/// Gives the supervisor the goal and runs the fleet, auto-approving, until
/// nothing can progress (its proposals apply by themselves: `autonomy = "auto"`).
async fn headless(dir: &Path) -> i32 {
    let options = EngineOptions {
        auto_approve: true,
        ..EngineOptions::default()
    };
    let mut engine = match Engine::open(dir, options) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return e.exit_code();
        }
    };
    let printer = tokio::spawn(super::run::print(engine.subscribe(), false));
    engine.start();
    if let Err(e) = engine.command(Command::Plan { goal: GOAL.into() }) {
        eprintln!("fleetdeck: {e}");
    }
    engine.run(true).await;
    let code = super::run::finish(&engine, false);
    drop(engine); // closes the event stream
    let _ = printer.await;
    code
}

/// Writes the project, its fleet.toml (the supervisor's `autonomy` as
/// given) and the supervisor's plan file, and commits them on `main`.
pub fn create(dir: &Path, long_secs: u64, autonomy: &str) -> Result<(), String> {
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
    let long_ms = (long_secs * 500).to_string();
    for (name, text) in FILES {
        let text = text.replace("{LONG_MS}", &long_ms);
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    let fleet = FLEET.replace("{AUTONOMY}", autonomy);
    std::fs::write(dir.join(crate::config::FILE_NAME), fleet).map_err(|e| e.to_string())?;
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
/// except the one that conflicts on purpose, and `div`, which the
/// supervisor split into parts that are done).
fn explain(dir: &Path) -> i32 {
    let Ok(store) = crate::store::Store::open(&dir.join(".fleet")) else {
        return 1;
    };
    let Ok(tasks) = store.load_tasks() else {
        return 1;
    };
    let split = tasks.iter().any(|t| {
        t.spec
            .split_from
            .as_ref()
            .is_some_and(|f| f.as_str() == "div")
    });
    let as_designed = split
        && tasks.iter().all(|t| match &t.status {
            Status::Done { .. } => true,
            Status::Dropped => t.spec.id.as_str() == "div",
            Status::Review {
                block: Some(MergeBlock::Conflict { files }),
                ..
            } => files == &["greeting.txt".to_owned()],
            // neg ran on two profiles: the pick is the user's.
            Status::Comparing => t.spec.id.as_str() == "neg",
            Status::Review { block: None, .. } => t
                .spec
                .candidate_of
                .as_ref()
                .is_some_and(|p| p.as_str() == "neg"),
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
    println!("greet-fr sent a blocker message (the card's marker; M in the cockpit).");
    println!(
        "add published a contract that mul's prompt carried; the reviewer sent mul back once:"
    );
    println!("  fleetdeck -C {} context", dir.display());
    println!("  fleetdeck -C {} log mul", dir.display());
    println!("sq-impl, sq-test and sq-docs landed as one change (the group's gate sent sq-impl");
    println!("back once with the tester's failing test). neg ran on two profiles; pick one:");
    println!("  fleetdeck -C {} pick neg neg--checker", dir.display());
    println!("div failed twice; the supervisor split it into div-1 and div-2 (its reasoning:");
    println!("  fleetdeck -C {} plan --history", dir.display());
    println!("  fleetdeck -C {} status", dir.display());
    println!(
        "  fleetdeck -C {} log pow     # attempt 2 got the verify failure of attempt 1",
        dir.display()
    );
    if as_designed { 0 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::planner::{
        AgentProfile, PlanningContext, RepoSummary, extract, planning_prompt, validate,
    };

    #[test]
    fn the_demo_goal_is_planned_from_the_plan_file_for_the_demo_agents() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("demo");
        create(&repo, 1, "confirm").unwrap();
        let config = crate::config::Config::load(&repo).unwrap();
        let sup = config.supervisor.as_ref().expect("a [supervisor]");
        assert_eq!(sup.agent, "planner");
        assert!(config.tasks.is_empty(), "no hand-written tasks");
        let agents: Vec<AgentProfile> = config
            .agents
            .iter()
            .map(|(name, p)| AgentProfile {
                name: name.clone(),
                strengths: p.strengths.clone(),
                cost: p.cost.clone(),
            })
            .collect();
        let summary = RepoSummary {
            verify: config.verify.commands.clone(),
            ..RepoSummary::default()
        };
        let prompt = planning_prompt(&PlanningContext {
            goal: GOAL,
            repo: &summary,
            agents: &agents,
            roles: &[],
            current: &[],
            situation: None,
        });
        let mut out = Vec::new();
        let opts = crate::sim::Options::default();
        assert_eq!(crate::sim::run_with(&prompt, 1, &opts, &repo, &mut out), 0);
        let plan = extract(&String::from_utf8(out).unwrap()).unwrap();
        let file = std::fs::read_to_string(repo.join("plan.json")).unwrap();
        assert_eq!(plan, extract(&file).unwrap());
        assert!(
            !file.contains("{LONG_MS}"),
            "the long task's time is filled in"
        );
        let names: Vec<String> = config.agents.keys().cloned().collect();
        let v = validate(&plan, &names, &[], &[]).expect("accepted");
        assert_eq!(v.specs.len(), 13);
        let sq: Vec<&str> = v
            .specs
            .iter()
            .filter(|s| s.group.as_deref() == Some("sq"))
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(sq, ["sq-impl", "sq-test", "sq-docs"], "one group of three");
        let neg = v.specs.iter().find(|s| s.id.as_str() == "neg").unwrap();
        assert_eq!(neg.fanout, ["builder", "checker"]);
        // greet-en and greet-fr touch the same file on purpose: one warning.
        assert_eq!(v.warnings.len(), 1, "{:?}", v.warnings);
        assert!(v.warnings[0].contains("greeting.txt"), "{:?}", v.warnings);
    }
}
