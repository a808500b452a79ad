//! How the command line words a core error: the core says what happened, this face adds
//! the command line that fixes it.

use crate::error::Error;

/// The message for `err`, with the fix as a command line where the core names one.
pub fn error(err: &Error) -> String {
    match err {
        Error::KeysDisagree { env, .. } => {
            format!("{err}; write one key everywhere first: keywarden set {env} --generate")
        }
        Error::NoKey { env } => format!(
            "{env} has no key yet: no target holds one (generate one: keywarden set {env} --generate)"
        ),
        Error::RotationInTheWay { env, .. } => {
            format!("{err}; run `keywarden rotate {env} --resume` or `--rollback` first")
        }
        Error::RollbackInterrupted { env, .. } => {
            format!("{err}; finish it with `keywarden rotate {env} --rollback`")
        }
        Error::RotationStopped { env, cause } => format!(
            "{}\n  the rotation is journaled: fix the cause, then `keywarden rotate {env} --resume`, or `keywarden rotate {env} --rollback` to undo it",
            error(cause)
        ),
        Error::WrittenNotRecorded { env, .. } => {
            format!("{err}: keywarden status {env}")
        }
        _ => err.to_string(),
    }
}
