//! Themes: named semantic styles (title, muted, running, failed, added...).
//! Views never pick colours themselves; they ask the theme.

use ratatui::style::{Color, Modifier, Style};

/// Every style the cockpit draws with. Colours are named or 256-colour
/// indexed by default, so themes look right over SSH and in tmux.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Ordinary text.
    pub text: Style,
    /// Secondary text: ids, times, hints.
    pub muted: Style,
    /// Titles of panes and dialogs.
    pub title: Style,
    pub border: Style,
    /// The border of the pane that has the focus.
    pub border_focus: Style,
    /// The selected card, line or file.
    pub selected: Style,
    /// The top bar.
    pub header: Style,
    /// The bottom bar of key hints.
    pub footer: Style,
    /// A key inside a hint (`a` in `a approve`).
    pub key: Style,
    pub queued: Style,
    pub running: Style,
    pub paused: Style,
    pub review: Style,
    pub failed: Style,
    pub done: Style,
    /// Conflict and refused-merge markers.
    pub conflict: Style,
    pub warning: Style,
    pub error: Style,
    /// Diff: added and removed lines, and the changed words within them.
    pub added: Style,
    pub removed: Style,
    pub added_word: Style,
    pub removed_word: Style,
    /// Diff: `@@` hunk headers and file headers.
    pub hunk: Style,
    pub file_header: Style,
    pub line_number: Style,
    /// Transcript: tool calls, their results, notices.
    pub tool: Style,
    pub tool_ok: Style,
    pub tool_error: Style,
    pub notice: Style,
    pub search_match: Style,
    /// Dialogs and text inputs.
    pub dialog: Style,
    pub input: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::dark()
    }
}

impl Theme {
    /// The default theme, for dark terminals (256-colour indexes and named colours only).
    pub fn dark() -> Theme {
        let fg = |c| Style::new().fg(c);
        Theme {
            text: Style::new(),
            muted: fg(Color::Indexed(245)),
            title: Style::new().add_modifier(Modifier::BOLD),
            border: fg(Color::Indexed(240)),
            border_focus: fg(Color::Cyan),
            selected: Style::new()
                .bg(Color::Indexed(237))
                .add_modifier(Modifier::BOLD),
            header: Style::new().bg(Color::Indexed(236)),
            footer: fg(Color::Indexed(250)),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            queued: fg(Color::Indexed(250)),
            running: fg(Color::Cyan),
            paused: fg(Color::Yellow),
            review: fg(Color::Magenta),
            failed: fg(Color::Red).add_modifier(Modifier::BOLD),
            done: fg(Color::Green),
            conflict: fg(Color::Red),
            warning: fg(Color::Yellow),
            error: fg(Color::Red).add_modifier(Modifier::BOLD),
            added: fg(Color::Green),
            removed: fg(Color::Red),
            added_word: fg(Color::Black).bg(Color::Green),
            removed_word: fg(Color::Black).bg(Color::Red),
            hunk: fg(Color::Cyan),
            file_header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            line_number: fg(Color::Indexed(242)),
            tool: fg(Color::Blue),
            tool_ok: fg(Color::Indexed(245)),
            tool_error: fg(Color::Red),
            notice: fg(Color::Yellow),
            search_match: fg(Color::Black).bg(Color::Yellow),
            dialog: Style::new().bg(Color::Indexed(235)),
            input: Style::new().bg(Color::Indexed(236)),
        }
    }
}
