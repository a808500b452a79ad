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

/// What replaces the backups' passphrase in command output.
pub const PASSPHRASE_SHOWN: &str = "[the backups' passphrase]";

/// Every known key with its fingerprint, as the commands keywarden runs must never show
/// them, plus `also` (keys of an operation under way). Best effort: a target or backup
/// that cannot be read adds nothing, and never stops the command; [`hidden`] says what
/// was left out.
pub fn to_hide(
    project: &Project,
    pepper: &Pepper,
    also: &[(Secret, String)],
) -> Vec<(Secret, String)> {
    hidden(project, pepper, also).0
}

/// [`to_hide`], and a sentence for each thing left out (a backup that cannot be read,
/// the backups that are locked by a passphrase nobody gave).
///
/// Always hidden, needing no backup: `also`, the keys every environment's targets hold
/// now, every key of every fallback list (and the whole list), and the backups'
/// passphrase when keywarden has it (`KEYWARDEN_PASSPHRASE_FILE`, or typed during this
/// operation). The retired and revoked keys of the key backups are read when the
/// backups' identity opens without asking (already open — the command line opens it
/// first, see [`prepare`] — in the OS keyring, or with a passphrase file): each backup on
/// its own, so one that cannot be read costs only its own key.
pub fn hidden(
    project: &Project,
    pepper: &Pepper,
    also: &[(Secret, String)],
) -> (Vec<(Secret, String)>, Vec<String>) {
    let mut out = live(project, pepper, also);
    let store = BackupStore::of(project);
    let mut notes = Vec::new();
    let wanted = wanted_backups(&store, &out);
    if wanted.is_empty() {
        return (out, notes);
    }
    if !store.crypt().opens_without_asking() {
        notes.push(locked_note(&store, wanted.len()));
        return (out, notes);
    }
    let ids: Vec<String> = wanted.iter().map(|m| m.id.clone()).collect();
    if let Err(e) = store.ready(&ids) {
        notes.push(format!(
            "{} retired or revoked key(s) kept in the backups are not hidden from the output of the commands keywarden runs: the backups cannot be opened ({e})",
            wanted.len()
        ));
        return (out, notes);
    }
    for m in wanted {
        match store.key(&m.id) {
            Ok(k) => {
                let fp = m.fingerprint.map_or_else(
                    || pepper.fingerprint(&k).to_string(),
                    |f| f.to_string(),
                );
                add(&mut out, k, fp);
            }
            Err(e) => notes.push(format!(
                "backup {} ({}) cannot be read, so its key is not hidden from the output of the commands keywarden runs: {e}",
                m.id,
                m.fingerprint.map(|f| f.to_string()).unwrap_or_default()
            )),
        }
    }
    (out, notes)
}

fn add(out: &mut Vec<(Secret, String)>, k: Secret, shown: String) {
    if !k.expose_secret().is_empty() && !out.iter().any(|(o, _)| *o == k) {
        out.push((k, shown));
    }
}

/// What is hidden without reading a backup: `also`, every target's key, every key of
/// every fallback (and the whole list), the backups' passphrase when keywarden has it.
fn live(project: &Project, pepper: &Pepper, also: &[(Secret, String)]) -> Vec<(Secret, String)> {
    let mut out: Vec<(Secret, String)> = Vec::new();
    for (k, f) in also {
        add(&mut out, k.duplicate(), f.clone());
    }
    for env in &project.manifest.environments {
        for t in &env.targets {
            let read = crate::targets::read(&project.root, t, project.context.env.reader());
            if let Some(k) = read.key() {
                let fp = pepper.fingerprint(k).to_string();
                add(&mut out, k.duplicate(), fp);
            }
        }
        // The old keys in a grace period: in the fallback file, no backup needed.
        if let Some(t) = &env.fallback
            && let Some(list) = crate::targets::read(&project.root, t, &|_| None).key()
        {
            for k in crate::ops::rotation::split_fallbacks(list) {
                let fp = pepper.fingerprint(&k).to_string();
                add(&mut out, k, fp);
            }
            let fp = pepper.fingerprint(list).to_string();
            add(&mut out, list.duplicate(), fp);
        }
    }
    for p in BackupStore::of(project).crypt().passphrases() {
        add(
            &mut out,
            Secret::new(p.to_string()),
            PASSPHRASE_SHOWN.to_string(),
        );
    }
    out
}

/// The ids of the key backups whose retired or revoked keys [`hidden`] reads to hide
/// them from command output (those not already hidden without a backup): what a face
/// opens the backups for before running commands (see [`prepare`]).
pub fn backups_to_hide(project: &Project, pepper: &Pepper) -> Vec<String> {
    let store = BackupStore::of(project);
    wanted_backups(&store, &live(project, pepper, &[]))
        .into_iter()
        .map(|m| m.id)
        .collect()
}

/// The key backups whose key is not among `have` (by fingerprint).
fn wanted_backups(
    store: &BackupStore,
    have: &[(Secret, String)],
) -> Vec<crate::records::backup::BackupMeta> {
    let mut seen: Vec<String> = have.iter().map(|(_, f)| f.clone()).collect();
    store
        .list()
        .into_iter()
        .filter(|m| m.kind == BackupKind::Key)
        .filter(|m| {
            let Some(fp) = &m.fingerprint else {
                return true;
            };
            let fp = fp.to_string();
            if seen.contains(&fp) {
                return false;
            }
            seen.push(fp);
            true
        })
        .collect()
}

fn locked_note(store: &BackupStore, n: usize) -> String {
    let why = match store.crypt().place() {
        crate::records::crypt::identity::Place::File(file) => format!(
            "the backups' identity, {}, is locked by a passphrase that was neither in {} nor typed",
            file.display(),
            crate::records::crypt::PASSPHRASE_FILE_ENV
        ),
        _ => "this installation holds no identity that opens its backups".to_string(),
    };
    format!(
        "{n} retired or revoked key(s) kept in encrypted backups are not hidden from the output of the commands keywarden runs: {why}; every current key, every key in a fallback and this rotation's keys still are. To hide them too, run the command at a terminal (it asks for the passphrase once) or set {}",
        crate::records::crypt::PASSPHRASE_FILE_ENV
    )
}

/// Before a command whose restart, verify or notify commands will run: opens the
/// backups' identity when their retired and revoked keys are to be hidden and it is not
/// open yet — from the keyring, the passphrase file, or asking once at a terminal (the
/// face's prompt) — so that the commands' output is redacted of every key kept. A wrong
/// passphrase is an error (nothing has changed yet); no passphrase at all (no file, no
/// terminal) is not: the returned sentences say what will not be hidden, for the face
/// to show.
pub fn prepare(project: &Project, pepper: &Pepper) -> crate::error::Result<Vec<String>> {
    let store = BackupStore::of(project);
    let wanted = wanted_backups(&store, &live(project, pepper, &[]));
    if !wanted.is_empty() {
        let ids: Vec<String> = wanted.iter().map(|m| m.id.clone()).collect();
        let asks = store.crypt().needs_passphrase();
        match store.ready(&ids) {
            Ok(()) => {}
            // Nobody to ask (no terminal): said below, not an error.
            Err(crate::error::Error::Usage(_)) if asks => {}
            Err(e @ crate::error::Error::Input(_)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(hidden(project, pepper, &[]).1)
}
