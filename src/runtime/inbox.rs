//! The inbox: what agents tell the engine from their worktrees
//! (`fleetdeck report complexity|found "TEXT"`), one JSON file per message
//! in `.fleet/inbox/` (0700), written atomically (a hidden temp file, 0600,
//! renamed into place). The engine takes every file when it starts running
//! (written while no engine ran) and whenever `notify` sees the directory
//! change, in name order (the names start with the time): each becomes a
//! [`Report::AgentNote`] and is removed only after the scheduler took it and
//! its event was recorded. A file that is bad (unparsable, an unknown kind
//! or task) is moved to `.fleet/inbox/bad/` with a warning naming it and
//! what is wrong: never lost, never taken twice.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use super::Msg;
use super::engine::{Engine, Notification};
use crate::core::supervisor::ReportKind;
use crate::core::{Report, TaskId};
use crate::store::private;

/// The inbox directory of the fleet in `fleet_dir`.
pub fn dir(fleet_dir: &Path) -> PathBuf {
    fleet_dir.join("inbox")
}

/// Where bad files are kept.
const BAD: &str = "bad";
/// Most characters of a message's text.
pub const TEXT_MAX: usize = 4000;

/// One message in the inbox, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `report.complexity`, `report.found` (issue 10 adds more kinds).
    pub kind: String,
    pub task: String,
    pub attempt: u32,
    pub text: String,
    /// When it was written (Unix ms).
    pub time_ms: i64,
}

/// The `kind` of an agent's report.
pub fn report_kind_name(kind: ReportKind) -> String {
    format!("report.{}", kind.name())
}

fn report_kind(kind: &str) -> Option<ReportKind> {
    match kind {
        "report.complexity" => Some(ReportKind::Complexity),
        "report.found" => Some(ReportKind::Found),
        _ => None,
    }
}

/// Writes `entry` into the inbox of `fleet_dir` atomically; the file's path.
pub fn write(fleet_dir: &Path, entry: &Entry) -> std::io::Result<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir = dir(fleet_dir);
    private::create_dir_private(&dir)?;
    let name = format!(
        "{:013}-{}-{}.json",
        entry.time_ms.max(0),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = private::open_private(&tmp, OpenOptions::new().write(true).create_new(true))?;
    let text = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    file.write_all(&text)?;
    file.sync_all()?;
    let path = dir.join(name);
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The files waiting in `dir`, in name order: `*.json`, not hidden (a
/// hidden file is still being written), not the bad ones.
pub fn pending(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    files
}

/// A file read and checked: the report it makes, or what is wrong with it.
pub fn parse(
    text: &str,
    known: impl Fn(&TaskId) -> bool,
) -> Result<(TaskId, u32, ReportKind, String), String> {
    let entry: Entry =
        serde_json::from_str(text).map_err(|e| format!("not an inbox message: {e}"))?;
    let kind = report_kind(&entry.kind).ok_or_else(|| {
        format!(
            "unknown kind `{}` (expected report.complexity or report.found)",
            entry.kind
        )
    })?;
    let task = TaskId::parse(&entry.task).map_err(|e| format!("bad task `{}`: {e}", entry.task))?;
    if !known(&task) {
        return Err(format!("there is no task `{task}` in this fleet"));
    }
    let text = crate::sanitize::sanitize(entry.text.trim());
    if text.is_empty() {
        return Err("its text is empty".into());
    }
    let text: String = text.chars().take(TEXT_MAX).collect();
    Ok((task, entry.attempt, kind, text))
}

/// Files the engine took and could not remove: not taken again.
#[derive(Default)]
pub(crate) struct Taken(HashSet<PathBuf>);

impl Engine {
    /// Watches the inbox: every change wakes the engine loop to take what
    /// arrived. None (with a warning) when the directory cannot be watched:
    /// messages then wait for the next start.
    pub(super) fn watch_inbox(&mut self) -> Option<notify::RecommendedWatcher> {
        use notify::Watcher;
        let dir = dir(&self.fleet_dir);
        let watched = private::create_dir_private(&dir)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let tx = self.tx.clone();
                let mut watcher =
                    notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                        if event.is_ok() {
                            let _ = tx.send(Msg::Inbox);
                        }
                    })
                    .map_err(|e| e.to_string())?;
                watcher
                    .watch(&dir, notify::RecursiveMode::NonRecursive)
                    .map_err(|e| e.to_string())?;
                Ok(watcher)
            });
        match watched {
            Ok(w) => Some(w),
            Err(e) => {
                let message = format!(
                    "cannot watch {} ({e}): agents' reports are taken at the next start",
                    dir.display()
                );
                tracing::warn!("{message}");
                self.notify(Notification::Warning { message });
                None
            }
        }
    }

    /// Takes every message waiting in the inbox, in name order.
    pub(super) fn take_inbox(&mut self) {
        let dir = dir(&self.fleet_dir);
        for path in pending(&dir) {
            if self.inbox_taken.0.contains(&path) {
                continue;
            }
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot be read: {e}"))
                .and_then(|text| parse(&text, |t| self.scheduler.task(t.as_str()).is_some()));
            match parsed {
                Ok((task, attempt, kind, text)) => {
                    let fx = self.scheduler.report(Report::AgentNote {
                        task,
                        attempt,
                        kind,
                        text,
                    });
                    self.apply(fx);
                    if let Err(e) = std::fs::remove_file(&path) {
                        tracing::warn!("cannot remove {}: {e}", path.display());
                        self.inbox_taken.0.insert(path);
                    }
                }
                Err(why) => self.set_aside(&dir, &path, &why),
            }
        }
    }

    /// Moves a bad file to `bad/` and says so.
    fn set_aside(&mut self, dir: &Path, path: &Path, why: &str) {
        let bad = dir.join(BAD);
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        let moved =
            private::create_dir_private(&bad).and_then(|()| std::fs::rename(path, bad.join(&name)));
        let message = match moved {
            Ok(()) => format!(
                "{}: {why}; moved to {}",
                path.display(),
                bad.join(&name).display()
            ),
            Err(e) => {
                self.inbox_taken.0.insert(path.to_owned());
                format!(
                    "{}: {why}; it could not be moved to {} ({e}) and is left in place",
                    path.display(),
                    bad.display()
                )
            }
        };
        tracing::warn!("{message}");
        self.notify(Notification::Warning { message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, task: &str, text: &str) -> String {
        serde_json::to_string(&Entry {
            kind: kind.into(),
            task: task.into(),
            attempt: 2,
            text: text.into(),
            time_ms: 5,
        })
        .unwrap()
    }

    fn known(t: &TaskId) -> bool {
        t.as_str() == "api"
    }

    #[test]
    fn a_report_parses_to_its_kind_task_and_sanitized_text() {
        let (task, attempt, kind, text) = parse(
            &entry("report.found", "api", " the \x1b[31mparser\x1b[0m "),
            known,
        )
        .unwrap();
        assert_eq!(
            (task.as_str(), attempt, kind),
            ("api", 2, ReportKind::Found)
        );
        assert_eq!(text, "the parser");
        let (.., kind, _) = parse(&entry("report.complexity", "api", "big"), known).unwrap();
        assert_eq!(kind, ReportKind::Complexity);
    }

    #[test]
    fn bad_messages_say_what_is_wrong() {
        assert!(
            parse("{nope", known)
                .unwrap_err()
                .starts_with("not an inbox message")
        );
        assert_eq!(
            parse(&entry("report.shrug", "api", "x"), known).unwrap_err(),
            "unknown kind `report.shrug` (expected report.complexity or report.found)"
        );
        assert_eq!(
            parse(&entry("report.found", "web", "x"), known).unwrap_err(),
            "there is no task `web` in this fleet"
        );
        assert_eq!(
            parse(&entry("report.found", "api", "  "), known).unwrap_err(),
            "its text is empty"
        );
    }

    #[test]
    fn written_files_are_private_pending_in_order_and_temp_files_wait() {
        use std::os::unix::fs::PermissionsExt;
        let fleet = tempfile::tempdir().unwrap();
        let e = |t: i64| Entry {
            kind: "report.found".into(),
            task: "api".into(),
            attempt: 1,
            text: format!("at {t}"),
            time_ms: t,
        };
        let second = write(fleet.path(), &e(20)).unwrap();
        let first = write(fleet.path(), &e(3)).unwrap();
        let d = dir(fleet.path());
        std::fs::write(d.join(".half.json.tmp"), "{").unwrap();
        std::fs::write(d.join(".half.json"), "{").unwrap();
        assert_eq!(pending(&d), vec![first.clone(), second]);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&first), 0o600);
        let back: Entry = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
        assert_eq!(back, e(3));
    }
}
