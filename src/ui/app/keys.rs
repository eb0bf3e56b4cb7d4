//! Keys: overlays first, then the board or the task detail. A key that
//! means nothing where it is pressed does nothing.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui_textarea::TextArea;

use super::forms::{
    budget_text, edit_text, new_task_text, parse_budget, parse_edit, parse_new, parse_replan,
    replan_text,
};
use super::{
    App, COLUMNS, Detail, Editor, EditorKind, Intent, Origin, Overlay, Picker, Screen, Tab, Toast,
};
use crate::core::{Command, Status};
use crate::ui::keymap::{Action, Context};
use crate::ui::layout;
use crate::ui::model::Step;

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
        match self.screen {
            Screen::Board => self.board_action(action),
            Screen::Detail(_) => self.detail_action(action),
        }
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

    pub(super) fn toast(&mut self, text: impl Into<String>) -> Vec<Intent> {
        self.toast = Some(Toast {
            text: text.into(),
            error: true,
        });
        Vec::new()
    }

    fn board_action(&mut self, action: Action) -> Vec<Intent> {
        let col = self.board.column;
        let len = self.column_tasks(COLUMNS[col]).len();
        let sel = self.selected_index(col);
        let page = layout::cards_per_page(self.size);
        match action {
            Action::Up => self.select(col, sel.saturating_sub(1)),
            Action::Down => self.select(col, (sel + 1).min(len.saturating_sub(1))),
            Action::PageUp => self.select(col, sel.saturating_sub(page)),
            Action::PageDown => self.select(col, sel + page),
            Action::Top => self.select(col, 0),
            Action::Bottom => self.select(col, len.saturating_sub(1)),
            Action::Left | Action::PrevTab => self.board.column = col.saturating_sub(1),
            Action::Right | Action::NextTab => self.board.column = (col + 1).min(COLUMNS.len() - 1),
            Action::Open => return self.open_detail(),
            _ => return self.common_action(action),
        }
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

    pub(super) fn detail_action(&mut self, action: Action) -> Vec<Intent> {
        let Screen::Detail(d) = &mut self.screen else {
            return Vec::new();
        };
        match (d.tab, action) {
            (_, Action::Back) => {
                self.screen = Screen::Board;
                return Vec::new();
            }
            (_, Action::NextTab | Action::PrevTab) => {
                let i = Tab::ALL.iter().position(|t| *t == d.tab).unwrap_or(0);
                let n = Tab::ALL.len();
                let next = if action == Action::NextTab {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                d.tab = Tab::ALL[next];
                return self.pending_loads();
            }
            (Tab::Transcript, _) => return self.transcript_action(action),
            (Tab::Diff, _) => return self.diff_action(action),
            (Tab::Info, Action::Up) => d.info_scroll = d.info_scroll.saturating_sub(1),
            (Tab::Info, Action::Down) => d.info_scroll += 1,
            (Tab::Info, Action::PageUp) => d.info_scroll = d.info_scroll.saturating_sub(10),
            (Tab::Info, Action::PageDown) => d.info_scroll += 10,
            (Tab::Info, Action::Top) => d.info_scroll = 0,
            _ => return self.common_action(action),
        }
        Vec::new()
    }

    /// Lines of the shown transcript (all of them, in memory or only in
    /// its file) and the height of its pane.
    fn transcript_geometry(&self) -> (usize, usize) {
        let len = self
            .shown_transcript()
            .and_then(|(task, n, _)| self.model.transcripts.get(&(task, n)))
            .map_or(0, |t| t.len());
        let pane = layout::detail_body(self.area()).height as usize;
        (len, crate::ui::views::transcript::body_height(pane))
    }

    /// The task, attempt number and transcript path of the transcript shown.
    fn shown_transcript(&self) -> Option<(crate::core::TaskId, u32, String)> {
        let Screen::Detail(d) = &self.screen else {
            return None;
        };
        let a = self.shown_attempt(d)?;
        Some((d.task.clone(), a.n, a.transcript.clone()))
    }

    /// Reads of the transcript file that the view needs: the lines it shows
    /// (and some around them) that are not in memory. While following, only
    /// a tool result's line above its long folded output.
    pub(super) fn transcript_loads(&mut self) -> Vec<Intent> {
        let (_, height) = self.transcript_geometry();
        let Screen::Detail(d) = &self.screen else {
            return Vec::new();
        };
        if d.tab != Tab::Transcript {
            return Vec::new();
        }
        let following = d.scroll.is_none();
        let Some((task, n, rel)) = self.shown_transcript() else {
            return Vec::new();
        };
        let Some(t) = self.model.transcripts.get(&(task.clone(), n)) else {
            return Vec::new();
        };
        let view = crate::ui::views::transcript::lines_needed(t, d.scroll, height);
        self.model
            .request_lines(&task, n, &rel, view, following)
            .map(Intent::LoadLines)
            .into_iter()
            .collect()
    }

    fn transcript_action(&mut self, action: Action) -> Vec<Intent> {
        // Moving, attempts, folds, the verify section: the pane's own keys.
        if let Some(intents) = self.transcript_pane_action(action) {
            return intents;
        }
        match action {
            Action::Search => {
                let mut area = TextArea::default();
                area.set_placeholder_text("search the transcript (enter to find, esc to cancel)");
                self.overlay = Some(Overlay::Search(area));
                Vec::new()
            }
            Action::SearchNext | Action::SearchPrev => self.find(action == Action::SearchNext),
            _ => self.common_action(action),
        }
    }

    /// Moves the transcript to the next (or previous) line matching the
    /// search, in the whole transcript: the lines in memory at once, the
    /// ones only in the file once its search (started here, in the
    /// background) answers; the step is then taken by itself.
    pub(crate) fn find(&mut self, forward: bool) -> Vec<Intent> {
        let (len, height) = self.transcript_geometry();
        let Screen::Detail(d) = &self.screen else {
            return Vec::new();
        };
        let Some(query) = d.search.clone() else {
            self.toast = Some(Toast {
                text: "no search yet: press / to search".into(),
                error: false,
            });
            return Vec::new();
        };
        let bottom = len.saturating_sub(height);
        let from = d.scroll.unwrap_or(bottom);
        let Some((task, n, rel)) = self.shown_transcript() else {
            return Vec::new();
        };
        let mut intents: Vec<Intent> = self
            .model
            .start_search(&task, n, &rel, &query)
            .map(Intent::SearchTranscript)
            .into_iter()
            .collect();
        let Some(transcript) = self.model.transcripts.get_mut(&(task, n)) else {
            return intents;
        };
        let query = query.to_lowercase();
        match transcript.step(from, forward) {
            Step::Found(line) => {
                transcript.reveal(line);
                if let Screen::Detail(d) = &mut self.screen {
                    d.scroll = Some(line.min(bottom));
                    if line >= bottom {
                        d.scroll = Some(line.saturating_sub(height / 2).min(bottom));
                    }
                }
                intents.extend(self.transcript_loads());
            }
            Step::Waiting => {
                transcript.wait_for_matches(forward);
                self.toast = Some(Toast {
                    text: format!("searching the transcript file for {query}…"),
                    error: false,
                });
            }
            Step::NotFound => {
                let text = match transcript.search_error() {
                    Some(e) => format!("not found: {query} (the file could not be searched: {e})"),
                    None => format!("not found: {query}"),
                };
                self.toast = Some(Toast { text, error: true });
            }
        }
        intents
    }

    fn diff_action(&mut self, action: Action) -> Vec<Intent> {
        let height = crate::ui::views::diff::viewport_height(layout::detail_body(self.area()));
        let handled = match self.diff.as_mut() {
            Some(loaded) => match &loaded.result {
                Ok(model) => {
                    loaded.view.height = height;
                    loaded.view.handle(action, model)
                }
                Err(_) => false,
            },
            None => false,
        };
        if handled {
            Vec::new()
        } else {
            self.common_action(action)
        }
    }

    /// Actions that mean the same on the board and in the detail.
    fn common_action(&mut self, action: Action) -> Vec<Intent> {
        match action {
            Action::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                return Vec::new();
            }
            Action::Quit => return self.request_quit(),
            _ => {}
        }
        self.common_task_action(action)
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

    fn common_task_action(&mut self, action: Action) -> Vec<Intent> {
        match action {
            Action::PauseFleet => {
                let command = if self.model.fleet.paused() {
                    Command::ResumeFleet
                } else {
                    Command::PauseFleet
                };
                return vec![Intent::Command {
                    command,
                    origin: Origin::Key,
                }];
            }
            Action::NewTask => {
                let agent = self.model.fleet.agents().next().unwrap_or("").to_owned();
                return self.open_editor(EditorKind::NewTask, &new_task_text(&agent));
            }
            Action::Replan => {
                let text = replan_text(&self.model.fleet);
                return self.open_editor(EditorKind::Replan, &text);
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
                return self.open_editor(EditorKind::Budget(None), &text);
            }
            _ => {}
        }
        let Some(task) = self.selected_task() else {
            return if is_task_action(action) {
                self.toast("no task selected")
            } else {
                Vec::new()
            };
        };
        let (id, status) = (task.id().clone(), task.status.clone());
        let send = |command| {
            vec![Intent::Command {
                command,
                origin: Origin::Key,
            }]
        };
        match action {
            Action::Pause => match status {
                Status::Paused { .. } | Status::Queued { held: true } => {
                    send(Command::ResumeTask { task: id })
                }
                _ => send(Command::PauseTask { task: id }),
            },
            // A task waiting for a profile that failed authentication: t revives the profile.
            Action::Retry if self.model.fleet.unusable().contains_key(&task.spec.agent) => {
                send(Command::ReviveAgent {
                    agent: task.spec.agent.clone(),
                })
            }
            Action::Retry => send(Command::Retry { task: id }),
            Action::Budget => {
                let (usd, tokens) = (task.spec.budget_usd, task.spec.budget_tokens);
                let spent = task.spent + task.live;
                let text = budget_text(&format!("`{id}`"), spent, usd, tokens);
                self.open_editor(EditorKind::Budget(Some(id)), &text)
            }
            Action::Approve => send(Command::Approve { task: id }),
            Action::Update | Action::Resolve | Action::ResolveShell => {
                self.update_action(action, id, &status)
            }
            Action::Reassign => {
                let agents: Vec<String> = self.model.fleet.agents().map(str::to_owned).collect();
                let current = agents
                    .iter()
                    .position(|a| *a == task.spec.agent)
                    .unwrap_or(0);
                self.overlay = Some(Overlay::Picker(Picker {
                    task: id,
                    agents,
                    selected: current,
                }));
                Vec::new()
            }
            Action::Edit => match status {
                Status::Queued { .. } | Status::Failed { .. } => {
                    let text = edit_text(task);
                    self.open_editor(EditorKind::Task(id), &text)
                }
                other => self.toast(format!(
                    "`{id}` is {other}: only queued or failed tasks can be edited"
                )),
            },
            Action::RequestChanges => match status {
                Status::Review { .. } => self.open_editor(EditorKind::Feedback(id), ""),
                other => self.toast(format!(
                    "`{id}` is {other}: changes can be requested in review"
                )),
            },
            Action::Reject => match status {
                Status::Review { .. } => {
                    self.overlay = Some(Overlay::Confirm {
                        question: format!(
                            "Reject the work of `{id}`? It becomes failed; a retry starts over from the target (the work is kept under refs/fleet/discarded/)."
                        ),
                        yes: send(Command::Reject { task: id }),
                    });
                    Vec::new()
                }
                other => self.toast(format!(
                    "`{id}` is {other}: only a task in review can be rejected"
                )),
            },
            Action::Drop => {
                self.overlay = Some(Overlay::Confirm {
                    question: format!(
                        "Drop `{id}`? A running agent is stopped; its branch is kept."
                    ),
                    yes: send(Command::Drop { task: id }),
                });
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn open_editor(&mut self, kind: EditorKind, text: &str) -> Vec<Intent> {
        let lines = if text.is_empty() {
            vec![String::new()]
        } else {
            text.lines().map(str::to_owned).collect()
        };
        let mut area = TextArea::new(lines);
        if matches!(kind, EditorKind::Feedback(_)) {
            area.set_placeholder_text("What should the agent change? ctrl-s sends, esc cancels.");
        }
        self.overlay = Some(Overlay::Editor(Editor {
            kind,
            area,
            error: None,
            pending: false,
        }));
        Vec::new()
    }

    fn overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Intent> {
        let nav = self.keymap.action(Context::Board, &key);
        let ctx = match overlay {
            Overlay::Editor(_) | Overlay::Search(_) => Context::Editor,
            _ => Context::Confirm,
        };
        let action = self.keymap.action(ctx, &key);
        match overlay {
            Overlay::Help { scroll } => {
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
            Overlay::Confirm { question, yes } => match action {
                Some(Action::Yes) => yes,
                Some(Action::No | Action::Back) => Vec::new(),
                _ => {
                    self.overlay = Some(Overlay::Confirm { question, yes });
                    Vec::new()
                }
            },
            Overlay::Picker(mut p) => {
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
            Overlay::Search(mut area) => {
                match (action, key.code) {
                    (Some(Action::Back), _) => return Vec::new(),
                    (_, KeyCode::Enter) => {
                        let query = area.lines().join(" ").trim().to_owned();
                        if let Screen::Detail(d) = &mut self.screen {
                            d.search = (!query.is_empty()).then_some(query);
                        }
                        return self.find(true);
                    }
                    _ => {
                        area.input(key);
                    }
                }
                self.overlay = Some(Overlay::Search(area));
                Vec::new()
            }
            Overlay::Replan {
                changes,
                command,
                text,
                scroll,
            } => match action {
                Some(Action::Yes) => {
                    let intents = vec![Intent::Command {
                        command: command.clone(),
                        origin: Origin::Editor,
                    }];
                    self.overlay = Some(Overlay::Replan {
                        changes,
                        command,
                        text,
                        scroll,
                    });
                    intents
                }
                Some(Action::No | Action::Back) => self.open_editor(EditorKind::Replan, &text),
                _ => {
                    self.overlay = Some(Overlay::Replan {
                        changes,
                        command,
                        text,
                        scroll,
                    });
                    Vec::new()
                }
            },
            Overlay::Editor(mut ed) => match action {
                Some(Action::Back) => Vec::new(),
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

    fn save_editor(&mut self, mut ed: Editor) -> Vec<Intent> {
        let text = ed.area.lines().join("\n");
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
                Ok((changes, command)) => {
                    self.overlay = Some(Overlay::Replan {
                        changes,
                        command,
                        text,
                        scroll: 0,
                    });
                    return Vec::new();
                }
                Err(e) => Err(e),
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

/// Actions that need a selected task.
fn is_task_action(action: Action) -> bool {
    matches!(
        action,
        Action::Pause
            | Action::Reassign
            | Action::Edit
            | Action::Drop
            | Action::Retry
            | Action::Approve
            | Action::RequestChanges
            | Action::Reject
            | Action::Update
            | Action::Resolve
            | Action::ResolveShell
            | Action::Budget
    )
}
