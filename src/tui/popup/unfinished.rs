//! An unfinished rotation: what it is, why it stopped, and the choice — resume, roll
//! back, or later. Shown when a restart or verify fails, first thing at start when a
//! journal is waiting, and with `u` on the environment.

use super::super::keys::{self, Command, Scope};
use super::super::text;
use super::super::theme::Theme;
use crate::ops::command::CommandRun;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// Output lines of the failed command shown here.
const OUTPUT_LINES: usize = 6;

#[derive(Debug, Clone)]
pub struct Unfinished {
    pub env: String,
    /// `Journal::describe`.
    pub description: String,
    /// Whether the new key is already in the files.
    pub written: bool,
    /// The command that failed just now, if this follows a failure.
    pub stopped: Option<(String, CommandRun)>,
    /// `stopped` happened just now (not read from the journal at start).
    pub just_now: bool,
    /// Why it stopped when no command failed (an interruption), from the journal's step.
    pub why: Option<String>,
}

/// `exit 3`, `killed after the timeout`: the outcome without the duration.
fn outcome(run: &CommandRun) -> String {
    match (run.timed_out, run.exit_code) {
        (true, _) => "killed after the timeout".into(),
        (false, Some(c)) => format!("exit {c}"),
        (false, None) => "killed by a signal".into(),
    }
}

impl Unfinished {
    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(4).min(76);
        let text_width = usize::from(width.saturating_sub(4));
        let mut lines: Vec<Line> = Vec::new();
        if let Some((step, run)) = &self.stopped {
            let head = format!("{step} failed: `{}` ({})", run.command, outcome(run));
            lines.extend(
                text::wrap(&head, text_width)
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, theme.error))),
            );
            let out: Vec<&str> = run.output.lines().collect();
            for l in &out[out.len().saturating_sub(OUTPUT_LINES)..] {
                lines.push(Line::from(Span::styled(
                    text::fit_end(&format!("  | {l}"), text_width),
                    theme.dim,
                )));
            }
            lines.push(Line::default());
        }
        lines.extend(
            text::wrap(&self.description, text_width)
                .into_iter()
                .map(Line::from),
        );
        if let Some(why) = &self.why {
            lines.extend(text::wrap(why, text_width).into_iter().map(Line::from));
        }
        let state = if self.written {
            "The new key is in the files but not confirmed; the old one is in the backups."
        } else {
            "No file has been changed yet."
        };
        lines.extend(text::wrap(state, text_width).into_iter().map(Line::from));
        lines.push(Line::default());
        // The choices, from the key table.
        for b in keys::footer(Scope::Unfinished).filter(|b| b.command != Command::Quit) {
            let first = vec![Span::styled(format!("{:<6}", b.shown), theme.key)];
            lines.extend(text::hanging(first, b.help, theme.base, text_width, 6));
        }
        let height = (lines.len() as u16).saturating_add(2);
        let title = if self.just_now {
            format!(" {}: the rotation stopped ", self.env)
        } else {
            format!(" {}: unfinished rotation ", self.env)
        };
        let title = Line::from(Span::styled(title, theme.error));
        let inner = super::frame(theme, title, width, height, area, buf);
        Paragraph::new(lines).render(inner, buf);
    }
}
