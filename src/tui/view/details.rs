//! The right pane: the selected environment's key (by fingerprint), strength, age,
//! targets, findings with their fix, and the guide's checklist.
//!
//! Lines are wrapped here, to the pane's width, so scrolling counts real rows. On a wide
//! terminal the checklist is a two-column grid under the summary; on a narrow one it
//! comes last, one item a line.

use super::super::app::{App, Focus};
use super::super::keys::{self, Command};
use super::super::text;
use super::super::theme::{self, Theme};
use crate::ops::checklist::{self, Mark};
use crate::ops::status::{EnvStatus, TargetStatus};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// From this inner width on, the checklist is a grid under the summary.
const WIDE: usize = 84;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.settings.theme;
    let focused = app.focus == Focus::Details && app.popup.is_none();
    app.regions.details.set(area);
    let Some(env) = app.selected_env() else {
        return render_empty(app, area, buf);
    };
    let manifest = app.session.project.manifest.environment(&env.name);
    let project = &app.session.project;
    let checklist = manifest.map(|m| checklist::compute_in(env, m, &project.manifest.watch));

    let block = super::pane(theme, focused, format!(" {} ", env.name));
    let main = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
    let width = usize::from(main.width);
    let wide = width >= WIDE;

    let mut lines = summary(env, theme, width);
    if let (Some(items), true) = (&checklist, wide) {
        lines.push(Line::default());
        // Two columns only when every item fits its column whole; else one a line.
        let column = (width - 2) / 2 - 4;
        let fits = items
            .iter()
            .all(|i| text::width(&format!("{}: {}", i.label, i.why)) <= column);
        lines.extend(if fits {
            checklist_grid(items, theme, width)
        } else {
            checklist_lines(items, theme, width)
        });
    }
    lines.push(Line::default());
    lines.extend(targets(env, theme, width));
    lines.push(Line::default());
    lines.extend(findings(app, env, theme, width));
    if let (Some(items), false) = (&checklist, wide) {
        lines.push(Line::default());
        lines.extend(checklist_lines(items, theme, width));
    }

    let max = (lines.len() as u16).saturating_sub(main.height);
    app.regions.details_max_scroll.set(max);
    let scroll = app.details_scroll.min(max);
    let block = if max > 0 {
        let shown_to = (scroll + main.height).min(lines.len() as u16);
        block.title_bottom(
            Line::from(Span::styled(
                format!(" lines {}–{} of {} ", scroll + 1, shown_to, lines.len()),
                theme.dim,
            ))
            .right_aligned(),
        )
    } else {
        block
    };
    block.render(area, buf);
    Paragraph::new(lines).scroll((scroll, 0)).render(main, buf);
}

fn render_empty(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.settings.theme;
    let block = super::pane(theme, false, " No environment ".into());
    let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
    block.render(area, buf);
    let text = "keywarden found no keywarden.toml here and no file that holds a SECRET_KEY (.env, .env.<name>, .streamlit/secrets.toml, <env>/.env).\n\nQuit (q), then either:\n  keywarden demo\n    try keywarden on a demo project\n  keywarden --project DIR\n    open another folder\nor write keywarden.toml here, one block per environment:\n  version = 1\n  [[environments]]\n  name = \"production\"\n  targets = [{ path = \".env\", format = \"dotenv\" }]";
    let lines: Vec<Line> = text::wrap(text, usize::from(inner.width))
        .into_iter()
        .map(Line::from)
        .collect();
    Paragraph::new(lines).render(inner, buf);
}

fn label(name: &'static str, theme: &Theme) -> Span<'static> {
    Span::styled(format!("{name:<10}"), theme.dim)
}

fn summary<'a>(env: &'a EnvStatus, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let drift = env.fingerprint.is_none() && env.targets.iter().any(|t| t.fingerprint.is_some());
    let key = match &env.fingerprint {
        Some(fp) => Span::styled(fp.to_string(), theme.key),
        None if drift => Span::styled("targets disagree (drift)", theme.bad),
        None => Span::styled("none", theme.bad),
    };
    let strength = match &env.strength {
        Some(s) => {
            let style = match s.label {
                crate::keys::strength::Label::Strong => theme.ok,
                crate::keys::strength::Label::Fair => theme.base,
                _ => theme.bad,
            };
            Span::styled(format!("{} (~{:.0} bits)", s.label, s.bits), style)
        }
        None => Span::styled("–", theme.dim),
    };
    let age = match (env.age_days, env.age_source) {
        (Some(d), "mtime") => format!("at least {d} days (file times)"),
        (Some(d), _) => format!("{d} days"),
        (None, _) => "unknown".into(),
    };
    let rotation = match (env.rotate_every_days, env.rotation_due_days) {
        (0, _) => "on major changes".to_string(),
        (every, Some(d)) if d < 0 => format!("every {every} days, overdue by {} days", -d),
        (every, Some(d)) => format!("every {every} days, due in {d} days"),
        (every, None) => format!("every {every} days"),
    };
    let overdue = env.rotation_due_days.is_some_and(|d| d < 0);
    let rotation = match &env.rotation {
        Some(r) => format!(
            "{} unfinished, stopped after `{}`: u resumes or rolls it back",
            r.kind, r.step
        ),
        None => rotation,
    };
    let overdue = overdue || env.rotation.is_some();
    let mut out = vec![
        Line::from(vec![label("Key", theme), key]),
        Line::from(vec![label("Strength", theme), strength]),
    ];
    out.extend(text::hanging(
        vec![label("Age", theme)],
        &age,
        theme.base,
        width,
        10,
    ));
    out.extend(text::hanging(
        vec![label("Rotation", theme)],
        &rotation,
        if overdue { theme.bad } else { theme.base },
        width,
        10,
    ));
    out
}

fn targets<'a>(env: &'a EnvStatus, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let mut out = vec![Line::from(Span::styled(
        format!("Targets ({})", env.targets.len()),
        theme.heading,
    ))];
    // path · format · mode · fingerprint or state
    let tail = 1 + 6 + 1 + 4 + 1 + 12;
    let path_width = width.saturating_sub(2 + tail).max(8);
    for t in &env.targets {
        out.push(target_row(t, theme, path_width));
    }
    out
}

fn target_row<'a>(t: &'a TargetStatus, theme: &Theme, path_width: usize) -> Line<'a> {
    let name = match (&t.path, &t.env, &t.vault) {
        (Some(p), _, _) => p.clone(),
        (None, Some(v), _) => format!("${v}"),
        // A store target: its path and field; its version in the mode column.
        (None, None, Some(v)) => format!("vault:{v}#{}", t.key.as_deref().unwrap_or("")),
        (None, None, None) => "?".into(),
    };
    let format = t
        .format
        .unwrap_or(if t.vault.is_some() { "kv2" } else { "env" });
    let version = t.version.map(|v| format!("v{v}"));
    let mode = version.as_deref().or(t.mode.as_deref()).unwrap_or("–");
    let mode_style = match &t.mode {
        Some(m) if u32::from_str_radix(m, 8).is_ok_and(|m| m & 0o077 != 0) => theme.bad,
        _ => theme.base,
    };
    let (state, state_style) = match (&t.fingerprint, t.state) {
        (Some(fp), _) => (fp.to_string(), theme.key),
        (None, "unset") => ("unset".to_string(), theme.dim),
        (None, s) => (s.to_string(), theme.bad),
    };
    Line::from(vec![
        Span::raw("  "),
        Span::raw(text::fit(&name, path_width)),
        Span::raw(" "),
        Span::styled(text::fit(format, 6), theme.dim),
        Span::raw(" "),
        Span::styled(text::fit(mode, 4), mode_style),
        Span::raw(" "),
        Span::styled(state, state_style),
    ])
}

fn findings<'a>(app: &App, env: &'a EnvStatus, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let shown: Vec<&crate::finding::Finding> = env
        .findings
        .iter()
        .filter(|f| app.finding_shown(env, f))
        .collect();
    let heading = if shown.len() == env.findings.len() {
        format!("Findings ({})", env.findings.len())
    } else {
        format!(
            "Findings ({} of {}, filtered by /{})",
            shown.len(),
            env.findings.len(),
            app.filter().unwrap_or_default()
        )
    };
    let mut out = vec![Line::from(Span::styled(heading, theme.heading))];
    if env.findings.is_empty() {
        out.push(Line::from(Span::styled("  none", theme.ok)));
    }
    for f in shown {
        let mut place = String::new();
        if let Some(t) = &f.target {
            place = match f.line {
                Some(l) => format!("{t}:{l}: "),
                None => format!("{t}: "),
            };
        }
        let sev = Some(f.severity);
        let first = vec![
            Span::raw("  "),
            Span::styled(theme::badge(sev), theme.severity(sev)),
            Span::raw(" "),
            Span::styled(f.code.as_str(), theme.dim),
            Span::raw(" "),
        ];
        out.extend(text::hanging(
            first,
            &format!("{place}{}", f.message),
            theme.base,
            width,
            7,
        ));
        if let Some(fix) = &f.fix {
            let fix = match here(fix) {
                Some(key) => format!("fix: {fix} (here: {key})"),
                None => format!("fix: {fix}"),
            };
            out.extend(text::hanging(
                vec![Span::raw(" ".repeat(7))],
                &fix,
                theme.dim,
                width,
                12,
            ));
        }
    }
    out
}

/// The key that does a finding's fix in the TUI, from the key table.
fn here(fix: &str) -> Option<&'static str> {
    let command = if fix.contains("keywarden set ") {
        Command::Generate
    } else if fix.contains("keywarden rotate ") && !fix.contains("--") {
        Command::Rotate
    } else if fix.contains("keywarden fix ") {
        Command::FixPermissions
    } else {
        return None;
    };
    keys::in_scope(keys::Scope::Main)
        .find(|b| b.command == command)
        .map(|b| b.shown)
}

fn checklist_heading(items: &[checklist::Item; 8], theme: &Theme) -> Line<'static> {
    let done = items.iter().filter(|i| i.mark == Mark::Done).count();
    let applicable = items
        .iter()
        .filter(|i| i.mark != Mark::NotApplicable)
        .count();
    Line::from(vec![
        Span::styled("Security checklist", theme.heading),
        Span::styled(
            format!(" ({done}/{applicable} of the guide's items)"),
            theme.dim,
        ),
    ])
}

fn mark(item: &checklist::Item, theme: &Theme) -> Span<'static> {
    let (symbol, style) = match item.mark {
        Mark::Done => ("✓", theme.ok),
        Mark::Missing => ("✗", theme.bad),
        Mark::NotApplicable => ("–", theme.not_applicable),
    };
    Span::styled(format!("{symbol} "), style)
}

/// One item a line, wrapped.
fn checklist_lines(
    items: &[checklist::Item; 8],
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let mut out = vec![checklist_heading(items, theme)];
    for item in items {
        let first = vec![Span::raw("  "), mark(item, theme)];
        out.extend(text::hanging(
            first,
            &format!("{}: {}", item.label, item.why),
            theme.base,
            width,
            4,
        ));
    }
    out
}

/// Two columns of four (the guide's order reads down), each item on one line.
fn checklist_grid(items: &[checklist::Item; 8], theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let column = (width - 2) / 2;
    let cell = |item: &checklist::Item| {
        let text = text::fit_end(&format!("{}: {}", item.label, item.why), column - 4);
        vec![Span::raw("  "), mark(item, theme), Span::raw(text)]
    };
    let mut out = vec![checklist_heading(items, theme)];
    for row in 0..4 {
        let mut spans = cell(&items[row]);
        spans.push(Span::raw("  "));
        spans.extend(cell(&items[row + 4]));
        out.push(Line::from(spans));
    }
    out
}
