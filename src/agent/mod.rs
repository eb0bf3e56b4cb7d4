//! Agent CLI output: the normalized event stream and one parser per format.

pub mod event;

pub use event::{AgentEvent, FailureClass, Verdict};
