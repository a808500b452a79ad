//! Which files a rotation writes and what it writes to each, and the backup retention
//! applied once a rotation is done.

use super::*;

/// The environment's file targets and fallback, deduplicated by path.
pub(super) fn file_targets(env: &Environment) -> Vec<&Target> {
    env.targets
        .iter()
        .chain(env.fallback.iter())
        .filter(|t| matches!(t, Target::File { .. }))
        .collect()
}

/// (label, real path) of every file the rotation may write.
pub(super) fn file_paths(project: &Project, env: &Environment) -> Result<Vec<(String, PathBuf)>> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for t in file_targets(env) {
        if let Target::File { path, .. } = t {
            let label = path.display().to_string();
            if !out.iter().any(|(l, _)| *l == label) {
                out.push((label, fsio::resolve_inside(&project.root, path)?));
            }
        }
    }
    Ok(out)
}

pub(super) type FileEdits = (PathBuf, Format, Vec<(String, Option<Secret>)>);

/// The edits of the set step, grouped by file in target order.
pub(super) fn edits_by_file(
    env: &Environment,
    kind: Kind,
    new_key: &Secret,
    old_key: Option<&Secret>,
) -> Vec<FileEdits> {
    let mut groups: Vec<FileEdits> = Vec::new();
    let mut push = |path: &Path, format: Format, name: &str, value: Option<Secret>| match groups
        .iter_mut()
        .find(|(p, _, _)| p == path)
    {
        Some((_, _, edits)) => edits.push((name.to_string(), value)),
        None => groups.push((path.to_path_buf(), format, vec![(name.to_string(), value)])),
    };
    for t in &env.targets {
        if let Target::File { path, format, key } = t {
            push(path, *format, key, Some(new_key.clone()));
        }
    }
    // `set` leaves the fallback as it is.
    if let Some(Target::File { path, format, key }) = &env.fallback
        && kind != Kind::Set
    {
        let value = match kind {
            Kind::Rotate => old_key.cloned(),
            Kind::Revoke | Kind::Restore | Kind::Set => None,
        };
        push(path, *format, key, value);
    }
    groups
}

/// Applies the manifest's backup retention, never deleting the newest backup of a key
/// still in use (current, in a grace period, or part of an unfinished rotation).
pub fn prune_backups(project: &Project, state: &State) {
    let Some(days) = project
        .manifest
        .defaults
        .keep_backups_days
        .filter(|d| *d > 0)
    else {
        return;
    };
    let store = BackupStore::of(project);
    let cutoff = Timestamp::now() - SignedDuration::from_hours(24 * i64::from(days));
    let mut in_use: Vec<Fingerprint> = state
        .environments
        .values()
        .map(|e| e.fingerprint.clone())
        .collect();
    in_use.extend(state.grace.values().map(|g| g.fingerprint.clone()));
    let mut referenced: Vec<String> = Vec::new();
    for j in state.rotations.values() {
        in_use.push(j.new.clone());
        in_use.extend(j.old.iter().cloned());
        referenced.push(j.new_key_backup.clone());
        referenced.extend(j.old_key_backups.values().cloned());
        referenced.extend(j.files.values().flatten().cloned());
    }
    let all = store.list();
    // The newest backup of each key in use is kept whatever its age.
    let mut newest: BTreeMap<&Fingerprint, &str> = BTreeMap::new();
    for m in &all {
        if let Some(fp) = m.fingerprint.as_ref().filter(|f| in_use.contains(f)) {
            newest.insert(fp, &m.id);
        }
    }
    let keep: Vec<&str> = newest.values().copied().collect();
    for m in &all {
        if m.created < cutoff && !keep.contains(&m.id.as_str()) && !referenced.contains(&m.id) {
            let _ = store.remove(&m.id);
        }
    }
}
