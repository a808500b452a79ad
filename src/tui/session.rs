//! What the TUI works on: the project, the pepper, the process environment and the clock.
//! Shared (behind an `Arc`) with the job threads.

use crate::error::Result;
use crate::keys::fingerprint::Pepper;
use crate::ops::status::{self, ProjectStatus};
use crate::project::Project;
use jiff::Timestamp;
use std::ffi::OsString;

/// Reads an environment variable (the real environment, or a test's).
pub type EnvVar = dyn Fn(&str) -> Option<OsString> + Send + Sync;

/// Where "now" comes from for ages and rotation due dates.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    /// Frozen, for snapshots and benchmarks.
    Fixed(Timestamp),
}

impl Clock {
    pub fn now(self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Fixed(t) => t,
        }
    }
}

pub struct Session {
    pub project: Project,
    pub pepper: Pepper,
    pub env_var: Box<EnvVar>,
    pub clock: Clock,
}

impl Session {
    /// Reads every target again and computes the status.
    pub fn status(&self) -> Result<ProjectStatus> {
        let state = self.project.load_state()?;
        status::collect(
            &self.project,
            &state,
            &self.pepper,
            &*self.env_var,
            self.clock.now(),
        )
    }
}
