//! The team layer in the engine: every message taken goes into its
//! task's transcript as a note line (through the running attempt's own
//! log, which also feeds a progress message to its progress ledger; else
//! appended to the task's last transcript), a conflict warns the user;
//! context entries are saved to the store and mirrored in
//! `.fleet/context.json` (0600, written atomically) so that
//! `fleetdeck context` run by an agent reads them without the database;
//! and each new attempt's prompt gets the team context in its scope and
//! the "Messages to the team" section.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use super::engine::{Engine, Notification};
use crate::config::AgentProfile;
use crate::core::team::{ContextEntry, ContextStore, Message, MessageKind, context};
use crate::core::{StartRequest, TaskId};
use crate::store::private;
use crate::store::transcript::{Stream, Writer};

/// How many characters of team context a profile's prompts get unless
/// `[agents.NAME] context_chars` says otherwise.
pub const DEFAULT_CONTEXT_CHARS: usize = 4000;

/// What the engine tells a running attempt: a note line for its
/// transcript, and whether it is the attempt's own progress message.
#[derive(Debug)]
pub(crate) struct RunNote {
    pub line: String,
    /// The text of a progress message of this attempt (its ledger counts it).
    pub progress: Option<String>,
}

/// The channels to running attempts, by task.
#[derive(Default)]
pub(crate) struct TeamLinks {
    runs: HashMap<TaskId, (u32, mpsc::UnboundedSender<RunNote>)>,
    /// `.fleet/context.json` is behind the store.
    context_dirty: bool,
    /// Taking the inbox: `.fleet/context.json` is written once at the end.
    batching: bool,
}

impl TeamLinks {
    /// A channel for the new attempt `attempt` of `task` (replacing the old one's).
    pub fn link(&mut self, task: &TaskId, attempt: u32) -> mpsc::UnboundedReceiver<RunNote> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.runs.insert(task.clone(), (attempt, tx));
        rx
    }
}

/// `.fleet/context.json`: the context store as the engine last saved it.
pub fn context_json(fleet_dir: &Path) -> PathBuf {
    fleet_dir.join("context.json")
}

/// Reads `.fleet/context.json`.
pub fn read_context_json(fleet_dir: &Path) -> Result<ContextStore, String> {
    let path = context_json(fleet_dir);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `store` to `.fleet/context.json` atomically (a hidden temp file, 0600, renamed).
pub fn write_context_json(fleet_dir: &Path, store: &ContextStore) -> std::io::Result<()> {
    let path = context_json(fleet_dir);
    let tmp = fleet_dir.join(format!(".context.json.{}.tmp", std::process::id()));
    let json = serde_json::to_vec_pretty(store).map_err(std::io::Error::other)?;
    let mut file = private::open_private(
        &tmp,
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
    )?;
    file.write_all(&json)?;
    // Not synced: the database is the store; this is its mirror, whole
    // or not there (renamed), rewritten after the next change.
    std::fs::rename(&tmp, &path)
}

/// The note line a message makes in its task's transcript.
pub fn note_line(m: &Message) -> String {
    let mut line = format!("message #{} [{}]: {}", m.id, m.kind, m.text);
    if !m.paths.is_empty() {
        line.push_str(&format!(" (about {})", m.paths.join(", ")));
    }
    line
}

/// The "Messages to the team" section of every new attempt's prompt.
pub fn messages_section() -> String {
    let mut out = String::from(
        "## Messages to the team\nOther agents work on this project at the same time. Tell the \
         team (and the user) what matters with `fleetdeck msg KIND \"TEXT\"` (add `--path P` for \
         each file or directory it is about), where KIND is one of:\n",
    );
    for k in MessageKind::ALL {
        out.push_str(&format!("- `{}`: {}\n", k.name(), k.help()));
    }
    out.push_str(
        "Read what the team decided so far with `fleetdeck context [QUERY]` before you \
         decide an interface, a name or a format yourself.\n",
    );
    out
}

/// `prompt` with the team context in scope (within the profile's
/// `context_chars`) and the messages section.
pub fn team_prompt(
    prompt: &str,
    entries: &[&ContextEntry],
    profile: Option<&AgentProfile>,
) -> String {
    let bound = profile
        .and_then(|p| p.context_chars)
        .unwrap_or(DEFAULT_CONTEXT_CHARS);
    let mut out = prompt.trim_end().to_owned();
    if let Some(section) = context::prompt_section(entries, bound) {
        out.push_str("\n\n");
        out.push_str(&section);
    }
    out.push_str("\n\n");
    out.push_str(&messages_section());
    out
}

impl Engine {
    /// A message was taken and recorded: its note line, the ledger, a warning.
    pub(super) fn message_taken(&mut self, m: &Message) {
        let line = note_line(m);
        if m.kind.route().warn {
            let message = format!("task `{}` reports a {}: {}", m.task, m.kind, m.text);
            tracing::warn!("{message}");
            self.notify(Notification::Warning { message });
        }
        let progress = (m.kind.route().ledger).then(|| (m.attempt, m.text.clone()));
        self.note(&m.task, &line, progress);
    }

    /// A note line in the task's current transcript: through its running
    /// attempt's log (with the attempt's own progress message for its
    /// ledger), else appended to its last transcript.
    pub(super) fn note(&mut self, task: &TaskId, line: &str, progress: Option<(u32, String)>) {
        let sent = self.team.runs.get(task).is_some_and(|(attempt, tx)| {
            let progress = progress.filter(|(a, _)| a == attempt).map(|(_, text)| text);
            tx.send(RunNote {
                line: line.to_owned(),
                progress,
            })
            .is_ok()
        });
        if !sent {
            self.team.runs.remove(task);
            self.append_note(task, line);
        }
    }

    /// Appends a note line to the task's last transcript (no run writes it now).
    pub(super) fn append_note(&mut self, task: &TaskId, line: &str) {
        let last = match self.store.attempts(task.as_str()) {
            Ok(attempts) => attempts.into_iter().last(),
            Err(e) => {
                tracing::warn!("cannot read the attempts of `{task}`: {e}");
                None
            }
        };
        let Some(rec) = last else {
            return; // no transcript yet: the event log has it
        };
        let path = self.fleet_dir.join(&rec.transcript);
        let written = Writer::open_append(&path).and_then(|mut w| w.line(Stream::Fleet, line));
        if let Err(e) = written {
            tracing::warn!("cannot add a note to {}: {e}", path.display());
            return;
        }
        self.notify(Notification::Line {
            task: task.clone(),
            attempt: rec.n,
            stream: Stream::Fleet,
            line: line.to_owned(),
        });
    }

    /// Saves a context entry and mirrors the store in `.fleet/context.json`
    /// (once at the end while the inbox is taken).
    pub(super) fn save_context(&mut self, entry: &ContextEntry) {
        let r = self.store.save_context(entry);
        self.check(r);
        self.team.context_dirty = true;
        if !self.team.batching {
            self.flush_context();
        }
    }

    /// Starts or ends a batch of inbox messages (see [`Engine::save_context`]).
    pub(super) fn batch_context(&mut self, on: bool) {
        self.team.batching = on;
        if !on {
            self.flush_context();
        }
    }

    fn flush_context(&mut self) {
        if !std::mem::take(&mut self.team.context_dirty) {
            return;
        }
        if let Err(e) = write_context_json(&self.fleet_dir, self.scheduler.context()) {
            let message = format!(
                "cannot write {} ({e}): `fleetdeck context` reads the database instead",
                context_json(&self.fleet_dir).display()
            );
            tracing::warn!("{message}");
            self.notify(Notification::Warning { message });
        }
    }

    /// The prompt of a new attempt with the team's sections.
    pub(super) fn with_team(&self, request: &StartRequest, profile: &AgentProfile) -> String {
        let entries = self
            .scheduler
            .task(request.task.as_str())
            .map(|t| self.scheduler.context().in_scope(&t.spec))
            .unwrap_or_default();
        team_prompt(&request.prompt, &entries, Some(profile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::team::{Author, ContextKind, Scope};

    #[test]
    fn the_prompt_gets_the_context_within_the_bound_and_always_the_messages_section() {
        let e = ContextEntry {
            id: 1,
            kind: ContextKind::Decision,
            text: "errors are JSON".into(),
            author: Author::User,
            scope: Scope::default(),
            supersedes: None,
            retired: false,
            time_ms: 1,
        };
        let p = team_prompt("do it\n", &[&e], None);
        assert!(p.starts_with("do it\n\n## Team context\n"), "{p}");
        assert!(p.contains("- [decision] errors are JSON (the user)"), "{p}");
        assert!(p.contains("## Messages to the team"));
        for k in MessageKind::ALL {
            assert!(p.contains(&format!("- `{}`: ", k.name())), "{k}");
        }
        // No line of the section may read as a sim directive.
        for line in messages_section().lines() {
            let word = line.split(' ').next().unwrap_or("");
            assert!(
                !["msg", "context", "run", "say", "write", "fail"].contains(&word),
                "{line}"
            );
        }
        let profile: AgentProfile = toml::from_str("command = [\"x\"]\ncontext_chars = 0").unwrap();
        let p = team_prompt("do it", &[&e], Some(&profile));
        assert!(!p.contains("## Team context") && p.contains("## Messages to the team"));
    }

    #[test]
    fn context_json_is_private_and_reads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut store = ContextStore::default();
        store
            .add(crate::core::team::NewEntry {
                kind: ContextKind::Contract,
                text: "GET /items".into(),
                author: Author::User,
                scope: Scope::default(),
                supersedes: None,
                time_ms: 3,
            })
            .unwrap();
        write_context_json(dir.path(), &store).unwrap();
        let mode = std::fs::metadata(context_json(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read_context_json(dir.path()).unwrap(), store);
        assert!(
            read_context_json(&dir.path().join("nope"))
                .unwrap_err()
                .contains("nope")
        );
    }
}
