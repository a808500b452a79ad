//! Looking for keys where they should not be: source files and git history ([`scan`],
//! with git access in [`git`]), and log files ([`logscan`]).

pub mod baseline;
pub mod example;
pub mod git;
pub mod history;
pub mod logscan;
pub mod scan;
mod walk;
