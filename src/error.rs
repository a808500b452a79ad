//! The error type every core operation returns, and how each maps to an exit code.
//!
//! Errors carry what a user needs to act: the file, the line and column where they exist,
//! and a hint. They never carry key material: callers build messages from paths, names
//! and fingerprints only.

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
}

/// The actions of [`Error::Io`] that read (a file, a folder, a link): failing them is bad
/// input (exit 2); every other action writes, and failing it is a failed action (exit 1).
fn is_reading(action: &str) -> bool {
    action.starts_with("read")
        || matches!(
            action,
            "open the folder" | "open the project folder" | "follow the symlink"
        )
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
    pub fn io(path: impl AsRef<Path>, action: &'static str, source: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            action,
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

    pub fn exit_code(&self) -> u8 {
        match self {
            // Reading what the user pointed at is input; writing is an action that failed.
            Error::Io { action, .. } if is_reading(action) => exit::BAD_INPUT,
            Error::Io { .. } => exit::FAILED,
            Error::Usage(_) | Error::Input(_) => exit::BAD_INPUT,
            Error::Locked { .. } => exit::LOCKED,
            Error::Failed(_) => exit::FAILED,
        }
    }
}

impl From<crate::project::manifest::ManifestError> for Error {
    fn from(e: crate::project::manifest::ManifestError) -> Self {
        let (line, column) = if e.line > 0 {
            (Some(e.line), Some(e.column))
        } else {
            (None, None)
        };
        Error::input(e.path, line, column, e.message, Some(e.hint))
    }
}

impl From<crate::records::audit::AuditError> for Error {
    /// The audit trail fails closed: the action that needed the record did not happen.
    fn from(e: crate::records::audit::AuditError) -> Self {
        Error::Failed(format!(
            "no audit record could be written, so nothing was done: {e}"
        ))
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
            Error::io("a.env", "read", denied()).exit_code(),
            exit::BAD_INPUT
        );
        assert_eq!(
            Error::io("d", "open the folder", denied()).exit_code(),
            exit::BAD_INPUT
        );
        assert_eq!(
            Error::io("a.env", "replace", denied()).exit_code(),
            exit::FAILED
        );
        assert_eq!(
            Error::io("a.env", "write", denied()).exit_code(),
            exit::FAILED
        );
        assert_eq!(
            Error::io("b", "create the backup folder", denied()).exit_code(),
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
}
