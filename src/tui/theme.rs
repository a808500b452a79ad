//! Every colour and text style of the TUI, in one place.
//!
//! [`Theme::plain`] is what `NO_COLOR` gets: no colour at all, only bold, dim and reverse,
//! and every badge still says what it means in letters (`CRIT`, `HIGH`, `OK`).

use crate::finding::Severity;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

#[derive(Debug, Clone)]
pub struct Theme {
    pub base: Style,
    pub title: Style,
    pub dim: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selected: Style,
    pub heading: Style,
    pub key: Style,
    pub key_label: Style,
    pub ok: Style,
    pub bad: Style,
    pub not_applicable: Style,
    pub error: Style,
    pub popup_border: Style,
    pub secret: Style,
    pub input: Style,
    critical: Style,
    high: Style,
    medium: Style,
    low: Style,
    info: Style,
}

impl Theme {
    /// `NO_COLOR` set (and not empty) gives [`Theme::plain`], as <https://no-color.org> asks.
    pub fn from_env() -> Theme {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Theme::plain()
        } else {
            Theme::colored()
        }
    }

    /// `line` drawn as the selected row: on the selection's background, with any span
    /// whose colour is that background (dim text) made light, so it stays readable.
    pub fn highlight<'a>(&self, line: Line<'a>) -> Line<'a> {
        let bg = self.selected.bg;
        let mut line = line;
        for span in &mut line.spans {
            if bg.is_some() && span.style.fg == bg {
                span.style.fg = Some(Color::White);
            }
        }
        line.patch_style(self.selected)
    }

    pub fn colored() -> Theme {
        let bold = Modifier::BOLD;
        Theme {
            base: Style::new(),
            title: Style::new().fg(Color::Cyan).add_modifier(bold),
            dim: Style::new().fg(Color::DarkGray),
            border: Style::new().fg(Color::DarkGray),
            border_focused: Style::new().fg(Color::Cyan),
            selected: Style::new().bg(Color::DarkGray).add_modifier(bold),
            heading: Style::new().fg(Color::Cyan).add_modifier(bold),
            key: Style::new().fg(Color::Yellow).add_modifier(bold),
            key_label: Style::new().fg(Color::Gray),
            ok: Style::new().fg(Color::Green),
            bad: Style::new().fg(Color::Red).add_modifier(bold),
            not_applicable: Style::new().fg(Color::DarkGray),
            error: Style::new().fg(Color::Red).add_modifier(bold),
            popup_border: Style::new().fg(Color::Yellow),
            secret: Style::new().fg(Color::Yellow).add_modifier(bold),
            input: Style::new().add_modifier(Modifier::UNDERLINED),
            critical: Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(bold),
            high: Style::new().fg(Color::Red).add_modifier(bold),
            medium: Style::new().fg(Color::Yellow),
            low: Style::new().fg(Color::Cyan),
            info: Style::new().fg(Color::Gray),
        }
    }

    pub fn plain() -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let dim = Style::new().add_modifier(Modifier::DIM);
        Theme {
            base: Style::new(),
            title: bold,
            dim,
            border: Style::new(),
            border_focused: bold,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            heading: bold,
            key: bold,
            key_label: Style::new(),
            ok: Style::new(),
            bad: bold,
            not_applicable: dim,
            error: bold,
            popup_border: bold,
            secret: bold,
            input: Style::new().add_modifier(Modifier::UNDERLINED),
            critical: bold.add_modifier(Modifier::REVERSED),
            high: bold,
            medium: Style::new(),
            low: Style::new(),
            info: dim,
        }
    }

    /// The style of a severity badge; `None` is "no findings".
    pub fn severity(&self, severity: Option<Severity>) -> Style {
        match severity {
            Some(Severity::Critical) => self.critical,
            Some(Severity::High) => self.high,
            Some(Severity::Medium) => self.medium,
            Some(Severity::Low) => self.low,
            Some(Severity::Info) => self.info,
            None => self.ok,
        }
    }
}

/// A four-letter badge readable without colour.
pub fn badge(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical) => "CRIT",
        Some(Severity::High) => "HIGH",
        Some(Severity::Medium) => "MED ",
        Some(Severity::Low) => "LOW ",
        Some(Severity::Info) => "INFO",
        None => " OK ",
    }
}
