//! `/` filters the environment list and the selected environment's findings, as lazygit
//! and k9s do: type, Enter keeps it, Esc clears it; the footer shows it. An open
//! incident is marked on its environment's row.

use super::support::*;
use insta::assert_snapshot;
use keywarden::tui::keys::Scope;
use ratatui::crossterm::event::KeyCode;

fn list(s: &str) -> Vec<String> {
    // The left pane's environment names (first rows after a badge).
    s.lines()
        .filter_map(|l| {
            let inner = l.strip_prefix("\"│")?;
            let name = inner.get(4..)?.split('│').next()?.trim();
            (["CRIT", "HIGH", "OK  ", "INFO", "MED ", "LOW "]
                .iter()
                .any(|b| inner.starts_with(b)))
            .then(|| name.split_whitespace().next().unwrap_or("").to_string())
        })
        .collect()
}

#[test]
fn slash_filters_the_environments_enter_keeps_it_esc_clears_it() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(app.scope(), Scope::Filter);
    type_text(&mut app, "prod");
    let s = screen(&app, 80, 24);
    assert_eq!(list(&s), ["production"], "{s}");
    assert!(
        s.lines().last().unwrap().contains("/prod"),
        "the footer shows it: {s}"
    );
    assert_eq!(app.selected_env().unwrap().name, "production");
    assert_snapshot!("filter_typing_80x24", s);

    // Enter keeps it: the keys work again on what is shown; the footer still says it.
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.scope(), Scope::Main);
    press(&mut app, KeyCode::Up);
    assert_eq!(
        app.selected_env().unwrap().name,
        "production",
        "only what is shown"
    );
    let s = screen(&app, 120, 40);
    assert_eq!(list(&s), ["production"], "{s}");
    assert!(s.lines().last().unwrap().contains("/prod"), "{s}");
    assert_snapshot!("filter_kept_120x40", s);

    // Esc clears it.
    press(&mut app, KeyCode::Esc);
    let s = screen(&app, 120, 40);
    assert_eq!(list(&s), ["development", "staging", "production"], "{s}");
    assert!(!s.lines().last().unwrap().contains("/prod"), "{s}");

    // Esc while typing clears it too.
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "zzz");
    assert!(screen(&app, 80, 24).contains("Nothing has /zzz"));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter(), None);
    assert_eq!(list(&screen(&app, 80, 24)).len(), 3);
}

#[test]
fn the_filter_narrows_the_selected_environments_findings() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "production");
    let env = app.selected_env().unwrap();
    assert!(env.findings.len() > 1);
    let code = env.findings[0].code.as_str().to_string();
    let with: usize = env
        .findings
        .iter()
        .filter(|f| f.code.as_str() == code || f.message.contains(&code))
        .count();
    let total = env.findings.len();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, &code);
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.selected_env().unwrap().name,
        "production",
        "has that finding"
    );
    let s = screen(&app, 120, 40);
    assert!(
        s.contains(&format!(
            "Findings ({with} of {total}, filtered by /{code})"
        )),
        "{s}"
    );
}

#[test]
fn an_open_incident_is_marked_on_its_environment() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    assert!(!screen(&app, 80, 24).contains("INCIDENT"));
    press(&mut app, KeyCode::Char('i'));
    press(&mut app, KeyCode::Enter);
    assert!(app.wizard().is_some());
    press(&mut app, KeyCode::Esc);
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        let row = s
            .lines()
            .find(|l| l.contains("staging") && l.contains("INCIDENT"))
            .unwrap_or_else(|| panic!("{s}"));
        assert!(row.starts_with("\"│"), "{row}");
    }
}
