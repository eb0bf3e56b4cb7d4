//! The command line: argument parsing (clap) and one module per subcommand.

mod agent_env;
mod cockpit;
mod context;
mod demo;
mod doctor;
mod fanout_cmds;
mod gc;
mod init;
mod log;
mod logging;
mod msg;
mod plan;
mod recover;
mod report;
mod run;
mod status;
mod task_cmds;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::git;

const ABOUT: &str =
    "Supervise a fleet of AI coding agents working in parallel on one git repository.";

const LONG_ABOUT: &str = "\
Supervise a fleet of AI coding agents working in parallel on one git repository.

A plan (the [[task]] tables of fleet.toml) is a graph of tasks. fleetdeck runs
each ready task's agent CLI headless in its own git worktree and branch
(.fleet/worktrees/<id> on fleet/<id>), commits what the agent changed with
attribution trailers, runs the [verify] commands, and holds the result for
review. Approved work merges into the target branch in dependency order,
without ever overwriting uncommitted changes in your checkout.

State lives in .fleet/ (ignored through .git/info/exclude): the database,
transcripts, worktrees and the log file.

Start with `fleetdeck demo --headless` (no API key needed), or `fleetdeck init`
in your repository.";

#[derive(Parser, Debug)]
#[command(name = "fleetdeck", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    /// The repository to work on (default: the one containing the current directory).
    #[arg(short = 'C', long, global = true, value_name = "DIR")]
    repo: Option<PathBuf>,
    /// Cockpit theme: dark, light, high-contrast, mono, or a path to a theme file
    /// (default: [ui] theme in fleet.toml, or mono when NO_COLOR is set).
    #[arg(long, global = true, value_name = "NAME")]
    theme: Option<String>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Write a commented fleet.toml for this repository.
    Init {
        /// Overwrite an existing fleet.toml.
        #[arg(long)]
        force: bool,
    },
    /// Run the fleet in the cockpit (or --headless): start ready tasks, verify, merge what is approved.
    Run(RunArgs),
    /// Show every task: status, column, agent, attempts, cost and why it waits.
    Status {
        /// Print one JSON document {"tasks": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// Add a task to the plan (stored in .fleet/, not in fleet.toml).
    Add(task_cmds::AddArgs),
    /// Approve a task in review: merge it into the target now.
    Approve { id: String },
    /// Reject a task in review: it becomes Failed; a retry starts over from the target.
    Reject { id: String },
    /// Pick one candidate of a fan-out task whose candidates have finished:
    /// it merges as the task's work; the others' work is saved under
    /// refs/fleet/discarded/<task>/<candidate>/<attempt> and they are dropped.
    Pick { id: String, candidate: String },
    /// Run a queued task once per agent profile (at least two), each
    /// candidate a task of its own; pick one when they have finished.
    Fanout {
        id: String,
        #[arg(required = true, num_args = 2..)]
        agents: Vec<String>,
    },
    /// Queue a failed task again, with a fresh allowance of attempts.
    Retry { id: String },
    /// Run a task with another agent profile from now on. A task in review
    /// stays in review (its diff approvable): the new agent makes its next attempt.
    Reassign { id: String, agent: String },
    /// Bring a task in review onto the target's tip (after a merge conflict).
    ///
    /// A clean update is verified again and returns to review; a conflicting
    /// one leaves the conflict markers in the task's worktree. On a task
    /// whose update conflicted, sends its agent to resolve them.
    Update { id: String },
    /// Resolve a task's update conflict yourself: opens $EDITOR on the
    /// conflicting files (or $SHELL), then verifies the result.
    Resolve(task_cmds::ResolveArgs),
    /// Show or set a budget: a task's (with its id) or the whole fleet's.
    ///
    /// A task crossing its budget has its agent paused (not killed) and waits
    /// until the budget is raised; the fleet crossing its budget pauses the
    /// fleet. Without --usd or --tokens, prints the limits and what was spent.
    Budget(task_cmds::BudgetArgs),
    /// Send a task in review back to its agent with feedback.
    RequestChanges {
        id: String,
        /// What the agent should change.
        #[arg(required = true, num_args = 1..)]
        feedback: Vec<String>,
    },
    /// Ask the supervisor for a plan for a goal and print it as a plan diff (--yes applies it).
    ///
    /// The planner ([supervisor] agent) runs headless in a read-only scratch
    /// worktree at the target's tip; its answer is checked with the plan rules
    /// (and asked again with the errors, up to [supervisor] reask_limit). The
    /// proposal is printed as a plan diff and a task graph with its reasoning
    /// and warnings; it waits to be confirmed (`--yes`, or in the cockpit).
    /// `--dry-run` prints it and records nothing. Exit code 1 when the answer
    /// was refused or the planner failed.
    Plan(plan::PlanArgs),
    /// Print a task's transcript (the latest attempt by default), sanitized.
    Log(log::LogArgs),
    /// Rebuild a lost or emptied .fleet/fleet.db from git, so no task runs or merges twice.
    ///
    /// A task of fleet.toml whose `Fleet-Task` merge is on the target branch's
    /// first-parent history becomes done; one whose fleet/<id> branch has
    /// commits of its own goes to review (approve it to merge); any other is
    /// queued. Task ids that only git knows (branches, refs/fleet/*) are
    /// listed, not added. Prints one line per task. Refuses a database that
    /// still holds tasks unless --force.
    Recover {
        /// Replace the state of tasks the database already holds with what git says.
        #[arg(long)]
        force: bool,
    },
    /// Remove the worktrees and fleet/* branches of done and dropped tasks, never unmerged work.
    ///
    /// A worktree goes when it has no uncommitted changes; a branch when its
    /// commits are on the target, or after its tip is saved under
    /// refs/fleet/merged/<id>/... (done: its merge is on the target) or
    /// refs/fleet/dropped/<id>/... (dropped). Anything of a task that is not
    /// done or dropped, and a done task's branch with work that was not merged,
    /// stays. Prints what it would remove and why that is safe; removes it with
    /// --yes. Refuses while an engine runs the fleet.
    Gc {
        /// Remove what is listed (without it, only print).
        #[arg(long)]
        yes: bool,
        /// Also list what stays, and why.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Create a scratch repository with a small project and a plan of simulated agents, and open the cockpit on it.
    Demo(demo::DemoArgs),
    /// Check that the agent CLIs, git, the terminal and fleet.toml are ready to use.
    ///
    /// Prints a plain-text report: each agent CLI fleetdeck knows (found on PATH,
    /// its --version, which must answer within 5 s), the agent profiles of
    /// fleet.toml whose command cannot be found, git and libgit2, the repository
    /// and its branch, the terminal (TERM, COLORTERM, NO_COLOR, tmux, SSH, colour
    /// support) and whether fleet.toml is valid. Writes nothing.
    ///
    /// Exit codes: 0 when nothing must be fixed (missing agent CLIs and a missing
    /// fleet.toml are reported but are fine); 1 when fleet.toml is invalid, an
    /// agent profile's command cannot be found, or the directory is not inside a
    /// git repository.
    Doctor,
    /// The simulated agent: run a script of directives, printing Claude Code's stream-json.
    ///
    /// One directive per line: `say TEXT`, `write PATH TEXT`, `append PATH TEXT`
    /// (`\n` escapes in TEXT), `run SHELL-COMMAND`, `sleep MS`, `cost USD`,
    /// `fail MESSAGE` (exit 1), `if-attempt N DIRECTIVE` (only on attempt N, from
    /// FLEET_ATTEMPT). Any other line is echoed as assistant text.
    SimAgent {
        /// The script (usually the task's prompt, through `{prompt}`).
        script: String,
        /// A JSON Schema for the answer (as Claude's `--json-schema`): a
        /// planner's `result` line then carries `structured_output`.
        #[arg(long, value_name = "SCHEMA")]
        json_schema: Option<String>,
        /// Continue this session (as Claude's `--resume`).
        #[arg(long, value_name = "SESSION")]
        resume: Option<String>,
    },
    /// Send a typed message to the team (run by an agent from its worktree).
    ///
    /// KIND is one of progress, blocker, artifact, decision, contract,
    /// constraint, query, conflict, review-request, review-result, replan,
    /// checkpoint. Decisions, contracts and constraints go into the team's
    /// context store; a blocker marks the task's card and reaches the
    /// supervisor; progress counts as progress for stall detection.
    Msg {
        /// What the message is (one of the kinds above).
        kind: String,
        /// The message.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        /// A file or directory the message is about (relative; repeatable).
        #[arg(long = "path", value_name = "P")]
        paths: Vec<String>,
    },
    /// The team's shared context: decisions, contracts, constraints, conventions, progress.
    Context(context::ContextArgs),
    /// Run by an agent from its worktree: tell the supervisor that the task
    /// is bigger than planned (complexity) or about work the plan lacks (found).
    ///
    /// Needs FLEET_DIR, FLEET_TASK and FLEET_ATTEMPT, which fleetdeck sets for
    /// every agent it runs; writes one message into .fleet/inbox/, which the
    /// engine takes at once (or at its next start) into the event log.
    Report {
        kind: report::KindArg,
        /// What the agent found.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// The engine's watchdog (started by the engine, not listed): waits for
    /// end of file on stdin, then kills what the engine's agents left.
    #[command(name = "__watchdog", hide = true)]
    Watchdog {
        /// The fleet (only to name it in `ps`).
        fleet_dir: PathBuf,
        /// Prefix of the engine's cgroup leaves.
        token: String,
        /// The fleet cgroup (none: the fallback).
        cgroup: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct RunArgs {
    /// Run without the full-screen cockpit, printing one line per state change, until nothing can progress.
    #[arg(long)]
    pub headless: bool,
    /// Approve (merge) every task that passes its verify gate.
    #[arg(long)]
    pub auto_approve: bool,
    /// Resume a paused fleet (after an interrupted run the fleet starts paused).
    #[arg(long)]
    pub resume: bool,
    /// With --headless: print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Parses the command line and runs it; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Cmd::SimAgent {
            script,
            json_schema,
            resume,
        }) => {
            let attempt = std::env::var("FLEET_ATTEMPT")
                .ok()
                .and_then(|a| a.parse().ok())
                .unwrap_or(1);
            let opts = crate::sim::Options {
                json_schema: json_schema.is_some(),
                resume,
            };
            let dir = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
            crate::sim::run_with(&script, attempt, &opts, &dir, &mut std::io::stdout().lock())
        }
        Some(Cmd::Watchdog {
            fleet_dir: _,
            token,
            cgroup,
        }) => crate::runtime::contain::watchdog::main(&token, cgroup.as_deref()),
        Some(Cmd::Report { kind, text }) => report::main(kind, &text.join(" ")),
        Some(Cmd::Msg { kind, text, paths }) => msg::main(&kind, &text.join(" "), &paths),
        Some(Cmd::Context(args)) => context::main(cli.repo.as_deref(), args),
        Some(Cmd::Demo(args)) => demo::main(args, cli.theme.as_deref()),
        Some(Cmd::Doctor) => doctor::main(cli.repo.as_deref()),
        Some(Cmd::Plan(args)) if args.schema => plan::schema(),
        command => match repo_root(cli.repo.as_deref()) {
            Err(message) => {
                eprintln!("fleetdeck: {message}");
                2
            }
            Ok(root) => match command {
                Some(Cmd::Init { force }) => init::main(&root, force),
                Some(Cmd::Run(args)) if args.headless => run::main(&root, args),
                Some(Cmd::Run(args)) => {
                    if args.auto_approve || args.resume || args.json {
                        eprintln!(
                            "fleetdeck: --auto-approve, --resume and --json go with --headless (in the cockpit, P resumes and a approves)"
                        );
                        2
                    } else {
                        cockpit::main(&root, cli.theme.as_deref())
                    }
                }
                None => cockpit::main(&root, cli.theme.as_deref()),
                Some(Cmd::Status { json }) => status::main(&root, json),
                Some(Cmd::Add(args)) => task_cmds::add(&root, args),
                Some(Cmd::Approve { id }) => task_cmds::approve(&root, &id),
                Some(Cmd::Reject { id }) => task_cmds::reject(&root, &id),
                Some(Cmd::Pick { id, candidate }) => fanout_cmds::pick(&root, &id, &candidate),
                Some(Cmd::Fanout { id, agents }) => fanout_cmds::fanout(&root, &id, agents),
                Some(Cmd::Retry { id }) => task_cmds::retry(&root, &id),
                Some(Cmd::Reassign { id, agent }) => task_cmds::reassign(&root, &id, agent),
                Some(Cmd::Update { id }) => task_cmds::update(&root, &id),
                Some(Cmd::Resolve(args)) => task_cmds::resolve(&root, args),
                Some(Cmd::Budget(args)) => task_cmds::budget(&root, args),
                Some(Cmd::RequestChanges { id, feedback }) => {
                    task_cmds::request_changes(&root, &id, &feedback.join(" "))
                }
                Some(Cmd::Log(args)) => log::main(&root, args),
                Some(Cmd::Plan(args)) => plan::main(&root, args),
                Some(Cmd::Recover { force }) => recover::main(&root, force),
                Some(Cmd::Gc { yes, verbose }) => gc::main(&root, yes, verbose),
                Some(
                    Cmd::SimAgent { .. }
                    | Cmd::Watchdog { .. }
                    | Cmd::Demo(_)
                    | Cmd::Doctor
                    | Cmd::Report { .. }
                    | Cmd::Msg { .. }
                    | Cmd::Context(_),
                ) => 2,
            },
        },
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// The agent profiles `fleetdeck init` can write, by program name.
pub fn init_profiles() -> &'static [(&'static str, &'static str)] {
    &init::PROFILES
}

/// The repository's main working tree.
fn repo_root(dir: Option<&Path>) -> Result<PathBuf, String> {
    let start = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?,
    };
    git::discover_root(&start)
        .map_err(|e| format!("{e}\nfleetdeck works inside a git repository (or pass -C DIR)."))
}

/// Runs `work` on a multi-threaded tokio runtime made for this command; its exit code.
fn block_on(work: impl std::future::Future<Output = i32>) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(work),
        Err(e) => {
            eprintln!("fleetdeck: cannot start the async runtime: {e}");
            1
        }
    }
}
