//! The views: pure functions of the [`App`] state (`impl Widget for &App`). The only thing
//! they write is where things landed ([`super::app::Regions`]), for the mouse.

mod details;
mod environments;
mod footer;
mod wizard;

use super::app::App;
use super::text;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

pub use super::app::ROWS_PER_ENV;
/// Below this, the screen says it is too small instead of drawing a mess.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;
/// Spinner frames, one per 100 ms.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = &self.settings.theme;
        Block::new().style(theme.base).render(area, buf);
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!(
                "keywarden needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT} (this one is {}×{}); q quits",
                area.width, area.height
            );
            Paragraph::new(
                text::wrap(&msg, usize::from(area.width))
                    .into_iter()
                    .map(Line::from)
                    .collect::<Vec<_>>(),
            )
            .render(area, buf);
            return;
        }
        let activity_rows = footer::activity_height(self, area.width);
        let [title, body, activity, keys] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(activity_rows),
            Constraint::Length(1),
        ])
        .areas(area);
        self.render_title(title, buf);
        if let Some(w) = &self.wizard {
            wizard::render(self, w, body, buf);
        } else {
            let list_width = (body.width / 4).clamp(28, 36);
            let [list, details] =
                Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)])
                    .areas(body);
            environments::render(self, list, buf);
            details::render(self, details, buf);
        }
        footer::render_toast(self, body, buf);
        footer::render_activity(self, activity, buf);
        footer::render_keys(self, keys, buf);
        if let Some(popup) = &self.popup {
            popup.render(theme, self.now, body, buf);
        }
    }
}

impl App {
    fn render_title(&self, area: Rect, buf: &mut Buffer) {
        let theme = &self.settings.theme;
        let st = &self.status;
        let n = st.environments.len();
        let source = if st.manifest.is_some() {
            "keywarden.toml"
        } else {
            "discovered"
        };
        let left = Line::from(vec![
            Span::styled(" keywarden ", theme.title),
            Span::styled("· ", theme.dim),
            Span::raw(st.project.clone()),
            Span::styled(
                format!(
                    " · {n} environment{} ({source})",
                    if n == 1 { "" } else { "s" }
                ),
                theme.dim,
            ),
        ]);
        left.render(area, buf);
        let right = match (&self.copied, self.jobs.running()) {
            (_, Some(_)) => Some(Span::styled(
                format!("{} working ", spinner(self)),
                theme.key,
            )),
            (Some(c), None) => Some(Span::styled(
                format!(
                    "clipboard: {} · clears in {} s ",
                    c.what,
                    c.held.seconds_left(self.now)
                ),
                theme.key,
            )),
            (None, None) => None,
        };
        if let Some(span) = right {
            Line::from(span).right_aligned().render(area, buf);
        }
    }
}

/// The frame of a pane, brighter when it has the focus.
fn pane(theme: &super::theme::Theme, focused: bool, title: String) -> Block<'static> {
    Block::bordered()
        .border_type(ratatui::widgets::BorderType::Rounded)
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
        .title(Span::styled(title, theme.heading))
}

/// The spinner's frame for the running job (a blank when none runs).
pub(crate) fn spinner(app: &App) -> &'static str {
    app.jobs.running().map_or(" ", |r| {
        let frame = app.now.saturating_duration_since(r.started).as_millis() / 100;
        SPINNER[frame as usize % SPINNER.len()]
    })
}
