//! Fan-out and compare: a task with `fanout` profiles does not run itself
//! when it would start; one candidate task per profile is added right after
//! it and the task is FannedOut. Once every candidate has settled it is
//! Comparing; picking one approves it and discards the others (their work
//! saved under `refs/fleet/discarded/<task>/<candidate>/<n>`); when the
//! picked candidate is Done the task is Done with its commit.

use super::{Out, Scheduler, Task};
use crate::core::messages::{Actor, CommandError, Effect, Event};
use crate::core::status::Status;
use crate::core::task::TaskId;
use crate::core::team::fanout::{candidate_id, candidate_spec, check_profiles, settled};
use crate::core::verbs::Verb;

impl Scheduler {
    /// Indices of the candidates of `parent`, in plan order.
    pub(super) fn candidates_of(&self, parent: &TaskId) -> Vec<usize> {
        (0..self.fleet.tasks.len())
            .filter(|&i| self.fleet.tasks[i].spec.candidate_of.as_ref() == Some(parent))
            .collect()
    }

    /// `Command::FanOut`: the queued task will run once per profile.
    pub(super) fn fan_out_command(
        &mut self,
        task: &TaskId,
        agents: Vec<String>,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let i = self.require(task, Verb::FanOut)?;
        if let Some(parent) = &self.fleet.tasks[i].spec.candidate_of {
            return Err(CommandError::Invalid(format!(
                "`{task}` is a candidate of `{parent}`: a candidate is not fanned out again"
            )));
        }
        let known = |a: &str| self.fleet.agents.contains(a);
        check_profiles(&agents, &known)
            .map_err(|e| CommandError::Invalid(format!("task `{task}`: {e}")))?;
        self.fleet.tasks[i].spec.fanout = agents;
        out.fx.push(Effect::SaveTask { task: task.clone() });
        out.record(Actor::User, Event::TaskEdited { task: task.clone() });
        Ok(())
    }

    /// Fans out every fan-out task that may start now (the pump's part).
    pub(super) fn pump_fan_outs(&mut self, out: &mut Out) {
        let ready: Vec<usize> = (0..self.fleet.tasks.len())
            .filter(|&i| {
                let t = &self.fleet.tasks[i];
                !t.spec.fanout.is_empty()
                    && t.spec.candidate_of.is_none()
                    && self.fleet.startable(t, self.now_ms)
            })
            .collect();
        // Later ones first, so that inserting candidates keeps the indices of earlier ones.
        for i in ready.into_iter().rev() {
            self.fan_out(i, out);
        }
    }

    /// Adds one candidate per profile right after task `i`; `i` is FannedOut.
    fn fan_out(&mut self, i: usize, out: &mut Out) {
        let parent = self.fleet.tasks[i].spec.clone();
        let mut ids: Vec<TaskId> = Vec::new();
        for (k, profile) in parent.fanout.iter().enumerate() {
            let taken =
                |s: &str| self.fleet.index.contains_key(s) || ids.iter().any(|x| x.as_str() == s);
            let id = candidate_id(&parent.id, profile, &taken);
            let spec = candidate_spec(&parent, id.clone(), profile);
            self.fleet.tasks.insert(i + 1 + k, Task::new(spec));
            ids.push(id);
        }
        self.reindex();
        for id in &ids {
            out.fx.push(Effect::SaveTask { task: id.clone() });
            out.record(Actor::Engine, Event::TaskAdded { task: id.clone() });
        }
        self.set_status(i, Status::FannedOut, Actor::Engine, out);
        out.record(
            Actor::Engine,
            Event::FannedOut {
                task: parent.id,
                candidates: ids,
            },
        );
    }

    fn reindex(&mut self) {
        self.fleet.index = self
            .fleet
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.spec.id.clone(), i))
            .collect();
    }

    /// Moves fan-out tasks with their candidates: Comparing once all have
    /// settled, FannedOut again while one runs, Done with the commit of the
    /// picked candidate once it is merged.
    pub(super) fn settle_fan_outs(&mut self, out: &mut Out) {
        for i in 0..self.fleet.tasks.len() {
            let status = &self.fleet.tasks[i].status;
            if !matches!(status, Status::FannedOut | Status::Comparing) {
                continue;
            }
            let cands = self.candidates_of(self.fleet.tasks[i].id());
            let statuses: Vec<&Status> =
                cands.iter().map(|&c| &self.fleet.tasks[c].status).collect();
            let done = statuses.iter().find_map(|s| match s {
                Status::Done { commit } => Some(commit.clone()),
                _ => None,
            });
            let all_settled = statuses.iter().all(|s| settled(s));
            let to = match (done, all_settled, status) {
                (Some(commit), _, _) => Status::Done { commit },
                (None, true, Status::FannedOut) => Status::Comparing,
                (None, false, Status::Comparing) => Status::FannedOut,
                _ => continue,
            };
            self.set_status(i, to, Actor::Engine, out);
        }
    }

    /// `Command::Pick`: `candidate` is approved, the others are discarded.
    pub(super) fn pick(
        &mut self,
        task: &TaskId,
        candidate: &TaskId,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        self.require(task, Verb::Pick)?;
        let c = self.find(candidate)?;
        if self.fleet.tasks[c].spec.candidate_of.as_ref() != Some(task) {
            let others: Vec<String> = self
                .candidates_of(task)
                .into_iter()
                .map(|k| self.fleet.tasks[k].id().to_string())
                .collect();
            return Err(CommandError::Invalid(format!(
                "`{candidate}` is not a candidate of `{task}` (its candidates: {})",
                others.join(", ")
            )));
        }
        let Status::Review { attempt, .. } = self.fleet.tasks[c].status else {
            return Err(CommandError::Invalid(format!(
                "candidate `{candidate}` is {}: only a candidate in review can be picked",
                self.fleet.tasks[c].status.name()
            )));
        };
        self.refuse_unresolved(c)?;
        self.set_status(c, Status::Merging { attempt }, Actor::User, out);
        let discarded = self.discard_candidates(task, Some(candidate), out);
        out.record(
            Actor::User,
            Event::Picked {
                task: task.clone(),
                candidate: candidate.clone(),
                discarded,
            },
        );
        Ok(())
    }

    /// Every unfinished candidate of `parent` but `keep` is Dropped, its
    /// work saved under `refs/fleet/discarded/...`; their ids.
    fn discard_candidates(
        &mut self,
        parent: &TaskId,
        keep: Option<&TaskId>,
        out: &mut Out,
    ) -> Vec<TaskId> {
        let mut discarded = Vec::new();
        for k in self.candidates_of(parent) {
            let id = self.fleet.tasks[k].id().clone();
            if Some(&id) == keep || self.fleet.tasks[k].status.is_final() {
                continue;
            }
            self.set_status(k, Status::Dropped, Actor::User, out);
            out.fx.push(Effect::DiscardCandidate {
                task: id.clone(),
                parent: parent.clone(),
            });
            discarded.push(id);
        }
        discarded
    }

    /// `Command::Retry` of a Comparing task: allowed when no candidate is
    /// in review or merging; the candidates are discarded (work saved) and
    /// the task fans out again with fresh ones.
    pub(super) fn retry_fan_out(&mut self, i: usize, out: &mut Out) -> Result<(), CommandError> {
        let parent = self.fleet.tasks[i].id().clone();
        let waiting: Vec<String> = self
            .candidates_of(&parent)
            .into_iter()
            .filter(|&k| {
                matches!(
                    self.fleet.tasks[k].status,
                    Status::Review { .. } | Status::Merging { .. }
                )
            })
            .map(|k| self.fleet.tasks[k].id().to_string())
            .collect();
        if !waiting.is_empty() {
            return Err(CommandError::Invalid(format!(
                "`{parent}` has candidates in review ({}): pick one (`fleetdeck pick {parent} CANDIDATE`) or reject them before fanning out again",
                waiting.join(", ")
            )));
        }
        self.discard_candidates(&parent, None, out);
        let t = &mut self.fleet.tasks[i];
        t.tries = 0;
        self.set_status(i, Status::Queued { held: false }, Actor::User, out);
        Ok(())
    }

    /// Drops the candidates of `parent` with it: a running one is stopped
    /// first; their work is saved like any dropped task's. Refused, with
    /// nothing changed, while one is verifying, updating or merging.
    pub(super) fn drop_candidates(
        &mut self,
        parent: &TaskId,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let cands: Vec<usize> = self
            .candidates_of(parent)
            .into_iter()
            .filter(|&k| !self.fleet.tasks[k].status.is_final())
            .collect();
        for &k in &cands {
            self.fleet.tasks[k].allows(Verb::Drop).map_err(|r| {
                CommandError::Invalid(format!(
                    "cannot drop `{parent}` now: its candidate {r}; try again when it is done"
                ))
            })?;
        }
        for k in cands {
            self.drop_now(k, out);
        }
        Ok(())
    }
}
