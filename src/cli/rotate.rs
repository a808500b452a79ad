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
    /// Print the outcome as JSON on stdout (progress stays on stderr): environment,
    /// outcome (`finished`, `stopped`, `rolled-back`), the new and old fingerprints.
    #[arg(long)]
    json: bool,
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
    /// Print the outcome as JSON on stdout (progress stays on stderr).
    #[arg(long)]
    json: bool,
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

/// The outcome of a rotation, revocation or rollback for scripts (`--json`).
#[derive(serde::Serialize)]
struct RunReport<'a> {
    environment: &'a str,
    /// `finished`, `stopped` (journaled: resume or roll back) or `rolled-back`.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old: Option<String>,
    /// The step that failed, and why, when stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
    /// Environments that held the revoked key too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rotate_too: Vec<String>,
    /// Whether restart and verify ran (`--no-restart` skips them).
    restarted: bool,
    /// Files given their old content by a rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    restored: Option<usize>,
}

fn run_to_end(
    ctx: &Ctx,
    env: &str,
    json: bool,
    first: impl FnOnce(&Ctx, &mut dyn FnMut(Progress)) -> Result<RunEnd>,
) -> Result<u8> {
    let mut log = String::new();
    let end = first(ctx, &mut printer(&mut log))?;
    let has_restart = ctx
        .project
        .manifest
        .environment(env)
        .is_some_and(|e| e.restart.is_some() || e.verify.is_some());
    if json {
        let report = match end.summary(env) {
            Summary::Finished {
                old,
                new,
                rotate_too,
                ..
            } => RunReport {
                environment: env,
                outcome: "finished",
                new: Some(new.to_string()),
                old: Some(old),
                step: None,
                why: None,
                rotate_too,
                restarted: ctx.run_commands && has_restart,
                restored: None,
            },
            Summary::Stopped { step, why, .. } => RunReport {
                environment: env,
                outcome: "stopped",
                new: None,
                old: None,
                step: Some(step),
                why: Some(why),
                rotate_too: Vec::new(),
                restarted: false,
                restored: None,
            },
        };
        let code = if report.outcome == "finished" {
            exit::OK
        } else {
            exit::FAILED
        };
        output::print_json(&report)?;
        return Ok(code);
    }
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
        if args.json {
            output::print_json(&RunReport {
                environment: &args.env,
                outcome: "rolled-back",
                new: None,
                old: None,
                step: None,
                why: None,
                rotate_too: Vec::new(),
                restarted: !args.no_restart,
                restored: Some(restored.len()),
            })?;
            return Ok(exit::OK);
        }
        output::emit(&format!(
            "{}: rolled back; {} file(s) have their old content\n",
            args.env,
            restored.len()
        ))?;
        return Ok(exit::OK);
    }
    if args.resume {
        return run_to_end(&ctx, &args.env, args.json, |c, p| {
            rotation::resume(c, &args.env, p)
        });
    }
    crate::ops::apply::environment(&opened.project, &args.env)?;
    input::confirm(&args.env, "rotate", args.yes, false)?;
    run_to_end(&ctx, &args.env, args.json, |c, p| {
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
    run_to_end(&ctx, &args.env, args.json, |c, p| {
        rotation::start(c, &args.env, Kind::Revoke, Some(reason), None, p)
    })
}
