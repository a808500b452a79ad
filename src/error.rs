//! The error type every core operation returns, and how each maps to an exit code.
//!
//! Errors carry what a user needs to act: the file, the line and column where they exist,
//! and a hint. They never carry key material: callers build messages from paths, names
//! and fingerprints only.

use crate::keys::fingerprint::Fingerprint;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Exit codes shared by every command (documented in the README).
pub mod exit {
    pub const OK: u8 = 0;
    /// A failed action, or a gate (`check`, `analyze`) that found something at or above `--fail-on`.
    pub const FAILED: u8 = 1;
    /// Bad usage, a bad manifest or bad input.
    pub const BAD_INPUT: u8 = 2;
    /// Another keywarden process holds the project's lock.
    pub const LOCKED: u8 = 3;
}

/// A problem at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asked for something impossible.
    #[error("{0}")]
    Usage(String),
    /// A file's content is wrong (manifest, target, state).
    #[error("{0}")]
    Input(Located),
    /// The operating system refused a file operation.
    #[error("{path}: cannot {action}: {source}{}", hint_suffix(.source))]
    Io {
        path: PathBuf,
        action: &'static str,
        direction: Direction,
        source: io::Error,
    },
    /// Another keywarden process is changing the same project.
    #[error(
        "another keywarden process{} is changing this project (lock {}); wait for it to finish, then run the command again",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        .lock.display()
    )]
    Locked { pid: Option<u32>, lock: PathBuf },
    /// An action ran and did not succeed.
    #[error("{0}")]
    Failed(String),
    /// The targets of an environment hold different keys, so there is no one key to give.
    #[error(
        "{env}'s targets hold different keys ({first} in {first_in}, {second} in {second_in}), so there is no one key to give"
    )]
    KeysDisagree {
        env: String,
        /// Fingerprints (`kw:…`), never keys.
        first: String,
        first_in: String,
        second: String,
        second_in: String,
    },
    /// No target of an environment holds a key.
    #[error("{env} has no key yet: no target holds one")]
    NoKey { env: String },
    /// An unfinished rotation of the environment must be resumed or rolled back first.
    #[error("an unfinished rotation is in the way ({journal})")]
    RotationInTheWay { env: String, journal: String },
    /// A rollback was interrupted: only finishing the rollback is safe.
    #[error("a rollback of this rotation was interrupted ({journal})")]
    RollbackInterrupted { env: String, journal: String },
    /// An incident step cannot run or close before a step it requires.
    #[error("step `{step}` needs `{requires}` first (done or skipped with a note)")]
    StepNeedsEarlier { step: String, requires: String },
    /// The files were written, then keywarden's own record of it (audit trail, state)
    /// could not be: the files are right, the records lag behind.
    #[error(
        "{env}: key {fingerprint} was written to {}, but recording it failed: {cause}\n  the files hold the new key; free space or fix the state folder, then check the environment's status",
        .files.join(", ")
    )]
    WrittenNotRecorded {
        env: String,
        fingerprint: Fingerprint,
        files: Vec<String>,
        cause: Box<Error>,
    },
    /// A step of a rotation failed; its journal can finish or undo it.
    #[error("{cause}\n  the rotation is journaled: fix the cause, then resume it or roll it back")]
    RotationStopped { env: String, cause: Box<Error> },
}

/// What kind of failure an [`Error`] is: the exit code follows from it, never from the
/// wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad usage, a bad manifest, bad input, or a state that must be dealt with first.
    BadInput,
    /// An action ran and failed.
    Failed,
    /// Another keywarden process holds the lock.
    Locked,
}

/// Whether an [`Error::Io`] happened while reading what the user pointed at (bad input)
/// or while writing (a failed action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Reading,
    Writing,
}

fn hint_suffix(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::NotFound => {
            "\n  hint: check the path (relative paths are from the project root)"
        }
        io::ErrorKind::PermissionDenied => {
            "\n  hint: check the file's owner and mode (`ls -l`); keywarden never changes an owner"
        }
        _ => "",
    }
}

impl Error {
    /// Reading `path` failed: bad input (what the user pointed at cannot be read).
    pub fn reading(path: impl AsRef<Path>, action: &'static str, source: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            action,
            direction: Direction::Reading,
            source,
        }
    }

    /// Writing `path` (or changing it) failed: a failed action.
    pub fn writing(path: impl AsRef<Path>, action: &'static str, source: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            action,
            direction: Direction::Writing,
            source,
        }
    }

    pub fn input(
        path: impl AsRef<Path>,
        line: Option<usize>,
        column: Option<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Error::Input(Located {
            path: path.as_ref().to_path_buf(),
            line,
            column,
            message: message.into(),
            hint,
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            // Reading what the user pointed at is input; writing is an action that failed.
            Error::Io {
                direction: Direction::Reading,
                ..
            } => Kind::BadInput,
            Error::Io {
                direction: Direction::Writing,
                ..
            } => Kind::Failed,
            Error::Usage(_)
            | Error::Input(_)
            | Error::RotationInTheWay { .. }
            | Error::RollbackInterrupted { .. }
            | Error::StepNeedsEarlier { .. } => Kind::BadInput,
            Error::Locked { .. } => Kind::Locked,
            Error::Failed(_)
            | Error::KeysDisagree { .. }
            | Error::NoKey { .. }
            | Error::WrittenNotRecorded { .. }
            | Error::RotationStopped { .. } => Kind::Failed,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind() {
            Kind::BadInput => exit::BAD_INPUT,
            Kind::Failed => exit::FAILED,
            Kind::Locked => exit::LOCKED,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_names_file_line_column_and_hint() {
        let e = Error::input(
            "keywarden.toml",
            Some(7),
            Some(3),
            "unknown field `rotate`",
            Some("did you mean `rotate_every_days`?".into()),
        );
        assert_eq!(
            e.to_string(),
            "keywarden.toml:7:3: unknown field `rotate`\n  hint: did you mean `rotate_every_days`?"
        );
        assert_eq!(e.exit_code(), exit::BAD_INPUT);
    }

    #[test]
    fn failed_reads_are_bad_input_and_failed_writes_are_failed_actions() {
        let denied = || io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(
            Error::reading("a.env", "read", denied()).exit_code(),
            exit::BAD_INPUT
        );
        assert_eq!(
            Error::reading("d", "open the folder", denied()).exit_code(),
            exit::BAD_INPUT
        );
        assert_eq!(
            Error::writing("a.env", "replace", denied()).exit_code(),
            exit::FAILED
        );
        assert_eq!(
            Error::writing("a.env", "write", denied()).exit_code(),
            exit::FAILED
        );
        assert_eq!(
            Error::writing("b", "create the backup folder", denied()).exit_code(),
            exit::FAILED
        );
    }

    #[test]
    fn locked_names_the_pid_and_exits_3() {
        let e = Error::Locked {
            pid: Some(4242),
            lock: "/tmp/x/lock".into(),
        };
        assert!(e.to_string().contains("pid 4242"));
        assert_eq!(e.exit_code(), exit::LOCKED);
    }

    #[test]
    fn what_happened_decides_the_exit_code_and_the_core_names_no_command() {
        let journal = "production: rotate from kw:1 to kw:2".to_string();
        let cases = [
            (
                Error::RotationInTheWay {
                    env: "production".into(),
                    journal: journal.clone(),
                },
                exit::BAD_INPUT,
            ),
            (
                Error::RollbackInterrupted {
                    env: "production".into(),
                    journal,
                },
                exit::BAD_INPUT,
            ),
            (
                Error::NoKey {
                    env: "production".into(),
                },
                exit::FAILED,
            ),
            (
                Error::RotationStopped {
                    env: "production".into(),
                    cause: Box::new(Error::Failed("verify failed".into())),
                },
                exit::FAILED,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e}");
            assert!(!e.to_string().contains("keywarden "), "{e}");
        }
    }
}
