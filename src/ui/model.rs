//! The cockpit's read model: a mirror of the fleet built from the engine's
//! snapshot and kept current by its notifications. Views draw from it; it
//! never talks to the engine.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::agent::{AgentEvent, parser_for};
use crate::core::{Event, Fleet, Task, TaskId};
use crate::runtime::{Notification, Snapshot};
use crate::sanitize::sanitize;
use crate::store::transcript::{self, Stream};
use crate::store::{AttemptRecord, Usage, now_ms};

/// Most transcript lines kept in memory per attempt; older ones stay in the
/// transcript file (`fleetdeck log` shows them all).
pub const MAX_TRANSCRIPT_LINES: usize = 20_000;

/// One attempt as the cockpit knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptInfo {
    pub n: u32,
    pub agent: String,
    /// Unix milliseconds.
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    /// succeeded, failed, stopped, interrupted; None while running.
    pub outcome: Option<String>,
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

/// The lines of one attempt held in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    pub lines: VecDeque<Line>,
    /// Lines dropped from memory because of [`MAX_TRANSCRIPT_LINES`].
    pub dropped: usize,
}

impl Transcript {
    fn push(&mut self, line: Line) {
        if self.lines.len() == MAX_TRANSCRIPT_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }

    /// Adds the display lines of one agent event.
    pub fn push_event(&mut self, at_ms: i64, event: &AgentEvent) {
        for (kind, text) in event_lines(event) {
            self.push(Line { at_ms, kind, text });
        }
    }

    pub fn push_text(&mut self, at_ms: i64, kind: LineKind, text: &str) {
        for l in sanitize(text).split('\n') {
            self.push(Line {
                at_ms,
                kind,
                text: l.to_owned(),
            });
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The display lines for an agent event: tool calls on one line, results
/// folded to their first line, prose split into lines. Texts are sanitized.
pub fn event_lines(event: &AgentEvent) -> Vec<(LineKind, String)> {
    let one = |kind, text: String| vec![(kind, first_line(&text))];
    let many = |kind, text: &str| {
        sanitize(text)
            .split('\n')
            .map(|l| (kind, l.to_owned()))
            .collect::<Vec<_>>()
    };
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
            ok: true, preview, ..
        } => one(LineKind::ToolOk, format!("  ↳ {preview}")),
        AgentEvent::ToolResult {
            ok: false, preview, ..
        } => one(LineKind::ToolError, format!("  ↳ {preview}")),
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

/// Reads an attempt's transcript file into display lines (for attempts that
/// ran before the cockpit started watching).
pub fn load_transcript(fleet_dir: &Path, rel: &str) -> std::io::Result<Transcript> {
    let t = transcript::read(&fleet_dir.join(rel))?;
    let started = t.header.as_ref().map_or(0, |h| h.started_ms);
    let mut parser = parser_for(
        t.header
            .as_ref()
            .map_or(crate::agent::Format::Text, |h| h.format),
    );
    let mut out = Transcript::default();
    for line in &t.lines {
        let at = started + line.t as i64;
        match line.s {
            Stream::Out => {
                for event in parser.line(&line.l) {
                    out.push_event(at, &event);
                }
            }
            Stream::Err => out.push_text(at, LineKind::Text, &line.l),
            Stream::Fleet => out.push_text(at, LineKind::Fleet, &line.l),
            Stream::Verify => out.push_text(at, LineKind::Verify, &line.l),
        }
    }
    for event in parser.finish() {
        out.push_event(started, &event);
    }
    Ok(out)
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
            .sum()
    }

    /// Applies one engine notification; returns whether anything visible changed.
    pub fn apply(&mut self, n: Notification) -> bool {
        let changed = match n {
            Notification::Task { task } => {
                self.fleet.upsert(*task);
                true
            }
            Notification::Fleet { paused } => {
                self.fleet.set_paused(paused);
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
            Notification::Gate {
                task,
                attempt,
                line,
            } => {
                let kind = if line.starts_with("verify: ") {
                    LineKind::Fleet
                } else {
                    LineKind::Verify
                };
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
        };
        if changed {
            self.revision += 1;
        }
        changed
    }

    fn apply_event(&mut self, event: Event) -> bool {
        match event {
            Event::AgentStarted {
                task,
                attempt,
                agent,
            } => {
                self.needs_input.remove(&task);
                let rel = transcript::relative_path(task.as_str(), attempt)
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
                outcome,
                message,
            } => {
                if let Some(a) = self.attempt_mut(&task, attempt) {
                    a.ended_ms = Some(now_ms());
                    a.outcome = Some(outcome);
                    a.message = message;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_become_sanitized_single_lines() {
        let lines = event_lines(&AgentEvent::ToolResult {
            id: None,
            ok: true,
            preview: "a\nb\u{1b}[2J".into(),
        });
        assert_eq!(lines, [(LineKind::ToolOk, "  ↳ a …".to_owned())]);
        let lines = event_lines(&AgentEvent::Message {
            text: "one\ntwo\u{1b}]0;x\u{7}".into(),
        });
        assert_eq!(
            lines,
            [
                (LineKind::Message, "one".to_owned()),
                (LineKind::Message, "two".to_owned())
            ]
        );
        assert!(
            event_lines(&AgentEvent::Usage {
                input_tokens: 1,
                output_tokens: 1,
                cost_usd: None
            })
            .is_empty()
        );
    }

    #[test]
    fn transcripts_keep_a_bounded_window() {
        let mut t = Transcript::default();
        for i in 0..MAX_TRANSCRIPT_LINES + 5 {
            t.push_text(0, LineKind::Text, &i.to_string());
        }
        assert_eq!(t.len(), MAX_TRANSCRIPT_LINES);
        assert_eq!(t.dropped, 5);
        assert_eq!(t.lines[0].text, "5");
    }
}
