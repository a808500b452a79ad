//! What the TUI works on: the project (which carries the core's [`Context`]: the
//! environment, the clock, who acts) and the pepper. Shared (behind an `Arc`) with the job
//! threads.

use crate::error::Result;
use crate::keys::fingerprint::Pepper;
use crate::ops::status::{self, ProjectStatus};
use crate::project::Project;

pub struct Session {
    pub project: Project,
    pub pepper: Pepper,
}

impl Session {
    /// Reads every target again and computes the status.
    pub fn status(&self) -> Result<ProjectStatus> {
        let state = self.project.load_state()?;
        status::collect(&self.project, &state, &self.pepper)
    }

    /// "Now", from the project's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.project.context.now()
    }
}
