//! What the cockpit knows of the team layer: the agents' recent messages
//! (bounded) and a mirror of the shared context store. Kept current by the
//! engine's events (`Message`, `ContextAdded`, `ContextEdited`,
//! `ContextRetired`). Verdicts, overlaps, blockers, candidates and groups
//! live on the tasks themselves (`Task::review`, `Task::overlaps`,
//! `Task::blocker`, `TaskSpec::candidate_of`, `TaskSpec::group`).

use crate::core::team::{ContextEntry, Message, MessageKind};
use crate::core::{Event, Fleet, Task, TaskId};

/// Messages kept in memory (the oldest leave first).
pub const MAX_MESSAGES: usize = 500;

/// The team layer's read model.
#[derive(Debug, Clone, Default)]
pub struct TeamModel {
    /// The agents' messages, oldest first, at most [`MAX_MESSAGES`].
    pub messages: Vec<Message>,
    /// Every context entry (retired ones too), in id order.
    pub context: Vec<ContextEntry>,
}

impl TeamModel {
    /// From the engine's snapshot.
    pub fn new(messages: Vec<(i64, Message)>, context: Vec<ContextEntry>) -> TeamModel {
        let mut m = TeamModel {
            messages: Vec::new(),
            context,
        };
        m.context.sort_by_key(|e| e.id);
        for (_, msg) in messages {
            m.push(msg);
        }
        m
    }

    fn push(&mut self, msg: Message) {
        if self.messages.iter().any(|m| m.id == msg.id && msg.id != 0) {
            return;
        }
        self.messages.push(msg);
        if self.messages.len() > MAX_MESSAGES {
            let extra = self.messages.len() - MAX_MESSAGES;
            self.messages.drain(..extra);
        }
    }

    /// Applies an engine event; true when it was one of the team's.
    pub fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Message { message } => self.push(message.clone()),
            Event::ContextAdded { entry } | Event::ContextEdited { entry } => {
                match self.context.iter_mut().find(|e| e.id == entry.id) {
                    Some(e) => *e = entry.clone(),
                    None => {
                        self.context.push(entry.clone());
                        self.context.sort_by_key(|e| e.id);
                    }
                }
                // An entry that supersedes another retires it.
                if let Some(old) = entry.supersedes
                    && let Some(e) = self.context.iter_mut().find(|e| e.id == old)
                {
                    e.retired = true;
                }
            }
            Event::ContextRetired { id } => {
                if let Some(e) = self.context.iter_mut().find(|e| e.id == *id) {
                    e.retired = true;
                }
            }
            _ => return false,
        }
        true
    }

    /// The context entry numbered `id`.
    pub fn entry(&self, id: u64) -> Option<&ContextEntry> {
        self.context.iter().find(|e| e.id == id)
    }

    /// The index of the newest blocker message of `task`, if any.
    pub fn last_blocker(&self, task: &TaskId) -> Option<usize> {
        self.messages
            .iter()
            .rposition(|m| &m.task == task && m.kind == MessageKind::Blocker)
    }
}

/// The candidates of the fan-out task `parent`, in plan order.
pub fn candidates<'a>(fleet: &'a Fleet, parent: &TaskId) -> Vec<&'a Task> {
    fleet
        .tasks()
        .iter()
        .filter(|t| t.spec.candidate_of.as_ref() == Some(parent))
        .collect()
}

/// The members of group `name`, in plan order.
pub fn group_members<'a>(fleet: &'a Fleet, name: &str) -> Vec<&'a Task> {
    fleet
        .tasks()
        .iter()
        .filter(|t| t.spec.group.as_deref() == Some(name))
        .collect()
}

/// The index of the item numbered `selected` among `ids`, or of the last
/// one (the newest) when none is selected or it is not shown.
pub fn cursor(ids: impl Iterator<Item = u64>, selected: Option<u64>) -> Option<usize> {
    let mut last = None;
    for (i, id) in ids.enumerate() {
        if Some(id) == selected {
            return Some(i);
        }
        last = Some(i);
    }
    last
}

/// Whether `query` (any case) is in `text`: how the panes' `/` filters.
pub fn matches(text: &str, query: &str) -> bool {
    query.is_empty() || text.to_lowercase().contains(&query.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::team::{Author, ContextKind, Scope};

    fn msg(id: u64, task: &str, kind: MessageKind) -> Message {
        Message {
            id,
            task: TaskId::parse(task).unwrap(),
            attempt: 1,
            kind,
            text: format!("m{id}"),
            paths: vec![],
            time_ms: id as i64,
        }
    }

    fn entry(id: u64, supersedes: Option<u64>) -> ContextEntry {
        ContextEntry {
            id,
            kind: ContextKind::Decision,
            text: format!("e{id}"),
            author: Author::User,
            scope: Scope::everyone(),
            supersedes,
            retired: false,
            time_ms: 0,
        }
    }

    #[test]
    fn messages_are_bounded_and_never_taken_twice() {
        let snap = (1..=MAX_MESSAGES as u64 + 20)
            .map(|i| (0, msg(i, "api", MessageKind::Progress)))
            .collect();
        let mut m = TeamModel::new(snap, vec![]);
        assert_eq!(m.messages.len(), MAX_MESSAGES);
        assert_eq!(m.messages[0].id, 21, "the oldest left first");
        let last = msg(MAX_MESSAGES as u64 + 20, "api", MessageKind::Progress);
        assert!(m.apply_event(&Event::Message { message: last }));
        assert_eq!(m.messages.len(), MAX_MESSAGES, "a repeat is not added");
        m.apply_event(&Event::Message {
            message: msg(900, "api", MessageKind::Blocker),
        });
        assert_eq!(m.messages.len(), MAX_MESSAGES);
        assert_eq!(
            m.last_blocker(&TaskId::parse("api").unwrap()),
            Some(MAX_MESSAGES - 1)
        );
        assert_eq!(m.last_blocker(&TaskId::parse("ui").unwrap()), None);
    }

    #[test]
    fn the_context_mirror_follows_added_edited_superseded_and_retired() {
        let mut m = TeamModel::new(vec![], vec![entry(2, None), entry(1, None)]);
        assert_eq!(m.context[0].id, 1, "id order");
        let mut edited = entry(1, None);
        edited.text = "changed".into();
        m.apply_event(&Event::ContextEdited { entry: edited });
        assert_eq!(m.entry(1).unwrap().text, "changed");
        m.apply_event(&Event::ContextAdded {
            entry: entry(3, Some(2)),
        });
        assert!(m.entry(2).unwrap().retired, "superseded");
        assert!(!m.entry(3).unwrap().retired);
        m.apply_event(&Event::ContextRetired { id: 1 });
        assert!(m.entry(1).unwrap().retired);
        assert!(!m.apply_event(&Event::FleetResumed));
    }
}
