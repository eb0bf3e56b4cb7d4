//! Fan-out in the cockpit: `F` on a queued task opens a multi-select
//! profile picker (space toggles, Enter sends `Command::FanOut` with at
//! least two); a task comparing its candidates opens the compare view
//! (←/→ focus a candidate, Tab/`d` its diff, Enter/`p` picks it after a
//! question). The view is `src/ui/views/compare.rs`.

use crossterm::event::{KeyCode, KeyEvent};

use super::{Handled, Hint};
use crate::core::{Command, Status, TaskId};
use crate::ui::app::{App, Detail, Intent, Origin, Overlay, Screen, Tab};
use crate::ui::keymap::Action;
use crate::ui::model::candidates;

/// Where the user is in the compare view of `task`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareView {
    pub task: TaskId,
    /// The focused candidate (index among the task's candidates).
    pub focus: usize,
}

/// The profiles to fan `task` out to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOutPicker {
    pub task: TaskId,
    pub agents: Vec<String>,
    pub chosen: Vec<bool>,
    pub selected: usize,
}

impl FanOutPicker {
    /// The profiles chosen, in the picker's order.
    pub fn picked(&self) -> Vec<String> {
        self.agents
            .iter()
            .zip(&self.chosen)
            .filter(|(_, c)| **c)
            .map(|(a, _)| a.clone())
            .collect()
    }
}

/// Enter on a task: the compare view when it compares candidates.
pub(in crate::ui::app) fn open(app: &mut App) -> Vec<Intent> {
    match app.selected_task() {
        Some(t) if t.status == Status::Comparing => {
            let task = t.id().clone();
            app.screen = Screen::Compare(CompareView { task, focus: 0 });
            Vec::new()
        }
        _ => app.open_detail(),
    }
}

/// The compare view a candidate's detail goes back to: its parent's, while
/// the parent compares its candidates (focused on this one).
pub(in crate::ui::app) fn back_from(app: &App, task: &TaskId) -> Option<Screen> {
    let parent = app.model.task(task.as_str())?.spec.candidate_of.clone()?;
    if app.model.task(parent.as_str())?.status != Status::Comparing {
        return None;
    }
    let focus = candidates(&app.model.fleet, &parent)
        .iter()
        .position(|t| t.id() == task)?;
    Some(Screen::Compare(CompareView {
        task: parent,
        focus,
    }))
}

/// `F`: the profile picker for a queued task.
pub(in crate::ui::app) fn open_fanout(app: &mut App, task: TaskId, status: &Status) -> Handled {
    if !matches!(status, Status::Queued { .. }) {
        return Some(app.toast(format!(
            "`{task}` is {status}: only a queued task can be fanned out"
        )));
    }
    if app
        .model
        .task(task.as_str())
        .is_some_and(|t| t.spec.candidate_of.is_some())
    {
        return Some(app.toast(format!(
            "`{task}` is a fan-out candidate itself: fan out its parent instead"
        )));
    }
    let agents: Vec<String> = app.model.fleet.agents().map(str::to_owned).collect();
    let chosen = vec![false; agents.len()];
    app.overlay = Some(Overlay::FanOut(FanOutPicker {
        task,
        agents,
        chosen,
        selected: 0,
    }));
    super::done()
}

impl App {
    /// A key in the fan-out picker.
    pub(in crate::ui::app) fn fanout_key(
        &mut self,
        mut p: FanOutPicker,
        nav: Option<Action>,
        key: KeyEvent,
    ) -> Vec<Intent> {
        let last = p.agents.len().saturating_sub(1);
        match nav {
            Some(Action::Up) => p.selected = p.selected.saturating_sub(1),
            Some(Action::Down) => p.selected = (p.selected + 1).min(last),
            Some(Action::Open) => {
                let agents = p.picked();
                if agents.len() >= 2 {
                    let command = Command::FanOut {
                        task: p.task,
                        agents,
                    };
                    return vec![Intent::Command {
                        command,
                        origin: Origin::Key,
                    }];
                }
                self.overlay = Some(Overlay::FanOut(p));
                return self.toast(
                    "choose at least two profiles (space toggles): fan-out runs the task once per profile",
                );
            }
            _ if key.code == KeyCode::Esc => return Vec::new(),
            _ if key.code == KeyCode::Char(' ') => {
                if let Some(c) = p.chosen.get_mut(p.selected) {
                    *c = !*c;
                }
            }
            _ => {}
        }
        self.overlay = Some(Overlay::FanOut(p));
        Vec::new()
    }
}

/// Carries out a Compare-context action.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let Screen::Compare(view) = &app.screen else {
        return None;
    };
    let list: Vec<(TaskId, String)> = candidates(&app.model.fleet, &view.task)
        .iter()
        .map(|t| (t.id().clone(), t.spec.agent.clone()))
        .collect();
    let parent = view.task.clone();
    let focus = view.focus.min(list.len().saturating_sub(1));
    let Screen::Compare(view) = &mut app.screen else {
        return None;
    };
    match action {
        Action::Back => app.screen = Screen::Board,
        Action::Left | Action::Up => view.focus = focus.saturating_sub(1),
        Action::Right | Action::Down => view.focus = (focus + 1).min(list.len().saturating_sub(1)),
        Action::Top => view.focus = 0,
        Action::Bottom => view.focus = list.len().saturating_sub(1),
        Action::CandidateDiff => {
            let Some((task, _)) = list.get(focus).cloned() else {
                return Some(app.toast(format!("`{parent}` has no candidates yet")));
            };
            app.screen = Screen::Detail(Detail {
                task,
                tab: Tab::Diff,
                attempt: None,
                scroll: None,
                search: None,
                info_scroll: 0,
            });
            return Some(app.pending_loads());
        }
        Action::Pick => {
            let Some((candidate, agent)) = list.get(focus).cloned() else {
                return Some(app.toast(format!("`{parent}` has no candidates yet")));
            };
            let others = list.len() - 1;
            app.overlay = Some(Overlay::Confirm {
                question: format!(
                    "Pick `{candidate}` ({agent}) for `{parent}`? It lands as the task's work; the other {others} candidate(s) are saved under refs/fleet/discarded/{parent}/ and dropped."
                ),
                yes: vec![Intent::Command {
                    command: Command::Pick {
                        task: parent,
                        candidate,
                    },
                    origin: Origin::Key,
                }],
            });
        }
        _ => return None,
    }
    super::done()
}

/// The view's hints.
pub(in crate::ui::app) fn hints() -> Vec<Hint> {
    vec![
        (Action::Back, "back"),
        (Action::Right, "next"),
        (Action::Left, "previous"),
        (Action::CandidateDiff, "diff"),
        (Action::Pick, "pick"),
        (Action::Help, "help"),
    ]
}
