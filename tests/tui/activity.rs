//! The activity pane scrolls in place (`[` older, `]` newer): every entry wraps, none is
//! cut, and scrolling back reads each one whole in the pane itself.

use super::support::*;
use ratatui::crossterm::event::KeyCode;

/// The rows of the activity pane (under its title, above the footer), as text.
fn pane(s: &str) -> Vec<String> {
    let rows: Vec<&str> = s.lines().collect();
    let title = rows
        .iter()
        .position(|r| r.contains(" Activity "))
        .unwrap_or_else(|| panic!("no activity pane:\n{s}"));
    rows[title + 1..rows.len() - 1]
        .iter()
        .map(|r| r.trim_matches('"').to_string())
        .collect()
}

fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '✓' && *c != '✗')
        .collect()
}

#[test]
fn every_activity_entry_reads_whole_by_scrolling_the_pane() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('y'));
    app.settle(JOB_TIMEOUT);
    press(&mut app, KeyCode::Char('f'));
    app.settle(JOB_TIMEOUT);
    let entries: Vec<String> = app.activity().map(str::to_string).collect();
    assert!(
        entries.iter().any(|e| e.chars().count() > 80),
        "a long entry to wrap: {entries:?}"
    );
    let keys = keys_used(&fx);
    for (w, h) in [(80, 24), (120, 40)] {
        // From the oldest lines to the newest: the top row of each position, then the
        // whole last window.
        // (The pane's limit comes from the frame drawn at this size.)
        screen(&app, w, h);
        for _ in 0..100 {
            press(&mut app, KeyCode::Char('['));
        }
        assert!(app.activity_scroll() > 0, "{w}×{h}: nothing to scroll");
        let mut seen: Vec<String> = Vec::new();
        loop {
            let s = screen(&app, w, h);
            assert_no_key(&s, &keys);
            let rows = pane(&s);
            if app.activity_scroll() == 0 {
                seen.extend(rows);
                break;
            }
            assert!(
                s.contains("[ ] scroll: lines"),
                "the title says it scrolls:\n{s}"
            );
            seen.push(rows[0].clone());
            press(&mut app, KeyCode::Char(']'));
        }
        let all = squeeze(&seen.concat());
        for e in &entries {
            assert!(
                all.contains(&squeeze(e)),
                "{w}×{h}: {e:?} not whole in {seen:#?}"
            );
        }
    }
}
