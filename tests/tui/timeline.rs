//! `t`: the rotation calendar drawn in the view — every environment's key age against its
//! policy, with ratatui's bar chart, and the same in words.

use super::support::*;
use insta::assert_snapshot;
use keywarden::tui::keys::Scope;
use ratatui::crossterm::event::KeyCode;

#[test]
fn t_draws_every_environments_age_against_its_policy() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('t'));
    assert_eq!(app.scope(), Scope::Help);
    let keys = keys_used(&fx);
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        assert_no_key(&s, &keys);
        assert!(s.contains("Rotation calendar"), "{s}");
        for e in &app.status().environments {
            assert!(s.contains(&e.name), "{}: {s}", e.name);
        }
        // The bars' values, and the words.
        assert!(s.contains("overdue 30d"), "{s}");
        assert!(s.contains("every 90d"), "{s}");
        assert!(s.contains("staging: at least 120 days old"), "{s}");
        assert_snapshot!(format!("timeline_{w}x{h}"), s);
    }
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.scope(), Scope::Main);
}
