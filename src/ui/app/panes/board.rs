//! The board's keys: moving between columns and cards, opening a task.
//! The view is `src/ui/views/board.rs`.

use super::{Handled, Hint};
use crate::ui::app::{App, COLUMNS};
use crate::ui::keymap::Action;
use crate::ui::layout;

/// Carries out a Board-context action; None when it is not one of the board's.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let col = app.board.column;
    let len = app.column_tasks(COLUMNS[col]).len();
    let sel = app.selected_index(col);
    let page = layout::cards_per_page(app.size);
    match action {
        Action::Up => app.select(col, sel.saturating_sub(1)),
        Action::Down => app.select(col, (sel + 1).min(len.saturating_sub(1))),
        Action::PageUp => app.select(col, sel.saturating_sub(page)),
        Action::PageDown => app.select(col, sel + page),
        Action::Top => app.select(col, 0),
        Action::Bottom => app.select(col, len.saturating_sub(1)),
        Action::Left | Action::PrevTab => app.board.column = col.saturating_sub(1),
        Action::Right | Action::NextTab => app.board.column = (col + 1).min(COLUMNS.len() - 1),
        Action::Open => return Some(app.open_detail()),
        _ => return None,
    }
    super::done()
}

/// The board's own hints (before the selected task's).
pub(in crate::ui::app) fn hints() -> Vec<Hint> {
    vec![(Action::Open, "open")]
}

/// The fleet-wide hints the board shows after the task's.
pub(in crate::ui::app) fn fleet_hints() -> Vec<Hint> {
    vec![
        (Action::NewTask, "new"),
        (Action::Replan, "replan"),
        (Action::PauseFleet, "fleet"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ]
}
