//! The one place a key is drawn on screen: shown for a few seconds, then masked again.
//!
//! The key stays in a [`Secret`] (a zeroizing buffer, wiped when the popup closes or its
//! ten seconds end) and is exposed only here, at render time. Each frame draws it from
//! that buffer without a copy of its own: the lines are `Span`s borrowing slices of the
//! secret ([`text::chunks`] cuts without allocating).
//!
//! What ratatui copies, which keywarden cannot wipe: rendering writes each character into
//! a cell of the frame's `Buffer` (a `CompactString` per cell, inline for one character:
//! no heap allocation, but not zeroized), and ratatui keeps two buffers (this frame and
//! the last, to send only what changed). Both hold the key's characters while it is shown
//! and are overwritten by the frames drawn after the popup closes. The bytes then go to
//! the terminal through crossterm's output buffer (a `Vec` reused from frame to frame),
//! and the terminal emulator has its own copy of the screen.

use super::super::keys::Scope;
use super::super::text;
use super::super::theme::Theme;
use crate::keys::fingerprint::Fingerprint;
use crate::keys::secret::Secret;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::time::{Duration, Instant};

/// How long a revealed key stays on screen.
pub const REVEAL_FOR: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Reveal {
    pub env: String,
    pub source: String,
    pub fingerprint: Fingerprint,
    pub key: Secret,
    pub until: Instant,
}

impl Reveal {
    /// Whole seconds left on screen, rounded up.
    pub fn seconds_left(&self, now: Instant) -> u64 {
        let left = self.until.saturating_duration_since(now);
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }

    pub fn render(&self, theme: &Theme, now: Instant, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(4).min(74);
        let text_width = usize::from(width.saturating_sub(4));
        let mut lines = vec![
            Line::from(vec![
                Span::styled("from ", theme.dim),
                Span::raw(self.source.clone()),
                Span::styled(format!("  ({})", self.fingerprint), theme.dim),
            ]),
            Line::default(),
        ];
        for chunk in text::chunks(self.key.expose_secret(), text_width) {
            // Borrowed: the span points into the secret, no String is made.
            lines.push(Line::from(Span::styled(chunk, theme.secret)));
        }
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!("Hidden again in {} s.", self.seconds_left(now)),
            theme.dim,
        )));
        lines.push(super::hints(theme, Scope::Reveal));
        let height = (lines.len() as u16).saturating_add(2);
        let title = Line::from(Span::styled(
            format!(" {} · key revealed ", self.env),
            theme.error,
        ));
        let inner = super::frame(theme, title, width, height, area, buf);
        Paragraph::new(lines).render(inner, buf);
    }
}
