//! Every key keywarden knows of a project: the keys its targets hold now, and the
//! retired and revoked keys kept in its backups. `scan` searches for them; the commands
//! keywarden runs have every one of them redacted from their output.

use crate::error::Result;
use crate::finding::{Code, Finding, Severity};
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::secret::Secret;
use crate::project::Project;
use crate::records::backup::{BackupStore, Kind as BackupKind};

/// A key keywarden knows, and what it is.
pub struct Known {
    pub key: Secret,
    pub fingerprint: Fingerprint,
    /// `the production key`, `a retired key of staging`, `a revoked key`.
    pub what: String,
    pub severity: Severity,
}

/// Keys held by targets now, then key backups (retired, revoked) not already listed; and
/// a KW115 finding for each target that could not be read (its key is not searched for).
pub fn known_keys(project: &Project, pepper: &Pepper) -> Result<(Vec<Known>, Vec<Finding>)> {
    known(project, pepper, true)
}

/// [`known_keys`]; `backups`: whether to read the key backups (which may ask for the
/// passphrase of the backup identity).
pub fn known(
    project: &Project,
    pepper: &Pepper,
    backups: bool,
) -> Result<(Vec<Known>, Vec<Finding>)> {
    let state = project.load_state()?;
    let mut out: Vec<Known> = Vec::new();
    let mut unreadable = Vec::new();
    for env in &project.manifest.environments {
        for t in &env.targets {
            let read = crate::targets::read(&project.root, t, project.context.env.reader());
            if let Err(e) = &read.value {
                unreadable.push(
                    Finding::new(
                        Code::Unreadable,
                        Severity::High,
                        format!("{e}; the key it holds is not searched for"),
                    )
                    .in_environment(&env.name)
                    .at_target(t.label())
                    .with_fix("fix the file; keywarden leaves it untouched until then"),
                );
            }
            if let Some(k) = read.key() {
                let fp = pepper.fingerprint(k);
                if !out.iter().any(|o| o.fingerprint == fp) {
                    out.push(Known {
                        key: k.duplicate(),
                        what: format!("the {} key", env.name),
                        severity: Severity::Critical,
                        fingerprint: fp,
                    });
                }
            }
        }
    }
    let store = BackupStore::of(project);
    for m in store
        .list()
        .into_iter()
        .filter(|m| backups && m.kind == BackupKind::Key)
    {
        let Some(fp) = m.fingerprint.clone() else {
            continue;
        };
        if out.iter().any(|o| o.fingerprint == fp) {
            continue;
        }
        let (what, severity) = match state.is_revoked(&fp) {
            Some(_) => (
                format!("a revoked key of {}", m.environment),
                Severity::Critical,
            ),
            None => (
                format!("a retired key of {}", m.environment),
                Severity::High,
            ),
        };
        out.push(Known {
            key: store.key(&m.id)?,
            fingerprint: fp,
            what,
            severity,
        });
    }
    Ok((out, unreadable))
}

/// Every known key with its fingerprint, as the commands keywarden runs must never show
/// them, plus `also` (keys of an operation under way). Best effort: a target or backup
/// that cannot be read adds nothing, and never stops the command.
pub fn to_hide(
    project: &Project,
    pepper: &Pepper,
    also: &[(Secret, String)],
) -> Vec<(Secret, String)> {
    let mut out: Vec<(Secret, String)> = also
        .iter()
        .map(|(k, f)| (k.duplicate(), f.clone()))
        .collect();
    // Retired and revoked keys only where the backups open without asking: a rotation
    // must not stop for a passphrase to improve its redaction.
    let backups = BackupStore::of(project).crypt().opens_without_asking();
    if let Ok((known, _)) = known(project, pepper, backups) {
        for k in known {
            if !out.iter().any(|(o, _)| o == &k.key) {
                out.push((k.key, k.fingerprint.to_string()));
            }
        }
    }
    out
}
