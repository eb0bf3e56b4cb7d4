//! The overlays' keys: help, yes/no questions, the agent picker, the
//! transcript search input and the editors (the plan diff's are in
//! `plan_diff.rs`). An
//! overlay takes every key while it is open; each `*_key` function puts
//! the overlay back unless the key closed it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use crate::core::{Command, Verb};
use crate::ui::app::forms::{parse_budget, parse_edit, parse_new, parse_replan};
use crate::ui::app::{App, Editor, EditorKind, Intent, Origin, Overlay, Picker, PlanView, Screen};
use crate::ui::keymap::{Action, Context};

impl App {
    /// A key while an overlay is open (taken out of `self.overlay`).
    pub(in crate::ui::app) fn overlay_key(
        &mut self,
        overlay: Overlay,
        key: KeyEvent,
    ) -> Vec<Intent> {
        let nav = self.keymap.action(Context::Board, &key);
        let ctx = match overlay {
            Overlay::Editor(_) | Overlay::Search(_) => Context::Editor,
            Overlay::PlanDiff(_) => Context::Plan,
            _ => Context::Confirm,
        };
        let action = self.keymap.action(ctx, &key);
        match overlay {
            Overlay::Help { scroll } => self.help_key(scroll, nav, key),
            Overlay::Confirm { question, yes } => match action {
                Some(Action::Yes) => yes,
                Some(Action::No | Action::Back) => Vec::new(),
                _ => {
                    self.overlay = Some(Overlay::Confirm { question, yes });
                    Vec::new()
                }
            },
            Overlay::Picker(p) => self.picker_key(p, nav, key),
            Overlay::KindPicker(p) => self.kind_picker_key(p, nav, key),
            Overlay::FanOut(p) => self.fanout_key(p, nav, key),
            Overlay::Search(area) => self.search_key(area, action, key),
            Overlay::PlanDiff(view) => self.plan_key(view, action),
            Overlay::Discard(ed) => {
                match action {
                    Some(Action::Yes) => {
                        self.discarded = Some(ed);
                        let key = self.keymap.key_label(reopen_action(&self.discarded));
                        self.toast = Some(crate::ui::app::Toast {
                            text: format!("draft discarded: {key} offers to restore it"),
                            error: false,
                        });
                    }
                    Some(Action::No | Action::Back) => self.overlay = Some(Overlay::Editor(ed)),
                    _ => self.overlay = Some(Overlay::Discard(ed)),
                }
                Vec::new()
            }
            Overlay::Restore { draft, fresh } => {
                match action {
                    Some(Action::Yes) => self.overlay = Some(Overlay::Editor(*draft)),
                    Some(Action::No | Action::Back) => self.overlay = Some(Overlay::Editor(*fresh)),
                    _ => self.overlay = Some(Overlay::Restore { draft, fresh }),
                }
                Vec::new()
            }
            Overlay::Editor(ed) if closes(action, key) && ed.unsaved() && !ed.pending => {
                self.overlay = Some(Overlay::Discard(ed));
                Vec::new()
            }
            Overlay::Editor(mut ed) => match action {
                _ if closes(action, key) => Vec::new(),
                Some(Action::Save) => self.save_editor(ed),
                _ => {
                    if !ed.pending {
                        ed.area.input(key);
                        ed.error = None;
                    }
                    self.overlay = Some(Overlay::Editor(ed));
                    Vec::new()
                }
            },
        }
    }

    fn help_key(&mut self, scroll: usize, nav: Option<Action>, key: KeyEvent) -> Vec<Intent> {
        let max = crate::ui::views::help::max_scroll(&self.keymap, self.area());
        let scroll = match nav {
            Some(Action::Down) => (scroll + 1).min(max),
            Some(Action::Up) => scroll.saturating_sub(1),
            Some(Action::PageDown) => (scroll + 10).min(max),
            Some(Action::PageUp) => scroll.saturating_sub(10),
            _ if key.code == KeyCode::Esc
                || nav == Some(Action::Help)
                || nav == Some(Action::Quit) =>
            {
                return Vec::new();
            }
            _ => scroll,
        };
        self.overlay = Some(Overlay::Help { scroll });
        Vec::new()
    }

    fn picker_key(&mut self, mut p: Picker, nav: Option<Action>, key: KeyEvent) -> Vec<Intent> {
        match nav {
            Some(Action::Up) => p.selected = p.selected.saturating_sub(1),
            Some(Action::Down) => {
                p.selected = (p.selected + 1).min(p.agents.len().saturating_sub(1))
            }
            Some(Action::Open) => {
                let Some(agent) = p.agents.get(p.selected).cloned() else {
                    return Vec::new();
                };
                let command = Command::Reassign {
                    task: p.task,
                    agent,
                };
                return vec![Intent::Command {
                    command,
                    origin: Origin::Key,
                }];
            }
            _ if key.code == KeyCode::Esc => return Vec::new(),
            _ => {}
        }
        self.overlay = Some(Overlay::Picker(p));
        Vec::new()
    }

    fn search_key(
        &mut self,
        mut area: TextArea<'static>,
        action: Option<Action>,
        key: KeyEvent,
    ) -> Vec<Intent> {
        match (action, key.code) {
            (Some(Action::Back), _) => return Vec::new(),
            (_, KeyCode::Enter) => {
                let query = area.lines().join(" ").trim().to_owned();
                let query = (!query.is_empty()).then_some(query);
                match &mut self.screen {
                    Screen::Detail(d) => d.search = query,
                    // The team panes filter by it (their selection stays when shown).
                    Screen::Messages(v) => {
                        v.query = query;
                        return Vec::new();
                    }
                    Screen::Context(v) => {
                        v.query = query;
                        return Vec::new();
                    }
                    _ => {}
                }
                self.search_hit = None;
                return self.find(true);
            }
            _ => {
                area.input(key);
            }
        }
        self.overlay = Some(Overlay::Search(area));
        Vec::new()
    }

    pub(in crate::ui::app) fn open_editor(&mut self, kind: EditorKind, text: &str) -> Vec<Intent> {
        let lines = if text.is_empty() {
            vec![String::new()]
        } else {
            text.lines().map(str::to_owned).collect()
        };
        let mut area = TextArea::new(lines);
        let prose = match kind {
            EditorKind::Feedback(_) => {
                Some("What should the agent change? ctrl-s sends, esc cancels.")
            }
            EditorKind::Goal => Some(
                "What should the fleet build? The supervisor turns it into tasks. ctrl-s sends, esc cancels.",
            ),
            EditorKind::ProposalFeedback(_) => {
                Some("What should the supervisor change in its plan? ctrl-s sends, esc cancels.")
            }
            EditorKind::Context { .. } => Some(
                "The entry's text. An optional line `scope: tasks=a,b paths=src/api roles=tester` limits who gets it (none: everyone). ctrl-s saves, esc cancels.",
            ),
            _ => None,
        };
        if let Some(placeholder) = prose {
            area.set_placeholder_text(placeholder);
        } else {
            // TOML: numbered lines, which its errors cite.
            area.set_line_number_style(self.theme.line_number);
        }
        let fresh = Editor {
            kind,
            area,
            error: None,
            pending: false,
            initial: text.to_owned(),
        };
        self.overlay = Some(match self.discarded.take() {
            Some(draft) if draft.kind == fresh.kind => Overlay::Restore {
                draft: Box::new(draft),
                fresh: Box::new(fresh),
            },
            other => {
                self.discarded = other;
                Overlay::Editor(fresh)
            }
        });
        Vec::new()
    }

    fn save_editor(&mut self, mut ed: Editor) -> Vec<Intent> {
        let text = ed.area.lines().join("\n");
        // The task may have moved on while the editor was open: the
        // scheduler's rule says so here, and the draft stays.
        let verb = match &ed.kind {
            EditorKind::Feedback(task) => Some((task, Verb::RequestChanges)),
            EditorKind::Task(task) => Some((task, Verb::Edit)),
            _ => None,
        };
        if let Some((task, verb)) = verb
            && let Some(Err(refusal)) = self.model.task(task.as_str()).map(|t| t.allows(verb))
        {
            ed.error = Some(refusal.to_string());
            self.overlay = Some(Overlay::Editor(ed));
            return Vec::new();
        }
        let parsed = match &ed.kind {
            EditorKind::Feedback(task) => {
                if text.trim().is_empty() {
                    Err("write what the agent should change first".to_owned())
                } else {
                    Ok(Command::RequestChanges {
                        task: task.clone(),
                        feedback: text.trim().to_owned(),
                    })
                }
            }
            EditorKind::Task(task) => parse_edit(task, &text),
            EditorKind::NewTask => parse_new(&text),
            EditorKind::Budget(task) => parse_budget(task.clone(), &text),
            EditorKind::Replan => match parse_replan(&self.model.fleet, &text) {
                Ok(plan) => {
                    let view = PlanView::replan(text, plan, &self.model);
                    if view.diff.is_empty() {
                        Err("nothing changed".to_owned())
                    } else {
                        self.overlay = Some(Overlay::PlanDiff(Box::new(view)));
                        return Vec::new();
                    }
                }
                Err(e) => Err(e),
            },
            EditorKind::Goal => match text.trim() {
                "" => Err("write the goal first: what should the fleet build?".to_owned()),
                goal => Ok(Command::Plan {
                    goal: goal.to_owned(),
                }),
            },
            EditorKind::Context { kind, id } => super::context::parse_context(*kind, *id, &text),
            EditorKind::ProposalFeedback(proposal) => match text.trim() {
                "" => Err("write what the supervisor should change first".to_owned()),
                feedback => Ok(Command::ProposalFeedback {
                    proposal: *proposal,
                    feedback: feedback.to_owned(),
                }),
            },
        };
        match parsed {
            Ok(command) => {
                ed.pending = true;
                ed.error = None;
                self.overlay = Some(Overlay::Editor(ed));
                vec![Intent::Command {
                    command,
                    origin: Origin::Editor,
                }]
            }
            Err(e) => {
                ed.error = Some(e);
                self.overlay = Some(Overlay::Editor(ed));
                Vec::new()
            }
        }
    }
}

/// Esc (Back) or ctrl-c: what closes an editor.
fn closes(action: Option<Action>, key: KeyEvent) -> bool {
    action == Some(Action::Back)
        || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
}

/// The key that opens the kind of editor of a discarded draft, for the toast.
fn reopen_action(draft: &Option<Editor>) -> Action {
    match draft.as_ref().map(|d| &d.kind) {
        Some(EditorKind::Feedback(_)) => Action::RequestChanges,
        Some(EditorKind::Task(_)) => Action::Edit,
        Some(EditorKind::Replan) => Action::Replan,
        Some(EditorKind::Budget(Some(_))) => Action::Budget,
        Some(EditorKind::Budget(None)) => Action::FleetBudget,
        Some(EditorKind::Goal) => Action::Goal,
        Some(EditorKind::ProposalFeedback(_)) => Action::ShowProposal,
        Some(EditorKind::Context { id: Some(_), .. }) => Action::EditContext,
        Some(EditorKind::Context { id: None, .. }) => Action::AddContext,
        Some(EditorKind::NewTask) | None => Action::NewTask,
    }
}
