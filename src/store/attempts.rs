//! Attempts: one row per agent run of a task, with its outcome, session and cost.

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, now_ms};
use crate::core::AttemptOutcome;

/// What is known when an attempt starts.
#[derive(Debug, Clone)]
pub struct AttemptStart<'a> {
    pub task: &'a str,
    pub n: u32,
    pub agent: &'a str,
    pub prompt: &'a str,
    /// The branch head the attempt started from (hex oid).
    pub base: &'a str,
    /// Path of the transcript file, relative to `.fleet/`.
    pub transcript: &'a str,
}

/// Tokens and cost of an attempt so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
}

impl Usage {
    pub fn tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cost_usd += o.cost_usd;
    }
}

/// An attempt as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub task: String,
    pub n: u32,
    pub agent: String,
    pub prompt: String,
    pub base: Option<String>,
    pub transcript: String,
    pub started_ms: i64,
    /// None while running (or when the engine died during it).
    pub ended_ms: Option<i64>,
    /// None while running or verifying (or when the engine died during it,
    /// until the next start marks it interrupted).
    pub outcome: Option<AttemptOutcome>,
    pub message: Option<String>,
    pub commit: Option<String>,
    pub session_id: Option<String>,
    pub usage: Usage,
}

const COLUMNS: &str = "task, n, agent, prompt, base, transcript, started_ms, ended_ms, outcome, message, commit_oid, session_id, input_tokens, output_tokens, cost_usd";

fn from_row(r: &Row) -> rusqlite::Result<AttemptRecord> {
    Ok(AttemptRecord {
        task: r.get(0)?,
        n: r.get(1)?,
        agent: r.get(2)?,
        prompt: r.get(3)?,
        base: r.get(4)?,
        transcript: r.get(5)?,
        started_ms: r.get(6)?,
        ended_ms: r.get(7)?,
        outcome: r
            .get::<_, Option<String>>(8)?
            .as_deref()
            .and_then(AttemptOutcome::parse),
        message: r.get(9)?,
        commit: r.get(10)?,
        session_id: r.get(11)?,
        usage: Usage {
            input_tokens: r.get::<_, i64>(12)? as u64,
            output_tokens: r.get::<_, i64>(13)? as u64,
            cost_usd: r.get(14)?,
        },
    })
}

impl Store {
    /// Records the start of an attempt (replacing a row left by an attempt that never really started).
    pub fn begin_attempt(&self, a: &AttemptStart) -> Result<()> {
        self.sql(|c| {
            c.execute(
                "INSERT OR REPLACE INTO attempts (task, n, agent, prompt, base, transcript, started_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![a.task, a.n, a.agent, a.prompt, a.base, a.transcript, now_ms()],
            )
        })?;
        Ok(())
    }

    pub fn set_attempt_session(&self, task: &str, n: u32, session: &str) -> Result<()> {
        self.update(task, n, "session_id = ?3", session)
    }

    /// Records that attempt `n`'s work now stands on `base` (hex oid): after
    /// an update onto the target, so that the gate commits on that base and
    /// never back onto the old one.
    pub fn set_attempt_base(&self, task: &str, n: u32, base: &str) -> Result<()> {
        self.update(task, n, "base = ?3", base)
    }

    pub fn set_attempt_commit(&self, task: &str, n: u32, commit: &str) -> Result<()> {
        self.update(task, n, "commit_oid = ?3", commit)
    }

    pub fn set_attempt_usage(&self, task: &str, n: u32, u: Usage) -> Result<()> {
        self.sql(|c| {
            c.execute(
                "UPDATE attempts SET input_tokens = ?3, output_tokens = ?4, cost_usd = ?5 WHERE task = ?1 AND n = ?2",
                params![task, n, u.input_tokens as i64, u.output_tokens as i64, u.cost_usd],
            )
        })?;
        Ok(())
    }

    /// Marks the end of an attempt's agent run (`message`: why it failed).
    /// Its outcome follows with [`Store::set_attempt_outcome`].
    pub fn end_attempt(&self, task: &str, n: u32, message: Option<&str>) -> Result<()> {
        self.sql(|c| {
            c.execute(
                "UPDATE attempts SET ended_ms = COALESCE(ended_ms, ?3), message = ?4 WHERE task = ?1 AND n = ?2",
                params![task, n, now_ms(), message],
            )
        })?;
        Ok(())
    }

    /// Records the outcome of an attempt (replacing an earlier one: a
    /// rejected attempt had succeeded); `message`, when given, replaces the
    /// stored message. When the scheduler decides it.
    pub fn set_attempt_outcome(
        &self,
        task: &str,
        n: u32,
        outcome: &AttemptOutcome,
        message: Option<&str>,
    ) -> Result<()> {
        self.sql(|c| {
            c.execute(
                "UPDATE attempts SET ended_ms = COALESCE(ended_ms, ?3), outcome = ?4, message = COALESCE(?5, message) WHERE task = ?1 AND n = ?2",
                params![task, n, now_ms(), outcome.to_stored(), message],
            )
        })?;
        Ok(())
    }

    fn update(&self, task: &str, n: u32, set: &str, value: impl rusqlite::ToSql) -> Result<()> {
        self.sql(|c| {
            c.execute(
                &format!("UPDATE attempts SET {set} WHERE task = ?1 AND n = ?2"),
                params![task, n, value],
            )
        })?;
        Ok(())
    }

    pub fn attempt(&self, task: &str, n: u32) -> Result<Option<AttemptRecord>> {
        self.sql(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM attempts WHERE task = ?1 AND n = ?2"),
                params![task, n],
                from_row,
            )
            .optional()
        })
    }

    /// A task's attempts, oldest first.
    pub fn attempts(&self, task: &str) -> Result<Vec<AttemptRecord>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM attempts WHERE task = ?1 ORDER BY n"),
            [task],
        )
    }

    /// Attempts with no end recorded: running now, or interrupted by a crash.
    pub fn open_attempts(&self) -> Result<Vec<AttemptRecord>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM attempts WHERE ended_ms IS NULL ORDER BY task, n"),
            [],
        )
    }

    /// Every attempt, for totals.
    pub fn all_attempts(&self) -> Result<Vec<AttemptRecord>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM attempts ORDER BY task, n"),
            [],
        )
    }

    fn query(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<AttemptRecord>> {
        self.sql(|c| {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map(p, from_row)?;
            rows.collect()
        })
    }
}
