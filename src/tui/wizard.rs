//! The incident wizard's state: the incident as saved, its playbook, and the step on
//! screen. Every change goes through [`Incidents`](crate::incident::Incidents), which
//! saves at once: a killed TUI loses nothing.

use crate::incident::playbook::{Action, Playbook};
use crate::incident::{Incident, Status};

pub struct Wizard {
    pub incident: Incident,
    pub playbook: Playbook,
    /// The step on screen (index into the incident's steps).
    pub cursor: usize,
}

impl Wizard {
    /// Opens on the first open step (the last one when every step is closed).
    pub fn new(incident: Incident, playbook: Playbook) -> Wizard {
        let mut w = Wizard {
            incident,
            playbook,
            cursor: 0,
        };
        w.go_to_current();
        w
    }

    /// Takes the incident as saved again and moves to its first open step.
    pub fn replace(&mut self, incident: Incident) {
        self.incident = incident;
        self.go_to_current();
    }

    fn go_to_current(&mut self) {
        let last = self.incident.steps.len().saturating_sub(1);
        self.cursor = self
            .incident
            .steps
            .iter()
            .position(|s| !s.status.is_closed())
            .unwrap_or(last);
    }

    pub fn move_by(&mut self, by: i32) {
        let last = self.incident.steps.len().saturating_sub(1) as i64;
        self.cursor = (self.cursor as i64 + i64::from(by)).clamp(0, last) as usize;
    }

    /// The id of the step on screen.
    pub fn step_id(&self) -> Option<&str> {
        self.incident.steps.get(self.cursor).map(|s| s.id.as_str())
    }

    /// The action of the step on screen, if it has one.
    pub fn action(&self) -> Option<Action> {
        self.step_id()
            .and_then(|id| self.playbook.step(id))
            .and_then(|d| d.action)
    }

    /// Whether the incident's current (first open) step is the one on screen.
    pub fn on_current(&self) -> bool {
        self.incident
            .current()
            .is_some_and(|c| Some(c.id.as_str()) == self.step_id())
    }
}

/// The mark of a step in the list.
pub fn mark(status: Status, current: bool) -> &'static str {
    match status {
        Status::Done => "[x]",
        Status::Skipped => "[-]",
        Status::Failed => "[!]",
        Status::Pending if current => "[>]",
        Status::Pending => "[ ]",
    }
}
