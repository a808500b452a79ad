//! `keywarden set` and `keywarden fix`: the two commands of this group that change files.

use super::common;
use super::input;
use super::output;
use crate::error::{Error, Result, exit};
use crate::ops::apply::{self, NewKey};
use std::path::Path;

/// Write one key to every file target of an environment.
///
/// With --generate, keywarden draws the key (manifest defaults: 64 characters of the guide's
/// charset) and redraws until every reader of every target (python-dotenv, Docker Compose,
/// a POSIX shell, TOML) reads it back exactly. With --stdin the key is read from standard
/// input; one that a reader would change is refused. Every file is backed up first; if one
/// target cannot be written, none is changed. The key is never printed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden set staging --generate\n  vault read -field=key secret/app | keywarden set production --stdin --yes"
)]
pub struct SetArgs {
    /// The environment (as named in keywarden.toml or by discovery).
    env: String,
    /// Generate a new key.
    #[arg(long, conflicts_with = "stdin", required_unless_present = "stdin")]
    generate: bool,
    /// Read the key from standard input (hidden when typed at a terminal). It must be
    /// 32 to 4,096 characters, like a generated one.
    #[arg(long)]
    stdin: bool,
    /// With --stdin: write the key even if its strength is critical (the audit trail
    /// records that it was forced).
    #[arg(long, requires = "stdin")]
    allow_weak: bool,
    /// Do not ask. Without it, replacing production's key asks for its name at a
    /// terminal, and writing to a file git tracks (the next commit would publish the key)
    /// asks first; with no terminal to ask at, both are refused.
    #[arg(long)]
    yes: bool,
    /// Print the outcome as JSON: environment, fingerprint, files written, unchanged and
    /// read-only, backup ids.
    #[arg(long)]
    json: bool,
}

/// Tighten the environment's files to mode 0600 (owner read/write only), as the guide asks.
///
/// With --line-endings, also rewrite its `.env` files that end lines in CRLF to LF (a shell
/// reads the key of a CRLF file with a trailing carriage return: KW113). Only the line
/// endings change; each file is backed up first.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden fix production\n  keywarden fix staging --line-endings"
)]
pub struct FixArgs {
    /// The environment.
    env: String,
    /// Also convert the environment's `.env` files from CRLF to LF line endings (asks
    /// first at a terminal).
    #[arg(long)]
    line_endings: bool,
    /// With --line-endings: do not ask for confirmation.
    #[arg(long, requires = "line_endings")]
    yes: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run_set(args: SetArgs, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let env = apply::environment(&opened.project, &args.env)?;
    // Asked before the key is read: with --stdin, stdin is the key.
    input::confirm(&args.env, "replace the key of", args.yes, false)?;
    let tracked = apply::tracked_by_git(&opened.project, env);
    if !tracked.is_empty() && !args.yes {
        let files = tracked.join(", ");
        let why = format!("git tracks {files}: the next commit would publish the new key");
        if !input::ask(&format!("{why}. Write it anyway?")) {
            return Err(Error::Usage(format!(
                "{why}; nothing changed. Untrack it first (`git rm --cached {}` and add it to .gitignore), or pass --yes to write it anyway",
                tracked[0]
            )));
        }
    }
    let new = if args.stdin {
        NewKey::Given {
            key: input::read_key()?,
            allow_weak: args.allow_weak,
        }
    } else {
        NewKey::Generate
    };
    let reason = if args.allow_weak {
        "set (--allow-weak: a key of critical strength forced)"
    } else {
        "set"
    };
    let out = apply::set_key(&opened.project, &opened.pepper, &args.env, new, reason)?;
    if args.json {
        output::print_json(&serde_json::json!({
            "environment": args.env,
            "fingerprint": out.fingerprint,
            "written": out.written,
            "unchanged": out.unchanged,
            "read_only": out.read_only,
            "backups": out.backups,
            "allow_weak": args.allow_weak,
        }))?;
        return Ok(exit::OK);
    }
    let mut text = format!(
        "{}: key {} written to {} file(s)\n",
        args.env,
        out.fingerprint,
        out.written.len()
    );
    for w in &out.written {
        if w.starts_with("vault:") {
            text.push_str(&format!(
                "  wrote      {w} (one new version, check-and-set)\n"
            ));
        } else {
            text.push_str(&format!("  wrote      {w} (mode 0600)\n"));
        }
    }
    for u in &out.unchanged {
        text.push_str(&format!("  unchanged  {u} (already holds this key)\n"));
    }
    for r in &out.read_only {
        text.push_str(&format!(
            "  not set    {r}: environment variables are read-only; update it where the service runs\n"
        ));
    }
    if !out.backups.is_empty() {
        text.push_str(&format!("  backups    {}\n", out.backups.join(", ")));
    }
    if args.allow_weak {
        text.push_str("  warning    --allow-weak: this key's strength may be critical; replace it with `keywarden rotate` soon\n");
    }
    text.push_str("Restart the application so it loads the new key.\n");
    output::emit(&text)?;
    Ok(exit::OK)
}

pub fn run_fix(args: FixArgs, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let mut text = String::new();
    let mut line_endings = serde_json::Value::Null;
    if args.line_endings {
        apply::environment(&opened.project, &args.env)?;
        input::confirm(
            &args.env,
            "Rewrite to LF line endings the .env files of",
            args.yes,
            true,
        )?;
        let le = apply::fix_line_endings(&opened.project, &args.env)?;
        line_endings = serde_json::json!({
            "converted": le.converted,
            "already_lf": le.already_lf,
            "backups": le.backups,
        });
        text.push_str(&format!(
            "{}: {} file(s) converted to LF line endings\n",
            args.env,
            le.converted.len()
        ));
        for c in &le.converted {
            text.push_str(&format!("  {c}: CRLF -> LF\n"));
        }
        for c in &le.already_lf {
            text.push_str(&format!("  {c}: already LF\n"));
        }
        if !le.backups.is_empty() {
            text.push_str(&format!("  backups    {}\n", le.backups.join(", ")));
        }
    }
    let out = apply::fix_permissions(&opened.project, &args.env)?;
    if args.json {
        let tightened: Vec<serde_json::Value> = out
            .tightened
            .iter()
            .map(|(t, before)| serde_json::json!({ "target": t, "mode_before": before }))
            .collect();
        output::print_json(&serde_json::json!({
            "environment": args.env,
            "tightened": tightened,
            "already_private": out.already_private,
            "missing": out.missing,
            "line_endings": line_endings,
        }))?;
        return Ok(exit::OK);
    }
    text.push_str(&format!(
        "{}: {} file(s) tightened\n",
        args.env,
        out.tightened.len()
    ));
    for (t, before) in &out.tightened {
        text.push_str(&format!("  {t}: {before} -> 0600\n"));
    }
    for t in &out.already_private {
        text.push_str(&format!("  {t}: already 0600 or stricter\n"));
    }
    for t in &out.missing {
        text.push_str(&format!("  {t}: does not exist (nothing to fix)\n"));
    }
    output::emit(&text)?;
    Ok(exit::OK)
}
