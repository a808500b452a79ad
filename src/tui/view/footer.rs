//! The bottom of the screen: the activity pane (job output and the running job's
//! spinner), a passing note, and the keys that work here, from the key table.

use super::super::app::{Activity, App, Mode};
use super::super::keys;
use super::super::text;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Widget};

/// Lines of activity shown at most.
const ACTIVITY_LINES: usize = 3;

/// Rows the activity pane takes: none until there is something to say.
pub fn activity_height(app: &App, width: u16) -> u16 {
    let room = usize::from(width).saturating_sub(2);
    let n = app
        .activity
        .iter()
        .map(|(_, e)| text::wrap_hanging(e, room, room.saturating_sub(2)).len())
        .sum::<usize>()
        + usize::from(app.busy());
    if n == 0 {
        0
    } else {
        n.min(ACTIVITY_LINES) as u16 + 1
    }
}

pub fn render_activity(app: &App, area: Rect, buf: &mut Buffer) {
    app.regions.activity.set(area);
    if area.height == 0 {
        return;
    }
    let theme = &app.settings.theme;
    let inner_width = usize::from(area.width);
    // Every entry whole: wrapped, continuation lines under the text (never cut).
    let mut lines: Vec<Line> = Vec::new();
    let mut anchor_line = None;
    for (index, (kind, entry)) in app.activity.iter().enumerate() {
        if app.activity_top == Some(index) {
            anchor_line = Some(lines.len());
        }
        let (mark, style) = match kind {
            Activity::Done => ("✓ ", theme.ok),
            Activity::Detail => ("  ", theme.dim),
            Activity::Failed => ("✗ ", theme.error),
        };
        let room = inner_width.saturating_sub(2);
        for (i, l) in text::wrap_hanging(entry, room, room.saturating_sub(2))
            .into_iter()
            .enumerate()
        {
            lines.push(if i == 0 {
                Line::from(vec![Span::styled(mark, style), Span::raw(l)])
            } else {
                Line::from(vec![Span::raw("    "), Span::raw(l)])
            });
        }
    }
    if let Some(r) = app.jobs.running() {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", super::spinner(app)), theme.key),
            Span::raw(format!("{}…", r.job.describe())),
        ]));
    }
    if let Some(progress) = app.scan.as_ref().and_then(|s| s.progress()) {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", super::spinner(app)), theme.key),
            Span::raw(format!("{progress}…")),
        ]));
    }
    let visible = usize::from(area.height.saturating_sub(1));
    let max = lines.len().saturating_sub(visible);
    app.regions.activity_max_scroll.set(max as u16);
    // The scroll counts lines up from the newest; a job's report shows from its first
    // line until the pane is scrolled.
    let back = match anchor_line {
        Some(line) => max - line.min(max),
        None => usize::from(app.activity_scroll).min(max),
    };
    app.regions.activity_back.set(back as u16);
    let from = max - back;
    let mut block = Block::new()
        .borders(Borders::TOP)
        .border_type(BorderType::Plain)
        .border_style(theme.border)
        .title(Span::styled(" Activity ", theme.heading));
    if max > 0 {
        block = block.title(Span::styled(
            format!(
                " [ ] scroll: lines {}–{} of {} ",
                from + 1,
                (from + visible).min(lines.len()),
                lines.len()
            ),
            theme.key,
        ));
    }
    block = block.title(Span::styled(" o: whole text ", theme.dim));
    let inner = block.inner(area);
    block.render(area, buf);
    Paragraph::new(
        lines
            .into_iter()
            .skip(from)
            .take(visible)
            .collect::<Vec<_>>(),
    )
    .render(inner, buf);
}

/// Whether `command` would do something here: an environment to act on, an unfinished
/// rotation to show, an action to run.
fn applies(app: &App, command: keys::Command) -> bool {
    let env = app.selected_env();
    match command {
        keys::Command::Unfinished => env.is_some_and(|e| e.rotation.is_some()),
        keys::Command::StepRun => app.wizard().is_some_and(|w| w.action().is_some()),
        c if c.needs_environment() => env.is_some(),
        _ => true,
    }
}

/// A passing note, over the bottom edge of the panes.
pub fn render_toast(app: &App, body: Rect, buf: &mut Buffer) {
    let Some(toast) = &app.toast else { return };
    if body.height == 0 {
        return;
    }
    let theme = &app.settings.theme;
    let max = usize::from(body.width.saturating_sub(4));
    let text = format!(" {} ", text::shorten(&toast.text, max.saturating_sub(2)));
    let width = text::width(&text) as u16;
    let area = Rect::new(
        body.right().saturating_sub(width + 2),
        body.bottom() - 1,
        width,
        1,
    );
    // Cleared first: the border's grey under it would be grey on the grey selection.
    ratatui::widgets::Clear.render(area, buf);
    Line::from(Span::styled(text, theme.selected)).render(area, buf);
}

pub fn render_keys(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.settings.theme;
    if app.mode == Mode::Quitting {
        Line::from(Span::styled(
            " quitting when the job ends · q again quits now",
            theme.error,
        ))
        .render(area, buf);
        return;
    }
    let entry_width = |b: &keys::Binding| {
        text::width(b.shown) + 1 + text::width(b.footer.unwrap_or_default()) + 2
    };
    let mut shown: Vec<&keys::Binding> = keys::footer(app.scope())
        .filter(|b| applies(app, b.command))
        .collect();
    // The active filter comes first, whole.
    let filter = app.filter.as_ref().map(|f| {
        let cursor = if f.typing { "█" } else { "" };
        format!(" /{}{cursor} ", f.text)
    });
    let filter_width = filter.as_deref().map_or(0, text::width);
    // Too narrow: drop the least needed entries first (the leftmost among equals), never
    // the way to the help or out.
    while 1 + filter_width + shown.iter().map(|b| entry_width(b)).sum::<usize>()
        > usize::from(area.width)
    {
        let Some((i, _)) = shown
            .iter()
            .enumerate()
            .filter(|(_, b)| b.command.footer_rank() < u8::MAX)
            .min_by_key(|(i, b)| (b.command.footer_rank(), *i))
        else {
            break;
        };
        shown.remove(i);
    }
    let mut spans = vec![Span::raw(" ")];
    if let Some(f) = filter {
        spans.push(Span::styled(f, theme.input));
        spans.push(Span::raw(" "));
    }
    for b in shown {
        spans.push(Span::styled(b.shown, theme.key));
        let what = b.footer.unwrap_or_default();
        spans.push(Span::styled(format!(" {what}  "), theme.key_label));
    }
    Line::from(spans).render(area, buf);
}
