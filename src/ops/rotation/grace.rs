//! The grace period: the old key in the fallback, the keys a command must not print, and
//! the housekeeping that removes an old key once its grace period has ended.

use super::*;

/// Every key `env`'s targets (and fallback) hold now, with its fingerprint: what a
/// command run for that environment must not print.
pub fn held_keys(project: &Project, pepper: &Pepper, env: &Environment) -> Vec<(Secret, String)> {
    let mut keys: Vec<Secret> = env
        .targets
        .iter()
        .filter_map(|t| {
            targets::read(&project.root, t, project.context.env.reader())
                .key()
                .map(Secret::duplicate)
        })
        .collect();
    // The fallback holds the previous keys as one list: each is hidden on its own (and
    // the whole list too, which holds them all).
    if let Some(t) = &env.fallback
        && let Some(list) = targets::read(&project.root, t, &|_| None).key()
    {
        keys.push(list.duplicate());
        keys.extend(split_fallbacks(list));
    }
    let mut out: Vec<(Secret, String)> = Vec::new();
    for k in keys {
        let fp = pepper.fingerprint(&k).to_string();
        if !out.iter().any(|(_, f)| *f == fp) {
            out.push((k, fp));
        }
    }
    out
}

/// The old keys `env`'s fallback holds now, in its order (newest first); empty without a
/// fallback, file or key. An unreadable fallback is an error.
pub(super) fn fallback_entries(project: &Project, env: &Environment) -> Result<Vec<Secret>> {
    let Some(t) = &env.fallback else {
        return Ok(Vec::new());
    };
    Ok(match targets::read(&project.root, t, &|_| None).value? {
        targets::Value::Present { key, .. } => split_fallbacks(&key),
        _ => Vec::new(),
    })
}

/// Removes from fallbacks the old keys whose grace period has ended, each on its own: the
/// other keys of the list stay, in their order, and the fallback key goes only when the
/// list is empty. Run at the start of every command; skipped quietly when another
/// keywarden holds the lock. An environment with an unfinished rotation is left alone
/// (its journal owns the fallback). A key the fallback no longer holds is only forgotten;
/// keys in the fallback that keywarden did not put there stay. Returns the environments
/// where a grace period ended.
pub fn expire_grace(
    project: &Project,
    pepper: &Pepper,
    audit: &AuditLog,
    now: Timestamp,
) -> Result<Vec<String>> {
    let state = project.load_state()?;
    if !state.grace.values().flatten().any(|g| g.until <= now) {
        return Ok(Vec::new());
    }
    let Ok(_lock) = project.lock() else {
        return Ok(Vec::new());
    };
    let mut state = project.load_state()?;
    let envs: Vec<String> = state
        .grace
        .iter()
        .filter(|(e, list)| {
            list.iter().any(|g| g.until <= now) && !state.rotations.contains_key(*e)
        })
        .map(|(e, _)| e.clone())
        .collect();
    let mut done = Vec::new();
    for env_name in envs {
        let list = state.grace.get(&env_name).cloned().unwrap_or_default();
        let (expired, kept): (Vec<Grace>, Vec<Grace>) =
            list.into_iter().partition(|g| g.until <= now);
        let env = project.manifest.environment(&env_name);
        let details: Vec<String> = match env.and_then(|e| e.fallback.as_ref().map(|f| (e, f))) {
            Some((env, Target::File { path, format, key })) => {
                // An unreadable fallback is an error: the grace period ends on a later run.
                let held = fallback_entries(project, env)?;
                let is_expired = |k: &Secret| {
                    let fp = pepper.fingerprint(k);
                    expired.iter().any(|g| g.fingerprint == fp)
                };
                let remaining: Vec<Secret> = held
                    .iter()
                    .filter(|k| !is_expired(k))
                    .map(Secret::duplicate)
                    .collect();
                if remaining.len() < held.len() {
                    let value = (!remaining.is_empty()).then(|| join_fallbacks(&remaining));
                    let plan = targets::plan_edits(
                        &project.root,
                        path,
                        *format,
                        &[Edit {
                            name: key,
                            value: value.as_ref(),
                        }],
                    )?;
                    if let Some(old) = &plan.old {
                        BackupStore::of(project).save(
                            &env_name,
                            &plan.label,
                            &plan.path,
                            old,
                            expired.first().map(|g| g.fingerprint.clone()),
                            "grace period ended",
                        )?;
                    }
                    plan.commit()?;
                }
                expired
                    .iter()
                    .map(|g| {
                        if held.iter().any(|k| pepper.fingerprint(k) == g.fingerprint) {
                            if remaining.is_empty() {
                                format!("old key removed from {}", path.display())
                            } else {
                                format!(
                                    "old key removed from {}; {} other old key(s) stay",
                                    path.display(),
                                    remaining.len()
                                )
                            }
                        } else {
                            format!(
                                "{} no longer held the old key; left as it is",
                                path.display()
                            )
                        }
                    })
                    .collect()
            }
            _ => expired
                .iter()
                .map(|_| "the environment has no fallback any more".to_string())
                .collect(),
        };
        for (g, detail) in expired.iter().zip(details) {
            audit.append(
                Record::new("grace.end", audit::Outcome::Ok)
                    .env(&env_name)
                    .old(g.fingerprint.clone())
                    .detail(detail),
            )?;
        }
        if kept.is_empty() {
            state.grace.remove(&env_name);
        } else {
            state.grace.insert(env_name.clone(), kept);
        }
        state.save(&project.state_dir())?;
        done.push(env_name);
    }
    Ok(done)
}
