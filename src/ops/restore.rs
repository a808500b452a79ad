//! Putting a backup back: `keywarden restore` and the TUI's backups list both call this.
//!
//! A key backup goes to every target of the environment through the journaled rotation
//! protocol ([`rotation::start`] with [`Kind::Restore`]: resumable, roll-backable); a file
//! backup replaces that one file, after its current content is itself backed up. A backup
//! holding a revoked key is refused, and the refusal is in the audit trail.

use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::fingerprint::Pepper;
use crate::ops::rotation::{self, Ctx, Progress, RunEnd};
use crate::project::Project;
use crate::project::manifest::Target;
use crate::records::audit::{Outcome, Record};
use crate::records::backup::{BackupMeta, BackupStore, Kind as BackupKind};
use crate::records::journal::Kind;

/// What a restore did.
#[derive(Debug)]
pub enum Restored {
    /// A key went back into every target (or stopped at restart/verify: resume or roll back).
    Key(RunEnd),
    /// One file got its old content back.
    File { target: String },
}

/// The backup `id` of `env`, if it may be put back: it exists, belongs to `env`, and does
/// not hold a revoked key (that refusal is audited). Call it before asking the user.
pub fn check(project: &Project, pepper: &Pepper, env: &str, id: &str) -> Result<BackupMeta> {
    let environment = crate::ops::apply::environment(project, env)?;
    let store = BackupStore::of(project);
    let meta = store.meta(id)?;
    if meta.environment != env {
        return Err(Error::Usage(format!(
            "backup {} belongs to {}, not {env}",
            meta.id, meta.environment
        )));
    }
    let state = project.load_state()?;
    // The key the backup holds: recorded for key backups; for a file, read from its
    // content, whatever its record says (the file may hold a fallback key too).
    let mut held: Vec<crate::keys::fingerprint::Fingerprint> =
        meta.fingerprint.iter().cloned().collect();
    if meta.kind == BackupKind::File {
        let content = store.content(&meta.id)?;
        if let Ok(text) = std::str::from_utf8(&content) {
            for t in environment
                .targets
                .iter()
                .chain(environment.fallback.iter())
            {
                if t.label() == meta.target
                    && let Some(k) = crate::targets::key_in_text(t, text)
                {
                    held.push(pepper.fingerprint(&k));
                }
            }
        }
    }
    if let Some(r) = held.iter().find_map(|fp| state.is_revoked(fp)) {
        project.audit().append(
            Record::new("restore", Outcome::Refused)
                .env(env)
                .old(r.fingerprint.clone())
                .detail(format!("backup {} holds a revoked key", meta.id)),
        )?;
        return Err(Error::Usage(format!(
            "backup {} holds key {}, revoked on {} ({}); keywarden will not put it back",
            meta.id,
            r.fingerprint,
            r.at.strftime("%Y-%m-%d"),
            r.reason
        )));
    }
    Ok(meta)
}

/// Puts backup `id` of `env` back (checked again: the answer to the user's confirmation
/// may come long after [`check`]).
pub fn run(
    ctx: &Ctx,
    env_name: &str,
    id: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<Restored> {
    let project = ctx.project;
    let meta = check(project, ctx.pepper, env_name, id)?;
    let store = BackupStore::of(project);
    match meta.kind {
        BackupKind::Key => {
            let key = store.key(&meta.id)?;
            let end = rotation::start(
                ctx,
                env_name,
                Kind::Restore,
                Some(format!("restore of {}", meta.id)),
                Some(key),
                progress,
            )?;
            Ok(Restored::Key(end))
        }
        BackupKind::File => {
            let env = crate::ops::apply::environment(project, env_name)?;
            let Some(Target::File { path, .. }) = env
                .targets
                .iter()
                .chain(env.fallback.iter())
                .find(|t| matches!(t, Target::File { .. }) && t.label() == meta.target)
            else {
                return Err(Error::Usage(format!(
                    "backup {} is of {}, which is no longer a file of {env_name}",
                    meta.id, meta.target
                )));
            };
            let _lock = project.lock()?;
            crate::ops::apply::refuse_during_rotation(&project.load_state()?, env_name)?;
            let real = fsio::resolve_inside(&project.root, path)?;
            let content = store.content(&meta.id)?;
            let detail = format!("{} from backup {}", meta.target, meta.id);
            ctx.audit.append(
                Record::new("restore", Outcome::Started)
                    .env(env_name)
                    .detail(detail.clone()),
            )?;
            rotation::failpoint("restore:audited");
            let plan = crate::targets::plan_content(&project.root, &real, &meta.target, &content)?;
            if plan.changes_anything() {
                if let Some(cur) = &plan.old {
                    store.save(
                        env_name,
                        &meta.target,
                        &real,
                        cur,
                        None,
                        &format!("restore of {}: file before", meta.id),
                    )?;
                    progress(Progress::Step(format!(
                        "backed up the current {}",
                        meta.target
                    )));
                }
                rotation::failpoint("restore:backed-up");
                plan.commit()?;
                rotation::failpoint("restore:written");
                progress(Progress::Step(format!("wrote {}", meta.target)));
            } else {
                progress(Progress::Step(format!(
                    "{} already holds this backup's content",
                    meta.target
                )));
            }
            // The file holds the backup now: a failure from here on must say so.
            ctx.audit
                .append(
                    Record::new("restore", Outcome::Ok)
                        .env(env_name)
                        .detail(detail),
                )
                .map_err(|e| {
                    Error::Failed(format!(
                        "{} was restored from backup {}, but the audit trail could not record it: {e}",
                        meta.target, meta.id
                    ))
                })?;
            Ok(Restored::File {
                target: meta.target,
            })
        }
    }
}
