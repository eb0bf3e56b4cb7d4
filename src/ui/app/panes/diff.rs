//! The Diff tab's keys: the loaded diff's [`DiffView::handle`] does the
//! work; this pane gives it the viewport and lists its hints.
//!
//! [`DiffView::handle`]: crate::ui::views::diff::DiffView::handle

use super::{Handled, Hint};
use crate::ui::app::App;
use crate::ui::keymap::Action;
use crate::ui::layout;

/// Carries out a Diff-context action; None when it is not one of the view's
/// (or no diff is loaded).
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let height = crate::ui::views::diff::viewport_height(layout::detail_body(app.area()));
    let loaded = app.diff.as_mut()?;
    let Ok(model) = &loaded.result else {
        return None;
    };
    loaded.view.height = height;
    loaded.view.handle(action, model).then(Vec::new)
}

/// The pane's footer hints.
pub(in crate::ui::app) fn hints() -> Vec<Hint> {
    vec![
        (Action::NextHunk, "hunk"),
        (Action::NextFile, "file"),
        (Action::ToggleSplit, "split"),
        (Action::ScrollRight, "scroll →"),
    ]
}
