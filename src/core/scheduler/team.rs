//! The team layer in the scheduler: agents' typed messages numbered,
//! recorded and routed (see [`MessageKind::route`]), the shared context
//! store changed by messages and by the user's commands, and running
//! agents told of new entries in their scope: where the profile can resume
//! a session, through the nudge path (stopped and resumed with the
//! entries; entries arriving while such a stop is under way join the same
//! message); else in their next attempt's prompt, without a stop.

use serde::{Deserialize, Serialize};

use super::{AfterStop, Out, Scheduler};
use crate::core::feedback::{Feedback, FeedbackKind};
use crate::core::messages::{Actor, Command, CommandError, Effect, Event, Report};
use crate::core::status::Status;
use crate::core::supervisor::Trigger;
use crate::core::team::{
    Added, Author, ContextEntry, ContextKind, ContextStore, Message, NewEntry, Scope,
    message::check_path,
};

/// The team layer's state: the last message number given, and the
/// context store (loaded from the database at start).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamState {
    /// The number of the last message taken (the next one gets one more).
    pub last_message: u64,
    #[serde(default)]
    pub context: ContextStore,
}

/// How the told message starts (a nudge's text, or the next attempt's feedback).
pub const TOLD_HEADING: &str =
    "New team context arrived while you work (`fleetdeck context` lists it all); follow it:";

impl Scheduler {
    /// Restores the team state saved by the store (message numbers, the context store).
    pub fn restore_team(&mut self, state: TeamState) {
        self.team = state;
    }

    pub fn team(&self) -> &TeamState {
        &self.team
    }

    /// The shared context store.
    pub fn context(&self) -> &ContextStore {
        &self.team.context
    }

    /// An agent's message (`Report::Message`): numbered, recorded, routed.
    pub(super) fn message(&mut self, report: Report, out: &mut Out) {
        let Report::Message {
            task,
            attempt,
            kind,
            text,
            paths,
            time_ms,
        } = report
        else {
            return;
        };
        let Ok(i) = self.find(&task) else {
            return; // the inbox checked it; a task dropped since
        };
        self.team.last_message += 1;
        let m = Message {
            id: self.team.last_message,
            task,
            attempt,
            kind,
            text,
            paths,
            time_ms,
        };
        out.record(Actor::Engine, Event::Message { message: m.clone() });
        let route = m.kind.route();
        let latest = m.attempt >= self.fleet.tasks[i].attempts;
        if route.blocker && latest {
            self.fleet.tasks[i].blocker = Some(m.text.clone());
            out.fx.push(Effect::SaveTask {
                task: m.task.clone(),
            });
        }
        if let Some(kind) = route.context {
            self.context_from_message(i, &m, kind, out);
        }
        if let Some(kind) = route.supervisor {
            let trigger = Trigger::Reported {
                task: m.task.clone(),
                kind,
                text: m.text,
            };
            self.consult(trigger, out);
        }
    }

    /// A decision, contract, constraint or progress message as a context
    /// entry by its task (a progress entry replaces the task's previous one).
    fn context_from_message(&mut self, i: usize, m: &Message, kind: ContextKind, out: &mut Out) {
        let supersedes = (kind == ContextKind::Progress)
            .then(|| {
                self.team.context.active().find(|e| {
                    e.kind == ContextKind::Progress
                        && matches!(&e.author, Author::Task { task, .. } if *task == m.task)
                })
            })
            .flatten()
            .map(|e| e.id);
        let new = NewEntry {
            kind,
            text: m.text.clone(),
            author: Author::Task {
                task: m.task.clone(),
                agent: self.fleet.tasks[i].spec.agent.clone(),
                attempt: m.attempt,
            },
            scope: Scope {
                paths: m.paths.clone(),
                ..Scope::default()
            },
            supersedes,
            time_ms: m.time_ms,
        };
        // The inbox checked the text and the superseded entry is active, so
        // this fails only when an active entry says the same already (a
        // retried attempt sending its decision again): the message is
        // recorded either way.
        if let Ok(added) = self.team.context.add(new) {
            self.context_added(added, Actor::Engine, out);
        }
    }

    /// Saves and records what an add changed, and tells running agents.
    fn context_added(&mut self, added: Added, actor: Actor, out: &mut Out) {
        if let Some(old) = added.retired {
            let id = old.id;
            out.fx.push(Effect::SaveContext { entry: old });
            out.record(actor, Event::ContextRetired { id });
        }
        let entry = added.entry;
        out.fx.push(Effect::SaveContext {
            entry: entry.clone(),
        });
        out.record(
            actor,
            Event::ContextAdded {
                entry: entry.clone(),
            },
        );
        if entry.kind != ContextKind::Progress {
            self.tell_running(&entry, out);
        }
    }

    /// Tells every running task in the entry's scope (not its author).
    fn tell_running(&mut self, entry: &ContextEntry, out: &mut Out) {
        let author = match &entry.author {
            Author::Task { task, .. } => Some(task.clone()),
            Author::User => None,
        };
        let line = told_line(entry);
        for i in 0..self.fleet.tasks.len() {
            let t = &self.fleet.tasks[i];
            let Status::Running { attempt } = t.status else {
                continue;
            };
            if author.as_ref() == Some(&t.spec.id) || !entry.scope.includes(&t.spec) {
                continue;
            }
            let id = t.spec.id.clone();
            if !self.limits.resumable.contains(&t.spec.agent) {
                // Without a session to resume, stopping would cost the
                // attempt's progress: its next attempt's prompt has the entry.
                out.record(
                    Actor::Engine,
                    Event::ContextTold {
                        task: id,
                        entries: vec![entry.id],
                        resumed: false,
                    },
                );
                continue;
            }
            match (&t.after_stop, &t.feedback) {
                (None, _) => {
                    self.fleet.tasks[i].feedback = Some(Feedback {
                        attempt,
                        kind: FeedbackKind::Nudged,
                        text: format!("{TOLD_HEADING}\n{line}"),
                    });
                    self.stop_to_requeue(i, out);
                }
                // A stop to continue with a message is under way: one message.
                (
                    Some(AfterStop::Requeue),
                    Some(Feedback {
                        kind: FeedbackKind::Nudged,
                        attempt: a,
                        ..
                    }),
                ) if *a == attempt => {
                    if let Some(fb) = self.fleet.tasks[i].feedback.as_mut() {
                        if !fb.text.contains(TOLD_HEADING) {
                            fb.text.push_str(&format!("\n\n{TOLD_HEADING}"));
                        }
                        fb.text.push('\n');
                        fb.text.push_str(&line);
                    }
                    out.fx.push(Effect::SaveTask { task: id.clone() });
                }
                // Restarted or dropped: its next attempt's prompt has the store.
                _ => continue,
            }
            out.record(
                Actor::Engine,
                Event::ContextTold {
                    task: id,
                    entries: vec![entry.id],
                    resumed: true,
                },
            );
        }
    }

    /// `AddContext`, `EditContext`, `RetireContext`.
    pub(super) fn context_command(
        &mut self,
        command: Command,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let now = self.now_ms;
        match command {
            Command::AddContext {
                kind,
                text,
                scope,
                supersedes,
            } => {
                let scope = self.checked_scope(scope)?;
                let new = NewEntry {
                    kind,
                    text,
                    author: Author::User,
                    scope,
                    supersedes,
                    time_ms: now,
                };
                let added = self.team.context.add(new).map_err(invalid)?;
                self.context_added(added, Actor::User, out);
            }
            Command::EditContext { id, text, scope } => {
                let scope = self.checked_scope(scope)?;
                let entry = self
                    .team
                    .context
                    .edit(id, &text, scope, now)
                    .map_err(invalid)?;
                out.fx.push(Effect::SaveContext {
                    entry: entry.clone(),
                });
                out.record(Actor::User, Event::ContextEdited { entry });
            }
            Command::RetireContext { id } => {
                let entry = self.team.context.retire(id).map_err(invalid)?;
                out.fx.push(Effect::SaveContext { entry });
                out.record(Actor::User, Event::ContextRetired { id });
            }
            other => {
                return Err(CommandError::Invalid(format!(
                    "{} is not a context command",
                    other.describe()
                )));
            }
        }
        Ok(())
    }

    /// A scope whose tasks exist and whose paths are relative and inside.
    fn checked_scope(&self, scope: Scope) -> Result<Scope, CommandError> {
        for t in &scope.tasks {
            self.find(t)?;
        }
        let paths = scope
            .paths
            .iter()
            .map(|p| check_path(p).map_err(|e| CommandError::Invalid(format!("scope: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if scope.roles.iter().any(|r| r.trim().is_empty()) {
            return Err(CommandError::Invalid("scope: a role is empty".into()));
        }
        Ok(Scope { paths, ..scope })
    }
}

fn invalid(e: crate::core::team::ContextError) -> CommandError {
    CommandError::Invalid(e.to_string())
}

/// One entry as the agent is told it.
fn told_line(e: &ContextEntry) -> String {
    format!("- [{}] {} ({})", e.kind, e.text.trim(), e.author.short())
}
