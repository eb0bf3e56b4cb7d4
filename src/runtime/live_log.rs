//! An attempt's transcript as it is written. Every line goes to the
//! transcript file; every line that is not the agent's stdout (stdout is
//! parsed and goes out as events) also goes to observers, tagged with its
//! stream. A live view therefore holds exactly the lines of the file.

use tokio::sync::mpsc;

use super::Msg;
use crate::core::TaskId;
use crate::store::transcript::{Stream, Writer};

pub(crate) struct LiveLog {
    /// None when the transcript could not be opened (lines still go to observers).
    writer: Option<Writer>,
    tx: mpsc::UnboundedSender<Msg>,
    task: TaskId,
    attempt: u32,
}

impl LiveLog {
    pub fn new(
        writer: Option<Writer>,
        tx: mpsc::UnboundedSender<Msg>,
        task: TaskId,
        attempt: u32,
    ) -> LiveLog {
        LiveLog {
            writer,
            tx,
            task,
            attempt,
        }
    }

    /// A line of the agent's stdout: to the file only (observers get its events).
    pub fn out(&mut self, text: &str) {
        self.write(Stream::Out, text);
    }

    /// Any other line (stderr, fleetdeck's notes, verify output): to the file and to observers.
    pub fn line(&mut self, stream: Stream, text: &str) {
        self.write(stream, text);
        let line = text.to_owned();
        let _ = self.tx.send(Msg::Line {
            task: self.task.clone(),
            attempt: self.attempt,
            stream,
            line,
        });
    }

    /// Writes one line to the file. The first failure (disk full...) is an
    /// environment fault for the engine; the file is then given up, so a
    /// failing disk costs one message, not one per line.
    fn write(&mut self, stream: Stream, text: &str) {
        if let Some(w) = self.writer.as_mut()
            && let Err(e) = w.line(stream, text)
        {
            let message = format!("cannot write the transcript {}: {e}", w.path().display());
            self.writer = None;
            let _ = self.tx.send(Msg::EnvironmentFault { message });
        }
    }
}
