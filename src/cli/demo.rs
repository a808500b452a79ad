//! `keywarden demo`: make the Baguette Metro demo project, then open it.

use super::output;
use crate::error::{Result, exit};
use crate::project::demo;
use std::path::PathBuf;
use std::time::SystemTime;

/// Create the demo project (a Streamlit + FastAPI app with every mistake the guide warns
/// about) and open it in the TUI.
///
/// Without DIR the demo goes to a new temporary folder, which is left in place. Nothing in
/// it is a real secret: the keys are the guide's published examples.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  keywarden demo\n  keywarden demo ./baguette-metro --no-tui")]
pub struct Args {
    /// Where to create it: a new or empty folder (default: a new temporary folder).
    dir: Option<PathBuf>,
    /// Only create it; print where and how to look at it.
    #[arg(long)]
    no_tui: bool,
}

pub fn run(args: Args, clear_after: Option<u64>) -> Result<super::Outcome> {
    // Check what the view needs before writing anything.
    let delay = if args.no_tui {
        None
    } else {
        super::interactive::require_terminal()?;
        Some(super::interactive::clear_after(clear_after)?)
    };
    let made = match &args.dir {
        Some(dir) => demo::create(dir, SystemTime::now())?,
        None => demo::create_temporary(SystemTime::now())?,
    };
    let root = made.root.display().to_string();
    let mut text = format!("Created the Baguette Metro demo project in {root}\n");
    if let Some(problem) = &made.git_problem {
        text.push_str(&format!(
            "  (no git repository: {problem}; the git findings will be missing)\n"
        ));
    }
    if delay.is_none() {
        text.push_str(&format!(
            "Look at it with:\n  keywarden --project {root} status\n  keywarden --project {root}\n"
        ));
        output::emit(&text)?;
        return Ok(super::Outcome::Exit(exit::OK));
    }
    output::emit(&text)?;
    let mut launch = super::interactive::prepare(Some(&made.root), clear_after)?;
    launch.farewell = Some(format!(
        "The demo project stays in {root} (remove it with: rm -rf {root})\n"
    ));
    Ok(super::Outcome::Interactive(Box::new(launch)))
}
