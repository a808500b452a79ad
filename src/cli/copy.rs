//! `keywarden copy`: an environment's key to the clipboard, never to the terminal.
//!
//! Under X11 the program that copied serves the clipboard, and the text disappears when it
//! exits. Holding the user's terminal for 30 s would be a poor trade, so `copy` hands the
//! key (through a pipe, never argv) to a detached child, `keywarden clipboard-serve`, which
//! serves it until the delay has passed or something else is copied, clears it if it is
//! still ours, and exits. `copy` returns once the clipboard holds the key. `--wait` keeps
//! the work in the foreground instead (for systems where a background process is unwanted).

use super::common;
use super::output;
use crate::clipboard::{self, Cleared};
use crate::error::{Error, Result, exit};
use crate::keys::secret::Secret;
use crate::ops::current_key::{self, Handout};
use crate::records::audit::{Outcome, Record};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// Copy an environment's key to the clipboard; it is cleared after --clear-after seconds
/// (default 30, or $KEYWARDEN_CLEAR_AFTER) if the clipboard still holds it.
///
/// The key is never printed. A small background process keeps the key pasteable until
/// then (under X11 the copying program must stay alive) and is kept out of clipboard
/// managers' histories.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden copy staging\n  keywarden copy production --clear-after 10"
)]
pub struct Args {
    /// The environment.
    env: String,
    /// Seconds before the clipboard is cleared (1 to 3600).
    #[arg(long, value_name = "SECONDS")]
    clear_after: Option<u64>,
    /// Stay in the foreground until the clipboard is cleared, instead of leaving a
    /// background process to do it.
    #[arg(long)]
    wait: bool,
}

/// The hidden half of `copy`: reads a key on stdin, serves it, clears it.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, value_name = "SECONDS")]
    clear_after: u64,
}

/// What the serving child says on its stdout once the clipboard holds the key.
const READY: &str = "ready";

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let delay = super::interactive::clear_after(args.clear_after)?;
    let opened = common::open(project)?;
    // Recorded in the audit trail before the key goes anywhere; no record, no copy. No
    // clipboard at all: recorded once, as failed.
    let key = current_key::hand_out_to(
        &opened.project,
        &opened.pepper,
        &args.env,
        Handout::Copy,
        || clipboard::available().map_err(|e| e.to_string()),
    )?;
    let secs = delay.as_secs();
    let done = format!(
        "{}: key {} copied to the clipboard; cleared in {secs} s if it still holds it\n",
        args.env, key.fingerprint
    );
    if args.wait {
        let outcome = clipboard::serve(&key.key, delay, || {
            let _ = output::emit(&done);
        })
        .map_err(|e| Error::Failed(e.to_string()))?;
        output::emit(match outcome {
            Cleared::Cleared => "clipboard cleared\n",
            Cleared::Replaced => "clipboard left alone: something else was copied since\n",
        })?;
        return Ok(exit::OK);
    }
    let pid = spawn_server(&key.key, secs).inspect_err(|e| {
        // The trail already says "copy": say it did not happen (best effort).
        let _ = opened.project.audit().append(
            Record::new("copy", Outcome::Failed)
                .env(&args.env)
                .new_fp(key.fingerprint.clone())
                .detail(e.to_string()),
        );
    })?;
    output::emit(&done.replace('\n', &format!(" (background process {pid})\n")))?;
    Ok(exit::OK)
}

/// Starts `keywarden clipboard-serve` in its own session and waits until it holds the key.
fn spawn_server(key: &Secret, secs: u64) -> Result<u32> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Failed(format!("cannot find keywarden's own program: {e}")))?;
    let mut cmd = Command::new(exe);
    cmd.args(["clipboard-serve", "--clear-after", &secs.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .current_dir("/");
    // Detached from the terminal, so closing it or Ctrl-C there does not end the copy
    // early.
    crate::sys::detach_into_new_session(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Failed(format!("cannot start the clipboard process: {e}")))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(key.expose_secret().as_bytes())
        .map_err(|e| Error::Failed(format!("cannot hand the key to the clipboard process: {e}")))?;
    drop(stdin);
    let mut answer = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    let _ = BufReader::new(stdout).read_line(&mut answer);
    if answer.trim() == READY {
        return Ok(child.id());
    }
    let _ = child.wait();
    Err(Error::Failed(
        answer
            .trim()
            .strip_prefix("error: ")
            .unwrap_or("the clipboard process ended without copying")
            .to_string(),
    ))
}

pub fn run_serve(args: ServeArgs) -> Result<u8> {
    let delay = clipboard::clear_after(Some(args.clear_after), None)
        .map_err(|e| Error::Usage(e.to_string()))?;
    // Sized up front: a growing buffer would leave unwiped copies of the key behind.
    let cap = 4 * crate::keys::generate::MAX_LENGTH;
    let mut bytes = Zeroizing::new(Vec::with_capacity(cap + 1));
    std::io::stdin()
        .take(cap as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::reading("<stdin>", "read", e))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::Usage("the key is not valid UTF-8".into()))?;
    let key = Secret::new(text.to_string());
    // This process lives for the whole delay holding the key: keep it out of swap.
    let locked = crate::sys::mlock(key.expose_secret().as_bytes());
    let _unlock = Unlock(locked.then_some(&key));
    let say = |line: &str| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    };
    match clipboard::serve(&key, delay, || say(READY)) {
        Ok(_) => Ok(exit::OK),
        Err(e) => {
            say(&format!("error: {e}"));
            Ok(exit::FAILED)
        }
    }
}

/// Unlocks the key's memory before it is wiped and freed.
struct Unlock<'a>(Option<&'a Secret>);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.0 {
            crate::sys::munlock(key.expose_secret().as_bytes());
        }
    }
}
