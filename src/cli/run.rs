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
/// its own, untouched, unless --redact. The backups' passphrase file and the store's
/// token (BAO_TOKEN, VAULT_TOKEN) are not passed down.
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
    /// Pass BAO_TOKEN and VAULT_TOKEN down to the command (by default they are removed
    /// from its environment: the token opens more than this environment's key).
    #[arg(long)]
    keep_store_token: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<OsString>,
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let prepared = crate::ops::run::prepare(&opened.project, &opened.pepper, &args.env, args.var)?;
    drop(opened);
    let (program, rest) = args.command.split_first().expect("clap requires CMD");
    let options = crate::ops::run::Options {
        redact: args.redact,
        keep_store_token: args.keep_store_token,
    };
    match crate::ops::run::exec(&prepared, program, rest, options)? {
        crate::ops::run::Ran::Exited(code) => Ok(code),
        crate::ops::run::Ran::NotStarted { code, why } => {
            eprintln!("keywarden: error: {why}");
            Ok(code)
        }
    }
}
