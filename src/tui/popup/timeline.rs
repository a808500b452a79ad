//! `t`: the guide's "calendrier de rotation" drawn — every environment's key age against
//! its rotation policy, as a horizontal bar chart (ratatui's `BarChart`): per environment
//! a bar of the key's age, coloured by how due it is, and under it a bar of its policy's
//! period on the same scale; then the same in words. The data is the status's (as
//! `keywarden status --timeline`).

use super::super::text;
use super::super::theme::Theme;
use crate::ops::status::EnvStatus;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, Paragraph, Widget};
use std::cell::Cell;

/// One environment's place in the calendar.
#[derive(Debug, Clone)]
pub struct TimelineRow {
    pub name: String,
    /// Days since the key was set; `None` when unknown.
    pub age_days: Option<i64>,
    /// The age is a lower bound (from file times).
    pub at_least: bool,
    /// The policy's period in days; 0: rotate on major changes only.
    pub every_days: u32,
    /// Days left before rotation is due (negative: overdue).
    pub due_days: Option<i64>,
}

impl TimelineRow {
    pub fn of(e: &EnvStatus) -> TimelineRow {
        TimelineRow {
            name: e.name.clone(),
            age_days: e.age_days,
            at_least: e.age_source == "mtime",
            every_days: e.rotate_every_days,
            due_days: e.rotation_due_days,
        }
    }

    fn age(&self) -> String {
        match self.age_days {
            Some(d) if self.at_least => format!("≥{d}d"),
            Some(d) => format!("{d}d"),
            None => "age unknown".into(),
        }
    }

    /// The row in words: age, policy, when due.
    pub fn words(&self) -> String {
        let age = match self.age_days {
            Some(d) if self.at_least => format!("at least {d} days old (file times)"),
            Some(d) => format!("{d} days old"),
            None => "age unknown (no record of when the key was set, no file times)".into(),
        };
        let policy = match self.every_days {
            0 => "rotated on major changes (no schedule)".to_string(),
            d => format!("rotated every {d} days"),
        };
        let due = match self.due_days {
            Some(d) if d < 0 => format!(": overdue by {} days", -d),
            Some(0) => ": due today".into(),
            Some(d) => format!(": due in {d} days"),
            None => String::new(),
        };
        format!("{}: {age}, {policy}{due}", self.name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub rows: Vec<TimelineRow>,
    pub scroll: u16,
    pub max_scroll: Cell<u16>,
}

impl Timeline {
    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let title = Line::from(vec![
            Span::styled(" Rotation calendar ", theme.title),
            Span::styled(
                "(calendrier de rotation · ↑↓ scroll · Esc close) ",
                theme.dim,
            ),
        ]);
        let inner = super::frame(
            theme,
            title,
            area.width.saturating_sub(2),
            area.height.saturating_sub(2),
            area,
            buf,
        );
        let width = usize::from(inner.width);
        let mut wrapped: Vec<Line> = text::wrap(
            "Each environment: its key's age (green on time, red overdue), then its policy's period, on one scale.",
            width,
        )
        .into_iter()
        .map(|w| Line::from(Span::styled(w, theme.dim)))
        .collect();
        for r in &self.rows {
            let style = match r.due_days {
                Some(d) if d < 0 => theme.bad,
                _ => theme.ok,
            };
            for (i, w) in text::wrap_hanging(&r.words(), width, width.saturating_sub(2))
                .into_iter()
                .enumerate()
            {
                let lead = if i == 0 { "" } else { "  " };
                wrapped.push(Line::from(Span::styled(format!("{lead}{w}"), style)));
            }
        }
        // Two bars an environment; the words below take the rest (and scroll).
        let chart_rows = (self.rows.len() * 3) as u16;
        let chart_h = chart_rows.min(inner.height / 2);
        let [chart_area, words_area] = Layout::new(
            Direction::Vertical,
            [Constraint::Length(chart_h), Constraint::Min(0)],
        )
        .areas(inner);
        let name_w = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        // The bars on the left, each bar's words in a column on its right (a value drawn
        // inside a short bar would be cut).
        let mut bars: Vec<Bar> = Vec::new();
        let mut notes: Vec<Line> = Vec::new();
        for (i, r) in self.rows.iter().enumerate() {
            let style = match r.due_days {
                Some(d) if d < 0 => theme.bad,
                Some(_) => theme.ok,
                None => theme.dim,
            };
            let age = r.age_days.unwrap_or(0).max(0) as u64;
            let age_text = match r.due_days {
                Some(d) if d < 0 => format!("{} · overdue {}d", r.age(), -d),
                Some(d) => format!("{} · due in {d}d", r.age()),
                None => r.age(),
            };
            bars.push(
                Bar::new(age)
                    .label(Line::from(format!("{:<name_w$}", r.name)))
                    .text_value(String::new())
                    .style(style),
            );
            notes.push(Line::from(Span::styled(age_text, style)));
            let (every, every_text) = match r.every_days {
                0 => (0, "on change: no schedule".to_string()),
                d => (u64::from(d), format!("every {d}d")),
            };
            bars.push(
                Bar::new(every)
                    .label(Line::from(format!("{:<name_w$}", "  policy")))
                    .text_value(String::new())
                    .style(theme.dim),
            );
            notes.push(Line::from(Span::styled(every_text, theme.dim)));
            if i + 1 < self.rows.len() {
                bars.push(Bar::new(0).label(Line::from("")).text_value(String::new()));
                notes.push(Line::default());
            }
        }
        let note_w = notes.iter().map(Line::width).max().unwrap_or(0) as u16 + 1;
        let [bars_area, notes_area] = Layout::new(
            Direction::Horizontal,
            [Constraint::Min(0), Constraint::Length(note_w)],
        )
        .areas(chart_area);
        BarChart::horizontal(bars)
            .bar_width(1)
            .bar_gap(0)
            .render(bars_area, buf);
        Paragraph::new(notes).render(
            Rect {
                x: notes_area.x + 1,
                width: notes_area.width.saturating_sub(1),
                ..notes_area
            },
            buf,
        );
        let max = (wrapped.len() as u16).saturating_sub(words_area.height);
        self.max_scroll.set(max);
        Paragraph::new(wrapped)
            .scroll((self.scroll.min(max), 0))
            .render(words_area, buf);
    }
}
