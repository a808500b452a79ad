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

/// The edits of the set step, grouped by file in target order: the new key to every
/// target, and `fallback` (the old keys as one list, see [`join_fallbacks`]) to the
/// fallback, whose key is removed when `fallback` is `None`.
pub(super) fn edits_by_file(
    env: &Environment,
    kind: Kind,
    new_key: &Secret,
    fallback: Option<&Secret>,
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
            push(path, *format, key, Some(new_key.duplicate()));
        }
    }
    // `set` leaves the fallback as it is.
    if let Some(Target::File { path, format, key }) = &env.fallback
        && kind != Kind::Set
    {
        push(path, *format, key, fallback.map(Secret::duplicate));
    }
    groups
}

/// What separates the old keys in a fallback: Django's `SECRET_KEY_FALLBACKS` read with
/// django-environ's `env.list()`, Laravel's `APP_PREVIOUS_KEYS` and Flask's
/// `SECRET_KEY_FALLBACKS` as config loaders read them are comma-separated lists. In a
/// `.env` the list is one (single-quoted) value; in TOML one string, as keywarden writes
/// strings only.
pub const FALLBACK_SEPARATOR: char = ',';

/// The old keys as the fallback holds them, newest first: `new,older,oldest`.
pub fn join_fallbacks(keys: &[Secret]) -> Secret {
    let parts: Vec<&str> = keys.iter().map(|k| k.expose_secret()).collect();
    Secret::new(parts.join(&FALLBACK_SEPARATOR.to_string()))
}

/// The old keys in a fallback's value, in its order (empty items, as the readers do,
/// skipped).
pub fn split_fallbacks(value: &Secret) -> Vec<Secret> {
    value
        .expose_secret()
        .split(FALLBACK_SEPARATOR)
        .filter(|k| !k.is_empty())
        .map(|k| Secret::new(k.to_string()))
        .collect()
}

/// Whether `key` can later go into `env`'s fallback list and be read back exactly, as one
/// key of the list: the fallback's format carries it, it holds no separator, and nothing
/// in it would join with a later key of the list (a `${` that a `}` after it closes is a
/// variable to python-dotenv). `Ok` when the environment has no fallback. `Err` is the
/// whole message, without the key.
pub fn fallback_carries(env: &Environment, key: &Secret) -> std::result::Result<(), String> {
    let Some(fallback) = &env.fallback else {
        return Ok(());
    };
    let label = fallback.label();
    if key.expose_secret().contains(FALLBACK_SEPARATOR) {
        return Err(format!(
            "this key contains `{FALLBACK_SEPARATOR}`, which separates the old keys in the fallback {label} (a comma-separated list, as Django's SECRET_KEY_FALLBACKS, Laravel's APP_PREVIOUS_KEYS and Flask read it): it would be read as two keys there once it is rotated out; use a key without `{FALLBACK_SEPARATOR}`, or `--generate`"
        ));
    }
    targets::carries(fallback, key).map_err(|why| {
        format!("this key cannot be written to the fallback {label} without being changed: {why}; use a key without it, or `--generate`")
    })?;
    // The key followed by the separator and a later key that starts with `}`.
    let followed = Secret::new(format!("{}{FALLBACK_SEPARATOR}}}", key.expose_secret()));
    targets::carries(fallback, &followed).map_err(|why| {
        format!("this key cannot share the fallback list in {label} with other keys: followed by them, {why}; use a key without it, or `--generate`")
    })
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
    in_use.extend(
        state
            .grace
            .values()
            .flatten()
            .map(|g| g.fingerprint.clone()),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_fallback(format: Format) -> Environment {
        let mut env = Environment::new("production");
        env.grace_days = 7;
        env.fallback = Some(Target::File {
            path: PathBuf::from("fallback.env"),
            format,
            key: "SECRET_KEY_FALLBACKS".into(),
        });
        env
    }

    fn s(v: &str) -> Secret {
        Secret::new(v.to_string())
    }

    #[test]
    fn the_list_joins_newest_first_and_splits_back() {
        let keys = vec![s("k2-new"), s("k1"), s("k0-old")];
        let joined = join_fallbacks(&keys);
        assert_eq!(joined.expose_secret(), "k2-new,k1,k0-old");
        assert_eq!(split_fallbacks(&joined), keys);
        // Empty items are skipped, as django-environ and Laravel skip them.
        assert_eq!(split_fallbacks(&s(",a,,b,")), vec![s("a"), s("b")]);
        assert!(split_fallbacks(&s("")).is_empty());
    }

    #[test]
    fn a_key_for_a_fallback_list_holds_no_separator() {
        for format in [Format::Dotenv, Format::Toml] {
            let env = with_fallback(format);
            let err = fallback_carries(&env, &s("abc,def")).unwrap_err();
            assert!(err.contains("`,`") && err.contains("fallback.env"), "{err}");
            assert!(!err.contains("abc"), "no key in the message: {err}");
            assert!(fallback_carries(&env, &s("abc.def")).is_ok());
        }
        // Without a fallback there is no list.
        assert!(fallback_carries(&Environment::new("dev"), &s("abc,def")).is_ok());
    }

    #[test]
    fn a_dotenv_key_that_would_join_a_later_one_into_a_variable_is_refused() {
        let env = with_fallback(Format::Dotenv);
        // Alone it carries; followed by `,x}y` python-dotenv would expand `${ab,x}`.
        assert!(targets::carries(env.fallback.as_ref().unwrap(), &s("q${ab")).is_ok());
        let err = fallback_carries(&env, &s("q${ab")).unwrap_err();
        assert!(!err.contains("q${ab"), "{err}");
        assert!(fallback_carries(&env, &s("q$ab{c}")).is_ok());
        // TOML has no variables.
        assert!(fallback_carries(&with_fallback(Format::Toml), &s("q${ab")).is_ok());
    }

    #[test]
    fn a_revocation_removes_the_fallback_and_a_rotation_writes_the_list() {
        let mut env = with_fallback(Format::Dotenv);
        env.targets.push(Target::File {
            path: PathBuf::from("fallback.env"),
            format: Format::Dotenv,
            key: "SECRET_KEY".into(),
        });
        let list = s("k1,k0");
        let groups = edits_by_file(&env, Kind::Rotate, &s("k2"), Some(&list));
        assert_eq!(groups.len(), 1, "one file, one write");
        assert_eq!(
            groups[0].2,
            vec![
                ("SECRET_KEY".to_string(), Some(s("k2"))),
                ("SECRET_KEY_FALLBACKS".to_string(), Some(list)),
            ]
        );
        let groups = edits_by_file(&env, Kind::Rotate, &s("k2"), None);
        assert_eq!(groups[0].2[1], ("SECRET_KEY_FALLBACKS".to_string(), None));
    }
}
