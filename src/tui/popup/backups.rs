//! `b`: the environment's backups, newest first — time, kind, fingerprint, why. Never
//! their content. Enter restores the selected one (after a confirmation); a backup of a
//! revoked key is marked, and refused with the reason.

use super::super::keys::Scope;
use super::super::text;
use super::super::theme::Theme;
use crate::records::backup::{BackupMeta, Kind};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::cell::Cell;

#[derive(Debug, Clone)]
pub struct BackupRow {
    pub meta: BackupMeta,
    /// The key it holds was revoked: why.
    pub revoked: Option<String>,
}

#[derive(Debug)]
pub struct Backups {
    pub env: String,
    /// Newest first.
    pub rows: Vec<BackupRow>,
    pub selected: usize,
    /// The first row shown, as last drawn.
    pub offset: Cell<usize>,
}

impl Backups {
    pub fn new(env: String, rows: Vec<BackupRow>) -> Backups {
        Backups {
            env,
            rows,
            selected: 0,
            offset: Cell::new(0),
        }
    }

    pub fn move_by(&mut self, by: i32) {
        let last = self.rows.len().saturating_sub(1) as i64;
        self.selected = (self.selected as i64 + i64::from(by)).clamp(0, last) as usize;
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(2).min(100);
        let height = area.height.saturating_sub(2);
        let title = Line::from(Span::styled(
            format!(" {}: backups ({}) ", self.env, self.rows.len()),
            theme.title,
        ));
        let inner = super::frame(theme, title, width, height, area, buf);
        let w = usize::from(inner.width);
        let mut lines = vec![
            Line::from(Span::styled(
                text::fit_end(
                    "Newest first. Keys are named by fingerprint; content is never shown.",
                    w,
                ),
                theme.dim,
            )),
            Line::from(Span::styled(
                text::fit_end(
                    &format!("{:<17}{:<5}{:<13}WHAT", "WHEN (UTC)", "KIND", "KEY"),
                    w,
                ),
                theme.heading,
            )),
        ];
        if self.rows.is_empty() {
            lines.push(Line::from(
                "No backups yet: keywarden makes one before every change.",
            ));
        }
        // Rows that fit between the headings and the two closing lines.
        let room = usize::from(inner.height)
            .saturating_sub(lines.len() + 3)
            .max(1);
        let offset = scrolled(self.offset.get(), self.selected, room);
        self.offset.set(offset);
        for (i, row) in self.rows.iter().enumerate().skip(offset).take(room) {
            lines.push(self.row(row, i == self.selected, theme, w));
        }
        while lines.len() < usize::from(inner.height).saturating_sub(2) {
            lines.push(Line::default());
        }
        let footer = match self.rows.get(self.selected) {
            Some(r) => match &r.revoked {
                Some(why) => Span::styled(
                    text::fit_end(
                        &format!("{}: revoked ({why}); cannot be restored", r.meta.id),
                        w,
                    ),
                    theme.bad,
                ),
                None => Span::styled(
                    text::fit_end(&format!("backup {}", r.meta.id), w),
                    theme.dim,
                ),
            },
            None => Span::raw(""),
        };
        lines.push(Line::from(footer));
        lines.push(super::hints(theme, Scope::Backups));
        Paragraph::new(lines).render(inner, buf);
    }

    fn row(&self, row: &BackupRow, selected: bool, theme: &Theme, w: usize) -> Line<'static> {
        let m = &row.meta;
        let kind = match m.kind {
            Kind::Key => "key ",
            Kind::File => "file",
        };
        let fp = m
            .fingerprint
            .as_ref()
            .map_or("–".to_string(), |f| f.to_string());
        let what = match (m.kind, &row.revoked) {
            (_, Some(_)) => format!("REVOKED · {}", m.reason),
            (Kind::Key, None) => m.reason.clone(),
            (Kind::File, None) => format!("{}: {}", m.target, m.reason),
        };
        let used = 16 + 1 + 4 + 1 + 12 + 1;
        let line = Line::from(vec![
            Span::raw(format!("{} ", m.created.strftime("%Y-%m-%d %H:%M"))),
            Span::styled(format!("{kind} "), theme.dim),
            Span::styled(format!("{fp:<12} "), theme.key),
            Span::styled(
                text::fit_end(&what, w.saturating_sub(used)),
                if row.revoked.is_some() {
                    theme.bad
                } else {
                    theme.base
                },
            ),
        ]);
        if selected {
            theme.highlight(line)
        } else {
            line
        }
    }
}

/// The first row shown so that `selected` is visible, moving as little as possible.
pub(crate) fn scrolled(offset: usize, selected: usize, visible: usize) -> usize {
    if selected < offset {
        selected
    } else if selected >= offset + visible {
        selected + 1 - visible
    } else {
        offset
    }
}
