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

/// `s` with every space, border and cut mark removed: text wrapped over lines compares
/// equal to the same text on one line.
fn squeezed(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !"│╭╮╰╯─\"".contains(*c))
        .collect()
}

/// Every target path, finding and activity entry of every environment, at 80×24 and
/// 120×40: on screen whole, or whole in the pager (`o`).
#[test]
fn nothing_is_cut_without_a_way_to_read_it_whole() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    // Activity with long lines: a rotation's steps, backups and command output.
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('y'));
    app.settle(JOB_TIMEOUT);
    press(&mut app, KeyCode::Esc);
    let activity: Vec<String> = app.activity().map(str::to_string).collect();
    assert!(!activity.is_empty());
    let names: Vec<String> = app
        .status()
        .environments
        .iter()
        .map(|e| e.name.clone())
        .collect();
    let mut cut_somewhere = 0;
    for name in &names {
        select(&mut app, name);
        let env = app.selected_env().unwrap();
        let mut wanted: Vec<String> = env.targets.iter().filter_map(|t| t.path.clone()).collect();
        wanted.extend(env.findings.iter().map(|f| f.message.clone()));
        wanted.extend(env.findings.iter().filter_map(|f| f.fix.clone()));
        wanted.extend(activity.iter().cloned());
        for (w, h) in [(80, 24), (120, 40)] {
            let main = squeezed(&screen(&app, w, h));
            press(&mut app, KeyCode::Char('o'));
            let pager = screen(&app, w, h);
            assert!(pager.contains("Whole text"), "{pager}");
            // The pager scrolls: read it page by page.
            let mut seen = squeezed(&pager);
            for _ in 0..40 {
                press(&mut app, KeyCode::PageDown);
                seen.push_str(&squeezed(&screen(&app, w, h)));
            }
            press(&mut app, KeyCode::Esc);
            for text in &wanted {
                let t = squeezed(text);
                if !main.contains(&t) {
                    cut_somewhere += 1;
                    assert!(
                        seen.contains(&t),
                        "{name} at {w}x{h}: `{text}` is cut on screen and not whole in the pager"
                    );
                }
            }
        }
    }
    assert!(
        cut_somewhere > 0,
        "the test saw something cut (e.g. deploy/pro…ction/.env)"
    );
}

#[test]
fn popups_leave_a_blank_column_beside_their_frame() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('R'));
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        // Every row of the popup: blank beside its borders.
        let rows: Vec<Vec<char>> = s
            .lines()
            .map(|l| l.trim_matches('"').chars().collect())
            .collect();
        let top = rows
            .iter()
            .position(|r| r.iter().collect::<String>().contains("Rotate staging"))
            .unwrap();
        let left = rows[top].iter().position(|&c| c == '╭').unwrap();
        let right = rows[top].iter().position(|&c| c == '╮').unwrap();
        for row in &rows[top..] {
            if left > 0 {
                assert_eq!(row[left - 1], ' ', "{w}x{h}\n{s}");
            }
            if right + 1 < row.len() {
                assert_eq!(row[right + 1], ' ', "{w}x{h}\n{s}");
            }
            if row[left] == '╰' {
                break;
            }
        }
    }
}

#[test]
fn the_checklist_is_never_cut_at_120x40() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    let names: Vec<String> = app
        .status()
        .environments
        .iter()
        .map(|e| e.name.clone())
        .collect();
    for name in names {
        select(&mut app, &name);
        let session = fx.session();
        let env = app.selected_env().unwrap();
        let m = session.project.manifest.environment(&name).unwrap();
        let items = keywarden::ops::checklist::compute(env, m);
        let s = screen(&app, 120, 40);
        let seen = squeezed(&s);
        for i in &items {
            let t = squeezed(&format!("{}: {}", i.label, i.why));
            assert!(
                seen.contains(&t),
                "{name}: `{}: {}` cut\n{s}",
                i.label,
                i.why
            );
        }
    }
}
