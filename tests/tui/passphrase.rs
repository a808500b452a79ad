//! The backups' passphrase asked inside the view: restore with the identity locked and no
//! `KEYWARDEN_PASSPHRASE_FILE` opens a masked popup; a wrong passphrase says so and asks
//! again, Esc cancels, the right one runs the restore; what is typed is never drawn.

use super::support::*;
use insta::assert_snapshot;
use keywarden::records::backup::BackupStore;
use keywarden::tui::keys::Scope;
use keywarden::tui::{App, Settings, Theme};
use ratatui::crossterm::event::KeyCode;
use std::time::{Duration, Instant};

/// What the fixture's identity file was made with (see `Fixture::passphrase_file`).
const RIGHT: &str = "tui test passphrase";
const WRONG: &str = "hunter2-typed-but-never-drawn";

fn asking_app(fx: &Fixture) -> App {
    App::new(
        fx.session_asking(),
        Settings {
            theme: Theme::colored(),
            clear_after: Duration::from_secs(30),
        },
    )
    .unwrap()
}

fn restores(fx: &Fixture) -> usize {
    audit_events(fx)
        .iter()
        .filter(|e| e["action"] == "restore.started" || e["action"] == "restore")
        .count()
}

/// Staging rotated by the binary (with the passphrase file: the identity is made), then an app that
/// must ask, on the backups list with the retired key selected and its restore confirmed.
/// Returns the app and the fingerprint the restore puts back.
fn up_to_the_question(fx: &Fixture) -> (App, String) {
    // Another process rotates (this one would read back what it wrote without asking).
    let out = keywarden(fx, &["rotate", "staging", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut app = asking_app(fx);
    select(&mut app, "staging");
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
        .position(|l| l.contains("retired key"))
        .unwrap_or_else(|| panic!("{s}"));
    let wanted = rows[at]
        .split_whitespace()
        .find(|w| w.starts_with("kw:"))
        .unwrap()
        .to_string();
    for _ in 0..at {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.scope(), Scope::Confirm, "{}", screen(&app, 120, 40));
    press(&mut app, KeyCode::Char('y'));
    (app, wanted)
}

/// The popup alone (what is behind it holds a fresh key's fingerprint), with the state
/// home's temporary path and the backup's id (the time it was made) the same on every run.
fn fixed(fx: &Fixture, s: &str) -> String {
    let rows: Vec<Vec<char>> = s.lines().map(|l| l.chars().collect()).collect();
    let top = rows
        .iter()
        .position(|r| r.iter().collect::<String>().contains("Backups' passphrase"))
        .unwrap_or_else(|| panic!("no passphrase popup:\n{s}"));
    let left = rows[top].iter().position(|&c| c == '╭').unwrap();
    let right = rows[top].iter().position(|&c| c == '╮').unwrap();
    let mut out = String::new();
    for row in &rows[top..] {
        let line: String = row[left..=right].iter().collect();
        out.push_str(&line);
        out.push('\n');
        if row[left] == '╰' {
            break;
        }
    }
    let home = fx.home.path().display().to_string();
    out = out.replace(&home, &format!("{:<1$}", "/home", home.len()));
    for m in BackupStore::of(&fx.session().project).list() {
        out = out.replace(&m.id, &format!("{:<1$}", "BACKUP-ID", m.id.len()));
    }
    out
}

#[test]
fn restore_asks_for_the_passphrase_in_a_masked_popup_and_runs_once_it_opens() {
    let fx = Fixture::demo();
    let (mut app, wanted) = up_to_the_question(&fx);
    assert_eq!(app.scope(), Scope::Typing);
    assert!(!app.busy(), "nothing runs before the identity is open");
    let s = screen(&app, 80, 24);
    assert!(s.contains("Backups' passphrase"), "{s}");
    assert!(s.contains("backup-identity.age"), "{s}");
    let before = restores(&fx);

    // A wrong passphrase: never drawn, said to be wrong, asked again.
    type_text(&mut app, WRONG);
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        assert!(!s.contains(&WRONG[..8]), "{s}");
        assert!(
            !s.contains("*****") && !s.contains("•••"),
            "no mark per character: {s}"
        );
        assert_snapshot!(format!("passphrase_typed_{w}x{h}"), fixed(&fx, &s));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.scope(), Scope::Typing, "asked again");
    assert!(!app.busy());
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        assert!(s.contains("does not open it; try again"), "{s}");
        assert_snapshot!(format!("passphrase_wrong_{w}x{h}"), fixed(&fx, &s));
    }
    assert_eq!(restores(&fx), before, "nothing was restored");

    // Enter with nothing typed asks for it.
    press(&mut app, KeyCode::Enter);
    assert!(screen(&app, 80, 24).contains("Type the passphrase"));

    // The right one: the identity opens, the restore runs as a job.
    type_text(&mut app, RIGHT);
    assert!(!screen(&app, 120, 40).contains(RIGHT));
    press(&mut app, KeyCode::Enter);
    assert!(app.busy(), "{}", screen(&app, 80, 24));
    app.settle(JOB_TIMEOUT);
    assert_eq!(
        fingerprint_of(&app, "staging").as_deref(),
        Some(wanted.as_str()),
        "{}",
        screen(&app, 120, 40)
    );
    let events = audit_events(&fx);
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "restore.finish" && e["result"] == "ok"),
        "{events:?}"
    );

    // The identity was held for that job only: once it ended, it is dropped (other tests
    // of this binary may hold theirs a moment longer: wait for them).
    let store = BackupStore::of(&fx.session_asking().project);
    let deadline = Instant::now() + JOB_TIMEOUT;
    while store.crypt().is_open() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!store.crypt().is_open(), "the identity outlived the job");
    assert!(store.crypt().needs_passphrase());
}

#[test]
fn esc_cancels_the_passphrase_and_nothing_runs() {
    let fx = Fixture::demo();
    let (mut app, _) = up_to_the_question(&fx);
    assert_eq!(app.scope(), Scope::Typing);
    let before = restores(&fx);
    let staging = fx.read("deploy/staging/.env");
    type_text(&mut app, "half a passphr");
    press(&mut app, KeyCode::Esc);
    assert_ne!(app.scope(), Scope::Typing);
    assert!(!app.busy());
    app.settle(Duration::from_millis(200));
    assert_eq!(restores(&fx), before);
    assert_eq!(fx.read("deploy/staging/.env"), staging);
    assert!(!screen(&app, 120, 40).contains("half a passphr"));
}

#[test]
fn the_passphrase_buffer_has_a_fixed_size_and_says_when_it_is_full() {
    let fx = Fixture::demo();
    let (mut app, _) = up_to_the_question(&fx);
    type_text(&mut app, &"x".repeat(keywarden::tui::MAX_PASSPHRASE + 5));
    let s = screen(&app, 120, 40);
    assert!(s.contains("at most 1024 bytes"), "{s}");
    press(&mut app, KeyCode::Backspace);
    assert!(!screen(&app, 120, 40).contains("at most 1024 bytes"));
}
