//! The view reads the files again by itself when a target file changes on disk (watched
//! with `notify`, debounced); a confirmation opened before the change is not acted on: it
//! is read again and asked once more. Every wait polls with a deadline.

use super::support::*;
use ratatui::crossterm::event::KeyCode;
use std::time::{Duration, Instant};

const OTHER_KEY: &str = "FAKE-changed-from-outside-0000-not-a-secret-0000-by-another-tool";

/// Ticks (with the real clock) and applies finished jobs until `ok`, or panics.
fn until(app: &mut keywarden::tui::App, what: &str, ok: impl Fn(&keywarden::tui::App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok(app) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tick(app, Instant::now());
        app.settle(JOB_TIMEOUT);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_file_changed_from_outside_shows_without_a_keypress() {
    let fx = Fixture::fake_key();
    let mut app = fx.app();
    let before = fingerprint_of(&app, "development").unwrap();
    fx.write(".env", &format!("DEBUG=true\nSECRET_KEY='{OTHER_KEY}'\n"));
    until(&mut app, "the new fingerprint", |a| {
        fingerprint_of(a, "development").is_some_and(|fp| fp != before)
    });
    let s = screen(&app, 100, 30);
    assert!(
        s.contains(".env changed on disk: read every file again"),
        "{s}"
    );
    assert!(!s.contains(&before), "{s}");
    assert_no_key(&s, &[FAKE_KEY.to_string(), OTHER_KEY.to_string()]);
}

#[test]
fn a_confirmation_opened_before_a_change_is_asked_again_not_acted_on() {
    let fx = Fixture::fake_key();
    let mut app = fx.app();
    let before = fingerprint_of(&app, "development").unwrap();
    press(&mut app, KeyCode::Char('g'));
    assert!(screen(&app, 100, 30).contains("Generate a new key for development?"));
    fx.write(".env", &format!("DEBUG=true\nSECRET_KEY='{OTHER_KEY}'\n"));
    until(&mut app, "the change seen under the popup", |a| {
        a.confirm_is_stale()
    });
    // Not read behind the confirmation.
    assert_eq!(fingerprint_of(&app, "development").unwrap(), before);
    press(&mut app, KeyCode::Char('y'));
    app.settle(JOB_TIMEOUT);
    // Nothing was written: the file still holds what the other tool wrote.
    assert!(fx.read(".env").contains(OTHER_KEY));
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("The files changed on disk since this was shown"),
        "{s}"
    );
    assert!(s.contains("Generate a new key for development?"), "{s}");
    let now = fingerprint_of(&app, "development").unwrap();
    assert_ne!(now, before, "read again before asking");
    // Confirmed again, it runs.
    press(&mut app, KeyCode::Char('y'));
    app.settle(JOB_TIMEOUT);
    assert!(!fx.read(".env").contains(OTHER_KEY));
    assert_no_key(
        &screen(&app, 100, 30),
        &[FAKE_KEY.to_string(), OTHER_KEY.to_string()],
    );
}
