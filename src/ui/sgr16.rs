//! The terminal writer for a 16-colour terminal: crossterm writes every
//! colour as `38;5;N` (even the 16 ANSI ones) or `38;2;R;G;B`; this writer
//! rewrites the colour parameters of each SGR sequence (`ESC [ ... m`) to
//! the 16-colour codes (`30`-`37`, `90`-`97`, `40`-`47`, `100`-`107`),
//! the nearest colour for anything beyond them, and drops underline
//! colours (which such terminals do not have). Other bytes pass unchanged.

use std::io::{self, Write};

use crate::ui::theme::{ansi16_index_of_indexed, ansi16_index_of_rgb};

/// Longest escape sequence held back while it is incomplete; a longer one
/// is passed through as it is.
const MAX_SEQUENCE: usize = 128;

/// Wraps a writer; when `on` is false it passes everything through.
pub struct Sgr16<W: Write> {
    inner: W,
    on: bool,
    /// An escape sequence started and not yet finished (split across writes).
    pending: Vec<u8>,
}

impl<W: Write> Sgr16<W> {
    pub fn new(inner: W, on: bool) -> Self {
        Sgr16 {
            inner,
            on,
            pending: Vec::new(),
        }
    }

    fn push(&mut self, byte: u8, out: &mut Vec<u8>) {
        if self.pending.is_empty() {
            if byte == 0x1b {
                self.pending.push(byte);
            } else {
                out.push(byte);
            }
            return;
        }
        self.pending.push(byte);
        let len = self.pending.len();
        if len == 2 && byte != b'[' {
            out.append(&mut self.pending);
        } else if len > 2 && (0x40..=0x7e).contains(&byte) {
            if byte == b'm' {
                let params = String::from_utf8_lossy(&self.pending[2..len - 1]).into_owned();
                out.extend_from_slice(format!("\x1b[{}m", rewrite(&params)).as_bytes());
                self.pending.clear();
            } else {
                out.append(&mut self.pending);
            }
        } else if len > MAX_SEQUENCE {
            out.append(&mut self.pending);
        }
    }
}

/// The SGR parameters with every colour in 16-colour codes.
fn rewrite(params: &str) -> String {
    let p: Vec<&str> = params.split(';').collect();
    let num = |i: usize| p.get(i).and_then(|s| s.parse::<u8>().ok());
    let mut out: Vec<String> = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        let (base, bright) = match p[i] {
            "38" => (30, 90),
            "48" => (40, 100),
            "58" => (0, 0),
            other => {
                out.push(other.to_owned());
                i += 1;
                continue;
            }
        };
        let (index, used) = match (p.get(i + 1).copied(), num(i + 2)) {
            (Some("5"), Some(n)) => (Some(ansi16_index_of_indexed(n)), 3),
            (Some("2"), Some(r)) => match (num(i + 3), num(i + 4)) {
                (Some(g), Some(b)) => (Some(ansi16_index_of_rgb(r, g, b)), 5),
                _ => (None, 1),
            },
            _ => (None, 1),
        };
        match index {
            Some(n) if base > 0 && n < 8 => out.push((base + u16::from(n)).to_string()),
            Some(n) if base > 0 => out.push((bright + u16::from(n) - 8).to_string()),
            // An underline colour, or a colour form not understood: left out.
            _ => {}
        }
        i += used;
    }
    if out.is_empty() {
        // `ESC[m` would reset everything; an empty list must stay a no-op.
        return "39".to_owned();
    }
    out.join(";")
}

impl<W: Write> Write for Sgr16<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.on {
            return self.inner.write(buf);
        }
        let mut out = Vec::with_capacity(buf.len());
        for &b in buf {
            self.push(b, &mut out);
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&str]) -> String {
        let mut w = Sgr16::new(Vec::new(), true);
        for c in chunks {
            w.write_all(c.as_bytes()).unwrap();
        }
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn colours_become_16_colour_codes_even_split_across_writes() {
        assert_eq!(through(&["\x1b[38;5;1m", "x"]), "\x1b[31mx");
        assert_eq!(through(&["\x1b[38;5;9;48;5;4m"]), "\x1b[91;44m");
        assert_eq!(through(&["\x1b[3", "8;2;250;", "10;10mA"]), "\x1b[91mA");
        assert_eq!(through(&["\x1b[48;5;236m"]), "\x1b[40m");
        assert_eq!(through(&["\x1b[58;5;3m"]), "\x1b[39m");
        assert_eq!(through(&["\x1b[1;38;5;245m"]), "\x1b[1;90m");
        // Other sequences and text pass unchanged.
        assert_eq!(
            through(&["\x1b[2J\x1b[?25lab\x1b[0m"]),
            "\x1b[2J\x1b[?25lab\x1b[0m"
        );
        let mut off = Sgr16::new(Vec::new(), false);
        off.write_all(b"\x1b[38;5;1m").unwrap();
        assert_eq!(off.inner, b"\x1b[38;5;1m");
    }
}
