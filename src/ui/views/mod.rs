//! One file per view. Each renders from the state passed in and keeps none of its own.

pub mod board;
pub mod chrome;
pub mod compare;
pub mod context;
pub mod detail;
pub mod dialogs;
pub mod diff;
pub mod help;
pub mod info;
pub mod messages;
pub mod plan_diff;
pub mod review;
pub mod supervisor;
pub mod team;
pub mod transcript;
