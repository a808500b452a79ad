//! `keywarden run ENV -- CMD ARGS…`: CMD started with the environment's key in its
//! environment (the guide's "variables d'environnement en production"), read from any of
//! its targets, the secret store included, like `doppler run` or `op run`.
//!
//! The key goes in the child's environment only, never on a command line. The child's
//! exit code is passed through (128 + N for a child killed by signal N, as shells say);
//! SIGTERM, SIGINT and SIGHUP sent to keywarden are forwarded to the child (a terminal's
//! Ctrl-C already reaches it through the process group, so that one is not sent twice).
//! The child's output is its own: inherited as it is, or relayed through the redactor
//! when asked.

use crate::error::{Error, Result};
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::redact::Needles;
use crate::keys::secret::Secret;
use crate::ops::current_key::{self, Handout};
use crate::project::Project;
use crate::project::manifest::Target;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// What `run` starts the child with.
pub struct Prepared {
    /// The variable the key goes in.
    pub var: String,
    pub key: Secret,
    pub fingerprint: Fingerprint,
    pub source: String,
    /// Every key keywarden knows, for `--redact`.
    pub hide: Vec<(Secret, String)>,
}

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// It ran: its exit code (128 + N when signal N killed it).
    Exited(u8),
    /// It could not be started: 127 (not found) or 126 (not executable), and why.
    NotStarted { code: u8, why: String },
}

/// The variable an environment's app reads its key from: its first `env` target's name,
/// else `defaults.key` when it is a variable name, else `SECRET_KEY`.
pub fn variable(project: &Project, env_name: &str) -> Result<String> {
    let env = crate::ops::apply::environment(project, env_name)?;
    if let Some(var) = env.targets.iter().find_map(|t| match t {
        Target::Env { var } => Some(var.clone()),
        _ => None,
    }) {
        return Ok(var);
    }
    let d = &project.manifest.defaults.key;
    Ok(if is_variable_name(d) {
        d.clone()
    } else {
        crate::project::manifest::DEFAULT_KEY.to_string()
    })
}

/// A variable the dynamic loader, the shell or the command search reads: a key put there
/// would be run, printed by the loader (`LD_PRELOAD`), or break the command.
fn reserved(name: &str) -> bool {
    name.starts_with("LD_")
        || name.starts_with("DYLD_")
        || [
            "PATH", "IFS", "HOME", "SHELL", "ENV", "BASH_ENV", "PS4", "CDPATH",
        ]
        .contains(&name)
}

/// A name a shell could export: letters, digits and `_`, not starting with a digit.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads the environment's key (every target must agree) and records the hand-out in
/// the audit trail before it leaves memory.
pub fn prepare(
    project: &Project,
    pepper: &Pepper,
    env_name: &str,
    var: Option<String>,
) -> Result<Prepared> {
    let var = match var {
        Some(v) if is_variable_name(&v) && reserved(&v) => {
            return Err(Error::Usage(format!(
                "--var {v}: that variable tells the system how to start or run programs (the loader, the shell, the command search), not one an app reads its key from; name the app's variable (e.g. --var DJANGO_SECRET_KEY)"
            )));
        }
        Some(v) if is_variable_name(&v) => v,
        Some(v) => {
            return Err(Error::Usage(format!(
                "--var {v:?} is not a variable name; use letters, digits and `_`, not starting with a digit (e.g. --var DJANGO_SECRET_KEY)"
            )));
        }
        None => variable(project, env_name)?,
    };
    let key = current_key::hand_out(project, pepper, env_name, Handout::Run)?;
    let hide = crate::ops::known::to_hide(
        project,
        pepper,
        &[(key.key.duplicate(), key.fingerprint.to_string())],
    );
    Ok(Prepared {
        var,
        key: key.key,
        fingerprint: key.fingerprint,
        source: key.source,
        hide,
    })
}

/// How the child is started, past its command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Its stdout and stderr go through the redactor (every key keywarden knows replaced
    /// by its fingerprint).
    pub redact: bool,
    /// `BAO_TOKEN` and `VAULT_TOKEN` are passed down as they are.
    pub keep_store_token: bool,
}

/// Starts `program args` with `prepared.var` = the key in its environment, waits for it
/// and returns the exit code to pass on.
pub fn exec(
    prepared: &Prepared,
    program: &OsString,
    args: &[OsString],
    options: Options,
) -> Result<Ran> {
    let redact = options.redact;
    let mut cmd = Command::new(program);
    // The backups' passphrase and the store's token are keywarden's, not the app's: the
    // app gets its key, not every key keywarden keeps or the store holds. A variable
    // the key goes in is set even when it has a token's name (`--var` says so).
    cmd.args(args);
    let token_vars = crate::targets::vault::client::TOKEN_VARS;
    for var in crate::context::INTERNAL_SECRET_VARS {
        if !(options.keep_store_token && token_vars.contains(var)) {
            cmd.env_remove(var);
        }
    }
    // Last: with `--var BAO_TOKEN`, the key takes the token's place.
    cmd.env(&prepared.var, prepared.key.expose_secret());
    if redact {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        // As shells say it: 127 for a command not found, 126 for one that cannot run.
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Ok(Ran::NotStarted {
                code,
                why: format!(
                    "cannot start {}: {e}",
                    std::path::Path::new(program).display()
                ),
            });
        }
    };
    crate::sys::forward_signals(child.id());
    let mut relays = Vec::new();
    if redact {
        let needles = std::sync::Arc::new(Needles::new(&prepared.hide));
        let out = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let err = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        for (stream, to_err) in [(out, false), (err, true)] {
            let Some(mut stream) = stream else { continue };
            let needles = needles.clone();
            relays.push(std::thread::spawn(move || {
                let mut r = needles.stream();
                let mut buf = vec![0u8; 16 * 1024];
                let write = |bytes: &[u8]| {
                    let _ = if to_err {
                        std::io::stderr().write_all(bytes)
                    } else {
                        let mut o = std::io::stdout();
                        o.write_all(bytes).and_then(|_| o.flush())
                    };
                };
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => write(&r.feed(&buf[..n])),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                }
                write(&r.finish());
            }));
        }
    }
    // Forwarding stops once the child has ended but before it is reaped, so its pid
    // cannot have been reused by the time a late signal is sent on.
    crate::sys::wait_exited(child.id());
    crate::sys::forward_signals(0);
    let status = loop {
        match child.wait() {
            Ok(s) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Failed(format!("waiting for the command: {e}"))),
        }
    };
    for r in relays {
        let _ = r.join();
    }
    use std::os::unix::process::ExitStatusExt;
    Ok(Ran::Exited(match (status.code(), status.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => (128 + sig) as u8,
        (None, None) => 1,
    }))
}
