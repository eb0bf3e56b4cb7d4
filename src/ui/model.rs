//! The cockpit's read model: a mirror of the fleet built from the engine's
//! snapshot and kept current by its notifications. Views draw from it; it
//! never talks to the engine.
//!
//! Transcripts are held as bounded windows ([`transcript`]): the newest
//! lines, and older ones read back from the transcript file in the
//! background ([`file`]) while the user scrolls above them.

mod file;
#[cfg(test)]
mod fold_tests;
mod folds;
mod supervisor;
mod team;
#[cfg(test)]
mod tests;
mod transcript;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

pub use file::{load_transcript, read_lines, search_lines};
pub use folds::{Fold, Folds};
pub use supervisor::{ConsultState, Consultation, MAX_CONSULTS, SupervisorModel};
pub use team::{MAX_MESSAGES, TeamModel, candidates, cursor, group_members, matches};
pub use transcript::{
    Hits, LinesRequest, MIN_TAIL_LINES, SearchRequest, Step, TAIL_BYTES, TAIL_LINES, Transcript,
    WINDOW_BYTES, WINDOW_LINES, Window,
};

use crate::agent::AgentEvent;
use crate::core::{AttemptOutcome, Event, Fleet, Task, TaskId};
use crate::runtime::{Notification, Snapshot};
use crate::sanitize::sanitize;
use crate::store::transcript::{self as store, Stream};
use crate::store::{AttemptRecord, Usage, now_ms};

/// One attempt as the cockpit knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptInfo {
    pub n: u32,
    pub agent: String,
    /// Unix milliseconds.
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    /// How it ended; None while running or verifying.
    pub outcome: Option<AttemptOutcome>,
    pub message: Option<String>,
    pub usage: Usage,
    /// Path of the transcript relative to `.fleet/`.
    pub transcript: String,
}

/// What kind of transcript line, for styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Assistant prose.
    Message,
    /// A tool call: `▸ Write src/lib.rs`.
    Tool,
    /// A tool result that succeeded (folded to one line).
    ToolOk,
    /// A tool result that failed.
    ToolError,
    /// A line of a tool result's whole output, under its result line
    /// (folded unless the result failed).
    ToolOutput,
    /// Session start, retries, the final report.
    Notice,
    Error,
    /// Lines the parser did not understand, and stderr.
    Text,
    /// fleetdeck's own notes (start, exit status).
    Fleet,
    /// Verify command output.
    Verify,
}

/// One displayed transcript line (never contains a newline or a control character).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Unix milliseconds when it arrived (0 when unknown).
    pub at_ms: i64,
    pub kind: LineKind,
    pub text: String,
}

/// The display lines for an agent event: tool calls on one line, results
/// folded to their first line, prose split into lines. Texts are sanitized.
pub fn event_lines(event: &AgentEvent) -> Vec<(LineKind, String)> {
    let one = |kind, text: String| vec![(kind, first_line(&text))];
    let many = text_lines;
    match event {
        AgentEvent::Session { id, model } => {
            let model = model
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default();
            one(LineKind::Notice, format!("session {id}{model}"))
        }
        AgentEvent::Message { text } => many(LineKind::Message, text),
        AgentEvent::ToolCall { name, arg, .. } => one(LineKind::Tool, format!("▸ {name} {arg}")),
        AgentEvent::ToolResult {
            ok,
            preview,
            output,
            ..
        } => tool_result_lines(*ok, preview, output),
        AgentEvent::Notice { text } => one(LineKind::Notice, text.clone()),
        AgentEvent::Error { text } => many(LineKind::Error, text),
        AgentEvent::PermissionDenied { tool, detail } => one(
            LineKind::Error,
            format!("permission denied for {tool}: {detail}"),
        ),
        AgentEvent::Usage { .. } => Vec::new(),
        AgentEvent::Finished {
            is_error: false,
            summary,
        } => one(LineKind::Notice, format!("finished: {summary}")),
        AgentEvent::Finished {
            is_error: true,
            summary,
        } => one(
            LineKind::Error,
            format!("finished with an error: {summary}"),
        ),
        AgentEvent::Text { text } => many(LineKind::Text, text),
    }
}

/// A tool result: its preview on one line (with the number of output
/// lines), then its whole output, one indented line each.
fn tool_result_lines(ok: bool, preview: &str, output: &str) -> Vec<(LineKind, String)> {
    let kind = if ok {
        LineKind::ToolOk
    } else {
        LineKind::ToolError
    };
    if output.is_empty() {
        return vec![(kind, format!("  ↳ {}", first_line(preview)))];
    }
    let body = text_lines(LineKind::ToolOutput, output);
    let count = match body.len() {
        1 => "1 line".to_owned(),
        n => format!("{n} lines"),
    };
    let mut lines = Vec::with_capacity(body.len() + 1);
    lines.push((kind, format!("  ↳ {} ({count})", first_line(preview))));
    lines.extend(body.into_iter().map(|(k, l)| (k, format!("    {l}"))));
    lines
}

fn first_line(text: &str) -> String {
    let clean = sanitize(text);
    let first = clean
        .split('\n')
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let more = clean.split('\n').filter(|l| !l.trim().is_empty()).count() > 1;
    if more {
        format!("{first} …")
    } else {
        first.to_owned()
    }
}

/// The display lines of a text that is not an agent event (stderr, fleet
/// notes, verify output): sanitized, one per line.
fn text_lines(kind: LineKind, text: &str) -> Vec<(LineKind, String)> {
    sanitize(text)
        .split('\n')
        .map(|l| (kind, l.to_owned()))
        .collect()
}

/// How a transcript line that is not agent stdout is shown (live and read back alike).
fn stream_kind(stream: Stream) -> LineKind {
    match stream {
        Stream::Fleet => LineKind::Fleet,
        Stream::Verify => LineKind::Verify,
        Stream::Out | Stream::Err => LineKind::Text,
    }
}

/// The mirror of one fleet.
#[derive(Debug, Clone)]
pub struct Model {
    pub root: PathBuf,
    pub target: String,
    pub max_parallel: usize,
    pub fleet: Fleet,
    /// Attempts per task, oldest first.
    pub attempts: HashMap<TaskId, Vec<AttemptInfo>>,
    /// Transcripts in memory, by task and attempt number.
    pub transcripts: HashMap<(TaskId, u32), Transcript>,
    /// Attempts whose transcript in memory is complete: watched from their
    /// start, or read from their file.
    pub complete: HashSet<(TaskId, u32)>,
    /// Tasks whose current attempt hit a permission denial: the tool.
    pub needs_input: HashMap<TaskId, String>,
    /// The last warning from the engine.
    pub warning: Option<String>,
    /// The fleet's budget and the default task budget.
    pub budget: crate::core::Budgets,
    /// Seconds of silence after which a profile's agent counts as stalled.
    pub stall_secs: std::collections::BTreeMap<String, u64>,
    /// When each task's live attempt last printed something (Unix ms).
    pub last_output: HashMap<TaskId, i64>,
    /// Bumped on every change, so views can tell when cached work is stale.
    pub revision: u64,
    /// Bumped when a task changes (a plan diff on screen is computed again).
    pub tasks_revision: u64,
    /// The supervisor's consultations and the pending proposal.
    pub supervisor: SupervisorModel,
    /// The agents' messages and the shared context store.
    pub team: TeamModel,
}

impl Model {
    pub fn new(snapshot: Snapshot) -> Model {
        let mut attempts: HashMap<TaskId, Vec<AttemptInfo>> = HashMap::new();
        for a in snapshot.attempts {
            if let Ok(id) = TaskId::parse(&a.task) {
                attempts.entry(id).or_default().push(info(a));
            }
        }
        Model {
            root: snapshot.root,
            target: snapshot.target,
            max_parallel: snapshot.max_parallel,
            fleet: Fleet::new(snapshot.tasks, snapshot.agents, snapshot.fleet_paused),
            attempts,
            transcripts: HashMap::new(),
            complete: HashSet::new(),
            needs_input: HashMap::new(),
            warning: None,
            budget: snapshot.budget,
            stall_secs: snapshot.stall_secs,
            last_output: HashMap::new(),
            revision: 0,
            tasks_revision: 0,
            supervisor: SupervisorModel::replayed(
                snapshot.supervisor,
                snapshot.proposals,
                &snapshot.supervisor_history,
                &snapshot.supervisor_lines,
            ),
            team: TeamModel::new(snapshot.messages, snapshot.context),
        }
    }

    pub fn fleet_dir(&self) -> PathBuf {
        self.root.join(".fleet")
    }

    /// The repository's path for the header, with `~` for the home directory.
    pub fn root_label(&self) -> String {
        let path = self.root.display().to_string();
        match std::env::var("HOME") {
            Ok(home) if !home.is_empty() && path.starts_with(&home) => {
                format!("~{}", &path[home.len()..])
            }
            _ => path,
        }
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.fleet.task(id)
    }

    /// The attempts of a task, oldest first.
    pub fn attempts_of(&self, id: &TaskId) -> &[AttemptInfo] {
        self.attempts.get(id).map_or(&[], Vec::as_slice)
    }

    /// Tokens and cost of every attempt of a task.
    pub fn usage(&self, id: &TaskId) -> Usage {
        let mut total = Usage::default();
        for a in self.attempts_of(id) {
            total += a.usage;
        }
        total
    }

    /// The whole fleet's cost so far.
    pub fn total_cost(&self) -> f64 {
        self.attempts
            .values()
            .flatten()
            .map(|a| a.usage.cost_usd)
            // From +0.0: an empty f64 sum is -0.0, drawn "$-0.0000".
            .fold(0.0, |total, c| total + c)
    }

    /// Applies one engine notification; returns whether anything visible changed.
    pub fn apply(&mut self, n: Notification) -> bool {
        let changed = match n {
            Notification::Task { task } => {
                self.fleet.upsert(*task);
                self.tasks_revision += 1;
                true
            }
            Notification::Fleet { paused } => {
                self.fleet.set_paused(paused);
                if !paused {
                    // Resuming is the user's answer to what the warning said (a full disk...).
                    self.warning = None;
                }
                true
            }
            Notification::Event { event, .. } => self.apply_event(event),
            Notification::Agent {
                task,
                attempt,
                event,
            } => {
                let now = now_ms();
                match &event {
                    AgentEvent::Usage {
                        input_tokens,
                        output_tokens,
                        cost_usd,
                    } => {
                        if let Some(a) = self.attempt_mut(&task, attempt) {
                            a.usage = Usage {
                                input_tokens: *input_tokens,
                                output_tokens: *output_tokens,
                                cost_usd: cost_usd.unwrap_or(a.usage.cost_usd),
                            };
                        }
                    }
                    AgentEvent::PermissionDenied { tool, .. } => {
                        self.needs_input.insert(task.clone(), tool.clone());
                    }
                    _ => {}
                }
                self.transcripts
                    .entry((task, attempt))
                    .or_default()
                    .push_event(now, &event);
                true
            }
            Notification::Line {
                task,
                attempt,
                stream,
                line,
            } => {
                let kind = stream_kind(stream);
                self.transcripts
                    .entry((task, attempt))
                    .or_default()
                    .push_text(now_ms(), kind, &line);
                true
            }
            Notification::Warning { message } => {
                self.warning = Some(message);
                true
            }
            Notification::Supervisor {
                consult,
                stream,
                line,
            } => self.supervisor.push_line(consult, stream, &line, now_ms()),
        };
        if changed {
            self.revision += 1;
        }
        changed
    }

    fn apply_event(&mut self, event: Event) -> bool {
        if self.supervisor.apply_event(&event, now_ms()) || self.team.apply_event(&event) {
            return true;
        }
        match event {
            Event::AgentStarted {
                task,
                attempt,
                agent,
            } => {
                self.needs_input.remove(&task);
                let rel = store::relative_path(task.as_str(), attempt)
                    .to_string_lossy()
                    .into_owned();
                let list = self.attempts.entry(task.clone()).or_default();
                list.retain(|a| a.n != attempt);
                list.push(AttemptInfo {
                    n: attempt,
                    agent,
                    started_ms: now_ms(),
                    ended_ms: None,
                    outcome: None,
                    message: None,
                    usage: Usage::default(),
                    transcript: rel,
                });
                // Watched from its start: the live transcript is complete.
                self.transcripts
                    .insert((task.clone(), attempt), Transcript::default());
                self.complete.insert((task, attempt));
                true
            }
            Event::AgentEnded {
                task,
                attempt,
                message,
            } => {
                if let Some(a) = self.attempt_mut(&task, attempt) {
                    a.ended_ms = Some(now_ms());
                    a.message = message;
                }
                true
            }
            Event::AttemptEnded {
                task,
                attempt,
                outcome,
                message,
            } => {
                if let Some(a) = self.attempt_mut(&task, attempt) {
                    a.ended_ms.get_or_insert_with(now_ms);
                    a.outcome = Some(outcome);
                    if message.is_some() {
                        a.message = message;
                    }
                }
                true
            }
            Event::AgentUnusable { agent, reason } => {
                self.fleet.set_unusable(&agent, Some(reason));
                true
            }
            Event::AgentRevived { agent } => {
                self.fleet.set_unusable(&agent, None);
                true
            }
            Event::BudgetChanged {
                task: None,
                usd,
                tokens,
            } => {
                self.budget.fleet_usd = usd.or(self.budget.fleet_usd);
                self.budget.fleet_tokens = tokens.or(self.budget.fleet_tokens);
                true
            }
            // Status changes arrive as whole tasks (Notification::Task).
            _ => false,
        }
    }

    fn attempt_mut(&mut self, task: &TaskId, n: u32) -> Option<&mut AttemptInfo> {
        self.attempts.get_mut(task)?.iter_mut().find(|a| a.n == n)
    }

    /// Installs a transcript read from its file (the file has everything
    /// that arrived live for that attempt too).
    pub fn set_transcript(&mut self, task: TaskId, attempt: u32, t: Transcript) {
        self.complete.insert((task.clone(), attempt));
        self.transcripts.insert((task, attempt), t);
        self.revision += 1;
    }

    /// The lines to read from the transcript file so that `view` (and some
    /// lines around it) can be shown, if they are not in memory or on their
    /// way; the request is then on its way. `rel` is the attempt's
    /// transcript path (relative to `.fleet/`). Following reads the file
    /// only for a tool result's line above its long folded output (the tail
    /// window holds the bottom of the transcript).
    pub fn request_lines(
        &mut self,
        task: &TaskId,
        attempt: u32,
        rel: &str,
        view: std::ops::Range<usize>,
        following: bool,
    ) -> Option<LinesRequest> {
        let t = self.transcripts.get_mut(&(task.clone(), attempt))?;
        let (lines, focus) = t.want(view, following)?;
        Some(LinesRequest {
            task: task.clone(),
            attempt,
            rel: rel.to_owned(),
            lines,
            focus,
        })
    }

    /// Installs lines read for `request` (ignored when another request
    /// replaced it). One window of older lines is kept in the whole model:
    /// the other transcripts' windows are released.
    pub fn set_lines(&mut self, request: &LinesRequest, result: Result<Window, String>) -> bool {
        let key = (request.task.clone(), request.attempt);
        let Some(t) = self.transcripts.get_mut(&key) else {
            return false;
        };
        if !t.install(&request.lines, result) {
            return false;
        }
        for (k, other) in &mut self.transcripts {
            if *k != key {
                other.release_window();
            }
        }
        self.revision += 1;
        true
    }

    /// Starts (or goes on with) a search for `query` in a transcript: the
    /// lines in memory are searched at once; when lines before the tail are
    /// only in the file, the returned request searches them in the
    /// background. A new search forgets the searches of other transcripts.
    pub fn start_search(
        &mut self,
        task: &TaskId,
        attempt: u32,
        rel: &str,
        query: &str,
    ) -> Option<SearchRequest> {
        let key = (task.clone(), attempt);
        let query = query.to_lowercase();
        let t = self.transcripts.get_mut(&key)?;
        if t.searching(&query) {
            return None;
        }
        let upto = t.start_search(&query);
        for (k, other) in &mut self.transcripts {
            if *k != key {
                other.forget_search();
            }
        }
        (upto > 0).then(|| SearchRequest {
            task: task.clone(),
            attempt,
            rel: rel.to_owned(),
            query,
            upto,
        })
    }

    /// Installs the matches of a file search. Returns the direction of a
    /// search step (`true`: forward) that was waiting for them, if any.
    pub fn set_matches(
        &mut self,
        request: &SearchRequest,
        result: Result<Hits, String>,
    ) -> Option<bool> {
        let t = self
            .transcripts
            .get_mut(&(request.task.clone(), request.attempt))?;
        let waiting = t.set_matches(&request.query, request.upto, result);
        self.revision += 1;
        waiting
    }
}

fn info(a: AttemptRecord) -> AttemptInfo {
    AttemptInfo {
        n: a.n,
        agent: a.agent,
        started_ms: a.started_ms,
        ended_ms: a.ended_ms,
        outcome: a.outcome,
        message: a.message,
        usage: a.usage,
        transcript: a.transcript,
    }
}
