//! `keywarden.toml`: the committed manifest. It says where each environment's key lives and
//! how it is rotated; it never holds a key.
//!
//! ```toml
//! version = 1
//!
//! [defaults]
//! key = "SECRET_KEY"
//! length = 64
//! charset = "guide"
//!
//! [[environments]]
//! name = "production"
//! rotate_every_days = 180
//! targets = [
//!   { path = "deploy/production/.env", format = "dotenv" },
//!   { path = "deploy/production/.streamlit/secrets.toml", key = "auth.secret_key" },
//!   { env = "SECRET_KEY" },
//! ]
//! ```
//!
//! # Parsing
//!
//! The file is parsed into `toml`'s spanned tree (`DeTable`: every key and value with its
//! byte span, strings borrowed from the text, keys in document order) and then walked by
//! hand rather than deserialised with serde: walking it gives every error, semantic ones
//! included, the exact line and column of the offending key or value, plus context that
//! serde's messages lack (`in environment "production"`). The tree is a fraction of the
//! size of toml_edit's format-preserving document (which `init` still uses to write). Unknown fields are errors
//! everywhere. The `version` is checked first, so a newer manifest is reported as such rather
//! than as a pile of unknown fields.
//!
//! # Rules
//!
//! - `version = 1` is required.
//! - `[defaults]` is optional: `key = "SECRET_KEY"`, `length = 64` (at least the guide's 32),
//!   `charset = "guide"` (guide, alnum, hex, base64, base64url), `keep_backups_days = N`
//!   (prune older backups, never the newest one of a key in use; default: keep all),
//!   `backup_recipients = ["age1…"]` (age public keys every backup is also encrypted to).
//! - At least one `[[environments]]`. `name` is required, unique, `[A-Za-z0-9._-]+` and not
//!   `.` or `..` (names end up in paths). `rotate_every_days` defaults by name (see
//!   [`default_rotation_days`]); `grace_days` defaults to 0 and needs a `fallback`;
//!   `timeout_secs` (for `restart` and `verify`) defaults to 120.
//! - A target is a file (`path`, optional `format`, optional `key`) or an environment variable
//!   (`env`), never both. `format` defaults from the path: `*.toml` is `toml`, anything else
//!   `dotenv`. `key` defaults to `defaults.key`; a TOML key may be dotted (`auth.secret_key`,
//!   quoted segments allowed: `"a.b".c`), a dotenv key or `env` is `[A-Za-z_][A-Za-z0-9_]*`.
//!   Paths are relative to the project root (the manifest's directory) and stay inside it.
//! - A store target: `vault = "MOUNT/PATH"` (OpenBao/Vault KV v2), optional `field`
//!   (defaults to `defaults.key`), `mount` (when it is more than the first segment),
//!   `namespace`, `token_file`. A `token` is refused: tokens never go in the manifest.
//! - `fallback` is a file target; its `key` defaults to `<defaults.key>_FALLBACKS` (Django's
//!   `SECRET_KEY_FALLBACKS`).
//! - One file+key location belongs to one environment and appears once; one file has one
//!   format. (The same `env` variable may serve several environments: each runs on its own
//!   host.)
//! - `logs` are glob patterns, relative to the project root or absolute (`/var/log/...`).
//! - `[watch]` is optional (see [`watch`]): `signature_errors = { count, window_secs }`,
//!   `quiet_secs`, `webhook`.
//! - `[audit]` is optional: `syslog = true` also sends every audit event to the system log
//!   (see [`crate::records::audit`]); default `false`.
//!
//! This file holds the model (environments, targets, defaults, errors); [`parse`] and
//! [`fields`] read the file, [`write`] writes it for `keywarden init`.

use crate::keys::generate::{Charset, MAX_LENGTH, MIN_LENGTH, RECOMMENDED_LENGTH};
use crate::targets::toml::{line_col, parse_key_path};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use toml::de::{DeTable, DeValue};

/// A value of the manifest with its byte span.
type Item<'i> = toml::Spanned<DeValue<'i>>;
/// A table of the manifest (keys in document order, with their spans).
type Table<'i> = DeTable<'i>;

mod fields;
mod parse;
mod watch;
mod write;
use fields::*;
use parse::*;
pub use watch::*;
use write::*;

pub const FILE_NAME: &str = "keywarden.toml";
/// The manifest versions this keywarden reads.
pub const VERSION: u32 = 1;
pub const DEFAULT_KEY: &str = "SECRET_KEY";
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
/// Bounds that catch typos (a rotation every 1800 days, a 3-hour restart).
pub const MAX_ROTATE_EVERY_DAYS: u32 = 3650;
pub const MAX_GRACE_DAYS: u32 = 365;
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub version: u32,
    pub defaults: Defaults,
    pub environments: Vec<Environment>,
    /// `[playbooks]`: incident playbook name -> a TOML file (relative to the project)
    /// that replaces the shipped one.
    pub playbooks: std::collections::BTreeMap<String, PathBuf>,
    /// `[audit]`: where the audit trail is also sent.
    pub audit: AuditSettings,
    /// `[watch]`: thresholds and destinations of `keywarden watch`'s alerts.
    pub watch: WatchSettings,
}

/// `[audit]` in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSettings {
    /// `syslog = true`: every audit event is also sent to the system log (`/dev/log`:
    /// journald, rsyslog), an append-only copy `audit --verify --against` compares with.
    /// An event that cannot be sent stops the action, as one that cannot be written does.
    pub syslog: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    pub key: String,
    pub length: usize,
    pub charset: Charset,
    /// Backups older than this many days are pruned, except the newest backup of every
    /// key still in use. `None` (the default): keep every backup.
    pub keep_backups_days: Option<u32>,
    /// `backup_recipients`: age recipients (`age1…`, public keys) every backup is also
    /// encrypted to, besides the installation's own (a security team's offline identity).
    pub backup_recipients: Vec<String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            key: DEFAULT_KEY.to_string(),
            length: RECOMMENDED_LENGTH,
            charset: Charset::Guide,
            keep_backups_days: None,
            backup_recipients: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    /// 0: no schedule (rotate on major changes).
    pub rotate_every_days: u32,
    pub restart: Option<String>,
    pub verify: Option<String>,
    pub grace_days: u32,
    pub fallback: Option<Target>,
    pub logs: Vec<String>,
    pub notify: Option<String>,
    /// For `restart` and `verify`.
    pub timeout_secs: u64,
    pub targets: Vec<Target>,
}

impl Environment {
    /// An environment with the defaults for its name and no target.
    pub fn new(name: &str) -> Self {
        Environment {
            name: name.to_string(),
            rotate_every_days: default_rotation_days(name),
            restart: None,
            verify: None,
            grace_days: 0,
            fallback: None,
            logs: Vec::new(),
            notify: None,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            targets: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Dotenv,
    Toml,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Dotenv, Format::Toml];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Dotenv => "dotenv",
            Format::Toml => "toml",
        }
    }

    /// `*.toml` is TOML, anything else (`.env`, `.env.production`, ...) dotenv.
    pub fn infer(path: &Path) -> Format {
        match path.extension() {
            Some(ext) if ext.eq_ignore_ascii_case("toml") => Format::Toml,
            _ => Format::Dotenv,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format `{s}`; valid formats: dotenv, toml"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File {
        /// Relative to the project root, as written.
        path: PathBuf,
        format: Format,
        /// Resolved: the target's `key`, else `defaults.key`.
        key: String,
    },
    Env {
        var: String,
    },
    /// A secret in an OpenBao/Vault KV v2 store: `{ vault = "secret/app/production",
    /// field = "SECRET_KEY" }` (see [`crate::targets::vault`]). Never a token here.
    Vault {
        /// `MOUNT/PATH`, as written.
        path: String,
        /// The secret's field; resolved: `field`, else `defaults.key`.
        field: String,
        /// A mount of more than one segment (the path starts with it).
        mount: Option<String>,
        namespace: Option<String>,
        /// A file holding the token, relative to the project root or absolute.
        token_file: Option<PathBuf>,
    },
}

impl Target {
    /// The path as written, or `$VAR`.
    pub fn label(&self) -> String {
        match self {
            Target::File { path, .. } => path.display().to_string(),
            Target::Env { var } => format!("${var}"),
            Target::Vault { path, field, .. } => format!("vault:{path}#{field}"),
        }
    }
}

/// The rotation schedule an environment gets when `rotate_every_days` is not set:
/// development/dev 0 (no schedule), staging/stage 90, production/prod and any other name 180.
pub fn default_rotation_days(env_name: &str) -> u32 {
    match env_name.to_ascii_lowercase().as_str() {
        "development" | "dev" => 0,
        "staging" | "stage" => 90,
        _ => 180,
    }
}

/// Whether an environment is production: its findings are graded up, its checklist asks
/// for environment variables, and changing its key asks the user to type its name.
pub fn is_production(env_name: &str) -> bool {
    // Production's Streamlit login secret, as discovery names it, is production too.
    let base = env_name.strip_suffix("-streamlit-auth").unwrap_or(env_name);
    matches!(base, "production" | "prod")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The manifest does not exist.
    NotFound,
    /// It could not be read.
    Io,
    /// It is not UTF-8.
    NotUtf8,
    /// It is not TOML.
    Syntax,
    /// It is TOML but not a valid manifest.
    Invalid,
}

/// A manifest problem: where (1-based line and column; 0 for errors about the whole file),
/// what, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    pub kind: ErrorKind,
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": {}\n  hint: {}", self.message, self.hint)
    }
}

type Result<T, E = ManifestError> = std::result::Result<T, E>;

impl Manifest {
    /// Reads and parses the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let io_err = |kind, message: String, hint: &str| ManifestError {
            kind,
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message,
            hint: hint.to_string(),
        };
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => io_err(
                ErrorKind::NotFound,
                format!("no {FILE_NAME} here"),
                "run `keywarden init` in the project root to create one, or run keywarden from the directory that holds it",
            ),
            std::io::ErrorKind::PermissionDenied => io_err(
                ErrorKind::Io,
                format!("cannot read the manifest: {e}"),
                "check the file's permissions and owner",
            ),
            _ if path.is_dir() => io_err(
                ErrorKind::Io,
                "this is a directory, not a manifest file".to_string(),
                "point keywarden at the keywarden.toml file",
            ),
            _ => io_err(
                ErrorKind::Io,
                format!("cannot read the manifest: {e}"),
                "check that the file is readable, then retry",
            ),
        })?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => text,
            Err(e) => {
                let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).expect("valid prefix");
                let (line, column) = line_col(valid, valid.len());
                return Err(ManifestError {
                    kind: ErrorKind::NotUtf8,
                    path: path.to_path_buf(),
                    line,
                    column,
                    message: format!(
                        "the manifest is not valid UTF-8 (byte 0x{:02X})",
                        bytes[e.valid_up_to()]
                    ),
                    hint: "save the file as UTF-8 (TOML files must be UTF-8)".to_string(),
                });
            }
        };
        Manifest::parse(text, path)
    }

    /// Parses manifest text; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let doc = DeTable::parse(text).map_err(|e| {
            ManifestError {
                kind: ErrorKind::Syntax,
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: format!("invalid TOML: {}", e.message()),
                hint: "fix the TOML syntax at this position (https://toml.io/en/v1.0.0)"
                    .to_string(),
            }
            .located(text, e.span().map_or(0, |s| s.start))
        })?;
        Parser { text, path }.manifest(doc.get_ref())
    }

    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }
}

impl ManifestError {
    fn located(mut self, text: &str, pos: usize) -> Self {
        (self.line, self.column) = line_col(text, pos);
        self
    }
}

impl From<ManifestError> for crate::error::Error {
    fn from(e: ManifestError) -> Self {
        let (line, column) = if e.line > 0 {
            (Some(e.line), Some(e.column))
        } else {
            (None, None)
        };
        crate::error::Error::input(e.path, line, column, e.message, Some(e.hint))
    }
}

#[cfg(test)]
mod tests;
