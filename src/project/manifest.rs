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
//! The file is parsed with toml_edit (which keeps every item's byte span) and then walked by
//! hand rather than deserialised with serde: `serde_spanned` is not re-exported by toml_edit
//! and not a dependency, and walking the spanned document gives every error, semantic ones
//! included, the exact line and column of the offending key or value, plus context that
//! serde's messages lack (`in environment "production"`). Unknown fields are errors
//! everywhere. The `version` is checked first, so a newer manifest is reported as such rather
//! than as a pile of unknown fields.
//!
//! # Rules
//!
//! - `version = 1` is required.
//! - `[defaults]` is optional: `key = "SECRET_KEY"`, `length = 64` (at least the guide's 32),
//!   `charset = "guide"` (guide, alnum, hex, base64, base64url), `keep_backups_days = N`
//!   (prune older backups, never the newest one of a key in use; default: keep all).
//! - At least one `[[environments]]`. `name` is required, unique, `[A-Za-z0-9._-]+` and not
//!   `.` or `..` (names end up in paths). `rotate_every_days` defaults by name (see
//!   [`default_rotation_days`]); `grace_days` defaults to 0 and needs a `fallback`;
//!   `timeout_secs` (for `restart` and `verify`) defaults to 120.
//! - A target is a file (`path`, optional `format`, optional `key`) or an environment variable
//!   (`env`), never both. `format` defaults from the path: `*.toml` is `toml`, anything else
//!   `dotenv`. `key` defaults to `defaults.key`; a TOML key may be dotted (`auth.secret_key`,
//!   quoted segments allowed: `"a.b".c`), a dotenv key or `env` is `[A-Za-z_][A-Za-z0-9_]*`.
//!   Paths are relative to the project root (the manifest's directory) and stay inside it.
//! - `fallback` is a file target; its `key` defaults to `<defaults.key>_FALLBACKS` (Django's
//!   `SECRET_KEY_FALLBACKS`).
//! - One file+key location belongs to one environment and appears once; one file has one
//!   format. (The same `env` variable may serve several environments: each runs on its own
//!   host.)
//! - `logs` are glob patterns, relative to the project root or absolute (`/var/log/...`).

use crate::keys::generate::{Charset, MAX_LENGTH, MIN_LENGTH, RECOMMENDED_LENGTH};
use crate::targets::toml::{line_col, parse_key_path};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use toml_edit::{Document, Item, TableLike, Value};

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    pub key: String,
    pub length: usize,
    pub charset: Charset,
    /// Backups older than this many days are pruned, except the newest backup of every
    /// key still in use. `None` (the default): keep every backup.
    pub keep_backups_days: Option<u32>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            key: DEFAULT_KEY.to_string(),
            length: RECOMMENDED_LENGTH,
            charset: Charset::Guide,
            keep_backups_days: None,
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
}

impl Target {
    /// The path as written, or `$VAR`.
    pub fn label(&self) -> String {
        match self {
            Target::File { path, .. } => path.display().to_string(),
            Target::Env { var } => format!("${var}"),
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
        let doc = Document::parse(text).map_err(|e| {
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
        Parser { text, path }.manifest(doc.as_table())
    }

    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The manifest as commented TOML, for `keywarden init`. Round-trips through [`parse`].
    ///
    /// [`parse`]: Manifest::parse
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# keywarden.toml: how keywarden manages this project's SECRET_KEY.\n\
             #\n\
             # Commit this file: it never holds a key. Keys live only in the targets below\n\
             # (keep those files out of version control); `keywarden set <environment>\n\
             # --generate` writes a new key to every target of the environment at once.\n\
             # Paths are relative to this file's directory. A target's `format` defaults from\n\
             # its path (*.toml: toml, anything else: dotenv); its `key` defaults to\n\
             # defaults.key (dotted for TOML: \"auth.secret_key\").\n\n",
        );
        out.push_str(&format!("version = {}\n\n", self.version));
        let d = &self.defaults;
        out.push_str("[defaults]\n");
        out.push_str(&format!("key = {}\n", quote(&d.key)));
        out.push_str(&format!(
            "length = {}           # characters; the guide's minimum is {MIN_LENGTH}\n",
            d.length
        ));
        out.push_str(&format!(
            "charset = {}     # guide: A-Z a-z 0-9 and !@#$%^&*()_+-=[]{{}}|;:,.<>? (also alnum, hex, base64, base64url)\n",
            quote(d.charset.as_str())
        ));
        if let Some(days) = d.keep_backups_days {
            out.push_str(&format!(
                "keep_backups_days = {days}  # prune older backups (never the newest of a key in use)\n"
            ));
        }
        for env in &self.environments {
            out.push_str("\n[[environments]]\n");
            out.push_str(&format!("name = {}\n", quote(&env.name)));
            let schedule = if env.rotate_every_days == 0 {
                "0: no schedule (rotate on major changes)".to_string()
            } else {
                format!(
                    "`keywarden check` warns when the key is older than {} days",
                    env.rotate_every_days
                )
            };
            out.push_str(&format!(
                "rotate_every_days = {}  # {schedule}\n",
                env.rotate_every_days
            ));
            match &env.restart {
                Some(cmd) => out.push_str(&format!(
                    "restart = {}  # run after the new key is written\n",
                    quote(cmd)
                )),
                None if env.rotate_every_days > 0 => out.push_str(
                    "# restart = \"systemctl --user restart my-app\"  # run after the new key is written\n",
                ),
                None => {}
            }
            match &env.verify {
                Some(cmd) => out.push_str(&format!(
                    "verify = {}  # must succeed after the restart\n",
                    quote(cmd)
                )),
                None if env.rotate_every_days > 0 => out.push_str(
                    "# verify = \"curl -fsS http://127.0.0.1:8501/healthz\"  # must succeed after the restart\n",
                ),
                None => {}
            }
            if env.timeout_secs != DEFAULT_TIMEOUT_SECS {
                out.push_str(&format!(
                    "timeout_secs = {}  # for restart and verify\n",
                    env.timeout_secs
                ));
            }
            if env.grace_days > 0 || env.fallback.is_some() {
                out.push_str(&format!(
                    "grace_days = {}  # old keys stay valid this long, from the fallback\n",
                    env.grace_days
                ));
            }
            if let Some(fallback) = &env.fallback {
                out.push_str(&format!("fallback = {}\n", target_toml(fallback, None)));
            }
            if !env.logs.is_empty() {
                let logs: Vec<String> = env.logs.iter().map(|l| quote(l)).collect();
                out.push_str(&format!(
                    "logs = [{}]  # scanned for leaked keys\n",
                    logs.join(", ")
                ));
            }
            if let Some(cmd) = &env.notify {
                out.push_str(&format!("notify = {}  # run on an incident\n", quote(cmd)));
            }
            out.push_str("targets = [\n");
            for t in &env.targets {
                out.push_str(&format!("  {},\n", target_toml(t, Some(&d.key))));
            }
            out.push_str("]\n");
        }
        if !self.playbooks.is_empty() {
            out.push_str("\n[playbooks]\n");
            for (name, path) in &self.playbooks {
                out.push_str(&format!(
                    "{} = {}\n",
                    name,
                    quote(&path.display().to_string())
                ));
            }
        }
        out
    }
}

impl ManifestError {
    fn located(mut self, text: &str, pos: usize) -> Self {
        (self.line, self.column) = line_col(text, pos);
        self
    }
}

fn quote(s: &str) -> String {
    Value::from(s).to_string()
}

/// `{ path = "...", format = "...", key = "..." }`; `key` is left out when it is `default_key`.
fn target_toml(t: &Target, default_key: Option<&str>) -> String {
    match t {
        Target::File { path, format, key } => {
            let mut s = format!(
                "{{ path = {}, format = {}",
                quote(&path.to_string_lossy()),
                quote(format.as_str())
            );
            if default_key != Some(key.as_str()) {
                s.push_str(&format!(", key = {}", quote(key)));
            }
            s.push_str(" }");
            s
        }
        Target::Env { var } => format!("{{ env = {} }}", quote(var)),
    }
}

const ROOT_FIELDS: &[&str] = &["version", "defaults", "environments", "playbooks"];
const DEFAULTS_FIELDS: &[&str] = &["key", "length", "charset", "keep_backups_days"];
const ENV_FIELDS: &[&str] = &[
    "name",
    "rotate_every_days",
    "restart",
    "verify",
    "grace_days",
    "fallback",
    "logs",
    "notify",
    "timeout_secs",
    "targets",
];
const TARGET_FIELDS: &[&str] = &["path", "format", "key", "env"];

struct Parser<'a> {
    text: &'a str,
    path: &'a Path,
}

/// Where a file target's key location was first used.
struct Seen {
    env: String,
    /// Byte offset of the first use (a line number is computed only for an error).
    line: usize,
}

impl<'a> Parser<'a> {
    fn err(
        &self,
        pos: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ManifestError {
        let (line, column) = line_col(self.text, pos);
        ManifestError {
            kind: ErrorKind::Invalid,
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn manifest(&self, root: &toml_edit::Table) -> Result<Manifest> {
        // The version first: a newer manifest is reported as such, not as unknown fields.
        let version = match root.get("version") {
            None => {
                return Err(self.err(
                    0,
                    "missing `version`",
                    format!("add `version = {VERSION}` as the first line"),
                ));
            }
            Some(item) => self.int(item, "version", 0, i64::from(u32::MAX))? as u32,
        };
        if version != VERSION {
            let hint = if version > VERSION {
                format!(
                    "this manifest was written by a newer keywarden: upgrade keywarden (this one reads version {VERSION})"
                )
            } else {
                format!("set `version = {VERSION}`")
            };
            return Err(self.err(
                span_start(&root["version"]),
                format!(
                    "unsupported manifest version {version}; this keywarden reads version {VERSION}"
                ),
                hint,
            ));
        }
        self.check_fields(root, ROOT_FIELDS, "at the top level")?;

        let mut defaults = Defaults::default();
        let mut default_key_pos = None;
        if let Some(item) = root.get("defaults") {
            let t = self.table(item, "`defaults`", "[defaults]")?;
            self.check_fields(t, DEFAULTS_FIELDS, "in [defaults]")?;
            if let Some((key, pos)) = self.string(t, "key")? {
                defaults.key = key;
                default_key_pos = Some(pos);
            }
            if let Some(item) = t.get("length") {
                let n = self.int(item, "length", 0, i64::MAX)? as usize;
                if n < MIN_LENGTH {
                    return Err(self.err(
                        span_start(item),
                        format!(
                            "`length` {n} is below the guide's minimum of {MIN_LENGTH} characters"
                        ),
                        format!("use `length = {RECOMMENDED_LENGTH}` (the guide's recommendation)"),
                    ));
                }
                if n > MAX_LENGTH {
                    return Err(self.err(
                        span_start(item),
                        format!("`length` {n} is above the maximum of {MAX_LENGTH} characters"),
                        format!("use `length = {RECOMMENDED_LENGTH}` (the guide's recommendation)"),
                    ));
                }
                defaults.length = n;
            }
            if let Some(item) = t.get("keep_backups_days") {
                defaults.keep_backups_days =
                    Some(self.int(item, "keep_backups_days", 1, 36_500)? as u32);
            }
            if let Some((name, pos)) = self.string(t, "charset")? {
                defaults.charset = Charset::from_str(&name).map_err(|_| {
                    self.err(
                        pos,
                        format!("unknown charset `{name}`; expected one of guide, alnum, hex, base64, base64url"),
                        "use `charset = \"guide\"` (A-Z a-z 0-9 and the guide's symbols)",
                    )
                })?;
            }
        }

        let Some(envs_item) = root.get("environments") else {
            return Err(self.err(
                0,
                "no environments: the manifest needs at least one [[environments]]",
                "add an environment, e.g. [[environments]] with name = \"development\" and targets = [{ path = \".env\" }]",
            ));
        };
        let entries = self.array_of_tables(envs_item, "environments")?;
        if entries.is_empty() {
            return Err(self.err(
                span_start(envs_item),
                "no environments: the manifest needs at least one [[environments]]",
                "add an environment with a `name` and `targets`",
            ));
        }
        let mut environments: Vec<Environment> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut locations: HashMap<(PathBuf, Vec<String>), Seen> = HashMap::new();
        let mut formats: HashMap<PathBuf, (Format, usize)> = HashMap::new();
        for (i, (pos, t)) in entries.into_iter().enumerate() {
            let env = self.environment(
                i,
                pos,
                t,
                &defaults,
                default_key_pos,
                &mut locations,
                &mut formats,
            )?;
            let name_pos = t.get("name").map_or(pos, span_start);
            if let Some(first) = names.get(&env.name) {
                return Err(self.err(
                    name_pos,
                    format!(
                        "duplicate environment name \"{}\" (first defined on line {})",
                        env.name,
                        line_col(self.text, *first).0
                    ),
                    "give each environment a unique name, or merge the two",
                ));
            }
            // Byte offsets: a line number is computed only for an error (it scans the text).
            names.insert(env.name.clone(), name_pos);
            environments.push(env);
        }
        let mut playbooks = std::collections::BTreeMap::new();
        if let Some(item) = root.get("playbooks") {
            let t = self.table(item, "`playbooks`", "[playbooks]")?;
            for (name, _) in t.iter() {
                if let Some((path, pos)) = self.string(t, name)? {
                    if Path::new(&path).is_absolute() || path.split('/').any(|c| c == "..") {
                        return Err(self.err(
                            pos,
                            format!("playbook `{name}`: the path must stay inside the project"),
                            "give a path relative to the project, e.g. \"ops/compromised.toml\"",
                        ));
                    }
                    playbooks.insert(name.to_string(), PathBuf::from(path));
                }
            }
        }
        Ok(Manifest {
            version,
            defaults,
            environments,
            playbooks,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn environment(
        &self,
        index: usize,
        pos: usize,
        t: &dyn TableLike,
        defaults: &Defaults,
        default_key_pos: Option<usize>,
        locations: &mut HashMap<(PathBuf, Vec<String>), Seen>,
        formats: &mut HashMap<PathBuf, (Format, usize)>,
    ) -> Result<Environment> {
        let ordinal = format!("environment #{}", index + 1);
        // The name first, so that other errors can say which environment they are in.
        let (name, name_pos) = match t.get("name") {
            Some(item) if item.as_str().is_some() => {
                (item.as_str().unwrap().to_string(), span_start(item))
            }
            Some(item) => {
                return Err(self.type_error(item, "name", "a string"));
            }
            None => {
                self.check_fields(t, ENV_FIELDS, &format!("in {ordinal}"))?;
                return Err(self.err(
                    pos,
                    format!("{ordinal} has no `name`"),
                    "add `name = \"production\"` (or development, staging, ...)",
                ));
            }
        };
        let ctx = format!("in environment \"{name}\"");
        self.check_fields(t, ENV_FIELDS, &ctx)?;
        if name.is_empty() {
            return Err(self.err(
                name_pos,
                "the environment name is empty",
                "name it, e.g. `name = \"production\"`",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            || name == "."
            || name == ".."
        {
            return Err(self.err(
                name_pos,
                format!("invalid environment name {}", quote(&name)),
                "use letters, digits, `.`, `_` and `-` only (names are used in file paths and on the command line)",
            ));
        }

        let mut env = Environment::new(&name);
        if let Some(item) = t.get("rotate_every_days") {
            env.rotate_every_days =
                self.int(item, "rotate_every_days", 0, MAX_ROTATE_EVERY_DAYS.into())? as u32;
        }
        if let Some(item) = t.get("grace_days") {
            env.grace_days = self.int(item, "grace_days", 0, MAX_GRACE_DAYS.into())? as u32;
        }
        if let Some(item) = t.get("timeout_secs") {
            env.timeout_secs = self.int(item, "timeout_secs", 1, MAX_TIMEOUT_SECS as i64)? as u64;
        }
        env.restart = self.command(t, "restart")?;
        env.verify = self.command(t, "verify")?;
        env.notify = self.command(t, "notify")?;
        if let Some(item) = t.get("logs") {
            let Some(array) = item.as_array() else {
                return Err(self.type_error(item, "logs", "an array of glob patterns"));
            };
            for v in array.iter() {
                let pos = v.span().map_or(span_start(item), |s| s.start);
                match v.as_str() {
                    Some(s) if !s.trim().is_empty() => env.logs.push(s.to_string()),
                    Some(_) => {
                        return Err(self.err(
                            pos,
                            "empty log pattern",
                            "remove it, or write a glob such as \"logs/*.log\"",
                        ));
                    }
                    None => {
                        return Err(self.err(
                            pos,
                            format!(
                                "each entry of `logs` must be a string, found {}",
                                value_type(v)
                            ),
                            "write glob patterns as strings, e.g. logs = [\"logs/*.log\"]",
                        ));
                    }
                }
            }
        }

        if let Some(item) = t.get("fallback") {
            let ft = self.table(
                item,
                "`fallback`",
                "fallback = { path = \"...\", key = \"SECRET_KEY_FALLBACKS\" }",
            )?;
            let fallback_key = format!("{}_FALLBACKS", defaults.key);
            if let Some(env_item) = ft.get("env") {
                return Err(self.err(
                    ft.key("env").and_then(|k| k.span()).map_or(span_start(env_item), |s| s.start),
                    format!("the fallback {ctx} is an environment variable; it must be a file"),
                    "old keys are kept in a file the app reads, e.g. fallback = { path = \"deploy/production/.env\", key = \"SECRET_KEY_FALLBACKS\" }",
                ));
            }
            let target = self.target(
                span_start(item),
                ft,
                &fallback_key,
                None,
                &format!("the fallback {ctx}"),
            )?;
            self.claim(
                &target,
                &name,
                ft.get("path").map_or(span_start(item), span_start),
                locations,
                formats,
            )?;
            env.fallback = Some(target);
        }
        if env.grace_days > 0 && env.fallback.is_none() {
            let pos = t.get("grace_days").map_or(pos, span_start);
            return Err(self.err(
                pos,
                format!("`grace_days` {ctx} needs a `fallback` to keep the old key in"),
                "add fallback = { path = \"...\", key = \"SECRET_KEY_FALLBACKS\" }, or set grace_days = 0",
            ));
        }

        let Some(targets_item) = t.get("targets") else {
            return Err(self.err(
                pos,
                format!("environment \"{name}\" has no `targets`"),
                "add targets = [{ path = \".env\", format = \"dotenv\" }] (or { env = \"SECRET_KEY\" })",
            ));
        };
        let targets = self.array_of_tables(targets_item, "targets")?;
        if targets.is_empty() {
            return Err(self.err(
                span_start(targets_item),
                format!("environment \"{name}\" has no targets"),
                "list at least one, e.g. targets = [{ path = \".env\", format = \"dotenv\" }]",
            ));
        }
        let mut env_vars: HashMap<String, usize> = HashMap::new();
        for (i, (tpos, tt)) in targets.into_iter().enumerate() {
            let what = format!("target #{} {ctx}", i + 1);
            let target = self.target(tpos, tt, &defaults.key, default_key_pos, &what)?;
            if let Target::Env { var } = &target
                && let Some(first) = env_vars.insert(var.clone(), tpos)
            {
                return Err(self.err(
                    tpos,
                    format!(
                        "${var} is listed twice {ctx} (first on line {})",
                        line_col(self.text, first).0
                    ),
                    "remove the duplicate target",
                ));
            }
            self.claim(
                &target,
                &name,
                tt.get("path").map_or(tpos, span_start),
                locations,
                formats,
            )?;
            env.targets.push(target);
        }
        Ok(env)
    }

    /// Records a file target's location; an error if another target already has it, or the
    /// file with another format.
    fn claim(
        &self,
        target: &Target,
        env: &str,
        pos: usize,
        locations: &mut HashMap<(PathBuf, Vec<String>), Seen>,
        formats: &mut HashMap<PathBuf, (Format, usize)>,
    ) -> Result<()> {
        let Target::File { path, format, key } = target else {
            return Ok(());
        };
        let norm = normalize(path);
        // Byte offsets; line numbers only for errors.
        let line = pos;
        if let Some((other, first)) = formats.get(&norm)
            && other != format
        {
            return Err(self.err(
                pos,
                format!(
                    "{} is a {format} target here but a {other} target on line {}",
                    path.display(),
                    line_col(self.text, *first).0
                ),
                "one file has one format: fix the `format` (or the path) of one of them",
            ));
        }
        formats.insert(norm.clone(), (*format, line));
        let key_norm = match format {
            Format::Toml => parse_key_path(key).unwrap_or_else(|_| vec![key.clone()]),
            Format::Dotenv => vec![key.clone()],
        };
        if let Some(seen) = locations.get(&(norm.clone(), key_norm.clone())) {
            let whose = if seen.env == env {
                format!(
                    "already used on line {} by this environment",
                    line_col(self.text, seen.line).0
                )
            } else {
                format!(
                    "already used on line {} by environment \"{}\"",
                    line_col(self.text, seen.line).0,
                    seen.env
                )
            };
            return Err(self.err(
                pos,
                format!("`{key}` in {} is {whose}", path.display()),
                "one key location belongs to one environment: use another file or another `key`",
            ));
        }
        locations.insert(
            (norm, key_norm),
            Seen {
                env: env.to_string(),
                line,
            },
        );
        Ok(())
    }

    fn target(
        &self,
        pos: usize,
        t: &dyn TableLike,
        default_key: &str,
        default_key_pos: Option<usize>,
        what: &str,
    ) -> Result<Target> {
        self.check_fields(t, TARGET_FIELDS, &format!("in {what}"))?;
        let key_pos = |name: &str| t.key(name).and_then(|k| k.span()).map_or(pos, |s| s.start);
        let path = self.string(t, "path")?;
        let env = self.string(t, "env")?;
        match (path, env) {
            (Some(_), Some(_)) => Err(self.err(
                key_pos("env"),
                format!("{what} has both `path` and `env`"),
                "a target is a file (`path`) or an environment variable (`env`): split it into two targets",
            )),
            (None, None) => Err(self.err(
                pos,
                format!("{what} has neither `path` nor `env`"),
                "write { path = \".env\", format = \"dotenv\" } for a file, or { env = \"SECRET_KEY\" } for an environment variable",
            )),
            (None, Some((var, var_pos))) => {
                for field in ["format", "key"] {
                    if t.contains_key(field) {
                        return Err(self.err(
                            key_pos(field),
                            format!("`{field}` applies to file targets, not to `env` targets"),
                            "remove it: the variable's name is the value of `env`",
                        ));
                    }
                }
                if looks_like_a_key(&var) {
                    return Err(self.pasted_key(var_pos, "env"));
                }
                if !is_env_name(&var) {
                    return Err(self.err(
                        var_pos,
                        format!("invalid environment variable name {}", quote(&var)),
                        "use letters, digits and `_`, not starting with a digit (e.g. SECRET_KEY)",
                    ));
                }
                Ok(Target::Env { var })
            }
            (Some((raw, path_pos)), None) => {
                let path = self.relative_path(&raw, path_pos)?;
                let format = match self.string(t, "format")? {
                    Some((f, f_pos)) => Format::from_str(&f)
                        .map_err(|m| self.err(f_pos, m, "use format = \"dotenv\" (KEY=value files) or format = \"toml\""))?,
                    None => Format::infer(&path),
                };
                let (key, kpos, from_defaults) = match self.string(t, "key")? {
                    Some((k, kpos)) => (k, kpos, false),
                    None => (default_key.to_string(), default_key_pos.unwrap_or(pos), true),
                };
                let bad_key = |message: String, hint: &str| {
                    let hint = if from_defaults {
                        format!("{hint}; this target uses defaults.key: set `key` on the target or change defaults.key")
                    } else {
                        hint.to_string()
                    };
                    Err(self.err(kpos, message, hint))
                };
                if looks_like_a_key(&key) {
                    return Err(self.pasted_key(kpos, if from_defaults { "defaults.key" } else { "key" }));
                }
                match format {
                    Format::Dotenv if !is_env_name(&key) => {
                        return bad_key(
                            format!("invalid dotenv key {} for {}", quote(&key), path.display()),
                            "use letters, digits and `_`, not starting with a digit (e.g. SECRET_KEY)",
                        );
                    }
                    Format::Toml => {
                        if let Err(m) = parse_key_path(&key) {
                            return bad_key(format!("invalid key for {}: {m}", path.display()), "e.g. key = \"auth.secret_key\"");
                        }
                    }
                    Format::Dotenv => {}
                }
                Ok(Target::File { path, format, key })
            }
        }
    }

    /// A target path: relative, inside the project.
    fn relative_path(&self, raw: &str, pos: usize) -> Result<PathBuf> {
        let bad = |m: String, h: &str| Err(self.err(pos, m, h));
        if raw.is_empty() {
            return bad(
                "the target path is empty".into(),
                "write a path relative to the project root, e.g. \".env\"",
            );
        }
        if raw.contains('\0') {
            return bad(
                "the target path contains a NUL character".into(),
                "fix the path",
            );
        }
        let path = Path::new(raw);
        let looks_windows_absolute =
            raw.len() >= 2 && raw.as_bytes()[1] == b':' && raw.as_bytes()[0].is_ascii_alphabetic();
        if path.is_absolute()
            || raw.starts_with('/')
            || raw.starts_with('\\')
            || looks_windows_absolute
        {
            return bad(
                format!("target path {} is absolute", quote(raw)),
                "write it relative to the project root (the directory of keywarden.toml), e.g. \"deploy/production/.env\"",
            );
        }
        if raw.ends_with('/') || raw.ends_with('\\') {
            return bad(
                format!("target path {} names a directory", quote(raw)),
                "name the file, e.g. \".streamlit/secrets.toml\"",
            );
        }
        let mut depth: usize = 0;
        for c in path.components() {
            match c {
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::ParentDir if depth == 0 => {
                    return bad(
                        format!("target path {} leads outside the project", quote(raw)),
                        "keep targets inside the project root; for a file elsewhere, use a symlink inside the project or an `env` target",
                    );
                }
                Component::ParentDir => depth -= 1,
                Component::RootDir | Component::Prefix(_) => {
                    return bad(
                        format!("target path {} is absolute", quote(raw)),
                        "write it relative to the project root",
                    );
                }
            }
        }
        if depth == 0 {
            return bad(
                format!(
                    "target path {} names the project directory, not a file",
                    quote(raw)
                ),
                "name the file, e.g. \".env\"",
            );
        }
        Ok(path.to_path_buf())
    }

    fn check_fields(&self, t: &dyn TableLike, allowed: &[&str], ctx: &str) -> Result<()> {
        for (k, _) in t.iter() {
            if !allowed.contains(&k) {
                let pos = t.key(k).and_then(|k| k.span()).map_or(0, |s| s.start);
                let hint = match suggest(k, allowed) {
                    Some(s) => format!("did you mean `{s}`? Otherwise remove the field"),
                    None => "remove the field, or check its spelling".to_string(),
                };
                return Err(self.err(
                    pos,
                    format!(
                        "unknown field `{k}` {ctx}; expected one of {}",
                        allowed.join(", ")
                    ),
                    hint,
                ));
            }
        }
        Ok(())
    }

    fn table<'t>(&self, item: &'t Item, what: &str, example: &str) -> Result<&'t dyn TableLike> {
        item.as_table_like().ok_or_else(|| {
            self.type_error(
                item,
                what.trim_matches('`'),
                &format!("a table ({example})"),
            )
        })
    }

    /// An array of tables: `[[name]]` sections or an array of inline tables.
    fn array_of_tables<'t>(
        &self,
        item: &'t Item,
        name: &str,
    ) -> Result<Vec<(usize, &'t dyn TableLike)>> {
        match item {
            Item::ArrayOfTables(a) => Ok(a
                .iter()
                .map(|t| (t.span().map_or(0, |s| s.start), t as &dyn TableLike))
                .collect()),
            Item::Value(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::InlineTable(t) => {
                        Ok((t.span().map_or(0, |s| s.start), t as &dyn TableLike))
                    }
                    other => Err(self.err(
                        other.span().map_or(0, |s| s.start),
                        format!(
                            "each entry of `{name}` must be a table, found {}",
                            value_type(other)
                        ),
                        format!("write entries as {{ ... }} (or use [[{name}]] sections)"),
                    )),
                })
                .collect(),
            other => Err(self.type_error(
                other,
                name,
                &format!("an array of tables ([[{name}]] or {name} = [{{ ... }}])"),
            )),
        }
    }

    fn string(&self, t: &dyn TableLike, name: &str) -> Result<Option<(String, usize)>> {
        match t.get(name) {
            None => Ok(None),
            Some(item) => match item.as_str() {
                Some(s) => Ok(Some((s.to_string(), span_start(item)))),
                None => Err(self.type_error(item, name, "a string")),
            },
        }
    }

    fn command(&self, t: &dyn TableLike, name: &str) -> Result<Option<String>> {
        match self.string(t, name)? {
            Some((s, pos)) if s.trim().is_empty() => Err(self.err(
                pos,
                format!("`{name}` is empty"),
                format!("remove `{name}`, or give the shell command to run"),
            )),
            other => Ok(other.map(|(s, _)| s)),
        }
    }

    fn int(&self, item: &Item, name: &str, min: i64, max: i64) -> Result<i64> {
        let Some(n) = item.as_integer() else {
            return Err(self.type_error(item, name, "a whole number"));
        };
        if n < min || n > max {
            return Err(self.err(
                span_start(item),
                format!("`{name}` must be between {min} and {max}, found {n}"),
                format!("set `{name}` to a value from {min} to {max}"),
            ));
        }
        Ok(n)
    }

    /// A key value where a key *name* belongs. The value is not repeated: the manifest is
    /// committed, and an error message may end up in a log.
    fn pasted_key(&self, pos: usize, field: &str) -> ManifestError {
        self.err(
            pos,
            format!("`{field}` looks like a key value, not a name (value not shown)"),
            format!(
                "keys never go in keywarden.toml: `{field}` names where the key lives (e.g. SECRET_KEY or auth.secret_key). \
                 If this is a real key, it may already be in version control: remove it and rotate the key"
            ),
        )
    }

    fn type_error(&self, item: &Item, name: &str, expected: &str) -> ManifestError {
        let found = match item {
            Item::Value(v) => value_type(v),
            Item::Table(_) => "a table".to_string(),
            Item::ArrayOfTables(_) => "an array of tables".to_string(),
            Item::None => "nothing".to_string(),
        };
        self.err(
            span_start(item),
            format!("`{name}` must be {expected}, found {found}"),
            format!("write `{name}` as {expected}"),
        )
    }
}

fn span_start(item: &Item) -> usize {
    item.span().map_or(0, |s| s.start)
}

fn value_type(v: &Value) -> String {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
    .to_string()
}

/// Whether a would-be name is more likely a pasted key: long, or with characters that no
/// variable or TOML key name has (quotes aside, for quoted TOML segments).
fn looks_like_a_key(s: &str) -> bool {
    s.chars().count() >= 24
        || s.chars().any(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'' | ' '))
        })
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `a/./b/../c` → `a/c`, for comparing target locations (paths are known not to escape).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

/// The allowed name closest to `field`, if it is a plausible typo.
fn suggest<'f>(field: &str, allowed: &[&'f str]) -> Option<&'f str> {
    allowed
        .iter()
        .map(|a| (edit_distance(field, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4) || a.starts_with(field) || field.starts_with(a))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_defaults() {
        assert_eq!(default_rotation_days("development"), 0);
        assert_eq!(default_rotation_days("dev"), 0);
        assert_eq!(default_rotation_days("staging"), 90);
        assert_eq!(default_rotation_days("stage"), 90);
        assert_eq!(default_rotation_days("production"), 180);
        assert_eq!(default_rotation_days("prod"), 180);
        assert_eq!(default_rotation_days("qa"), 180);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("rotate_every", ENV_FIELDS),
            Some("rotate_every_days")
        );
        assert_eq!(suggest("fromat", TARGET_FIELDS), Some("format"));
        assert_eq!(suggest("zzzzzz", TARGET_FIELDS), None);
    }

    #[test]
    fn format_inference() {
        assert_eq!(
            Format::infer(Path::new(".streamlit/secrets.toml")),
            Format::Toml
        );
        assert_eq!(Format::infer(Path::new(".env")), Format::Dotenv);
        assert_eq!(Format::infer(Path::new(".env.production")), Format::Dotenv);
    }
}
