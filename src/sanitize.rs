//! Stripping terminal control sequences from untrusted text.
//!
//! Everything an agent prints (and everything it quotes: file contents,
//! command output, API error bodies) ends up on the developer's terminal.
//! An escape sequence in there could move the cursor, rewrite the window
//! title, or write to the clipboard (OSC 52). [`sanitize`] removes every
//! control sequence and control character, so the result can be drawn as is.
//!
//! What comes out contains no character for which [`char::is_control`] holds
//! except `\n`:
//! - CSI (`ESC [` ... final byte, and the 8-bit CSI U+009B) is removed whole.
//! - OSC (`ESC ]`, U+009D), DCS (`ESC P`, U+0090), SOS (`ESC X`, U+0098),
//!   PM (`ESC ^`, U+009E) and APC (`ESC _`, U+009F) strings are removed up to
//!   and including their terminator: BEL, ST (`ESC \` or U+009C), or the
//!   start of another escape sequence. An unterminated string runs to the end
//!   of the input, as it would on a terminal.
//! - Other escape sequences (`ESC 7`, `ESC c`, `ESC ( B`...) are removed;
//!   a lone `ESC` is dropped.
//! - Every other C0 control, DEL and C1 control is dropped; `\r` included
//!   (so `\r\n` becomes `\n` and a progress line's `\r` disappears).
//! - A tab becomes four spaces: terminal widgets draw control characters as
//!   nothing, and a tab's width depends on a column the text does not know.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

/// What a tab is replaced with.
const TAB: &str = "    ";
const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// 8-bit String Terminator.
const ST8: char = '\u{9c}';

/// Returns `s` without terminal control sequences or control characters
/// (other than `\n`), borrowing it unchanged when there was nothing to remove.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if is_clean(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(strip(s))
    }
}

/// True when `s` holds no byte that [`strip`] would change: no C0 control but
/// `\n`, no DEL, no UTF-8-encoded C1 control (`C2 80`..`C2 9F`).
fn is_clean(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (b < 0x20 && b != b'\n') || b == 0x7f {
            return false;
        }
        if b == 0xc2 && matches!(bytes.get(i + 1), Some(0x80..=0x9f)) {
            return false;
        }
        i += 1;
    }
    true
}

fn strip(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    // A character that ended a string sequence and must be looked at again
    // (an ESC that starts the next sequence). Kept here rather than handled
    // by recursion, so hostile nesting cannot grow the stack.
    let mut pending: Option<char> = None;
    while let Some(c) = pending.take().or_else(|| chars.next()) {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str(TAB),
            ESC => pending = skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                pending = skip_string(&mut chars);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Skips what follows an ESC; returns a character to process again, if any.
fn skip_escape(chars: &mut Peekable<Chars<'_>>) -> Option<char> {
    let next = *chars.peek()?;
    match next {
        '[' => {
            chars.next();
            skip_csi(chars);
            None
        }
        ']' | 'P' | 'X' | '^' | '_' => {
            chars.next();
            skip_string(chars)
        }
        // nF sequences (`ESC ( B`): intermediate bytes, then one final byte.
        '\u{20}'..='\u{2f}' => {
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
            None
        }
        // Single-character sequences: `ESC 7`, `ESC M`, `ESC c`, `ESC =`...
        '\u{30}'..='\u{7e}' => {
            chars.next();
            None
        }
        // ESC before a control or non-ASCII character: drop the ESC alone.
        _ => None,
    }
}

/// Skips a CSI sequence after its introducer: parameter and intermediate
/// bytes, then the final byte. A malformed sequence stops at the first
/// character that cannot belong to it, which is kept.
fn skip_csi(chars: &mut Peekable<Chars<'_>>) {
    while chars
        .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
        .is_some()
    {}
    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
}

/// Skips a control string (OSC, DCS, SOS, PM, APC) after its introducer, up
/// to its terminator. Returns an ESC to process again when one started
/// another sequence instead of terminating this one.
fn skip_string(chars: &mut Peekable<Chars<'_>>) -> Option<char> {
    while let Some(c) = chars.next() {
        match c {
            BEL | ST8 => return None,
            ESC => {
                if chars.next_if_eq(&'\\').is_some() {
                    return None;
                }
                return Some(ESC);
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> String {
        let out = sanitize(s).into_owned();
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "control character left in {out:?}"
        );
        out
    }

    #[test]
    fn plain_text_is_borrowed() {
        let s = "héllo wörld — £5 · 100% ✓\nsecond line";
        assert!(matches!(sanitize(s), Cow::Borrowed(_)));
        assert_eq!(sanitize(s), s);
    }

    #[test]
    fn sgr_colours_are_removed() {
        assert_eq!(clean("\x1b[1;31merror\x1b[0m: bad"), "error: bad");
        assert_eq!(clean("\x1b[38;2;255;0;0mred\x1b[m"), "red");
    }

    #[test]
    fn osc52_clipboard_write_is_removed() {
        assert_eq!(clean("a\x1b]52;c;cm0gLXJmIH4=\x07b"), "ab");
        assert_eq!(clean("a\x1b]52;c;cm0gLXJmIH4=\x1b\\b"), "ab");
    }

    #[test]
    fn title_set_and_hyperlinks_are_removed() {
        assert_eq!(clean("\x1b]0;pwned\x07title"), "title");
        assert_eq!(clean("\x1b]2;pwned\x1b\\x"), "x");
        assert_eq!(
            clean("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\"),
            "link"
        );
    }

    #[test]
    fn cursor_movement_and_erase_are_removed() {
        assert_eq!(clean("\x1b[2J\x1b[H\x1b[10;20Hover\x1b[K\x1b[3A"), "over");
        assert_eq!(clean("\x1b7saved\x1b8\x1bM\x1bc"), "saved");
        assert_eq!(clean("\x1b(Bascii\x1b)0"), "ascii");
        assert_eq!(clean("\x1b[?1049hfull\x1b[?1049l"), "full");
    }

    #[test]
    fn lone_and_trailing_escapes_are_dropped() {
        assert_eq!(clean("end\x1b"), "end");
        assert_eq!(clean("\x1b"), "");
        assert_eq!(clean("half\x1b["), "half");
        assert_eq!(clean("half\x1b[12;"), "half");
        assert_eq!(clean("x\x1b\x1b[31my"), "xy");
        assert_eq!(clean("a\x1b\u{e9}b"), "a\u{e9}b");
    }

    #[test]
    fn unterminated_strings_run_to_the_end() {
        assert_eq!(clean("ok\x1b]52;c;AAAA"), "ok");
        assert_eq!(clean("ok\x1bPq#0;2;0;0;0"), "ok");
    }

    #[test]
    fn escape_inside_a_string_starts_a_new_sequence() {
        assert_eq!(clean("\x1b]0;t\x1b[31mred"), "red");
        // Deep nesting must not recurse.
        let hostile = "\x1b]".repeat(100_000) + "tail";
        assert_eq!(clean(&hostile), "");
    }

    #[test]
    fn dcs_apc_pm_sos_are_removed() {
        assert_eq!(clean("a\x1bP1$r0m\x1b\\b"), "ab");
        assert_eq!(clean("a\x1b_apc payload\x1b\\b"), "ab");
        assert_eq!(clean("a\x1b^pm\x1b\\b"), "ab");
        assert_eq!(clean("a\x1bXsos\x1b\\b"), "ab");
    }

    #[test]
    fn c1_controls_are_removed() {
        assert_eq!(clean("a\u{9b}31mred\u{9b}0m"), "ared");
        assert_eq!(clean("a\u{9d}0;title\u{9c}b"), "ab");
        assert_eq!(clean("a\u{9d}52;c;AAAA\x07b"), "ab");
        assert_eq!(clean("a\u{90}dcs\u{9c}b"), "ab");
        assert_eq!(clean("a\u{85}b\u{8d}c"), "abc");
    }

    #[test]
    fn c0_controls_other_than_newline_are_removed() {
        assert_eq!(clean("a\rb\r\nc"), "ab\nc");
        assert_eq!(
            clean("bell\x07 back\x08space\x00nul\x7f"),
            "bell backspacenul"
        );
        assert_eq!(clean("col1\tcol2"), "col1    col2");
        assert_eq!(clean("keep\nnewlines\n"), "keep\nnewlines\n");
    }

    #[test]
    fn replacement_characters_from_lossy_decoding_stay() {
        let lossy = String::from_utf8_lossy(b"bad \xff\xfe bytes\x1b[0m");
        assert_eq!(clean(&lossy), "bad \u{fffd}\u{fffd} bytes");
    }
}
