//! Logging to `.fleet/fleetdeck.log`, never to the terminal (the cockpit owns
//! the screen; headless output is for state changes only).
//!
//! Nothing here ever falls back to stderr: when the log file cannot be
//! opened, logging is off; when a write fails (disk full...), the line is
//! dropped silently. The same message repeated back to back is written once,
//! then counted ("the last message was repeated N times"), so an error that
//! recurs on every write cannot fill the disk it is complaining about.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;

use crate::store::private;

/// The log file name inside `.fleet/`.
pub const LOG_FILE: &str = "fleetdeck.log";

/// How long a repeated message stays quiet before it is written again.
const REPEAT_WINDOW: Duration = Duration::from_secs(60);

/// Sends tracing output to `<root>/.fleet/fleetdeck.log` (appending, 0600).
/// The level comes from `FLEETDECK_LOG` (default `info`). Failing to open the
/// log is not fatal: logging is then off.
pub fn init(root: &Path) {
    let dir = root.join(".fleet");
    let file = private::create_dir_private(&dir).and_then(|()| {
        private::open_private(
            &dir.join(LOG_FILE),
            std::fs::OpenOptions::new().create(true).append(true),
        )
    });
    let Ok(file) = file else { return };
    let filter =
        EnvFilter::try_from_env("FLEETDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(QuietLog::new(file)))
        .with_ansi(false)
        .log_internal_errors(false)
        .try_init();
}

/// A log writer that never fails and folds back-to-back repeats of a
/// message. Each `write` is one formatted event (tracing formats a whole
/// line, then writes it at once).
pub struct QuietLog<W: Write> {
    out: W,
    /// The last message written (without its timestamp) and when.
    last: Option<(Vec<u8>, Instant)>,
    /// Copies of `last` swallowed since.
    repeats: u64,
}

impl<W: Write> QuietLog<W> {
    pub fn new(out: W) -> Self {
        QuietLog {
            out,
            last: None,
            repeats: 0,
        }
    }

    fn flush_repeats(&mut self) {
        if self.repeats > 0 {
            let note = format!(
                "(the last message was repeated {} more time(s))\n",
                self.repeats
            );
            let _ = self.out.write_all(note.as_bytes());
            self.repeats = 0;
        }
    }
}

/// A line without its leading timestamp (the first word).
fn message_of(line: &[u8]) -> &[u8] {
    match line.iter().position(|b| *b == b' ') {
        Some(i) => &line[i..],
        None => line,
    }
}

impl<W: Write> Write for QuietLog<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let message = message_of(buf);
        let now = Instant::now();
        if let Some((last, at)) = &self.last
            && last.as_slice() == message
            && now.duration_since(*at) < REPEAT_WINDOW
        {
            self.repeats += 1;
            return Ok(buf.len());
        }
        self.flush_repeats();
        self.last = Some((message.to_vec(), now));
        // A failed write (disk full, read-only) drops the line: never stderr.
        let _ = self.out.write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = self.out.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_folded_and_counted_when_another_message_comes() {
        let mut log = QuietLog::new(Vec::new());
        for t in 0..5 {
            let line = format!("2026-01-01T00:00:0{t}Z ERROR x: disk full\n");
            log.write_all(line.as_bytes()).unwrap();
        }
        log.write_all(b"2026-01-01T00:00:09Z INFO x: other\n")
            .unwrap();
        let text = String::from_utf8(log.out).unwrap();
        assert_eq!(
            text,
            "2026-01-01T00:00:00Z ERROR x: disk full\n\
             (the last message was repeated 4 more time(s))\n\
             2026-01-01T00:00:09Z INFO x: other\n"
        );
    }

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(28))
        }
    }

    #[test]
    fn a_log_that_cannot_be_written_drops_lines_without_an_error() {
        let mut log = QuietLog::new(Full);
        log.write_all(b"t ERROR x: a\n").unwrap();
        log.write_all(b"t ERROR x: b\n").unwrap();
        log.flush().unwrap();
    }
}
