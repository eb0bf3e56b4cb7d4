//! The diff view: a task's changes reviewed by keyboard, unified or side by
//! side, with a file list at 100 columns and wider.
//!
//! [`DiffView`] is the view's state (scroll position, layout, focus); its
//! navigation methods take the [`DiffModel`] they move over. [`render`] is
//! a pure function of the model and the view: it clamps the scroll position
//! on the fly and never writes back.
//!
//! The app must set [`DiffView::height`] to [`viewport_height`] of the area
//! it renders into before handling keys, so paging and clamping match the
//! screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use crate::ui::diff::{DiffModel, display_line, draw_file_list};
use crate::ui::keymap::Action;
use crate::ui::theme::Theme;

/// From this width on, the file list is shown left of the diff.
pub const WIDE: u16 = 100;

/// Which pane the keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFocus {
    /// The file list: Up/Down select the previous/next file.
    Files,
    /// The diff: Up/Down scroll by a row.
    #[default]
    Diff,
}

/// The diff view's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffView {
    /// Side by side when true, unified when false.
    pub split: bool,
    /// The row (of the current layout) at the top of the viewport.
    pub scroll: usize,
    pub focus: DiffFocus,
    /// The file highlighted in the list: the one last jumped to while it is
    /// on screen, otherwise the one holding the top row.
    pub selected_file: usize,
    /// Rows of the diff viewport as last drawn ([`viewport_height`]); the
    /// app sets it before handling keys.
    pub height: usize,
    /// Columns of every line scrolled off to the left (`<` and `>`).
    pub left: usize,
}

/// Columns one `<` or `>` scrolls.
pub const SCROLL_STEP: usize = 8;

/// The farthest a diff scrolls to the right.
const MAX_LEFT: usize = 4096;

/// Rows of diff visible when the view is rendered into `area` (the pane
/// height inside its borders).
pub fn viewport_height(area: Rect) -> usize {
    area.height.saturating_sub(2) as usize
}

/// The largest useful top row: the last row at the bottom of the viewport.
fn max_scroll(model: &DiffModel, split: bool, height: usize) -> usize {
    model.layout(split).len().saturating_sub(height.max(1))
}

/// The file to highlight: `selected` while any of its rows is visible with
/// `top` at the top, otherwise the file holding the top row.
fn highlighted(
    model: &DiffModel,
    split: bool,
    top: usize,
    height: usize,
    selected: usize,
) -> usize {
    let layout = model.layout(split);
    let bottom = top.saturating_add(height.max(1));
    match layout.file_span(selected) {
        Some(span) if span.start < bottom && span.end > top => selected,
        _ => layout.file_at(top).unwrap_or(0),
    }
}

impl DiffView {
    /// A unified view at the top with the diff focused.
    pub fn new() -> DiffView {
        DiffView::default()
    }

    /// The row at the top of the viewport: the scroll position clamped to
    /// the document.
    pub fn first_row(&self, model: &DiffModel) -> usize {
        self.scroll.min(max_scroll(model, self.split, self.height))
    }

    /// The file the view is on (the one highlighted in the list); `None`
    /// when nothing changed.
    pub fn current_file(&self, model: &DiffModel) -> Option<usize> {
        if model.is_empty() {
            return None;
        }
        Some(highlighted(
            model,
            self.split,
            self.first_row(model),
            self.height,
            self.selected_file,
        ))
    }

    /// Moves the top row to `row` (clamped) and updates the selected file.
    fn scroll_to(&mut self, model: &DiffModel, row: usize) {
        self.scroll = row.min(max_scroll(model, self.split, self.height));
        self.selected_file = highlighted(
            model,
            self.split,
            self.scroll,
            self.height,
            self.selected_file,
        );
    }

    /// Scrolls by `delta` rows (negative: up), stopping at either end.
    pub fn scroll_by(&mut self, model: &DiffModel, delta: i64) {
        let top = self.first_row(model);
        let magnitude = usize::try_from(delta.unsigned_abs()).unwrap_or(usize::MAX);
        let row = if delta < 0 {
            top.saturating_sub(magnitude)
        } else {
            top.saturating_add(magnitude)
        };
        self.scroll_to(model, row);
    }

    /// Scrolls by `pages` viewports (negative: up), keeping one row of
    /// overlap.
    pub fn page(&mut self, model: &DiffModel, pages: i64) {
        let step = i64::try_from(self.height.saturating_sub(1).max(1)).unwrap_or(i64::MAX);
        self.scroll_by(model, pages.saturating_mul(step));
    }

    /// Goes to the first row.
    pub fn top(&mut self, model: &DiffModel) {
        self.selected_file = 0;
        self.scroll_to(model, 0);
    }

    /// Goes to the last page, selecting the last file.
    pub fn bottom(&mut self, model: &DiffModel) {
        self.selected_file = model.files().len().saturating_sub(1);
        self.scroll_to(model, usize::MAX);
    }

    /// Brings the next hunk header below the top row to the top (as far as
    /// the end of the document allows) and selects its file.
    pub fn next_hunk(&mut self, model: &DiffModel) {
        let layout = model.layout(self.split);
        if let Some(row) = layout.next_hunk_row(self.first_row(model)) {
            self.jump(model, row);
        }
    }

    /// Brings the last hunk header above the top row to the top.
    pub fn prev_hunk(&mut self, model: &DiffModel) {
        let layout = model.layout(self.split);
        if let Some(row) = layout.prev_hunk_row(self.first_row(model)) {
            self.jump(model, row);
        }
    }

    /// Scrolls to `row` and selects the file it belongs to.
    fn jump(&mut self, model: &DiffModel, row: usize) {
        if let Some(file) = model.layout(self.split).file_at(row) {
            self.selected_file = file;
        }
        self.scroll_to(model, row);
    }

    /// Goes to the header of the file after the current one.
    pub fn next_file(&mut self, model: &DiffModel) {
        if let Some(current) = self.current_file(model) {
            self.select_file(model, current.saturating_add(1));
        }
    }

    /// Goes to the header of the current file when it is scrolled past,
    /// otherwise to the previous file's header.
    pub fn prev_file(&mut self, model: &DiffModel) {
        let Some(current) = self.current_file(model) else {
            return;
        };
        let layout = model.layout(self.split);
        let top = self.first_row(model);
        let inside = layout.file_row(current).is_some_and(|r| r < top)
            && layout.file_at(top) == Some(current);
        self.select_file(
            model,
            if inside {
                current
            } else {
                current.saturating_sub(1)
            },
        );
    }

    /// Selects file `index` (clamped to the last file) and brings its header
    /// to the top as far as the end of the document allows.
    pub fn select_file(&mut self, model: &DiffModel, index: usize) {
        let index = index.min(model.files().len().saturating_sub(1));
        self.selected_file = index;
        let row = model.layout(self.split).file_row(index).unwrap_or(0);
        self.scroll_to(model, row);
    }

    /// Switches between unified and side by side, keeping the same line (or
    /// header) at the top.
    pub fn toggle_split(&mut self, model: &DiffModel) {
        let row = model.map_row(self.first_row(model), self.split);
        self.split = !self.split;
        self.scroll = row.min(max_scroll(model, self.split, self.height));
    }

    /// Carries out a Diff-context action; false when it is not one this view
    /// handles (the caller then tries its own bindings).
    ///
    /// Left and Right move the focus to the file list and the diff. With the
    /// list focused, Up and Down select the previous and next file.
    pub fn handle(&mut self, action: Action, model: &DiffModel) -> bool {
        let files = self.focus == DiffFocus::Files;
        match action {
            Action::Up if files => {
                let current = self.current_file(model).unwrap_or(0);
                self.select_file(model, current.saturating_sub(1));
            }
            Action::Down if files => {
                let current = self.current_file(model).unwrap_or(0);
                self.select_file(model, current.saturating_add(1));
            }
            Action::Up => self.scroll_by(model, -1),
            Action::Down => self.scroll_by(model, 1),
            Action::PageUp => self.page(model, -1),
            Action::PageDown => self.page(model, 1),
            Action::Top => self.top(model),
            Action::Bottom => self.bottom(model),
            Action::Left => self.focus = DiffFocus::Files,
            Action::Right => self.focus = DiffFocus::Diff,
            Action::ToggleSplit => self.toggle_split(model),
            Action::NextHunk => self.next_hunk(model),
            Action::PrevHunk => self.prev_hunk(model),
            Action::NextFile => self.next_file(model),
            Action::PrevFile => self.prev_file(model),
            Action::ScrollLeft => self.left = self.left.saturating_sub(SCROLL_STEP),
            Action::ScrollRight => self.left = (self.left + SCROLL_STEP).min(MAX_LEFT),
            _ => return false,
        }
        true
    }
}

/// Draws the view into `area`: at [`WIDE`] columns and more, the file list
/// on the left and the diff on the right; narrower, the diff alone with the
/// current file named in its title. Pure: `view` is read, never changed.
pub fn render(frame: &mut Frame, area: Rect, model: &DiffModel, view: &DiffView, theme: &Theme) {
    render_reviewed(frame, area, model, view, theme, None);
}

/// [`render`] with the reviewer's verdict above the diff and its comments
/// under the lines they name (see [`super::review`]).
pub fn render_reviewed(
    frame: &mut Frame,
    area: Rect,
    model: &DiffModel,
    view: &DiffView,
    theme: &Theme,
    review: Option<&crate::core::team::ReviewVerdict>,
) {
    let buf = frame.buffer_mut();
    let mut area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let notes = review.map(|r| super::review::Notes::place(model, view.split, r));
    if let (Some(r), Some(n)) = (review, &notes) {
        let h = super::review::box_height(r, n.elsewhere.len(), area.height);
        super::review::verdict_box(buf, Rect { height: h, ..area }, r, n, theme);
        area.y += h;
        area.height -= h;
    }
    let notes = notes.unwrap_or_default();
    let wide = area.width >= WIDE;
    let (list_area, diff_area) = if wide {
        let list_w = (area.width / 4).clamp(24, 40);
        let list = Rect::new(area.x, area.y, list_w, area.height);
        let diff = Rect::new(area.x + list_w, area.y, area.width - list_w, area.height);
        (Some(list), diff)
    } else {
        (None, area)
    };
    let height = viewport_height(diff_area);
    let top = view.scroll.min(max_scroll(model, view.split, height));
    let current = highlighted(model, view.split, top, height, view.selected_file);
    let border = |focused: bool| {
        if focused {
            theme.border_focus
        } else {
            theme.border
        }
    };
    let files_focused = view.focus == DiffFocus::Files;
    let mode = if view.split {
        "side by side"
    } else {
        "unified"
    };

    if let Some(list_area) = list_area {
        let title = format!(" Files ({}) ", model.files().len());
        let block = Block::bordered()
            .border_style(border(files_focused))
            .title(Span::styled(title, theme.title));
        let inner = block.inner(list_area);
        block.render(list_area, buf);
        draw_file_list(buf, inner, model, current, theme);
    }

    let title = if wide {
        Line::from(Span::styled(format!(" Diff · {mode} "), theme.title))
    } else {
        narrow_title(model, current, files_focused, mode, diff_area.width, theme)
    };
    let block = Block::bordered()
        .border_style(border(!files_focused || !wide))
        .title(title);
    let inner = block.inner(diff_area);
    block.render(diff_area, buf);
    super::review::draw_with_notes(buf, inner, model, view.split, top, view.left, &notes, theme);
}

/// ` [2/5] src/lib.rs · unified `: the file index and name. While the
/// hidden file list has the focus, the name is drawn `◂ like this ▸` in the
/// `selected` style: Up and Down then change files.
fn narrow_title(
    model: &DiffModel,
    current: usize,
    files_focused: bool,
    mode: &str,
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let Some(file) = model.files().get(current) else {
        return Line::from(Span::styled(format!(" Diff · {mode} "), theme.title));
    };
    let name_style = if files_focused {
        theme.title.patch(theme.selected)
    } else {
        theme.title
    };
    let count = model.files().len();
    let path = display_line(&file.path, width as usize);
    let (open, close) = if files_focused {
        ("◂ ", " ▸")
    } else {
        ("", "")
    };
    Line::from(vec![
        Span::styled(format!(" [{}/{count}] ", current + 1), theme.title),
        Span::styled(format!("{open}{path}{close}"), name_style),
        Span::styled(format!(" · {mode} "), theme.title),
    ])
}
