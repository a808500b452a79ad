//! How the TUI words a core error: the core says what happened, this face names the key
//! that fixes it (from the key table, so the sentence and the bindings cannot drift).

use super::keys::{self, Command};
use crate::error::Error;

/// The message for `err`, with the key to press where the core names a fix.
pub fn error(err: &Error) -> String {
    let generate = keys::shown(Command::Generate);
    let unfinished = keys::shown(Command::Unfinished);
    match err {
        Error::KeysDisagree { .. } => {
            format!("{err}; write one key everywhere first: press {generate} (generate)")
        }
        Error::NoKey { .. } => format!("{err}; press {generate} to generate one"),
        Error::RotationInTheWay { .. } => {
            format!("{err}; press {unfinished} to resume it or roll it back first")
        }
        Error::RollbackInterrupted { .. } => {
            format!("{err}; press {unfinished} and roll it back to finish it")
        }
        Error::RotationStopped { cause, .. } => format!(
            "{}\n  the rotation is journaled: fix the cause, then press {unfinished} to resume it or roll it back",
            error(cause)
        ),
        Error::StepNeedsEarlier { step, requires } => step_needs(step, requires),
        _ => err.to_string(),
    }
}

/// Why a step cannot run yet.
pub fn step_needs(step: &str, requires: &str) -> String {
    format!("step `{step}` needs `{requires}` first (done, or skipped with a note)")
}

/// What a playbook step's action does, in words (the screen never shows its internal name).
pub fn step_action(action: crate::incident::playbook::Action) -> &'static str {
    use crate::incident::playbook::Action;
    match action {
        Action::Revoke => "revokes the environment's key (no grace period)",
        Action::CheckNewKey => "checks that the environment holds a fresh, strong, unrevoked key",
        Action::RotateSharing => "rotates every other environment that holds the key",
        Action::RestartAll => "runs the restart command of every affected environment",
        Action::AuditLogs => "searches the logs for the key and for signature errors",
        Action::Notify => {
            "drafts the message to the security team (and sends it with the manifest's notify)"
        }
        Action::CheckBackups => "lists the key backups and whether the lost key is among them",
        Action::Rotate => "rotates the environment to a new key",
        Action::CheckTargets => "checks that every target holds one key with mode 0600",
    }
}
