//! `o`: everything the panes may cut, whole and wrapped: the activity (every line kept),
//! the selected environment's targets and findings with their fixes, the wizard's step
//! result. Scrolls like the help.

use super::super::text;
use super::super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::cell::Cell;

#[derive(Debug, Clone, Default)]
pub struct Pager {
    /// Sections: a heading and its entries, each shown whole.
    pub sections: Vec<(String, Vec<String>)>,
    pub scroll: u16,
    /// The furthest scroll that still shows text, as last drawn.
    pub max_scroll: Cell<u16>,
}

impl Pager {
    fn lines(&self, theme: &Theme, width: usize) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        for (heading, entries) in &self.sections {
            if !lines.is_empty() {
                lines.push(Line::default());
            }
            lines.push(Line::from(Span::styled(heading.clone(), theme.heading)));
            if entries.is_empty() {
                lines.push(Line::from(Span::styled("  none", theme.dim)));
            }
            for e in entries {
                let (first, rest) = (width.saturating_sub(2), width.saturating_sub(4));
                for (i, l) in text::wrap_hanging(e, first, rest).into_iter().enumerate() {
                    let lead = if i == 0 { "  " } else { "    " };
                    lines.push(Line::from(format!("{lead}{l}")));
                }
            }
        }
        lines
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let title = Line::from(vec![
            Span::styled(" Whole text ", theme.title),
            Span::styled("(↑↓ PgUp PgDn scroll · Esc close) ", theme.dim),
        ]);
        let width = area.width.saturating_sub(2);
        let inner = super::frame(
            theme,
            title,
            width,
            area.height.saturating_sub(2),
            area,
            buf,
        );
        let lines = self.lines(theme, usize::from(inner.width));
        let max = (lines.len() as u16).saturating_sub(inner.height);
        self.max_scroll.set(max);
        Paragraph::new(lines)
            .scroll((self.scroll.min(max), 0))
            .render(inner, buf);
    }
}
