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

/// The demo's production with the compromised playbook open, on screen.
fn compromised(fx: &Fixture) -> (keywarden::tui::App, String) {
    use keywarden::incident::{Incidents, playbook};
    let session = fx.session();
    let store = Incidents::new(&session.project);
    let pb = playbook::load(&session.project, "compromised").unwrap();
    let mut app = fx.app();
    let fp = app.status().environments[2].fingerprint.clone();
    let incident = store.open(&pb, "production", fp).unwrap();
    app.update(keywarden::tui::Action::OpenIncident(incident.id.clone()));
    (app, incident.id)
}

#[test]
fn incident_popups_use_step_titles_and_step_3_names_the_environments_it_rotates() {
    use keywarden::incident::{Incidents, Status, playbook};
    let fx = Fixture::demo();
    let (_, id) = compromised(&fx);
    let session = fx.session();
    let store = Incidents::new(&session.project);
    let pb = playbook::load(&session.project, "compromised").unwrap();
    let mut incident = store.load(&id).unwrap();
    // Development holds production's key too: step 3 will rotate it.
    let prod = fx.read("deploy/production/.env");
    let key_line = prod.lines().find(|l| l.starts_with("SECRET_KEY")).unwrap();
    fx.write(".env", &format!("{key_line}\n"));
    for s in ["revoke", "generate"] {
        store
            .record(&mut incident, &pb, s, Status::Done, None, None)
            .unwrap();
    }
    let mut app = fx.app();
    app.update(keywarden::tui::Action::ClosePopup);
    app.update(keywarden::tui::Action::OpenIncident(id));
    let s = screen(&app, 120, 40);
    assert!(!s.contains("`rotate-sharing`"), "{s}");
    press(&mut app, KeyCode::Char('r'));
    let s = screen(&app, 120, 40);
    let title = pb.step("update-all").unwrap().title.clone();
    assert!(s.contains(&format!("{title} on production?")), "{s}");
    assert!(
        !s.contains("(rotate-sharing)") && !s.contains("Run `"),
        "{s}"
    );
    assert!(s.contains("It rotates development"), "{s}");
}

#[test]
fn a_step_that_ran_but_stays_pending_is_shown_open_with_its_result() {
    use keywarden::incident::{Incidents, Status, playbook};
    let fx = Fixture::demo();
    let (_, id) = compromised(&fx);
    let session = fx.session();
    let store = Incidents::new(&session.project);
    let pb = playbook::load(&session.project, "compromised").unwrap();
    let mut incident = store.load(&id).unwrap();
    for s in [
        "revoke",
        "generate",
        "update-all",
        "restart-all",
        "audit-logs",
    ] {
        store
            .record(&mut incident, &pb, s, Status::Done, None, None)
            .unwrap();
    }
    store
        .record(
            &mut incident,
            &pb,
            "notify",
            Status::Pending,
            Some("draft written; no notify command: send it to the security team yourself".into()),
            None,
        )
        .unwrap();
    let mut app = fx.app();
    app.update(keywarden::tui::Action::ClosePopup);
    app.update(keywarden::tui::Action::OpenIncident(id));
    let w = app.wizard().unwrap();
    assert_eq!(w.step_id(), Some("notify"), "the open step is on screen");
    let s = screen(&app, 120, 40);
    let notify_title = pb.step("notify").unwrap().title.clone();
    let row = s
        .lines()
        .find(|l| l.contains(&notify_title))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(!row.contains("[x]"), "not marked done: {row}");
    assert!(s.contains("open: ran"), "{s}");
    assert!(s.contains("send it to the security team yourself"), "{s}");
    assert!(!s.contains("notify: done"), "{s}");
}

#[test]
fn quitting_during_a_rotation_that_fails_says_so_and_the_next_start_says_why_it_stopped() {
    let fx = Fixture::demo();
    fx.write(
        "scripts/restart.sh",
        "echo the service will not start\nexit 1\n",
    );
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('y'));
    assert!(app.busy(), "{}", screen(&app, 80, 24));
    press(&mut app, KeyCode::Char('q'));
    assert!(app.is_running(), "waits for the job");
    app.settle(JOB_TIMEOUT);
    assert!(!app.is_running());
    let parting = app.parting().join("\n");
    assert!(parting.contains("restart failed"), "{parting}");
    assert!(
        parting.contains("unfinished rotation of staging"),
        "{parting}"
    );

    // The next start: the unfinished rotation says which step failed and how.
    let app = fx.app();
    assert_eq!(app.scope(), Scope::Unfinished);
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        assert!(s.contains("restart failed"), "{s}");
        assert!(s.contains("exit 1"), "{s}");
        assert!(s.contains("the service will not start"), "{s}");
    }
}

/// The details pane's "monitoring" item counts `[watch] webhook` as a notifier, as the
/// checklist of `watch` does: the same project gives the same answer on every face.
#[test]
fn a_watch_webhook_counts_as_the_notifier_of_the_monitoring_item() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "production");
    let before = screen(&app, 120, 40);
    assert!(
        before.contains("✗ monitoring: no notify command or [watch] webhook"),
        "{before}"
    );
    let manifest = fx.read("keywarden.toml");
    fx.write(
        "keywarden.toml",
        &format!("{manifest}\n[watch]\nwebhook = \"http://127.0.0.1:9/keywarden\"\n"),
    );
    let mut app = fx.app();
    select(&mut app, "production");
    let after = screen(&app, 120, 40);
    let line = after
        .lines()
        .find(|l| l.contains("monitoring"))
        .unwrap_or_else(|| panic!("no monitoring item:\n{after}"));
    assert!(line.contains("✓ monitoring"), "{line}\n{after}");
}
