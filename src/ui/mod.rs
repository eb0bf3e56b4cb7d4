//! The cockpit: a full-screen terminal UI over the engine.
//!
//! The UI keeps a read model updated from engine notifications, maps keys to
//! actions through the keymap, sends commands, and renders as a pure function
//! of its state.

pub mod diff;
pub mod keymap;
pub mod theme;
pub mod views;
