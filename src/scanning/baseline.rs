//! The scan baseline, `.keywarden-scan.toml` at the project root: findings a team has
//! accepted on purpose, each with its reason, so `scan --fail-on` in CI fails only on new
//! ones.
//!
//! An entry names a finding by its code, its path and a fingerprint of the literal: a
//! domain-separated SHA-256 digest of the value (never the value), the same on every
//! machine — the `kw:` fingerprints are keyed by a per-installation pepper, so a baseline
//! written with them on one machine would match nothing in CI. The literal the digest is of
//! is in the committed file the finding points at, so the digest tells nothing the
//! repository does not.
//!
//! Only hard-coded literals (KW201) can be accepted. A key keywarden manages found in a
//! file or in the history (KW202, KW203) is never silenced by a baseline: it is a live or
//! once-live key that was exposed, and the fix is to remove and rotate it, not to agree
//! to it.

use crate::error::{Error, Result};
use crate::finding::{Code, Finding};
use crate::fsio;
use crate::keys::secret::Secret;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The baseline's file name, at the project root.
pub const FILE: &str = ".keywarden-scan.toml";

const HEADER: &str = "\
# keywarden scan baseline: findings accepted on purpose. `keywarden scan` does not report
# a finding listed here (it counts them), and says so when an entry matches nothing.
# Each entry: the finding's code, its path, the fingerprint of its value (a digest, never
# the value) and why it is accepted. `keywarden scan --update-baseline` rewrites this file,
# keeping the reasons. Keys keywarden manages (KW202, KW203) cannot be accepted.
";

/// The fingerprint a baseline names a literal by: `sha256:` and the first 16 bytes (hex)
/// of SHA-256 over a domain tag and the value.
pub fn digest(value: &Secret) -> String {
    let mut h = Sha256::new();
    h.update(b"keywarden scan baseline v1\0");
    h.update(value.expose_secret().as_bytes());
    let hex: String = h
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub code: String,
    pub path: String,
    pub fingerprint: String,
    pub reason: String,
    /// The entry's line in the file (0 for one not read from a file).
    #[serde(skip)]
    pub line: usize,
}

impl Entry {
    fn id(&self) -> (&str, &str, &str) {
        (&self.code, &self.path, &self.fingerprint)
    }
}

/// The baseline file, read.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
}

/// A finding the baseline accepts, with the entry's reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Accepted {
    #[serde(flatten)]
    pub finding: Finding,
    pub reason: String,
}

/// Findings sorted by what the baseline does with them.
#[derive(Debug, Default)]
pub struct Applied {
    /// Not in the baseline: reported.
    pub reported: Vec<Finding>,
    pub accepted: Vec<Accepted>,
    /// Entries that match no finding.
    pub stale: Vec<Entry>,
}

/// The key a finding is matched by, when it can be accepted at all.
fn key_of(f: &Finding) -> Option<(&str, &str, &str)> {
    if f.code != Code::HardCoded {
        return None;
    }
    Some((
        f.code.as_str(),
        f.target.as_deref().unwrap_or(""),
        f.baseline_fingerprint.as_deref()?,
    ))
}

/// Reads `root/.keywarden-scan.toml`; `None` when there is none. A malformed file is an
/// error naming the file, the line and what to do.
pub fn load(root: &Path) -> Result<Option<Baseline>> {
    let path = root.join(FILE);
    let text = match std::fs::read(&path) {
        Ok(bytes) => fsio::text_from_bytes(&path, bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::reading(&path, "read", e)),
    };
    parse(&text, &path).map(Some)
}

/// Parses baseline text; `path` is only used in errors.
pub fn parse(text: &str, path: &Path) -> Result<Baseline> {
    let line_at = |pos: usize| fsio::line_col(text.as_bytes(), pos).0;
    let bad = |line: usize, message: String, hint: &str| {
        Error::input(path, Some(line), None, message, Some(hint.to_string()))
    };
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        bad(
            line_at(e.span().map_or(0, |s| s.start)),
            format!("invalid TOML: {}", e.message().trim()),
            "fix the TOML syntax here, or delete the file and run `keywarden scan --update-baseline` to write it again",
        )
    })?;
    let mut entries = Vec::new();
    for (name, item) in doc.as_table().iter() {
        let at = line_at(item.span().map_or(0, |s| s.start));
        if name != "accepted" {
            return Err(bad(
                at,
                format!("unknown key `{name}`"),
                "the baseline holds only `[[accepted]]` entries (code, path, fingerprint, reason)",
            ));
        }
        let Some(tables) = item.as_array_of_tables() else {
            return Err(bad(
                at,
                "`accepted` must be an array of tables (`[[accepted]]`)".into(),
                "write each entry as an `[[accepted]]` table",
            ));
        };
        for table in tables.iter() {
            let at = line_at(table.span().map_or(0, |s| s.start));
            let field = |key: &str| -> Result<String> {
                match table.get(key) {
                    Some(v) => v.as_str().map(str::to_string).ok_or_else(|| {
                        bad(
                            line_at(v.span().map_or(0, |s| s.start)),
                            format!("`{key}` must be a string"),
                            "quote the value",
                        )
                    }),
                    None => Err(bad(
                        at,
                        format!("this entry has no `{key}`"),
                        "every entry needs code, path, fingerprint and reason; `keywarden scan --update-baseline` writes them",
                    )),
                }
            };
            for (key, _) in table.iter() {
                if !["code", "path", "fingerprint", "reason"].contains(&key) {
                    return Err(bad(
                        at,
                        format!("unknown key `{key}` in an entry"),
                        "an entry holds only code, path, fingerprint and reason",
                    ));
                }
            }
            let entry = Entry {
                code: field("code")?,
                path: field("path")?,
                fingerprint: field("fingerprint")?,
                reason: field("reason")?,
                line: at,
            };
            if entry.code == Code::KeyInFile.as_str() || entry.code == Code::KeyInHistory.as_str() {
                return Err(bad(
                    at,
                    format!(
                        "{} cannot be accepted: it is a key keywarden manages, found where it does not belong",
                        entry.code
                    ),
                    "remove the key from the file and rotate it (`keywarden rotate ENV`); then delete this entry",
                ));
            }
            if entry.code != Code::HardCoded.as_str() {
                return Err(bad(
                    at,
                    format!(
                        "`{}` is not a finding scan reports that a baseline can accept",
                        entry.code
                    ),
                    "only KW201 (a hard-coded literal) can be accepted",
                ));
            }
            if !entry.fingerprint.starts_with("sha256:") {
                return Err(bad(
                    at,
                    format!("`{}` is not a baseline fingerprint", entry.fingerprint),
                    "use the `baseline_fingerprint` of the finding in `keywarden scan --json` (sha256:…), or run `keywarden scan --update-baseline`",
                ));
            }
            if entry.reason.trim().is_empty() {
                return Err(bad(
                    at,
                    "this entry's reason is empty".into(),
                    "say why the finding is accepted (who decided, and why it is not a key)",
                ));
            }
            entries.push(entry);
        }
    }
    Ok(Baseline {
        path: path.to_path_buf(),
        entries,
    })
}

/// Splits `findings` into those reported and those the baseline accepts; entries that
/// match nothing are listed as stale.
pub fn apply(baseline: Option<&Baseline>, findings: Vec<Finding>) -> Applied {
    let Some(b) = baseline else {
        return Applied {
            reported: findings,
            ..Applied::default()
        };
    };
    let by_id: BTreeMap<(&str, &str, &str), &Entry> =
        b.entries.iter().map(|e| (e.id(), e)).collect();
    let mut used = vec![false; b.entries.len()];
    let mut out = Applied::default();
    for f in findings {
        let entry = key_of(&f).and_then(|k| by_id.get(&k).copied());
        match entry {
            Some(e) => {
                if let Some(i) = b.entries.iter().position(|x| std::ptr::eq(x, e)) {
                    used[i] = true;
                }
                let reason = e.reason.clone();
                out.accepted.push(Accepted { finding: f, reason });
            }
            None => out.reported.push(f),
        }
    }
    out.stale = b
        .entries
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(e, _)| e.clone())
        .collect();
    out
}

/// The baseline that accepts every finding of `findings` that can be accepted (KW201):
/// reasons of entries already in `old` kept, new ones given `accepted on DATE — say why`;
/// entries that match nothing dropped. Sorted by path, code and fingerprint.
pub fn updated(old: Option<&Baseline>, findings: &[Finding], today: &str) -> Vec<Entry> {
    let mut out: BTreeMap<(String, String, String), Entry> = BTreeMap::new();
    for f in findings {
        let Some((code, path, fp)) = key_of(f) else {
            continue;
        };
        let reason = old
            .and_then(|b| b.entries.iter().find(|e| e.id() == (code, path, fp)))
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| format!("accepted on {today} — say why"));
        out.entry((path.to_string(), code.to_string(), fp.to_string()))
            .or_insert(Entry {
                code: code.to_string(),
                path: path.to_string(),
                fingerprint: fp.to_string(),
                reason,
                line: 0,
            });
    }
    out.into_values().collect()
}

/// The file's text for `entries`.
pub fn render(entries: &[Entry]) -> String {
    let mut text = String::from(HEADER);
    for e in entries {
        let mut t = toml_edit::Table::new();
        t.insert("code", toml_edit::value(e.code.as_str()));
        t.insert("path", toml_edit::value(e.path.as_str()));
        t.insert("fingerprint", toml_edit::value(e.fingerprint.as_str()));
        t.insert("reason", toml_edit::value(e.reason.as_str()));
        let mut doc = toml_edit::DocumentMut::new();
        let mut aot = toml_edit::ArrayOfTables::new();
        aot.push(t);
        doc.insert("accepted", toml_edit::Item::ArrayOfTables(aot));
        text.push('\n');
        text.push_str(&doc.to_string());
    }
    text
}

/// Writes `entries` to `root/.keywarden-scan.toml` atomically (`0644`: it is meant to be
/// committed). Returns the file's path.
pub fn write(root: &Path, entries: &[Entry]) -> Result<PathBuf> {
    let path = root.join(FILE);
    fsio::atomic_write(&path, render(entries).as_bytes(), 0o644)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(path: &str, value: &str) -> Finding {
        Finding::new(Code::HardCoded, crate::finding::Severity::Medium, "x")
            .at_target(path)
            .at_line(3)
            .with_baseline_fingerprint(digest(&Secret::new(value.into())))
    }

    #[test]
    fn written_baselines_read_back_and_accept_their_findings() {
        let fs = vec![literal("b.py", "changethis"), literal("a.py", "change-me")];
        let entries = updated(None, &fs, "2026-12-02");
        assert_eq!(entries[0].path, "a.py", "sorted by path");
        assert!(entries[0].reason.starts_with("accepted on 2026-12-02"));
        let text = render(&entries);
        assert!(!text.contains("changethis") && !text.contains("change-me"));
        let b = parse(&text, Path::new(FILE)).unwrap();
        assert_eq!(b.entries.len(), 2);
        let mut more = fs.clone();
        more.push(literal("a.py", "another-one"));
        let applied = apply(Some(&b), more);
        assert_eq!(applied.accepted.len(), 2);
        assert_eq!(applied.reported.len(), 1);
        assert!(applied.stale.is_empty());
    }

    #[test]
    fn the_digest_does_not_depend_on_the_machine_and_hides_the_value() {
        let d = digest(&Secret::new("django-insecure-abc".into()));
        assert_eq!(d, digest(&Secret::new("django-insecure-abc".into())));
        assert!(d.starts_with("sha256:") && d.len() == 7 + 32);
        assert!(!d.contains("abc"));
    }
}
