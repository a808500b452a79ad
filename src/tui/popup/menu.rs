//! A choice from a short list: the incident picker (`i`), and the open incidents offered
//! at start. Each item leads to an [`Action`].

use super::super::action::Action;
use super::super::keys::Scope;
use super::super::text;
use super::super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub struct MenuItem {
    pub label: String,
    pub detail: String,
    pub action: Action,
}

pub struct Menu {
    pub title: String,
    pub intro: String,
    pub items: Vec<MenuItem>,
    pub selected: usize,
}

impl Menu {
    pub fn move_by(&mut self, by: i32) {
        let last = self.items.len().saturating_sub(1) as i64;
        self.selected = (self.selected as i64 + i64::from(by)).clamp(0, last) as usize;
    }

    /// The chosen item's action (the menu is consumed: it closes).
    pub fn choose(mut self) -> Option<Action> {
        (self.selected < self.items.len()).then(|| self.items.swap_remove(self.selected).action)
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(4).min(76);
        let w = usize::from(width.saturating_sub(4));
        let mut lines: Vec<Line> = text::wrap(&self.intro, w)
            .into_iter()
            .map(Line::from)
            .collect();
        lines.push(Line::default());
        // Where the selected item's lines are, to keep them in view.
        let mut selected_at = (0, 0);
        for (i, item) in self.items.iter().enumerate() {
            let selected = i == self.selected;
            let start = lines.len();
            // The label wraps: nothing of it is cut.
            for (j, l) in text::wrap_hanging(&item.label, w.saturating_sub(2), w.saturating_sub(4))
                .into_iter()
                .enumerate()
            {
                let lead = match (j, selected) {
                    (0, true) => "› ",
                    (0, false) => "  ",
                    _ => "    ",
                };
                let line = Line::from(vec![Span::styled(lead, theme.key), Span::raw(l)]);
                lines.push(if selected {
                    theme.highlight(line)
                } else {
                    line
                });
            }
            if !item.detail.is_empty() {
                lines.extend(
                    text::wrap(&item.detail, w.saturating_sub(4))
                        .into_iter()
                        .map(|l| Line::from(Span::styled(format!("    {l}"), theme.dim))),
                );
            }
            if selected {
                selected_at = (start, lines.len());
            }
        }
        let tail = [Line::default(), super::hints(theme, Scope::Menu)];
        // Taller than the screen: the items scroll to keep the selected one in view; the
        // keys always show, and a line says which part shows.
        let room = usize::from(area.height.saturating_sub(2)).saturating_sub(tail.len());
        if lines.len() > room {
            let shown = room.saturating_sub(1).max(1);
            let (start, end) = selected_at;
            let from = end.saturating_sub(shown).min(start);
            let total = lines.len();
            let mut v: Vec<Line> = lines.into_iter().skip(from).take(shown).collect();
            v.push(Line::from(Span::styled(
                format!(
                    "↑/↓ more: lines {}–{} of {total}",
                    from + 1,
                    (from + shown).min(total)
                ),
                theme.key,
            )));
            lines = v;
        }
        lines.extend(tail);
        let height = (lines.len() as u16).saturating_add(2);
        let title = Line::from(Span::styled(format!(" {} ", self.title), theme.title));
        let inner = super::frame(theme, title, width, height, area, buf);
        Paragraph::new(lines).render(inner, buf);
    }
}
