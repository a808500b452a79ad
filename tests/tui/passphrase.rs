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

    // The right one: the identity opens. The confirmation could not check the locked
    // backup; now it can: staging's retired key is the guide's published one (KW001), so
    // nothing runs yet and the confirmation comes back with the warning.
    type_text(&mut app, RIGHT);
    assert!(!screen(&app, 120, 40).contains(RIGHT));
    press(&mut app, KeyCode::Enter);
    assert!(
        !app.busy(),
        "nothing runs before the published key is shown"
    );
    assert_eq!(app.scope(), Scope::Confirm);
    let s = screen(&app, 120, 40);
    assert!(s.contains("Checked now that the backups are open"), "{s}");
    assert!(s.contains("published key") && s.contains("KW001"), "{s}");
    assert!(!s.contains("is not known"), "{s}");
    assert_eq!(restores(&fx), before, "nothing was restored");
    // Confirmed again, knowing: the passphrase once more, then the restore runs as a job.
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.scope(), Scope::Typing, "{}", screen(&app, 80, 24));
    type_text(&mut app, RIGHT);
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

/// Staging rotated by the binary (its retired key is now in an encrypted backup this
/// process did not write), then an app that must ask.
fn with_a_retired_key(fx: &Fixture) -> App {
    let out = keywarden(fx, &["rotate", "staging", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    asking_app(fx)
}

fn rotations(fx: &Fixture) -> usize {
    audit_events(fx)
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("rotate"))
        })
        .count()
}

#[test]
fn a_rotation_that_runs_commands_asks_for_the_passphrase_first_so_retired_keys_are_hidden() {
    let fx = Fixture::demo();
    let mut app = with_a_retired_key(&fx);
    select(&mut app, "staging");
    let before_file = fx.read("deploy/staging/.env");
    let before = rotations(&fx);
    press(&mut app, KeyCode::Char('R'));
    assert_eq!(app.scope(), Scope::Confirm, "{}", screen(&app, 120, 40));
    press(&mut app, KeyCode::Char('y'));
    // Asked before anything runs: the restart and verify output must not show the
    // retired key kept in the backups.
    assert_eq!(app.scope(), Scope::Typing, "{}", screen(&app, 120, 40));
    assert!(!app.busy(), "nothing runs before the backups are open");
    let s = screen(&app, 120, 40);
    assert!(s.contains("Backups' passphrase"), "{s}");
    assert!(s.contains("retired and revoked keys"), "{s}");
    assert_snapshot!("passphrase_before_commands_120x40", fixed(&fx, &s));
    assert_snapshot!(
        "passphrase_before_commands_80x24",
        fixed(&fx, &screen(&app, 80, 24))
    );

    // Esc cancels the rotation: nothing changes.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.scope(), Scope::Main);
    app.settle(Duration::from_millis(200));
    assert!(!app.busy());
    assert_eq!(fx.read("deploy/staging/.env"), before_file);
    assert_eq!(rotations(&fx), before);

    // The right passphrase: the rotation runs, with the identity open.
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('y'));
    type_text(&mut app, RIGHT);
    press(&mut app, KeyCode::Enter);
    assert!(app.busy(), "{}", screen(&app, 80, 24));
    app.settle(JOB_TIMEOUT);
    assert_ne!(fx.read("deploy/staging/.env"), before_file);
}

#[test]
fn a_revocation_and_an_incident_step_that_run_commands_ask_too() {
    let fx = Fixture::demo();
    let mut app = with_a_retired_key(&fx);
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('X'));
    type_text(&mut app, "TICKET-1");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.scope(), Scope::Typing, "{}", screen(&app, 120, 40));
    assert!(screen(&app, 120, 40).contains("retired and revoked keys"));
    assert!(!app.busy());
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.scope(), Scope::Main);
    assert!(!app.busy());

    // The compromised playbook's first step (revoke) on staging: asked before it runs.
    let before = fx.read("deploy/staging/.env");
    press(&mut app, KeyCode::Char('i'));
    press(&mut app, KeyCode::Enter);
    assert!(app.wizard().is_some(), "{}", screen(&app, 120, 40));
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.scope(), Scope::Typing, "{}", screen(&app, 120, 40));
    assert!(screen(&app, 120, 40).contains("retired and revoked keys"));
    press(&mut app, KeyCode::Esc);
    app.settle(std::time::Duration::from_millis(200));
    assert!(!app.busy());
    assert_eq!(
        fx.read("deploy/staging/.env"),
        before,
        "the step did not run"
    );
    assert_eq!(
        app.wizard().unwrap().incident.steps[0].status,
        keywarden::incident::Status::Pending
    );
}

#[test]
fn a_rotation_without_commands_to_run_does_not_ask() {
    let fx = Fixture::demo();
    // No restart, verify or notify anywhere: nothing's output to hide keys from.
    let manifest = fx.read("keywarden.toml");
    let stripped: String = manifest
        .lines()
        .filter(|l| {
            !l.starts_with("restart") && !l.starts_with("verify") && !l.starts_with("notify")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    drop(with_a_retired_key(&fx));
    fx.write("keywarden.toml", &stripped);
    let mut app = asking_app(&fx);
    select(&mut app, "development");
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('y'));
    assert_ne!(app.scope(), Scope::Typing, "{}", screen(&app, 120, 40));
    app.settle(JOB_TIMEOUT);
}
