//! `fleet.toml`: the fleet settings, agent profiles and the initial plan.
//!
//! Every key is documented in `fleet.example.toml`. Unknown keys are errors,
//! and every error names the file, line and column (or the task) it is about.

mod argv;
mod error;
mod groups;
mod review;
mod roles;
mod supervisor;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use argv::{ArgvVars, PLACEHOLDERS, render_argv};
pub use error::{ConfigError, Problem};
pub use groups::GroupSection;
pub use review::{DEFAULT_REVIEW_TIMEOUT_SECS, ReviewSection};
pub use roles::role_args;
pub use supervisor::{
    DEFAULT_PLANNER_TIMEOUT_SECS, DEFAULT_REASK_LIMIT, DEFAULT_STALL_AFTER_SECS, StructuredOutput,
    SupervisorSection,
};

use crate::agent::Format;
use crate::core::plan::{self, PlanError};
use crate::core::{Limits, MergeStyle, TaskId, TaskSpec};

/// The name of the configuration file at the repository root.
pub const FILE_NAME: &str = "fleet.toml";

/// A loaded and validated `fleet.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    pub fleet: FleetSection,
    pub verify: VerifySection,
    pub agents: BTreeMap<String, AgentProfile>,
    pub ui: UiSection,
    /// `[supervisor]`; None without the section.
    pub supervisor: Option<SupervisorSection>,
    /// The roles: the built-in ones with `[roles.NAME]` overrides, and the file's own.
    pub roles: BTreeMap<String, crate::core::team::roles::Role>,
    /// `[review]`; None without the section (the human reviews alone).
    pub review: Option<ReviewSection>,
    /// The plan as written in the file, in file order (imported into the store once by id).
    pub tasks: Vec<TaskSpec>,
    /// `[groups.NAME]`: task groups' titles and gates (a group that tasks
    /// name without a section has the defaults).
    pub groups: BTreeMap<String, GroupSection>,
}

/// `[fleet]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSection {
    /// Branch approved work lands on; default: the branch checked out when the fleet starts.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default = "default_max_parallel")]
    pub max_parallel: usize,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// No new agent starts while this many tasks wait for review (unset: no limit).
    #[serde(default)]
    pub max_review: Option<usize>,
    /// Profile for tasks that name none (default: the only profile, if there is exactly one).
    #[serde(default)]
    pub default_agent: Option<String>,
    /// When an approved task's merge conflicts with the target (or with your
    /// uncommitted changes), update it onto the target at once, and send the
    /// agent to resolve a conflicting update (default: wait for `u`).
    #[serde(default)]
    pub auto_update: bool,
    /// Seconds between SIGTERM and SIGKILL when an agent is stopped.
    #[serde(default = "default_stop_grace")]
    pub stop_grace_secs: f64,
    /// First wait after a rate limit, in seconds (doubling after each further one, at most 15 minutes).
    #[serde(default = "default_backoff")]
    pub backoff_secs: f64,
    /// Spending limit of the whole fleet in US dollars: crossing it pauses the fleet.
    #[serde(default)]
    pub budget_usd: Option<f64>,
    /// Token limit of the whole fleet: crossing it pauses the fleet.
    #[serde(default)]
    pub budget_tokens: Option<u64>,
    /// Default spending limit of each task (a task's own `budget_usd` overrides it).
    #[serde(default)]
    pub task_budget_usd: Option<f64>,
    /// Default token limit of each task (a task's own `budget_tokens` overrides it).
    #[serde(default)]
    pub task_budget_tokens: Option<u64>,
    /// Largest transcript file of one attempt, in MiB: beyond it the middle
    /// of the output is cut from the file (head and tail kept, the cut said).
    #[serde(default = "default_transcript_max_mb")]
    pub transcript_max_mb: u64,
    /// How approved tasks land on the target (a task's own `merge_style`
    /// overrides it): `merge` (default), `squash` or `rebase`.
    #[serde(default)]
    pub merge_style: MergeStyle,
}

/// A verify command's limit when `[verify] timeout_secs` is not given: 30 minutes.
pub const DEFAULT_VERIFY_TIMEOUT_SECS: u64 = 30 * 60;
/// An agent attempt's limit when its profile gives no `timeout_secs`: 60 minutes.
pub const DEFAULT_AGENT_TIMEOUT_SECS: u64 = 60 * 60;
/// The transcript cap when `[fleet] transcript_max_mb` is not given: 64 MiB.
pub const DEFAULT_TRANSCRIPT_MAX_MB: u64 = 64;

/// `[verify]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySection {
    /// Shell commands run in the task's worktree after its changes are committed; empty: no gate.
    #[serde(default)]
    pub commands: Vec<String>,
    /// A verify command running longer than this fails. After loading:
    /// `None` only when the file says `timeout_secs = 0` (no limit); unset
    /// means [`DEFAULT_VERIFY_TIMEOUT_SECS`].
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// `[agents.NAME]`: how to launch one agent CLI headless.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentProfile {
    /// argv template; placeholders are substituted per argument, never through a shell.
    pub command: Vec<String>,
    /// How its stdout is parsed.
    #[serde(default = "default_format")]
    pub format: Format,
    /// At most this many of its agents run at once.
    #[serde(default)]
    pub max_parallel: Option<usize>,
    /// Extra environment variables for the agent process.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Arguments appended to `command` to resume an agent session (`{session}`
    /// is its id); the prompt is then just the reviewer's feedback.
    #[serde(default)]
    pub resume: Option<Vec<String>>,
    /// A whole argv to resume a session instead (for CLIs whose resume is a
    /// subcommand, like `codex exec resume {session} {prompt}`).
    #[serde(default)]
    pub resume_command: Option<Vec<String>>,
    /// An attempt running longer than this is stopped (TERM, grace, KILL)
    /// and fails as timed out. After loading: `None` only when the file says
    /// `timeout_secs = 0` (no limit); unset means [`DEFAULT_AGENT_TIMEOUT_SECS`].
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// A running agent silent for this long is marked stalled on its card.
    #[serde(default)]
    pub stall_secs: Option<u64>,
    /// Give each task's agent its own home directory (HOME, CODEX_HOME,
    /// CLAUDE_CONFIG_DIR under `.fleet/homes/<task>`), so parallel agents do
    /// not fight over their configuration files.
    #[serde(default)]
    pub isolate_home: bool,
    /// With `isolate_home`: a directory copied into each new home (credentials, settings).
    #[serde(default)]
    pub home_template: Option<PathBuf>,
    /// Prices to estimate cost when the CLI reports tokens but no cost.
    #[serde(default)]
    pub price: Option<Price>,
    /// Untracked paths (gitignore-style patterns) never committed from the
    /// task's worktree, on top of the format's built-ins
    /// ([`Format::builtin_excludes`]): the agent's own state files.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// What this profile is good at, for the planner ("fast refactors").
    #[serde(default)]
    pub strengths: Option<String>,
    /// Its relative cost, for the planner ("low", "high", "$3/Mtok").
    #[serde(default)]
    pub cost: Option<String>,
    /// Most characters of team context (`fleetdeck context`) put into each
    /// new attempt's prompt; unset: 4000; 0: none.
    #[serde(default)]
    pub context_chars: Option<usize>,
}

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    /// The cost of `input` and `output` tokens.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        (input as f64 * self.input_per_mtok + output as f64 * self.output_per_mtok) / 1_000_000.0
    }
}

impl AgentProfile {
    /// Whether this profile can resume a session.
    pub fn can_resume(&self) -> bool {
        self.resume.is_some() || self.resume_command.is_some()
    }

    /// The patterns kept out of this profile's commits: its format's
    /// built-ins, then the profile's own `exclude`.
    pub fn excludes(&self) -> Vec<String> {
        let builtin = self
            .format
            .builtin_excludes()
            .iter()
            .map(|p| (*p).to_owned());
        let mut all: Vec<String> = Vec::new();
        for pattern in builtin.chain(self.exclude.iter().cloned()) {
            if !all.contains(&pattern) {
                all.push(pattern);
            }
        }
        all
    }
}

/// A configured limit in seconds: unset is `default`, 0 is no limit.
fn limit_or_default(secs: Option<u64>, default: u64) -> Option<u64> {
    match secs {
        None => Some(default),
        Some(0) => None,
        Some(s) => Some(s),
    }
}

fn default_max_parallel() -> usize {
    4
}
fn default_max_attempts() -> u32 {
    3
}
fn default_stop_grace() -> f64 {
    5.0
}
fn default_backoff() -> f64 {
    30.0
}
fn default_transcript_max_mb() -> u64 {
    DEFAULT_TRANSCRIPT_MAX_MB
}
fn default_format() -> Format {
    Format::Text
}

impl Default for FleetSection {
    fn default() -> Self {
        Self {
            target: None,
            max_parallel: default_max_parallel(),
            max_attempts: default_max_attempts(),
            max_review: None,
            default_agent: None,
            auto_update: false,
            stop_grace_secs: default_stop_grace(),
            backoff_secs: default_backoff(),
            budget_usd: None,
            budget_tokens: None,
            task_budget_usd: None,
            task_budget_tokens: None,
            transcript_max_mb: default_transcript_max_mb(),
            merge_style: MergeStyle::default(),
        }
    }
}

/// `[ui]`: the cockpit's look and keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSection {
    /// A built-in theme name (dark, light, high-contrast, mono) or a path to a theme file.
    #[serde(default)]
    pub theme: Option<String>,
    /// Overrides of single actions: `approve = "ctrl-a"` or `down = ["j", "ctrl-n"]`.
    #[serde(default)]
    pub keys: BTreeMap<String, KeysSpec>,
    /// Mouse support (click a card, scroll a pane).
    #[serde(default = "default_true")]
    pub mouse: bool,
}

impl Default for UiSection {
    fn default() -> Self {
        Self {
            theme: None,
            keys: BTreeMap::new(),
            mouse: true,
        }
    }
}

/// One key or several for an action in `[ui.keys]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KeysSpec {
    One(String),
    Many(Vec<String>),
}

impl KeysSpec {
    pub fn keys(&self) -> Vec<&str> {
        match self {
            KeysSpec::One(k) => vec![k.as_str()],
            KeysSpec::Many(ks) => ks.iter().map(String::as_str).collect(),
        }
    }
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    ui: UiSection,
    #[serde(default)]
    fleet: FleetSection,
    #[serde(default)]
    verify: VerifySection,
    #[serde(default)]
    agents: BTreeMap<String, Spanned<AgentProfile>>,
    #[serde(default)]
    task: Vec<Spanned<RawTask>>,
    #[serde(default)]
    supervisor: Option<Spanned<supervisor::RawSupervisor>>,
    #[serde(default)]
    roles: BTreeMap<String, Spanned<roles::RawRole>>,
    #[serde(default)]
    review: Option<Spanned<review::RawReview>>,
    #[serde(default)]
    groups: BTreeMap<String, Spanned<GroupSection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    id: Spanned<TaskId>,
    #[serde(default)]
    title: Option<String>,
    prompt: String,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    deps: Vec<TaskId>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    verify: Option<Vec<String>>,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    auto_approve: bool,
    #[serde(default)]
    budget_usd: Option<f64>,
    #[serde(default)]
    budget_tokens: Option<u64>,
    #[serde(default)]
    merge_style: Option<MergeStyle>,
    /// Run the task once per profile named here (at least two).
    #[serde(default)]
    fanout: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    group: Option<String>,
}

impl Config {
    /// Reads `fleet.toml` from the repository root.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        let path = root.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Self::parse(&text, &path)
    }

    /// Parses and validates the text of a `fleet.toml` read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let at = |span: Option<Range<usize>>, message: String| {
            let (line, col) = span.map(|s| line_col(text, s.start)).unzip();
            Problem { line, col, message }
        };
        let invalid = |problems: Vec<Problem>| ConfigError::Invalid {
            path: path.to_owned(),
            problems,
        };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| invalid(vec![at(e.span(), e.message().trim().to_owned())]))?;

        let mut problems = Vec::new();
        let fleet = raw.fleet;
        if fleet.max_parallel == 0 {
            problems.push(at(None, "[fleet] max_parallel must be at least 1".into()));
        }
        if fleet.max_attempts == 0 {
            problems.push(at(None, "[fleet] max_attempts must be at least 1".into()));
        }
        if !(fleet.backoff_secs.is_finite() && fleet.backoff_secs > 0.0) {
            problems.push(at(
                None,
                "[fleet] backoff_secs must be a positive number of seconds".into(),
            ));
        }
        for (key, v) in [
            ("budget_usd", fleet.budget_usd),
            ("task_budget_usd", fleet.task_budget_usd),
        ] {
            if v.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                problems.push(at(
                    None,
                    format!("[fleet] {key} must be a positive amount of dollars"),
                ));
            }
        }
        if fleet.transcript_max_mb == 0 {
            problems.push(at(
                None,
                "[fleet] transcript_max_mb must be at least 1 (MiB per attempt)".into(),
            ));
        }
        if !(fleet.stop_grace_secs.is_finite() && fleet.stop_grace_secs >= 0.0) {
            problems.push(at(
                None,
                "[fleet] stop_grace_secs must be a number of seconds, 0 or more".into(),
            ));
        }
        let mut agents = BTreeMap::new();
        for (name, profile) in raw.agents {
            let span = profile.span();
            let profile = profile.into_inner();
            let mut complain =
                |m: String| problems.push(at(Some(span.clone()), format!("[agents.{name}] {m}")));
            if profile.command.is_empty() || profile.command[0].trim().is_empty() {
                complain("command is empty: give the program and its arguments, e.g. [\"claude\", \"-p\", \"{prompt}\"]".into());
            }
            if let Some(bad) = profile
                .command
                .iter()
                .find_map(|a| argv::unknown_placeholder(a))
            {
                complain(format!(
                    "command uses unknown placeholder `{{{bad}}}` (known: {})",
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ")
                ));
            }
            for (key, argv) in [
                ("resume", &profile.resume),
                ("resume_command", &profile.resume_command),
            ] {
                if let Some(bad) = argv
                    .iter()
                    .flatten()
                    .find_map(|a| argv::unknown_placeholder(a))
                {
                    complain(format!("{key} uses unknown placeholder `{{{bad}}}`"));
                }
                if argv
                    .as_ref()
                    .is_some_and(|a| !a.iter().any(|x| x.contains("{session}")))
                {
                    complain(format!(
                        "{key} must contain {{session}} (where the session id goes)"
                    ));
                }
            }
            if profile.resume.is_some() && profile.resume_command.is_some() {
                complain("give either resume (extra arguments) or resume_command (a whole argv), not both".into());
            }
            if profile.home_template.is_some() && !profile.isolate_home {
                complain("home_template needs isolate_home = true".into());
            }
            if profile.max_parallel == Some(0) {
                complain("max_parallel must be at least 1 (remove it for no per-agent cap)".into());
            }
            if let Some(bad) = profile.exclude.iter().find(|p| p.trim().is_empty()) {
                complain(format!(
                    "exclude has an empty pattern `{bad}`: give a gitignore-style pattern such as \".aider*\""
                ));
            }
            let mut profile = profile;
            profile.timeout_secs =
                limit_or_default(profile.timeout_secs, DEFAULT_AGENT_TIMEOUT_SECS);
            agents.insert(name, profile);
        }
        let default_agent = match &fleet.default_agent {
            Some(name) if !agents.contains_key(name) => {
                problems.push(at(
                    None,
                    format!(
                        "[fleet] default_agent `{name}` is not a profile (add [agents.{name}])"
                    ),
                ));
                None
            }
            Some(name) => Some(name.clone()),
            None if agents.len() == 1 => agents.keys().next().cloned(),
            None => None,
        };
        let supervisor = raw.supervisor.map(|raw_section| {
            let mut located = Vec::new();
            let section =
                supervisor::parse(raw_section, &agents, default_agent.as_deref(), &mut located);
            problems.extend(located.into_iter().map(|(span, m)| at(span, m)));
            section
        });

        let mut located = Vec::new();
        let roles = roles::parse(raw.roles, &agents, &mut located);
        let review = raw
            .review
            .map(|r| review::parse(r, &agents, &roles, &mut located));
        problems.extend(located.into_iter().map(|(span, m)| at(span, m)));

        let mut tasks = Vec::new();
        let mut lines: HashMap<TaskId, Range<usize>> = HashMap::new();
        for raw_task in raw.task {
            let span = raw_task.span();
            let t = raw_task.into_inner();
            let id_span = t.id.span();
            let id = t.id.into_inner();
            // The first definition keeps its position; a duplicate is reported at its own line.
            let first = lines.entry(id.clone()).or_insert(id_span.clone()).clone();
            if first != id_span {
                problems.push(at(
                    Some(id_span),
                    format!("task `{id}` is defined more than once"),
                ));
                continue;
            }
            let role = match t.role.as_deref().map(|r| (r, roles.get(r))) {
                Some((name, None)) => {
                    problems.push(at(
                        Some(span.clone()),
                        roles::unknown_role(id.as_str(), name, &roles),
                    ));
                    None
                }
                Some((_, Some(role))) => Some(role),
                None => None,
            };
            let fanout = match t.fanout {
                None => Vec::new(),
                Some(f) => {
                    let span = f.span();
                    let profiles = f.into_inner();
                    let known = |a: &str| agents.contains_key(a);
                    if let Err(e) = crate::core::team::fanout::check_profiles(&profiles, &known) {
                        problems.push(at(Some(span), format!("task `{id}`: {e}")));
                    }
                    profiles
                }
            };
            // A fan-out task runs as its candidates: its own agent defaults to the first.
            let role_agent = role.and_then(|r| r.agent.clone());
            let agent = t
                .agent
                .or(role_agent)
                .or_else(|| default_agent.clone())
                .or_else(|| fanout.first().cloned());
            let agent = agent.unwrap_or_else(|| {
                problems.push(at(Some(span.clone()), format!(
                    "task `{id}` names no agent and there is no default: add agent = \"NAME\" or set [fleet] default_agent"
                )));
                String::new()
            });
            if let (Some(role), Some(profile)) = (role, agents.get(&agent))
                && let Err(m) = role_args(role, profile.format, &agent)
            {
                problems.push(at(Some(span.clone()), format!("task `{id}`: {m}")));
            }
            tasks.push(TaskSpec {
                title: t.title.unwrap_or_else(|| id.to_string()),
                id,
                prompt: t.prompt,
                deps: t.deps,
                agent,
                role: t.role,
                verify: t.verify,
                priority: t.priority,
                auto_approve: t.auto_approve,
                budget_usd: t.budget_usd,
                budget_tokens: t.budget_tokens,
                merge_style: t.merge_style,
                files: Vec::new(),
                acceptance: Vec::new(),
                split_from: None,
                fanout,
                candidate_of: None,
                group: t.group,
            });
        }
        // An empty agent was reported above.
        if let Err(errors) = plan::validate(&tasks, &|a| a.is_empty() || agents.contains_key(a)) {
            for e in errors {
                if matches!(e, PlanError::DuplicateId { .. }) {
                    continue; // reported above, with its line
                }
                problems.push(at(lines.get(e.task()).cloned(), e.to_string()));
            }
        }
        problems.extend(
            groups::check(&raw.groups, &tasks, &lines, supervisor.is_some())
                .into_iter()
                .map(|(span, m)| at(span, m)),
        );
        if !problems.is_empty() {
            problems.sort_by_key(|p| (p.line.is_none(), p.line, p.col));
            return Err(invalid(problems));
        }
        let mut verify = raw.verify;
        verify.timeout_secs = limit_or_default(verify.timeout_secs, DEFAULT_VERIFY_TIMEOUT_SECS);
        Ok(Config {
            path: path.to_owned(),
            fleet,
            verify,
            agents,
            ui: raw.ui,
            supervisor,
            roles,
            review,
            tasks,
            groups: raw
                .groups
                .into_iter()
                .map(|(n, g)| (n, g.into_inner()))
                .collect(),
        })
    }

    /// The scheduler's limits from this configuration.
    pub fn limits(&self, auto_approve: bool) -> Limits {
        Limits {
            max_parallel: self.fleet.max_parallel,
            max_attempts: self.fleet.max_attempts,
            max_review: self.fleet.max_review,
            agent_caps: self
                .agents
                .iter()
                .filter_map(|(name, p)| p.max_parallel.map(|cap| (name.clone(), cap)))
                .collect(),
            auto_approve,
            auto_update: self.fleet.auto_update,
            backoff_ms: (self.fleet.backoff_secs * 1000.0) as i64,
            budget: crate::core::Budgets {
                fleet_usd: self.fleet.budget_usd,
                fleet_tokens: self.fleet.budget_tokens,
                task_usd: self.fleet.task_budget_usd,
                task_tokens: self.fleet.task_budget_tokens,
            },
            supervisor: self.supervisor.as_ref().map(|s| s.autonomy),
            review: self.review.as_ref().map(ReviewSection::policy),
            resumable: self
                .agents
                .iter()
                .filter(|(_, p)| p.can_resume())
                .map(|(name, _)| name.clone())
                .collect(),
        }
    }

    /// The transcript cap of one attempt, in bytes.
    pub fn transcript_max_bytes(&self) -> u64 {
        self.fleet.transcript_max_mb.saturating_mul(1 << 20)
    }

    /// How `spec` lands on the target: its own `merge_style`, else
    /// `[fleet] merge_style`. Read when its merge starts.
    pub fn merge_style(&self, spec: &TaskSpec) -> MergeStyle {
        spec.merge_style.unwrap_or(self.fleet.merge_style)
    }

    /// The verify commands for a task: its own override, else its role's,
    /// else `[verify] commands`.
    pub fn verify_commands<'a>(&'a self, spec: &'a TaskSpec) -> &'a [String] {
        spec.verify
            .as_deref()
            .or_else(|| self.role(spec).and_then(|r| r.verify.as_deref()))
            .unwrap_or(&self.verify.commands)
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod role_tests;
#[cfg(test)]
mod tests;
