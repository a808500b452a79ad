//! The interactive TUI (ratatui + crossterm): environments on the left, the selected one's
//! targets, findings and checklist on the right, the keys that work at the bottom.
//!
//! Shaped after ratatui's demo2 and gitui: [`App::run`] is a plain loop (draw, poll an
//! event or a job with a timeout, update); views only read the state
//! (`impl Widget for &App`); one [`Action`] enum is handled in one place
//! (`App::update`); one key table ([`keys::BINDINGS`]) feeds key handling, the footer and
//! the help; popups are one a file; colours live in [`theme`]; slow work runs on threads
//! ([`jobs`]). The core below knows nothing of this module.
//!
//! A key is never drawn except in the reveal popup, which hides it after a few seconds.

mod action;
mod alerts;
mod app;
mod autorefresh;
pub mod copy_menu;
mod incident_flow;
pub mod jobs;
pub mod keys;
pub mod popup;
mod rotation_flow;
mod scan_feed;
mod session;
mod text;
pub mod theme;
mod update;
mod view;
mod watch_trail;
pub mod wizard;
pub mod words;
pub mod write_diff;

pub use action::{Action, StepAction};
pub use app::{App, Focus, Mode, Settings};
pub use jobs::{Job, JobEvent};
pub use popup::MAX_PASSPHRASE;
pub use session::Session;
pub use theme::Theme;

use crate::error::{Error, Result};
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};

/// Runs the TUI on the terminal until the user quits; the terminal is restored on every
/// way out, a panic included.
pub fn run(session: Session, settings: Settings) -> Result<()> {
    // Read the project before touching the terminal, so an error prints normally.
    let mut app = App::new(session, settings)?;
    app.start_scan();
    let mut terminal = ratatui::init();
    // ratatui's hook restores the screen on panic; mouse capture must be released too.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        hook(info);
    }));
    let result =
        execute!(std::io::stdout(), EnableMouseCapture).and_then(|()| app.run(&mut terminal));
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    let parting = result.map_err(|e| Error::Failed(format!("the terminal failed: {e}")))?;
    for line in parting {
        eprintln!("keywarden: {line}");
    }
    Ok(())
}

/// After a panic on a job thread the hook has restored the terminal: enter the TUI's
/// screen again and redraw everything.
fn take_terminal_back(terminal: &mut DefaultTerminal) -> std::io::Result<()> {
    enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    terminal.clear()
}
