//! Agent CLI output: the normalized event stream and one parser per format.

pub mod event;
pub mod format;

pub use event::{AgentEvent, FailureClass, Verdict};
pub use format::Format;
