//! The TUI: screens and popups as `insta` snapshots on ratatui's `TestBackend`, the keys
//! and actions driven in process, the binary in tmux end to end, and the clipboard under
//! Xvfb.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod actions;
mod activity;
mod alerts;
mod audit;
mod autorefresh;
mod clipboard;
mod commands;
mod diff;
mod every_screen;
mod filter;
mod flow_screens;
mod flows;
mod leaks;
mod legible;
mod passphrase;
mod scan;
mod screens;
mod timeline;
mod tmux;
mod truth;
mod vault;
mod watch_trail;
