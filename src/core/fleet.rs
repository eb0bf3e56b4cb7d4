//! The tasks of a fleet and the facts derived from them (which dependencies
//! are pending, why a task waits). Shared by the scheduler, which changes
//! tasks, and by read models (the cockpit, `status`), which mirror them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::feedback::{Feedback, compose_prompt_after};
use super::messages::{Spend, Workspace};
use super::status::Status;
use super::task::{TaskId, TaskSpec};

/// Whole seconds from `now_ms` until `at_ms`, rounded up (a wait of 1 ms
/// to 1 s is "1 s"), 0 once it has passed: how waits are printed.
pub fn seconds_until(at_ms: i64, now_ms: i64) -> i64 {
    (at_ms.saturating_sub(now_ms).max(0) + 999) / 1000
}

/// Why a task waits for profile `agent`, which failed authentication or
/// billing (`why`), and what to do: the one text the cockpit, `run` and
/// `status` show.
pub fn unusable_reason(agent: &str, why: &str) -> String {
    format!(
        "agent `{agent}` cannot be used: {why}; fix it (credentials, billing), then press t on the task in the cockpit or run again"
    )
}

/// What to do when an agent we asked to stop has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterStop {
    /// Queue the task again (it was reassigned).
    Requeue,
    /// Drop the task.
    Drop,
}

/// A task as the scheduler tracks it: the spec plus everything that changes while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub spec: TaskSpec,
    pub status: Status,
    /// Number of the latest attempt started (attempts are numbered from 1).
    #[serde(default)]
    pub attempts: u32,
    /// Attempts since the last human decision; reaching `max_attempts` fails the task.
    #[serde(default)]
    pub tries: u32,
    /// What the next attempt is told about the previous one.
    #[serde(default)]
    pub feedback: Option<Feedback>,
    /// How the next attempt treats the worktree.
    #[serde(default)]
    pub workspace: Workspace,
    /// What the live (or last) attempt was started with: applied again when
    /// that attempt never got to run its agent.
    #[serde(default)]
    pub started_with: Workspace,
    /// Set while a stop we asked for is in progress.
    #[serde(default)]
    pub after_stop: Option<AfterStop>,
    /// Spent by the task's finished attempts.
    #[serde(default)]
    pub spent: Spend,
    /// Spent so far by the live attempt.
    #[serde(default)]
    pub live: Spend,
    /// After a rate limit: not started again before this time (Unix ms).
    #[serde(default)]
    pub not_before_ms: Option<i64>,
    /// Rate limits in a row: for the backoff, and after a few they cost
    /// attempts (a service that stays overloaded never loops forever).
    #[serde(default)]
    pub rate_limits: u32,
    /// Set while the agent is paused because the task crossed its budget: why.
    #[serde(default)]
    pub over_budget: Option<String>,
    /// Set when the task's last attempt found its profile unusable
    /// (authentication, billing): why, kept with the task so that `status`
    /// says it after the engine is gone; cleared when an attempt starts or
    /// the profile is revived.
    #[serde(default)]
    pub unusable_agent: Option<String>,
    /// The task's work that passed its verify gate and is the branch tip:
    /// set when a gate passes, cleared when a later attempt commits work
    /// that fails its gate or the work is rejected. A new attempt continues
    /// from it, and one that adds nothing returns the task to review on it.
    #[serde(default)]
    pub verified: Option<Verified>,
    /// Blocked merges `auto_update` answered with an update since the
    /// task's last merge (bounded, so a refusal no update can cure does not
    /// loop, also across restarts).
    #[serde(default)]
    pub auto_updates: u32,
    /// Set while the live attempt is stalled (its progress ledger says why);
    /// cleared when the attempt ends or shows progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stalled: Option<String>,
    /// The supervisor's open question about the task (shown as needs
    /// input); cleared by the user's next decision on the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// An agent's open blocker message (`fleetdeck msg blocker`): marks the
    /// card; cleared by the user's next decision on the task or its next attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocker: Option<String>,
    /// The reviewer agent's latest verdict on the task's work (shown beside
    /// its diff); cleared when a new attempt's work is gated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<crate::core::team::ReviewVerdict>,
    /// Review rounds the reviewer agent sent back to the agent since the
    /// last human decision (bounded by `[review] rounds`).
    #[serde(default)]
    pub review_rounds: u32,
    /// Files this running task changed that another running task of its
    /// group changed too (live, from the worktree watcher).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlaps: Vec<crate::core::team::group::Overlap>,
}

/// Work of a task that passed its verify gate (see [`Task::verified`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// The attempt that made it (the merge is attributed to it).
    pub attempt: u32,
    /// Its commit on the task's branch.
    pub commit: String,
}

impl Task {
    /// A task that has never run.
    pub fn new(spec: TaskSpec) -> Self {
        Self {
            spec,
            status: Status::Queued { held: false },
            attempts: 0,
            tries: 0,
            feedback: None,
            workspace: Workspace::Continue,
            started_with: Workspace::Continue,
            after_stop: None,
            spent: Spend::default(),
            live: Spend::default(),
            not_before_ms: None,
            rate_limits: 0,
            over_budget: None,
            unusable_agent: None,
            verified: None,
            auto_updates: 0,
            stalled: None,
            question: None,
            blocker: None,
            review: None,
            review_rounds: 0,
            overlaps: Vec::new(),
        }
    }

    /// The prompt the next attempt gets: the task's prompt plus any feedback.
    pub fn next_prompt(&self) -> String {
        let verified = match self.workspace {
            Workspace::Continue => self.verified.as_ref().map(|v| v.attempt),
            _ => None,
        };
        compose_prompt_after(&self.spec.prompt, self.feedback.as_ref(), verified)
    }

    pub fn id(&self) -> &TaskId {
        &self.spec.id
    }
}

/// Tasks in plan order with an index by id, the known agent profiles and
/// whether the fleet is paused.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub(super) tasks: Vec<Task>,
    pub(super) index: HashMap<TaskId, usize>,
    pub(super) agents: BTreeSet<String>,
    pub(super) paused: bool,
    /// Profiles that failed authentication or billing, with the reason.
    pub(super) unusable: BTreeMap<String, String>,
}

impl Fleet {
    pub fn new(tasks: Vec<Task>, agents: impl IntoIterator<Item = String>, paused: bool) -> Self {
        let index = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.spec.id.clone(), i))
            .collect();
        Self {
            tasks,
            index,
            agents: agents.into_iter().collect(),
            paused,
            unusable: BTreeMap::new(),
        }
    }

    /// Every task in plan order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.index.get(id).map(|&i| &self.tasks[i])
    }

    /// Whether the fleet is paused (no new starts, agents stopped).
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Whether an agent profile is known.
    pub fn has_agent(&self, name: &str) -> bool {
        self.agents.contains(name)
    }

    /// The known agent profiles, sorted.
    pub fn agents(&self) -> impl Iterator<Item = &str> {
        self.agents.iter().map(String::as_str)
    }

    /// How many tasks have a live agent (running or paused).
    pub fn live_agents(&self) -> usize {
        self.tasks.iter().filter(|t| t.status.has_agent()).count()
    }

    /// True when the task `id` is Done (merged).
    pub fn is_done(&self, id: &TaskId) -> bool {
        self.task(id.as_str())
            .is_some_and(|t| matches!(t.status, Status::Done { .. }))
    }

    /// Dependencies of `task` that are not Done yet.
    pub fn pending_deps<'a>(&'a self, task: &'a Task) -> impl Iterator<Item = &'a TaskId> + 'a {
        task.spec.deps.iter().filter(|d| !self.is_done(d))
    }

    /// Tasks that depend on `id` and are not finished.
    pub fn dependents<'a>(&'a self, id: &'a TaskId) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks
            .iter()
            .filter(move |t| !t.status.is_final() && t.spec.deps.contains(id))
    }

    /// Profiles that cannot be used (failed authentication), with the reason.
    pub fn unusable(&self) -> &BTreeMap<String, String> {
        &self.unusable
    }

    /// For read models: mirror a profile becoming unusable (`reason`) or usable again (None).
    pub fn set_unusable(&mut self, agent: &str, reason: Option<String>) {
        match reason {
            Some(r) => self.unusable.insert(agent.to_owned(), r),
            None => self.unusable.remove(agent),
        };
    }

    /// Whether a queued task may start at `now_ms`: its dependencies are done,
    /// its agent is known and usable, and it is not parked after a rate limit.
    pub fn startable(&self, task: &Task, now_ms: i64) -> bool {
        task.status == (Status::Queued { held: false })
            && self.agents.contains(&task.spec.agent)
            && !self.unusable.contains_key(&task.spec.agent)
            && task.not_before_ms.is_none_or(|t| t <= now_ms)
            && self.pending_deps(task).next().is_none()
            && self.splitting(task).is_none()
    }

    /// The task `task` was split from, while that one still has a live
    /// agent (it is being stopped to be dropped): the part waits, so that it
    /// inherits all of the split task's work.
    pub fn splitting<'a>(&'a self, task: &'a Task) -> Option<&'a TaskId> {
        let from = task.spec.split_from.as_ref()?;
        self.task(from.as_str())
            .is_some_and(|t| t.status.has_agent())
            .then_some(from)
    }

    /// Why a task is failed, held or blocked, in words (`now_ms` for times to
    /// come); None when it is simply progressing.
    pub fn reason(&self, task: &Task, now_ms: i64) -> Option<String> {
        self.reason_when(task, now_ms, self.paused)
    }

    /// [`Fleet::reason`] for a fleet whose paused flag is `paused`: a
    /// one-shot command's engine holds the fleet only for itself and reports
    /// with the fleet's real flag.
    pub fn reason_when(&self, task: &Task, now_ms: i64, paused: bool) -> Option<String> {
        match &task.status {
            Status::Failed { reason } => Some(reason.clone()),
            Status::Review {
                block: Some(block), ..
            } => Some(block.to_string()),
            Status::Paused { .. } if task.over_budget.is_some() => task.over_budget.clone(),
            Status::Paused { .. } => Some("paused by the user".into()),
            Status::Comparing => Some(format!(
                "its candidates have finished: pick one (`fleetdeck pick {} CANDIDATE`, or Enter in the compare view)",
                task.spec.id
            )),
            Status::Queued { held: true } => Some("held by the user".into()),
            Status::Queued { held: false } | Status::Merging { .. } => {
                let pending: Vec<&str> = self.pending_deps(task).map(TaskId::as_str).collect();
                if !pending.is_empty() {
                    let what = if matches!(task.status, Status::Merging { .. }) {
                        "merge waits for"
                    } else {
                        "waiting for"
                    };
                    Some(format!("{what} {}", pending.join(", ")))
                } else if let Some(from) = self
                    .splitting(task)
                    .filter(|_| matches!(task.status, Status::Queued { .. }))
                {
                    Some(format!(
                        "waiting for `{from}`, which was split, to stop: this task inherits its work"
                    ))
                } else if !self.agents.contains(&task.spec.agent) {
                    Some(format!(
                        "agent `{0}` is not defined (add [agents.{0}] to fleet.toml, or reassign the task: r)",
                        task.spec.agent
                    ))
                } else if let Some(why) = self
                    .unusable
                    .get(&task.spec.agent)
                    .or(task.unusable_agent.as_ref())
                {
                    Some(unusable_reason(&task.spec.agent, why))
                } else if let Some(at) = task.not_before_ms.filter(|t| *t > now_ms) {
                    Some(format!(
                        "rate limited: retrying in {} s",
                        seconds_until(at, now_ms)
                    ))
                } else if paused && matches!(task.status, Status::Queued { .. }) {
                    Some("the fleet is paused".into())
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Replaces the task of the same id, or appends it: for read models that
    /// mirror the engine's task notifications.
    pub fn upsert(&mut self, task: Task) {
        match self.index.get(task.id()) {
            Some(&i) => self.tasks[i] = task,
            None => {
                self.index.insert(task.id().clone(), self.tasks.len());
                self.tasks.push(task);
            }
        }
    }

    /// For read models: mirror the fleet's paused flag.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }
}
