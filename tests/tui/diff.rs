//! The confirmations of set (`g`), rotate (`R`), revoke (`X`) and restore show exactly
//! what the write will change, per file, from the planned write: the lines removed and
//! added with every value masked and each key named by its fingerprint — never a key.

use super::support::*;
use insta::assert_snapshot;
use ratatui::crossterm::event::KeyCode;

/// The frame at both sizes, checked for keys, snapshotted.
fn both(fx: &Fixture, name: &str, app: &keywarden::tui::App) -> String {
    checked(fx, Some(name), app)
}

/// The frame at both sizes, checked for keys; snapshotted when `name` is given (not
/// when it shows a random key's fingerprint or the time of a backup made now).
fn checked(fx: &Fixture, name: Option<&str>, app: &keywarden::tui::App) -> String {
    let keys = keys_used(fx);
    let mut big = String::new();
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(app, w, h);
        assert_no_key(&s, &keys);
        assert!(!s.contains("SECRET_KEY='"), "a value is shown:\n{s}");
        if let Some(name) = name {
            assert_snapshot!(format!("{name}_{w}x{h}"), s);
        }
        big = s;
    }
    big
}

#[test]
fn generate_shows_each_files_lines_masked() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    let fps: Vec<String> = app
        .selected_env()
        .unwrap()
        .targets
        .iter()
        .filter_map(|t| t.fingerprint.as_ref().map(ToString::to_string))
        .collect();
    press(&mut app, KeyCode::Char('g'));
    let s = both(&fx, "diff_generate_staging", &app);
    assert!(s.contains("deploy/staging/.env:"), "{s}");
    assert!(s.contains("- SECRET_KEY=•••• ("), "{s}");
    assert!(s.contains("+ SECRET_KEY=•••• (the new key)"), "{s}");
    // Drift: each file's own old key, by its fingerprint.
    for fp in &fps {
        assert!(s.contains(&format!("•••• ({fp})")), "{fp}: {s}");
    }
}

#[test]
fn rotate_and_revoke_show_the_write_masked() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "production");
    let fp = fingerprint_of(&app, "production").unwrap();
    press(&mut app, KeyCode::Char('R'));
    let s = both(&fx, "diff_rotate_production", &app);
    assert!(s.contains(&format!("- SECRET_KEY=•••• ({fp})")), "{s}");
    assert!(s.contains("+ SECRET_KEY=•••• (the new key)"), "{s}");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('X'));
    type_text(&mut app, "INC-1 laptop stolen");
    press(&mut app, KeyCode::Enter);
    let s = both(&fx, "diff_revoke_production", &app);
    assert!(s.contains(&format!("- SECRET_KEY=•••• ({fp})")), "{s}");
    // A long body scrolls; the field to type in always shows.
    assert!(
        screen(&app, 80, 24).contains("Type production to confirm"),
        "{}",
        screen(&app, 80, 24)
    );
}

#[test]
fn restore_shows_what_the_backup_puts_back_masked() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('y'));
    app.settle(JOB_TIMEOUT);
    let now = app
        .selected_env()
        .unwrap()
        .fingerprint
        .as_ref()
        .map(ToString::to_string)
        .expect("one key after the write");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('b'));
    press(&mut app, KeyCode::Enter);
    let s = checked(&fx, None, &app);
    assert!(s.contains("Restore a backup into staging?"), "{s}");
    assert!(s.contains("- SECRET_KEY"), "{s}");
    assert!(
        s.contains(&format!("({now})")),
        "the key written now, by fingerprint: {s}"
    );
}
