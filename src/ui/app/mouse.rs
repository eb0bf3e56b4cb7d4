//! The mouse: click a card to select it (again to open it), click a tab,
//! scroll the pane under the pointer.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::{App, COLUMNS, Intent, Screen, Tab};
use crate::ui::keymap::Action;
use crate::ui::layout::{self, CARD_HEIGHT};

/// Lines a wheel step scrolls.
const WHEEL: usize = 3;

impl App {
    pub fn handle_mouse(&mut self, ev: MouseEvent) -> Vec<Intent> {
        if !self.mouse || self.overlay.is_some() {
            return Vec::new();
        }
        let pos = Position::new(ev.column, ev.row);
        match self.screen {
            Screen::Board => self.board_mouse(ev.kind, pos),
            Screen::Detail(_) => self.detail_mouse(ev.kind, pos),
            // The wheel scrolls its transcript, like page keys do.
            // The wheel moves the selection of the team panes.
            Screen::Messages(_) | Screen::Context(_) => {
                let action = match ev.kind {
                    MouseEventKind::ScrollUp => crate::ui::keymap::Action::Up,
                    MouseEventKind::ScrollDown => crate::ui::keymap::Action::Down,
                    _ => return Vec::new(),
                };
                let handled = match self.screen {
                    Screen::Messages(_) => super::panes::messages::handle(self, action),
                    _ => super::panes::context::handle(self, action),
                };
                handled.unwrap_or_default()
            }
            Screen::Compare(_) => Vec::new(),
            Screen::Supervisor(_) => match ev.kind {
                MouseEventKind::ScrollUp => self.keyless(crate::ui::keymap::Action::PageUp),
                MouseEventKind::ScrollDown => self.keyless(crate::ui::keymap::Action::PageDown),
                _ => Vec::new(),
            },
        }
    }

    /// An action as if its key was pressed on the supervisor pane.
    fn keyless(&mut self, action: crate::ui::keymap::Action) -> Vec<Intent> {
        super::panes::supervisor::handle(self, action).unwrap_or_default()
    }

    fn board_mouse(&mut self, kind: MouseEventKind, pos: Position) -> Vec<Intent> {
        let l = layout::board(self.area(), self.board.column);
        if let (MouseEventKind::Down(MouseButton::Left), Some(tabs)) = (kind, l.tabs)
            && tabs.contains(pos)
        {
            let w = (tabs.width / 4).max(1);
            self.board.column = ((pos.x - tabs.x) / w).min(3) as usize;
            return Vec::new();
        }
        let Some((col, rect)) = l
            .columns
            .iter()
            .enumerate()
            .find_map(|(i, c)| c.filter(|r| r.contains(pos)).map(|r| (i, r)))
        else {
            return Vec::new();
        };
        let len = self.column_tasks(COLUMNS[col]).len();
        match kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let inner = layout::column_inner(rect);
                if !inner.contains(pos) {
                    self.board.column = col;
                    return Vec::new();
                }
                let visible = (inner.height / CARD_HEIGHT).max(1) as usize;
                let first = layout::first_card(self.selected_index(col), visible);
                let index = first + ((pos.y - inner.y) / CARD_HEIGHT) as usize;
                if index >= len {
                    self.board.column = col;
                    return Vec::new();
                }
                let again = self.board.column == col && self.selected_index(col) == index;
                self.board.column = col;
                self.select(col, index);
                if again {
                    return self.open_detail();
                }
            }
            MouseEventKind::ScrollDown => {
                self.board.column = col;
                self.select(
                    col,
                    (self.selected_index(col) + 1).min(len.saturating_sub(1)),
                );
            }
            MouseEventKind::ScrollUp => {
                self.board.column = col;
                self.select(col, self.selected_index(col).saturating_sub(1));
            }
            _ => {}
        }
        Vec::new()
    }

    fn detail_mouse(&mut self, kind: MouseEventKind, pos: Position) -> Vec<Intent> {
        let l = layout::detail(self.area());
        match kind {
            MouseEventKind::Down(MouseButton::Left) if l.tabs.contains(pos) => {
                let i = ((pos.x - l.tabs.x) / layout::DETAIL_TAB_WIDTH) as usize;
                if let (Some(tab), Screen::Detail(d)) = (Tab::ALL.get(i), &mut self.screen) {
                    d.tab = *tab;
                    return self.pending_loads();
                }
                Vec::new()
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown if l.body.contains(pos) => {
                let action = if kind == MouseEventKind::ScrollUp {
                    Action::Up
                } else {
                    Action::Down
                };
                (0..WHEEL)
                    .flat_map(|_| self.detail_action(action).unwrap_or_default())
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}
