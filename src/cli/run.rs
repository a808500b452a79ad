//! `keywarden run ENV -- CMD ARGS…`: CMD with the environment's key in its environment.

use super::common;
use crate::error::Result;
use std::ffi::OsString;
use std::path::Path;

/// Start CMD with the environment's key in its environment, read from its targets (the
/// secret store included): the guide's "variables d'environnement en production".
///
/// The key is never on a command line. CMD's exit code is keywarden's (128+N when a
/// signal N killed it); SIGTERM, SIGINT and SIGHUP are forwarded to it. Its output is
/// its own, untouched, unless --redact.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden run production -- gunicorn app:app\n  keywarden run staging --var DJANGO_SECRET_KEY -- ./manage.py check --deploy\n  keywarden run production --redact -- ./debug-script"
)]
pub struct Args {
    /// The environment.
    env: String,
    /// The variable to put the key in (default: the environment's `env` target, else
    /// defaults.key, else SECRET_KEY).
    #[arg(long, value_name = "NAME")]
    var: Option<String>,
    /// Relay the command's stdout and stderr with every key keywarden knows replaced by
    /// its fingerprint (otherwise its output is inherited as it is).
    #[arg(long)]
    redact: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<OsString>,
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let prepared = crate::ops::run::prepare(&opened.project, &opened.pepper, &args.env, args.var)?;
    drop(opened);
    let (program, rest) = args.command.split_first().expect("clap requires CMD");
    match crate::ops::run::exec(&prepared, program, rest, args.redact)? {
        crate::ops::run::Ran::Exited(code) => Ok(code),
        crate::ops::run::Ran::NotStarted { code, why } => {
            eprintln!("keywarden: error: {why}");
            Ok(code)
        }
    }
}
