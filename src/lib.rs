//! keywarden: checks, rotates and guards the `SECRET_KEY` of web applications.
//!
//! The core (everything but `cli` and `tui`) knows nothing of terminals: it returns values
//! and typed errors. The command line and the TUI are two thin faces over it.
//!
//! The faces are cargo features (`cli`, `tui`, and the `clipboard` both use), so
//! `cargo check --lib --no-default-features` proves the core needs none of their crates;
//! `tests/layering.rs` checks that no core file names them.

#![deny(unsafe_code)]

pub mod apply;
pub mod audit;
pub mod backup;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "clipboard")]
pub mod clipboard;
pub mod command;
pub mod current_key;
pub mod demo;
pub mod discovery;
pub mod error;
pub mod finding;
pub mod fingerprint;
pub mod fsio;
pub mod git;
pub mod home;
pub mod incident;
pub mod key;
pub mod logscan;
pub mod manifest;
pub mod project;
pub mod restore;
pub mod rotation;
pub mod scan;
pub mod secret;
pub mod state;
pub mod status;
pub mod strength;
pub mod sys;
pub mod target;
#[cfg(feature = "tui")]
pub mod tui;
