//! The command line: one file per command group, each a thin face over the core.

mod analyze;
mod audit;
mod backups;
pub mod common;
mod completions;
mod copy;
mod demo;
mod example;
mod generate;
mod incident;
mod init;
mod input;
mod interactive;
mod output;
mod passphrase;
mod rotate;
mod run;
mod sarif;
mod scan;
mod set;
mod status;
mod watch;
pub mod words;

use crate::error::Result;
use clap::{Parser, Subcommand};
pub use interactive::Launch;
pub use output::emit;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit codes: 0 success; 1 a failed action, or a finding at or above --fail-on (check, analyze);
2 bad usage, manifest or input; 3 another keywarden process holds the project's lock.

A key is never read from the command line: use --stdin or let keywarden generate it.";

#[derive(Debug, Parser)]
#[command(
    name = "keywarden",
    version,
    about = "Checks, generates and rotates the SECRET_KEY of web apps (.env, secrets.toml, env vars)",
    long_about = "Checks, generates and rotates the SECRET_KEY of web apps (.env, secrets.toml, env vars).\n\nWithout a command, keywarden opens its interactive view of the project (press ? there for the keys). New here? Try `keywarden demo`.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The project folder (default: the nearest folder above the current one that holds
    /// keywarden.toml, else the current folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,

    /// Seconds before a key copied in the interactive view leaves the clipboard (1 to 3600;
    /// default 30, or $KEYWARDEN_CLEAR_AFTER).
    #[arg(long, value_name = "SECONDS")]
    pub clear_after: Option<u64>,

    /// Without a command: the interactive view.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the Baguette Metro demo project and open it.
    Demo(demo::Args),
    /// Write keywarden.toml from what discovery finds.
    Init(init::Args),
    /// Show every environment's targets, key fingerprint, age, strength and findings.
    Status(status::StatusArgs),
    /// Exit 1 when a finding is at or above --fail-on (for CI, cron, pre-commit).
    Check(status::CheckArgs),
    /// Print new random keys (the only command that prints keys).
    Generate(generate::Args),
    /// Judge the strength of one key read from stdin.
    Analyze(analyze::Args),
    /// Write a generated or given key to every file of an environment.
    Set(set::SetArgs),
    /// Tighten an environment's files to mode 0600.
    Fix(set::FixArgs),
    /// Replace an environment's key: create, set, restart, verify, finish (journaled).
    Rotate(rotate::RotateArgs),
    /// Revoke a compromised key: rotate at once, no grace, never accept it again.
    Revoke(rotate::RevokeArgs),
    /// List the backups of files and keys.
    Backups(backups::BackupsArgs),
    /// Put a backed-up key or file back.
    Restore(backups::RestoreArgs),
    /// Show or verify the tamper-evident audit trail.
    Audit(audit::Args),
    /// Follow the compromised-key or lost-key playbook step by step.
    Incident(incident::Args),
    /// Start a command with an environment's key in its environment (never on argv).
    ///
    /// The key is read from the environment's targets (the store included; they must
    /// agree). CMD's exit code is keywarden's (128+N when signal N killed it); SIGTERM,
    /// SIGINT and SIGHUP are forwarded to it. Its output is its own, untouched, unless
    /// --redact. The backups' passphrase file (KEYWARDEN_PASSPHRASE_FILE) and the store's
    /// token (BAO_TOKEN, VAULT_TOKEN) are not passed down.
    Run(run::Args),
    /// Look for keys in source files and git history.
    Scan(scan::Args),
    /// Follow logs and targets; alert on signature errors, exposed keys, due rotations.
    Watch(watch::Args),
    /// Write or update the environment's example files (.env.example), key names with a placeholder.
    Example(example::Args),
    /// Copy an environment's key to the clipboard, cleared after 30 s.
    Copy(copy::Args),
    /// Print a completion script for bash, zsh, fish, elvish or PowerShell.
    Completions(completions::Args),
    /// Print the manual page (roff).
    Man(completions::ManArgs),
    /// (internal) Serve a key on the clipboard for `copy`; reads it from stdin.
    #[command(hide = true)]
    ClipboardServe(copy::ServeArgs),
}

/// How a command ended: with an exit code, or with the interactive view to open (which
/// `main` starts: the TUI is the other face, not a part of this one).
pub enum Outcome {
    Exit(u8),
    Interactive(Box<Launch>),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<Outcome> {
    let project = cli.project.as_deref();
    let Some(command) = cli.command else {
        return interactive::prepare(project, cli.clear_after)
            .map(|l| Outcome::Interactive(Box::new(l)));
    };
    match command {
        Command::Demo(args) => return demo::run(args, cli.clear_after),
        // Nothing of the project or the backups: printed from the definitions alone.
        Command::Completions(args) => return completions::run(args).map(Outcome::Exit),
        Command::Man(args) => return completions::run_man(args).map(Outcome::Exit),
        _ => {}
    }
    crate::records::crypt::set_prompt(Some(std::sync::Arc::new(passphrase::TerminalPrompt)));
    // One command is one operation: the backups' identity, once opened, serves all of it
    // (one question) and is dropped and wiped when it ends.
    let _identity = crate::records::crypt::hold();
    run_command(command, project).map(Outcome::Exit)
}

fn run_command(command: Command, project: Option<&std::path::Path>) -> Result<u8> {
    match command {
        Command::Demo(_) | Command::Completions(_) | Command::Man(_) => {
            unreachable!("handled by run")
        }
        Command::Copy(args) => copy::run(args, project),
        Command::ClipboardServe(args) => copy::run_serve(args),
        Command::Init(args) => init::run(args, project),
        Command::Status(args) => status::run_status(args, project),
        Command::Check(args) => status::run_check(args, project),
        Command::Generate(args) => generate::run(args, project),
        Command::Analyze(args) => analyze::run(args),
        Command::Set(args) => set::run_set(args, project),
        Command::Fix(args) => set::run_fix(args, project),
        Command::Rotate(args) => rotate::run_rotate(args, project),
        Command::Revoke(args) => rotate::run_revoke(args, project),
        Command::Backups(args) => backups::run_backups(args, project),
        Command::Restore(args) => backups::run_restore(args, project),
        Command::Audit(args) => audit::run(args, project),
        Command::Incident(args) => incident::run(args, project),
        Command::Scan(args) => scan::run(args, project),
        Command::Example(args) => example::run(args, project),
        Command::Run(args) => run::run(args, project),
        Command::Watch(args) => watch::run(args, project),
    }
}
