//! `keywarden backups` and `keywarden restore`.

use super::common;
use super::input;
use super::output;
use super::rotate;
use crate::error::{Result, exit};
use crate::ops::restore::{self, Restored};
use crate::ops::rotation::{Ctx, Progress, RunEnd};
use crate::records::backup::{BackupStore, Kind as BackupKind};
use std::path::Path;

/// List the backups: every file's content before keywarden changed it, every retired key
/// and every rotation's new key, kept outside the project (never printed: named by
/// fingerprint).
#[derive(Debug, clap::Args)]
pub struct BackupsArgs {
    /// Only this environment.
    env: Option<String>,
    /// Print the list as JSON.
    #[arg(long)]
    json: bool,
}

/// Put a backup back: a key backup goes to every target of the environment (journaled
/// like a rotation: `rotate ENV --resume/--rollback` if interrupted); a file backup
/// replaces that one file. The current content is backed up first. A revoked key is refused.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The environment.
    env: String,
    /// The backup's id (see `keywarden backups`).
    backup_id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Skip the `restart` and `verify` commands after a key restore.
    #[arg(long)]
    no_restart: bool,
    /// Print the outcome as JSON: environment, backup, what was restored, the fingerprint.
    #[arg(long)]
    json: bool,
}

pub fn run_backups(args: BackupsArgs, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    if let Some(env) = &args.env {
        crate::ops::apply::environment(&opened.project, env)?;
    }
    let store = BackupStore::of(&opened.project);
    // Said on stderr whatever the output format: a backup that cannot be listed must not
    // vanish silently.
    for (id, why) in store.damaged() {
        eprintln!(
            "keywarden: warning: backup {id} is not listed: {why} (a run was interrupted while saving it, or the disk is damaged); its files are in {}",
            store.folder_path(&id).display()
        );
    }
    let all: Vec<_> = store
        .list()
        .into_iter()
        .filter(|m| args.env.as_ref().is_none_or(|e| &m.environment == e))
        .collect();
    if args.json {
        return output::print_json(&all).map(|_| exit::OK);
    }
    if all.is_empty() {
        output::emit("no backups yet: keywarden makes one before every change\n")?;
        return Ok(exit::OK);
    }
    let mut text = format!(
        "{:<34} {:<17} {:<12} {:<11} {}\n",
        "ID", "WHEN (UTC)", "ENVIRONMENT", "KEY", "WHAT"
    );
    for m in &all {
        let what = match m.kind {
            BackupKind::Key => format!("key: {}", m.reason),
            BackupKind::File => format!("{}: {}", m.target, m.reason),
        };
        text.push_str(&format!(
            "{:<34} {:<17} {:<12} {:<11} {}\n",
            m.id,
            m.created.strftime("%Y-%m-%d %H:%M"),
            m.environment,
            m.fingerprint
                .as_ref()
                .map_or("-".to_string(), |f| f.to_string()),
            what
        ));
    }
    output::emit(&text)?;
    Ok(exit::OK)
}

pub fn run_restore(args: RestoreArgs, project: Option<&Path>) -> Result<u8> {
    let opened = common::open_for(project, Some(&args.env))?;
    let project = &opened.project;
    restore::check(project, &opened.pepper, &args.env, &args.backup_id)?;
    common::prepare_hiding(&opened, !args.no_restart)?;
    input::confirm(&args.env, "restore a backup into", args.yes, false)?;
    let audit = project.audit();
    let ctx = Ctx {
        project,
        pepper: &opened.pepper,
        audit: &audit,
        run_commands: !args.no_restart,
    };
    let done = restore::run(&ctx, &args.env, &args.backup_id, &mut |p| {
        if let Progress::Step(s) = &p {
            eprintln!("  {s}");
        }
    })?;
    if args.json {
        let (outcome, what, fingerprint, step) = match &done {
            Restored::Key(RunEnd::Finished { new, .. }) => {
                ("finished", "key".to_string(), Some(new.to_string()), None)
            }
            Restored::Key(RunEnd::Stopped { step, .. }) => {
                ("stopped", "key".to_string(), None, Some(*step))
            }
            Restored::File { target } => ("finished", target.clone(), None, None),
        };
        output::print_json(&serde_json::json!({
            "environment": args.env,
            "backup": args.backup_id,
            "outcome": outcome,
            "restored": what,
            "fingerprint": fingerprint,
            "stopped_at": step,
        }))?;
        return Ok(if outcome == "finished" {
            exit::OK
        } else {
            exit::FAILED
        });
    }
    match done {
        Restored::Key(RunEnd::Finished { new, .. }) => {
            output::emit(&format!(
                "{}: key {new} restored from {}\n",
                args.env, args.backup_id
            ))?;
            Ok(exit::OK)
        }
        Restored::Key(RunEnd::Stopped { step, run }) => {
            eprint!("{}", rotate::command_report(step, &run));
            eprintln!(
                "keywarden: {step} failed; `keywarden rotate {0} --resume` retries, `--rollback` undoes",
                args.env
            );
            Ok(exit::FAILED)
        }
        Restored::File { target } => {
            output::emit(&format!(
                "{}: {target} restored from {}\n",
                args.env, args.backup_id
            ))?;
            Ok(exit::OK)
        }
    }
}
