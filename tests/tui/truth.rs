//! What a confirmation must say before a write it cannot take back: a new key into a
//! file git tracks (the next commit publishes it), a backup holding a published key.

use super::support::*;
use insta::assert_snapshot;
use keywarden::tui::keys::Scope;
use ratatui::crossterm::event::KeyCode;

#[test]
fn generate_into_a_file_git_tracks_warns_and_needs_the_name_typed() {
    if !require("git", "the demo commits .streamlit/secrets.toml") {
        return;
    }
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "development");
    let before = fx.read(".streamlit/secrets.toml");
    press(&mut app, KeyCode::Char('g'));
    let s = screen(&app, 120, 40);
    assert!(
        s.contains("git tracks .streamlit/secrets.toml") && s.contains("publish"),
        "{s}"
    );
    assert_snapshot!("generate_git_tracked_120x40", s);
    assert_snapshot!("generate_git_tracked_80x24", screen(&app, 80, 24));
    // A reflex `y` does not write it.
    assert_eq!(app.scope(), Scope::Typing);
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Enter);
    assert!(!app.busy());
    assert!(screen(&app, 120, 40).contains("That is not `development`"));
    press(&mut app, KeyCode::Esc);
    app.settle(JOB_TIMEOUT);
    assert_eq!(fx.read(".streamlit/secrets.toml"), before, "refused");

    // Confirmed by its name: written.
    press(&mut app, KeyCode::Char('g'));
    type_text(&mut app, "development");
    press(&mut app, KeyCode::Enter);
    assert!(app.busy());
    app.settle(JOB_TIMEOUT);
    assert_ne!(fx.read(".streamlit/secrets.toml"), before);
}

#[test]
fn generate_into_untracked_files_asks_a_plain_yes() {
    let fx = Fixture::fake_key();
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.scope(), Scope::Confirm, "{}", screen(&app, 120, 40));
    assert!(!screen(&app, 120, 40).contains("git tracks"));
}

#[test]
fn restoring_a_backup_that_holds_a_published_key_warns_in_its_confirmation() {
    let fx = Fixture::demo();
    // Production holds the guide's published key: rotating it keeps it in a backup.
    let out = keywarden(&fx, &["rotate", "production", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut app = fx.app();
    select(&mut app, "production");
    press(&mut app, KeyCode::Char('b'));
    let s = screen(&app, 120, 40);
    let rows: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.contains("WHEN (UTC)"))
        .skip(1)
        .take_while(|l| l.contains(" key ") || l.contains(" file "))
        .collect();
    let at = rows
        .iter()
        .position(|l| l.contains(" key ") && l.contains("retired"))
        .unwrap_or_else(|| panic!("{s}"));
    for _ in 0..at {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    let s = screen(&app, 120, 40);
    assert!(s.contains("published key") && s.contains("KW001"), "{s}");

    // A fresh key's backup gives no such warning: staging rotated twice, its newest
    // backups hold the key of the first rotation (the demo's own keys are published).
    press(&mut app, KeyCode::Esc);
    for _ in 0..2 {
        let out = keywarden(&fx, &["rotate", "staging", "--yes"]);
        assert!(out.status.success());
    }
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('b'));
    press(&mut app, KeyCode::Enter);
    let s = screen(&app, 120, 40);
    assert!(s.contains("Restore a backup"), "{s}");
    assert!(!s.contains("published key"), "{s}");
}
