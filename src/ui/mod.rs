//! The cockpit: a full-screen terminal UI over the engine.
//!
//! The UI keeps a read model ([`model`]) updated from engine notifications,
//! maps keys to actions through the keymap ([`keymap`]) in the app state
//! ([`app`]), sends commands, and renders ([`render`]) as a pure function of
//! that state. [`run`] is the event loop; [`terminal`] owns the screen.

pub mod app;
pub mod diff;
#[cfg(test)]
pub mod fixture;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod render;
pub mod run;
pub mod sgr16;
#[cfg(test)]
mod snapshots;
mod suspend;
pub mod terminal;
pub mod theme;
pub mod views;
