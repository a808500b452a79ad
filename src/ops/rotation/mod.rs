//! Rotation, revocation and key restores: the guide's procedure (generate, back up, update
//! the configuration, restart, test, retire the old key) as a journaled protocol.
//!
//! 1. **create**: draw the new key; back up the old key, the new key and every file;
//!    write the journal.
//! 2. **set**: write the new key to every file target (and, with a grace period, the old
//!    key to the fallback; a revocation removes the fallback instead).
//! 3. **restart**: run the environment's `restart` command, if any.
//! 4. **verify**: run `verify`, if any. A failed restart or verify stops here and offers
//!    rollback.
//! 5. **finish**: the new key becomes current, the old one is retired (revoked, for a
//!    revocation); the journal is removed.
//!
//! The journal (in `state.json`) is saved before every side effect, and every side effect
//! is idempotent, so a rotation killed at any point — `kill -9` included — can be resumed
//! (`--resume`: the remaining steps run again) or rolled back (`--rollback`: every file
//! gets its pre-rotation content back from the backups). Either way every target ends
//! holding one known key, and both keys stay in the backup store, so no key is lost.
//!
//! This file holds the protocol (start, resume, drive, finish); the journal it writes is
//! [`crate::records::journal`]; [`rollback`], the grace period ([`grace`]) and which files
//! are written ([`files`]) are beside it.

use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::generate;
use crate::keys::secret::Secret;
use crate::ops::apply;
use crate::ops::command::{self, CommandRun};
use crate::project::Project;
use crate::project::manifest::{Environment, Format, Target};
use crate::project::state::{Grace, Revoked, State};
use crate::records::audit::{self, AuditLog, Record};
use crate::records::backup::BackupStore;
use crate::records::journal::{Journal, Kind, Step};
use crate::targets::{self, Edit};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod files;
mod grace;
mod rollback;
mod store;
pub use files::*;
pub use grace::*;
pub use rollback::*;

/// What a run reports as it goes (the CLI prints it, the TUI shows it).
#[derive(Debug, Clone)]
pub enum Progress {
    Step(String),
    Command { name: &'static str, run: CommandRun },
}

/// How a run ended.
#[derive(Debug)]
pub enum RunEnd {
    Finished {
        old: Vec<Fingerprint>,
        new: Fingerprint,
        /// Other environments whose targets hold a key this revocation revoked.
        also_exposed: Vec<String>,
    },
    /// `restart` or `verify` failed: the journal stays; resume or roll back.
    Stopped { step: &'static str, run: CommandRun },
}

/// What a run's end means, as facts each face words its own way (the CLI, the TUI, the
/// incident record): the keys before and after and the environments that must rotate
/// too, or the step that stopped with the new key in place but not confirmed.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary {
    Finished {
        env: String,
        /// The old keys, listed (`no key` when there was none).
        old: String,
        new: Fingerprint,
        /// Environments that hold the revoked key too: rotate them next.
        rotate_too: Vec<String>,
    },
    Stopped {
        env: String,
        step: &'static str,
        /// The failed command's summary.
        why: String,
    },
}

impl RunEnd {
    pub fn summary(&self, env: &str) -> Summary {
        match self {
            RunEnd::Finished {
                old,
                new,
                also_exposed,
            } => Summary::Finished {
                env: env.to_string(),
                old: crate::keys::fingerprint::list(old),
                new: new.clone(),
                rotate_too: also_exposed.clone(),
            },
            RunEnd::Stopped { step, run } => Summary::Stopped {
                env: env.to_string(),
                step,
                why: run.summary(),
            },
        }
    }
}

/// Everything a rotation needs.
pub struct Ctx<'a> {
    pub project: &'a Project,
    pub pepper: &'a Pepper,
    pub audit: &'a AuditLog,
    /// Run `restart` and `verify` (false: `--no-restart`).
    pub run_commands: bool,
}

impl<'a> Ctx<'a> {
    fn store(&self) -> BackupStore {
        BackupStore::of(self.project)
    }

    fn save(&self, state: &State) -> Result<()> {
        state.save(&self.project.state_dir())
    }
}

/// Aborts the process at `name` when `KEYWARDEN_FAILPOINT` says so: how the crash tests
/// kill keywarden between any two side effects. `NAME` stops at the first pass of that
/// failpoint, `NAME#N` at its N-th pass (a name a run passes more than once: two
/// environments revoked by one incident step). With `KEYWARDEN_FAILPOINT_TRACE=FILE`,
/// every failpoint passed is appended to FILE, one name a line, so a test finds them all
/// from one run. Compiled out of release builds.
pub fn failpoint(name: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static PASSES: AtomicUsize = AtomicUsize::new(0);
        let env = crate::context::Env::process();
        if let Some(trace) = env.var_os("KEYWARDEN_FAILPOINT_TRACE") {
            use std::io::Write;
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&trace)
                .and_then(|mut f| f.write_all(format!("{name}\n").as_bytes()));
            if let Err(e) = appended {
                eprintln!("keywarden: failpoint trace: {e}");
                std::process::abort();
            }
        }
        if let Some(wanted) = env.var("KEYWARDEN_FAILPOINT") {
            let (at, nth) = match wanted.rsplit_once('#') {
                Some((at, n)) => (at.to_string(), n.parse::<usize>().unwrap_or(0)),
                None => (wanted, 1),
            };
            if at == name && PASSES.fetch_add(1, Ordering::SeqCst) + 1 == nth {
                eprintln!("keywarden: failpoint {name}: aborting");
                std::process::abort();
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// Starts a rotation (or revocation, or key restore) of `env_name` and runs it to the end.
/// `new_key` is the key to install for a restore; rotations draw one.
pub fn start(
    ctx: &Ctx,
    env_name: &str,
    kind: Kind,
    reason: Option<String>,
    new_key: Option<Secret>,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunEnd> {
    let project = ctx.project;
    let env = apply::environment(project, env_name)?;
    let _lock = project.lock()?;
    let mut state = project.load_state()?;
    if let Some(j) = state.rotations.get(env_name) {
        return Err(Error::RotationInTheWay {
            env: env_name.to_string(),
            journal: j.describe(),
        });
    }
    let files = file_targets(env);
    if files.is_empty() && store::store_targets(env).is_empty() {
        return Err(Error::Usage(format!(
            "environment `{env_name}` has no file target to write; its keys live in environment variables only"
        )));
    }

    // Read what the files hold now; a file that cannot be read stops everything here.
    let mut old_keys: Vec<(Fingerprint, Secret)> = Vec::new();
    // Which key each file holds, for the backups' records.
    let mut held_by: BTreeMap<String, Fingerprint> = BTreeMap::new();
    for t in env
        .targets
        .iter()
        .filter(|t| matches!(t, Target::File { .. } | Target::Vault { .. }))
    {
        let held = match targets::read(&project.root, t, &|_| None).value? {
            targets::Value::Present { key, .. } => key,
            _ => continue,
        };
        let fp = ctx.pepper.fingerprint(&held);
        held_by.insert(t.label(), fp.clone());
        if !old_keys.iter().any(|(f, _)| *f == fp) {
            old_keys.push((fp, held));
        }
    }
    // The old keys the fallback holds now, newest first.
    let held_fallbacks = fallback_entries(project, env)?;

    let key = match new_key {
        Some(k) => {
            for t in env.targets.iter().chain(env.fallback.iter()) {
                targets::carries(t, &k).map_err(|why| {
                    Error::Usage(format!(
                        "this key cannot be written to {}: {why}",
                        t.label()
                    ))
                })?;
            }
            fallback_carries(env, &k).map_err(Error::Usage)?;
            k
        }
        None => {
            let spec = apply::default_spec(project)?;
            generate::generate_where(&spec, |k| {
                env.targets.iter().chain(env.fallback.iter()).all(|t| targets::carries(t, k).is_ok())
                    // Rotated out later, it becomes one key of the fallback's list.
                    && fallback_carries(env, k).is_ok()
                    // With a grace period the old keys stay in the fallback next to the new
                    // one: it must differ from them.
                    && !old_keys.iter().any(|(_, o)| o == k)
                    && !held_fallbacks.iter().any(|o| o == k)
            })
            .map_err(|e| Error::Failed(e.to_string()))?
        }
    };
    let new = ctx.pepper.fingerprint(&key);
    if let Some(r) = state.is_revoked(&new) {
        return Err(Error::Usage(format!(
            "key {new} was revoked on {} ({}); keywarden will not put it back",
            r.at.strftime("%Y-%m-%d"),
            r.reason
        )));
    }
    let old: Vec<Fingerprint> = old_keys.iter().map(|(f, _)| f.clone()).collect();
    // A retiring key the fallback list cannot hold stops the rotation before the audit
    // trail, the backups or a file is touched (the list is built again below).
    if kind == Kind::Rotate && env.grace_days > 0 && env.fallback.is_some() {
        fallback_list(
            ctx,
            env,
            kind,
            &state,
            Some(ctx.project.context.now()),
            &old_keys,
            &held_fallbacks,
            &new,
        )?;
    }

    // Fail closed: no side effect before the audit trail has the attempt.
    let mut rec = Record::new(format!("{}.create", kind.as_str()), audit::Outcome::Started)
        .env(env_name)
        .new_fp(new.clone());
    if let [(fp, _)] = old_keys.as_slice() {
        rec = rec.old(fp.clone());
    }
    if let Some(r) = &reason {
        rec = rec.detail(r.clone());
    }
    ctx.audit.append(rec)?;
    failpoint("create:audited");

    progress(Progress::Step(format!(
        "create: new key {new}; backing up the old key and every file"
    )));
    let store = ctx.store();
    let why = match kind {
        Kind::Rotate => "rotation",
        Kind::Revoke => "revocation",
        Kind::Restore => "restore",
        Kind::Set => "set",
    };
    let new_key_backup = store.save_key(env_name, &key, new.clone(), &format!("{why}: new key"))?;
    let mut old_key_backups = BTreeMap::new();
    for (fp, k) in &old_keys {
        let id = store.save_key(env_name, k, fp.clone(), &format!("{why}: retired key"))?;
        old_key_backups.insert(fp.clone(), id);
    }
    let mut file_backups = BTreeMap::new();
    for (label, real) in file_paths(project, env)? {
        let id = match fsio::read_capped(&real)? {
            Some(snapshot) => Some(store.save(
                env_name,
                &label,
                &real,
                &snapshot.bytes,
                held_by.get(&label).cloned(),
                &format!("{why}: file before"),
            )?),
            None => None,
        };
        file_backups.insert(label, id);
    }
    file_backups.extend(store::backup(ctx, env, why, &held_by)?);
    failpoint("create:backed-up");

    let grace_until = match (kind, env.grace_days, &env.fallback, old_keys.len()) {
        (Kind::Rotate, days, Some(_), 1) if days > 0 => {
            Some(project.context.now() + SignedDuration::from_hours(24 * i64::from(days)))
        }
        _ => None,
    };
    let fallbacks = fallback_list(
        ctx,
        env,
        kind,
        &state,
        grace_until,
        &old_keys,
        &held_fallbacks,
        &new,
    )?;
    let journal = Journal {
        kind,
        environment: env_name.to_string(),
        started: project.context.now(),
        step: Step::Created,
        old,
        new,
        new_key_backup,
        old_key_backups,
        files: file_backups,
        written: Vec::new(),
        grace_until,
        fallbacks,
        reason,
        restart: None,
        verify: None,
        rolling_back: false,
    };
    state.rotations.insert(env_name.to_string(), journal);
    ctx.save(&state)?;
    failpoint("create");
    drive(ctx, env, state, progress)
}

/// A failure in the middle of a rotation: a failed action that the journal can finish
/// or undo.
fn journaled(e: Error, env: &str) -> Error {
    Error::RotationStopped {
        env: env.to_string(),
        cause: Box::new(e),
    }
}

/// Finishes an unfinished rotation from where it stopped.
pub fn resume(ctx: &Ctx, env_name: &str, progress: &mut dyn FnMut(Progress)) -> Result<RunEnd> {
    let env = apply::environment(ctx.project, env_name)?;
    let _lock = ctx.project.lock()?;
    let state = ctx.project.load_state()?;
    let Some(j) = state.rotations.get(env_name) else {
        return Err(Error::Usage(format!(
            "no unfinished rotation of `{env_name}` to resume"
        )));
    };
    if j.rolling_back {
        return Err(Error::RollbackInterrupted {
            env: env_name.to_string(),
            journal: j.describe(),
        });
    }
    progress(Progress::Step(format!("resuming {}", j.describe())));
    drive(ctx, env, state, progress)
}

/// A rotation under way: the state with its journal, read and changed in place (never
/// copied out of the state, so what is saved is what the steps see).
struct Running {
    state: State,
    env: String,
}

impl Running {
    fn journal(&self) -> &Journal {
        // Callers start `drive` only with a journal in the state (start inserts it,
        // resume checks it), and nothing here removes it before `finish`.
        self.state
            .rotations
            .get(&self.env)
            .expect("a running rotation has its journal")
    }

    fn journal_mut(&mut self) -> &mut Journal {
        self.state
            .rotations
            .get_mut(&self.env)
            .expect("a running rotation has its journal")
    }
}

/// Runs the steps after the journal's last completed one.
fn drive(
    ctx: &Ctx,
    env: &Environment,
    state: State,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunEnd> {
    let name = env.name.clone();
    let mut run = Running {
        state,
        env: name.clone(),
    };
    // What does not change while the rotation runs.
    let (kind, new_fp) = (run.journal().kind, run.journal().new.clone());
    let store = ctx.store();
    let new_key = store.key(&run.journal().new_key_backup)?;
    let mut redact: Vec<(Secret, String)> = vec![(new_key.duplicate(), new_fp.to_string())];
    for (fp, id) in &run.journal().old_key_backups {
        redact.push((store.key(id)?, fp.to_string()));
    }
    // The old keys the fallback gets, as one list; `None` removes the fallback key.
    let fallback_keys = fallback_keys(ctx, env, run.journal()).map_err(|e| journaled(e, &name))?;
    for (k, g) in fallback_keys.iter().zip(run.journal().fallback_list()) {
        redact.push((k.duplicate(), g.fingerprint.to_string()));
    }
    let fallback_value = (!fallback_keys.is_empty()).then(|| join_fallbacks(&fallback_keys));

    if run.journal().step == Step::Created {
        // The store first: a lost check-and-set race stops here, before any file.
        store::write_new_key(ctx, env, &mut run, &new_key, progress)?;
        let groups = edits_by_file(env, kind, &new_key, fallback_value.as_ref());
        for (i, (path, format, edits)) in groups.iter().enumerate() {
            failpoint(&format!("set:{i}"));
            let label = path.display().to_string();
            let plan = targets::plan_edits(
                &ctx.project.root,
                path,
                *format,
                &edits
                    .iter()
                    .map(|(n, v)| Edit {
                        name: n,
                        value: v.as_ref(),
                    })
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| journaled(e, &name))?;
            if plan.changes_anything() {
                plan.commit().map_err(|e| journaled(e, &name))?;
            }
            failpoint(&format!("set:{i}:written"));
            let j = run.journal_mut();
            if !j.written.contains(&label) {
                j.written.push(label.clone());
            }
            ctx.save(&run.state)?;
            progress(Progress::Step(format!("set: wrote {label}")));
        }
        failpoint(&format!("set:{}", groups.len()));
        run.journal_mut().step = Step::Set;
        ctx.audit.append(
            Record::new(format!("{}.set", kind.as_str()), audit::Outcome::Ok)
                .env(&name)
                .new_fp(new_fp.clone())
                .detail(format!("{} file(s) written", groups.len())),
        )?;
        failpoint("set:audited");
        ctx.save(&run.state)?;
        failpoint("set");
    }

    for (step_from, step_to, which, cmd) in [
        (
            Step::Set,
            Step::Restarted,
            "restart",
            env.restart.as_deref(),
        ),
        (
            Step::Restarted,
            Step::Verified,
            "verify",
            env.verify.as_deref(),
        ),
    ] {
        if run.journal().step != step_from {
            continue;
        }
        match cmd {
            // `set` never restarts the application, even when it is resumed here.
            Some(cmd) if ctx.run_commands && kind != Kind::Set => {
                progress(Progress::Step(format!("{which}: running `{cmd}`")));
                let command =
                    run_env_command(ctx.project, ctx.pepper, env, which, cmd, &redact, progress);
                let ok = command.succeeded();
                ctx.audit.append(
                    Record::new(
                        format!("{}.{which}", kind.as_str()),
                        if ok {
                            audit::Outcome::Ok
                        } else {
                            audit::Outcome::Failed
                        },
                    )
                    .env(&name)
                    .new_fp(new_fp.clone())
                    .detail(format!("`{cmd}`: {}", command.summary())),
                )?;
                failpoint(&format!("{which}:audited"));
                let j = run.journal_mut();
                if which == "restart" {
                    j.restart = Some(command.clone());
                } else {
                    j.verify = Some(command.clone());
                }
                if !ok {
                    ctx.save(&run.state)?;
                    return Ok(RunEnd::Stopped {
                        step: which,
                        run: command,
                    });
                }
                j.step = step_to;
            }
            Some(cmd) => {
                progress(Progress::Step(format!(
                    "{which}: skipped (--no-restart): `{cmd}` not run"
                )));
                run.journal_mut().step = step_to;
            }
            None => run.journal_mut().step = step_to,
        }
        ctx.save(&run.state)?;
        failpoint(which);
    }

    finish(ctx, env, run.state, progress)
}

fn finish(
    ctx: &Ctx,
    env: &Environment,
    mut state: State,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunEnd> {
    let name = env.name.clone();
    // The journal's last use: it leaves the state at the end of this step.
    let Some(j) = state.rotations.get(&name).cloned() else {
        return Err(Error::Failed(format!(
            "{name}: the rotation's journal is missing; nothing to finish"
        )));
    };
    if j.kind == Kind::Revoke {
        store::destroy_revoked(ctx, env, &j, progress).map_err(|e| journaled(e, &name))?;
    }
    let mut rec = Record::new(format!("{}.finish", j.kind.as_str()), audit::Outcome::Ok)
        .env(&name)
        .new_fp(j.new.clone());
    if let [fp] = j.old.as_slice() {
        rec = rec.old(fp.clone());
    }
    if let Some(r) = &j.reason {
        rec = rec.detail(r.clone());
    }
    ctx.audit.append(rec)?;
    failpoint("finish:audited");

    let now = ctx.project.context.now();
    state.record_key(&name, j.new.clone(), now);
    // Keys beyond the first when the targets had drifted are retired too.
    if let Some(es) = state.environments.get_mut(&name) {
        for fp in &j.old {
            if !es.previous.iter().any(|r| &r.fingerprint == fp) && fp != &j.new {
                es.previous.push(crate::project::state::Retired {
                    fingerprint: fp.clone(),
                    retired_at: now,
                });
            }
        }
    }
    // The fallback holds what the set step wrote: the list, or nothing.
    match j.fallback_list() {
        list if j.kind == Kind::Rotate && !list.is_empty() => {
            state.grace.insert(name.clone(), list);
        }
        // `set` leaves a running grace period alone, as it always has.
        _ if j.kind == Kind::Set => {}
        _ => {
            state.grace.remove(&name);
        }
    }
    let mut also_exposed = Vec::new();
    if j.kind == Kind::Revoke {
        for fp in &j.old {
            state.revoked.push(Revoked {
                fingerprint: fp.clone(),
                environment: name.clone(),
                reason: j.reason.clone().unwrap_or_default(),
                at: now,
            });
        }
        also_exposed = ctx.project.environments_holding(ctx.pepper, &j.old, &name);
    }
    state.rotations.remove(&name);
    ctx.save(&state)?;
    failpoint("finish");
    progress(Progress::Step(format!("finish: {name} now uses {}", j.new)));
    prune_backups(ctx.project, &state);
    Ok(RunEnd::Finished {
        old: j.old,
        new: j.new,
        also_exposed,
    })
}

/// The old keys a rotation of `env` leaves in its fallback, newest first: the key it
/// retires (when the targets agreed on one and a grace period applies), then the keys the
/// fallback holds now, in its order, each keeping the end of its own grace period as the
/// state records it; one the state has no record of gets this rotation's. Left out: keys
/// whose grace period has ended, revoked keys, the new key, repeats. A revocation or
/// restore, or no grace period, leaves nothing (the fallback key is removed).
#[allow(clippy::too_many_arguments)]
fn fallback_list(
    ctx: &Ctx,
    env: &Environment,
    kind: Kind,
    state: &State,
    grace_until: Option<Timestamp>,
    old_keys: &[(Fingerprint, Secret)],
    held: &[Secret],
    new: &Fingerprint,
) -> Result<Vec<Grace>> {
    let Some(fallback) = env
        .fallback
        .as_ref()
        .filter(|_| kind == Kind::Rotate && env.grace_days > 0)
    else {
        return Ok(Vec::new());
    };
    let now = ctx.project.context.now();
    let this_period = now + SignedDuration::from_hours(24 * i64::from(env.grace_days));
    let mut list: Vec<(Grace, &Secret)> = Vec::new();
    if let (Some(until), [(fp, k)]) = (grace_until, old_keys) {
        // A key drawn before the fallback was a list may hold its separator: listed, it
        // would read as two keys, and the sessions it signed would end anyway.
        if k.expose_secret().contains(FALLBACK_SEPARATOR) {
            return Err(Error::Usage(format!(
                "the key {fp} that this rotation retires contains `{FALLBACK_SEPARATOR}`, which separates the old keys in the fallback {}: the frameworks would read it as two keys, so it cannot be kept there for the grace period; nothing changed. To replace it without a grace period (sessions it signed end at once), set `grace_days = 0` for {} in keywarden.toml and rotate again",
                fallback.label(),
                env.name
            )));
        }
        list.push((
            Grace {
                fingerprint: fp.clone(),
                until,
            },
            k,
        ));
    }
    let recorded = state.grace.get(&env.name);
    for k in held {
        let fp = ctx.pepper.fingerprint(k);
        if &fp == new
            || state.is_revoked(&fp).is_some()
            || list.iter().any(|(g, _)| g.fingerprint == fp)
        {
            continue;
        }
        let until = recorded
            .and_then(|r| r.iter().find(|g| g.fingerprint == fp))
            .map_or(this_period, |g| g.until);
        if until > now {
            list.push((
                Grace {
                    fingerprint: fp,
                    until,
                },
                k,
            ));
        }
    }
    if !list.is_empty() {
        let keys: Vec<Secret> = list.iter().map(|(_, k)| k.duplicate()).collect();
        targets::carries(fallback, &join_fallbacks(&keys)).map_err(|why| {
            Error::Usage(format!(
                "the old keys cannot be written to the fallback {} as one list that every reader reads back exactly: {why}; wait for the older keys' grace period to end, or `keywarden revoke {}` to retire them all at once",
                fallback.label(),
                env.name
            ))
        })?;
    }
    Ok(list.into_iter().map(|(g, _)| g).collect())
}

/// The keys of the journal's fallback list, in its order: each found by fingerprint
/// among the old-key backups, or in the fallback file's backup from before the rotation.
fn fallback_keys(ctx: &Ctx, env: &Environment, j: &Journal) -> Result<Vec<Secret>> {
    let list = j.fallback_list();
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let store = ctx.store();
    let mut before: Vec<Secret> = Vec::new();
    if let Some(t @ Target::File { path, .. }) = &env.fallback
        && let Some(Some(id)) = j.files.get(&path.display().to_string())
    {
        let content = store.content(id)?;
        if let Some(list) = std::str::from_utf8(&content)
            .ok()
            .and_then(|text| targets::key_in_text(t, text))
        {
            before = split_fallbacks(&list);
        }
    }
    let mut out = Vec::new();
    for g in &list {
        let key = match j.old_key_backups.get(&g.fingerprint) {
            Some(id) => store.key(id)?,
            None => before
                .iter()
                .find(|k| ctx.pepper.fingerprint(k) == g.fingerprint)
                .map(Secret::duplicate)
                .ok_or_else(|| {
                    Error::Failed(format!(
                        "{}: old key {} of the fallback list is in no backup of this rotation",
                        env.name, g.fingerprint
                    ))
                })?,
        };
        out.push(key);
    }
    Ok(out)
}
