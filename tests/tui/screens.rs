//! Every screen and popup as a snapshot, at 80×24 and 120×40. Keys never appear: only
//! fingerprints, except the reveal popup, which is shown with a made-up test key.

use super::support::*;
use insta::assert_snapshot;
use keywarden::tui::keys::Scope;
use keywarden::tui::popup::Input;
use keywarden::tui::{Job, Theme};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn both(name: &str, app: &keywarden::tui::App) {
    for (w, h) in SIZES {
        assert_snapshot!(format!("{name}_{w}x{h}"), screen(app, w, h));
    }
}

#[test]
fn main_view_on_the_demo() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    both("main_development", &app);
    select(&mut app, "staging");
    both("main_staging", &app);
    select(&mut app, "production");
    both("main_production", &app);
}

#[test]
fn details_scroll_to_the_checklist() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "production");
    screen(&app, 80, 24);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::End);
    assert_snapshot!("main_production_scrolled_80x24", screen(&app, 80, 24));
}

#[test]
fn help_lists_every_key() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('?'));
    both("help", &app);
}

#[test]
fn production_asks_to_type_its_name() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "production");
    press(&mut app, KeyCode::Char('g'));
    both("confirm_production", &app);
    type_text(&mut app, "prod");
    press(&mut app, KeyCode::Enter);
    assert_snapshot!("confirm_production_mismatch_80x24", screen(&app, 80, 24));
}

#[test]
fn staging_asks_yes_or_no() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('g'));
    both("confirm_staging", &app);
}

#[test]
fn reveal_shows_the_key_with_a_countdown() {
    let fx = Fixture::fake_key();
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('v'));
    both("reveal", &app);
}

#[test]
fn an_error_is_a_readable_popup() {
    // Staging's two files hold different keys: there is no one key to reveal.
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('v'));
    both("error_reveal_drift", &app);
}

#[test]
fn empty_project_says_what_to_do() {
    let fx = Fixture::empty();
    let app = fx.app();
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        // `init` writes nothing in a folder with no key file: suggest what works.
        assert!(!s.contains("keywarden init"), "{s}");
        assert!(s.contains("keywarden demo"), "{s}");
        assert!(
            s.contains("[[environments]]") && s.contains("format = \"dotenv\""),
            "{s}"
        );
    }
    both("empty", &app);
}

#[test]
fn a_tiny_terminal_gets_a_sentence() {
    let fx = Fixture::demo();
    let app = fx.app();
    assert_snapshot!("too_small_40x10", screen(&app, 40, 10));
}

#[test]
fn reason_popup() {
    let mut reason = Input::new(
        "Revoke production's key?",
        "Why? The reason is kept in the audit trail (a ticket number helps).",
        |_| keywarden::tui::Action::Run(Job::Refresh),
    );
    reason.input = "laptop with the .env was stolen (INC-4521)".into();
    let area = Rect::new(0, 0, 80, 14);
    let mut buf = Buffer::empty(area);
    reason.render(&Theme::colored(), area, &mut buf);
    let text: String = (0..area.height)
        .map(|y| {
            let row: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            format!("{row}\n")
        })
        .collect();
    assert_snapshot!("reason_80x14", text);
}

#[test]
fn no_color_draws_without_any_colour() {
    let fx = Fixture::demo();
    let mut app = fx.app_with(Theme::plain());
    select(&mut app, "production");
    press(&mut app, KeyCode::Char('g'));
    let t = terminal(&app, 80, 24);
    for cell in t.backend().buffer().content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    assert_snapshot!("no_color_confirm_80x24", t.backend().to_string());
    // The selection is still visible, by reverse video.
    press(&mut app, KeyCode::Esc);
    let t = terminal(&app, 80, 24);
    let selected_row = (0..24u16)
        .find(|&y| {
            (0..30u16)
                .map(|x| t.backend().buffer()[(x, y)].symbol().to_string())
                .collect::<String>()
                .contains("production")
        })
        .unwrap();
    assert!(
        t.backend().buffer()[(5, selected_row)]
            .modifier
            .contains(Modifier::REVERSED)
    );
    assert_snapshot!("no_color_main_80x24", t.backend().to_string());
}

#[test]
fn the_readme_lists_every_key_of_the_main_view() {
    let readme = include_str!("../../README.md");
    let start = readme.find("## The interactive view").unwrap();
    let end = start + readme[start..].find("### The demo").unwrap();
    let section = &readme[start..end];
    // The keys of the table's first column, one token each (`↑/k`, `Tab`, `R`, `Ctrl-C`).
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .flat_map(|cell| cell.split([' ', ',']))
        .filter(|t| !t.is_empty())
        .collect();
    for scope in [Scope::Main, Scope::Wizard] {
        for b in keywarden::tui::keys::in_scope(scope) {
            assert!(
                listed.contains(&b.shown),
                "README's key table misses {} ({scope:?}): {listed:?}",
                b.shown
            );
        }
    }
}
