//! Keys: an open overlay takes every key; otherwise the key resolves
//! through the keymap in the focused context and goes to the focused
//! component (`panes/`), then to the selected task's actions, then to the
//! fleet-wide ones. A key that means nothing where it is pressed does nothing.

use crossterm::event::{KeyEvent, KeyEventKind};

use super::forms::{budget_text, new_task_text, replan_text};
use super::panes;
use super::{App, Detail, EditorKind, Intent, Origin, Overlay, Screen, Tab, Toast};
use crate::core::Command;
use crate::ui::keymap::Action;

impl App {
    /// Handles a key press; returns what must happen outside the app.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Intent> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        self.toast = None;
        if let Some(overlay) = self.overlay.take() {
            return self.overlay_key(overlay, key);
        }
        let Some(action) = self.keymap.action(self.context(), &key) else {
            return Vec::new();
        };
        let focused = match &self.screen {
            Screen::Board => panes::board::handle(self, action),
            Screen::Detail(_) => self.detail_action(action),
            Screen::Supervisor(_) => panes::supervisor::handle(self, action),
            Screen::Messages(_) => panes::messages::handle(self, action),
            Screen::Context(_) => panes::context::handle(self, action),
            Screen::Compare(_) => panes::compare::handle(self, action),
        };
        focused
            .or_else(|| panes::task::handle(self, action))
            .unwrap_or_else(|| self.fleet_action(action))
    }

    /// Pasted text goes to an open editor; elsewhere it is ignored.
    pub fn handle_paste(&mut self, text: &str) {
        match &mut self.overlay {
            Some(Overlay::Editor(ed)) => {
                ed.area.insert_str(text);
            }
            Some(Overlay::Search(area)) => {
                area.insert_str(text.replace(['\n', '\r'], " "));
            }
            _ => {}
        }
    }

    /// The footer's hints where the focus is: each key at most once (the
    /// first hint that uses it wins), with the key as bound in this context.
    pub fn footer_hints(&self) -> Vec<(String, &'static str)> {
        let ctx = self.screen_context();
        let mut out: Vec<(String, &'static str)> = Vec::new();
        let mut actions: Vec<Action> = Vec::new();
        for (action, label) in panes::focused_hints(self) {
            let Some(key) = self
                .keymap
                .keys_in(action, ctx)
                .first()
                .map(|k| k.to_string())
            else {
                continue;
            };
            if actions.contains(&action) || out.iter().any(|(k, _)| *k == key) {
                continue;
            }
            actions.push(action);
            out.push((key, label));
        }
        out
    }

    /// A toast that reports a key that could not act.
    pub(super) fn toast(&mut self, text: impl Into<String>) -> Vec<Intent> {
        self.toast = Some(Toast {
            text: text.into(),
            error: true,
        });
        Vec::new()
    }

    /// Opens the task detail on the selected card.
    pub fn open_detail(&mut self) -> Vec<Intent> {
        let Some(task) = self.selected_task().map(|t| t.id().clone()) else {
            return Vec::new();
        };
        self.screen = Screen::Detail(Detail {
            task,
            tab: Tab::Transcript,
            attempt: None,
            scroll: None,
            search: None,
            info_scroll: 0,
        });
        self.pending_loads()
    }

    /// The detail's own keys (back, tabs), then the shown tab's.
    pub(super) fn detail_action(&mut self, action: Action) -> panes::Handled {
        let Screen::Detail(d) = &mut self.screen else {
            return None;
        };
        match action {
            Action::Back => {
                // A candidate's diff opened from the compare view goes back there.
                let task = d.task.clone();
                self.screen = panes::compare::back_from(self, &task).unwrap_or(Screen::Board);
                panes::done()
            }
            Action::NextTab | Action::PrevTab => {
                let i = Tab::ALL.iter().position(|t| *t == d.tab).unwrap_or(0);
                let n = Tab::ALL.len();
                let next = if action == Action::NextTab {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                d.tab = Tab::ALL[next];
                Some(self.pending_loads())
            }
            _ => match d.tab {
                Tab::Transcript => panes::transcript::handle(self, action),
                Tab::Diff => panes::diff::handle(self, action),
                Tab::Info => panes::info::handle(self, action),
            },
        }
    }

    /// Actions that mean the same everywhere: help, quit, and the fleet's.
    fn fleet_action(&mut self, action: Action) -> Vec<Intent> {
        match action {
            Action::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                Vec::new()
            }
            Action::Quit => self.request_quit(),
            Action::PauseFleet => {
                let command = if self.model.fleet.paused() {
                    Command::ResumeFleet
                } else {
                    Command::PauseFleet
                };
                vec![Intent::Command {
                    command,
                    origin: Origin::Key,
                }]
            }
            Action::NewTask => {
                let agent = self.model.fleet.agents().next().unwrap_or("").to_owned();
                self.open_editor(EditorKind::NewTask, &new_task_text(&agent))
            }
            Action::Replan => {
                let text = replan_text(&self.model.fleet);
                self.open_editor(EditorKind::Replan, &text)
            }
            Action::FleetBudget => {
                let spent = self
                    .model
                    .fleet
                    .tasks()
                    .iter()
                    .fold(crate::core::Spend::default(), |a, t| a + t.spent + t.live);
                let b = self.model.budget;
                let text = budget_text("the fleet", spent, b.fleet_usd, b.fleet_tokens);
                self.open_editor(EditorKind::Budget(None), &text)
            }
            _ => Vec::new(),
        }
    }

    /// Quits at once when no agent runs; otherwise asks first.
    pub fn request_quit(&mut self) -> Vec<Intent> {
        let live = self.model.fleet.live_agents();
        if live == 0 {
            return vec![Intent::Quit];
        }
        self.overlay = Some(Overlay::Confirm {
            question: format!(
                "{live} agent(s) are running. Quit? They are stopped now and their attempts are redone (as interrupted) when the fleet next starts."
            ),
            yes: vec![Intent::Quit],
        });
        Vec::new()
    }
}
