//! The backups' passphrase, asked inside the view: an action that reads backups (restore,
//! rollback, resume, the lost-key playbook's backup check) needs the installation's
//! identity, and when it is a passphrase-protected file with no `KEYWARDEN_PASSPHRASE_FILE`,
//! this popup asks for it instead of failing or touching the terminal behind ratatui.
//!
//! What is typed goes into a zeroizing buffer sized up front (a growing `String` would
//! leave copies behind at each reallocation; input past its capacity is refused) and is
//! never drawn, not even as one mark per character: the screen shows only that input is
//! hidden. Esc cancels (the buffer is wiped on drop); a wrong passphrase says so and asks
//! again.

use super::super::jobs::Job;
use super::super::keys::Scope;
use super::super::text;
use super::super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The longest passphrase the popup takes (bytes): the buffer never grows.
pub const MAX_PASSPHRASE: usize = 1024;

pub struct Passphrase {
    /// The identity file the passphrase opens.
    pub identity_file: PathBuf,
    /// What was typed; never drawn.
    typed: Zeroizing<String>,
    /// Wrong passphrases given so far.
    pub wrong: u32,
    /// Enter was pressed with nothing typed.
    pub empty: bool,
    /// The input reached [`MAX_PASSPHRASE`].
    pub full: bool,
    /// What runs once the identity is open.
    pub then: Job,
    /// Asked only to hide the backups' retired and revoked keys from the output of the
    /// commands `then` runs (it reads no backup itself).
    pub hiding: bool,
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passphrase")
            .field("identity_file", &self.identity_file)
            .field("wrong", &self.wrong)
            .field("then", &self.then)
            .finish_non_exhaustive()
    }
}

impl Passphrase {
    pub fn new(identity_file: PathBuf, then: Job) -> Passphrase {
        Passphrase {
            identity_file,
            typed: Zeroizing::new(String::with_capacity(MAX_PASSPHRASE)),
            wrong: 0,
            empty: false,
            full: false,
            then,
            hiding: false,
        }
    }

    /// Asked so that the backups' retired and revoked keys are hidden from the output of
    /// the restart, verify or notify commands the job runs.
    pub fn for_hiding(mut self) -> Passphrase {
        self.hiding = true;
        self
    }

    /// A typed character (`None`: backspace). Never reallocates.
    pub fn type_char(&mut self, c: Option<char>) {
        self.empty = false;
        match c {
            Some(c) if c.is_control() => {}
            Some(c) if self.typed.len() + c.len_utf8() > MAX_PASSPHRASE => self.full = true,
            Some(c) => self.typed.push(c),
            None => {
                self.full = false;
                self.typed.pop();
            }
        }
    }

    /// Takes what was typed, leaving a fresh empty buffer (for the next try).
    pub fn take(&mut self) -> Zeroizing<String> {
        std::mem::replace(
            &mut self.typed,
            Zeroizing::new(String::with_capacity(MAX_PASSPHRASE)),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.typed.is_empty()
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(4).min(70);
        let text_width = usize::from(width.saturating_sub(4));
        let what = self.then.describe();
        let prompt = if self.hiding {
            format!(
                "{what} runs restart, verify or notify commands. To hide the retired and revoked keys kept in the encrypted backups from their output, keywarden opens the backups, and their identity, {}, is locked by a passphrase. Type it to unlock it for this action (Esc cancels; nothing changes):",
                self.identity_file.display()
            )
        } else {
            format!(
                "{what} reads the backups, and their identity, {}, is locked by a passphrase. Type it to unlock it for this action:",
                self.identity_file.display()
            )
        };
        let mut lines: Vec<Line> = text::wrap(&prompt, text_width)
            .into_iter()
            .map(Line::from)
            .collect();
        lines.push(Line::default());
        let shown = if self.is_empty() {
            "(input hidden)"
        } else {
            "(input hidden, not shown)"
        };
        lines.push(Line::from(vec![
            Span::styled("> ", theme.key),
            Span::styled(shown, theme.dim),
            Span::styled("█", theme.input),
        ]));
        if self.wrong > 0 {
            lines.push(Line::from(Span::styled(
                "That passphrase does not open it; try again.",
                theme.error,
            )));
        }
        if self.empty {
            lines.push(Line::from(Span::styled(
                "Type the passphrase, or Esc to cancel.",
                theme.error,
            )));
        }
        if self.full {
            lines.push(Line::from(Span::styled(
                format!("A passphrase is at most {MAX_PASSPHRASE} bytes."),
                theme.error,
            )));
        }
        lines.push(Line::default());
        lines.push(super::hints(theme, Scope::Typing));
        let height = (lines.len() as u16).saturating_add(2);
        let title = Line::from(Span::styled(" Backups' passphrase ", theme.title));
        let inner = super::frame(theme, title, width, height, area, buf);
        Paragraph::new(lines).render(inner, buf);
    }
}
