//! The `keywarden` binary as users and scripts meet it: arguments, output, exit codes,
//! files on disk.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod analyze;
mod at_rest;
mod attack;
mod audit_tamper;
mod bad_input;
mod completions;
mod crash;
mod example;
mod generate;
mod grace;
mod hygiene;
mod incident;
mod init;
mod json;
mod readme;
mod rotate;
mod scan;
mod secrecy;
mod set;
mod status;
mod syslog;
mod terminal;
mod vault;
mod vault_hostile;
mod watch;
mod writes;
