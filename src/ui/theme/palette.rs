//! Colour depth: a terminal that advertises neither true colour
//! (`COLORTERM=truecolor|24bit`) nor 256 colours (`TERM=*256color*`) gets
//! every theme colour mapped to the nearest of the 16 ANSI colours
//! ([`Theme::to_ansi16`]); the terminal writer then sends them as 16-colour
//! codes (`31`, `94`, `42`...), see `crate::ui::sgr16`.

use ratatui::style::{Color, Modifier, Style};

use super::Theme;

/// The 16 ANSI colours in index order, with xterm's default RGB values.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The RGB value of a 256-colour index (the 6x6x6 cube and the grey ramp).
fn indexed_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16[n as usize].1,
        16..=231 => {
            let i = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let g = 8 + 10 * (n - 232);
            (g, g, g)
        }
    }
}

/// The nearest of the 16 ANSI colours; named colours and `Reset` stay.
pub fn nearest_ansi16(c: Color) -> Color {
    let (r, g, b) = match c {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(n) if n < 16 => return ANSI16[n as usize].0,
        Color::Indexed(n) => indexed_rgb(n),
        other => return other,
    };
    let d = |(x, y, z): (u8, u8, u8)| {
        let sq = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        sq(x, r) + sq(y, g) + sq(z, b)
    };
    ANSI16
        .iter()
        .min_by_key(|(_, rgb)| d(*rgb))
        .map_or(Color::Reset, |(c, _)| *c)
}

/// The ANSI index (0-15) of the colour nearest to 256-colour index `n`.
pub fn ansi16_index_of_indexed(n: u8) -> u8 {
    ansi16_index(nearest_ansi16(Color::Indexed(n)))
}

/// The ANSI index (0-15) of the colour nearest to an RGB value.
pub fn ansi16_index_of_rgb(r: u8, g: u8, b: u8) -> u8 {
    ansi16_index(nearest_ansi16(Color::Rgb(r, g, b)))
}

fn ansi16_index(c: Color) -> u8 {
    ANSI16.iter().position(|(x, _)| *x == c).unwrap_or(7) as u8
}

/// True for a colour a 16-colour terminal can show as such.
pub fn is_ansi16(c: Color) -> bool {
    !matches!(c, Color::Rgb(..) | Color::Indexed(_))
}

impl Theme {
    /// The theme for a 16-colour terminal: every colour the nearest ANSI
    /// one. A dark background tint that would become black is left to the
    /// terminal's own background instead (the selection is then shown
    /// reversed, so it stays visible).
    pub fn to_ansi16(mut self) -> Theme {
        for name in Theme::NAMES {
            let Some(style) = self.style_mut(name) else {
                continue;
            };
            let tinted = style.bg.is_some_and(|c| !is_ansi16(c));
            *style = map_style(*style);
            if tinted && style.bg == Some(Color::Black) {
                style.bg = None;
                if *name == "selected" {
                    *style = style.add_modifier(Modifier::REVERSED);
                }
            }
        }
        self
    }
}

fn map_style(mut s: Style) -> Style {
    s.fg = s.fg.map(nearest_ansi16);
    s.bg = s.bg.map(nearest_ansi16);
    s.underline_color = s.underline_color.map(nearest_ansi16);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_map_to_their_nearest_ansi_colour() {
        assert_eq!(nearest_ansi16(Color::Rgb(250, 10, 10)), Color::LightRed);
        assert_eq!(nearest_ansi16(Color::Indexed(1)), Color::Red);
        assert_eq!(nearest_ansi16(Color::Indexed(245)), Color::DarkGray);
        assert_eq!(nearest_ansi16(Color::Indexed(196)), Color::LightRed);
        assert_eq!(nearest_ansi16(Color::Indexed(236)), Color::Black);
        assert_eq!(nearest_ansi16(Color::Green), Color::Green);
        assert_eq!(nearest_ansi16(Color::Reset), Color::Reset);
    }

    #[test]
    fn every_shipped_theme_in_16_colours_has_no_rgb_or_indexed_colour() {
        for name in super::super::builtin_names() {
            let theme = Theme::builtin(name).expect("a builtin").to_ansi16();
            for (style_name, style) in theme.styles() {
                for c in [style.fg, style.bg, style.underline_color]
                    .into_iter()
                    .flatten()
                {
                    assert!(is_ansi16(c), "{name}.{style_name}: {c:?}");
                }
            }
            assert!(
                theme.selected.add_modifier.contains(Modifier::REVERSED)
                    || theme.selected.bg.is_some()
            );
        }
    }
}
