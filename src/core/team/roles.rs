//! Roles: the built-in ones (`implementer`, `tester`, `documenter`,
//! `reviewer`, `planner`) with their default preambles; `[roles.NAME]` in
//! fleet.toml overrides or adds to them (see `config::roles`).

/// The names of the built-in roles.
pub const BUILT_IN: [&str; 5] = ["implementer", "tester", "documenter", "reviewer", "planner"];
