//! Operations on an environment's key: set (plan every target, then write), rotate and
//! revoke (the journaled protocol), restore from a backup, find the current key, and the
//! read-only status that `status`, `check` and the TUI show, with the guide's checklist
//! computed from it ([`checklist`]). Restart and verify commands
//! run through [`command`], with keys hidden from their output.

pub mod apply;
pub mod checklist;
pub mod command;
pub mod current_key;
pub mod known;
pub(crate) mod parallel;
pub mod restore;
pub mod rotation;
pub mod run;
pub mod status;
pub mod watch;
