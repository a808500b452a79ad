//! Reading a key from stdin: piped, or typed at a terminal with echo off.

use crate::error::{Error, Result};
use crate::keys::secret::Secret;
use crate::project::manifest::is_production;
use std::io::{IsTerminal, Read};
use zeroize::Zeroizing;

/// Reads one key from stdin. A single trailing newline (`\n` or `\r\n`) is dropped, as
/// `echo` and `pbpaste`-style tools add one; anything else stays part of the key.
pub fn read_key() -> Result<Secret> {
    let stdin = std::io::stdin();
    let mut buf = Zeroizing::new(Vec::new());
    if stdin.is_terminal() {
        eprint!("Paste the key, then press Enter (input hidden): ");
        let _echo = crate::sys::EchoOff::hide();
        let mut line = Zeroizing::new(String::new());
        stdin
            .read_line(&mut line)
            .map_err(|e| Error::reading("<stdin>", "read", e))?;
        eprintln!();
        buf.extend_from_slice(line.as_bytes());
    } else {
        // Sized up front, so no growing buffer leaves copies of the key behind, and
        // bounded: a key is at most 4,096 characters (4 bytes each), plus a newline.
        let cap = 4 * crate::keys::generate::MAX_LENGTH + 2;
        buf.reserve_exact(cap + 1);
        stdin
            .lock()
            .take(cap as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::reading("<stdin>", "read", e))?;
        if buf.len() > cap {
            return Err(Error::Usage(format!(
                "the key on stdin is longer than the maximum of {} characters",
                crate::keys::generate::MAX_LENGTH
            )));
        }
    }
    if buf.ends_with(b"\n") {
        buf.pop();
        if buf.ends_with(b"\r") {
            buf.pop();
        }
    }
    if buf.is_empty() {
        return Err(Error::Usage(
            "no key on stdin: pipe one in, e.g. `keywarden generate | keywarden analyze`".into(),
        ));
    }
    let text = std::str::from_utf8(&buf)
        .map_err(|_| Error::Usage("the key on stdin is not valid UTF-8".into()))?;
    Ok(Secret::new(text.to_string()))
}

/// Asks the user to confirm a change of `env`'s key. Production: type its name. Others,
/// when `always` is set (revocation): answer y. `--yes` skips; without a terminal and
/// without `--yes`, the change is refused.
pub fn confirm(env: &str, what: &str, yes: bool, always: bool) -> Result<()> {
    if yes || (!is_production(env) && !always) {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Usage(format!(
            "{what} {env} needs confirmation: run it at a terminal, or pass --yes"
        )));
    }
    let mut line = String::new();
    if is_production(env) {
        eprint!("{what} {env}: type the environment's name to confirm: ");
        stdin
            .read_line(&mut line)
            .map_err(|e| Error::reading("<stdin>", "read", e))?;
        if line.trim() != env {
            return Err(Error::Usage(format!(
                "not confirmed (expected `{env}`); nothing changed"
            )));
        }
    } else {
        eprint!("{what} {env}? [y/N] ");
        stdin
            .read_line(&mut line)
            .map_err(|e| Error::reading("<stdin>", "read", e))?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Err(Error::Usage("not confirmed; nothing changed".into()));
        }
    }
    Ok(())
}

/// A yes/no question at a terminal; `false` without one.
pub fn ask(question: &str) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    stdin.read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}
