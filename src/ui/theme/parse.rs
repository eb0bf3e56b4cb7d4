//! Theme files: TOML text to styles, with a warning for everything that is
//! wrong and a fallback for everything a warning touches.

use ratatui::style::{Color, Modifier, Style};
use toml::{Table, Value};

use super::Theme;

/// The attributes of one style, as written in a theme file.
const ATTRIBUTES: &[&str] = &[
    "fg",
    "bg",
    "bold",
    "dim",
    "italic",
    "underlined",
    "reversed",
];

/// The boolean attributes and the modifier each one adds.
const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
];

/// The colour names a theme file accepts (`_`, `-`, spaces and case do not matter).
const COLORS: &[(&str, Color)] = &[
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("grey", Color::Gray),
    ("dark_gray", Color::DarkGray),
    ("dark_grey", Color::DarkGray),
    ("light_red", Color::LightRed),
    ("light_green", Color::LightGreen),
    ("light_yellow", Color::LightYellow),
    ("light_blue", Color::LightBlue),
    ("light_magenta", Color::LightMagenta),
    ("light_cyan", Color::LightCyan),
    ("white", Color::White),
    ("reset", Color::Reset),
    ("default", Color::Reset),
];

/// The top level of a theme file.
pub(super) struct Document {
    /// `extends = "light"`: the built-in theme missing styles come from.
    pub extends: Option<String>,
    /// `[styles]`: semantic name to style.
    pub styles: Table,
}

/// Parses the top level. A syntax error is the `Err` warning (nothing in the
/// file can be trusted); unknown or mistyped top-level keys are warnings and ignored.
pub(super) fn document(
    text: &str,
    origin: &str,
    warnings: &mut Vec<String>,
) -> Result<Document, String> {
    let table: Table = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|span| {
                let (line, column) = line_column(text, span.start);
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        format!(
            "{origin}: not valid TOML{at}: {}; using the default theme",
            e.message().trim()
        )
    })?;
    let mut document = Document {
        extends: None,
        styles: Table::new(),
    };
    for (key, value) in table {
        match (key.as_str(), value) {
            ("styles", Value::Table(styles)) => document.styles = styles,
            ("extends", Value::String(name)) => document.extends = Some(name),
            ("styles", other) => warnings.push(format!(
                "{origin}: `styles` must be a table (`[styles]`), not {}; ignored",
                other.type_str()
            )),
            ("extends", other) => warnings.push(format!(
                "{origin}: `extends` must be a theme name like \"light\", not {}; ignored",
                other.type_str()
            )),
            (name, _) if Theme::NAMES.contains(&name) => warnings.push(format!(
                "{origin}: `{name}` is outside the [styles] table; move it under [styles]"
            )),
            (name, _) => warnings.push(format!(
                "{origin}: unknown key `{name}` (a theme file has `extends` and a [styles] table); ignored"
            )),
        }
    }
    Ok(document)
}

/// Replaces each style the table defines. A style with any error keeps the
/// style it had (the default), with one warning per error.
pub(super) fn apply(theme: &mut Theme, styles: &Table, origin: &str, warnings: &mut Vec<String>) {
    for (name, value) in styles {
        let Some(slot) = theme.style_mut(name) else {
            warnings.push(format!(
                "{origin}: [styles] `{name}` is not a style name{}; ignored (valid: {})",
                did_you_mean(name, Theme::NAMES),
                Theme::NAMES.join(", ")
            ));
            continue;
        };
        match style(value) {
            Ok(style) => *slot = style,
            Err(errors) => warnings.extend(errors.into_iter().map(|(key, why)| {
                format!("{origin}: styles.{name}{key}: {why}; `{name}` keeps its default style")
            })),
        }
    }
}

/// One style; the errors are (`.attribute` or "", what is wrong).
fn style(value: &Value) -> Result<Style, Vec<(String, String)>> {
    let Value::Table(table) = value else {
        return Err(vec![(
            String::new(),
            format!(
                "expected a table like {{ fg = \"green\", bold = true }}, not {}",
                value.type_str()
            ),
        )]);
    };
    let mut style = Style::new();
    let mut errors = Vec::new();
    for (key, value) in table {
        let outcome = match key.as_str() {
            "fg" => color(value).map(|c| style = style.fg(c)),
            "bg" => color(value).map(|c| style = style.bg(c)),
            name => match MODIFIERS.iter().find(|(m, _)| *m == name) {
                Some((_, modifier)) => match value {
                    Value::Boolean(true) => {
                        style = style.add_modifier(*modifier);
                        Ok(())
                    }
                    Value::Boolean(false) => Ok(()),
                    other => Err(format!("expected true or false, not {}", other.type_str())),
                },
                None => Err(format!(
                    "unknown attribute{} (valid: {})",
                    did_you_mean(name, ATTRIBUTES),
                    ATTRIBUTES.join(", ")
                )),
            },
        };
        if let Err(why) = outcome {
            errors.push((format!(".{key}"), why));
        }
    }
    if errors.is_empty() {
        Ok(style)
    } else {
        Err(errors)
    }
}

/// A colour: a name (`green`, `light_red`), an index 0..=255, or `"#rrggbb"`.
fn color(value: &Value) -> Result<Color, String> {
    const EXPECTED: &str = "use a name such as \"green\" or \"light_red\", \
                            a 256-colour index 0..=255, or \"#rrggbb\"";
    match value {
        Value::Integer(i) => u8::try_from(*i)
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {i} is outside 0..=255")),
        Value::String(s) => {
            if let Some(hex) = s.strip_prefix('#') {
                return rgb(hex)
                    .ok_or_else(|| format!("`{s}` is not a colour of the form #rrggbb"));
            }
            if let Ok(index) = s.trim().parse::<u8>() {
                return Ok(Color::Indexed(index));
            }
            let wanted: String = s
                .chars()
                .filter(|c| !matches!(c, '_' | '-' | ' '))
                .map(|c| c.to_ascii_lowercase())
                .collect();
            COLORS
                .iter()
                .find(|(name, _)| name.replace('_', "") == wanted)
                .map(|(_, c)| *c)
                .ok_or_else(|| format!("unknown colour `{s}` ({EXPECTED})"))
        }
        other => Err(format!(
            "expected a colour, not {} ({EXPECTED})",
            other.type_str()
        )),
    }
}

/// `rrggbb` in hex.
fn rgb(hex: &str) -> Option<Color> {
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?))
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `" (did you mean `x`?)"` when a candidate is at most two edits away, else "".
pub(crate) fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_in_every_accepted_form() {
        let c = |v: Value| color(&v);
        assert_eq!(c(Value::from("green")), Ok(Color::Green));
        assert_eq!(c(Value::from("Light-Red")), Ok(Color::LightRed));
        assert_eq!(c(Value::from("darkgrey")), Ok(Color::DarkGray));
        assert_eq!(c(Value::from(245)), Ok(Color::Indexed(245)));
        assert_eq!(c(Value::from("245")), Ok(Color::Indexed(245)));
        assert_eq!(c(Value::from("#ff8000")), Ok(Color::Rgb(255, 128, 0)));
        assert!(c(Value::from(256)).is_err_and(|e| e.contains("0..=255")));
        assert!(c(Value::from("#ff80")).is_err_and(|e| e.contains("#rrggbb")));
        assert!(c(Value::from("grene")).is_err_and(|e| e.contains("`grene`")));
        assert!(c(Value::from(true)).is_err());
    }

    #[test]
    fn styles_and_their_errors() {
        let table: Table =
            toml::from_str("s = { fg = 1, bg = \"blue\", bold = true, dim = false }")
                .expect("toml");
        let s = style(&table["s"]).expect("valid");
        assert_eq!(s, Style::new().fg(Color::Indexed(1)).bg(Color::Blue).bold());
        let table: Table =
            toml::from_str("s = { fg = \"nope\", bolt = true, italic = 1 }").expect("toml");
        let errors = style(&table["s"]).expect_err("invalid");
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, [".bolt", ".fg", ".italic"]);
        assert!(errors[0].1.contains("did you mean `bold`"));
    }

    #[test]
    fn positions_and_suggestions() {
        assert_eq!(line_column("a\nbc\nd", 4), (2, 3));
        assert_eq!(
            did_you_mean("runing", Theme::NAMES),
            " (did you mean `running`?)"
        );
        assert_eq!(did_you_mean("zzzzzzzz", Theme::NAMES), "");
    }
}
