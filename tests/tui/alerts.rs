//! The view with a background `watch` (`KEYWARDEN_TUI_WATCH=1`): its alerts show in the
//! activity lines, by kind, environment and place, never with a key or a log line's text.

use super::support::*;
use keywarden::context::{Clock, Context, Env};
use keywarden::keys::fingerprint::Pepper;
use keywarden::project::Project;
use keywarden::project::home::Home;
use keywarden::tui::{App, Session, Settings, Theme};
use std::io::Write;
use std::time::{Duration, Instant};

fn app_watching(fx: &Fixture) -> App {
    let pass = fx.passphrase_file().into_os_string();
    let env = Env::from_fn(move |n| match n {
        "KEYWARDEN_PASSPHRASE_FILE" => Some(pass.clone()),
        "KEYWARDEN_KEYRING" => Some("off".into()),
        "KEYWARDEN_TEST_SCRYPT_LOG_N" => Some("4".into()),
        "KEYWARDEN_TUI_WATCH" => Some("1".into()),
        _ => None,
    });
    let home = Home::at(fx.home.path().to_path_buf());
    let session = Session {
        pepper: Pepper::load_or_create(&home).unwrap(),
        project: Project::open(Some(&fx.root), home, Context::new(env, Clock::Fixed(now())))
            .unwrap(),
    };
    App::new(
        session,
        Settings {
            theme: Theme::colored(),
            clear_after: Duration::from_secs(30),
        },
    )
    .unwrap()
}

/// Ticks until the screen satisfies `ok`, or panics with the last screen.
pub(super) fn until(app: &mut App, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        tick(app, Instant::now());
        app.settle(JOB_TIMEOUT);
        let s = screen(app, 160, 50);
        if ok(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_background_watch_shows_its_alerts_in_the_activity_lines() {
    let fx = Fixture::demo();
    let mut app = app_watching(&fx);
    // At start: production's rotation is overdue.
    until(&mut app, "the overdue rotation's alert", |s| {
        s.contains("alert:") && s.contains("[rotation_due]")
    });
    // Signature errors past the default threshold (20 in 60 s) in production's log.
    let log = fx.path("deploy/production/logs/app.log");
    let marker = "BadSignature: Signature does not match (marker-7f3a)";
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for _ in 0..25 {
        writeln!(f, "ERROR itsdangerous {marker}").unwrap();
    }
    drop(f);
    let s = until(&mut app, "the signature errors' alert", |s| {
        s.contains("[signature_errors]")
    });
    assert!(s.contains("production"), "{s}");
    // Its alerts are in the audit trail too; the view does not follow the trail as well
    // (each would be shown twice).
    assert!(!s.contains("alert (watch"), "{s}");
    // Never the log line's own text, never a key.
    assert!(!s.contains("marker-7f3a"), "{s}");
    assert_no_key(&s, &keys_used(&fx));
}
