//! The one place a key is drawn on screen: shown for a few seconds, then masked again.
//!
//! The key stays in a [`Secret`] (wiped on drop) and is exposed only here, at render time.

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
