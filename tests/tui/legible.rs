//! What the screen must let a person read: a selected row keeps its contrast, nothing is
//! cut without a way to read it whole, messages and popups leave nothing behind.

use super::support::*;
use keywarden::tui::App;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Color;

/// Every cell drawn on the selection's background has a colour of its own.
fn no_grey_on_grey(app: &App, what: &str) {
    for (w, h) in [(80, 24), (120, 40)] {
        let t = terminal(app, w, h);
        let buf = t.backend().buffer();
        let mut on_selection = 0;
        for y in 0..h {
            for x in 0..w {
                let cell = &buf[(x, y)];
                if cell.bg == Color::DarkGray {
                    on_selection += 1;
                    if cell.symbol().trim().is_empty() {
                        continue;
                    }
                    assert_ne!(
                        cell.fg,
                        Color::DarkGray,
                        "{what} at {w}x{h}: `{}` at ({x},{y}) is grey on grey\n{}",
                        cell.symbol(),
                        t.backend()
                    );
                }
            }
        }
        assert!(on_selection > 0, "{what}: no selection drawn");
    }
}

#[test]
fn selected_rows_keep_their_contrast() {
    let fx = Fixture::demo();
    let out = keywarden(&fx, &["rotate", "staging", "--yes"]);
    assert!(out.status.success());
    let mut app = fx.app();
    select(&mut app, "staging");
    // The environment list's second line (age · rotation).
    no_grey_on_grey(&app, "environments");
    // The backups' KIND column.
    press(&mut app, KeyCode::Char('b'));
    no_grey_on_grey(&app, "backups");
    press(&mut app, KeyCode::Esc);
    // The wizard's time and who column.
    press(&mut app, KeyCode::Char('i'));
    press(&mut app, KeyCode::Enter);
    assert!(app.wizard().is_some(), "{}", screen(&app, 120, 40));
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Up);
    no_grey_on_grey(&app, "wizard");
}

#[test]
fn a_status_note_clears_when_the_selection_moves() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('u'));
    let s = screen(&app, 120, 40);
    assert!(s.contains("has no unfinished rotation"), "{s}");
    press(&mut app, KeyCode::Down);
    let s = screen(&app, 120, 40);
    assert!(!s.contains("has no unfinished rotation"), "{s}");
}

#[test]
fn backup_table_headers_sit_over_their_columns() {
    let fx = Fixture::demo();
    let out = keywarden(&fx, &["rotate", "staging", "--yes"]);
    assert!(out.status.success());
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('b'));
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        let lines: Vec<Vec<char>> = s.lines().map(|l| l.chars().collect()).collect();
        let head = lines
            .iter()
            .position(|l| l.iter().collect::<String>().contains("WHEN (UTC)"))
            .unwrap();
        let header: String = lines[head].iter().collect();
        let row: String = lines[head + 1].iter().collect();
        let col = |line: &str, word: &str| {
            line.chars()
                .collect::<Vec<_>>()
                .windows(word.len())
                .position(|w| w.iter().collect::<String>() == word)
        };
        let kind = col(&header, "KIND").unwrap();
        let key = col(&header, "KEY ").unwrap();
        let data_kind = col(&row, " key ").or(col(&row, " file ")).unwrap() + 1;
        let data_key = col(&row, "kw:").unwrap();
        assert_eq!(kind, data_kind, "KIND over the kinds:\n{header}\n{row}");
        assert_eq!(key, data_key, "KEY over the fingerprints:\n{header}\n{row}");
    }
}
