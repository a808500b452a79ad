//! `scan`: keys where they do not belong — in the project's source files and, with
//! `--history`, in its git history.
//!
//! Two searches, neither of which ever prints a key:
//! - every key keywarden knows (held by a target now, or kept in the backup store: retired
//!   and revoked keys) is looked for, byte for byte, in every file of the project that is
//!   not a target (tracked and untracked files git does not ignore; without git, every file
//!   outside build and dependency folders);
//! - a `SECRET_KEY`-like name given a string literal in source code
//!   (`SECRET_KEY = "…"`, `os.getenv("SECRET_KEY", "…")`, `secret_key: '…'`) is a
//!   hard-coded key, whatever its value; it is named by fingerprint and judged for strength.

use crate::error::{Error, Result};
use crate::finding::{Code, Finding, Severity};
use crate::fsio;
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::secret::Secret;
use crate::keys::strength::{self, Label};
use crate::ops::known::{Known, known};
use crate::project::Project;
use crate::project::manifest::Target;
use crate::records::backup::{BackupStore, Kind as BackupKind};
use memchr::memmem;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Files larger than this are not source code: skipped.
const MAX_FILE: u64 = 4 * 1024 * 1024;
/// Literals shorter than this are not keys (flags, names, empty defaults).
const MIN_LITERAL: usize = 8;
/// Folders never searched when there is no git to say what is ignored.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    "dist",
    "build",
    ".tox",
];
/// Names that hold an application's signing key.
const KEY_NAMES: &[&str] = &[
    "secret_key",
    "secretkey",
    "secret-key",
    "jwt_secret",
    "session_secret",
    "signing_key",
];

/// What a scan found, and what it could not search for.
#[derive(Debug)]
pub struct Scanned {
    /// Sorted by file and line.
    pub findings: Vec<Finding>,
    /// Keys kept in encrypted backups that were not searched for, if any.
    pub not_searched: Option<NotSearched>,
}

/// Retired and revoked keys a scan left out: they are in encrypted backups, and the
/// backups' identity cannot be opened without asking (a scan never asks).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotSearched {
    /// Distinct keys (by fingerprint) kept only in key backups.
    pub keys: usize,
    /// Why they were not read.
    pub why: String,
    /// How to have them searched for.
    pub include: String,
}

impl NotSearched {
    /// One sentence for stderr.
    pub fn message(&self) -> String {
        format!(
            "{} retired or revoked key(s) kept in encrypted backups were not searched for: {}. To include them: {}",
            self.keys, self.why, self.include
        )
    }
}

/// Scans the project; findings are sorted by file and line. Retired and revoked keys are
/// read from the backups only when their identity opens without asking (already open, in
/// the OS keyring, or with `KEYWARDEN_PASSPHRASE_FILE`); otherwise they are left out and
/// [`Scanned::not_searched`] says so, never silently.
pub fn scan(project: &Project, pepper: &Pepper, history: bool) -> Result<Scanned> {
    let store = BackupStore::of(project);
    let crypt = store.crypt();
    let read_backups = crypt.opens_without_asking();
    let (mut known, mut findings) = known(project, pepper, read_backups)?;
    let not_searched = if read_backups {
        None
    } else {
        let mut left_out: Vec<Fingerprint> = Vec::new();
        for fp in store
            .list()
            .into_iter()
            .filter(|m| m.kind == BackupKind::Key)
            .filter_map(|m| m.fingerprint)
        {
            if !known.iter().any(|k| k.fingerprint == fp) && !left_out.contains(&fp) {
                left_out.push(fp);
            }
        }
        (!left_out.is_empty()).then(|| {
            let why = match crypt.place() {
                crate::records::crypt::identity::Place::File(file) => format!(
                    "the backups' identity, {}, is locked by a passphrase, and scan never asks for it",
                    file.display()
                ),
                _ => "this installation holds no identity that opens its backups".to_string(),
            };
            NotSearched {
                keys: left_out.len(),
                why,
                include: format!(
                    "set {} to a private file holding the passphrase (or keep the identity in the OS keyring), then run scan again",
                    crate::records::crypt::PASSPHRASE_FILE_ENV
                ),
            }
        })
    };
    // Keys too short to search for would match everywhere.
    known.retain(|k| k.key.char_len() >= MIN_LITERAL);
    let skip = target_files(project);
    for rel in project_files(&project.root) {
        if skip.contains(&rel) {
            continue;
        }
        let path = project.root.join(&rel);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_FILE {
            continue;
        }
        // Opened without blocking and checked again on the handle: a file swapped for a
        // FIFO since the look above is skipped, never waited on.
        let Ok(Some(snapshot)) = fsio::read_capped(&path) else {
            continue;
        };
        let bytes = snapshot.bytes;
        if bytes.iter().take(8192).any(|&b| b == 0) {
            continue; // binary
        }
        let shown = rel.display().to_string();
        for k in &known {
            for pos in memmem::find_iter(&bytes, k.key.expose_secret().as_bytes()) {
                let line = fsio::line_col(&bytes, pos).0;
                findings.push(
                    Finding::new(
                        Code::KeyInFile,
                        k.severity,
                        format!("holds {} ({}) in plain text", k.what, k.fingerprint),
                    )
                    .at_target(shown.clone())
                    .at_line(line)
                    .with_fix("remove it from the file, then rotate the key: it has been exposed"),
                );
            }
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            findings.extend(hard_coded(text, &shown, pepper, &known));
        }
    }
    if history {
        findings.extend(in_history(&project.root, &known)?);
    }
    findings.sort_by(|a, b| {
        a.target
            .cmp(&b.target)
            .then(a.line.cmp(&b.line))
            .then(b.severity.cmp(&a.severity))
    });
    Ok(Scanned {
        findings,
        not_searched,
    })
}

/// Target and fallback files: where keys are meant to be.
fn target_files(project: &Project) -> BTreeSet<PathBuf> {
    project
        .manifest
        .environments
        .iter()
        .flat_map(|e| e.targets.iter().chain(e.fallback.iter()))
        .filter_map(|t| match t {
            Target::File { path, .. } => Some(fsio::normalize(path)),
            Target::Env { .. } => None,
        })
        .collect()
}

/// The project's files, relative: git's tracked and untracked-but-not-ignored files, or a
/// walk that skips build and dependency folders.
fn project_files(root: &Path) -> Vec<PathBuf> {
    let git = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .stderr(Stdio::null())
        .output();
    if let Ok(out) = git
        && out.status.success()
        && root.ancestors().any(|d| d.join(".git").exists())
    {
        let mut files: Vec<PathBuf> = out
            .stdout
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
            .collect();
        files.sort();
        files.dedup();
        return files;
    }
    let mut files = Vec::new();
    walk(root, Path::new(""), &mut files);
    files.sort();
    files
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let child = rel.join(&name);
        match e.file_type() {
            Ok(t) if t.is_dir() && !SKIP_DIRS.iter().any(|s| name == *s) => {
                walk(root, &child, out);
            }
            Ok(t) if t.is_file() => out.push(child),
            _ => {}
        }
    }
}

/// `NAME = "literal"` and `getenv("NAME", "literal")` forms, per line.
fn hard_coded(text: &str, shown: &str, pepper: &Pepper, known: &[Known]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(literal) = assigned_literal(line) else {
            continue;
        };
        let key = Secret::new(literal);
        // A known key here is already reported by the plain-text search.
        let fp = pepper.fingerprint(&key);
        if known.iter().any(|k| k.fingerprint == fp) {
            continue;
        }
        let s = strength::analyze(&key, &strength::Context::default());
        let published = s
            .findings
            .iter()
            .any(|f| matches!(f.code, Code::KnownKey | Code::Placeholder));
        let severity = if published || s.label == Label::Critical {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(
            Finding::new(
                Code::HardCoded,
                severity,
                format!(
                    "a hard-coded key ({fp}, strength {}{}) in source code",
                    s.label.as_str(),
                    if published { ", a published value" } else { "" }
                ),
            )
            .at_target(shown.to_string())
            .at_line(i + 1)
            .with_fix("read the key from the environment only, with no default; then rotate it"),
        );
    }
    out
}

/// The string literal a key name is given on this line, if any: the first quoted string
/// after the name that is not the name itself (`getenv("SECRET_KEY", "x")` gives `x`).
fn assigned_literal(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let at = KEY_NAMES.iter().filter_map(|n| lower.find(n)).min()?;
    let rest = &line[at..];
    // The name must be assigned or passed: `=`, `:`, `(`, `,` or `||` follows it.
    if !rest.contains(['=', ':', '(', ',', '|']) {
        return None;
    }
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '"' && c != '\'' {
            continue;
        }
        let body_start = i + 1;
        let end = rest[body_start..].find(c)? + body_start;
        let literal = &rest[body_start..end];
        // Skip past this literal before looking for the next one.
        while chars.peek().is_some_and(|(j, _)| *j <= end) {
            chars.next();
        }
        let is_name = KEY_NAMES
            .iter()
            .any(|n| literal.to_ascii_lowercase().contains(n));
        if is_name {
            continue;
        }
        let looks_like_reference =
            literal.starts_with('$') || literal.starts_with('<') || literal.contains("{{");
        if literal.chars().count() >= MIN_LITERAL
            && !looks_like_reference
            && !literal.contains(char::is_whitespace)
        {
            return Some(literal.to_string());
        }
        return None;
    }
    None
}

/// Known keys and hard-coded literals added by any commit (`git log -p --all`).
fn in_history(root: &Path, known: &[Known]) -> Result<Vec<Finding>> {
    if !root.ancestors().any(|d| d.join(".git").exists()) {
        return Err(Error::Usage(
            "--history needs a git repository; this project has none".into(),
        ));
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "log",
            "-p",
            "--all",
            "--no-color",
            "--no-ext-diff",
            "-U0",
            "--format=commit %H",
        ])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| Error::Failed(format!("cannot run git log: {e}")))?;
    let log = zeroize::Zeroizing::new(out.stdout);
    let mut findings = Vec::new();
    let mut seen: BTreeSet<(String, String, Fingerprint)> = BTreeSet::new();
    let (mut commit, mut file) = (String::new(), String::new());
    for line in log.split(|&b| b == b'\n') {
        if let Some(c) = line.strip_prefix(b"commit ") {
            commit = String::from_utf8_lossy(&c[..c.len().min(12)]).into_owned();
        } else if let Some(f) = line.strip_prefix(b"+++ b/") {
            file = String::from_utf8_lossy(f).into_owned();
        } else if line.starts_with(b"+") && !line.starts_with(b"+++") {
            for k in known {
                if memmem::find(line, k.key.expose_secret().as_bytes()).is_some()
                    && seen.insert((commit.clone(), file.clone(), k.fingerprint.clone()))
                {
                    findings.push(
                        Finding::new(
                            Code::KeyInHistory,
                            k.severity,
                            format!("commit {commit} added {} ({}) to {file}", k.what, k.fingerprint),
                        )
                        .at_target(file.clone())
                        .with_fix("the key stays in every clone of the history: rotate it (rewriting history does not recall copies)"),
                    );
                }
            }
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_literals_are_found_in_the_usual_forms() {
        let cases = [
            ("SECRET_KEY = \"abcdefgh1234\"", Some("abcdefgh1234")),
            (
                "SECRET_KEY = os.getenv(\"SECRET_KEY\", \"baguette-metro-2024\")",
                Some("baguette-metro-2024"),
            ),
            (
                "app.secret_key = 'flask-dev-key-123'",
                Some("flask-dev-key-123"),
            ),
            ("  jwt_secret: \"shhhhhhhhh\",", Some("shhhhhhhhh")),
            (
                "const secret = process.env.SECRET_KEY || 'fallback-key-1'",
                Some("fallback-key-1"),
            ),
            ("SECRET_KEY = os.environ[\"SECRET_KEY\"]", None),
            ("SECRET_KEY = os.getenv(\"SECRET_KEY\")", None),
            ("SECRET_KEY: \"${SECRET_KEY}\"", None),
            ("# set SECRET_KEY in your .env", None),
            ("SECRET_KEY = 'short'", None),
            ("print(\"SECRET_KEY not configured\")", None),
        ];
        for (line, want) in cases {
            assert_eq!(assigned_literal(line).as_deref(), want, "{line}");
        }
    }
}
