//! Durable state under `.fleet/`: the SQLite database (tasks, attempts,
//! events, costs), the lock that makes one process own a fleet, and the
//! per-attempt transcript files.
//!
//! Every write is a single statement or a transaction, and the database runs
//! in WAL mode, so a crash at any point leaves a consistent state and
//! `fleetdeck status` can read while a run writes.

mod attempts;
mod lock;
pub mod private;
mod schema;
mod team;
pub mod transcript;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

pub use attempts::{AttemptRecord, AttemptStart, Usage};
pub use lock::{FleetLock, LockError};

use crate::core::{Actor, Event, Task, TaskId, TaskSpec};

/// The database file name inside `.fleet/`.
pub const DB_FILE: &str = "fleet.db";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {}: stored {what} is unreadable: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        what: String,
        source: serde_json::Error,
    },
    #[error("database {} was written by a newer fleetdeck (schema {found}, this one knows {known}); upgrade fleetdeck", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

impl StoreError {
    /// True when the failure is the environment's, not fleetdeck's data: the
    /// database or `.fleet` cannot be written (disk full, read-only file
    /// system or database, permissions, an I/O error, a lock held too long).
    /// The engine pauses the fleet on these instead of going on.
    pub fn is_environment(&self) -> bool {
        use rusqlite::ErrorCode as C;
        match self {
            StoreError::Io { .. } => true,
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } => matches!(
                e.code,
                C::SystemIoFailure
                    | C::ReadOnly
                    | C::DiskFull
                    | C::CannotOpen
                    | C::PermissionDenied
                    | C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::NoLargeFileSupport
            ),
            StoreError::Sqlite { .. } | StoreError::Corrupt { .. } | StoreError::TooNew { .. } => {
                false
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One recorded event, as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: i64,
    /// Unix time in milliseconds.
    pub ts_ms: i64,
    pub task: Option<String>,
    pub actor: String,
    pub kind: String,
    /// The whole event as JSON.
    pub detail: serde_json::Value,
}

/// The open database of one fleet.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// Opens (creating if needed) `.fleet/fleet.db` in `fleet_dir`, migrating it to the current schema.
    ///
    /// The database is created as 0600 before SQLite opens it, so the
    /// `-wal`, `-shm` and any journal SQLite creates next to it get the
    /// same mode; files of an older, more open fleet are tightened.
    pub fn open(fleet_dir: &Path) -> Result<Store> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        private::create_dir_private(fleet_dir).map_err(io(fleet_dir))?;
        let path = fleet_dir.join(DB_FILE);
        let mut create = std::fs::OpenOptions::new();
        create.write(true).create_new(true);
        match private::open_private(&path, &mut create) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let conn = Connection::open(&path).map_err(|source| StoreError::Sqlite {
            path: path.clone(),
            source,
        })?;
        let store = Store { conn, path };
        store.set_up()?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = fleet_dir.join(format!("{DB_FILE}{suffix}"));
            if let Err(e) = private::tighten(&file, private::FILE_MODE) {
                // Not fatal: a reader (`status`) may not be allowed to chmod.
                tracing::warn!("cannot make {} private: {e}", file.display());
            }
        }
        Ok(store)
    }

    /// Switches a new connection to WAL and migrates the schema.
    ///
    /// SQLite answers `SQLITE_BUSY` without calling the busy handler
    /// while another connection is switching a new file to WAL or
    /// building its wal-index, so two processes opening one new
    /// database at once retry here until the other is through.
    fn set_up(&self) -> Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let result = self
                .sql(|c| {
                    c.busy_timeout(std::time::Duration::from_secs(5))?;
                    c.pragma_update(None, "journal_mode", "WAL")?;
                    c.pragma_update(None, "synchronous", "NORMAL")?;
                    c.pragma_update(None, "foreign_keys", "ON")
                })
                .and_then(|()| schema::migrate(self));
            match result {
                Err(StoreError::Sqlite { source, .. })
                    if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        f(&self.conn).map_err(|source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }

    fn corrupt(&self, what: impl Into<String>, source: serde_json::Error) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            what: what.into(),
            source,
        }
    }

    /// All tasks in plan order (the order they were added).
    pub fn load_tasks(&self) -> Result<Vec<Task>> {
        let rows: Vec<(String, String)> = self.sql(|c| {
            let mut stmt = c.prepare("SELECT id, state FROM tasks ORDER BY seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?;
        rows.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json).map_err(|e| self.corrupt(format!("task `{id}`"), e))
            })
            .collect()
    }

    /// Inserts or replaces a task's state, keeping its place in plan order.
    pub fn save_task(&self, task: &Task) -> Result<()> {
        let json = serde_json::to_string(task)
            .map_err(|e| self.corrupt(format!("task `{}`", task.id()), e))?;
        self.sql(|c| {
            c.execute(
                "INSERT INTO tasks (id, seq, state, updated_ms) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM tasks), ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
                params![task.id().as_str(), json, now_ms()],
            )
        })?;
        Ok(())
    }

    /// Adds the plan's tasks that were never imported before (by id), in one
    /// transaction; tasks already imported are left alone, even if the user
    /// edited or dropped them since. Returns the ids added.
    pub fn import_plan(&mut self, specs: &[TaskSpec]) -> Result<Vec<TaskId>> {
        let mut rows = Vec::with_capacity(specs.len());
        for spec in specs {
            let json = serde_json::to_string(&Task::new(spec.clone()))
                .map_err(|e| self.corrupt(format!("task `{}`", spec.id), e))?;
            rows.push((spec.id.clone(), json));
        }
        let path = self.path.clone();
        let wrap = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let mut added = Vec::new();
        for (id, json) in rows {
            let seen = tx
                .query_row(
                    "SELECT 1 FROM imported WHERE id = ?1 UNION ALL SELECT 1 FROM tasks WHERE id = ?1",
                    [id.as_str()],
                    |_| Ok(()),
                )
                .optional()
                .map_err(wrap)?
                .is_some();
            if seen {
                continue;
            }
            tx.execute(
                "INSERT INTO imported (id, ts_ms) VALUES (?1, ?2)",
                params![id.as_str(), now_ms()],
            )
            .map_err(wrap)?;
            tx.execute(
                "INSERT INTO tasks (id, seq, state, updated_ms) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM tasks), ?2, ?3)",
                params![id.as_str(), json, now_ms()],
            )
            .map_err(wrap)?;
            added.push(id);
        }
        tx.commit().map_err(wrap)?;
        Ok(added)
    }

    /// True when the database holds no fleet: no task, no attempt, no
    /// imported plan entry and no `recovered` mark (a new file, or one
    /// emptied or recreated). Checked by the engine before it imports the plan.
    pub fn is_empty(&self) -> Result<bool> {
        self.sql(|c| {
            c.query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM tasks) AND NOT EXISTS (SELECT 1 FROM attempts)
                 AND NOT EXISTS (SELECT 1 FROM imported) AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'recovered')",
                [],
                |r| r.get(0),
            )
        })
    }

    /// A value from the key/value table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.sql(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.sql(|c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
        })?;
        Ok(())
    }

    /// Whether the fleet was left paused.
    pub fn fleet_paused(&self) -> Result<bool> {
        Ok(self.meta("fleet_paused")?.as_deref() == Some("true"))
    }

    pub fn set_fleet_paused(&self, paused: bool) -> Result<()> {
        self.set_meta("fleet_paused", if paused { "true" } else { "false" })
    }

    /// Why the fleet is paused, from the last pause or resume in the event
    /// log: the reason of a `fleet_paused` event that no `fleet_resumed`
    /// followed; None when the fleet was resumed since (or never paused).
    pub fn fleet_paused_reason(&self) -> Result<Option<String>> {
        let last: Option<(String, String)> = self.sql(|c| {
            c.query_row(
                "SELECT kind, detail FROM events WHERE kind IN ('fleet_paused', 'fleet_resumed') ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        let Some((kind, detail)) = last.filter(|(kind, _)| kind == "fleet_paused") else {
            return Ok(None);
        };
        let event: Event =
            serde_json::from_str(&detail).map_err(|e| self.corrupt(format!("event {kind}"), e))?;
        Ok(match event {
            Event::FleetPaused { reason } => Some(reason),
            _ => None,
        })
    }

    /// Appends an event to the log, timestamped now.
    pub fn record(&self, actor: Actor, event: &Event) -> Result<()> {
        let detail = serde_json::to_string(event).map_err(|e| self.corrupt("event", e))?;
        let actor = match actor {
            Actor::User => "user",
            Actor::Engine => "engine",
        };
        self.sql(|c| {
            c.execute(
                "INSERT INTO events (ts_ms, task, actor, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    now_ms(),
                    event.task().map(TaskId::as_str),
                    actor,
                    event.kind(),
                    detail
                ],
            )
        })?;
        Ok(())
    }

    /// The event log in order, optionally only one task's events.
    pub fn events(&self, task: Option<&str>) -> Result<Vec<EventRecord>> {
        self.events_where("?1 IS NULL OR task = ?1", task)
    }

    /// The events of these kinds (`plan_changed`...), in order: read without
    /// the rest of the log.
    pub fn events_of(&self, kinds: &[&str]) -> Result<Vec<EventRecord>> {
        let list = serde_json::to_string(kinds).unwrap_or_else(|_| "[]".into());
        self.events_where("kind IN (SELECT value FROM json_each(?1))", Some(&list))
    }

    fn events_where(&self, filter: &str, arg: Option<&str>) -> Result<Vec<EventRecord>> {
        let query = format!(
            "SELECT id, ts_ms, task, actor, kind, detail FROM events WHERE {filter} ORDER BY id"
        );
        let rows: Vec<(i64, i64, Option<String>, String, String, String)> = self.sql(|c| {
            let mut stmt = c.prepare(&query)?;
            let rows = stmt.query_map([arg], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            rows.collect()
        })?;
        rows.into_iter()
            .map(|(id, ts_ms, task, actor, kind, detail)| {
                let detail = serde_json::from_str(&detail)
                    .map_err(|e| self.corrupt(format!("event {id}"), e))?;
                Ok(EventRecord {
                    id,
                    ts_ms,
                    task,
                    actor,
                    kind,
                    detail,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
