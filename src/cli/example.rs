//! `keywarden example ENV`: write or update the environment's example files.

use super::common;
use super::output;
use crate::error::Result;
use crate::scanning::example;
use std::path::Path;

/// Write or update the environment's example files (`.env.example` beside `.env`,
/// `secrets.toml.example` beside `secrets.toml`): each key name with the placeholder
/// `change-me`, every other line kept. An example file is meant to be committed: one git
/// ignores is refused.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden example development\n  keywarden example production --dry-run"
)]
pub struct Args {
    /// The environment.
    env: String,
    /// Say what would be written, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let planned = example::plan(&opened.project, &args.env)?;
    if !args.dry_run {
        for p in &planned {
            if let Some(w) = &p.write {
                w.commit()?;
            }
        }
    }
    for p in planned.iter().filter(|p| p.held_key) {
        eprintln!(
            "warning: {} held the key of {}: it is published wherever that file was committed (git history, forks, CI logs); rotate it: keywarden rotate {}",
            p.path.display(),
            args.env,
            args.env
        );
    }
    let verb = if args.dry_run { "would write" } else { "wrote" };
    if args.json {
        let files: Vec<serde_json::Value> = planned
            .iter()
            .map(|p| {
                serde_json::json!({
                    "path": p.path,
                    "key": p.key,
                    "changed": p.write.is_some(),
                    "held_key": p.held_key,
                })
            })
            .collect();
        output::print_json(&serde_json::json!({
            "environment": args.env,
            "dry_run": args.dry_run,
            "placeholder": example::PLACEHOLDER,
            "files": files,
        }))?;
    } else {
        let mut text = String::new();
        for p in &planned {
            match &p.write {
                Some(_) => text.push_str(&format!(
                    "{verb} {}: {} = {}\n",
                    p.path.display(),
                    p.key,
                    example::PLACEHOLDER
                )),
                None => text.push_str(&format!("{}: already up to date\n", p.path.display())),
            }
        }
        if planned.is_empty() {
            text.push_str(&format!(
                "{} has no file targets: no example file to write\n",
                args.env
            ));
        }
        output::emit(&text)?;
    }
    Ok(crate::error::exit::OK)
}
