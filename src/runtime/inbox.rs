//! The inbox: what agents tell the engine from their worktrees
//! (`fleetdeck msg KIND "TEXT"`, `fleetdeck report complexity|found
//! "TEXT"`) and the user's context commands (`fleetdeck context --add`),
//! one JSON file per message
//! in `.fleet/inbox/` (0700), written atomically (a hidden temp file, 0600,
//! renamed into place). The engine takes every file when it starts running
//! (written while no engine ran) and whenever `notify` sees the directory
//! change, in name order (the names start with the time): each becomes a
//! [`Report::Message`] (a report: [`Report::AgentNote`]; a user's command:
//! applied as a command) and is removed only after the scheduler took it
//! and its event was recorded. A file that is bad (unparsable, an unknown
//! kind or task, a refused command) is moved to `.fleet/inbox/bad/` with
//! `NAME.why` beside it (its task and what is wrong), a warning and a note
//! in the task's transcript: never lost, never taken twice. The agent's
//! next `fleetdeck msg` or `fleetdeck context` prints the refusal once
//! (see [`take_refusals`]; the `.why` becomes `.why.told`).

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use super::Msg;
use super::engine::{Engine, Notification};
use crate::core::supervisor::ReportKind;
use crate::core::team::{MessageKind, message::check_path};
use crate::core::{Command, Report, TaskId};
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
    /// A [`MessageKind`] name (`decision`), `report.complexity`,
    /// `report.found`, or [`USER_COMMAND`].
    pub kind: String,
    /// The agent's task (empty for the user's command).
    pub task: String,
    pub attempt: u32,
    pub text: String,
    /// When it was written (Unix ms).
    pub time_ms: i64,
    /// Paths the message is about (relative to the repository's root).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The user's command ([`USER_COMMAND`]): a context command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
}

/// The `kind` of the user's command through the inbox (`fleetdeck context --add|--retire`).
pub const USER_COMMAND: &str = "user.command";

/// What a good inbox file is.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// An agent's report or typed message, for the scheduler.
    Report(Report),
    /// The user's context command.
    Command(Box<Command>),
}

/// Why a file is refused, and the task it came from when that is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub task: Option<TaskId>,
    pub why: String,
}

/// What `NAME.why` beside a bad file says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Why {
    #[serde(default)]
    pub task: Option<String>,
    pub why: String,
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

/// A file read and checked: what it makes, or what is wrong with it.
pub fn parse(text: &str, known: impl Fn(&TaskId) -> bool) -> Result<Parsed, Refused> {
    let entry: Entry = serde_json::from_str(text).map_err(|e| Refused {
        task: None,
        why: format!("not an inbox message: {e}"),
    })?;
    if entry.kind == USER_COMMAND {
        return match entry.command {
            Some(
                c @ (Command::AddContext { .. }
                | Command::EditContext { .. }
                | Command::RetireContext { .. }),
            ) => Ok(Parsed::Command(Box::new(c))),
            Some(c) => Err(Refused {
                task: None,
                why: format!(
                    "{}: only context commands come through the inbox",
                    c.describe()
                ),
            }),
            None => Err(Refused {
                task: None,
                why: format!("a `{USER_COMMAND}` without its command"),
            }),
        };
    }
    let task = TaskId::parse(&entry.task).map_err(|e| Refused {
        task: None,
        why: format!("bad task `{}`: {e}", entry.task),
    })?;
    let refuse = |why: String| Refused {
        task: Some(task.clone()),
        why,
    };
    let report = report_kind(&entry.kind);
    let message = MessageKind::parse(&entry.kind);
    if report.is_none() && message.is_err() {
        let all: Vec<&str> = MessageKind::ALL.iter().map(|k| k.name()).collect();
        return Err(refuse(format!(
            "unknown kind `{}` (expected one of: {}, or report.complexity, report.found)",
            entry.kind,
            all.join(", ")
        )));
    }
    if !known(&task) {
        return Err(Refused {
            task: None,
            why: format!("there is no task `{task}` in this fleet"),
        });
    }
    let text = crate::sanitize::sanitize(entry.text.trim()).into_owned();
    if text.is_empty() {
        return Err(refuse("its text is empty".into()));
    }
    let n = text.chars().count();
    if n > TEXT_MAX {
        return Err(refuse(format!(
            "its text has {n} characters; at most {TEXT_MAX}"
        )));
    }
    let paths = entry
        .paths
        .iter()
        .map(|p| check_path(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(&refuse)?;
    let attempt = entry.attempt;
    Ok(Parsed::Report(match (report, message) {
        (Some(kind), _) => Report::AgentNote {
            task,
            attempt,
            kind,
            text,
        },
        (None, Ok(kind)) => Report::Message {
            task,
            attempt,
            kind,
            text,
            paths,
            time_ms: entry.time_ms,
        },
        (None, Err(why)) => return Err(refuse(why)),
    }))
}

/// The refusals of `task`'s messages not yet told to its agent, each
/// `(file name, why)`, marked told (`.why` renamed `.why.told`): each is
/// told once, even to two commands run at once.
pub fn take_refusals(fleet_dir: &Path, task: &TaskId) -> Vec<(String, String)> {
    let bad = dir(fleet_dir).join(BAD);
    let Ok(read) = std::fs::read_dir(&bad) else {
        return Vec::new();
    };
    let mut whys: Vec<PathBuf> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "why"))
        .collect();
    whys.sort();
    let mut out = Vec::new();
    for path in whys {
        let Ok(why) = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Why>(&t).map_err(|e| e.to_string()))
        else {
            continue;
        };
        if why.task.as_deref() != Some(task.as_str()) {
            continue;
        }
        let mut told = path.clone().into_os_string();
        told.push(".told");
        if std::fs::rename(&path, &told).is_ok() {
            let name = path
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            out.push((name, why.why));
        }
    }
    out
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
        if self.held {
            return None;
        }
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
    /// Not in an engine held for a one-shot command (`approve`...): what
    /// the supervisor makes of a report needs a running fleet.
    pub(super) fn take_inbox(&mut self) {
        if self.held {
            return;
        }
        let dir = dir(&self.fleet_dir);
        self.batch_context(true);
        for path in pending(&dir) {
            if self.inbox_taken.0.contains(&path) {
                continue;
            }
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| Refused {
                    task: None,
                    why: format!("cannot be read: {e}"),
                })
                .and_then(|text| parse(&text, |t| self.scheduler.task(t.as_str()).is_some()));
            let parsed = parsed.and_then(|p| match p {
                Parsed::Report(report) => {
                    let fx = self.scheduler.report(report);
                    self.apply(fx);
                    Ok(())
                }
                Parsed::Command(command) => {
                    self.scheduler.set_clock(crate::store::now_ms());
                    let fx = self.scheduler.command(*command).map_err(|e| Refused {
                        task: None,
                        why: format!("the command was refused: {e}"),
                    })?;
                    self.apply(fx);
                    Ok(())
                }
            });
            match parsed {
                Ok(()) => {
                    if let Err(e) = std::fs::remove_file(&path) {
                        tracing::warn!("cannot remove {}: {e}", path.display());
                        self.inbox_taken.0.insert(path);
                    }
                }
                Err(refused) => self.set_aside(&dir, &path, &refused),
            }
        }
        self.batch_context(false);
    }

    /// Moves a bad file to `bad/` with its `.why`, and says so (a warning,
    /// a note in its task's transcript).
    fn set_aside(&mut self, dir: &Path, path: &Path, refused: &Refused) {
        let why = refused.why.as_str();
        let bad = dir.join(BAD);
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        let moved = private::create_dir_private(&bad)
            .and_then(|()| write_why(&bad, &name, refused))
            .and_then(|()| std::fs::rename(path, bad.join(&name)));
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
        if let Some(task) = &refused.task {
            let file = name.to_string_lossy();
            self.note(task, &format!("message {file} refused: {why}"), None);
        }
        self.notify(Notification::Warning { message });
    }
}

/// Writes `bad/NAME.why` (atomically, 0600) before the file itself moves:
/// a bad file is never without its reason.
fn write_why(bad: &Path, name: &Path, refused: &Refused) -> std::io::Result<()> {
    let why = Why {
        task: refused.task.as_ref().map(|t| t.to_string()),
        why: refused.why.clone(),
    };
    let mut file_name = name.as_os_str().to_owned();
    file_name.push(".why");
    let path = bad.join(file_name);
    let tmp = bad.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut file = private::open_private(
        &tmp,
        OpenOptions::new().write(true).create(true).truncate(true),
    )?;
    file.write_all(&serde_json::to_vec(&why).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, task: &str, text: &str) -> Entry {
        Entry {
            kind: kind.into(),
            task: task.into(),
            attempt: 2,
            text: text.into(),
            time_ms: 5,
            paths: Vec::new(),
            command: None,
        }
    }

    fn json(e: &Entry) -> String {
        serde_json::to_string(e).unwrap()
    }

    fn known(t: &TaskId) -> bool {
        t.as_str() == "api"
    }

    fn why(text: &str) -> String {
        parse(text, known).unwrap_err().why
    }

    #[test]
    fn a_report_parses_to_its_kind_task_and_sanitized_text() {
        let parsed = parse(
            &json(&entry("report.found", "api", " the \x1b[31mparser\x1b[0m ")),
            known,
        );
        assert_eq!(
            parsed,
            Ok(Parsed::Report(Report::AgentNote {
                task: TaskId::parse("api").unwrap(),
                attempt: 2,
                kind: ReportKind::Found,
                text: "the parser".into()
            }))
        );
        let parsed = parse(&json(&entry("report.complexity", "api", "big")), known).unwrap();
        assert!(matches!(
            parsed,
            Parsed::Report(Report::AgentNote {
                kind: ReportKind::Complexity,
                ..
            })
        ));
    }

    #[test]
    fn a_typed_message_parses_with_its_checked_paths() {
        let mut e = entry("decision", "api", "errors are JSON");
        e.paths = vec!["./src/api/".into()];
        let Ok(Parsed::Report(Report::Message {
            kind,
            paths,
            time_ms,
            ..
        })) = parse(&json(&e), known)
        else {
            panic!("not a message");
        };
        assert_eq!(
            (kind, paths, time_ms),
            (MessageKind::Decision, vec!["src/api".to_string()], 5)
        );
        e.paths = vec!["../x".into()];
        let refused = parse(&json(&e), known).unwrap_err();
        assert_eq!(refused.task.as_ref().map(|t| t.as_str()), Some("api"));
        assert!(refused.why.contains("`..`"), "{}", refused.why);
    }

    #[test]
    fn bad_messages_say_what_is_wrong_and_whose_they_are() {
        assert!(why("{nope").starts_with("not an inbox message"));
        let w = why(&json(&entry("report.shrug", "api", "x")));
        assert!(
            w.starts_with("unknown kind `report.shrug` (expected one of: progress, blocker"),
            "{w}"
        );
        assert!(
            w.ends_with("checkpoint, or report.complexity, report.found)"),
            "{w}"
        );
        assert_eq!(
            why(&json(&entry("report.found", "web", "x"))),
            "there is no task `web` in this fleet"
        );
        let refused = parse(&json(&entry("progress", "api", "  ")), known).unwrap_err();
        assert_eq!(refused.why, "its text is empty");
        assert_eq!(refused.task, Some(TaskId::parse("api").unwrap()));
        let long = "x".repeat(TEXT_MAX + 1);
        assert!(why(&json(&entry("progress", "api", &long))).contains("at most 4000"));
    }

    #[test]
    fn only_context_commands_come_from_the_user_through_the_inbox() {
        let mut e = entry(USER_COMMAND, "", "");
        e.command = Some(Command::RetireContext { id: 3 });
        assert_eq!(
            parse(&json(&e), known),
            Ok(Parsed::Command(Box::new(Command::RetireContext { id: 3 })))
        );
        e.command = Some(Command::PauseFleet);
        assert!(why(&json(&e)).contains("only context commands"));
        e.command = None;
        assert!(why(&json(&e)).contains("without its command"));
    }

    #[test]
    fn refusals_are_told_once_to_their_task() {
        let fleet = tempfile::tempdir().unwrap();
        let bad = dir(fleet.path()).join(BAD);
        private::create_dir_private(&bad).unwrap();
        let api = TaskId::parse("api").unwrap();
        let refused = |task: Option<&TaskId>, why: &str| Refused {
            task: task.cloned(),
            why: why.into(),
        };
        write_why(
            &bad,
            Path::new("1-a.json"),
            &refused(Some(&api), "its text is empty"),
        )
        .unwrap();
        write_why(
            &bad,
            Path::new("2-b.json"),
            &refused(None, "not an inbox message"),
        )
        .unwrap();
        let web = TaskId::parse("web").unwrap();
        assert!(take_refusals(fleet.path(), &web).is_empty());
        assert_eq!(
            take_refusals(fleet.path(), &api),
            vec![("1-a.json".to_string(), "its text is empty".to_string())]
        );
        assert!(take_refusals(fleet.path(), &api).is_empty(), "once");
        assert!(bad.join("1-a.json.why.told").exists());
    }

    #[test]
    fn written_files_are_private_pending_in_order_and_temp_files_wait() {
        use std::os::unix::fs::PermissionsExt;
        let fleet = tempfile::tempdir().unwrap();
        let e = |t: i64| Entry {
            time_ms: t,
            ..entry("report.found", "api", &format!("at {t}"))
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
