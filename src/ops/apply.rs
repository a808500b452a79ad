//! Changing an environment's key or files: `set` and `fix`.
//!
//! `set` is all or nothing across the environment's targets: every write is planned first
//! (a malformed file or a key a reader would change stops everything before a byte is
//! written), every file is backed up, then each is replaced atomically. If a replacement
//! fails midway, the files already replaced get their old bytes back.

use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::generate::{self, KeySpec, Size};
use crate::keys::secret::Secret;
use crate::project::Project;
use crate::project::manifest::{Environment, Format, Target};
use crate::records::audit::{Outcome, Record};
use crate::records::backup::BackupStore;
use crate::records::journal::{Journal, Kind as JournalKind, Step};
use crate::targets::{self, PlannedWrite};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the new key comes from.
pub enum NewKey {
    /// Drawn with the manifest's defaults, redrawn until every target carries it exactly.
    Generate,
    /// Given by the user (read from stdin, never from argv). Held to the bounds
    /// `generate` keeps (32 to 4,096 characters); a key whose strength is critical is
    /// refused unless `allow_weak`.
    Given { key: Secret, allow_weak: bool },
}

#[derive(Debug)]
pub struct SetOutcome {
    pub fingerprint: Fingerprint,
    /// Files written, as the manifest names them.
    pub written: Vec<String>,
    /// Files that already held exactly this content.
    pub unchanged: Vec<String>,
    /// Read-only targets (environment variables) the user must update.
    pub read_only: Vec<String>,
    pub backups: Vec<String>,
}

pub fn environment<'a>(project: &'a Project, name: &str) -> Result<&'a Environment> {
    project.manifest.environment(name).ok_or_else(|| {
        let known: Vec<&str> = project.manifest.environments.iter().map(|e| e.name.as_str()).collect();
        Error::Usage(if known.is_empty() {
            format!("no environment `{name}`: this project has none (run `keywarden init` or add keywarden.toml)")
        } else {
            format!("no environment `{name}`; this project has: {}", known.join(", "))
        })
    })
}

/// The environment's file targets that git tracks: a key written there is published by
/// the next commit.
pub fn tracked_by_git(project: &Project, env: &Environment) -> Vec<String> {
    let files: Vec<PathBuf> = env
        .targets
        .iter()
        .filter_map(|t| match t {
            Target::File { path, .. } => Some(fsio::normalize(path)),
            Target::Env { .. } | Target::Vault { .. } => None,
        })
        .collect();
    let git = crate::scanning::git::GitView::query(&project.root, &files);
    if let (true, Some(why)) = (git.in_repo, &git.failure) {
        // Git could not answer: each file may be tracked, and is named as such, so the
        // write is still confirmed rather than waved through.
        return files
            .iter()
            .filter(|f| project.root.join(f).exists())
            .map(|f| format!("{} (perhaps: {why})", f.display()))
            .collect();
    }
    files
        .iter()
        .filter(|f| git.answered() && git.is_tracked(f))
        .map(|f| f.display().to_string())
        .collect()
}

/// The key spec from the manifest's `[defaults]`.
pub fn default_spec(project: &Project) -> Result<KeySpec> {
    let d = &project.manifest.defaults;
    let spec = KeySpec {
        charset: d.charset,
        size: Size::Chars(d.length),
    };
    spec.validate().map_err(|e| Error::Usage(e.to_string()))?;
    Ok(spec)
}

/// Writes one key to every file target of `env_name`.
pub fn set_key(
    project: &Project,
    pepper: &Pepper,
    env_name: &str,
    new: NewKey,
    reason: &str,
) -> Result<SetOutcome> {
    let env = environment(project, env_name)?;
    let _lock = project.lock()?;
    let key = match new {
        NewKey::Generate => {
            let spec = default_spec(project)?;
            generate::generate_where(&spec, |k| {
                env.targets.iter().all(|t| targets::carries(t, k).is_ok())
                    && crate::ops::rotation::fallback_carries(env, k).is_ok()
            })
            .map_err(|e| Error::Failed(e.to_string()))?
        }
        NewKey::Given { key: k, allow_weak } => {
            check_given(project, &k, allow_weak)?;
            for t in &env.targets {
                targets::carries(t, &k).map_err(|why| {
                    Error::Usage(format!(
                        "this key cannot be written to {} without being changed: {why}; use a key without it, or `--generate`",
                        t.label()
                    ))
                })?;
            }
            crate::ops::rotation::fallback_carries(env, &k).map_err(Error::Usage)?;
            k
        }
    };
    let fingerprint = pepper.fingerprint(&key);

    // One plan per file: targets that share a file (two key names, or a symlink to the
    // same file) are edits of one evolving content, never two writes from one reading.
    let mut by_file: Vec<(PathBuf, &std::path::Path, Format, Vec<&str>)> = Vec::new();
    let mut read_only = Vec::new();
    for t in &env.targets {
        let Target::File { path, format, key } = t else {
            if !matches!(t, Target::Vault { .. }) {
                read_only.push(t.label());
            }
            continue;
        };
        let real = fsio::resolve_inside(&project.root, path)?;
        match by_file.iter_mut().find(|(r, ..)| *r == real) {
            Some((_, first, first_format, names)) => {
                if *first_format != *format {
                    return Err(Error::Usage(format!(
                        "{} and {} are the same file read as two formats ({first_format} and {format}); give both targets one format",
                        first.display(),
                        path.display()
                    )));
                }
                names.push(key);
            }
            None => by_file.push((real, path, *format, vec![key])),
        }
    }
    // A store target is written first (check-and-set on the version just read): a lost
    // race stops the set before any file is touched.
    let mut plans = Vec::new();
    for t in env
        .targets
        .iter()
        .filter(|t| matches!(t, Target::Vault { .. }))
    {
        if let Some(plan) = targets::plan_set(&project.root, t, &key)? {
            plans.push(plan);
        }
    }
    for (_, path, format, names) in &by_file {
        let edits: Vec<targets::Edit> = names
            .iter()
            .map(|name| targets::Edit {
                name,
                value: Some(&key),
            })
            .collect();
        plans.push(targets::plan_edits(&project.root, path, *format, &edits)?);
    }
    if plans.is_empty() {
        return Err(Error::Usage(format!(
            "environment `{env_name}` has no file target to write (only variables: {}); set the variable where the service runs",
            read_only.join(", ")
        )));
    }

    // The keys the files hold now, named in the backups' records.
    let mut before: Vec<(String, Fingerprint, Secret)> = Vec::new();
    for t in &env.targets {
        if let Some(k) = targets::read(&project.root, t, &|_| None).key() {
            before.push((t.label(), pepper.fingerprint(k), k.duplicate()));
        }
    }
    let mut state = project.load_state()?;
    refuse_during_rotation(&state, env_name)?;
    if let Some(r) = state.is_revoked(&fingerprint) {
        return Err(Error::Usage(format!(
            "key {fingerprint} was revoked on {} ({}); keywarden will not put it back",
            r.at.strftime("%Y-%m-%d"),
            r.reason
        )));
    }
    // Fail closed: the audit trail records the attempt before any file changes.
    let audit = project.audit();
    let mut started = Record::new("set", Outcome::Started)
        .env(env_name)
        .new_fp(fingerprint.clone());
    let mut old_keys: Vec<&Fingerprint> = before.iter().map(|(_, fp, _)| fp).collect();
    old_keys.sort();
    old_keys.dedup();
    if let [old] = old_keys.as_slice() {
        started = started.old((*old).clone());
    }
    audit.append(started.detail(reason.to_string()))?;

    let store = BackupStore::of(project);
    let mut backups = Vec::new();
    // The new key and the keys it replaces go to the store on their own, so a key is
    // never lost even when its files are.
    let mut new_key_backup = None;
    let mut old_key_backups = BTreeMap::new();
    if plans.iter().any(PlannedWrite::changes_anything) {
        let id = store.save_key(
            env_name,
            &key,
            fingerprint.clone(),
            &format!("{reason}: new key"),
        )?;
        backups.push(id.clone());
        new_key_backup = Some(id);
        for (_, fp, old) in &before {
            if *fp != fingerprint && !old_key_backups.contains_key(fp) {
                let id =
                    store.save_key(env_name, old, fp.clone(), &format!("{reason}: retired key"))?;
                backups.push(id.clone());
                old_key_backups.insert(fp.clone(), id);
            }
        }
    }
    // Each changing file's backup, by the file it is of.
    let mut file_backups: Vec<(PathBuf, Option<String>)> = Vec::new();
    for p in plans.iter().filter(|p| p.changes_anything()) {
        let id = match &p.old {
            Some(old) => {
                let old_fp = before
                    .iter()
                    .find(|(l, _, _)| *l == p.label)
                    .map(|(_, fp, _)| fp.clone());
                let id = store.save(env_name, &p.label, &p.path, old, old_fp, reason)?;
                backups.push(id.clone());
                Some(id)
            }
            None => None,
        };
        file_backups.push((p.path.clone(), id));
    }

    // More than one file to change: journaled like a rotation while they are written, so
    // a run killed between two files is reported (KW118) and finished or undone with
    // `rotate --resume` / `--rollback`, never left as silent drift. One file is atomic
    // by itself.
    let journaled = file_backups.len() > 1;
    if journaled {
        let mut files = BTreeMap::new();
        for t in &env.targets {
            if let Target::File { path, .. } = t
                && let Ok(real) = fsio::resolve_inside(&project.root, path)
                && let Some((_, id)) = file_backups.iter().find(|(p, _)| *p == real)
            {
                files.insert(path.display().to_string(), id.clone());
            }
            if let Target::Vault { .. } = t
                && let Some((_, id)) = file_backups
                    .iter()
                    .find(|(p, _)| *p == std::path::Path::new(&t.label()))
            {
                files.insert(t.label(), id.clone());
            }
        }
        let old: Vec<Fingerprint> = old_keys.iter().map(|fp| (*fp).clone()).collect();
        state.rotations.insert(
            env_name.to_string(),
            Journal {
                kind: JournalKind::Set,
                environment: env_name.to_string(),
                started: project.context.now(),
                step: Step::Created,
                old,
                new: fingerprint.clone(),
                new_key_backup: new_key_backup.clone().unwrap_or_default(),
                old_key_backups: old_key_backups.clone(),
                files,
                written: Vec::new(),
                grace_until: None,
                fallbacks: Vec::new(),
                reason: Some(reason.to_string()),
                restart: None,
                verify: None,
                rolling_back: false,
            },
        );
        state.save(&project.state_dir())?;
    }

    let (written, unchanged) = match apply_all(&plans) {
        Ok(done) => done,
        Err(Unapplied { error, undone }) => {
            let _ = audit.append(
                Record::new("set", Outcome::Failed)
                    .env(env_name)
                    .new_fp(fingerprint.clone()),
            );
            // Every file is as it was: the journal has nothing left to do. Otherwise it
            // stays, and says how to finish or undo.
            if journaled && undone {
                state.rotations.remove(env_name);
                let _ = state.save(&project.state_dir());
            }
            return Err(*error);
        }
    };
    // The files hold the new key now: whatever fails from here on must say so.
    let not_recorded = |cause: Error| Error::WrittenNotRecorded {
        env: env_name.to_string(),
        fingerprint: fingerprint.clone(),
        files: written.clone(),
        cause: Box::new(cause),
    };
    audit
        .append(
            Record::new("set", Outcome::Ok)
                .env(env_name)
                .new_fp(fingerprint.clone())
                .detail(format!("{} file(s) written", written.len())),
        )
        .map_err(|e| not_recorded(e.into()))?;
    state.rotations.remove(env_name);
    state.record_key(env_name, fingerprint.clone(), project.context.now());
    state.save(&project.state_dir()).map_err(not_recorded)?;
    crate::ops::rotation::prune_backups(project, &state);

    Ok(SetOutcome {
        fingerprint,
        written,
        unchanged,
        read_only,
        backups,
    })
}

/// A key given by the user meets the bounds `generate` keeps, and is not critically weak
/// unless the user said so (`--allow-weak`, recorded in the audit trail by the caller's
/// reason).
fn check_given(project: &Project, key: &Secret, allow_weak: bool) -> Result<()> {
    let chars = key.char_len();
    if chars < generate::MIN_LENGTH {
        return Err(Error::Usage(format!(
            "the key is {chars} characters long; the guide's minimum is {} (64 recommended): use `--generate`, or a longer key",
            generate::MIN_LENGTH
        )));
    }
    if chars > generate::MAX_LENGTH {
        return Err(Error::Usage(format!(
            "the key is {chars} characters long; the maximum is {} characters",
            generate::MAX_LENGTH
        )));
    }
    if !allow_weak {
        let names: Vec<&str> = project
            .manifest
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        let project_name = project.name();
        let ctx = crate::keys::strength::Context::new(Some(&project_name), &names);
        let strength = crate::keys::strength::analyze(key, &ctx);
        if strength.label == crate::keys::strength::Label::Critical {
            let why: Vec<String> = strength
                .findings
                .iter()
                .map(|f| format!("{} {}", f.code.as_str(), f.code.title()))
                .collect();
            return Err(Error::Usage(format!(
                "the key's strength is critical ({}); use `--generate`, or pass `--allow-weak` to write it anyway (recorded in the audit trail)",
                why.join("; ")
            )));
        }
    }
    Ok(())
}

/// Why [`apply_all`] stopped, and whether every file already replaced got its old
/// content back.
struct Unapplied {
    error: Box<Error>,
    undone: bool,
}

/// Replaces each planned file; on a failure, puts back the files already replaced.
fn apply_all(plans: &[PlannedWrite]) -> std::result::Result<(Vec<String>, Vec<String>), Unapplied> {
    let mut done: Vec<&PlannedWrite> = Vec::new();
    let mut unchanged = Vec::new();
    for p in plans {
        if !p.changes_anything() {
            unchanged.push(p.label.clone());
            continue;
        }
        crate::ops::rotation::failpoint(&format!("set-file:{}", done.len()));
        if let Err(e) = p.commit() {
            let mut undo_failures = Vec::new();
            for w in done.iter().rev() {
                if w.undo().is_err() {
                    undo_failures.push(w.label.clone());
                }
            }
            let undone = undo_failures.is_empty();
            let error = if undone {
                Error::Failed(format!(
                    "{e}\nno file was changed (the targets already written were put back)"
                ))
            } else {
                Error::Failed(format!(
                    "{e}\nputting back {} failed too: the set is journaled; resume or roll it back",
                    undo_failures.join(", ")
                ))
            };
            return Err(Unapplied {
                error: Box::new(error),
                undone,
            });
        }
        done.push(p);
    }
    Ok((done.iter().map(|p| p.label.clone()).collect(), unchanged))
}

#[derive(Debug)]
pub struct FixOutcome {
    /// (target, mode before) for each file tightened to 0600.
    pub tightened: Vec<(String, String)>,
    pub already_private: Vec<String>,
    pub missing: Vec<String>,
}

/// Tightens every existing file target (and the fallback) of `env_name` to `0600`.
pub fn fix_permissions(project: &Project, env_name: &str) -> Result<FixOutcome> {
    let env = environment(project, env_name)?;
    let _lock = project.lock()?;
    let mut out = FixOutcome {
        tightened: Vec::new(),
        already_private: Vec::new(),
        missing: Vec::new(),
    };
    let files = env.targets.iter().chain(env.fallback.iter());
    let mut seen: Vec<PathBuf> = Vec::new();
    let audit = project.audit();
    for t in files {
        let Target::File { path, .. } = t else {
            continue;
        };
        let real = fsio::resolve_inside(&project.root, path)?;
        if seen.contains(&real) {
            continue;
        }
        seen.push(real.clone());
        // The change itself goes through the file's folder handle, never through a
        // symlink swapped in since this look (targets::make_private).
        match fsio::read_capped(&real) {
            Ok(Some(snap)) if snap.mode & 0o077 != 0 => {
                let before = format!("{:04o}", snap.mode);
                audit.append(
                    Record::new("fix", Outcome::Ok)
                        .env(env_name)
                        .detail(format!("{}: mode {before} -> 0600", t.label())),
                )?;
                targets::make_private(&project.root, path)?;
                out.tightened.push((t.label(), before));
            }
            Ok(Some(_)) => out.already_private.push(t.label()),
            Ok(None) => out.missing.push(t.label()),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// What [`fix_line_endings`] did.
#[derive(Debug)]
pub struct LineEndingsOutcome {
    /// `.env` files rewritten from CRLF (or lone CR) to LF.
    pub converted: Vec<String>,
    pub already_lf: Vec<String>,
    pub backups: Vec<String>,
}

/// Rewrites the environment's `.env` files (targets and fallback) that end lines in CRLF
/// or a lone CR to LF, the fix for KW113's "bash reads the key with a trailing `\r`". Only
/// the line endings change, and only if python-dotenv reads every variable the same after;
/// each file is backed up first and written through the same pinned, checked write as a key.
pub fn fix_line_endings(project: &Project, env_name: &str) -> Result<LineEndingsOutcome> {
    let env = environment(project, env_name)?;
    let _lock = project.lock()?;
    refuse_during_rotation(&project.load_state()?, env_name)?;
    let store = BackupStore::of(project);
    let audit = project.audit();
    let mut out = LineEndingsOutcome {
        converted: Vec::new(),
        already_lf: Vec::new(),
        backups: Vec::new(),
    };
    let mut seen: Vec<PathBuf> = Vec::new();
    for t in env.targets.iter().chain(env.fallback.iter()) {
        let Target::File {
            path,
            format: Format::Dotenv,
            ..
        } = t
        else {
            continue;
        };
        let real = fsio::resolve_inside(&project.root, path)?;
        if seen.contains(&real) {
            continue;
        }
        seen.push(real.clone());
        let Some(snapshot) = fsio::read_capped(&real)? else {
            continue;
        };
        if !snapshot.bytes.contains(&b'\r') {
            out.already_lf.push(t.label());
            continue;
        }
        let text = zeroize::Zeroizing::new(fsio::text_from_bytes(&real, snapshot.bytes.to_vec())?);
        let parsed = targets::dotenv::DotenvFile::parse(&text).map_err(|e| {
            Error::input(
                &real,
                e.line(),
                e.column(),
                e.to_string(),
                Some("fix the line first; keywarden left the file untouched".into()),
            )
        })?;
        let lf = zeroize::Zeroizing::new(
            parsed
                .with_lf_line_endings()
                .map_err(|e| Error::input(&real, None, None, e.to_string(), None))?,
        );
        let plan = targets::plan_content(&project.root, path, &t.label(), lf.as_bytes())?;
        if !plan.changes_anything() {
            out.already_lf.push(t.label());
            continue;
        }
        audit.append(
            Record::new("fix", Outcome::Started)
                .env(env_name)
                .detail(format!("{}: line endings to LF", t.label())),
        )?;
        if let Some(old) = &plan.old {
            out.backups.push(store.save(
                env_name,
                &t.label(),
                &real,
                old,
                None,
                "fix --line-endings: file before",
            )?);
        }
        plan.commit()?;
        audit.append(
            Record::new("fix", Outcome::Ok)
                .env(env_name)
                .detail(format!("{}: line endings to LF", t.label())),
        )?;
        out.converted.push(t.label());
    }
    Ok(out)
}

/// Changing a key under an unfinished rotation would leave its journal describing files
/// that no longer hold what it says: finish or undo the rotation first.
pub fn refuse_during_rotation(state: &crate::project::state::State, env_name: &str) -> Result<()> {
    match state.rotations.get(env_name) {
        Some(j) => Err(Error::RotationInTheWay {
            env: env_name.to_string(),
            journal: j.describe(),
        }),
        None => Ok(()),
    }
}

/// The charset a key spec would use, for messages.
pub fn describe(spec: &KeySpec) -> String {
    match spec.size {
        Size::Chars(n) => format!("{n} characters, charset {}", spec.charset),
        Size::Bytes(n) => format!("{n} random bytes as {}", spec.charset),
    }
}
