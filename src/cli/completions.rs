//! `keywarden completions SHELL` and `keywarden man`: generated from the same definitions
//! as `--help`, so they never drift from the commands.

use super::Cli;
use crate::error::{Error, Result, exit};
use clap::CommandFactory;

/// Print a shell completion script.
///
/// Load it for this shell only with `source <(keywarden completions bash)`, or install it
/// where your shell looks for completions.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  source <(keywarden completions bash)\n  keywarden completions zsh > \"${fpath[1]}/_keywarden\"\n  keywarden completions fish > ~/.config/fish/completions/keywarden.fish"
)]
pub struct Args {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Print a manual page (roff), generated from the commands' help: keywarden(1), or with a
/// command, its own page, keywarden-COMMAND(1).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden man | man -l -\n  keywarden man rotate | man -l -\n  for c in '' $(keywarden man --list); do keywarden man $c > keywarden${c:+-$c}.1; done"
)]
pub struct ManArgs {
    /// The command whose page to print.
    command: Option<String>,
    /// List the commands that have a page of their own, one a line.
    #[arg(long, conflicts_with = "command")]
    list: bool,
}

pub fn run(args: Args) -> Result<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "keywarden", &mut out);
    super::output::emit(&String::from_utf8_lossy(&out))?;
    Ok(exit::OK)
}

pub fn run_man(args: ManArgs) -> Result<u8> {
    let top = Cli::command();
    let visible = || top.get_subcommands().filter(|s| !s.is_hide_set());
    if args.list {
        let names: Vec<&str> = visible().map(|s| s.get_name()).collect();
        super::output::emit(&format!("{}\n", names.join("\n")))?;
        return Ok(exit::OK);
    }
    let cmd = match &args.command {
        None => top.clone(),
        Some(name) => {
            let Some(sub) = visible().find(|s| s.get_name() == name) else {
                let names: Vec<&str> = visible().map(|s| s.get_name()).collect();
                return Err(Error::Usage(format!(
                    "no command `{name}`; the pages are: {}",
                    names.join(", ")
                )));
            };
            sub.clone().name(format!("keywarden-{name}"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Error::Failed(format!("rendering the manual page: {e}")))?;
    super::output::emit(&String::from_utf8_lossy(&out))?;
    Ok(exit::OK)
}
