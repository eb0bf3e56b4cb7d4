//! The team layer's tables: the shared context store (one row per entry,
//! as JSON) and the agents' messages, read back from the event log.

use rusqlite::params;

use super::{Result, Store, now_ms};
use crate::core::Event;
use crate::core::scheduler::TeamState;
use crate::core::team::{ContextEntry, ContextStore, Message};

impl Store {
    /// Writes a context entry, new or changed.
    pub fn save_context(&self, entry: &ContextEntry) -> Result<()> {
        let json = serde_json::to_string(entry).map_err(|e| self.corrupt("context entry", e))?;
        self.sql(|c| {
            c.execute(
                "INSERT INTO context (id, entry, updated_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET entry = ?2, updated_ms = ?3",
                params![entry.id as i64, json, now_ms()],
            )
        })?;
        Ok(())
    }

    /// The whole context store, in id order.
    pub fn load_context(&self) -> Result<ContextStore> {
        let rows: Vec<(i64, String)> = self.sql(|c| {
            let mut stmt = c.prepare("SELECT id, entry FROM context ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?;
        let entries = rows
            .into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json)
                    .map_err(|e| self.corrupt(format!("context entry {id}"), e))
            })
            .collect::<Result<Vec<ContextEntry>>>()?;
        Ok(ContextStore { entries })
    }

    /// The last `limit` messages taken, oldest first, with the time each
    /// was taken (Unix ms).
    pub fn recent_messages(&self, limit: usize) -> Result<Vec<(i64, Message)>> {
        let rows: Vec<(i64, i64, String)> = self.sql(|c| {
            let mut stmt = c.prepare(
                "SELECT id, ts_ms, detail FROM (SELECT id, ts_ms, detail FROM events
                 WHERE kind = 'message' ORDER BY id DESC LIMIT ?1) ORDER BY id",
            )?;
            let rows = stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, ts, detail) in rows {
            match serde_json::from_str(&detail) {
                Ok(Event::Message { message }) => out.push((ts, message)),
                Ok(_) => {}
                Err(e) => return Err(self.corrupt(format!("event {id}"), e)),
            }
        }
        Ok(out)
    }

    /// The team state to restore into the scheduler: the context store and
    /// the number of the last message taken.
    pub fn load_team(&self) -> Result<TeamState> {
        let last_message = self.recent_messages(1)?.first().map_or(0, |(_, m)| m.id);
        Ok(TeamState {
            last_message,
            context: self.load_context()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::team::{Author, ContextKind, MessageKind, Scope};
    use crate::core::{Actor, TaskId};

    fn entry(id: u64, text: &str) -> ContextEntry {
        ContextEntry {
            id,
            kind: ContextKind::Decision,
            text: text.into(),
            author: Author::User,
            scope: Scope::default(),
            supersedes: None,
            retired: false,
            time_ms: 1,
        }
    }

    #[test]
    fn context_entries_are_saved_replaced_and_loaded_with_the_last_message_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load_team().unwrap(), TeamState::default());
        store.save_context(&entry(2, "b")).unwrap();
        store.save_context(&entry(1, "a")).unwrap();
        let mut retired = entry(1, "a");
        retired.retired = true;
        store.save_context(&retired).unwrap();
        for id in 1..=3 {
            let message = Message {
                id,
                task: TaskId::parse("api").unwrap(),
                attempt: 1,
                kind: MessageKind::Query,
                text: format!("q{id}"),
                paths: vec![],
                time_ms: 0,
            };
            store
                .record(Actor::Engine, &Event::Message { message })
                .unwrap();
        }
        let team = store.load_team().unwrap();
        assert_eq!(team.last_message, 3);
        assert_eq!(team.context.entries, vec![retired, entry(2, "b")]);
        let recent = store.recent_messages(2).unwrap();
        let texts: Vec<&str> = recent.iter().map(|(_, m)| m.text.as_str()).collect();
        assert_eq!(texts, vec!["q2", "q3"]);
    }
}
