//! `fleetdeck doctor`: checks what fleetdeck needs on this machine (the agent
//! CLIs, git, the terminal, `fleet.toml`) and says how to fix what is wrong.
//!
//! [`gather`] collects the facts into a [`Report`] without printing anything;
//! [`render`] turns a report into plain text; [`Report::problems`] lists what
//! must be fixed and so decides the exit code. Doctor writes nothing: no
//! `.fleet/`, no file.

use std::io::{IsTerminal, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::init::{PROFILES, on_path};
use crate::config::{Config, FILE_NAME};
use crate::git::GitError;
use crate::sanitize::sanitize;

/// How long a program gets to answer `--version` before it is killed.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a running `--version` is checked for exit.
const POLL: Duration = Duration::from_millis(20);
/// Bytes kept per output stream of a `--version` run; the rest is read and dropped.
const OUTPUT_LIMIT: usize = 64 * 1024;
/// Longest version text shown, in characters.
const VERSION_WIDTH: usize = 80;

/// Everything doctor found out, before any of it is printed.
#[derive(Debug)]
pub struct Report {
    /// Each agent CLI fleetdeck knows ([`PROFILES`]), in that order.
    pub agents: Vec<AgentCli>,
    /// The `git` command (informational: fleetdeck uses libgit2).
    pub git_command: Probe,
    /// The libgit2 version fleetdeck is built with.
    pub libgit2: (u32, u32, u32),
    pub repo: RepoFacts,
    pub terminal: TerminalFacts,
    pub config: ConfigFacts,
}

/// One agent CLI and what probing it gave.
#[derive(Debug)]
pub struct AgentCli {
    pub program: &'static str,
    pub probe: Probe,
}

/// What looking for a program on PATH and running `program --version` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The program is not on PATH.
    Missing,
    /// It exited successfully: the first non-empty line of its output (stdout,
    /// else stderr), trimmed and sanitized; empty when it printed nothing.
    Version(String),
    /// It exited unsuccessfully (`status` describes how), printing `line` first.
    Failed {
        status: String,
        line: Option<String>,
    },
    /// It did not exit within the timeout, and was killed with its process group.
    TimedOut,
    /// It could not be started (not executable, bad interpreter...): the OS error.
    CannotRun(String),
}

/// Where doctor runs, as git sees it.
#[derive(Debug)]
pub enum RepoFacts {
    /// Inside a repository: its main working tree and the branch checked out
    /// there (None when HEAD is detached or the branch has no commit yet).
    Found {
        root: PathBuf,
        branch: Option<String>,
    },
    /// Not inside a repository with a working tree; git's reason.
    NotFound(String),
}

/// The terminal doctor's output goes to, and the environment that describes it.
#[derive(Debug)]
pub struct TerminalFacts {
    pub stdout_is_terminal: bool,
    pub term: Option<String>,
    pub colorterm: Option<String>,
    /// `NO_COLOR` is set to a non-empty value.
    pub no_color: bool,
    /// `TMUX` is set.
    pub tmux: bool,
    /// `SSH_TTY` or `SSH_CONNECTION` is set.
    pub ssh: bool,
    pub colours: Colours,
}

/// Colour support deduced from `NO_COLOR`, `COLORTERM` and `TERM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colours {
    None,
    Ansi16,
    Ansi256,
    TrueColor,
}

/// What doctor found out about `fleet.toml`.
#[derive(Debug)]
pub enum ConfigFacts {
    /// Not looked for: doctor is not inside a repository.
    NotChecked,
    /// The repository has no `fleet.toml` (at this path).
    Absent(PathBuf),
    /// It loads; `unrunnable` lists the profiles whose program cannot be found.
    Valid {
        path: PathBuf,
        tasks: usize,
        agents: usize,
        unrunnable: Vec<Unrunnable>,
    },
    /// It does not load: the error message, which names file:line:col.
    Invalid(String),
}

/// An agent profile whose first argv word is not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrunnable {
    pub profile: String,
    pub program: String,
}

impl Report {
    /// What must be fixed before fleetdeck can run, each with how; empty when
    /// nothing is wrong. Missing agent CLIs are not problems (a fleet needs
    /// only the ones its profiles name), nor is a missing `fleet.toml`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let RepoFacts::NotFound(_) = self.repo {
            problems.push(
                "not inside a git repository: run `fleetdeck doctor` in your repository, or pass -C DIR"
                    .to_owned(),
            );
        }
        match &self.config {
            ConfigFacts::Invalid(_) => problems.push(format!(
                "{FILE_NAME} is invalid: fix it at the place named above"
            )),
            ConfigFacts::Valid { unrunnable, .. } => {
                for u in unrunnable {
                    problems.push(format!(
                        "agent profile `{}` runs `{}`, which {}: install it, or change [agents.{}] command in {FILE_NAME}",
                        u.profile,
                        u.program,
                        not_found_reason(&u.program),
                        u.profile
                    ));
                }
            }
            ConfigFacts::NotChecked | ConfigFacts::Absent(_) => {}
        }
        problems
    }

    /// The exit code: 0 when nothing must be fixed, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.problems().is_empty() { 0 } else { 1 }
    }
}

/// Runs doctor on the repository containing `dir` (default: the current
/// directory), prints the report and returns the exit code.
pub fn main(dir: Option<&Path>) -> i32 {
    let report = gather(dir);
    print!("{}", render(&report));
    report.exit_code()
}

/// Collects every fact, probing the agent CLIs and git in parallel, so that
/// the whole check takes at most about [`VERSION_TIMEOUT`].
pub fn gather(dir: Option<&Path>) -> Report {
    let repo = find_repo(dir);
    let config = match &repo {
        RepoFacts::Found { root, .. } => check_config(root),
        RepoFacts::NotFound(_) => ConfigFacts::NotChecked,
    };
    let (agents, git_command) = std::thread::scope(|scope| {
        let handles: Vec<_> = PROFILES
            .iter()
            .map(|(program, _)| (*program, scope.spawn(|| probe(program, VERSION_TIMEOUT))))
            .collect();
        let git = probe("git", VERSION_TIMEOUT);
        let agents = handles
            .into_iter()
            .map(|(program, handle)| AgentCli {
                program,
                probe: handle
                    .join()
                    .unwrap_or_else(|_| Probe::CannotRun("the check itself failed".to_owned())),
            })
            .collect();
        (agents, git)
    });
    Report {
        agents,
        git_command,
        libgit2: git2::Version::get().libgit2_version(),
        repo,
        terminal: terminal(),
        config,
    }
}

/// Finds the repository containing `dir` (or the current directory).
fn find_repo(dir: Option<&Path>) -> RepoFacts {
    let start = match dir {
        Some(d) => d.to_path_buf(),
        None => match std::env::current_dir() {
            Ok(d) => d,
            Err(e) => {
                return RepoFacts::NotFound(format!("cannot read the current directory: {e}"));
            }
        },
    };
    match crate::git::discover_root(&start) {
        Ok(root) => {
            let root: PathBuf = root.components().collect(); // no trailing slash
            let branch = crate::git::current_branch(&root).ok().flatten();
            RepoFacts::Found { root, branch }
        }
        Err(GitError::Git { source, .. }) if source.code() == git2::ErrorCode::NotFound => {
            RepoFacts::NotFound(format!("none found at or above {}", start.display()))
        }
        Err(e) => RepoFacts::NotFound(e.to_string()),
    }
}

/// Loads `fleet.toml` from `root` and checks that its profiles can start.
fn check_config(root: &Path) -> ConfigFacts {
    match Config::load(root) {
        Ok(config) => {
            let unrunnable = config
                .agents
                .iter()
                .filter_map(|(name, profile)| {
                    let program = profile.command.first()?;
                    (!program_found(program, root)).then(|| Unrunnable {
                        profile: name.clone(),
                        program: program.clone(),
                    })
                })
                .collect();
            ConfigFacts::Valid {
                path: config.path,
                tasks: config.tasks.len(),
                agents: config.agents.len(),
                unrunnable,
            }
        }
        Err(e) if e.is_missing() => ConfigFacts::Absent(root.join(FILE_NAME)),
        Err(e) => ConfigFacts::Invalid(e.to_string()),
    }
}

/// Whether a profile's program can be started: a bare `fleetdeck` is the
/// running executable; a word with a `/` is a path (relative ones from the
/// repository root); any other word is looked up on PATH. A word with a
/// placeholder is only known per task, and counts as found.
fn program_found(program: &str, root: &Path) -> bool {
    if program == "fleetdeck" || program.contains('{') {
        true
    } else if program.contains('/') {
        is_executable(&root.join(program))
    } else {
        on_path(program)
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Why [`program_found`] said no, in words.
fn not_found_reason(program: &str) -> &'static str {
    if program.contains('/') {
        "is not an executable file"
    } else {
        "is not on PATH"
    }
}

/// Looks for `program` on PATH and, when found, runs `program --version`.
fn probe(program: &str, timeout: Duration) -> Probe {
    if on_path(program) {
        run_version(Command::new(program), timeout)
    } else {
        Probe::Missing
    }
}

/// Runs `cmd --version` with stdin null and its output captured, in its own
/// process group; after `timeout` the group is killed (so a shell script's
/// children die too and cannot hold the output pipes open).
fn run_version(mut cmd: Command, timeout: Duration) -> Probe {
    cmd.arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Probe::CannotRun(e.to_string()),
    };
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        drain(out, 0, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        drain(err, 1, tx);
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            Ok(None) => {
                kill_group(&mut child);
                return Probe::TimedOut;
            }
            Err(e) => {
                kill_group(&mut child);
                return Probe::CannotRun(e.to_string());
            }
        }
    };
    // The program has exited; a child it left behind may still hold the pipes,
    // so its output is collected only until the deadline (and a short grace).
    let until = deadline.max(Instant::now() + Duration::from_millis(200));
    let mut output = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok((stream, bytes)) => output[stream] = bytes,
            Err(_) => break,
        }
    }
    let line = first_line(&output[0]).or_else(|| first_line(&output[1]));
    if status.success() {
        Probe::Version(line.unwrap_or_default())
    } else {
        let status = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_owned(),
        };
        Probe::Failed { status, line }
    }
}

/// Reads `from` to its end on a thread, keeping its first [`OUTPUT_LIMIT`]
/// bytes, and sends them tagged with `stream`.
fn drain(from: impl Read + Send + 'static, stream: usize, tx: mpsc::Sender<(usize, Vec<u8>)>) {
    std::thread::spawn(move || {
        let mut from = from.take(OUTPUT_LIMIT as u64);
        let mut kept = Vec::new();
        let _ = from.read_to_end(&mut kept);
        let _ = std::io::copy(&mut from.into_inner(), &mut std::io::sink());
        let _ = tx.send((stream, kept));
    });
}

/// Kills the child's process group (the child leads it), then reaps the child.
fn kill_group(child: &mut std::process::Child) {
    use nix::sys::signal::{Signal, killpg};
    let killed = i32::try_from(child.id())
        .is_ok_and(|pid| killpg(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL).is_ok());
    if !killed {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// The first non-empty line of `bytes`, trimmed, sanitized and shortened to
/// [`VERSION_WIDTH`] characters.
fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .map(|l| sanitize(l).trim().to_owned())
        .find(|l| !l.is_empty())?;
    if line.chars().count() > VERSION_WIDTH {
        let short: String = line.chars().take(VERSION_WIDTH - 1).collect();
        Some(format!("{short}…"))
    } else {
        Some(line)
    }
}

/// The terminal facts from stdout and the environment.
fn terminal() -> TerminalFacts {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(|v| sanitize(&v.to_string_lossy()).into_owned())
    };
    let term = var("TERM");
    let colorterm = var("COLORTERM");
    let no_color = crate::ui::theme::no_color_env();
    TerminalFacts {
        stdout_is_terminal: std::io::stdout().is_terminal(),
        colours: colours(term.as_deref(), colorterm.as_deref(), no_color),
        tmux: var("TMUX").is_some(),
        ssh: var("SSH_TTY").is_some() || var("SSH_CONNECTION").is_some(),
        term,
        colorterm,
        no_color,
    }
}

/// Colour support as terminals advertise it: `NO_COLOR` wins, then
/// `COLORTERM=truecolor|24bit`, then `TERM` (unset or `dumb`: none;
/// `*-direct`: true colour; `*256color*`: 256; anything else: 16).
pub fn colours(term: Option<&str>, colorterm: Option<&str>, no_color: bool) -> Colours {
    if no_color {
        return Colours::None;
    }
    let term = term.unwrap_or("");
    if term.is_empty() || term == "dumb" {
        Colours::None
    } else if matches!(colorterm, Some("truecolor" | "24bit")) || term.ends_with("-direct") {
        Colours::TrueColor
    } else if term.contains("256color") {
        Colours::Ansi256
    } else {
        Colours::Ansi16
    }
}

/// Said when HEAD is on no branch with a commit.
const NO_BRANCH: &str =
    "no branch with a commit (detached HEAD, or no commit yet): set [fleet] target or commit";

// The marks in front of the report's lines.
const OK: &str = "ok";
const MISSING: &str = "missing";
const WARNING: &str = "warning";
const ERROR: &str = "error";

/// Appends `  <mark> <label> <detail>`, marks and labels in aligned columns;
/// further lines of `detail` are indented under its first.
fn row(out: &mut String, mark: &str, label: &str, detail: &str) {
    let mut lines = detail.lines();
    let first = format!("  {mark:<8} {label:<13} {}", lines.next().unwrap_or(""));
    out.push_str(first.trim_end());
    out.push('\n');
    for more in lines {
        out.push_str(&format!("{:25}{more}\n", ""));
    }
}

/// The report as plain text (no colour codes), ending with what to fix.
pub fn render(report: &Report) -> String {
    let mut out = String::from("Agent CLIs\n");
    for agent in &report.agents {
        let (mark, detail) = describe_probe(&agent.probe, agent.program);
        row(&mut out, mark, agent.program, &detail);
    }
    if let ConfigFacts::Valid { unrunnable, .. } = &report.config {
        for u in unrunnable {
            let why = not_found_reason(&u.program);
            let detail = format!("runs `{}`, which {why}", u.program);
            row(&mut out, ERROR, &format!("[agents.{}]", u.profile), &detail);
        }
    }

    out.push_str("\ngit\n");
    let (mark, detail) = describe_probe(&report.git_command, "git");
    let detail = format!("{detail} (informational: fleetdeck uses libgit2)");
    row(&mut out, mark, "git command", &detail);
    let (major, minor, patch) = report.libgit2;
    row(&mut out, OK, "libgit2", &format!("{major}.{minor}.{patch}"));
    match &report.repo {
        RepoFacts::Found { root, branch } => {
            row(&mut out, OK, "repository", &root.display().to_string());
            match branch {
                Some(b) => row(&mut out, OK, "checked out", &format!("branch {b}")),
                None => row(&mut out, WARNING, "checked out", NO_BRANCH),
            }
        }
        RepoFacts::NotFound(why) => {
            let detail = format!("not in a git repository: {why}");
            row(&mut out, ERROR, "repository", &detail);
        }
    }

    out.push_str("\nTerminal\n");
    describe_terminal(&mut out, &report.terminal);

    out.push_str("\nConfiguration\n");
    let (mark, detail) = match &report.config {
        ConfigFacts::NotChecked => (MISSING, "not checked: not in a git repository".to_owned()),
        ConfigFacts::Absent(path) => {
            let path = path.display();
            (
                MISSING,
                format!("{path} does not exist: `fleetdeck init` creates one"),
            )
        }
        ConfigFacts::Valid {
            path,
            tasks,
            agents,
            ..
        } => {
            let (path, tasks) = (path.display(), count(*tasks, "task", "tasks"));
            let agents = count(*agents, "agent profile", "agent profiles");
            (OK, format!("{path} is valid: {tasks}, {agents}"))
        }
        ConfigFacts::Invalid(message) => (ERROR, format!("invalid\n{message}")),
    };
    row(&mut out, mark, FILE_NAME, &detail);

    let problems = report.problems();
    if problems.is_empty() {
        out.push_str("\nEverything fleetdeck needs works.\n");
    } else {
        let n = count(problems.len(), "problem", "problems");
        out.push_str(&format!("\n{n} to fix:\n"));
        for p in problems {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    out
}

/// `1 task`, `2 tasks`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The mark and words for a probed program.
fn describe_probe(probe: &Probe, program: &str) -> (&'static str, String) {
    match probe {
        Probe::Missing => (MISSING, "not on PATH".to_owned()),
        Probe::Version(v) if v.is_empty() => (OK, "found (--version printed nothing)".to_owned()),
        Probe::Version(v) => (OK, v.clone()),
        Probe::TimedOut => {
            let secs = VERSION_TIMEOUT.as_secs();
            (WARNING, format!("did not answer --version within {secs} s"))
        }
        Probe::Failed { status, line } => {
            let said = line
                .as_deref()
                .map(|l| format!(": {l}"))
                .unwrap_or_default();
            (
                WARNING,
                format!("`{program} --version` failed ({status}){said}"),
            )
        }
        Probe::CannotRun(e) => (WARNING, format!("on PATH but cannot be run: {e}")),
    }
}

fn describe_terminal(out: &mut String, t: &TerminalFacts) {
    let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".to_owned());
    let yes = |b: bool| if b { "yes" } else { "no" };
    let stdout = match t.stdout_is_terminal {
        true => "a terminal",
        false => "not a terminal (the cockpit needs one; `run --headless` does not)",
    };
    row(out, OK, "stdout", stdout);
    let term_mark = if t.term.is_some() { OK } else { WARNING };
    row(out, term_mark, "TERM", &value(&t.term));
    row(out, OK, "COLORTERM", &value(&t.colorterm));
    let no_color = ["not set", "set (the cockpit uses the mono theme)"][usize::from(t.no_color)];
    row(out, OK, "NO_COLOR", no_color);
    row(out, OK, "tmux", yes(t.tmux));
    row(out, OK, "SSH", yes(t.ssh));
    let (mark, colours) = match t.colours {
        Colours::TrueColor => (OK, "true colour"),
        Colours::Ansi256 => (OK, "256 colours"),
        Colours::Ansi16 => (WARNING, "16 colours: try TERM=xterm-256color"),
        Colours::None if t.no_color => (OK, "no colour (NO_COLOR is set)"),
        Colours::None => (WARNING, "no colour: TERM is unset or dumb"),
    };
    let note = "fleetdeck's built-in themes need only 256 colours.";
    row(out, mark, "colours", &format!("{colours}\n{note}"));
}

#[cfg(test)]
mod tests;
