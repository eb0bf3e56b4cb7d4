//! Themes: named semantic styles (title, muted, running, failed, added...).
//! Views never pick colours themselves; they ask the theme.
//!
//! The shipped themes live in `themes/*.toml` at the repository root and are
//! embedded in the binary. [`Theme::load`] turns `[ui] theme` from fleet.toml
//! (a built-in name or a path) into a theme plus warnings: a partial file falls
//! back to the default per name, a broken one never stops the cockpit.

mod palette;
mod parse;

pub use palette::{ansi16_index_of_indexed, ansi16_index_of_rgb, is_ansi16, nearest_ansi16};
pub(crate) use parse::did_you_mean;

use std::io::Read;
use std::path::PathBuf;

use ratatui::style::{Color, Modifier, Style};

/// Declares [`Theme`] and, from the same list, the table of semantic names that
/// theme files use, so the two can never drift apart.
macro_rules! semantic_styles {
    ($( $(#[$doc:meta])* $name:ident, )+) => {
        /// Every style the cockpit draws with. Colours are named or 256-colour
        /// indexed in the shipped themes, so they look right over SSH and in tmux.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            $( $(#[$doc])* pub $name: Style, )+
        }

        impl Theme {
            /// The semantic names, as written under `[styles]` in a theme file
            /// (they are the field names of [`Theme`]).
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),+];

            /// Every (name, style) pair, in declaration order.
            pub fn styles(&self) -> Vec<(&'static str, Style)> {
                vec![$((stringify!($name), self.$name)),+]
            }

            /// The style called `name` in theme files, to be replaced.
            fn style_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($name) => Some(&mut self.$name),)+
                    _ => None,
                }
            }
        }
    };
}

semantic_styles! {
    /// Ordinary text.
    text,
    /// Secondary text: ids, times, hints.
    muted,
    /// Titles of panes and dialogs.
    title,
    /// Pane borders.
    border,
    /// The border of the pane that has the focus.
    border_focus,
    /// The selected card, line or file.
    selected,
    /// The top bar.
    header,
    /// The bottom bar of key hints.
    footer,
    /// A key inside a hint (`a` in `a approve`) and in the help screen.
    key,
    /// Queued tasks (waiting for dependencies or capacity).
    queued,
    /// Tasks whose agent runs, or whose verify gate runs.
    running,
    /// Paused tasks and a paused fleet.
    paused,
    /// Tasks waiting for a human in Review.
    review,
    /// Failed tasks.
    failed,
    /// Merged tasks.
    done,
    /// Conflict and refused-merge markers.
    conflict,
    /// Warnings (a theme that did not load, a stalled agent...).
    warning,
    /// Errors the user can fix.
    error,
    /// Diff: added lines.
    added,
    /// Diff: removed lines.
    removed,
    /// Diff: the changed words within an added line.
    added_word,
    /// Diff: the changed words within a removed line.
    removed_word,
    /// Diff: `@@` hunk headers.
    hunk,
    /// Diff: file headers.
    file_header,
    /// Diff: line numbers in the gutter.
    line_number,
    /// Transcript: tool calls.
    tool,
    /// Transcript: tool results that succeeded.
    tool_ok,
    /// Transcript: tool results that failed.
    tool_error,
    /// Transcript: notices (retries, feedback sent, reassigned...).
    notice,
    /// Search matches in the transcript.
    search_match,
    /// Dialogs (and the help screen).
    dialog,
    /// Text inputs.
    input,
}

/// The built-in themes: (name, embedded file).
const BUILTINS: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// The names `[ui] theme` accepts besides a path.
const BUILTIN_NAMES: &[&str] = &["dark", "light", "high-contrast", "mono"];

/// Theme files larger than this are refused (a theme is a few kilobytes).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The names of the built-in themes, the default (`dark`) first.
pub fn builtin_names() -> &'static [&'static str] {
    BUILTIN_NAMES
}

/// Whether `NO_COLOR` is set to a non-empty value (<https://no-color.org>),
/// for the `no_color` argument of [`Theme::load`].
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Default for Theme {
    fn default() -> Self {
        Theme::dark()
    }
}

impl Theme {
    /// The default theme, for dark terminals (256-colour indexes and named colours only).
    pub fn dark() -> Theme {
        Theme::builtin("dark").unwrap_or_else(Theme::dark_fallback)
    }

    /// A built-in theme by name (`dark`, `light`, `high-contrast`, `mono`;
    /// case and `_` versus `-` do not matter).
    pub fn builtin(name: &str) -> Option<Theme> {
        builtin_with_warnings(name).map(|(theme, _)| theme)
    }

    /// The theme `[ui] theme` asks for, and the warnings to show or log.
    ///
    /// `spec` is a built-in name (see [`builtin_names`]) or a path to a theme
    /// file (`~/` is the home directory; a relative path is relative to the
    /// current directory; write `./light` for a file that shadows a built-in
    /// name). `no_color` says whether `NO_COLOR` is set (see [`no_color_env`]):
    /// without an explicit theme it selects `mono`, and it makes `mono` the
    /// default that broken or partial files fall back to.
    ///
    /// Never fails: an unreadable file, a syntax error, an unknown name or a
    /// bad colour each give a warning naming the file and key, and the
    /// affected style (or the whole theme) falls back to the default.
    pub fn load(spec: Option<&str>, no_color: bool) -> (Theme, Vec<String>) {
        let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
            return (default_theme(no_color), Vec::new());
        };
        if let Some(found) = builtin_with_warnings(spec) {
            return found;
        }
        let path = expand_home(spec);
        match read_theme_file(&path) {
            Ok(text) => {
                let origin = format!("theme file `{}`", path.display());
                Theme::from_toml(&text, &origin, no_color)
            }
            Err(why) => {
                let names = BUILTIN_NAMES.join(", ");
                let warning = format!(
                    "theme `{spec}` is not a built-in theme ({names}) and the file `{}` \
                     cannot be read: {why}; using the default theme",
                    path.display()
                );
                (default_theme(no_color), vec![warning])
            }
        }
    }

    /// Parses a theme file's text. `origin` names it in warnings (for example
    /// "theme file `x.toml`"); see [`Theme::load`] for `no_color` and the fallbacks.
    pub fn from_toml(text: &str, origin: &str, no_color: bool) -> (Theme, Vec<String>) {
        let mut warnings = Vec::new();
        let document = match parse::document(text, origin, &mut warnings) {
            Ok(document) => document,
            Err(warning) => {
                warnings.push(warning);
                return (default_theme(no_color), warnings);
            }
        };
        let mut theme = match document.extends.as_deref() {
            None => default_theme(no_color),
            Some(name) => Theme::builtin(name).unwrap_or_else(|| {
                warnings.push(format!(
                    "{origin}: extends = \"{name}\": not a built-in theme (valid: {}); \
                     missing styles come from the default theme",
                    BUILTIN_NAMES.join(", ")
                ));
                default_theme(no_color)
            }),
        };
        parse::apply(&mut theme, &document.styles, origin, &mut warnings);
        (theme, warnings)
    }

    /// The same styles with every colour removed (modifiers kept).
    fn without_colors(mut self) -> Theme {
        for name in Theme::NAMES {
            if let Some(style) = self.style_mut(name) {
                style.fg = None;
                style.bg = None;
                style.underline_color = None;
            }
        }
        self
    }

    /// The safety net behind `themes/dark.toml`: the same styles, hard-coded,
    /// used if the embedded file ever failed to parse (a unit test keeps the two equal).
    fn dark_fallback() -> Theme {
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

/// The theme used when none is given or the given one cannot be read.
fn default_theme(no_color: bool) -> Theme {
    if no_color {
        builtin_with_warnings("mono")
            .map_or_else(|| Theme::dark_fallback().without_colors(), |t| t.0)
    } else {
        Theme::dark()
    }
}

/// A built-in theme parsed from its embedded file over its safety net.
fn builtin_with_warnings(name: &str) -> Option<(Theme, Vec<String>)> {
    let wanted = name.replace('_', "-");
    let (name, text) = BUILTINS
        .iter()
        .find(|(builtin, _)| builtin.eq_ignore_ascii_case(&wanted))?;
    let mut theme = Theme::dark_fallback();
    if *name == "mono" {
        theme = theme.without_colors();
    }
    let origin = format!("built-in theme `{name}`");
    let mut warnings = Vec::new();
    match parse::document(text, &origin, &mut warnings) {
        Ok(document) => parse::apply(&mut theme, &document.styles, &origin, &mut warnings),
        Err(warning) => warnings.push(warning),
    }
    Some((theme, warnings))
}

/// `~/x` is `$HOME/x`; everything else is taken as written.
fn expand_home(spec: &str) -> PathBuf {
    match (spec.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(spec),
    }
}

/// The text of a theme file, or why it cannot be had.
fn read_theme_file(path: &std::path::Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses_cleanly_and_defines_every_name() {
        assert_eq!(BUILTINS.len(), BUILTIN_NAMES.len());
        for ((name, text), listed) in BUILTINS.iter().zip(BUILTIN_NAMES) {
            assert_eq!(name, listed);
            let (_, warnings) = builtin_with_warnings(name).expect("built-in");
            assert!(warnings.is_empty(), "{name}: {warnings:?}");
            let table: toml::Table = toml::from_str(text).expect("valid TOML");
            let styles = table["styles"].as_table().expect("[styles]");
            for wanted in Theme::NAMES {
                assert!(styles.contains_key(*wanted), "{name} lacks {wanted}");
            }
        }
    }

    #[test]
    fn dark_file_matches_the_hard_coded_safety_net() {
        assert_eq!(Theme::dark(), Theme::dark_fallback());
    }

    #[test]
    fn shipped_themes_use_no_true_colour_and_mono_no_colour_at_all() {
        for name in BUILTIN_NAMES {
            let theme = Theme::builtin(name).expect("built-in");
            for (key, style) in theme.styles() {
                for color in [style.fg, style.bg, style.underline_color]
                    .into_iter()
                    .flatten()
                {
                    assert!(!matches!(color, Color::Rgb(..)), "{name}.{key}: {color:?}");
                    assert!(*name != "mono", "mono.{key} has colour {color:?}");
                }
            }
        }
    }

    #[test]
    fn names_cover_every_field_and_builtin_names_are_forgiving() {
        let mut theme = Theme::dark();
        for name in Theme::NAMES {
            assert!(theme.style_mut(name).is_some(), "{name}");
        }
        assert_eq!(Theme::NAMES.len(), theme.styles().len());
        assert!(Theme::builtin("High_Contrast").is_some());
        assert!(Theme::builtin("solarized").is_none());
    }
}
