//! Targets: the places one environment's key lives, read and written the same way
//! whatever their format.
//!
//! Reading never fails as a whole: a missing file, an absent key or a malformed file is a
//! value of [`Value`] or an error kept in [`TargetRead`], so `status` can show every
//! target. Writing is planned first ([`plan_set`]) and applied by the caller only when
//! every target of the environment planned cleanly, so an environment is never left
//! half-updated.

pub mod dotenv;
pub mod toml;

use crate::error::{Error, Result};
use crate::finding::{Code, Finding, Severity};
use crate::fsio::{self, FileMeta};
use crate::keys::secret::Secret;
use crate::project::manifest::{Format, Target};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What a target holds.
#[derive(Debug)]
pub enum Value {
    /// The key, as the application reads it; `line` is 1-based where the format has lines.
    Present { key: Secret, line: Option<usize> },
    /// The file exists but does not set the key.
    KeyAbsent,
    /// The file does not exist.
    FileMissing,
    /// The environment variable is not set.
    Unset,
}

#[derive(Debug)]
pub struct TargetRead {
    pub target: Target,
    /// The file read and written (symlinks inside the project resolved); `None` for a
    /// variable.
    pub path: Option<PathBuf>,
    pub meta: Option<FileMeta>,
    pub value: Result<Value>,
    /// What the reader noticed about the file itself: duplicates, readers that disagree.
    pub findings: Vec<Finding>,
}

impl TargetRead {
    pub fn key(&self) -> Option<&Secret> {
        match &self.value {
            Ok(Value::Present { key, .. }) => Some(key),
            _ => None,
        }
    }
}

/// Reads `target` of the project at `root` (canonical). `env_var` reads the process
/// environment.
pub fn read(
    root: &Path,
    target: &Target,
    env_var: &dyn Fn(&str) -> Option<OsString>,
) -> TargetRead {
    read_with(root, target, env_var, None)
}

/// [`read`], sharing resolved folders with the other reads of one pass.
pub fn read_with(
    root: &Path,
    target: &Target,
    env_var: &dyn Fn(&str) -> Option<OsString>,
    folders: Option<&fsio::FolderCache>,
) -> TargetRead {
    match target {
        Target::Env { var } => TargetRead {
            target: target.clone(),
            path: None,
            meta: None,
            value: read_env(var, env_var),
            findings: Vec::new(),
        },
        Target::File { path, format, key } => {
            let resolved = fsio::resolve_inside_with(root, path, folders);
            let (file, meta, value, findings) = match resolved {
                Err(e) => (None, None, Err(e), Vec::new()),
                Ok(file) => match fsio::read_with_meta(&file) {
                    Ok((bytes, meta)) => {
                        let (value, findings) = match fsio::text_from_bytes(&file, bytes) {
                            Ok(text) => parse_value(&text, path, *format, key),
                            Err(e) => (Err(e), Vec::new()),
                        };
                        (Some(file), Some(meta), value, findings)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        (Some(file), None, Ok(Value::FileMissing), Vec::new())
                    }
                    Err(e) => {
                        let meta = fsio::file_meta(&file).ok();
                        let err = Error::reading(&file, "read", e);
                        (Some(file), meta, Err(err), Vec::new())
                    }
                },
            };
            TargetRead {
                target: target.clone(),
                path: file,
                meta,
                value,
                findings,
            }
        }
    }
}

fn read_env(var: &str, env_var: &dyn Fn(&str) -> Option<OsString>) -> Result<Value> {
    match env_var(var) {
        None => Ok(Value::Unset),
        Some(v) if v.is_empty() => Ok(Value::Unset),
        Some(v) => match v.into_string() {
            Ok(s) => Ok(Value::Present {
                key: Secret::new(s),
                line: None,
            }),
            Err(_) => Err(Error::Usage(format!(
                "the environment variable {var} is not valid UTF-8"
            ))),
        },
    }
}

/// Reads the file's text, or `None` when it does not exist.
fn read_existing(file: &Path) -> Result<Option<String>> {
    match std::fs::read(file) {
        Ok(bytes) => fsio::text_from_bytes(file, bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::reading(file, "read", e)),
    }
}

/// The key `target` would read from `text` (a file's content, e.g. a backup), if any.
pub fn key_in_text(target: &Target, text: &str) -> Option<Secret> {
    match target {
        Target::File { path, format, key } => match parse_value(text, path, *format, key).0 {
            Ok(Value::Present { key, .. }) => Some(key),
            _ => None,
        },
        Target::Env { .. } => None,
    }
}

fn parse_value(
    text: &str,
    shown: &Path,
    format: Format,
    key: &str,
) -> (Result<Value>, Vec<Finding>) {
    match format {
        Format::Dotenv => dotenv_value(text, shown, key),
        Format::Toml => (toml_value(text, shown, key), Vec::new()),
    }
}

fn dotenv_value(text: &str, shown: &Path, key: &str) -> (Result<Value>, Vec<Finding>) {
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
    // Any line of the file that makes a reader disagree about the key, with its own fix.
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

fn toml_value(text: &str, shown: &Path, key: &str) -> Result<Value> {
    let parsed = toml::TomlFile::parse(text).map_err(|e| toml_error(shown, e))?;
    match parsed.get(key).map_err(|e| toml_error(shown, e))? {
        Some(v) => Ok(Value::Present {
            key: Secret::new(v),
            line: parsed.line_of(key),
        }),
        None => Ok(Value::KeyAbsent),
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

fn toml_error(path: &Path, e: toml::TomlTargetError) -> Error {
    let (line, column) = if e.line > 0 {
        (Some(e.line), Some(e.column))
    } else {
        (None, None)
    };
    Error::input(path, line, column, e.message, Some(e.hint))
}

/// Whether every reader of `target` reads `key` back exactly; `Err` says why not.
pub fn carries(target: &Target, key: &Secret) -> std::result::Result<(), String> {
    match target {
        Target::File {
            format: Format::Dotenv,
            ..
        } => dotenv::check_portable(key.expose_secret()).map_err(|u| u.to_string()),
        Target::File {
            format: Format::Toml,
            ..
        }
        | Target::Env { .. } => Ok(()),
    }
}

/// A write that has been prepared but not done. Its contents hold keys: `Debug` shows
/// their lengths only.
pub struct PlannedWrite {
    /// The target as the manifest names it.
    pub label: String,
    /// The file to replace (symlinks resolved).
    pub path: PathBuf,
    /// The file's bytes now; `None` if it does not exist yet. Both hold key material.
    pub old: Option<Zeroizing<Vec<u8>>>,
    pub new: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for PlannedWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedWrite")
            .field("label", &self.label)
            .field("path", &self.path)
            .field("old_len", &self.old.as_ref().map(|o| o.len()))
            .field("new_len", &self.new.len())
            .finish()
    }
}

impl PlannedWrite {
    pub fn changes_anything(&self) -> bool {
        self.old.as_ref().map(|o| &o[..]) != Some(&self.new[..])
    }
}

/// One change to a key inside a file: set it to a value, or remove it.
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    /// The key's name in the file (`SECRET_KEY`, `auth.secret_key`).
    pub name: &'a str,
    /// `None` removes the key.
    pub value: Option<&'a Secret>,
}

/// Prepares writing `key` to `target`. Environment variables are read-only: `Ok(None)`.
/// Any problem (malformed file, missing folder, a key the format cannot carry) is an
/// error and nothing is written.
pub fn plan_set(root: &Path, target: &Target, key: &Secret) -> Result<Option<PlannedWrite>> {
    let Target::File {
        path,
        format,
        key: name,
    } = target
    else {
        return Ok(None);
    };
    plan_edits(
        root,
        path,
        *format,
        &[Edit {
            name,
            value: Some(key),
        }],
    )
    .map(Some)
}

/// Prepares several edits of one file as one write (a key and its grace-period fallback
/// often share a `.env`). Removing a key that is absent changes nothing.
pub fn plan_edits(
    root: &Path,
    path: &Path,
    format: Format,
    edits: &[Edit],
) -> Result<PlannedWrite> {
    let file = fsio::resolve_inside(root, path)?;
    let old = read_existing(&file)?.map(Zeroizing::new);
    let mut text = Zeroizing::new(old.as_ref().map_or(String::new(), |o| o.to_string()));
    for edit in edits {
        let next = match format {
            Format::Dotenv => {
                let parsed = dotenv::DotenvFile::parse(&text).map_err(|e| dotenv_error(path, e))?;
                match edit.value {
                    Some(v) => parsed.set(edit.name, v.expose_secret()),
                    None if parsed.get(edit.name).is_none() => continue,
                    None => parsed.remove(edit.name),
                }
                .map_err(|e| dotenv_error(path, e))?
            }
            Format::Toml => {
                let parsed = toml::TomlFile::parse(&text).map_err(|e| toml_error(path, e))?;
                match edit.value {
                    Some(v) => parsed.set(edit.name, v.expose_secret()),
                    None if parsed
                        .get(edit.name)
                        .map_err(|e| toml_error(path, e))?
                        .is_none() =>
                    {
                        continue;
                    }
                    None => parsed.remove(edit.name),
                }
                .map_err(|e| toml_error(path, e))?
            }
        };
        *text = next;
    }
    Ok(PlannedWrite {
        label: path.display().to_string(),
        path: file,
        old: old.map(|o| Zeroizing::new(o.as_bytes().to_vec())),
        new: Zeroizing::new(text.as_bytes().to_vec()),
    })
}
