//! The Diff tab's keys: the loaded diff's [`DiffView::handle`] does the
//! work; this pane gives it the viewport and lists its hints.
//!
//! [`DiffView::handle`]: crate::ui::views::diff::DiffView::handle

use super::{Handled, Hint};
use crate::ui::app::App;
use crate::ui::keymap::Action;
use crate::ui::layout;
use crate::ui::views::review::{Notes, box_height};

/// Carries out a Diff-context action; None when it is not one of the view's
/// (or no diff is loaded).
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    let mut body = layout::detail_body(app.area());
    let review = app
        .diff
        .as_ref()
        .and_then(|l| app.model.task(l.task.as_str()))
        .and_then(|t| t.review.clone());
    let loaded = app.diff.as_mut()?;
    let Ok(model) = &loaded.result else {
        return None;
    };
    let notes = review
        .as_ref()
        .map(|r| (r, Notes::place(model, loaded.view.split, r)));
    // The verdict box takes rows above the diff (as drawn).
    if let Some((r, n)) = &notes {
        let h = box_height(r, n.elsewhere.len(), body.height);
        body.y += h;
        body.height -= h;
    }
    loaded.view.height = crate::ui::views::diff::viewport_height(body);
    if let Action::NextComment | Action::PrevComment = action {
        let rows = notes.map(|(_, n)| n.rows()).unwrap_or_default();
        let at = loaded.view.scroll;
        let to = if action == Action::NextComment {
            rows.into_iter().find(|r| *r > at)
        } else {
            rows.into_iter().rev().find(|r| *r < at)
        };
        if let Some(row) = to {
            loaded.view.scroll = row;
        }
        return super::done();
    }
    loaded.view.handle(action, model).then(Vec::new)
}

/// The pane's footer hints.
pub(in crate::ui::app) fn hints() -> Vec<Hint> {
    vec![
        (Action::NextHunk, "hunk"),
        (Action::NextFile, "file"),
        (Action::ToggleSplit, "split"),
        (Action::ScrollRight, "scroll →"),
        (Action::NextComment, "comment"),
    ]
}
