//! `keywarden` with no command (and `demo`): check that the interactive view can start,
//! open the project, and hand it to `main`, which starts the TUI beside this face.

use super::common::{self, Opened};
use crate::clipboard;
use crate::error::{Error, Result};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

/// What the interactive view needs, prepared by the command line.
pub struct Launch {
    pub opened: Opened,
    /// How long a copied key stays on the clipboard.
    pub clear_after: Duration,
    /// Printed once the view closes.
    pub farewell: Option<String>,
}

/// The clipboard delay from `--clear-after`, else `$KEYWARDEN_CLEAR_AFTER`, else 30 s.
pub fn clear_after(flag: Option<u64>) -> Result<Duration> {
    clipboard::clear_after(
        flag,
        std::env::var_os(clipboard::CLEAR_AFTER_ENV).as_deref(),
    )
    .map_err(|e| Error::Usage(e.to_string()))
}

/// The interactive view needs a terminal on both ends.
pub fn require_terminal() -> Result<()> {
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(Error::Usage(
        "the interactive view needs a terminal; for scripts use a command (`keywarden status`, `keywarden check`; `keywarden --help` lists them)".into(),
    ))
}

/// Prepares the interactive view of `project`.
pub fn prepare(project: Option<&Path>, clear_after_flag: Option<u64>) -> Result<Launch> {
    require_terminal()?;
    let clear_after = clear_after(clear_after_flag)?;
    let opened = common::open(project)?;
    super::passphrase::before_the_view(&opened.project);
    Ok(Launch {
        opened,
        clear_after,
        farewell: None,
    })
}
