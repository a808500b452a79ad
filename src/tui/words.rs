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
