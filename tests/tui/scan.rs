//! The background scan of the interactive view: the hard-coded key `keywarden scan` finds
//! in the demo (`backend/app/config.py`) shows in the activity pane and, whole, in the
//! pager — never the key itself.

use super::support::*;
use ratatui::crossterm::event::KeyCode;
use std::time::{Duration, Instant};

#[test]
fn the_background_scan_shows_the_demos_hard_coded_key_in_the_view() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    app.start_scan();
    let deadline = Instant::now() + Duration::from_secs(30);
    let s = loop {
        tick(&mut app, Instant::now());
        let s = screen(&app, 160, 50);
        // The scan's entries are the newest of the activity pane once it has ended.
        if s.contains(" KW201 ") && !s.contains("scanning the project's files") {
            break s;
        }
        assert!(Instant::now() < deadline, "the scan did not end:\n{s}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_no_key(&s, &keys_used(&fx));
    // The pager holds the scan's findings whole.
    press(&mut app, KeyCode::Char('o'));
    let mut text = String::new();
    for _ in 0..30 {
        text.push_str(&screen(&app, 160, 50));
        press(&mut app, KeyCode::PageDown);
    }
    assert!(text.contains("scan of the project's files"), "{text}");
    assert!(
        text.contains("finding(s) in the project's files"),
        "the activity entry: {text}"
    );
    assert!(text.contains("backend/app/config.py"), "{text}");
    assert_no_key(&text, &keys_used(&fx));
    // The demo's hard-coded key itself is nowhere on screen.
    let config = fx.read("backend/app/config.py");
    for literal in config
        .split(['"', '\''])
        .filter(|p| p.len() >= 20 && !p.contains(' '))
    {
        assert!(!text.contains(literal), "a literal of config.py on screen");
        assert!(!s.contains(literal), "a literal of config.py on screen");
    }
}
