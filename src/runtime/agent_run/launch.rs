//! Step two of an agent run: what exactly is launched, as plain data. Built
//! by a pure function from the profile, the request and the prepared
//! worktree, so tests can assert the argv, environment, working directory
//! and parser without spawning anything.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::agent::{Format, OutputParser, SessionBaseline, isolated_home_env, parser_for_attempt};
use crate::config::{AgentProfile, ArgvVars, render_argv};
use crate::runtime::process;

/// One agent process to start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Launch {
    /// Program and arguments, placeholders substituted (never through a shell).
    pub argv: Vec<String>,
    /// The task's worktree: the working directory, and `PWD`.
    pub cwd: PathBuf,
    /// Every variable set on top of the inherited environment, in order.
    pub env: Vec<(String, OsString)>,
    /// How stdout is parsed.
    pub format: Format,
    /// Set when a session is resumed: what it had already reported.
    pub resumed: Option<SessionBaseline>,
}

/// What [`describe`] needs.
pub(crate) struct LaunchInput<'a> {
    pub profile: &'a AgentProfile,
    pub task: &'a str,
    pub attempt: u32,
    /// The whole prompt, or only the new instructions when a session is resumed.
    pub prompt: &'a str,
    pub worktree: &'a Path,
    pub fleet_dir: &'a Path,
    /// The session to resume, with the usage it already reported.
    pub resume: Option<(&'a str, SessionBaseline)>,
    /// The task's isolated home, when the profile has `isolate_home`.
    pub home: Option<&'a Path>,
    /// This executable: an argv that starts with `fleetdeck` runs it, and
    /// its directory comes first on the agent's `PATH`.
    pub exe: Option<&'a Path>,
    /// The `PATH` fleetdeck inherited.
    pub path: Option<&'a std::ffi::OsStr>,
}

impl Launch {
    /// A fresh parser for this launch's output.
    pub fn parser(&self) -> Box<dyn OutputParser> {
        parser_for_attempt(self.format, self.resumed)
    }
}

/// The launch of one attempt: the profile's command (or its resume form when
/// a session is resumed) with placeholders filled in, run in the worktree
/// with the fleet's variables, the profile's `env`, and the isolated home.
pub(crate) fn describe(input: &LaunchInput) -> Launch {
    let profile = input.profile;
    let template: Vec<String> = match (input.resume, &profile.resume_command, &profile.resume) {
        (Some(_), Some(whole), _) => whole.clone(),
        (Some(_), None, Some(extra)) => profile.command.iter().chain(extra).cloned().collect(),
        _ => profile.command.clone(),
    };
    let mut argv = render_argv(
        &template,
        &ArgvVars {
            prompt: input.prompt,
            task: input.task,
            attempt: input.attempt,
            worktree: &input.worktree.to_string_lossy(),
            session: input.resume.map_or("", |(s, _)| s),
        },
    );
    if let (Some(first), Some(exe)) = (argv.first_mut(), input.exe)
        && first == "fleetdeck"
    {
        *first = exe.to_string_lossy().into_owned();
    }
    // The profile's variables first: the fleet's own (where the agent runs,
    // which task it is) come last and win.
    let mut env: Vec<(String, OsString)> = profile
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.into()))
        .collect();
    if let Some(home) = input.home {
        env.extend(
            isolated_home_env(home)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.into_os_string())),
        );
    }
    env.extend(
        process::spawn_env(input.worktree, input.fleet_dir)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    env.push(("FLEET_TASK".into(), input.task.into()));
    env.push(("FLEET_ATTEMPT".into(), input.attempt.to_string().into()));
    if let Some(path) = agent_path(input) {
        env.push(("PATH".into(), path));
    }
    Launch {
        argv,
        cwd: input.worktree.to_path_buf(),
        env,
        format: profile.format,
        resumed: input.resume.map(|(_, b)| b),
    }
}

/// The agent's `PATH`: this executable's directory first (so that the
/// agent can run `fleetdeck report`), then the profile's `PATH` or the
/// inherited one.
fn agent_path(input: &LaunchInput) -> Option<OsString> {
    let dir = input.exe.and_then(Path::parent)?;
    let rest: Option<OsString> = match input.profile.env.get("PATH") {
        Some(p) => Some(p.into()),
        None => input.path.map(ToOwned::to_owned),
    };
    let mut dirs = vec![dir.to_path_buf()];
    if let Some(rest) = &rest {
        dirs.extend(std::env::split_paths(rest).filter(|d| d != dir));
    }
    std::env::join_paths(dirs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(toml: &str) -> AgentProfile {
        let text = format!("[agents.a]\n{toml}\n");
        let config = crate::config::Config::parse(&text, Path::new("fleet.toml")).unwrap();
        config.agents["a"].clone()
    }

    fn input<'a>(p: &'a AgentProfile, wt: &'a Path, fleet: &'a Path) -> LaunchInput<'a> {
        LaunchInput {
            profile: p,
            task: "api",
            attempt: 2,
            prompt: "do it; rm -rf /",
            worktree: wt,
            fleet_dir: fleet,
            resume: None,
            home: None,
            exe: Some(Path::new("/opt/fd/bin/fleetdeck-exe")),
            path: Some(std::ffi::OsStr::new("/usr/bin:/opt/fd/bin:/bin")),
        }
    }

    fn var<'a>(l: &'a Launch, key: &str) -> Option<&'a OsString> {
        l.env.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    #[test]
    fn the_agent_runs_in_its_worktree_with_pwd_and_a_git_ceiling() {
        let p = profile(r#"command = ["claude", "-p", "{prompt}", "--task={task}"]"#);
        let (wt, fleet) = (Path::new("/r/.fleet/worktrees/api"), Path::new("/r/.fleet"));
        let l = describe(&input(&p, wt, fleet));
        assert_eq!(l.argv, ["claude", "-p", "do it; rm -rf /", "--task=api"]);
        assert_eq!(l.cwd, wt);
        assert_eq!(var(&l, "PWD").unwrap(), wt.as_os_str());
        let ceiling = var(&l, "GIT_CEILING_DIRECTORIES")
            .unwrap()
            .to_string_lossy();
        assert!(
            ceiling.starts_with("/r/.fleet/worktrees"),
            "{ceiling}: a directory that lost its .git must not find the user's repository"
        );
        assert_eq!(var(&l, "FLEET_DIR").unwrap(), "/r/.fleet");
        assert_eq!(var(&l, "FLEET_TASK").unwrap(), "api");
        assert_eq!(var(&l, "FLEET_ATTEMPT").unwrap(), "2");
        assert!(var(&l, "HOME").is_none(), "no isolated home unless asked");
        assert_eq!(l.resumed, None);
    }

    #[test]
    fn fleetdeck_means_this_executable_and_the_fleets_variables_win_over_the_profiles() {
        let p = profile(
            "command = [\"fleetdeck\", \"sim-agent\", \"{prompt}\"]\nformat = \"claude\"\nenv = { FLEET_TASK = \"spoofed\", API = \"x\" }",
        );
        let (wt, fleet) = (Path::new("/w"), Path::new("/f"));
        let l = describe(&input(&p, wt, fleet));
        assert_eq!(l.argv[0], "/opt/fd/bin/fleetdeck-exe");
        assert_eq!(var(&l, "API").unwrap(), "x");
        assert_eq!(var(&l, "FLEET_TASK").unwrap(), "api");
        assert_eq!(l.format, Format::Claude);
    }

    #[test]
    fn fleetdeck_is_first_on_the_agents_path() {
        let p = profile(r#"command = ["claude"]"#);
        let (wt, fleet) = (Path::new("/w"), Path::new("/f"));
        let l = describe(&input(&p, wt, fleet));
        assert_eq!(var(&l, "PATH").unwrap(), "/opt/fd/bin:/usr/bin:/bin");
        let own = profile("command = [\"claude\"]\nenv = { PATH = \"/agent/bin\" }");
        let l = describe(&input(&own, wt, fleet));
        assert_eq!(
            var(&l, "PATH").unwrap(),
            "/opt/fd/bin:/agent/bin",
            "before the profile's own PATH"
        );
        let l = describe(&LaunchInput {
            path: None,
            ..input(&p, wt, fleet)
        });
        assert_eq!(var(&l, "PATH").unwrap(), "/opt/fd/bin");
        let l = describe(&LaunchInput {
            exe: None,
            ..input(&p, wt, fleet)
        });
        assert_eq!(
            var(&l, "PATH"),
            None,
            "unknown executable: PATH inherited as is"
        );
    }

    #[test]
    fn an_isolated_home_points_every_cli_at_it() {
        let p = profile("command = [\"codex\"]\nisolate_home = true");
        let (wt, fleet, home) = (Path::new("/w"), Path::new("/f"), Path::new("/f/homes/api"));
        let l = describe(&LaunchInput {
            home: Some(home),
            ..input(&p, wt, fleet)
        });
        assert_eq!(var(&l, "HOME").unwrap(), "/f/homes/api");
        assert_eq!(var(&l, "CODEX_HOME").unwrap(), "/f/homes/api/.codex");
        assert_eq!(
            var(&l, "CLAUDE_CONFIG_DIR").unwrap(),
            "/f/homes/api/.claude"
        );
    }

    #[test]
    fn a_resumed_session_uses_the_resume_form_and_remembers_the_baseline() {
        let p = profile(
            "command = [\"codex\", \"exec\", \"{prompt}\"]\nformat = \"codex\"\nresume_command = [\"codex\", \"exec\", \"resume\", \"{session}\", \"{prompt}\"]",
        );
        let baseline = SessionBaseline {
            input_tokens: 10,
            output_tokens: 3,
        };
        let (wt, fleet) = (Path::new("/w"), Path::new("/f"));
        let l = describe(&LaunchInput {
            resume: Some(("thread-1", baseline)),
            prompt: "fix the test",
            ..input(&p, wt, fleet)
        });
        assert_eq!(
            l.argv,
            ["codex", "exec", "resume", "thread-1", "fix the test"]
        );
        assert_eq!(l.resumed, Some(baseline));

        let extra = profile(
            "command = [\"claude\", \"-p\", \"{prompt}\"]\nresume = [\"--resume\", \"{session}\"]",
        );
        let l = describe(&LaunchInput {
            resume: Some(("s-9", baseline)),
            prompt: "again",
            ..input(&extra, wt, fleet)
        });
        assert_eq!(l.argv, ["claude", "-p", "again", "--resume", "s-9"]);
    }
}
