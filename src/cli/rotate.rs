//! `keywarden rotate` and `keywarden revoke`: the journaled change of an environment's key.

use super::common;
use super::input;
use super::output;
use crate::error::{Error, Result, exit};
use crate::ops::command::CommandRun;
use crate::ops::rotation::{self, Ctx, Progress, RunEnd, Summary};
use crate::records::journal::Kind;
use std::path::Path;

/// Replace an environment's key: create, set, restart, verify, finish.
///
/// Generates a new key, backs up the old key and every file, writes the new key to every
/// file target (and the old key to the fallback during a grace period), runs `restart`
/// and `verify` from keywarden.toml, then retires the old key. Every step is journaled: if
/// keywarden is interrupted, `--resume` finishes the rotation and `--rollback` undoes it.
/// Production asks you to type its name unless --yes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden rotate staging\n  keywarden rotate production --yes --no-restart\n  keywarden rotate production --resume"
)]
pub struct RotateArgs {
    /// The environment.
    env: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Skip the `restart` and `verify` commands (and say so).
    #[arg(long)]
    no_restart: bool,
    /// Finish an unfinished rotation.
    #[arg(long, conflicts_with = "rollback")]
    resume: bool,
    /// Undo an unfinished rotation: every file gets its old content back.
    #[arg(long)]
    rollback: bool,
}

/// Revoke a compromised key: rotate at once with no grace period and never accept it again.
///
/// The old key leaves every target and the fallback, its fingerprint goes on the revoked
/// list (found anywhere later, it is a critical finding), and every other environment that
/// shared it is named so you rotate it too.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The environment.
    env: String,
    /// Why (recorded with the revocation and in the audit trail).
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

fn printer(text: &mut String) -> impl FnMut(Progress) + '_ {
    move |p| {
        let line = match p {
            Progress::Step(s) => format!("  {s}\n"),
            Progress::Command { name, run } => command_report(name, &run),
        };
        // Print as we go (restart commands can be slow) and keep a copy.
        eprint!("{line}");
        text.push_str(&line);
    }
}

pub fn command_report(name: &str, run: &CommandRun) -> String {
    let mut s = format!("  {name}: {} ({})\n", run.command, run.summary());
    let lines: Vec<&str> = run.output.lines().collect();
    let skip = lines.len().saturating_sub(20);
    if skip > 0 {
        s.push_str(&format!(
            "    … {skip} earlier line(s) kept in the journal\n"
        ));
    }
    for l in &lines[skip..] {
        s.push_str(&format!("    | {l}\n"));
    }
    s
}

fn run_to_end(
    ctx: &Ctx,
    env: &str,
    first: impl FnOnce(&Ctx, &mut dyn FnMut(Progress)) -> Result<RunEnd>,
) -> Result<u8> {
    let mut log = String::new();
    let end = first(ctx, &mut printer(&mut log))?;
    match (end.summary(env), end) {
        (
            Summary::Finished {
                old,
                new,
                rotate_too,
                ..
            },
            _,
        ) => {
            let mut text = format!(
                "{env}: now uses {new} (was {old}; the old key is kept in `keywarden backups {env}`)\n"
            );
            for other in rotate_too {
                text.push_str(&format!(
                    "warning: {other} holds the revoked key too: run `keywarden rotate {other}` now\n"
                ));
            }
            let has_restart = ctx
                .project
                .manifest
                .environment(env)
                .is_some_and(|e| e.restart.is_some() || e.verify.is_some());
            if !ctx.run_commands && has_restart {
                text.push_str(&format!(
                    "the app was NOT restarted (--no-restart): it still signs with the old key until you restart it yourself; its restart and verify commands are in keywarden.toml under {env}\n"
                ));
            }
            output::emit(&text)?;
            Ok(exit::OK)
        }
        (Summary::Stopped { step, why, .. }, _) => {
            eprintln!(
                "keywarden: {step} failed ({why}); the new key is in place but not confirmed"
            );
            if input::ask("Roll back to the old key now?") {
                let restored = rotation::rollback(ctx, env, &mut printer(&mut log))?;
                output::emit(&format!(
                    "{env}: rolled back; {} file(s) have their old content\n",
                    restored.len()
                ))?;
            } else {
                eprintln!(
                    "The rotation is journaled. Fix the cause, then `keywarden rotate {env} --resume` to retry {step}, or `keywarden rotate {env} --rollback` to undo it."
                );
            }
            Ok(exit::FAILED)
        }
    }
}

pub fn run_rotate(args: RotateArgs, project: Option<&Path>) -> Result<u8> {
    let opened = common::open_for(project, Some(&args.env))?;
    let audit = opened.project.audit();
    let ctx = Ctx {
        project: &opened.project,
        pepper: &opened.pepper,
        audit: &audit,
        run_commands: !args.no_restart,
    };
    common::prepare_hiding(&opened, !args.no_restart || args.rollback)?;
    if args.rollback {
        let mut log = String::new();
        let restored = rotation::rollback(&ctx, &args.env, &mut printer(&mut log))?;
        output::emit(&format!(
            "{}: rolled back; {} file(s) have their old content\n",
            args.env,
            restored.len()
        ))?;
        return Ok(exit::OK);
    }
    if args.resume {
        return run_to_end(&ctx, &args.env, |c, p| rotation::resume(c, &args.env, p));
    }
    crate::ops::apply::environment(&opened.project, &args.env)?;
    input::confirm(&args.env, "rotate", args.yes, false)?;
    run_to_end(&ctx, &args.env, |c, p| {
        rotation::start(c, &args.env, Kind::Rotate, None, None, p)
    })
}

pub fn run_revoke(args: RevokeArgs, project: Option<&Path>) -> Result<u8> {
    if args.reason.trim().is_empty() {
        return Err(Error::Usage(
            "--reason must say why the key is revoked".into(),
        ));
    }
    let opened = common::open_for(project, Some(&args.env))?;
    let audit = opened.project.audit();
    let ctx = Ctx {
        project: &opened.project,
        pepper: &opened.pepper,
        audit: &audit,
        run_commands: true,
    };
    common::prepare_hiding(&opened, true)?;
    crate::ops::apply::environment(&opened.project, &args.env)?;
    input::confirm(&args.env, "revoke the key of", args.yes, true)?;
    let reason = args.reason.clone();
    run_to_end(&ctx, &args.env, |c, p| {
        rotation::start(c, &args.env, Kind::Revoke, Some(reason), None, p)
    })
}
