//! Everything that can change the TUI's state: a key, a click, a tick of the clock, a job
//! that finished. `App::update` handles each in one place.

use super::jobs::{Job, JobEvent};
use std::time::Instant;

#[derive(Debug)]
pub enum Action {
    /// Quit; a job that writes files is waited for (a second quit does not wait).
    Quit,
    /// The clock moved: countdowns, the clipboard's clear, the spinner.
    Tick(Instant),

    /// Move the selection (environments, steps, backups, choices) or scroll by this many rows.
    Move(i32),
    /// Move to the first (`false`) or last (`true`) environment, or the details' end.
    Jump {
        end: bool,
    },
    /// Select the environment at this index (a click).
    Select(usize),
    /// Scroll the details by this many lines (the mouse wheel).
    ScrollDetails(i32),
    SwitchPane,
    ShowHelp,
    /// Close the popup in front (cancel, hide the key now).
    ClosePopup,

    /// Typing in a popup's text field.
    Type(char),
    Erase,
    /// `y` or Enter in a confirmation; Enter in a list.
    Confirm,

    /// Ask to generate a new key for the environment (opens the confirmation).
    Generate(String),
    Copy(String),
    /// `y`: what of the environment can be copied (fingerprint, fix commands).
    CopyMenu(String),
    /// Copy this text (no secret) to the clipboard; `what` names it on screen.
    CopyText {
        what: String,
        text: String,
    },
    Reveal(String),
    /// Ask to rotate the environment's key (opens the confirmation).
    Rotate(String),
    /// Ask why the environment's key is revoked (then the confirmation).
    Revoke(String),
    /// The reason is given: ask for the confirmation.
    RevokeBecause {
        env: String,
        reason: String,
    },
    /// Show the environment's unfinished rotation (resume, roll back, later).
    Unfinished(String),
    /// List the environment's backups.
    Backups(String),
    /// Ask to restore this backup (refused at once for a revoked key).
    Restore {
        env: String,
        backup: String,
    },
    /// Show the audit trail.
    AuditTrail,
    /// Offer the incident playbooks for the environment (or its open incident).
    Incident(String),
    /// Open an incident with this playbook on the environment; show the wizard.
    StartIncident {
        playbook: String,
        env: String,
    },
    /// Show the wizard of this (saved) incident.
    OpenIncident(String),
    /// Leave the wizard for the main view.
    CloseWizard,
    /// Act on the wizard's viewed step.
    Step(StepAction),
    /// `o`: the pager, with everything the panes may cut.
    ShowPager,
    /// Scroll the activity pane back (positive: older lines) or forth.
    ScrollActivity(i32),
    /// `t`: the rotation calendar.
    ShowTimeline,
    /// `/`: start typing the filter of the environment list.
    Filter,
    /// Clear the filter (Esc).
    ClearFilter,
    /// Start a background job (after any confirmation).
    Run(Job),
    /// A job reported progress or finished.
    Job(JobEvent),
}

/// What the wizard does with the step on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepAction {
    /// Run its action (asks first when it changes keys).
    Run,
    Done,
    /// Ask why, then skip.
    AskSkip,
    Skip(String),
    AskNote,
    Note(String),
}
