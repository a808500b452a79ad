//! The `keywarden` binary: parse the command line, dispatch to one of the two faces (a
//! command, or the interactive view), turn errors into exit codes.

#![forbid(unsafe_code)]

use clap::Parser;
use keywarden::cli::{self, Cli, Launch, Outcome};
use keywarden::error::{Result, exit};
use keywarden::tui::{self, Session, Settings, Theme};
use std::process::ExitCode;

/// A status of a thousand environments makes and frees a few hundred thousand small
/// values on two or more threads; mimalloc's thread-local heaps do that in about four
/// fifths of glibc's time (the README's *Speed* section has the figures). Keys are wiped
/// before they are freed, whatever the allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before any key is read: no core dump, no ptrace by the same user.
    keywarden::sys::no_core_dumps();
    let args = Cli::parse();
    let result = cli::run(args).and_then(|outcome| match outcome {
        Outcome::Exit(code) => Ok(code),
        Outcome::Interactive(launch) => interactive(*launch),
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("keywarden: error: {}", cli::words::error(&err));
            ExitCode::from(err.exit_code())
        }
    }
}

/// The TUI on the project the command line opened.
fn interactive(launch: Launch) -> Result<u8> {
    let Launch {
        opened,
        clear_after,
        farewell,
    } = launch;
    let session = Session {
        project: opened.project,
        pepper: opened.pepper,
    };
    let settings = Settings {
        theme: Theme::from_env(),
        clear_after,
    };
    tui::run(session, settings)?;
    if let Some(text) = farewell {
        cli::emit(&text)?;
    }
    Ok(exit::OK)
}
