//! The steps keywarden runs itself: revoke, rotate, restart, search the logs, draft the
//! notification, check backups and targets — each over the same core the commands use.

use super::playbook::{Action, Playbook};
use super::{Incident, Incidents, Status};
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::secret::Secret;
use crate::keys::strength::Label;
use crate::ops::command;
use crate::ops::rotation::{self, Ctx, Progress, Summary};
use crate::ops::status;
use crate::project::Project;
use crate::project::manifest::Target;
use crate::records::backup::{BackupStore, Kind as BackupKind};
use crate::records::journal::Kind;
use crate::targets;
use std::time::Duration;

/// What running a step's action gave.
#[derive(Debug, Clone)]
pub struct ActionOutcome {
    /// Done, failed, or pending: the action did its part and the rest is a person's (the
    /// step stays open until they mark it done).
    pub status: Status,
    /// One paragraph for the incident record: fingerprints, counts, file:line, never a key.
    pub result: String,
}

impl ActionOutcome {
    fn ok(result: impl Into<String>) -> Self {
        ActionOutcome {
            status: Status::Done,
            result: result.into(),
        }
    }

    fn failed(result: impl Into<String>) -> Self {
        ActionOutcome {
            status: Status::Failed,
            result: result.into(),
        }
    }

    fn left_to_you(result: impl Into<String>) -> Self {
        ActionOutcome {
            status: Status::Pending,
            result: result.into(),
        }
    }
}

/// Everything a step's action may use.
pub struct StepCtx<'a> {
    pub project: &'a Project,
    pub pepper: &'a Pepper,
    /// Run restart/verify commands.
    pub run_commands: bool,
    /// Log paths or globs the user adds to the environments' `logs`.
    pub extra_logs: Vec<String>,
}

pub fn run(
    action: Action,
    ctx: &StepCtx,
    incident: &Incident,
    progress: &mut dyn FnMut(Progress),
) -> Result<ActionOutcome> {
    match action {
        Action::Revoke => revoke(ctx, incident, progress),
        Action::Rotate => rotate_env(ctx, incident, &incident.environment, Kind::Rotate, progress),
        Action::CheckNewKey => check_new_key(ctx, incident),
        Action::RotateSharing => rotate_sharing(ctx, incident, progress),
        Action::RestartAll => restart_all(ctx, incident, progress),
        Action::AuditLogs => audit_logs(ctx, incident, progress),
        Action::Notify => notify(ctx, incident),
        Action::CheckBackups => check_backups(ctx, incident),
        Action::CheckTargets => check_targets(ctx, incident),
    }
}

/// What a step's action came to, as the incident records it.
#[derive(Debug)]
pub struct StepRun {
    pub status: Status,
    /// The result saved with the step.
    pub result: String,
    /// Why the action could not run at all; the step is then recorded as failed, with
    /// this reason in its result.
    pub error: Option<Error>,
}

/// Runs `action`; one that could not run at all is a failed step, with the reason.
pub fn attempt(
    action: Action,
    ctx: &StepCtx,
    incident: &Incident,
    progress: &mut dyn FnMut(Progress),
) -> StepRun {
    match run(action, ctx, incident, progress) {
        Ok(o) => StepRun {
            status: o.status,
            result: o.result,
            error: None,
        },
        Err(e) => StepRun {
            status: Status::Failed,
            result: format!("the action could not run: {e}"),
            error: Some(e),
        },
    }
}

/// Runs `step`'s action and records what it came to (done, failed, or could not run) in
/// the incident: the same record whichever face asked.
pub fn run_step(
    ctx: &StepCtx,
    incident: &mut Incident,
    pb: &Playbook,
    step: &str,
    action: Action,
    note: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<StepRun> {
    super::needs_earlier(incident, pb, step)?;
    let run = attempt(action, ctx, incident, progress);
    rotation::failpoint("incident-step:ran");
    Incidents::new(ctx.project).record(
        incident,
        pb,
        step,
        run.status,
        Some(run.result.clone()),
        note,
    )?;
    Ok(run)
}

fn rotation_ctx<'a>(ctx: &'a StepCtx, audit: &'a crate::records::audit::AuditLog) -> Ctx<'a> {
    Ctx {
        project: ctx.project,
        pepper: ctx.pepper,
        audit,
        run_commands: ctx.run_commands,
    }
}

/// Revokes the incident's key in its environment. Run again after it succeeded, it says
/// so instead of rotating a second time.
fn revoke(
    ctx: &StepCtx,
    incident: &Incident,
    progress: &mut dyn FnMut(Progress),
) -> Result<ActionOutcome> {
    let env = &incident.environment;
    let state = ctx.project.load_state()?;
    if let Some(fp) = &incident.fingerprint
        && let Some(r) = state.is_revoked(fp)
        && !state.rotations.contains_key(env)
        && !holds(ctx, env, fp)
    {
        return Ok(ActionOutcome::ok(format!(
            "{fp} was already revoked on {} ({}) and {env} no longer holds it",
            r.at.strftime("%Y-%m-%d %H:%M UTC"),
            r.reason
        )));
    }
    rotate_env(ctx, incident, env, Kind::Revoke, progress)
}

fn holds(ctx: &StepCtx, env: &str, fp: &Fingerprint) -> bool {
    ctx.project.manifest.environment(env).is_some_and(|e| {
        ctx.project
            .environment_holds(ctx.pepper, e, std::slice::from_ref(fp))
    })
}

/// Rotates (or revokes) `env`, resuming a rotation the incident had started before.
fn rotate_env(
    ctx: &StepCtx,
    incident: &Incident,
    env: &str,
    kind: Kind,
    progress: &mut dyn FnMut(Progress),
) -> Result<ActionOutcome> {
    let audit = ctx.project.audit();
    let rctx = rotation_ctx(ctx, &audit);
    let state = ctx.project.load_state()?;
    let reason = incident_reason(incident);
    let end = if state.rotations.contains_key(env) {
        rotation::resume(&rctx, env, progress)?
    } else if let Some(done) = finished_by(ctx, incident, env, kind)? {
        // This step's rotation finished, but the process ended before the step was
        // recorded: it is not run a second time (a second new key).
        return Ok(done);
    } else {
        rotation::start(&rctx, env, kind, Some(reason), None, progress)?
    };
    Ok(match end.summary(env) {
        Summary::Finished {
            old,
            new,
            rotate_too,
            ..
        } => {
            let verb = if kind == Kind::Revoke {
                "revoked"
            } else {
                "rotated"
            };
            let mut s = format!("{env}: {verb} {old}; now {new}");
            if !rotate_too.is_empty() {
                s.push_str(&format!("; also held by {}", rotate_too.join(", ")));
            }
            ActionOutcome::ok(s)
        }
        Summary::Stopped { step, why, .. } => ActionOutcome::failed(format!(
            "{env}: {step} failed ({why}); run the step again to retry, or `keywarden rotate {env} --rollback`"
        )),
    })
}

/// The reason an incident's rotations carry in their journal and audit records.
fn incident_reason(incident: &Incident) -> String {
    format!("incident {} ({})", incident.id, incident.playbook)
}

/// The rotation (or revocation) of `env` this incident already finished, from the audit
/// trail's `KIND.finish` record carrying the incident's reason, as the step reports it.
fn finished_by(
    ctx: &StepCtx,
    incident: &Incident,
    env: &str,
    kind: Kind,
) -> Result<Option<ActionOutcome>> {
    let reason = incident_reason(incident);
    let action = format!("{}.finish", kind.as_str());
    let events = ctx.project.audit().read()?;
    let Some(e) = events.iter().rev().find(|e| {
        e.action == action
            && e.environment.as_deref() == Some(env)
            && e.detail.as_deref() == Some(reason.as_str())
    }) else {
        return Ok(None);
    };
    let fps = e.fingerprints.clone().unwrap_or_default();
    let verb = if kind == Kind::Revoke {
        "revoked"
    } else {
        "rotated"
    };
    let old = fps.old.map_or("no key".to_string(), |f| f.to_string());
    let new = fps.new.map_or("-".to_string(), |f| f.to_string());
    Ok(Some(ActionOutcome::ok(format!(
        "{env}: {verb} {old}; now {new} (finished at {})",
        e.ts.strftime("%Y-%m-%d %H:%M:%S UTC")
    ))))
}

/// Environments other than the incident's with a rotation this incident started and did
/// not finish (a run killed in the middle of revoking them).
fn unfinished_by(ctx: &StepCtx, incident: &Incident) -> Result<Vec<String>> {
    let reason = incident_reason(incident);
    let state = ctx.project.load_state()?;
    Ok(ctx
        .project
        .manifest
        .environments
        .iter()
        .filter(|e| e.name != incident.environment)
        .filter(|e| {
            state
                .rotations
                .get(&e.name)
                .is_some_and(|j| j.reason.as_deref() == Some(reason.as_str()))
        })
        .map(|e| e.name.clone())
        .collect())
}

fn env_status(ctx: &StepCtx, env: &str) -> Result<status::EnvStatus> {
    let state = ctx.project.load_state()?;
    let st = status::collect(ctx.project, &state, ctx.pepper)?;
    st.environments
        .into_iter()
        .find(|e| e.name == env)
        .ok_or_else(|| Error::Usage(format!("no environment `{env}`")))
}

fn check_new_key(ctx: &StepCtx, incident: &Incident) -> Result<ActionOutcome> {
    let e = env_status(ctx, &incident.environment)?;
    let Some(fp) = &e.fingerprint else {
        return Ok(ActionOutcome::failed(
            "the targets do not hold one key (missing or drift): see `keywarden status`",
        ));
    };
    if Some(fp) == incident.fingerprint.as_ref() {
        return Ok(ActionOutcome::failed(format!(
            "{fp} is still the compromised key: run the revoke step"
        )));
    }
    let strength = e.strength.as_ref().map(|s| (s.label, s.bits));
    let weak: Vec<String> = e
        .findings
        .iter()
        .filter(|f| f.code.as_str() < "KW100" && f.severity >= Severity::Medium)
        .map(|f| format!("{} {}", f.code, f.message))
        .collect();
    match strength {
        Some((Label::Strong, bits)) if weak.is_empty() => Ok(ActionOutcome::ok(format!(
            "{fp}: fresh, strong (~{bits:.0} bits), not revoked"
        ))),
        Some((label, _)) => Ok(ActionOutcome::failed(format!(
            "{fp} is {}: {}",
            label.as_str(),
            weak.join("; ")
        ))),
        None => Ok(ActionOutcome::failed("no key to check")),
    }
}

/// Environments (other than the incident's) whose targets hold `fp` now.
fn holding(ctx: &StepCtx, fp: &Fingerprint, except: &str) -> Vec<String> {
    ctx.project
        .environments_holding(ctx.pepper, std::slice::from_ref(fp), except)
}

/// The incident's environment plus every environment that ever held its key.
fn affected(ctx: &StepCtx, incident: &Incident) -> Result<Vec<String>> {
    let state = ctx.project.load_state()?;
    let mut out = vec![incident.environment.clone()];
    if let Some(fp) = &incident.fingerprint {
        for e in &ctx.project.manifest.environments {
            let had = state.environments.get(&e.name).is_some_and(|s| {
                &s.fingerprint == fp || s.previous.iter().any(|r| &r.fingerprint == fp)
            });
            if had && !out.contains(&e.name) {
                out.push(e.name.clone());
            }
        }
        for e in holding(ctx, fp, &incident.environment) {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

fn rotate_sharing(
    ctx: &StepCtx,
    incident: &Incident,
    progress: &mut dyn FnMut(Progress),
) -> Result<ActionOutcome> {
    let Some(fp) = &incident.fingerprint else {
        return Ok(ActionOutcome::ok(
            "the incident names no key: nothing to look for",
        ));
    };
    // Those holding it now, and those whose revocation by this incident a killed run left
    // unfinished (their files may hold the new key already).
    let mut others = holding(ctx, fp, &incident.environment);
    for e in unfinished_by(ctx, incident)? {
        if !others.contains(&e) {
            others.push(e);
        }
    }
    // And those this incident revoked already, in a run killed before the step was
    // recorded: reported as done, not revoked again.
    for e in &ctx.project.manifest.environments {
        if e.name != incident.environment
            && !others.contains(&e.name)
            && finished_by(ctx, incident, &e.name, Kind::Revoke)?.is_some()
        {
            others.push(e.name.clone());
        }
    }
    if others.is_empty() {
        return Ok(ActionOutcome::ok(format!(
            "no other environment holds {fp}"
        )));
    }
    let mut lines = Vec::new();
    let mut ok = true;
    for env in others {
        progress(Progress::Step(format!(
            "{env} holds {fp}: revoking it there too"
        )));
        let r = rotate_env(ctx, incident, &env, Kind::Revoke, progress)?;
        ok &= r.status == Status::Done;
        lines.push(r.result);
    }
    Ok(ActionOutcome {
        status: if ok { Status::Done } else { Status::Failed },
        result: lines.join("\n"),
    })
}

fn restart_all(
    ctx: &StepCtx,
    incident: &Incident,
    progress: &mut dyn FnMut(Progress),
) -> Result<ActionOutcome> {
    let mut lines = Vec::new();
    let mut ok = true;
    let mut by_hand = false;
    for name in affected(ctx, incident)? {
        let Some(env) = ctx.project.manifest.environment(&name) else {
            continue;
        };
        match env.restart.as_deref() {
            Some(cmd) if ctx.run_commands => {
                progress(Progress::Step(format!("{name}: running `{cmd}`")));
                // Neither the live keys nor the compromised one may reach the output.
                let mut hide = rotation::held_keys(ctx.project, ctx.pepper, env);
                if let Some(fp) = &incident.fingerprint
                    && let Some(k) = compromised_key(ctx, fp)?
                {
                    hide.push((k, fp.to_string()));
                }
                let run = rotation::run_env_command(
                    ctx.project,
                    ctx.pepper,
                    env,
                    "restart",
                    cmd,
                    &hide,
                    progress,
                );
                ok &= run.succeeded();
                lines.push(format!("{name}: `{cmd}` {}", run.summary()));
            }
            Some(cmd) => {
                by_hand = true;
                lines.push(format!(
                    "{name}: `{cmd}` not run (commands disabled): restart it by hand"
                ));
            }
            None => {
                by_hand = true;
                lines.push(format!(
                    "{name}: no restart command in keywarden.toml: restart it by hand"
                ));
            }
        }
    }
    // An environment nobody restarted keeps the old key in memory: not done until a
    // person says it is.
    let status = match (ok, by_hand) {
        (false, _) => Status::Failed,
        (true, true) => {
            lines.push(
                "not done until those are restarted: mark this step done once they are".into(),
            );
            Status::Pending
        }
        (true, false) => Status::Done,
    };
    Ok(ActionOutcome {
        status,
        result: lines.join("\n"),
    })
}

/// The compromised key itself, from the backup store (newest key backup with its
/// fingerprint). `None` when keywarden never saw it.
fn compromised_key(ctx: &StepCtx, fp: &Fingerprint) -> Result<Option<Secret>> {
    let store = BackupStore::of(ctx.project);
    let found = store
        .list()
        .into_iter()
        .rev()
        .find(|m| m.kind == BackupKind::Key && m.fingerprint.as_ref() == Some(fp));
    match found {
        Some(m) => store.key(&m.id).map(Some),
        None => {
            // Not backed up as a key: it may still be in a target.
            for e in &ctx.project.manifest.environments {
                for t in &e.targets {
                    if let Some(k) =
                        targets::read(&ctx.project.root, t, ctx.project.context.env.reader()).key()
                        && &ctx.pepper.fingerprint(k) == fp
                    {
                        return Ok(Some(k.duplicate()));
                    }
                }
            }
            Ok(None)
        }
    }
}

fn audit_logs(
    ctx: &StepCtx,
    incident: &Incident,
    progress: &mut dyn FnMut(Progress),
) -> Result<ActionOutcome> {
    let mut globs: Vec<String> = Vec::new();
    for name in affected(ctx, incident)? {
        if let Some(env) = ctx.project.manifest.environment(&name) {
            globs.extend(env.logs.iter().cloned());
        }
    }
    globs.extend(ctx.extra_logs.iter().cloned());
    globs.dedup();
    if globs.is_empty() {
        return Ok(ActionOutcome::failed(
            "no log files to search: add `logs = [\"path/*.log\"]` to the environment in keywarden.toml, or give paths (--log)",
        ));
    }
    let key = match &incident.fingerprint {
        Some(fp) => compromised_key(ctx, fp)?,
        None => None,
    };
    progress(Progress::Step(format!("searching {}", globs.join(", "))));
    let keys: Vec<&Secret> = key.iter().collect();
    let scan = crate::scanning::logscan::scan(&ctx.project.root, &globs, &keys)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let mut s = format!(
        "searched {} file(s), {} line(s): {} occurrence(s) of the key, {} signature error(s)",
        scan.files,
        scan.lines,
        scan.key_hits(),
        scan.signature_errors()
    );
    if key.is_none() {
        s.push_str(
            " (the key itself is not in keywarden's backups: only signature errors were searched)",
        );
    }
    for (path, k, sig) in scan.by_file() {
        if k + sig > 0 {
            s.push_str(&format!(
                "\n  {}: {k} key, {sig} signature error(s)",
                path.display()
            ));
        }
    }
    let shown: Vec<String> = scan
        .hits
        .iter()
        .take(20)
        .map(|h| {
            let what = match h.kind {
                crate::scanning::logscan::HitKind::Key(enc) => format!("key ({})", enc.as_str()),
                crate::scanning::logscan::HitKind::SignatureError => {
                    format!("signature error ({})", h.pattern.unwrap_or(""))
                }
            };
            format!("  {}:{} {what}", h.path.display(), h.line)
        })
        .collect();
    if !shown.is_empty() {
        s.push('\n');
        s.push_str(&shown.join("\n"));
        if scan.hits.len() > shown.len() {
            s.push_str(&format!("\n  … and {} more", scan.hits.len() - shown.len()));
        }
    }
    for g in &scan.unmatched_globs {
        s.push_str(&format!("\n  no file matches {g}"));
    }
    for (p, why) in &scan.unreadable {
        s.push_str(&format!("\n  not searched: {}: {why}", p.display()));
    }
    Ok(ActionOutcome::ok(s))
}

fn notify(ctx: &StepCtx, incident: &Incident) -> Result<ActionOutcome> {
    let draft = super::report::notification(incident, ctx.project)?;
    let dir = ctx.project.state_dir().join("incidents");
    crate::fsio::create_private_dir(&dir)?;
    let path = dir.join(format!("{}-notification.md", incident.id));
    crate::fsio::atomic_write(&path, draft.as_bytes(), crate::fsio::PRIVATE_FILE)?;
    rotation::failpoint("notify:draft");
    let env = ctx.project.manifest.environment(&incident.environment);
    match env.and_then(|e| e.notify.as_deref().map(|c| (c, e.timeout_secs))) {
        Some((cmd, timeout)) => {
            let hide = crate::ops::known::to_hide(ctx.project, ctx.pepper, &[]);
            let run = command::run_with_input(
                cmd,
                &ctx.project.root,
                Duration::from_secs(timeout),
                &hide,
                Some(draft.as_bytes()),
                None,
            );
            let msg = format!(
                "draft saved to {}; sent with `{cmd}` ({})",
                path.display(),
                run.summary()
            );
            Ok(if run.succeeded() {
                ActionOutcome::ok(msg)
            } else {
                ActionOutcome::failed(msg)
            })
        }
        // Nobody was told: the step is not done until someone sends the draft.
        None => Ok(ActionOutcome::left_to_you(format!(
            "draft saved to {}; nobody was notified (no `notify` command in keywarden.toml): send it to the security team yourself, then mark this step done with a note saying to whom",
            path.display()
        ))),
    }
}

fn check_backups(ctx: &StepCtx, incident: &Incident) -> Result<ActionOutcome> {
    let store = BackupStore::of(ctx.project);
    let keys: Vec<_> = store
        .list()
        .into_iter()
        .filter(|m| m.kind == BackupKind::Key && m.environment == incident.environment)
        .collect();
    let state = ctx.project.load_state()?;
    let wanted = incident.fingerprint.clone().or_else(|| {
        state
            .environments
            .get(&incident.environment)
            .map(|e| e.fingerprint.clone())
    });
    let found = wanted.as_ref().and_then(|fp| {
        keys.iter()
            .rev()
            .find(|m| m.fingerprint.as_ref() == Some(fp))
    });
    let listing: Vec<String> = keys
        .iter()
        .rev()
        .take(10)
        .map(|m| {
            format!(
                "  {} {} {} ({})",
                m.id,
                m.created.strftime("%Y-%m-%d %H:%M"),
                m.fingerprint.as_ref().map_or("-".into(), |f| f.to_string()),
                m.reason
            )
        })
        .collect();
    let head = match (&wanted, found) {
        (Some(fp), Some(m)) => format!(
            "the key {fp} is in backup {}: restore it with `keywarden restore {} {}`, then skip the generate step",
            m.id, incident.environment, m.id
        ),
        (Some(fp), None) => format!("no backup holds {fp}: generate a new key (next step)"),
        (None, _) => {
            "keywarden never recorded this environment's key: generate a new key (next step)".into()
        }
    };
    Ok(ActionOutcome::ok(if listing.is_empty() {
        head
    } else {
        format!(
            "{head}\n{} key backup(s) of {}:\n{}",
            keys.len(),
            incident.environment,
            listing.join("\n")
        )
    }))
}

fn check_targets(ctx: &StepCtx, incident: &Incident) -> Result<ActionOutcome> {
    let e = env_status(ctx, &incident.environment)?;
    let mut problems = Vec::new();
    for t in &e.targets {
        let name = match (&t.path, &t.vault) {
            (Some(p), _) => p.clone(),
            (None, Some(v)) => format!("vault:{v}#{}", t.key.as_deref().unwrap_or("")),
            (None, None) => format!("${}", t.env.as_deref().unwrap_or("")),
        };
        match (t.state, t.mode.as_deref()) {
            ("ok", Some(mode)) if mode != "0600" && t.path.is_some() => problems.push(format!(
                "{name}: mode {mode} (run `keywarden fix {}`)",
                e.name
            )),
            ("ok", _) | ("unset", _) => {}
            (state, _) => problems.push(format!("{name}: {state}")),
        }
    }
    let stores = ctx.project.manifest.environment(&e.name).map_or(0, |env| {
        env.targets
            .iter()
            .filter(|t| matches!(t, Target::Vault { .. }))
            .count()
    });
    let files: Vec<&Target> = ctx
        .project
        .manifest
        .environment(&e.name)
        .map(|env| {
            env.targets
                .iter()
                .filter(|t| matches!(t, Target::File { .. }))
                .collect()
        })
        .unwrap_or_default();
    match (&e.fingerprint, problems.is_empty()) {
        (Some(fp), true) => Ok(ActionOutcome::ok(format!(
            "{} file target(s) hold {fp} with mode 0600{}",
            files.len(),
            if stores > 0 {
                format!(", and {stores} secret store target(s) hold it too")
            } else {
                String::new()
            }
        ))),
        (None, _) => {
            problems.push("the targets do not agree on one key".into());
            Ok(ActionOutcome::failed(problems.join("\n")))
        }
        (Some(_), false) => Ok(ActionOutcome::failed(problems.join("\n"))),
    }
}
