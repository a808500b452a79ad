//! A rotation's steps for the secret-store targets (OpenBao/Vault KV v2): their secret
//! backed up at create, the new key written first at set (one check-and-set write per
//! target, one new version; a lost race stops the step before any file is touched), the
//! old key written back as one more version at rollback, and the revoked key's versions
//! destroyed at the end of a revocation.

use super::*;
use crate::targets::vault::{self, client::Data};

/// The environment's store targets.
pub(super) fn store_targets(env: &Environment) -> Vec<&Target> {
    env.targets
        .iter()
        .filter(|t| matches!(t, Target::Vault { .. }))
        .collect()
}

/// Backs up each store target's whole secret (all its fields) before anything is
/// written: label → backup, `None` when the path holds no live version.
pub(super) fn backup(
    ctx: &Ctx,
    env: &Environment,
    why: &str,
    held_by: &BTreeMap<String, Fingerprint>,
) -> Result<BTreeMap<String, Option<String>>> {
    let store = ctx.store();
    let mut out = BTreeMap::new();
    for t in store_targets(env) {
        let v = vault::of(t).expect("a store target");
        let (conn, mount, rest) = v.open(&ctx.project.root)?;
        let cur = conn.read(&mount, &rest, None)?;
        let label = t.label();
        let id = match &cur.data {
            Some(data) => Some(store.save(
                &env.name,
                &label,
                Path::new(&label),
                &data.to_bytes(),
                held_by.get(&label).cloned(),
                &format!("{why}: secret before (version {})", cur.version),
            )?),
            None => None,
        };
        out.insert(label, id);
    }
    Ok(out)
}

/// The set step for the store targets: each gets the new key by one check-and-set write
/// on the version read just before (a target that already holds it is left alone, so a
/// resumed rotation adds no version). A lost race is an error and no file is written.
pub(super) fn write_new_key(
    ctx: &Ctx,
    env: &Environment,
    run: &mut Running,
    new_key: &Secret,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let name = env.name.clone();
    for (i, t) in store_targets(env).into_iter().enumerate() {
        failpoint(&format!("set:store:{i}"));
        let label = t.label();
        let Target::Vault { field, .. } = t else {
            continue;
        };
        let plan = crate::targets::kind::of(t)
            .plan(
                &ctx.project.root,
                &[Edit {
                    name: field,
                    value: Some(new_key),
                }],
            )
            .map_err(|e| journaled(e, &name))?
            .expect("a store target is written");
        if plan.changes_anything() {
            plan.commit().map_err(|e| journaled(e, &name))?;
        }
        failpoint(&format!("set:store:{i}:written"));
        let version = plan
            .store_write()
            .and_then(|w| w.written())
            .map_or("unchanged".to_string(), |v| format!("version {v}"));
        let j = run.journal_mut();
        if !j.written.contains(&label) {
            j.written.push(label.clone());
        }
        ctx.save(&run.state)?;
        progress(Progress::Step(format!("set: wrote {label} ({version})")));
    }
    Ok(())
}

/// Rollback for the store targets: each one that holds the rotation's new key gets the
/// field it had before written back as one more version (a path keywarden created gets
/// its version deleted). A target that holds another key (someone else's write won) is
/// left alone.
pub(super) fn roll_back(
    ctx: &Ctx,
    env: &Environment,
    j: &Journal,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<String>> {
    let store = ctx.store();
    let mut restored = Vec::new();
    for t in store_targets(env) {
        let label = t.label();
        let Some(backup) = j.files.get(&label) else {
            continue;
        };
        let Target::Vault { field, .. } = t else {
            continue;
        };
        let v = vault::of(t).expect("a store target");
        let (conn, mount, rest) = v.open(&ctx.project.root)?;
        let cur = conn.read(&mount, &rest, None)?;
        let holds_new = cur
            .data
            .as_ref()
            .and_then(|d| d.0.get(field.as_str()))
            .and_then(|v| v.as_str())
            .is_some_and(|k| ctx.pepper.fingerprint(&Secret::new(k.to_string())) == j.new);
        if !holds_new {
            progress(Progress::Step(format!(
                "rollback: {label} does not hold the new key (version {}); left as it is",
                cur.version
            )));
            continue;
        }
        match backup {
            Some(id) => {
                let before = Data::from_bytes(&store.content(id)?).ok_or_else(|| {
                    Error::Failed(format!("backup {id} of {label} is not a KV secret"))
                })?;
                let mut data = cur.data.clone().unwrap_or_default();
                match before.0.get(field.as_str()) {
                    Some(old) => data.0.insert(field.clone(), old.clone()),
                    None => data.0.remove(field.as_str()),
                };
                let n = conn.write(&mount, &rest, &data, cur.version)?;
                progress(Progress::Step(format!(
                    "rollback: {label} has its old key back (version {n})"
                )));
            }
            None => {
                conn.delete_version(&mount, &rest, cur.version)?;
                progress(Progress::Step(format!(
                    "rollback: {label} did not exist before: version {} deleted",
                    cur.version
                )));
            }
        }
        restored.push(label);
    }
    Ok(restored)
}

/// A revocation's end for the store targets: every version that holds a revoked key is
/// destroyed (its data gone for good, the metadata kept).
pub(super) fn destroy_revoked(
    ctx: &Ctx,
    env: &Environment,
    j: &Journal,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    for t in store_targets(env) {
        let gone = vault::destroy_holding(&ctx.project.root, t, &|k| {
            j.old.contains(&ctx.pepper.fingerprint(k))
        })?;
        if !gone.is_empty() {
            let list: Vec<String> = gone.iter().map(u64::to_string).collect();
            progress(Progress::Step(format!(
                "finish: destroyed version(s) {} of {} (they held the revoked key; metadata kept)",
                list.join(", "),
                t.label()
            )));
        }
    }
    Ok(())
}
