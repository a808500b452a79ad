//! Undoing an unfinished rotation (every file back to its pre-rotation content), and
//! running an environment's `restart` and `verify` commands with its keys hidden.

use super::*;

/// Undoes an unfinished rotation: every file gets its pre-rotation content back (the
/// current content is backed up first), then `restart` runs again.
pub fn rollback(
    ctx: &Ctx,
    env_name: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<String>> {
    let env = apply::environment(ctx.project, env_name)?;
    let _lock = ctx.project.lock()?;
    let mut state = ctx.project.load_state()?;
    let Some(j) = state.rotations.get(env_name).cloned() else {
        return Err(Error::Usage(format!(
            "no unfinished rotation of `{env_name}` to roll back"
        )));
    };
    ctx.store().ready(j.files.values().flatten())?;
    ctx.audit.append(
        Record::new(
            format!("{}.rollback", j.kind.as_str()),
            audit::Outcome::Started,
        )
        .env(env_name)
        .new_fp(j.new.clone())
        .detail(j.describe()),
    )?;
    if let Some(jm) = state.rotations.get_mut(env_name) {
        jm.rolling_back = true;
    }
    ctx.save(&state)?;
    failpoint("rollback");
    let store = ctx.store();
    let paths: BTreeMap<String, PathBuf> = file_paths(ctx.project, env)?.into_iter().collect();
    let mut restored = store::roll_back(ctx, env, &j, progress)?;
    for (label, backup) in &j.files {
        let Some(real) = paths.get(label) else {
            continue;
        };
        match backup {
            Some(id) => {
                let before = store.content(id)?;
                // Pinned to the folder and checked against what is read now, like
                // every write.
                let plan = targets::plan_content(&ctx.project.root, real, label, &before)?;
                if plan.changes_anything() {
                    if let Some(cur) = &plan.old {
                        store.save(
                            env_name,
                            label,
                            real,
                            cur,
                            None,
                            "rollback: file before undo",
                        )?;
                    }
                    plan.commit()?;
                    restored.push(label.clone());
                }
            }
            None => {
                // Removed through its folder handle, and only if unchanged since the
                // backup just taken of it.
                let removed = targets::remove_created(&ctx.project.root, real, |cur| {
                    store
                        .save(
                            env_name,
                            label,
                            real,
                            cur,
                            None,
                            "rollback: file keywarden had created",
                        )
                        .map(|_| ())
                })?;
                if removed {
                    restored.push(label.clone());
                }
            }
        }
        progress(Progress::Step(format!(
            "rollback: {label} has its old content back"
        )));
    }
    if let Some(cmd) = env.restart.as_deref().filter(|_| ctx.run_commands) {
        progress(Progress::Step(format!(
            "restart: running `{cmd}` with the old key"
        )));
        // After the rollback the old keys are the live ones: hide them as well as the new.
        let mut hide = held_keys(ctx.project, ctx.pepper, env);
        hide.push((store.key(&j.new_key_backup)?, j.new.to_string()));
        for (fp, id) in &j.old_key_backups {
            hide.push((store.key(id)?, fp.to_string()));
        }
        run_env_command(
            ctx.project,
            ctx.pepper,
            env,
            "restart",
            cmd,
            &hide,
            progress,
        );
    }
    state.rotations.remove(env_name);
    ctx.save(&state)?;
    ctx.audit.append(
        Record::new(format!("{}.rollback", j.kind.as_str()), audit::Outcome::Ok)
            .env(env_name)
            .detail(format!("{} file(s) restored", restored.len())),
    )?;
    Ok(restored)
}

/// Runs `cmd`, one of `env`'s commands (`restart`, `verify`), in the project root with its
/// timeout, replaces every key of `hide` in its output, and reports the run.
pub fn run_env_command(
    project: &Project,
    pepper: &Pepper,
    env: &Environment,
    name: &'static str,
    cmd: &str,
    hide: &[(Secret, String)],
    progress: &mut dyn FnMut(Progress),
) -> CommandRun {
    // Every key keywarden knows, not only this operation's: a command that prints the
    // project's files shows the other environments' keys too.
    let hide = crate::ops::known::to_hide(project, pepper, hide);
    let run = command::run(
        cmd,
        &project.root,
        Duration::from_secs(env.timeout_secs),
        &hide,
    );
    progress(Progress::Command {
        name,
        run: run.clone(),
    });
    run
}
