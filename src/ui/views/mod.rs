//! One file per view. Each view renders from state passed in; none keeps state of its own.
pub mod diff;
