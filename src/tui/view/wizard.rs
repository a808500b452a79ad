//! The incident wizard: the playbook's steps with their marks, times and who (top), and
//! the step on screen (bottom): what to do, its action, its result, its notes.
//!
//! Marks read without colour: `[x]` done, `[-]` skipped, `[!]` failed, `[>]` current,
//! `[ ]` pending.

use super::super::app::App;
use super::super::keys::{self, Command, Scope};
use super::super::text;
use super::super::theme::Theme;
use super::super::wizard::{self, Wizard};
use crate::incident::Status;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub fn render(app: &App, w: &Wizard, area: Rect, buf: &mut Buffer) {
    let theme = &app.settings.theme;
    let steps_height = (w.incident.steps.len() as u16 + 2).min(area.height / 2);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(steps_height), Constraint::Min(0)]).areas(area);
    render_steps(w, theme, app.popup.is_none(), top, buf);
    render_step(w, theme, bottom, buf);
}

fn when(at: Option<jiff::Timestamp>, by: Option<&str>) -> String {
    match at {
        Some(t) => format!("{} {}", t.strftime("%m-%d %H:%M"), by.unwrap_or("")),
        None => String::new(),
    }
}

fn mark_style(status: Status, theme: &Theme) -> Style {
    match status {
        Status::Done => theme.ok,
        Status::Skipped => theme.dim,
        Status::Failed => theme.bad,
        Status::Pending => theme.key,
    }
}

fn render_steps(w: &Wizard, theme: &Theme, focused: bool, area: Rect, buf: &mut Buffer) {
    let i = &w.incident;
    let (done, total) = i.progress();
    let fp = i
        .fingerprint
        .as_ref()
        .map_or("key unknown".to_string(), ToString::to_string);
    let state = if i.closed.is_some() { " · closed" } else { "" };
    let block = super::pane(
        theme,
        focused,
        format!(" {} · {} · {fp} ", i.title, i.environment),
    )
    .title(
        Line::from(Span::styled(
            format!(" {done}/{total}{state} "),
            theme.heading,
        ))
        .right_aligned(),
    )
    .title_bottom(Line::from(Span::styled(
        format!(
            " {} · opened {} by {} ",
            i.id,
            i.opened.strftime("%Y-%m-%d %H:%M UTC"),
            i.opened_by
        ),
        theme.dim,
    )));
    let inner = block.inner(area).inner(Margin::new(1, 0));
    block.render(area, buf);
    let width = usize::from(inner.width);
    let current = i.current().map(|c| c.id.as_str());
    let visible = usize::from(inner.height).max(1);
    let offset = w.cursor.saturating_sub(visible - 1);
    let mut lines = Vec::new();
    for (n, rec) in i.steps.iter().enumerate().skip(offset).take(visible) {
        let title = w
            .playbook
            .step(&rec.id)
            .map_or(rec.id.as_str(), |d| d.title.as_str());
        let right = when(rec.at, rec.by.as_deref());
        let lead = format!(
            "{} {}. ",
            wizard::mark(rec.status, current == Some(&rec.id)),
            n + 1
        );
        let room = width.saturating_sub(text::width(&lead) + text::width(&right) + 1);
        let line = Line::from(vec![
            Span::styled(lead, mark_style(rec.status, theme)),
            Span::raw(text::fit_end(title, room)),
            Span::raw(" "),
            Span::styled(right, theme.dim),
        ]);
        lines.push(if n == w.cursor {
            theme.highlight(line)
        } else {
            line
        });
    }
    Paragraph::new(lines).render(inner, buf);
}

fn render_step(w: &Wizard, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let i = &w.incident;
    let Some(rec) = i.steps.get(w.cursor) else {
        return;
    };
    let def = w.playbook.step(&rec.id);
    let title = def.map_or(rec.id.as_str(), |d| d.title.as_str());
    let block = super::pane(
        theme,
        false,
        format!(" Step {}/{}: {title} ", w.cursor + 1, i.steps.len()),
    );
    let inner = block.inner(area).inner(Margin::new(1, 0));
    block.render(area, buf);
    let width = usize::from(inner.width);
    let label = |s: &'static str| Span::styled(format!("{s:<8}"), theme.dim);

    let status = match rec.status {
        // Ran, and left open for a person (nobody told, environments not restarted).
        Status::Pending if rec.result.is_some() => format!(
            "open: ran {}, not done; what is left is in the result",
            when(rec.at, rec.by.as_deref()).trim_end()
        ),
        Status::Pending if w.on_current() => "pending · the current step".to_string(),
        Status::Pending => "pending".to_string(),
        s => format!("{} {}", s.as_str(), when(rec.at, rec.by.as_deref())),
    };
    let mut lines = vec![Line::from(vec![
        label("Status"),
        Span::styled(status.trim_end().to_string(), mark_style(rec.status, theme)),
    ])];
    if let Some(closed) = i.closed {
        lines.extend(
            text::wrap(
                &format!(
                    "Every step is closed ({}). The report: keywarden incident report {}",
                    closed.strftime("%Y-%m-%d %H:%M UTC"),
                    i.id
                ),
                width,
            )
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.ok))),
        );
    }
    if let Some(d) = def
        && !d.requires.is_empty()
    {
        lines.push(Line::from(vec![
            label("Needs"),
            Span::raw(d.requires.join(", ")),
        ]));
    }
    if let Some(d) = def {
        lines.extend(text::wrap(&d.what, width).into_iter().map(Line::from));
    }
    let run_key = keys::in_scope(Scope::Wizard)
        .find(|b| b.command == Command::StepRun)
        .map_or("r", |b| b.shown);
    let action = match w.action() {
        Some(a) => format!(
            "keywarden {} (press {run_key})",
            super::super::words::step_action(a)
        ),
        None => "none: do it yourself, then mark it done (d) or skip it with a note (s)".into(),
    };
    lines.extend(text::hanging(
        vec![label("Action")],
        &action,
        theme.base,
        width,
        8,
    ));
    if let Some(result) = &rec.result {
        let style = if rec.status == Status::Failed {
            theme.bad
        } else {
            theme.base
        };
        let mut first = Some(label("Result"));
        for l in result.lines() {
            let lead = first.take().unwrap_or_else(|| Span::raw(" ".repeat(8)));
            lines.extend(text::hanging(vec![lead], l, style, width, 8));
        }
    }
    for (k, note) in rec.notes.iter().enumerate() {
        let lead = if k == 0 {
            label("Notes")
        } else {
            Span::raw(" ".repeat(8))
        };
        lines.extend(text::hanging(
            vec![lead],
            &format!(
                "{} {}: {}",
                note.at.strftime("%m-%d %H:%M"),
                note.by,
                note.text
            ),
            theme.base,
            width,
            8,
        ));
    }
    let room = usize::from(inner.height);
    if lines.len() > room && room > 0 {
        lines.truncate(room - 1);
        lines.push(Line::from(Span::styled(
            "… (the rest: press o, or keywarden incident report)",
            theme.dim,
        )));
    }
    Paragraph::new(lines).render(inner, buf);
}
