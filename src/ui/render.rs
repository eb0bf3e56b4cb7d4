//! Drawing: a pure function of the app's state.

use ratatui::Frame;

use super::app::{App, Overlay, Screen};
use super::views::{
    board, compare, context, detail, dialogs, help, messages, plan_diff, supervisor,
};

pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    match &app.screen {
        Screen::Board => board::render(frame, area, app),
        Screen::Detail(d) => detail::render(frame, area, app, d),
        Screen::Supervisor(v) => supervisor::render(frame, area, app, v),
        Screen::Messages(v) => messages::render(frame, area, app, v),
        Screen::Context(v) => context::render(frame, area, app, v),
        Screen::Compare(v) => compare::render(frame, area, app, v),
    }
    match &app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => {
            help::render(frame, area, &app.keymap, &app.theme, *scroll)
        }
        Some(Overlay::Confirm { question, .. }) => dialogs::confirm(frame, area, app, question),
        Some(Overlay::Editor(ed)) => dialogs::editor(frame, area, app, ed),
        Some(Overlay::Picker(p)) => dialogs::picker(frame, area, app, p),
        Some(Overlay::KindPicker(p)) => context::kind_picker(frame, area, app, p),
        Some(Overlay::FanOut(p)) => compare::fanout_picker(frame, area, app, p),
        Some(Overlay::PlanDiff(view)) => plan_diff::render(frame, area, app, view),
        Some(Overlay::Search(input)) => dialogs::search(frame, area, app, input),
        Some(Overlay::Discard(ed)) => {
            dialogs::editor(frame, area, app, ed);
            dialogs::confirm(
                frame,
                area,
                app,
                "Discard this draft? (it can be restored once, by opening this editor again)",
            );
        }
        Some(Overlay::Restore { draft, .. }) => {
            dialogs::editor(frame, area, app, draft);
            dialogs::confirm(
                frame,
                area,
                app,
                "Restore the discarded draft? (no starts from the current values)",
            );
        }
    }
}
