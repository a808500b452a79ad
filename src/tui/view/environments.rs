//! The left pane: every environment with its badge (worst finding), age and rotation.
//!
//! Only the visible rows are built, so a thousand environments draw as fast as three.

use super::super::app::{App, Focus};
use super::super::text;
use super::super::theme::{self, Theme};
use super::ROWS_PER_ENV;
use crate::ops::status::EnvStatus;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.settings.theme;
    let focused = app.focus == Focus::Environments && app.popup.is_none();
    let envs = &app.status.environments;
    let block = super::pane(theme, focused, " Environments ".into());
    let shown = app.shown_envs();
    let block = if envs.len() > 1 {
        let counter = match shown.iter().position(|&i| i == app.selected) {
            _ if app.filter().is_some_and(|f| !f.is_empty()) => {
                format!(" {} of {} shown ", shown.len(), envs.len())
            }
            Some(at) if shown.len() == envs.len() => format!(" {}/{} ", at + 1, envs.len()),
            _ => format!(" {}/{} ", app.selected + 1, envs.len()),
        };
        block.title_bottom(Line::from(Span::styled(counter, theme.dim)).right_aligned())
    } else {
        block
    };
    let inner = block.inner(area);
    block.render(area, buf);
    app.regions.environments.set(inner);
    if envs.is_empty() {
        Paragraph::new(vec![
            Line::from("No environments."),
            Line::from(Span::styled("See the right pane.", theme.dim)),
        ])
        .render(inner, buf);
        return;
    }

    if shown.is_empty() {
        Paragraph::new(vec![
            Line::from(format!(
                "Nothing has /{}.",
                app.filter().unwrap_or_default()
            )),
            Line::from(Span::styled("Esc clears the filter.", theme.dim)),
        ])
        .render(inner, buf);
        return;
    }
    let visible = (usize::from(inner.height) / ROWS_PER_ENV).max(1);
    let at = shown.iter().position(|&i| i == app.selected).unwrap_or(0);
    let offset = scrolled(app.regions.list_offset.get(), at, visible);
    app.regions.list_offset.set(offset);
    let width = usize::from(inner.width);
    let mut lines = Vec::with_capacity(visible * ROWS_PER_ENV);
    for &i in shown.iter().skip(offset).take(visible) {
        let env = &envs[i];
        let selected = i == app.selected;
        let incident = app.incidents.contains(&env.name);
        let [first, second] = rows(env, incident, theme, width);
        let (first, second) = if selected {
            (theme.highlight(first), theme.highlight(second))
        } else {
            (first, second)
        };
        lines.push(first);
        lines.push(second);
    }
    Paragraph::new(lines).render(inner, buf);
}

/// The first row shown so that `selected` is visible, moving as little as possible.
fn scrolled(offset: usize, selected: usize, visible: usize) -> usize {
    if selected < offset {
        selected
    } else if selected >= offset + visible {
        selected + 1 - visible
    } else {
        offset
    }
}

fn rows<'a>(env: &'a EnvStatus, incident: bool, theme: &Theme, width: usize) -> [Line<'a>; 2] {
    let worst = env.worst();
    // An open incident is marked after the name (in letters, for NO_COLOR too).
    let mark = if incident { " INCIDENT" } else { "" };
    let name_width = width.saturating_sub(6 + mark.len());
    let first = Line::from(vec![
        Span::styled(theme::badge(worst), theme.severity(worst)),
        Span::raw(" "),
        Span::raw(text::fit(&env.name, name_width)),
        Span::styled(mark, theme.bad),
        Span::raw(" "),
    ]);
    let drift = env.fingerprint.is_none() && env.targets.iter().any(|t| t.fingerprint.is_some());
    let (age, age_style) = match env.age_days {
        Some(d) if env.age_source == "mtime" => (format!("≥{d}d"), theme.dim),
        Some(d) => (format!("{d}d"), theme.dim),
        None if drift => ("drift".into(), theme.bad),
        None if env.fingerprint.is_none() => ("no key".into(), theme.bad),
        None => ("age ?".into(), theme.dim),
    };
    let (due, due_style) = match (env.rotate_every_days, env.rotation_due_days) {
        (_, Some(d)) if d < 0 => (format!("overdue {}d", -d), theme.bad),
        (_, Some(d)) => (format!("due in {d}d"), theme.dim),
        (0, None) => ("on change".to_string(), theme.dim),
        (_, None) => (String::new(), theme.dim),
    };
    // An unfinished rotation says so instead: it is what needs doing.
    let (age, age_style, due, due_style) = if env.rotation.is_some() {
        (
            "unfinished rotation".to_string(),
            theme.bad,
            String::new(),
            theme.key,
        )
    } else {
        (age, age_style, due, due_style)
    };
    let used = 5 + text::width(&age) + 3 + text::width(&due);
    let second = Line::from(vec![
        Span::raw("     "),
        Span::styled(age, age_style),
        Span::styled(if due.is_empty() { "" } else { " · " }, theme.dim),
        Span::styled(due, due_style),
        Span::styled(" ".repeat(width.saturating_sub(used)), Style::new()),
    ]);
    [first, second]
}

#[cfg(test)]
mod tests {
    use super::scrolled;

    #[test]
    fn the_list_scrolls_only_to_keep_the_selection_visible() {
        assert_eq!(scrolled(0, 3, 5), 0);
        assert_eq!(scrolled(0, 5, 5), 1);
        assert_eq!(scrolled(4, 2, 5), 2);
        assert_eq!(scrolled(10, 12, 5), 10);
    }
}
