//! Updates: bringing a task in review onto the target's tip, and what
//! follows (the gate again, or a conflict for the agent or the user).
//!
//! `Command::Update` on a task in Review makes it Updating; the pump asks
//! the runtime for the update ([`Effect::Update`]), also after a restart
//! (an update in flight when the engine died is simply redone). A clean
//! update is verified again (Verifying, then Review); a conflicting one
//! waits in Review with [`MergeBlock::UpdateConflict`] for the user's choice
//! (`Command::Update` again: the agent resolves it; `Command::Resolved`: the
//! user did), or, with `auto_update`, goes to the agent at once.

use super::{Out, Scheduler};
use crate::core::feedback::{ConflictFile, Feedback, FeedbackKind, conflict_text};
use crate::core::messages::{Actor, CommandError, Effect, Event, UpdateResult, Workspace};
use crate::core::status::{MergeBlock, Status};
use crate::core::task::TaskId;
use crate::core::verbs::Verb;

/// Blocked merges of one task in a row that `auto_update` answers.
const AUTO_UPDATES: u32 = 2;

impl Scheduler {
    /// `Command::Update`: see the module documentation. On a task that is
    /// already Updating (an update interrupted by a kill) it does nothing:
    /// the pump issues the update again, so `fleetdeck update` finishes it.
    pub(super) fn update_task(&mut self, task: &TaskId, out: &mut Out) -> Result<(), CommandError> {
        let i = self.require(task, Verb::Update)?;
        if matches!(self.fleet.tasks[i].status, Status::Updating { .. }) {
            return Ok(());
        }
        let (i, attempt) = self.expect_review(task, Verb::Update)?;
        match &self.fleet.tasks[i].status {
            Status::Review {
                block: Some(MergeBlock::UpdateConflict { .. }),
                ..
            } => self.resolve_by_agent(i, Actor::User, out),
            _ => self.set_status(i, Status::Updating { attempt }, Actor::User, out),
        }
        Ok(())
    }

    /// `Command::Resolved`: the user's resolution in the worktree is gated
    /// as the attempt's work (its base is the target tip it was updated onto).
    pub(super) fn resolved(&mut self, task: &TaskId, out: &mut Out) -> Result<(), CommandError> {
        let (i, attempt) = self.expect_review(task, Verb::Resolve)?;
        if !matches!(
            self.fleet.tasks[i].status,
            Status::Review {
                block: Some(MergeBlock::UpdateConflict { .. }),
                ..
            }
        ) {
            return Err(CommandError::Invalid(format!(
                "task `{task}` has no update conflict to resolve (update it first: u, or `fleetdeck update {task}`)"
            )));
        }
        self.set_status(i, Status::Verifying { attempt }, Actor::User, out);
        Ok(())
    }

    /// Refuses to approve a task whose update conflict is not resolved: its
    /// branch is the target's tip, its work is only in the worktree.
    pub(super) fn refuse_unresolved(&self, i: usize) -> Result<(), CommandError> {
        match &self.fleet.tasks[i].status {
            Status::Review {
                block: Some(MergeBlock::UpdateConflict { files }),
                ..
            } => Err(CommandError::Invalid(format!(
                "`{}` has an unresolved update conflict in {}: resolve it first (u: the agent, E: your editor; or `fleetdeck update`/`fleetdeck resolve`)",
                self.fleet.tasks[i].spec.id,
                files.join(", ")
            ))),
            _ => Ok(()),
        }
    }

    /// The conflict goes to the agent: a new attempt in the same worktree,
    /// told about the conflict (its session resumed where the profile can).
    fn resolve_by_agent(&mut self, i: usize, actor: Actor, out: &mut Out) {
        let t = &mut self.fleet.tasks[i];
        t.tries = 0;
        t.workspace = Workspace::Continue;
        self.set_status(i, Status::Queued { held: false }, actor, out);
    }

    /// Issues the update of every Updating task that has none in flight.
    /// Called by the pump, also while the fleet is paused (like merges:
    /// nothing runs but git).
    pub(super) fn pump_updates(&mut self, out: &mut Out) {
        for task in &self.fleet.tasks {
            if let Status::Updating { attempt } = task.status
                && self.updating.insert(task.spec.id.clone())
            {
                out.fx.push(Effect::Update {
                    task: task.spec.id.clone(),
                    attempt,
                });
            }
        }
    }

    /// `Report::Updated`. Stale reports (the task is no longer updating
    /// that attempt) are ignored.
    pub(super) fn updated(
        &mut self,
        id: &TaskId,
        attempt: u32,
        result: UpdateResult,
        out: &mut Out,
    ) {
        let Some(&i) = self.fleet.index.get(id) else {
            return;
        };
        if self.fleet.tasks[i].status != (Status::Updating { attempt }) {
            return;
        }
        self.updating.remove(id);
        let (onto, conflicts, error) = match &result {
            UpdateResult::Clean { onto, .. } => (Some(onto.clone()), Vec::new(), None),
            UpdateResult::Conflict { onto, files } => (
                Some(onto.clone()),
                files.iter().map(|f| f.path.clone()).collect(),
                None,
            ),
            UpdateResult::Error { message } => (None, Vec::new(), Some(message.clone())),
        };
        out.record(
            Actor::Engine,
            Event::Updated {
                task: id.clone(),
                attempt,
                onto,
                conflicts,
                error,
            },
        );
        match result {
            UpdateResult::Clean { .. } => {
                self.set_status(i, Status::Verifying { attempt }, Actor::Engine, out)
            }
            UpdateResult::Conflict { files, .. } => self.update_conflict(i, attempt, &files, out),
            UpdateResult::Error { message } => {
                let block = Some(MergeBlock::Error {
                    message: format!("the update onto the target failed: {message}"),
                });
                self.set_status(i, Status::Review { attempt, block }, Actor::Engine, out);
            }
        }
    }

    fn update_conflict(&mut self, i: usize, attempt: u32, files: &[ConflictFile], out: &mut Out) {
        let text = conflict_text(files, |task| {
            self.fleet
                .task(task)
                .map(|t| (t.spec.title.clone(), t.spec.prompt.clone()))
        });
        let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        self.fleet.tasks[i].feedback = Some(Feedback {
            attempt,
            kind: FeedbackKind::Conflict {
                files: paths.clone(),
            },
            text,
        });
        if self.limits.auto_update {
            self.resolve_by_agent(i, Actor::Engine, out);
        } else {
            let block = Some(MergeBlock::UpdateConflict { files: paths });
            self.set_status(i, Status::Review { attempt, block }, Actor::Engine, out);
        }
    }

    /// With `auto_update`: a merge that conflicted or was refused is
    /// followed by an update at once, at most [`AUTO_UPDATES`] times in a
    /// row for a task (then it waits in Review like without). True when it was.
    pub(super) fn auto_update(&mut self, i: usize, attempt: u32, out: &mut Out) -> bool {
        if !self.limits.auto_update {
            return false;
        }
        let task = &mut self.fleet.tasks[i];
        if task.auto_updates >= AUTO_UPDATES {
            return false;
        }
        task.auto_updates += 1;
        self.set_status(i, Status::Updating { attempt }, Actor::Engine, out);
        true
    }
}
