//! Transcript files: `.fleet/runs/<task>/<attempt>.jsonl`, one JSON object per
//! line of agent output, appended as it arrives.
//!
//! The raw line is kept (not the parsed event), so a transcript can be parsed
//! again later by an improved parser. The first line is a header saying which
//! agent and format produced it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::agent::Format;

/// Where a transcript line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// The agent's stdout (parsed by its format).
    Out,
    /// The agent's stderr.
    Err,
    /// A note from fleetdeck itself (start, exit status, verify results).
    Fleet,
    /// Output of a verify command.
    Verify,
}

/// How the note that ends an agent's run starts (`agent ended: exit code 0`).
/// Readers flush what their parser held back when they meet it, as the
/// runtime did live.
pub const AGENT_ENDED: &str = "agent ended: ";

/// The first line of every transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub task: String,
    pub attempt: u32,
    pub agent: String,
    pub format: Format,
    pub argv: Vec<String>,
    /// Unix time in milliseconds.
    pub started_ms: i64,
}

/// One line of output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Milliseconds since the attempt started.
    pub t: u64,
    pub s: Stream,
    /// The line as received (lossily decoded; not yet sanitized).
    pub l: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Record {
    Header { header: Header },
    Line(Line),
}

/// The transcript path of an attempt, relative to `.fleet/`.
pub fn relative_path(task: &str, attempt: u32) -> PathBuf {
    Path::new("runs")
        .join(task)
        .join(format!("{attempt}.jsonl"))
}

/// Appends lines to one attempt's transcript.
pub struct Writer {
    file: File,
    started: Instant,
    path: PathBuf,
}

impl Writer {
    /// Creates (truncating) the transcript at `path` (0600, its directories
    /// 0700) and writes its header.
    pub fn create(path: &Path, header: &Header) -> std::io::Result<Writer> {
        if let Some(dir) = path.parent() {
            super::private::create_dir_private(dir)?;
        }
        let file = super::private::open_private(
            path,
            OpenOptions::new().create(true).write(true).truncate(true),
        )?;
        let mut w = Writer {
            file,
            started: Instant::now(),
            path: path.to_owned(),
        };
        w.write_record(&Record::Header {
            header: header.clone(),
        })?;
        Ok(w)
    }

    /// Opens an existing transcript to append more lines (verify output),
    /// keeping timestamps relative to the attempt's start from its header.
    pub fn open_append(path: &Path) -> std::io::Result<Writer> {
        let mut first = String::new();
        BufReader::new(File::open(path)?).read_line(&mut first)?;
        let started_ms = match serde_json::from_str::<Record>(&first) {
            Ok(Record::Header { header }) => header.started_ms,
            _ => crate::store::now_ms(),
        };
        let elapsed =
            std::time::Duration::from_millis((crate::store::now_ms() - started_ms).max(0) as u64);
        let started = Instant::now()
            .checked_sub(elapsed)
            .unwrap_or_else(Instant::now);
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Writer {
            file,
            started,
            path: path.to_owned(),
        })
    }

    /// Appends one line, timestamped now.
    pub fn line(&mut self, s: Stream, l: &str) -> std::io::Result<()> {
        let t = self.started.elapsed().as_millis() as u64;
        self.write_record(&Record::Line(Line {
            t,
            s,
            l: l.to_owned(),
        }))
    }

    fn write_record(&mut self, r: &Record) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(r).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        self.file.write_all(&bytes)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A transcript read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub header: Option<Header>,
    pub lines: Vec<Line>,
}

/// Reads a transcript, skipping a torn last line (the writer may have died mid-line).
pub fn read(path: &Path) -> std::io::Result<Transcript> {
    let mut header = None;
    let mut lines = Vec::new();
    for entry in Reader::open(path)? {
        match entry? {
            Entry::Header(h) => header = Some(h),
            Entry::Line(l) => lines.push(l),
        }
    }
    Ok(Transcript { header, lines })
}

/// One record of a transcript file.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Header(Header),
    Line(Line),
}

/// Reads a transcript one record at a time, in order, holding one record in
/// memory whatever the file's size. Torn or foreign lines are skipped, as
/// [`read`] does.
pub struct Reader {
    file: BufReader<File>,
    buf: Vec<u8>,
}

impl Reader {
    pub fn open(path: &Path) -> std::io::Result<Reader> {
        Ok(Reader {
            file: BufReader::with_capacity(64 << 10, File::open(path)?),
            buf: Vec::new(),
        })
    }
}

impl Iterator for Reader {
    type Item = std::io::Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.file.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
            let raw = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            // Lines are nearly every record: try them first (an untagged enum
            // would buffer each record before trying its variants).
            if let Ok(line) = serde_json::from_slice::<Line>(raw) {
                return Some(Ok(Entry::Line(line)));
            }
            if let Ok(Record::Header { header }) = serde_json::from_slice::<Record>(raw) {
                return Some(Ok(Entry::Header(header)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_a_torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(relative_path("a", 2));
        let header = Header {
            task: "a".into(),
            attempt: 2,
            agent: "sim".into(),
            format: Format::Claude,
            argv: vec!["x".into()],
            started_ms: 5,
        };
        let mut w = Writer::create(&path, &header).unwrap();
        w.line(Stream::Out, "{\"type\":\"x\"}").unwrap();
        w.line(Stream::Err, "warn\u{1b}[31m").unwrap();
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"t\":1,\"s\":\"out\",\"l\":\"tor").unwrap();
        let t = read(&path).unwrap();
        assert_eq!(t.header, Some(header));
        assert_eq!(t.lines.len(), 2);
        assert_eq!(t.lines[0].l, "{\"type\":\"x\"}");
        assert_eq!(
            (t.lines[1].s, t.lines[1].l.as_str()),
            (Stream::Err, "warn\u{1b}[31m")
        );
    }
}
