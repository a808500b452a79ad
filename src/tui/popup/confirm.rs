//! "Are you sure?" before a job that changes keys. For production the user types the
//! environment's name: a reflex `y` must not replace a production key.

use super::super::jobs::Job;
use super::super::keys::Scope;
use super::super::text;
use super::super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    pub body: Vec<String>,
    /// When set, the word to type (the environment's name) and what was typed so far.
    pub typed: Option<Typed>,
    /// What runs once confirmed.
    pub then: Job,
    /// The first body line shown, when the body is taller than the screen (↑/↓).
    pub scroll: u16,
    /// The furthest it can scroll (written by the last frame).
    pub max_scroll: std::cell::Cell<u16>,
}

#[derive(Debug, Clone)]
pub struct Typed {
    pub expected: String,
    pub input: String,
    /// Enter was pressed with the wrong word.
    pub mismatch: bool,
}

impl Confirm {
    pub fn new(title: impl Into<String>, body: Vec<String>, then: Job) -> Confirm {
        Confirm {
            title: title.into(),
            body,
            typed: None,
            then,
            scroll: 0,
            max_scroll: std::cell::Cell::new(0),
        }
    }

    /// Asks for `word` to be typed instead of `y`.
    pub fn typing(mut self, word: impl Into<String>) -> Confirm {
        self.typed = Some(Typed {
            expected: word.into(),
            input: String::new(),
            mismatch: false,
        });
        self
    }

    pub fn scope(&self) -> Scope {
        if self.typed.is_some() {
            Scope::Typing
        } else {
            Scope::Confirm
        }
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(4).min(70);
        let text_width = usize::from(width.saturating_sub(4));
        let body: Vec<String> = self
            .body
            .iter()
            .flat_map(|b| text::wrap(b, text_width))
            .collect();
        // What must always show: the field to type in and the keys.
        let mut tail: Vec<Line> = vec![Line::default()];
        if let Some(t) = &self.typed {
            tail.push(Line::from(vec![
                Span::raw("Type "),
                Span::styled(t.expected.clone(), theme.heading),
                Span::raw(" to confirm: "),
                Span::styled(format!("{}█", t.input), theme.input),
            ]));
            if t.mismatch {
                tail.extend(
                    text::wrap(
                        &format!("That is not `{}`; type it exactly, or Esc.", t.expected),
                        text_width,
                    )
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, theme.error))),
                );
            }
            tail.push(Line::default());
        }
        tail.push(super::hints(theme, self.scope()));
        // The body scrolls when the screen is too short for all of it; a last line says
        // which part shows.
        let room = usize::from(area.height.saturating_sub(2)).saturating_sub(tail.len());
        let mut lines: Vec<Line> = if body.len() <= room {
            self.max_scroll.set(0);
            body.into_iter().map(Line::from).collect()
        } else {
            let shown = room.saturating_sub(1).max(1);
            let max = body.len().saturating_sub(shown);
            self.max_scroll.set(max as u16);
            let from = usize::from(self.scroll).min(max);
            let mut v: Vec<Line> = body[from..from + shown.min(body.len() - from)]
                .iter()
                .cloned()
                .map(Line::from)
                .collect();
            v.push(Line::from(Span::styled(
                format!(
                    "↑/↓ scroll: lines {}–{} of {}",
                    from + 1,
                    from + shown.min(body.len() - from),
                    body.len()
                ),
                theme.key,
            )));
            v
        };
        lines.extend(tail);
        let height = (lines.len() as u16).saturating_add(2);
        let title = Line::from(Span::styled(format!(" {} ", self.title), theme.title));
        let inner = super::frame(theme, title, width, height, area, buf);
        Paragraph::new(lines).render(inner, buf);
    }
}
