//! The cockpi.is_some_and(|l| l.task == d.task && l.status == status);et Some(status) = self.model.task(d.task.as_str()).map(|t| t.status.clone()) else {'s state: the read model plus what the user is looking at.
//!
//! Keys and mouse events come in ([`App::handle_key`], [`App::handle_mouse`])
//! and go out as [`Intent`]s (engine commands, background loads, quit); the
//! app never talks to the engine or the terminal itself, so all of it is
//! tested without either.

mod forms;
mod keys;
mod mouse;
mod panes;
mod update;

use std::time::Duration;

use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

pub use forms::task_toml;
pub use panes::compare::{CompareView, FanOutPicker};
pub use panes::context::{ContextView, KindPicker, parse_context, scope_text};
pub use panes::messages::MessagesView;
pub use panes::plan_diff::{
    ChangeKey, PlanSource, PlanTab, PlanView, change_key, hints as plan_hints,
};
pub use panes::supervisor::SupervisorView;

use super::keymap::{Context, Keymap};
use super::model::{LinesRequest, Model, SearchRequest};
use super::theme::Theme;
use crate::core::{Column, Command, CommandError, Task, TaskId};
use crate::runtime::Notification;

/// Something the app wants done outside itself.
// `Command` grew past clippy's size limit with the team layer's TaskSpec
// fields (at 120e84b already); a few intents per key, so no box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Send a command to the engine; its result comes back through [`App::command_done`].
    Command { command: Command, origin: Origin },
    /// Compute the diff of a task's branch.
    LoadDiff(TaskId),
    /// Read an attempt's transcript file (an attempt that ran before the cockpit watched).
    LoadTranscript {
        task: TaskId,
        attempt: u32,
        rel: String,
    },
    /// Read lines of a transcript that are not in memory (the user scrolled
    /// above its tail); answered by [`crate::ui::run::UiMsg::LinesLoaded`].
    LoadLines(LinesRequest),
    /// Search the part of a transcript that is only in its file; answered
    /// by [`crate::ui::run::UiMsg::Searched`].
    SearchTranscript(SearchRequest),
    /// Leave the screen, open `$EDITOR` on the conflicting `files` of
    /// `task` (or a shell in its worktree), come back and send
    /// `Command::Resolved` (see [`crate::ui::suspend`]).
    EditConflicts {
        task: TaskId,
        files: Vec<String>,
        shell: bool,
    },
    /// Stop the engine and leave.
    Quit,
}

/// Where a command came from, so its result can go back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A key on the board or in the detail view: errors become a toast.
    Key,
    /// An editor: it stays open on error (showing it) and closes on success.
    Editor,
}

/// The main screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    Board,
    Detail(Detail),
    /// The supervisor pane.
    Supervisor(SupervisorView),
    /// The agents' messages.
    Messages(MessagesView),
    /// The shared context store.
    Context(ContextView),
    /// A fan-out task's candidates side by side.
    Compare(CompareView),
}

/// The tabs of the task detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Transcript,
    Diff,
    Info,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Transcript, Tab::Diff, Tab::Info];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Transcript => "Transcript",
            Tab::Diff => "Diff",
            Tab::Info => "Info",
        }
    }
}

/// The task detail's view state.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub task: TaskId,
    pub tab: Tab,
    /// Which attempt's transcript is shown (None: the latest).
    pub attempt: Option<u32>,
    /// Top line of the transcript when the user scrolled; None follows new output.
    pub scroll: Option<usize>,
    /// The search and the line of the current match.
    pub search: Option<String>,
    pub info_scroll: usize,
}

/// Board navigation: the focused column and the selected card in each.
///
/// The selection sticks to its task: cards move as statuses change, and a
/// key must act on the task the user chose, not on whatever slid into its
/// place. `selected` is the fallback position when the task left the column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Board {
    pub column: usize,
    pub selected: [usize; 4],
    pub pinned: [Option<TaskId>; 4],
}

/// Something drawn over the main screen that takes the keys.
#[derive(Debug)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    Confirm {
        question: String,
        yes: Vec<Intent>,
    },
    Editor(Editor),
    Picker(Picker),
    /// A plan diff to confirm: a supervisor's proposal or the user's replan.
    PlanDiff(Box<PlanView>),
    /// The transcript search input.
    Search(TextArea<'static>),
    /// Esc or ctrl-c in an editor with unsaved text: discard it? (y/n)
    Discard(Editor),
    /// The kind of a new context entry (then its editor).
    KindPicker(KindPicker),
    /// The profiles to fan a queued task out to.
    FanOut(FanOutPicker),
    /// Opening the kind of editor whose draft was discarded: restore the
    /// draft (y) or start from `fresh` (n).
    Restore {
        draft: Box<Editor>,
        fresh: Box<Editor>,
    },
}

/// What an editor edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorKind {
    Feedback(TaskId),
    Task(TaskId),
    NewTask,
    Replan,
    /// A task's budget, or the fleet's (None).
    Budget(Option<TaskId>),
    /// A goal for the supervisor to plan.
    Goal,
    /// Feedback on proposal N, for the supervisor's next round.
    ProposalFeedback(u64),
    /// A context entry of `kind`: a new one, or entry `id` edited.
    Context {
        kind: crate::core::team::ContextKind,
        id: Option<u64>,
    },
}

/// A text editor with a validation error shown in place.
#[derive(Debug)]
pub struct Editor {
    pub kind: EditorKind,
    pub area: TextArea<'static>,
    pub error: Option<String>,
    /// True while its command is with the engine.
    pub pending: bool,
    /// The text it opened with: anything else is an unsaved draft.
    pub initial: String,
}

impl Editor {
    /// The text as edited.
    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// True when closing it would lose text the user wrote.
    pub fn unsaved(&self) -> bool {
        self.text().trim_end() != self.initial.trim_end()
    }
}

/// The agent picker for a reassignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub task: TaskId,
    pub agents: Vec<String>,
    pub selected: usize,
}

/// A one-line message in the footer until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
}

/// Below this width the board shows one column at a time.
pub const NARROW: u16 = 100;

pub struct App {
    pub model: Model,
    pub keymap: Keymap,
    pub theme: Theme,
    pub screen: Screen,
    pub board: Board,
    pub overlay: Option<Overlay>,
    pub toast: Option<Toast>,
    /// Terminal size, updated on resize.
    pub size: (u16, u16),
    /// Unix milliseconds at the last draw request (elapsed times are drawn from it).
    pub now_ms: i64,
    pub mouse: bool,
    /// The diff shown in the detail view, with the revision it was loaded at.
    pub diff: Option<LoadedDiff>,
    /// Transcript files asked for and not yet installed.
    pub requested: std::collections::HashSet<(TaskId, u32)>,
    pub quitting: bool,
    /// The task the user last approved with a key: when its card moves to
    /// another column (Merging, Done), the selection follows it, so a
    /// second `a` never lands on a card the user has not looked at.
    pub acted: Option<TaskId>,
    /// The last draft the user discarded, offered back (once) when the
    /// same kind of editor opens again.
    pub discarded: Option<Editor>,
    /// The transcript line the last search step landed on (see
    /// [`App::current_match`]).
    pub search_hit: Option<usize>,
}

/// A task's diff as loaded, and where the viewer stands in it.
pub struct LoadedDiff {
    pub task: TaskId,
    pub result: Result<crate::ui::diff::DiffModel, String>,
    pub view: crate::ui::views::diff::DiffView,
    /// The task's status when loaded, with its data: a later change
    /// reloads it (an update conflict resolved in review changes the block
    /// and the attempt, not the status's name).
    pub status: crate::core::Status,
}

impl App {
    pub fn new(model: Model, keymap: Keymap, theme: Theme) -> App {
        App {
            model,
            keymap,
            theme,
            screen: Screen::Board,
            board: Board::default(),
            overlay: None,
            toast: None,
            size: (80, 24),
            now_ms: crate::store::now_ms(),
            mouse: true,
            diff: None,
            requested: Default::default(),
            quitting: false,
            acted: None,
            discarded: None,
            search_hit: None,
        }
    }

    /// The whole terminal area.
    pub fn area(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    pub fn narrow(&self) -> bool {
        self.size.0 < NARROW
    }

    /// The tasks of a board column, in plan order.
    pub fn column_tasks(&self, column: Column) -> Vec<&Task> {
        self.model
            .fleet
            .tasks()
            .iter()
            .filter(|t| t.status.column() == column)
            .collect()
    }

    /// The task under the cursor: the selected card, or the one in detail.
    pub fn selected_task(&self) -> Option<&Task> {
        match &self.screen {
            Screen::Detail(d) => self.model.task(d.task.as_str()),
            Screen::Board => {
                let tasks = self.column_tasks(COLUMNS[self.board.column]);
                tasks.get(self.selected_index(self.board.column)).copied()
            }
            Screen::Supervisor(_)
            | Screen::Messages(_)
            | Screen::Context(_)
            | Screen::Compare(_) => None,
        }
    }

    /// The index of the selected card in column `col`: where its task is
    /// now, or the remembered position when that task left the column.
    pub fn selected_index(&self, col: usize) -> usize {
        let tasks = self.column_tasks(COLUMNS[col]);
        let pinned = self.board.pinned[col]
            .as_ref()
            .and_then(|id| tasks.iter().position(|t| t.id() == id));
        pinned
            .unwrap_or(self.board.selected[col])
            .min(tasks.len().saturating_sub(1))
    }

    /// Selects card `index` of column `col` (clamped), pinning its task.
    pub fn select(&mut self, col: usize, index: usize) {
        let tasks = self.column_tasks(COLUMNS[col]);
        let index = index.min(tasks.len().saturating_sub(1));
        let id = tasks.get(index).map(|t| t.id().clone());
        self.board.selected[col] = index;
        self.board.pinned[col] = id;
    }

    /// The key context of what has the focus.
    pub fn context(&self) -> Context {
        match (&self.overlay, &self.screen) {
            (Some(Overlay::Editor(_) | Overlay::Search(_)), _) => Context::Editor,
            (Some(Overlay::Confirm { .. } | Overlay::Discard(_) | Overlay::Restore { .. }), _) => {
                Context::Confirm
            }
            (Some(Overlay::PlanDiff(_)), _) => Context::Plan,
            (
                Some(
                    Overlay::Help { .. }
                    | Overlay::Picker(_)
                    | Overlay::KindPicker(_)
                    | Overlay::FanOut(_),
                ),
                _,
            ) => Context::Board,
            (None, _) => self.screen_context(),
        }
    }

    /// The key context of the screen under any overlay (its footer's).
    pub fn screen_context(&self) -> Context {
        match &self.screen {
            Screen::Board => Context::Board,
            Screen::Detail(d) => match d.tab {
                Tab::Transcript => Context::Transcript,
                Tab::Diff => Context::Diff,
                Tab::Info => Context::Info,
            },
            Screen::Supervisor(_) => Context::Supervisor,
            Screen::Messages(_) => Context::Messages,
            Screen::Context(_) => Context::ContextPane,
            Screen::Compare(_) => Context::Compare,
        }
    }

    /// Applies an engine notification; true when the screen must be redrawn.
    /// The selection seen before the change stays on its task.
    pub fn apply(&mut self, n: Notification) -> bool {
        if !matches!(n, Notification::Task { .. }) {
            let proposed = matches!(
                &n,
                Notification::Event {
                    event: crate::core::Event::Proposed { .. },
                    ..
                }
            );
            // A consultation that ends without a proposal to look at says how.
            let ended = match &n {
                Notification::Event {
                    event:
                        crate::core::Event::ConsultEnded {
                            message,
                            proposal: None,
                            failed,
                            ..
                        },
                    ..
                } => Some((crate::sanitize::sanitize(message).into_owned(), *failed)),
                _ => None,
            };
            let changed = self.model.apply(n); // only task changes move cards
            if proposed {
                self.proposal_arrived();
            }
            if let Some((message, error)) = ended {
                self.toast = Some(Toast {
                    text: format!("{message} (S: the supervisor pane)"),
                    error,
                });
            }
            self.refresh_plan();
            return changed;
        }
        // The card the focused column shows selected, before the change.
        let focused = self
            .column_tasks(COLUMNS[self.board.column])
            .get(self.selected_index(self.board.column))
            .map(|t| t.id().clone());
        let seen: Vec<Option<TaskId>> = (0..COLUMNS.len())
            .map(|col| match &self.board.pinned[col] {
                Some(id) => Some(id.clone()),
                None => self
                    .column_tasks(COLUMNS[col])
                    .get(self.selected_index(col))
                    .map(|t| t.id().clone()),
            })
            .collect();
        let changed = self.model.apply(n);
        for (col, pinned) in seen.into_iter().enumerate() {
            let position = pinned.as_ref().and_then(|id| {
                self.column_tasks(COLUMNS[col])
                    .iter()
                    .position(|t| t.id() == id)
            });
            if let Some(i) = position {
                self.board.selected[col] = i;
            }
            self.board.pinned[col] = pinned;
        }
        self.follow_acted(focused.as_ref());
        self.refresh_plan();
        changed
    }

    /// A new proposal opens its plan diff, unless the user is busy in an
    /// editor, a question or another plan diff: then the header says it
    /// waits (and `Y` shows it).
    fn proposal_arrived(&mut self) {
        if matches!(self.overlay, None | Some(Overlay::Help { .. })) {
            self.show_proposal();
        }
    }

    /// When the task the user acted on left the focused column, the focus
    /// goes with it to its new column (see [`App::acted`]); only when it
    /// was the card selected there (`focused`) before the change.
    fn follow_acted(&mut self, focused: Option<&TaskId>) {
        let col = self.board.column;
        let Some(id) = self.acted.clone() else {
            return;
        };
        if focused != Some(&id) {
            return;
        }
        let Some(task) = self.model.task(id.as_str()) else {
            return;
        };
        let Some(to) = COLUMNS.iter().position(|c| *c == task.status.column()) else {
            return;
        };
        if to == col {
            return;
        }
        let Some(index) = self
            .column_tasks(COLUMNS[to])
            .iter()
            .position(|t| t.id() == &id)
        else {
            return;
        };
        self.board.column = to;
        self.select(to, index);
    }

    /// What follows from the model's current state: a diff to (re)load for
    /// the detail's diff tab, a transcript to read from its file.
    pub fn pending_loads(&mut self) -> Vec<Intent> {
        let Screen::Detail(d) = &self.screen else {
            return Vec::new();
        };
        let d = d.clone();
        let Some(status) = self.model.task(d.task.as_str()).map(|t| t.status.clone()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if d.tab == Tab::Diff {
            let fresh = self
                .diff
                .as_ref()
                .is_some_and(|l| l.task == d.task && l.status == status);
            if !fresh {
                self.diff = Some(LoadedDiff {
                    task: d.task.clone(),
                    result: Err("loading the diff…".into()),
                    view: Default::default(),
                    status,
                });
                out.push(Intent::LoadDiff(d.task.clone()));
            }
        }
        if let Some(a) = self.shown_attempt(&d) {
            let key = (d.task.clone(), a.n);
            if !self.model.complete.contains(&key) && !self.requested.contains(&key) {
                out.push(Intent::LoadTranscript {
                    task: d.task.clone(),
                    attempt: a.n,
                    rel: a.transcript.clone(),
                });
                self.requested.insert(key);
            }
        }
        out.extend(self.transcript_loads());
        out
    }

    /// The attempt whose transcript the detail shows.
    pub fn shown_attempt<'a>(&'a self, d: &Detail) -> Option<&'a crate::ui::model::AttemptInfo> {
        let attempts = self.model.attempts_of(&d.task);
        match d.attempt {
            Some(n) => attempts.iter().find(|a| a.n == n),
            None => attempts.last(),
        }
    }

    /// A command finished in the engine.
    pub fn command_done(&mut self, what: String, origin: Origin, result: Result<(), CommandError>) {
        match (origin, result) {
            (Origin::Editor, Ok(())) => {
                if matches!(self.overlay, Some(Overlay::Editor(_)))
                    || matches!(&self.overlay, Some(Overlay::PlanDiff(v)) if v.pending)
                {
                    self.overlay = None;
                }
                self.toast = Some(Toast {
                    text: format!("{what}: done"),
                    error: false,
                });
            }
            (Origin::Editor, Err(e)) => match self.overlay.take() {
                Some(Overlay::Editor(mut ed)) => {
                    ed.pending = false;
                    ed.error = Some(e.to_string());
                    self.overlay = Some(Overlay::Editor(ed));
                }
                // A plan diff the engine refused stays open, with the reason.
                Some(Overlay::PlanDiff(mut view)) => {
                    view.pending = false;
                    view.error = Some(e.to_string());
                    self.overlay = Some(Overlay::PlanDiff(view));
                }
                other => {
                    self.overlay = other;
                    self.toast = Some(Toast {
                        text: format!("{what}: {e}"),
                        error: true,
                    });
                }
            },
            (Origin::Key, Ok(())) => {}
            (Origin::Key, Err(e)) => {
                self.toast = Some(Toast {
                    text: format!("{what}: {e}"),
                    error: true,
                })
            }
        }
    }

    /// Whether elapsed times on screen are ticking (an agent runs or a gate
    /// verifies): the loop
    /// then redraws once a second, and never otherwise.
    pub fn needs_tick(&self) -> bool {
        let tasks = self.model.fleet.tasks();
        tasks
            .iter()
            .any(|t| crate::ui::views::board::ticks(&t.status))
    }

    /// The interval of that tick.
    pub const TICK: Duration = Duration::from_secs(1);
}

/// The board columns in display order.
pub const COLUMNS: [Column; 4] = [
    Column::Queued,
    Column::Running,
    Column::Review,
    Column::Done,
];

#[cfg(test)]
mod tests;
