//! The Transcript tab's keys: scrolling (following new output at the
//! bottom), search and its next/previous match. The view is
//! `src/ui/views/transcript.rs`.
//!
//! Keys for the attempt picker and folding tool results belong in
//! [`handle`] (one match arm each) and their hints in [`hints`].

use ratatui_textarea::TextArea;

use super::{Handled, Hint};
use crate::core::TaskId;
use crate::ui::app::{App, Intent, Overlay, Screen, Tab, Toast};
use crate::ui::keymap::Action;
use crate::ui::layout;
use crate::ui::model::Step;

/// Carries out a Transcript-context action; None when it is not one of the pane's.
pub(in crate::ui::app) fn handle(app: &mut App, action: Action) -> Handled {
    // Moving (over folded lines), attempts, folds, the verify section: the
    // view's own pane state (`views::transcript::Pane`).
    if let Some(intents) = app.transcript_pane_action(action) {
        return Some(intents);
    }
    match action {
        Action::Search => {
            let mut area = TextArea::default();
            area.set_placeholder_text("search the transcript (enter to find, esc to cancel)");
            app.overlay = Some(Overlay::Search(area));
            super::done()
        }
        Action::SearchNext | Action::SearchPrev => Some(app.find(action == Action::SearchNext)),
        _ => None,
    }
}

/// The pane's footer hints.
pub(in crate::ui::app) fn hints(app: &App) -> Vec<Hint> {
    let searching = matches!(&app.screen, Screen::Detail(d) if d.search.is_some());
    let mut hints = vec![(Action::Search, "search")];
    if searching {
        hints.push((Action::SearchNext, "next match"));
    }
    hints.push((Action::Follow, "follow"));
    hints
}

impl App {
    /// The line of the current search match in the shown transcript (the
    /// one the last step landed on), while it still matches the search.
    pub fn current_match(&self) -> Option<usize> {
        let (task, n, _) = self.shown_transcript()?;
        let line = self.search_hit?;
        let t = self.model.transcripts.get(&(task, n))?;
        (t.matches(line) == Some(true)).then_some(line)
    }

    /// "3/17": the current match among all the transcript's matches
    /// ("?/17" before a step; "3/17+" while the file is still searched).
    pub fn search_counter(&self) -> Option<String> {
        let Screen::Detail(d) = &self.screen else {
            return None;
        };
        d.search.as_ref()?;
        let (task, n, _) = self.shown_transcript()?;
        let t = self.model.transcripts.get(&(task, n))?;
        let current = self.current_match();
        let (total, before, unknown) = t.match_counts(current)?;
        if total == 0 && unknown {
            return None; // not searched yet
        }
        let more = if unknown { "+" } else { "" };
        Some(match current {
            Some(_) => format!("{before}/{total}{more}"),
            None => format!("?/{total}{more}"),
        })
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
    fn shown_transcript(&self) -> Option<(TaskId, u32, String)> {
        let Screen::Detail(d) = &self.screen else {
            return None;
        };
        let a = self.shown_attempt(d)?;
        Some((d.task.clone(), a.n, a.transcript.clone()))
    }

    /// Reads of the transcript file that the view needs: the lines it shows
    /// (and some around them) that are not in memory. While following, only
    /// a tool result's line above its long folded output.
    pub(in crate::ui::app) fn transcript_loads(&mut self) -> Vec<Intent> {
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
        // From the current match (the view may not scroll to the next one),
        // else from the top of the view.
        let from = self.current_match().unwrap_or(d.scroll.unwrap_or(bottom));
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
                self.search_hit = Some(line);
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
}
