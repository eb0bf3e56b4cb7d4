//! TEMPORARY STUB (not committed).
use crate::ui::{diff::DiffModel, theme::Theme};
use ratatui::{Frame, layout::Rect};
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFocus {
    Files,
    #[default]
    Diff,
}
#[derive(Debug, Clone, Default)]
pub struct DiffView {
    pub split: bool,
    pub scroll: usize,
    pub focus: DiffFocus,
    pub selected_file: usize,
    pub height: usize,
}
impl DiffView {
    pub fn scroll_by(&mut self, _: &DiffModel, _: i64) {}
    pub fn page(&mut self, _: &DiffModel, _: i64) {}
    pub fn top(&mut self, _: &DiffModel) {}
    pub fn bottom(&mut self, _: &DiffModel) {}
    pub fn next_hunk(&mut self, _: &DiffModel) {}
    pub fn prev_hunk(&mut self, _: &DiffModel) {}
    pub fn next_file(&mut self, _: &DiffModel) {}
    pub fn prev_file(&mut self, _: &DiffModel) {}
    pub fn toggle_split(&mut self, _: &DiffModel) {}
}
pub fn render(_: &mut Frame, _: Rect, _: &DiffModel, _: &DiffView, _: &Theme) {}
