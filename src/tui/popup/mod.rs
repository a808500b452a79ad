//! Popups: one modal a file, drawn over the main view. The popup in front decides which
//! keys work ([`Popup::scope`]).

mod audit;
mod backups;
mod confirm;
mod help;
mod input;
mod menu;
mod message;
mod pager;
mod passphrase;
mod reveal;
mod timeline;
mod unfinished;

pub use audit::AuditTrail;
pub use backups::{BackupRow, Backups};
pub use confirm::Confirm;
pub use help::Help;
pub use input::Input;
pub use menu::{Menu, MenuItem};
pub use message::Message;
pub use pager::Pager;
pub use passphrase::{MAX_PASSPHRASE, Passphrase};
pub use reveal::{REVEAL_FOR, Reveal};
pub use timeline::{Timeline, TimelineRow};
pub use unfinished::Unfinished;

use super::keys::{self, Scope};
use super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Widget};
use std::time::Instant;

pub enum Popup {
    Help(Help),
    Confirm(Confirm),
    Input(Input),
    Reveal(Reveal),
    Message(Message),
    Unfinished(Unfinished),
    Backups(Backups),
    Audit(AuditTrail),
    Menu(Menu),
    Passphrase(Passphrase),
    Pager(Pager),
    Timeline(Timeline),
}

impl Popup {
    pub fn scope(&self) -> Scope {
        match self {
            Popup::Help(_) => Scope::Help,
            Popup::Confirm(c) => c.scope(),
            Popup::Input(_) => Scope::Typing,
            Popup::Reveal(_) => Scope::Reveal,
            Popup::Message(_) => Scope::Message,
            Popup::Unfinished(_) => Scope::Unfinished,
            Popup::Backups(_) => Scope::Backups,
            Popup::Audit(_) => Scope::Audit,
            Popup::Menu(_) => Scope::Menu,
            Popup::Passphrase(_) => Scope::Typing,
            Popup::Pager(_) => Scope::Help,
            Popup::Timeline(_) => Scope::Help,
        }
    }

    pub fn render(&self, theme: &Theme, now: Instant, area: Rect, buf: &mut Buffer) {
        match self {
            Popup::Help(p) => p.render(theme, area, buf),
            Popup::Confirm(p) => p.render(theme, area, buf),
            Popup::Input(p) => p.render(theme, area, buf),
            Popup::Reveal(p) => p.render(theme, now, area, buf),
            Popup::Message(p) => p.render(theme, area, buf),
            Popup::Unfinished(p) => p.render(theme, area, buf),
            Popup::Backups(p) => p.render(theme, area, buf),
            Popup::Audit(p) => p.render(theme, area, buf),
            Popup::Menu(p) => p.render(theme, area, buf),
            Popup::Passphrase(p) => p.render(theme, area, buf),
            Popup::Pager(p) => p.render(theme, area, buf),
            Popup::Timeline(p) => p.render(theme, area, buf),
        }
    }
}

/// Clears a centred box of at most `width` × `height` inside `area`, draws its frame with
/// `title`, and returns the inside.
pub(crate) fn frame(
    theme: &Theme,
    title: Line<'_>,
    width: u16,
    height: u16,
    area: Rect,
    buf: &mut Buffer,
) -> Rect {
    let outer = area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    );
    // A blank column either side: what is behind does not run into the frame as cut
    // fragments of words.
    let margin = Rect {
        x: outer.x.saturating_sub(1).max(area.x),
        width: (outer.width + 2).min(area.width),
        ..outer
    };
    Clear.render(margin.intersection(area), buf);
    Clear.render(outer, buf);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.popup_border)
        .style(theme.base)
        .title(title);
    let inner = block.inner(outer);
    block.render(outer, buf);
    inner.inner(ratatui::layout::Margin::new(1, 0))
}

/// The key hints of `scope`, from the key table, as one line.
pub(crate) fn hints(theme: &Theme, scope: Scope) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, b) in keys::footer(scope).enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim));
        }
        spans.push(Span::styled(b.shown, theme.key));
        let what = b.footer.unwrap_or_default();
        spans.push(Span::styled(format!(" {what}"), theme.key_label));
    }
    Line::from(spans)
}
