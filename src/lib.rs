//! fleetdeck: supervise a fleet of AI coding agents working on one repository.
//!
//! Module map (see ARCHITECTURE.md for the longer version):
//! - [`core`]: plan, tasks, statuses and the scheduler state machine. No tokio, git2 or terminal.
//! - [`config`]: `fleet.toml` parsing and validation.
//! - [`agent`]: the normalized agent event stream and the output parsers per CLI format.
//! - [`sanitize`]: strips terminal control sequences from untrusted agent text.
//! - [`sim`]: the simulated agent (`fleetdeck sim-agent`).
//! - [`git`]: worktrees, attributed commits and safe merges (git2), no async.
//! - [`store`]: the SQLite database under `.fleet/`, the lock file and transcripts.
//! - [`runtime`]: the tokio shell that carries out scheduler effects.
//! - [`cli`]: the command line.

pub mod agent;
pub mod cli;
pub mod config;
pub mod core;
pub mod git;
pub mod runtime;
pub mod sanitize;
pub mod sim;
pub mod store;
pub mod summary;
pub mod ui;
