//! keywarden: checks, rotates and guards the `SECRET_KEY` of web applications.
//!
//! The core (everything but `cli` and `tui`) knows nothing of terminals: it returns values
//! and typed errors. The command line and the TUI are two thin faces over it.
//!
//! The faces are cargo features (`cli`, `tui`, and the `clipboard` both use), so
//! `cargo check --lib --no-default-features` proves the core needs none of their crates;
//! `tests/layering.rs` checks that no core file names them.
//!
//! The core, by what each part is about:
//! - [`project`]: the project model: manifest, discovery, per-user state, the state home;
//! - [`keys`]: key material: the secret type, generation, fingerprints, strength;
//! - [`targets`]: the places a key lives (`.env`, `secrets.toml`, the environment);
//! - [`ops`]: what changes or reads keys: set, rotate, revoke, restore, status;
//! - [`records`]: what keywarden remembers: the audit trail, backups, the rotation
//!   journal, and the one versioned JSON record store;
//! - [`scanning`]: looking for keys in source trees, git history and logs;
//! - [`incident`]: the compromised-key and lost-key playbooks;
//! - the outside world (environment, clock, who acts): [`context`];
//! - shared vocabulary: [`error`], [`finding`], crash-safe files ([`fsio`]), and the one
//!   module that calls the C library unchecked ([`sys`]).

#![deny(unsafe_code)]

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "clipboard")]
pub mod clipboard;
pub mod context;
pub mod error;
pub mod finding;
pub mod fsio;
pub mod incident;
pub mod keys;
pub mod ops;
pub mod project;
pub mod records;
pub mod scanning;
pub mod sys;
pub mod targets;
#[cfg(feature = "tui")]
pub mod tui;
