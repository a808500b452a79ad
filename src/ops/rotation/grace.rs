//! The grace period: the old key in the fallback, the keys a command must not print, and
//! the housekeeping that removes an old key once its grace period has ended.

use super::*;

/// Every key `env`'s targets (and fallback) hold now, with its fingerprint: what a
/// command run for that environment must not print.
pub fn held_keys(project: &Project, pepper: &Pepper, env: &Environment) -> Vec<(Secret, String)> {
    let mut out: Vec<(Secret, String)> = Vec::new();
    for t in env.targets.iter().chain(env.fallback.iter()) {
        if let Some(k) = targets::read(&project.root, t, project.context.env.reader()).key() {
            let fp = pepper.fingerprint(k).to_string();
            if !out.iter().any(|(_, f)| *f == fp) {
                out.push((k.clone(), fp));
            }
        }
        // A fallback holds the previous key under its own name.
        if let Target::File { path, format, .. } = t
            && let Some(fallback_value) = fallback_key(project, env, path, *format)
        {
            let fp = pepper.fingerprint(&fallback_value).to_string();
            if !out.iter().any(|(_, f)| *f == fp) {
                out.push((fallback_value, fp));
            }
        }
    }
    out
}

/// The value of the fallback key when `path` is the environment's fallback file.
pub(super) fn fallback_key(
    project: &Project,
    env: &Environment,
    path: &Path,
    format: Format,
) -> Option<Secret> {
    match &env.fallback {
        Some(Target::File { path: fp, key, .. }) if fp == path => {
            let t = Target::File {
                path: path.to_path_buf(),
                format,
                key: key.clone(),
            };
            targets::read(&project.root, &t, &|_| None).key().cloned()
        }
        _ => None,
    }
}

/// Removes the old key from fallbacks whose grace period has ended. Run at the start of
/// every command; skipped quietly when another keywarden holds the lock. An environment
/// with an unfinished rotation is left alone (its journal owns the fallback), and the
/// fallback is emptied only if it still holds the key of that grace period.
pub fn expire_grace(
    project: &Project,
    pepper: &Pepper,
    audit: &AuditLog,
    now: Timestamp,
) -> Result<Vec<String>> {
    let state = project.load_state()?;
    if !state.grace.values().any(|g| g.until <= now) {
        return Ok(Vec::new());
    }
    let Ok(_lock) = project.lock() else {
        return Ok(Vec::new());
    };
    let mut state = project.load_state()?;
    let expired: Vec<(String, Grace)> = state
        .grace
        .iter()
        .filter(|(e, g)| g.until <= now && !state.rotations.contains_key(*e))
        .map(|(e, g)| (e.clone(), g.clone()))
        .collect();
    let mut done = Vec::new();
    for (env_name, g) in expired {
        let fallback = project
            .manifest
            .environment(&env_name)
            .and_then(|e| e.fallback.clone());
        let detail = match &fallback {
            Some(t @ Target::File { path, format, key }) => {
                // An unreadable fallback is an error: the grace period ends on a later run.
                let holds_it = match targets::read(&project.root, t, &|_| None).value? {
                    targets::Value::Present { key, .. } => {
                        pepper.fingerprint(&key) == g.fingerprint
                    }
                    _ => false,
                };
                if holds_it {
                    let plan = targets::plan_edits(
                        &project.root,
                        path,
                        *format,
                        &[Edit {
                            name: key,
                            value: None,
                        }],
                    )?;
                    if let Some(old) = &plan.old {
                        BackupStore::of(project).save(
                            &env_name,
                            &plan.label,
                            &plan.path,
                            old,
                            Some(g.fingerprint.clone()),
                            "grace period ended",
                        )?;
                    }
                    plan.commit()?;
                    format!("old key removed from {}", path.display())
                } else {
                    format!(
                        "{} no longer held the old key; left as it is",
                        path.display()
                    )
                }
            }
            _ => "the environment has no fallback any more".to_string(),
        };
        audit.append(
            Record::new("grace.end", audit::Outcome::Ok)
                .env(&env_name)
                .old(g.fingerprint.clone())
                .detail(detail),
        )?;
        state.grace.remove(&env_name);
        state.save(&project.state_dir())?;
        done.push(env_name);
    }
    Ok(done)
}
