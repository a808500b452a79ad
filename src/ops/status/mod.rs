//! The status of every environment: its targets, its key (by fingerprint), age, rotation
//! due, strength and findings. `status`, `check` and the TUI all show this one value.
//!
//! Targets are read in parallel (one thread per core); strength analysis runs once per
//! distinct key; git is asked once for all files.
//!
//! This file collects the status of every environment and target; [`findings`] says what
//! is wrong with each.

use crate::error::Result;
use crate::finding::{Code, Finding, Severity};
use crate::fsio;
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::strength::{self, Label};
use crate::project::Project;
use crate::project::manifest::is_production;
use crate::project::manifest::{Environment, Target};
use crate::project::state::{AgeSource, Grace, State};
use crate::scanning::git::GitView;
use crate::targets::{self, TargetRead, Value};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::PathBuf;

mod findings;
mod leftovers;
use crate::ops::parallel::{parallel_map, parallel_map_owned};
use findings::*;

#[derive(Debug, Serialize)]
pub struct ProjectStatus {
    pub project: String,
    pub root: PathBuf,
    /// `keywarden.toml`, or `null` when the environments were discovered.
    pub manifest: Option<PathBuf>,
    pub environments: Vec<EnvStatus>,
    /// Set when the project is in a git work tree but git could not say which targets it
    /// ignores or tracks: those findings are then missing, not absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StrengthSummary {
    pub label: Label,
    pub bits: f64,
}

#[derive(Debug, Serialize)]
pub struct EnvStatus {
    pub name: String,
    /// The environment's key; `null` when no target holds one or the targets disagree.
    pub fingerprint: Option<Fingerprint>,
    pub created: Option<Timestamp>,
    pub age_days: Option<i64>,
    pub age_source: &'static str,
    pub rotate_every_days: u32,
    /// Days until rotation is due (negative: overdue); `null` without a schedule or age.
    pub rotation_due_days: Option<i64>,
    pub strength: Option<StrengthSummary>,
    pub targets: Vec<TargetStatus>,
    /// An unfinished rotation, if any: `{kind, step, started, old, new}`.
    pub rotation: Option<RotationStatus>,
    /// The end of the last grace period during which the fallback still carries an old
    /// key (the latest of `fallbacks`).
    pub grace_until: Option<Timestamp>,
    /// The old keys the fallback still carries, newest first, each until its own
    /// grace period ends: `[{fingerprint, until}]`.
    pub fallbacks: Vec<Grace>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct RotationStatus {
    pub kind: &'static str,
    pub step: &'static str,
    pub started: Timestamp,
    pub old: Vec<Fingerprint>,
    pub new: Fingerprint,
}

impl EnvStatus {
    pub fn worst(&self) -> Option<Severity> {
        crate::finding::worst(&self.findings)
    }
}

#[derive(Debug, Serialize)]
pub struct TargetStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    /// The key's name in the file (`SECRET_KEY`, `auth.secret_key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A store target's path (`secret/app/production`); its field is `key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// A store target's current version (0: never written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// `ok`, `missing-file`, `missing-key`, `missing-secret` (a store path with no live
    /// version), `unset` or `error`.
    pub state: &'static str,
    pub mode: Option<String>,
    pub owner: Option<u32>,
    pub fingerprint: Option<Fingerprint>,
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Computes the status of every environment of `project`.
pub fn collect(project: &Project, state: &State, pepper: &Pepper) -> Result<ProjectStatus> {
    let env_var = project.context.env.reader();
    let now = project.context.now();
    let envs = &project.manifest.environments;
    // Git is asked about every file target while the targets are read (its answers are
    // looked at only for the files that exist): its processes run beside the reads and
    // cost the wall clock nothing.
    let file_paths: Vec<PathBuf> = envs
        .iter()
        .flat_map(|e| &e.targets)
        .filter_map(|t| match t {
            Target::File { path, .. } => Some(fsio::normalize(path)),
            Target::Env { .. } | Target::Vault { .. } => None,
        })
        .collect();
    let env_names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
    let project_name = project.name();
    let ctx = strength::Context::new(Some(&project_name), &env_names);
    let (passed, git) = std::thread::scope(|s| {
        let git = s.spawn(|| GitView::query(&project.root, &file_paths));
        let passed = read_all(project, envs, env_var, pepper, &ctx);
        (passed, git.join().expect("the git query panicked"))
    });
    let Passed {
        reads,
        fps,
        strengths,
        listings,
    } = passed;
    let me = fsio::current_uid();
    let leftovers = leftovers::Leftovers::find(project, envs, &reads, listings);
    // Each environment's status over every core; its reads (and the keys in them) are
    // dropped, and wiped, there too.
    let per_env: Vec<_> = reads.into_iter().zip(fps).enumerate().collect();
    let mut environments = parallel_map_owned(per_env, |(i, (reads, fps))| {
        let env = &envs[i];
        let mut status = env_status(env, reads, fps, state, &strengths, &git, me, now);
        status.findings.extend(leftovers.findings(i, env));
        sort_findings(&mut status.findings);
        status
    });
    for i in flag_shared_keys(&mut environments) {
        sort_findings(&mut environments[i].findings);
    }
    Ok(ProjectStatus {
        project: project_name,
        root: project.root.clone(),
        manifest: project.manifest_path.clone(),
        environments,
        git_error: git.failure.clone(),
    })
}

/// The command that replaces an environment's key the way its app needs: where the
/// manifest says how to restart and check the app, a rotation (the app picks the new key
/// up, the old one stays in the fallback while sessions drain); else a new key written to
/// every file.
pub fn renew(env: &Environment) -> String {
    if env.restart.is_some() || env.verify.is_some() {
        format!("keywarden rotate {}", env.name)
    } else {
        format!("keywarden set {} --generate", env.name)
    }
}

/// What the parallel pass over the environments found.
struct Passed {
    /// Each environment's reads, and each read's fingerprint.
    reads: Vec<Vec<TargetRead>>,
    fps: Vec<Vec<Option<Fingerprint>>>,
    /// The strength of each distinct key, by fingerprint.
    strengths: HashMap<Fingerprint, strength::Strength>,
    /// The temporary files in each folder the reads opened (see [`fsio::ReadPass`]).
    listings: foldhash::HashMap<OsString, fsio::Listing>,
}

/// Reads every target of every environment, fingerprints each key and analyses each
/// distinct one, spread over the machine's cores.
fn read_all(
    project: &Project,
    envs: &[Environment],
    env_var: &(dyn Fn(&str) -> Option<OsString> + Sync),
    pepper: &Pepper,
    ctx: &strength::Context<'_>,
) -> Passed {
    let pass = fsio::ReadPass::new(&project.root);
    let strengths = std::sync::Mutex::new(HashMap::new());
    let known = |fp: &Fingerprint| strengths.lock().is_ok_and(|s| s.contains_key(fp));
    let read_env = |e: &Environment| {
        let scope = pass.scope();
        let reads: Vec<TargetRead> = e
            .targets
            .iter()
            .map(|t| targets::read_with(&project.root, t, env_var, Some(&scope)))
            .collect();
        drop(scope);
        let fps: Vec<Option<Fingerprint>> = reads
            .iter()
            .map(|r| r.key().map(|k| pepper.fingerprint(k)))
            .collect();
        // Once per distinct key (two threads may meet the same key at once: the second
        // analysis is the same value, put in its place).
        for (r, fp) in reads.iter().zip(&fps) {
            if let (Some(k), Some(fp)) = (r.key(), fp)
                && !known(fp)
            {
                let analysed = strength::analyze(k, ctx);
                if let Ok(mut s) = strengths.lock() {
                    s.insert(fp.clone(), analysed);
                }
            }
        }
        (reads, fps)
    };
    let (reads, fps) = parallel_map(envs, read_env).into_iter().unzip();
    Passed {
        reads,
        fps,
        strengths: strengths.into_inner().unwrap_or_else(|e| e.into_inner()),
        listings: pass.into_listings(),
    }
}

/// The most severe first; equal ones stay in the order they were found.
fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)));
}

#[allow(clippy::too_many_arguments)]
fn env_status(
    env: &Environment,
    reads: Vec<TargetRead>,
    fps: Vec<Option<Fingerprint>>,
    state: &State,
    strengths: &HashMap<Fingerprint, strength::Strength>,
    git: &GitView,
    me: u32,
    now: Timestamp,
) -> EnvStatus {
    let mut findings = Vec::new();
    let mut targets = Vec::with_capacity(reads.len());
    // Distinct keys in target order, with the files holding each.
    let mut keys: Vec<(Fingerprint, Vec<usize>)> = Vec::new();

    for (i, (read, fp)) in reads.iter().zip(fps).enumerate() {
        let label = read.target.label();
        if let Some(fp) = &fp {
            match keys.iter_mut().find(|(f, _)| f == fp) {
                Some((_, holders)) => holders.push(i),
                None => keys.push((fp.clone(), vec![i])),
            }
        }
        findings.extend(
            read.findings
                .iter()
                .cloned()
                .map(|f| f.at_target(label.clone())),
        );
        findings.extend(target_findings(env, read, &label, git, me));
        targets.push(target_status(read, fp));
    }

    // One key across every target, or drift.
    let fingerprint = match keys.as_slice() {
        [(fp, _)] => Some(fp.clone()),
        [] => None,
        many => {
            let detail: Vec<String> = many
                .iter()
                .map(|(fp, holders)| {
                    let names: Vec<String> =
                        holders.iter().map(|&i| reads[i].target.label()).collect();
                    format!("{fp} in {}", names.join(", "))
                })
                .collect();
            findings.push(
                Finding::new(
                    Code::Drift,
                    Severity::High,
                    format!(
                        "the targets hold {} different keys: {}",
                        many.len(),
                        detail.join("; ")
                    ),
                )
                .with_fix(format!(
                    "write one key to every target: keywarden set {} --generate{}",
                    env.name,
                    if env.restart.is_some() {
                        ", then restart the app (its restart command)"
                    } else {
                        ""
                    }
                )),
            );
            None
        }
    };

    // Strength, analysed once per distinct key in `collect`.
    let mut strength = None;
    for (fp, _) in &keys {
        let Some(s) = strengths.get(fp) else { continue };
        for f in &s.findings {
            let mut f = f.clone();
            if keys.len() > 1 {
                f.message = format!("{fp}: {}", f.message);
            }
            f.fix = Some(format!("replace it: {}", renew(env)));
            findings.push(f);
        }
        if strength.is_none() {
            strength = Some(StrengthSummary {
                label: s.label,
                bits: s.bits,
            });
        }
    }

    // Age: recorded by keywarden when it wrote this very key, else the oldest file time.
    let recorded = state
        .environments
        .get(&env.name)
        .filter(|es| Some(&es.fingerprint) == fingerprint.as_ref());
    // A store records when each version was written: that is the key's age too.
    let stored = reads
        .iter()
        .filter(|r| r.key().is_some())
        .filter_map(|r| r.remote.and_then(|m| m.created_time))
        .min();
    let (created, source) = match (recorded, &fingerprint) {
        (Some(es), _) => (Some(es.created), AgeSource::Recorded),
        (None, Some(_)) if stored.is_some() => (stored, AgeSource::Recorded),
        (None, Some(_)) => {
            let oldest = reads
                .iter()
                .filter(|r| r.key().is_some())
                .filter_map(|r| r.meta.map(|m| m.mtime))
                .min()
                .and_then(|t| Timestamp::from_second(t).ok());
            match oldest {
                Some(t) => (Some(t), AgeSource::Mtime),
                None => (None, AgeSource::Unknown),
            }
        }
        // Drift: the targets disagree, but each key has an age; the environment is as old
        // as the oldest key it still serves (a recorded time where keywarden wrote it,
        // else its file's time).
        (None, None) if !keys.is_empty() => {
            let recorded = state.environments.get(&env.name);
            let oldest = reads
                .iter()
                .zip(&targets)
                .filter(|(r, _)| r.key().is_some())
                .filter_map(|(r, t)| match recorded {
                    Some(es) if t.fingerprint.as_ref() == Some(&es.fingerprint) => Some(es.created),
                    _ => r.meta.and_then(|m| Timestamp::from_second(m.mtime).ok()),
                })
                .min();
            match oldest {
                Some(t) => (Some(t), AgeSource::Mtime),
                None => (None, AgeSource::Unknown),
            }
        }
        (None, None) => (None, AgeSource::Unknown),
    };
    let age_days = created.map(|c| (now.as_second() - c.as_second()).max(0) / 86_400);
    let rotation_due_days = match (env.rotate_every_days, age_days) {
        (0, _) | (_, None) => None,
        (every, Some(age)) => Some(i64::from(every) - age),
    };
    if let Some(due) = rotation_due_days
        && due < 0
    {
        let bound = if source == AgeSource::Mtime {
            "at least "
        } else {
            ""
        };
        findings.push(
            Finding::new(
                Code::RotationOverdue,
                if is_production(&env.name) {
                    Severity::High
                } else {
                    Severity::Medium
                },
                format!(
                    "the key is {bound}{} days old; {} rotates every {} days (overdue by {} days)",
                    age_days.unwrap_or(0),
                    env.name,
                    env.rotate_every_days,
                    -due
                ),
            )
            .with_fix(renew(env)),
        );
    }
    if fingerprint.is_some() && source == AgeSource::Unknown {
        findings.push(
            Finding::new(
                Code::AgeUnknown,
                Severity::Low,
                "the key's age is unknown (it is only in environment variables)",
            )
            .with_fix(format!("record a fresh key: {}", renew(env))),
        );
    }
    if is_production(&env.name)
        && fingerprint.is_some()
        && reads
            .iter()
            .any(|r| matches!(r.target, Target::File { .. }) && r.key().is_some())
    {
        findings.push(
            Finding::new(
                Code::FileInProduction,
                Severity::Info,
                "the production key is kept in a file; the guide prefers environment variables in production",
            )
            .with_fix(if env.targets.iter().any(|t| matches!(t, Target::Env { .. })) {
                "the service already reads its key from the environment: once it no longer needs the file, remove the file and its target".to_string()
            } else {
                format!(
                    "set {0} in the service's environment and add {{ env = \"{0}\" }} as a target",
                    env.targets
                        .iter()
                        .find_map(|t| match t {
                            Target::File { key, .. } => Some(key.as_str()),
                            Target::Env { .. } | Target::Vault { .. } => None,
                        })
                        .unwrap_or("SECRET_KEY")
                )
            }),
        );
    }
    // Lifecycle: revoked keys anywhere, an unfinished rotation, a grace period.
    for (read, t) in reads.iter().zip(&targets) {
        if let Some(r) = t.fingerprint.as_ref().and_then(|fp| state.is_revoked(fp)) {
            findings.push(
                Finding::new(
                    Code::RevokedKey,
                    Severity::Critical,
                    format!(
                        "holds key {}, revoked on {} in {} ({})",
                        r.fingerprint,
                        r.at.strftime("%Y-%m-%d"),
                        r.environment,
                        r.reason
                    ),
                )
                .at_target(read.target.label())
                .with_fix(format!(
                    "rotate it now: keywarden rotate {} --yes",
                    env.name
                )),
            );
        }
    }
    let rotation = state.rotations.get(&env.name).map(|j| {
        findings.push(
            Finding::new(
                Code::UnfinishedRotation,
                Severity::High,
                format!("unfinished rotation: {}", j.describe()),
            )
            .with_fix(format!(
                "keywarden rotate {0} --resume (finish) or keywarden rotate {0} --rollback (undo)",
                env.name
            )),
        );
        RotationStatus {
            kind: j.kind.as_str(),
            step: j.step.as_str(),
            started: j.started,
            old: j.old.clone(),
            new: j.new.clone(),
        }
    });
    let fallbacks = state.grace.get(&env.name).cloned().unwrap_or_default();
    for g in &fallbacks {
        findings.push(Finding::new(
            Code::GracePeriod,
            Severity::Info,
            format!(
                "the previous key {} is still accepted through the fallback until {}",
                g.fingerprint,
                g.until.strftime("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    let grace_until = state.grace_until(&env.name);
    for f in &mut findings {
        f.environment = Some(env.name.clone());
    }

    EnvStatus {
        name: env.name.clone(),
        fingerprint,
        created,
        age_days,
        age_source: source.as_str(),
        rotate_every_days: env.rotate_every_days,
        rotation_due_days,
        strength,
        targets,
        rotation,
        grace_until,
        fallbacks,
        findings,
    }
}

fn target_status(read: &TargetRead, fingerprint: Option<Fingerprint>) -> TargetStatus {
    let (path, env, format, key) = match &read.target {
        Target::File { path, format, key } => (
            Some(path.display().to_string()),
            None,
            Some(format.as_str()),
            Some(key.clone()),
        ),
        Target::Env { var } => (None, Some(var.clone()), None, None),
        Target::Vault { field, .. } => (None, None, None, Some(field.clone())),
    };
    let (state, line, error) = match &read.value {
        Ok(Value::Present { line, .. }) => ("ok", *line, None),
        Ok(Value::KeyAbsent) => ("missing-key", None, None),
        Ok(Value::FileMissing) if read.remote.is_some() => ("missing-secret", None, None),
        Ok(Value::FileMissing) => ("missing-file", None, None),
        Ok(Value::Unset) => ("unset", None, None),
        Err(e) => ("error", None, Some(e.to_string())),
    };
    TargetStatus {
        path,
        env,
        format,
        key,
        state,
        mode: read.meta.map(|m| m.mode_string()),
        owner: read.meta.map(|m| m.uid),
        fingerprint,
        line,
        error,
        vault: match &read.target {
            Target::Vault { path, .. } => Some(path.clone()),
            _ => None,
        },
        version: read.remote.map(|r| r.version),
    }
}
