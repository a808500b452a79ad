//! `a`: the audit trail, newest first — time, user, environment, action, result,
//! fingerprints, detail — under the result of checking its hash chain: intact, or the
//! first line that was changed, removed or reordered.

use super::super::keys::Scope;
use super::super::text;
use super::super::theme::Theme;
use crate::records::audit::{Event, Outcome, Verification};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::cell::Cell;

#[derive(Debug)]
pub struct AuditTrail {
    /// Oldest first, as on disk; an error when a line cannot be read.
    pub events: Result<Vec<Event>, String>,
    pub verification: Result<Verification, String>,
    pub scroll: u16,
    /// The furthest scroll that still shows text, as last drawn.
    pub max_scroll: Cell<u16>,
}

fn result(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Failed => "failed",
        Outcome::Refused => "refused",
        Outcome::Started => "started",
    }
}

impl AuditTrail {
    pub fn new(log: &crate::records::audit::AuditLog) -> AuditTrail {
        AuditTrail {
            events: log.read().map_err(|e| e.to_string()),
            verification: log.verify().map_err(|e| e.to_string()),
            scroll: 0,
            max_scroll: Cell::new(0),
        }
    }

    /// The first line the chain check found wrong.
    fn bad_line(&self) -> Option<usize> {
        self.verification
            .as_ref()
            .ok()
            .and_then(|v| v.problem.as_ref())
            .map(|p| p.line)
    }

    fn verdict(&self, theme: &Theme, w: usize) -> Vec<Line<'static>> {
        let (text, style) = match &self.verification {
            Ok(v) => match &v.problem {
                None => (
                    format!(
                        "✓ intact: {} line(s), each follows from the one before",
                        v.lines
                    ),
                    theme.ok,
                ),
                Some(p) => (format!("✗ TAMPERED: {}", p.message), theme.error),
            },
            Err(e) => (format!("✗ cannot check the chain: {e}"), theme.error),
        };
        text::wrap(&text, w)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, style)))
            .collect()
    }

    fn rows(&self, theme: &Theme, w: usize) -> Vec<Line<'static>> {
        let events = match &self.events {
            Ok(e) => e,
            Err(e) => {
                return text::wrap(e, w)
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, theme.error)))
                    .collect();
            }
        };
        if events.is_empty() {
            return vec![Line::from(
                "The audit trail is empty: nothing was changed yet.",
            )];
        }
        let bad = self.bad_line();
        let mut out = Vec::new();
        for (i, e) in events.iter().enumerate().rev() {
            let n = i + 1;
            let at_fault = bad == Some(n);
            let res_style = match e.result {
                Outcome::Ok => theme.ok,
                Outcome::Failed | Outcome::Refused => theme.bad,
                Outcome::Started => theme.dim,
            };
            let first = format!(
                "{:>4} {} {} {} {}",
                format!("#{n}"),
                e.ts.strftime("%Y-%m-%d %H:%M:%S"),
                text::fit(&e.user, 8),
                text::fit(e.environment.as_deref().unwrap_or("–"), 11),
                text::fit(&e.action, 16),
            );
            let mut spans = vec![
                Span::styled(if at_fault { "✗" } else { " " }, theme.error),
                Span::styled(first, if at_fault { theme.error } else { theme.base }),
                Span::raw(" "),
                Span::styled(result(e.result), res_style),
            ];
            if w < 4 {
                spans.truncate(1);
            }
            out.push(Line::from(spans));
            let fps = e.fingerprints.as_ref().map(|f| match (&f.old, &f.new) {
                (Some(o), Some(n)) => format!("{o} → {n}"),
                (None, Some(n)) => n.to_string(),
                (Some(o), None) => format!("{o} →"),
                (None, None) => String::new(),
            });
            let more: Vec<String> = fps
                .into_iter()
                .chain(e.detail.clone())
                .filter(|s| !s.is_empty())
                .collect();
            if !more.is_empty() {
                out.extend(text::hanging(
                    vec![Span::raw("      ")],
                    &more.join(" · "),
                    theme.dim,
                    w,
                    6,
                ));
            }
        }
        out
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let width = area.width.saturating_sub(2).min(110);
        let height = area.height.saturating_sub(2);
        let n = self.events.as_ref().map_or(0, Vec::len);
        let title = Line::from(vec![
            Span::styled(" Audit trail ", theme.title),
            Span::styled(format!("({n} events, newest first) "), theme.dim),
        ]);
        let inner = super::frame(theme, title, width, height, area, buf);
        let w = usize::from(inner.width);
        let mut head = self.verdict(theme, w);
        head.push(Line::default());
        let body_height = inner
            .height
            .saturating_sub(head.len() as u16)
            .saturating_sub(1);
        let rows = self.rows(theme, w);
        let max = (rows.len() as u16).saturating_sub(body_height);
        self.max_scroll.set(max);
        let scroll = usize::from(self.scroll.min(max));
        let mut lines = head;
        lines.extend(rows.into_iter().skip(scroll).take(usize::from(body_height)));
        while lines.len() < usize::from(inner.height).saturating_sub(1) {
            lines.push(Line::default());
        }
        lines.push(super::hints(theme, Scope::Audit));
        Paragraph::new(lines).render(inner, buf);
    }
}
