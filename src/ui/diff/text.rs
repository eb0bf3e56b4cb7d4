//! Making file content safe and tidy to draw, and finding the changed words
//! within a pair of lines.
//!
//! File contents are written by agents and untrusted. Unlike transcripts
//! (which go through [`crate::sanitize::sanitize`] and lose their control
//! sequences silently), a diff is what a human approves, so control
//! characters stay *visible*: each becomes a harmless placeholder glyph
//! (`␛` for ESC, `␇` for BEL, `�` for C1 controls and bidirectional
//! overrides), and no escape sequence can reach the terminal.

use std::ops::Range;

use similar::{ChangeTag, TextDiff};

/// Tab stops every this many columns.
pub const TAB_WIDTH: usize = 4;

/// Lines at most this long (in bytes, both sides) are compared character by
/// character; longer ones word by word.
const CHAR_DIFF_MAX: usize = 32;

/// Below this similarity (0..1) a pair is shown as wholly replaced: marking
/// nearly every word would be noise.
const MIN_SIMILARITY: f32 = 0.4;

/// `raw` made safe for the terminal, tabs expanded to [`TAB_WIDTH`] stops,
/// cut after `max_cols` characters (wider ones are cut again when drawn).
///
/// Control characters become placeholders: C0 controls the matching
/// Control Pictures glyph (`␛`, `␇`...), DEL `␡`, C1 controls and
/// bidirectional formatting characters (which can make code read differently
/// from how it compiles) `�`.
pub fn display_line(raw: &str, max_cols: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max_cols.saturating_mul(4)));
    let mut col = 0;
    for c in raw.chars() {
        if col >= max_cols {
            break;
        }
        match c {
            '\t' => {
                let next = (col / TAB_WIDTH + 1) * TAB_WIDTH;
                while col < next.min(max_cols) {
                    out.push(' ');
                    col += 1;
                }
                continue;
            }
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\u{7f}' => out.push('\u{2421}'),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
        col += 1;
    }
    out
}

/// Bidirectional embedding, override and isolate characters (Trojan Source).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Byte ranges of a line, in order and not overlapping.
pub type Marks = Vec<Range<usize>>;

/// The byte ranges of `old` and `new` that differ, merged where adjacent;
/// `None` when the lines are too different for highlights to help.
///
/// Short lines are compared by characters, longer ones by words.
pub fn changed_ranges(old: &str, new: &str) -> Option<(Marks, Marks)> {
    let diff = if old.len() <= CHAR_DIFF_MAX && new.len() <= CHAR_DIFF_MAX {
        TextDiff::from_chars(old, new)
    } else {
        TextDiff::from_words(old, new)
    };
    if diff.ratio() < MIN_SIMILARITY {
        return None;
    }
    let (mut old_ranges, mut new_ranges) = (Vec::new(), Vec::new());
    let (mut o, mut n) = (0, 0);
    for change in diff.iter_all_changes() {
        let len = change.value().len();
        match change.tag() {
            ChangeTag::Equal => {
                o += len;
                n += len;
            }
            ChangeTag::Delete => {
                push_merged(&mut old_ranges, o..o + len);
                o += len;
            }
            ChangeTag::Insert => {
                push_merged(&mut new_ranges, n..n + len);
                n += len;
            }
        }
    }
    Some((old_ranges, new_ranges))
}

fn push_merged(ranges: &mut Vec<Range<usize>>, r: Range<usize>) {
    match ranges.last_mut() {
        Some(last) if last.end == r.start => last.end = r.end,
        _ if r.is_empty() => {}
        _ => ranges.push(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_placeholders() {
        let out = display_line("a\x1b[2Jb\x07\u{9b}c\u{202e}d\x7f", 80);
        assert_eq!(out, "a␛[2Jb␇�c�d␡");
        assert!(!out.chars().any(char::is_control));
    }

    #[test]
    fn tabs_expand_to_stops_and_lines_are_cut() {
        assert_eq!(display_line("\tx", 80), "    x");
        assert_eq!(display_line("ab\tx", 80), "ab  x");
        assert_eq!(display_line("abcd\tx", 80), "abcd    x");
        assert_eq!(display_line("abcdef", 3), "abc");
        assert_eq!(display_line("a\tb", 2), "a ");
    }

    #[test]
    fn changed_words_are_found() {
        let (o, n) = changed_ranges(
            "let total = price * qty + shipping;",
            "let total = price * quantity + shipping;",
        )
        .unwrap();
        assert_eq!(o, vec![20..23]);
        assert_eq!(n, vec![20..28]);
    }

    #[test]
    fn unrelated_lines_get_no_highlights() {
        assert!(changed_ranges("fn main() {", "// a comment here").is_none());
    }
}
