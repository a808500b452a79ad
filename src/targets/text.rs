//! The text formats a file target can have, behind one interface: how a key is read from
//! the text, how one edit changes the text (every other byte kept), and which keys every
//! reader of the format reads back exactly. `dotenv` and `toml` are the two
//! implementations; a new format is a third.

use super::{Edit, Value, dotenv, toml};
use crate::error::{Error, Result};
use crate::finding::{Code, Finding, Severity};
use crate::keys::secret::Secret;
use crate::project::manifest::Format;
use std::path::Path;

/// A file format keys are kept in.
pub trait TextFormat: Sync {
    /// The key `key` in `text` (the file `shown`), and what the reader noticed about the
    /// file itself.
    fn read_value(&self, text: &str, shown: &Path, key: &str) -> (Result<Value>, Vec<Finding>);

    /// `text` with `edit` applied; `None` when the edit changes nothing (removing a key
    /// that is absent).
    fn apply(&self, text: &str, shown: &Path, edit: &Edit) -> Result<Option<String>>;

    /// Whether every reader of the format reads `key` back exactly; `Err` says why not.
    fn carries(&self, key: &Secret) -> std::result::Result<(), String>;
}

/// The implementation of `format`.
pub fn of(format: Format) -> &'static dyn TextFormat {
    match format {
        Format::Dotenv => &Dotenv,
        Format::Toml => &Toml,
    }
}

/// `.env` files, through the line editor of [`dotenv`].
pub struct Dotenv;

/// `secrets.toml` and other TOML files, through [`toml`].
pub struct Toml;

impl TextFormat for Dotenv {
    fn read_value(&self, text: &str, shown: &Path, key: &str) -> (Result<Value>, Vec<Finding>) {
        let parsed = match dotenv::DotenvFile::parse(text) {
            Ok(p) => p,
            Err(e) => return (Err(dotenv_error(shown, e)), Vec::new()),
        };
        let mut findings = Vec::new();
        let all = parsed.entries_named(key);
        let Some(entry) = parsed.get(key) else {
            return (Ok(Value::KeyAbsent), findings);
        };
        if all.len() > 1 {
            let lines: Vec<String> = all.iter().map(|e| e.line().to_string()).collect();
            let differ = all.iter().any(|e| e.value() != entry.value());
            findings.push(
                Finding::new(
                    Code::DuplicateEntry,
                    if differ { Severity::Medium } else { Severity::Low },
                    format!(
                        "{key} is set {} times (lines {}){}; python-dotenv, Docker Compose and a shell all use the last one, line {}",
                        all.len(),
                        lines.join(", "),
                        if differ { " with different values" } else { "" },
                        entry.line()
                    ),
                )
                .at_line(entry.line())
                .with_fix("delete the earlier lines so the file says one thing"),
            );
        }
        // Any line of the file that makes a reader disagree about the key, with its fix.
        for d in parsed.disagreements(key) {
            findings.push(
                Finding::new(
                    Code::ReadersDisagree,
                    Severity::High,
                    format!("{key}: {}", d.message()),
                )
                .at_line(d.line)
                .with_fix(d.fix),
            );
        }
        // A bare `KEY` line (no `=`) sets nothing.
        let value = match entry.value() {
            Some(v) if !v.is_empty() => Value::Present {
                key: Secret::new(v.to_string()),
                line: Some(entry.line()),
            },
            _ => Value::KeyAbsent,
        };
        (Ok(value), findings)
    }

    fn apply(&self, text: &str, shown: &Path, edit: &Edit) -> Result<Option<String>> {
        let parsed = dotenv::DotenvFile::parse(text).map_err(|e| dotenv_error(shown, e))?;
        match edit.value {
            Some(v) => parsed.set(edit.name, v.expose_secret()),
            None if parsed.get(edit.name).is_none() => return Ok(None),
            None => parsed.remove(edit.name),
        }
        .map(Some)
        .map_err(|e| dotenv_error(shown, e))
    }

    fn carries(&self, key: &Secret) -> std::result::Result<(), String> {
        dotenv::check_portable(key.expose_secret()).map_err(|u| u.to_string())
    }
}

impl TextFormat for Toml {
    fn read_value(&self, text: &str, shown: &Path, key: &str) -> (Result<Value>, Vec<Finding>) {
        let value = (|| {
            let parsed = toml::TomlFile::parse(text).map_err(|e| toml_error(shown, e))?;
            match parsed.get(key).map_err(|e| toml_error(shown, e))? {
                Some(v) => Ok(Value::Present {
                    key: Secret::new(v),
                    line: parsed.line_of(key),
                }),
                None => Ok(Value::KeyAbsent),
            }
        })();
        (value, Vec::new())
    }

    fn apply(&self, text: &str, shown: &Path, edit: &Edit) -> Result<Option<String>> {
        let parsed = toml::TomlFile::parse(text).map_err(|e| toml_error(shown, e))?;
        match edit.value {
            Some(v) => parsed.set(edit.name, v.expose_secret()),
            None if parsed
                .get(edit.name)
                .map_err(|e| toml_error(shown, e))?
                .is_none() =>
            {
                return Ok(None);
            }
            None => parsed.remove(edit.name),
        }
        .map(Some)
        .map_err(|e| toml_error(shown, e))
    }

    fn carries(&self, _key: &Secret) -> std::result::Result<(), String> {
        // toml_edit writes a string every TOML reader reads back exactly.
        Ok(())
    }
}

fn dotenv_error(path: &Path, e: dotenv::DotenvError) -> Error {
    let (message, hint) = match &e {
        dotenv::DotenvError::Syntax { message, .. } => (
            message.clone(),
            "fix the line (or remove it); keywarden left the file untouched".to_string(),
        ),
        dotenv::DotenvError::ReadersDisagree { message, fix, .. } => (
            message.clone(),
            format!("{fix}; keywarden left the file untouched"),
        ),
        other => (
            other.to_string(),
            "keywarden left the file untouched".to_string(),
        ),
    };
    Error::input(path, e.line(), e.column(), message, Some(hint))
}

pub(super) fn toml_error(path: &Path, e: toml::TomlTargetError) -> Error {
    let (line, column) = if e.line > 0 {
        (Some(e.line), Some(e.column))
    } else {
        (None, None)
    };
    Error::input(path, line, column, e.message, Some(e.hint))
}
