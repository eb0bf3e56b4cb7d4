//! The team layer, pure: typed messages agents send from their worktrees
//! (`message.rs`), the shared context store (`context.rs`), roles and their
//! built-in preambles (`roles.rs`), the reviewer agent's verdict
//! (`review.rs`) and its prompt (`review_prompt.rs`), fan-out candidates (`fanout.rs`) and task groups
//! reconciled on an integration branch (`group.rs`).

pub mod context;
pub mod fanout;
pub mod group;
pub mod message;
pub mod review;
pub mod review_prompt;
pub mod roles;

pub use context::{
    Added, Author, ContextEntry, ContextError, ContextKind, ContextStore, NewEntry, Scope,
};
pub use message::{Message, MessageKind};
pub use review::{ReviewComment, ReviewVerdict, Verdict};
