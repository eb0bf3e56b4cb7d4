//! The plan diff overlay's state and keys: a supervisor's proposal or the
//! user's replan as one list of changes (each with a check box, refused
//! ones not toggleable, expandable to its fields) and the graph of the
//! proposed plan. Enter sends what is on — `ConfirmProposal` without the
//! changes turned off, or the replan's batch — after `PlanDiff::without`
//! accepted it; its refusal (a needed change off, a cycle, nothing on) is
//! shown here and nothing is sent. The view is `src/ui/views/plan_diff.rs`.

use std::collections::BTreeSet;

use super::Hint;
use crate::core::plan_diff::{Change, ChangeId, ChangeKind, PlanDiff};
use crate::core::supervisor::{Origin, Proposal, Trigger};
use crate::core::{Command, TaskId, TaskSpec};
use crate::ui::app::{App, EditorKind, Intent, Origin as From, Overlay, Toast};
use crate::ui::keymap::Action;
use crate::ui::model::Model;

/// What the diff shows.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanSource {
    /// A proposal of the supervisor (or of an edited fleet.toml).
    Proposal(Box<Proposal>),
    /// The user's replan: the editor's text (esc goes back to it) and the plan it proposes.
    Replan { text: String, plan: Vec<TaskSpec> },
}

/// The two tabs of the overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanTab {
    Changes,
    Graph,
}

/// A change as the user's choices remember it: its task and what it does
/// (a diff has at most one change of each kind per task, so choices survive
/// the diff being computed again when tasks change).
pub type ChangeKey = (TaskId, &'static str);

/// The key of `change`.
pub fn change_key(change: &Change) -> ChangeKey {
    let what = match &change.kind {
        ChangeKind::Add { .. } => "add",
        ChangeKind::Drop { .. } => "drop",
        ChangeKind::Edit { .. } => "edit",
        ChangeKind::Action { action } => action.kind.name(),
    };
    (change.task().clone(), what)
}

/// The plan diff overlay.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub source: PlanSource,
    pub diff: PlanDiff,
    /// The model's task revision the diff was computed at.
    pub computed_at: u64,
    /// Changes turned off.
    pub off: BTreeSet<ChangeKey>,
    /// Changes shown with their fields.
    pub expanded: BTreeSet<ChangeKey>,
    /// The selected change (Changes tab).
    pub selected: usize,
    pub tab: PlanTab,
    /// The graph's top line (Graph tab).
    pub scroll: usize,
    /// Why the last enter or space did nothing.
    pub error: Option<String>,
    /// True while the confirmation is with the engine.
    pub pending: bool,
}

impl PlanView {
    fn new(source: PlanSource, model: &Model) -> PlanView {
        let mut view = PlanView {
            source,
            diff: PlanDiff::default(),
            computed_at: model.tasks_revision,
            off: BTreeSet::new(),
            expanded: BTreeSet::new(),
            selected: 0,
            tab: PlanTab::Changes,
            scroll: 0,
            error: None,
            pending: false,
        };
        view.compute(model);
        view
    }

    pub fn proposal(proposal: Box<Proposal>, model: &Model) -> PlanView {
        PlanView::new(PlanSource::Proposal(proposal), model)
    }

    pub fn replan(text: String, plan: Vec<TaskSpec>, model: &Model) -> PlanView {
        PlanView::new(PlanSource::Replan { text, plan }, model)
    }

    fn compute(&mut self, model: &Model) {
        let tasks = model.fleet.tasks();
        self.diff = match &self.source {
            PlanSource::Proposal(p) => crate::core::supervisor::rules::diff(tasks, p),
            PlanSource::Replan { plan, .. } => PlanDiff::between(tasks, plan),
        };
        self.computed_at = model.tasks_revision;
        self.selected = self.selected.min(self.diff.changes.len().saturating_sub(1));
    }

    /// Computes the diff again when the tasks changed since.
    pub fn refresh(&mut self, model: &Model) -> bool {
        if self.computed_at == model.tasks_revision {
            return false;
        }
        self.compute(model);
        true
    }

    /// The proposal's number (None for a replan).
    pub fn proposal_id(&self) -> Option<u64> {
        match &self.source {
            PlanSource::Proposal(p) => Some(p.id),
            PlanSource::Replan { .. } => None,
        }
    }

    pub fn origin(&self) -> Origin {
        match &self.source {
            PlanSource::Proposal(p) => p.origin,
            PlanSource::Replan { .. } => Origin::User,
        }
    }

    pub fn trigger(&self) -> Option<&Trigger> {
        match &self.source {
            PlanSource::Proposal(p) => Some(&p.trigger),
            PlanSource::Replan { .. } => None,
        }
    }

    /// The whole proposed plan against `current` (a proposal keeps the
    /// tasks it leaves out that are done, running or in review).
    pub fn plan(&self, current: &[crate::core::Task]) -> Vec<TaskSpec> {
        match &self.source {
            PlanSource::Proposal(p) => crate::core::supervisor::rules::proposed_plan(current, p),
            PlanSource::Replan { plan, .. } => plan.clone(),
        }
    }

    /// True when change `i` will be applied: not refused and not turned off.
    pub fn is_on(&self, i: usize) -> bool {
        self.diff
            .changes
            .get(i)
            .is_some_and(|c| c.refused.is_none() && !self.off.contains(&change_key(c)))
    }

    /// The changes turned off, as the diff numbers them.
    pub fn off_ids(&self) -> Vec<ChangeId> {
        self.diff
            .changes
            .iter()
            .filter(|c| self.off.contains(&change_key(c)))
            .map(|c| c.id)
            .collect()
    }

    fn toggle(&mut self) {
        let Some(c) = self.diff.changes.get(self.selected) else {
            return;
        };
        if let Some(why) = &c.refused {
            self.error = Some(format!("{} is refused: {why}", c.describe()));
            return;
        }
        let key = change_key(c);
        if !self.off.remove(&key) {
            self.off.insert(key);
        }
    }

    /// Every change on; when all are on already, every change off.
    fn all(&mut self) {
        let toggleable: Vec<ChangeKey> = self
            .diff
            .changes
            .iter()
            .filter(|c| c.refused.is_none())
            .map(change_key)
            .collect();
        if toggleable.iter().any(|t| self.off.contains(t)) {
            self.off.clear();
        } else {
            self.off.extend(toggleable);
        }
    }

    fn move_by(&mut self, delta: isize, graph_lines: usize) {
        let (at, len) = match self.tab {
            PlanTab::Changes => (self.selected, self.diff.changes.len()),
            PlanTab::Graph => (self.scroll, graph_lines),
        };
        let to = at.saturating_add_signed(delta).min(len.saturating_sub(1));
        match self.tab {
            PlanTab::Changes => self.selected = to,
            PlanTab::Graph => self.scroll = to,
        }
    }
}

impl App {
    /// Opens the plan diff of the waiting proposal (`Y`).
    pub(in crate::ui::app) fn show_proposal(&mut self) -> Vec<Intent> {
        match self.model.supervisor.first_pending().cloned() {
            Some(p) => {
                let view = PlanView::proposal(Box::new(p), &self.model);
                self.overlay = Some(Overlay::PlanDiff(Box::new(view)));
                Vec::new()
            }
            None => self.toast("no proposal is waiting"),
        }
    }

    /// A key while the plan diff is open.
    pub(in crate::ui::app) fn plan_key(
        &mut self,
        mut view: Box<PlanView>,
        action: Option<Action>,
    ) -> Vec<Intent> {
        if view.pending {
            // Waiting for the engine: only esc (hiding it) does something.
            if action == Some(Action::Back) {
                return Vec::new();
            }
            self.overlay = Some(Overlay::PlanDiff(view));
            return Vec::new();
        }
        let graph_lines = view.diff.changes.len() + self.model.fleet.tasks().len() * 3 + 16;
        let page = (self.size.1 as isize - 8).max(1);
        let mut out = Vec::new();
        match action {
            Some(Action::Up) => view.move_by(-1, graph_lines),
            Some(Action::Down) => view.move_by(1, graph_lines),
            Some(Action::PageUp) => view.move_by(-page, graph_lines),
            Some(Action::PageDown) => view.move_by(page, graph_lines),
            Some(Action::Top) => view.move_by(isize::MIN, graph_lines),
            Some(Action::Bottom) => view.move_by(isize::MAX, graph_lines),
            Some(Action::NextTab | Action::PrevTab) => {
                view.tab = match view.tab {
                    PlanTab::Changes => PlanTab::Graph,
                    PlanTab::Graph => PlanTab::Changes,
                };
            }
            Some(Action::ToggleChange) if view.tab == PlanTab::Changes => {
                view.error = None;
                view.toggle();
            }
            Some(Action::AllChanges) => {
                view.error = None;
                view.all();
            }
            Some(Action::ExpandChange) => {
                if let Some(key) = view.diff.changes.get(view.selected).map(change_key)
                    && !view.expanded.remove(&key)
                {
                    view.expanded.insert(key);
                }
            }
            Some(Action::ConfirmPlan) => out = confirm(&mut view),
            Some(Action::PlanFeedback) => return self.plan_feedback(view),
            Some(Action::DiscardProposal) => return self.discard(view),
            Some(Action::Back) => return self.hide_plan(*view),
            _ => {}
        }
        self.overlay = Some(Overlay::PlanDiff(view));
        out
    }

    fn plan_feedback(&mut self, mut view: Box<PlanView>) -> Vec<Intent> {
        match view.proposal_id() {
            Some(id) => self.open_editor(EditorKind::ProposalFeedback(id), ""),
            None => {
                view.error = Some(
                    "feedback goes to the supervisor about its proposal; this is your own replan (esc goes back to its editor)"
                        .into(),
                );
                self.overlay = Some(Overlay::PlanDiff(view));
                Vec::new()
            }
        }
    }

    fn discard(&mut self, view: Box<PlanView>) -> Vec<Intent> {
        match view.proposal_id() {
            Some(proposal) => vec![Intent::Command {
                command: Command::DiscardProposal { proposal },
                origin: From::Key,
            }],
            // A replan is the user's own: x leaves it (the text is in no editor any more).
            None => Vec::new(),
        }
    }

    /// Esc: a proposal stays pending (`Y` shows it again); a replan goes
    /// back to its editor with the text.
    fn hide_plan(&mut self, view: PlanView) -> Vec<Intent> {
        match view.source {
            PlanSource::Proposal(p) => {
                let key = self.keymap.key_label(Action::ShowProposal);
                self.toast = Some(Toast {
                    text: format!("proposal {} is waiting: {key} shows it again", p.id),
                    error: false,
                });
                Vec::new()
            }
            PlanSource::Replan { text, .. } => self.open_editor(EditorKind::Replan, &text),
        }
    }

    /// The model changed: a plan diff on screen is computed again for the
    /// tasks as they are; a proposal that is no longer pending closes.
    pub(in crate::ui::app) fn refresh_plan(&mut self) {
        let Some(Overlay::PlanDiff(view)) = &mut self.overlay else {
            return;
        };
        if let Some(id) = view.proposal_id()
            && !view.pending
            && !self.model.supervisor.is_pending(id)
        {
            self.overlay = None;
            self.toast = Some(Toast {
                text: format!("proposal {id} is no longer waiting (applied or discarded)"),
                error: false,
            });
            return;
        }
        view.refresh(&self.model);
    }
}

/// Enter: the command of the changes that are on, or why there is none.
fn confirm(view: &mut PlanView) -> Vec<Intent> {
    let off = view.off_ids();
    let command = match view.diff.without(&off) {
        Err(e) => {
            view.error = Some(e.to_string());
            return Vec::new();
        }
        Ok(batch) => match view.proposal_id() {
            Some(proposal) => Command::ConfirmProposal {
                proposal,
                off: off.iter().map(|c| c.0 + 1).collect(),
            },
            None => batch,
        },
    };
    view.error = None;
    view.pending = true;
    vec![Intent::Command {
        command,
        origin: From::Editor,
    }]
}

/// The overlay's hints, most useful first.
pub fn hints(view: &PlanView) -> Vec<Hint> {
    let mut h = vec![
        (Action::ConfirmPlan, "apply"),
        (Action::ToggleChange, "on/off"),
        (Action::AllChanges, "all"),
        (Action::ExpandChange, "fields"),
        match view.tab {
            PlanTab::Changes => (Action::NextTab, "graph"),
            PlanTab::Graph => (Action::NextTab, "changes"),
        },
    ];
    if view.proposal_id().is_some() {
        h.push((Action::PlanFeedback, "feedback"));
        h.push((Action::DiscardProposal, "discard"));
        h.push((Action::Back, "later"));
    } else {
        h.push((Action::Back, "back to the editor"));
    }
    h
}
