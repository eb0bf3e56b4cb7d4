//! Task groups in the scheduler: a member whose gate passed waits
//! (`Grouped`) for the rest of its group; when all wait, the group is
//! integrated (`Effect::Integrate`); the result sends every member to
//! review, or the members the failure is about back to their agents; an
//! approval of one member lands the whole group (`Effect::MergeGroup`).
//! The pure rules (whose failure it is) are in `core::team::group`.

use super::{Out, Scheduler};
use crate::core::feedback::FeedbackKind;
use crate::core::messages::{Actor, Effect, Event, IntegrationResult, MergeResult, Report};
use crate::core::status::{MergeBlock, Status};
use crate::core::task::TaskId;
use crate::core::team::MessageKind;
use crate::core::team::group::{
    Overlap, blame, conflict_feedback, integration_branch, run_name, verify_feedback,
};

impl Scheduler {
    /// The members of `group` that are not dropped, in plan order.
    fn members(&self, group: &str) -> Vec<usize> {
        (0..self.fleet.tasks.len())
            .filter(|&i| {
                let t = &self.fleet.tasks[i];
                t.spec.group.as_deref() == Some(group) && t.status != Status::Dropped
            })
            .collect()
    }

    /// Each of `members` (at least one) with the attempt `attempt_in`
    /// finds in its status; None when one of them has none.
    fn all_in(
        &self,
        members: &[usize],
        attempt_in: fn(&Status) -> Option<u32>,
    ) -> Option<Vec<(TaskId, u32)>> {
        let all: Option<Vec<(TaskId, u32)>> = members
            .iter()
            .map(|&i| {
                let t = &self.fleet.tasks[i];
                attempt_in(&t.status).map(|a| (t.spec.id.clone(), a))
            })
            .collect();
        all.filter(|m| !m.is_empty())
    }

    /// Called when task `i`'s `attempt` passed its own gate (and the
    /// reviewer agent, if any): a group member waits for its group instead
    /// of going to the human. True when it did (the caller does nothing more).
    pub(super) fn hold_for_group(&mut self, i: usize, attempt: u32, out: &mut Out) -> bool {
        let task = &self.fleet.tasks[i];
        let fresh = matches!(
            task.status,
            Status::Verifying { .. } | Status::Reviewing { .. }
        );
        if task.spec.group.is_none() || !fresh {
            return false;
        }
        self.fleet.tasks[i].overlaps.clear();
        self.set_status(i, Status::Grouped { attempt }, Actor::Engine, out);
        true
    }

    /// Integrates every group whose members all wait (`Grouped`) and that
    /// is not being integrated, and lands a group whose members are all
    /// approved (`Merging`) when no merge is in flight. Called by the pump
    /// (also while the fleet is paused: only git and verify commands run).
    pub(super) fn pump_groups(&mut self, out: &mut Out) {
        let mut groups: Vec<String> = Vec::new();
        for t in &self.fleet.tasks {
            if let Some(g) = &t.spec.group
                && !groups.contains(g)
            {
                groups.push(g.clone());
            }
        }
        for group in groups {
            let members = self.members(&group);
            let grouped = self.all_in(&members, |s| match s {
                Status::Grouped { attempt } => Some(*attempt),
                _ => None,
            });
            if let Some(members) = grouped
                && self.integrating.insert(group.clone())
            {
                out.fx.push(Effect::Integrate { group, members });
                continue;
            }
            let merging = self.all_in(&members, |s| match s {
                Status::Merging { attempt } => Some(*attempt),
                _ => None,
            });
            if let Some(members) = merging
                && self.merging.is_none()
            {
                self.merging = Some(members[0].0.clone());
                out.fx.push(Effect::MergeGroup { group, members });
            }
        }
    }

    /// The group's integration ran: see [`IntegrationResult`].
    pub(super) fn integrated(&mut self, group: &str, result: IntegrationResult, out: &mut Out) {
        if !self.integrating.remove(group) {
            return; // not asked for (a stale report)
        }
        let members = self.members(group);
        let all_grouped = members
            .iter()
            .all(|&i| matches!(self.fleet.tasks[i].status, Status::Grouped { .. }));
        if members.is_empty() || !all_grouped {
            return; // a member changed meanwhile; the pump integrates again
        }
        let record = |passed: bool, message: String, out: &mut Out| {
            let group = group.to_owned();
            let event = Event::GroupIntegrated {
                group,
                passed,
                message,
            };
            out.record(Actor::Engine, event);
        };
        match result {
            IntegrationResult::Passed { commit } => {
                let short = &commit[..commit.len().min(10)];
                let message = format!(
                    "{} members merged on {} ({short}); the group's gate passed: review the group as one change",
                    members.len(),
                    integration_branch(group)
                );
                record(true, message, out);
                for i in members {
                    let Status::Grouped { attempt } = self.fleet.tasks[i].status else {
                        continue;
                    };
                    self.human_review(i, attempt, out);
                }
            }
            IntegrationResult::Conflict {
                files,
                members: named,
            } => {
                let message = format!("members' work conflicts in {}", files.join(", "));
                record(false, message, out);
                let blamed = named.first().and_then(|t| self.fleet.index.get(t).copied());
                let blamed = blamed.or(members.last().copied());
                if let Some(i) = blamed {
                    let text = conflict_feedback(&files, named.get(1..).unwrap_or_default());
                    self.send_back(i, group, None, &text, out);
                }
            }
            IntegrationResult::VerifyFailed {
                command,
                output,
                changed,
            } => {
                let roles: Vec<(TaskId, Option<String>)> = members
                    .iter()
                    .map(|&i| {
                        let s = &self.fleet.tasks[i].spec;
                        (s.id.clone(), s.role.clone())
                    })
                    .collect();
                let mut changed = changed;
                for (id, _) in &roles {
                    if !changed.iter().any(|(t, _)| t == id) {
                        changed.push((id.clone(), Vec::new()));
                    }
                }
                let blamed = blame(&output, &changed, &roles);
                let names: Vec<String> = blamed.iter().map(|t| format!("`{t}`")).collect();
                let message = format!(
                    "the group's gate `{command}` failed; sent back to {}",
                    names.join(", ")
                );
                record(false, message, out);
                let worktree = format!(".fleet/worktrees/{}", run_name(group));
                for id in blamed {
                    let Some(&i) = self.fleet.index.get(&id) else {
                        continue;
                    };
                    let text = verify_feedback(&output, &id, &changed, &worktree);
                    self.send_back(i, group, Some(command.clone()), &text, out);
                }
            }
            IntegrationResult::Error { message } => {
                record(false, message.clone(), out);
                for i in members {
                    let reason = format!(
                        "group `{group}` could not be integrated: {message} (retry a member to integrate the group again)"
                    );
                    self.set_status(i, Status::Failed { reason }, Actor::Engine, out);
                }
            }
        }
    }

    /// Member `i` runs again (a try counted) with the group's failure as
    /// feedback, or fails when it has used its attempts.
    fn send_back(
        &mut self,
        i: usize,
        group: &str,
        command: Option<String>,
        text: &str,
        out: &mut Out,
    ) {
        let Status::Grouped { attempt } = self.fleet.tasks[i].status else {
            return;
        };
        let kind = FeedbackKind::Group {
            group: group.to_owned(),
            command,
        };
        self.retry_or_fail(i, attempt, kind, text, out);
    }

    /// Whether member `i` runs again because its group's gate or
    /// integration failed on its work: an attempt that changes nothing
    /// then counts (the same work would fail the group again).
    /// (Also after such an attempt that changed nothing: its feedback then
    /// says so.)
    pub(super) fn sent_back_by_group(&self, i: usize) -> bool {
        let task = &self.fleet.tasks[i];
        task.spec.group.is_some()
            && matches!(
                task.feedback.as_ref().map(|f| &f.kind),
                Some(FeedbackKind::Group { .. } | FeedbackKind::NoChanges)
            )
    }

    /// `Approve` on member `i` of a group in review approves the group:
    /// every member in review goes to `Merging` (landed together by the
    /// pump). False when `i` is in no group.
    pub(super) fn approve_group(&mut self, i: usize, actor: Actor, out: &mut Out) -> bool {
        let Some(group) = self.fleet.tasks[i].spec.group.clone() else {
            return false;
        };
        for m in self.members(&group) {
            if let Status::Review { attempt, .. } = self.fleet.tasks[m].status {
                self.set_status(m, Status::Merging { attempt }, actor, out);
            }
        }
        true
    }

    /// After the user sent member `i` of a group in review back (changes
    /// requested, rejected): the other members in review wait again.
    pub(super) fn regroup_others(&mut self, i: usize, out: &mut Out) {
        let Some(group) = self.fleet.tasks[i].spec.group.clone() else {
            return;
        };
        for m in self.members(&group) {
            if m == i {
                continue;
            }
            if let Status::Review { attempt, .. } = self.fleet.tasks[m].status {
                self.set_status(m, Status::Grouped { attempt }, Actor::Engine, out);
            }
        }
    }

    /// The group's integration branch landed on the target (or did not).
    pub(super) fn group_merged(&mut self, group: &str, result: MergeResult, out: &mut Out) {
        let members: Vec<usize> = self
            .members(group)
            .into_iter()
            .filter(|&i| matches!(self.fleet.tasks[i].status, Status::Merging { .. }))
            .collect();
        if self
            .merging
            .as_ref()
            .is_some_and(|m| members.iter().any(|&i| &self.fleet.tasks[i].spec.id == m))
        {
            self.merging = None;
        }
        let block = match result {
            MergeResult::Merged { commit } => {
                for &i in &members {
                    self.fleet.tasks[i].auto_updates = 0;
                    let commit = commit.clone();
                    self.set_status(i, Status::Done { commit }, Actor::Engine, out);
                    let task = self.fleet.tasks[i].spec.id.clone();
                    out.fx.push(Effect::RemoveWorktree { task });
                }
                let event = Event::GroupLanded {
                    group: group.to_owned(),
                    commit,
                };
                out.record(Actor::Engine, event);
                return;
            }
            MergeResult::Conflict { files } => {
                // The target moved under the group: integrate it again on the new tip.
                let message = format!(
                    "landing conflicts with the target in {}: integrating the group again on the target's tip",
                    files.join(", ")
                );
                let event = Event::GroupIntegrated {
                    group: group.to_owned(),
                    passed: false,
                    message,
                };
                out.record(Actor::Engine, event);
                for i in members {
                    if let Status::Merging { attempt } = self.fleet.tasks[i].status {
                        self.set_status(i, Status::Grouped { attempt }, Actor::Engine, out);
                    }
                }
                return;
            }
            MergeResult::Refused { files } => MergeBlock::Refused { files },
            MergeResult::Error { message } => MergeBlock::Error { message },
        };
        for i in members {
            if let Status::Merging { attempt } = self.fleet.tasks[i].status {
                let block = Some(block.clone());
                self.set_status(i, Status::Review { attempt, block }, Actor::Engine, out);
            }
        }
    }

    /// The worktree watcher saw running `task` change `file`, which
    /// `other` of its group changed too: both tasks' overlaps say so, once.
    pub(super) fn overlap(&mut self, task: &TaskId, other: &TaskId, file: String, out: &mut Out) {
        let (Some(&a), Some(&b)) = (self.fleet.index.get(task), self.fleet.index.get(other)) else {
            return;
        };
        let mut new = false;
        for (i, o) in [(a, other), (b, task)] {
            let entry = Overlap {
                file: file.clone(),
                other: o.clone(),
            };
            let overlaps = &mut self.fleet.tasks[i].overlaps;
            if !overlaps.contains(&entry) {
                overlaps.push(entry);
                overlaps.sort();
                new = true;
                out.fx.push(Effect::SaveTask {
                    task: self.fleet.tasks[i].spec.id.clone(),
                });
            }
        }
        if new {
            let event = Event::Overlap {
                task: task.clone(),
                other: other.clone(),
                file: file.clone(),
            };
            out.record(Actor::Engine, event);
            // Raised as a conflict message of each task: in both
            // transcripts, the Messages pane and a warning to the user.
            for (i, o) in [(a, other), (b, task)] {
                let t = &self.fleet.tasks[i];
                let conflict = Report::Message {
                    task: t.spec.id.clone(),
                    attempt: t.attempts,
                    kind: MessageKind::Conflict,
                    text: format!("{file} is also changed by `{o}`, running in the same group"),
                    paths: vec![file.clone()],
                    time_ms: self.now_ms,
                };
                self.message(conflict, out);
            }
        }
    }
}
