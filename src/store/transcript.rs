//! Transcript files: `.fleet/runs/<task>/<attempt>.jsonl`, one JSON object per
//! line of agent output, appended as it arrives.
//!
//! The raw line is kept (not the parsed event), so a transcript can be parsed
//! again later by an improved parser. The first line is a header saying which
//! agent and format produced it.
//!
//! **Cap.** A writer keeps at most about `max_bytes` per attempt (see
//! [`Writer::create_capped`]): the first half is written as it comes; past
//! it, the output goes to two tail segments next to the file
//! (`<n>.jsonl.tail0`/`.tail1`, each a quarter of the cap), the older one
//! emptied and reused whenever the newer fills, so disk and memory stay
//! bounded whatever the agent prints. When the writer is finished (or
//! dropped) the segments are stitched onto the file behind one
//! [`Stream::Fleet`] line starting with [`CUT_MARKER`] that says how many
//! lines and bytes were cut. Parsing is not affected: the runtime parses
//! every line before it is written.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
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

/// How the note that stands where a capped transcript's middle was cut
/// starts (`transcript cut here: 812 lines (1.2 GB) ...`).
pub const CUT_MARKER: &str = "transcript cut here: ";

/// The cap of a writer made by [`Writer::create`]: 64 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// True for the note a capped transcript has where its middle was cut.
pub fn is_cut_marker(line: &Line) -> bool {
    line.s == Stream::Fleet && line.l.starts_with(CUT_MARKER)
}

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

/// The transcript of supervisor consultation `consult`, relative to the
/// `.fleet` directory: `runs/_supervisor/<consult>.jsonl` (no task id
/// starts with `_`). Every round of the consultation (the re-asks) is in it.
pub fn supervisor_path(consult: u64) -> PathBuf {
    Path::new("runs")
        .join("_supervisor")
        .join(format!("{consult}.jsonl"))
}

/// The highest attempt number with a transcript file of `task` under
/// `fleet_dir` (`runs/<task>/<n>.jsonl`); 0 when there is none. Read by
/// `fleetdeck recover`, so a rebuilt task's next attempt does not overwrite
/// an old transcript.
pub fn last_attempt_on_disk(fleet_dir: &Path, task: &str) -> u32 {
    let Ok(entries) = std::fs::read_dir(fleet_dir.join("runs").join(task)) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            name.to_str()?.strip_suffix(".jsonl")?.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Appends lines to one attempt's transcript, within its cap.
pub struct Writer {
    file: File,
    started: Instant,
    path: PathBuf,
    /// Bytes written to `file` by this writer.
    head_bytes: u64,
    max_bytes: u64,
    /// Set once the head is full.
    tail: Option<Tail>,
}

/// The end of a capped transcript while it is written: two segment files.
struct Tail {
    segments: [Segment; 2],
    /// Which segment new records go to.
    current: usize,
    /// What was dropped from the tail so far.
    cut_lines: u64,
    cut_bytes: u64,
}

struct Segment {
    file: File,
    path: PathBuf,
    lines: u64,
    bytes: u64,
}

impl Segment {
    fn create(path: PathBuf) -> std::io::Result<Segment> {
        let file = super::private::open_private(
            &path,
            OpenOptions::new()
                .create(true)
                .read(true)
                .write(true)
                .truncate(true),
        )?;
        Ok(Segment {
            file,
            path,
            lines: 0,
            bytes: 0,
        })
    }

    fn clear(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.lines = 0;
        self.bytes = 0;
        Ok(())
    }
}

impl Writer {
    /// Creates (truncating) the transcript at `path` with the default cap
    /// ([`DEFAULT_MAX_BYTES`]) and writes its header.
    pub fn create(path: &Path, header: &Header) -> std::io::Result<Writer> {
        Self::create_capped(path, header, DEFAULT_MAX_BYTES)
    }

    /// Creates (truncating) the transcript at `path` (0600, its directories
    /// 0700), keeping about
    /// `max_bytes` of it (`[fleet] transcript_max_mb`), and writes its header.
    pub fn create_capped(path: &Path, header: &Header, max_bytes: u64) -> std::io::Result<Writer> {
        if let Some(dir) = path.parent() {
            super::private::create_dir_private(dir)?;
        }
        let file = super::private::open_private(
            path,
            OpenOptions::new().create(true).write(true).truncate(true),
        )?;
        let mut w = Writer::new(file, Instant::now(), path, max_bytes);
        w.write_record(&Record::Header {
            header: header.clone(),
        })?;
        Ok(w)
    }

    fn new(file: File, started: Instant, path: &Path, max_bytes: u64) -> Writer {
        Writer {
            file,
            started,
            path: path.to_owned(),
            head_bytes: 0,
            max_bytes: max_bytes.max(4),
            tail: None,
        }
    }

    /// Opens an existing transcript to append more lines (verify output),
    /// keeping timestamps relative to the attempt's start from its header.
    /// What it appends has a cap of its own ([`DEFAULT_MAX_BYTES`]).
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
        Ok(Writer::new(file, started, path, DEFAULT_MAX_BYTES))
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
        let len = bytes.len() as u64;
        if self.tail.is_none()
            && (self.head_bytes == 0 || self.head_bytes + len <= self.max_bytes / 2)
        {
            self.head_bytes += len;
            return self.file.write_all(&bytes);
        }
        let tail = match &mut self.tail {
            Some(t) => t,
            None => self.tail.insert(Tail {
                segments: [
                    Segment::create(segment_path(&self.path, 0))?,
                    Segment::create(segment_path(&self.path, 1))?,
                ],
                current: 0,
                cut_lines: 0,
                cut_bytes: 0,
            }),
        };
        let segment_max = self.max_bytes / 4;
        if tail.segments[tail.current].bytes > 0
            && tail.segments[tail.current].bytes + len > segment_max
        {
            // The older segment goes: it is the middle now.
            let older = &mut tail.segments[1 - tail.current];
            tail.cut_lines += older.lines;
            tail.cut_bytes += older.bytes;
            older.clear()?;
            tail.current = 1 - tail.current;
        }
        let segment = &mut tail.segments[tail.current];
        segment.lines += 1;
        segment.bytes += len;
        segment.file.write_all(&bytes)
    }

    /// Stitches the kept tail onto the file, behind a note saying what was
    /// cut (when anything was), and removes the segment files. Called when
    /// the attempt's output ended; dropping the writer does it too.
    pub fn finish(&mut self) -> std::io::Result<()> {
        let Some(mut tail) = self.tail.take() else {
            return Ok(());
        };
        if tail.cut_lines > 0 {
            let note = format!(
                "{CUT_MARKER}{} lines ({}) of output left out; the transcript keeps its first and last {} ([fleet] transcript_max_mb)",
                tail.cut_lines,
                human_bytes(tail.cut_bytes),
                human_bytes(self.max_bytes / 2),
            );
            let t = self.started.elapsed().as_millis() as u64;
            let mut bytes = serde_json::to_vec(&Record::Line(Line {
                t,
                s: Stream::Fleet,
                l: note,
            }))
            .map_err(std::io::Error::other)?;
            bytes.push(b'\n');
            self.file.write_all(&bytes)?;
        }
        let older = 1 - tail.current;
        for i in [older, tail.current] {
            let segment = &mut tail.segments[i];
            segment.file.seek(SeekFrom::Start(0))?;
            std::io::copy(&mut segment.file, &mut self.file)?;
        }
        for segment in &tail.segments {
            let _ = std::fs::remove_file(&segment.path);
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!(
                "transcript {}: cannot stitch its tail: {e}",
                self.path.display()
            );
        }
    }
}

/// `<n>.jsonl.tail<i>`: a tail segment of the transcript at `path`.
fn segment_path(path: &Path, i: usize) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tail{i}"));
    path.with_file_name(name)
}

/// `1.2 GB`, `512 KB`, `80 B`.
fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} KB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
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

    fn header() -> Header {
        Header {
            task: "a".into(),
            attempt: 1,
            agent: "sim".into(),
            format: Format::Text,
            argv: vec![],
            started_ms: 5,
        }
    }

    #[test]
    fn a_burst_keeps_the_head_the_tail_and_says_what_was_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(relative_path("a", 1));
        let cap = 1 << 20;
        let mut w = Writer::create_capped(&path, &header(), cap).unwrap();
        let pad = "x".repeat(1000);
        let n = 50_000; // ~50 MB of output
        for i in 0..n {
            w.line(Stream::Out, &format!("line {i} {pad}")).unwrap();
        }
        w.line(Stream::Fleet, "agent ended: exit code 0").unwrap();
        assert!(
            std::fs::metadata(segment_path(&path, 0)).unwrap().len() <= cap / 4 + 1100,
            "the tail is bounded on disk while it is written"
        );
        drop(w);
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size <= cap + 4096, "{size} bytes for a cap of {cap}");
        assert!(!segment_path(&path, 0).exists() && !segment_path(&path, 1).exists());
        let t = read(&path).unwrap();
        assert_eq!(t.header, Some(header()));
        assert!(t.lines[0].l.starts_with("line 0 "), "the head");
        let cut: Vec<&Line> = t.lines.iter().filter(|l| is_cut_marker(l)).collect();
        assert_eq!(cut.len(), 1);
        let kept = t.lines.len() as u64 - 2; // without the marker and the end note
        let said = format!("{CUT_MARKER}{} lines (", n - kept);
        assert!(cut[0].l.starts_with(&said), "{} vs {said}", cut[0].l);
        let last = &t.lines[t.lines.len() - 2];
        assert!(last.l.starts_with(&format!("line {} ", n - 1)), "the tail");
        assert_eq!(t.lines.last().unwrap().l, "agent ended: exit code 0");
        // Kept lines are in order, head then tail, with no gap but the cut.
        let numbers: Vec<u64> = t
            .lines
            .iter()
            .filter_map(|l| l.l.strip_prefix("line ")?.split(' ').next()?.parse().ok())
            .collect();
        let gaps = numbers.windows(2).filter(|w| w[1] != w[0] + 1).count();
        assert_eq!(gaps, 1, "one cut");
    }

    #[test]
    fn output_under_the_cap_is_kept_whole_without_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(relative_path("a", 1));
        let mut w = Writer::create_capped(&path, &header(), 100_000).unwrap();
        for i in 0..900 {
            w.line(
                Stream::Out,
                &format!("line {i} ........................................"),
            )
            .unwrap();
        }
        w.finish().unwrap();
        drop(w);
        let t = read(&path).unwrap();
        assert_eq!(t.lines.len(), 900);
        assert!(t.lines.iter().all(|l| !is_cut_marker(l)));
        assert!(
            t.lines
                .iter()
                .enumerate()
                .all(|(i, l)| l.l.starts_with(&format!("line {i} ")))
        );
    }
}
