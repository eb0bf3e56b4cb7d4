//! The database schema and its migrations, versioned with `PRAGMA user_version`.

use super::{Result, Store, StoreError};

/// Migrations in order; migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
     );
     CREATE TABLE imported (id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL);
     CREATE TABLE attempts (
        task TEXT NOT NULL,
        n INTEGER NOT NULL,
        agent TEXT NOT NULL,
        prompt TEXT NOT NULL,
        base TEXT,
        transcript TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        pgid INTEGER, -- no longer written: leftovers are found by FLEET_DIR in /proc
        outcome TEXT,
        message TEXT,
        commit_oid TEXT,
        session_id TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (task, n)
     );
     CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ms INTEGER NOT NULL,
        task TEXT,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
     );
     CREATE INDEX events_task ON events (task, id);",
    // 2: the shared context store (issue 10), one row per entry as JSON.
    "CREATE TABLE context (
        id INTEGER PRIMARY KEY,
        entry TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
     );",
];

/// Brings the database to the current schema, each step in its own
/// immediate transaction that re-checks the version, so two processes opening
/// a new database at once do not both apply a step.
pub(super) fn migrate(store: &Store) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    loop {
        let step = store.sql(|c| {
            c.execute_batch("BEGIN IMMEDIATE")?;
            let found: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            match MIGRATIONS.get(found as usize) {
                Some(sql) => {
                    c.execute_batch(&format!("{sql}; PRAGMA user_version = {};", found + 1))?;
                    c.execute_batch("COMMIT")?;
                    Ok(Ok(true))
                }
                None => {
                    c.execute_batch("COMMIT")?;
                    Ok(if found > known { Err(found) } else { Ok(false) })
                }
            }
        });
        match step {
            Ok(Ok(true)) => continue,
            Ok(Ok(false)) => return Ok(()),
            Ok(Err(found)) => {
                return Err(StoreError::TooNew {
                    path: store.path.clone(),
                    found,
                    known,
                });
            }
            Err(e) => {
                let _ = store.sql(|c| c.execute_batch("ROLLBACK"));
                return Err(e);
            }
        }
    }
}
