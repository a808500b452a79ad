//! The view shows the alerts of a `keywarden watch` running as its own process: the watch
//! writes each alert to the audit trail, the view follows the trail. Real processes: the
//! `keywarden` binary runs the watch beside the view's `App`.

use super::alerts::until;
use super::support::*;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// `keywarden watch ARGS` on the fixture, with the fixture's state home, passphrase file
/// and frozen clock.
fn watch_command(fx: &Fixture, clock_dir: &Path, args: &[&str]) -> Command {
    let clock = clock_dir.join("now");
    std::fs::write(&clock, NOW).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keywarden"));
    cmd.current_dir(&fx.root)
        .env("KEYWARDEN_HOME", fx.home.path())
        .env("KEYWARDEN_PASSPHRASE_FILE", fx.passphrase_file())
        .env("KEYWARDEN_KEYRING", "off")
        .env("KEYWARDEN_TEST_SCRYPT_LOG_N", "4")
        .env("KEYWARDEN_TEST_CLOCK_FILE", &clock)
        .env("NO_COLOR", "1")
        .env_remove("SECRET_KEY")
        .env_remove("KEYWARDEN_TUI_WATCH")
        .arg("watch")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn alerts_of_a_separate_watch_process_show_in_the_view_as_they_are_raised() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    let first = screen(&app, 160, 50);
    assert!(!first.contains("alert (watch"), "{first}");

    let clock = tempfile::tempdir().unwrap();
    let _watch = Running(watch_command(&fx, clock.path(), &[]).spawn().unwrap());
    // At start the watch raises production's overdue rotation.
    until(&mut app, "the overdue rotation's alert", |s| {
        s.contains("alert (watch): production rotation_due")
    });
    // Signature errors past the default threshold (20 in 60 s) in production's log.
    let log = fx.path("deploy/production/logs/app.log");
    let marker = "BadSignature: Signature does not match (marker-41c9)";
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for _ in 0..25 {
        writeln!(f, "ERROR itsdangerous {marker}").unwrap();
    }
    drop(f);
    let s = until(&mut app, "the signature errors' alert", |s| {
        s.contains("alert (watch): production signature_errors")
    });
    // The place, never the log line's text, never a key.
    assert!(s.contains("app.log"), "{s}");
    assert!(!s.contains("marker-41c9"), "{s}");
    assert_no_key(&s, &keys_used(&fx));
}

#[test]
fn the_view_opens_with_the_alerts_a_watch_raised_in_the_last_day() {
    let fx = Fixture::demo();
    let clock = tempfile::tempdir().unwrap();
    let out = watch_command(&fx, clock.path(), &["--once"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "watch --once: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut app = fx.app();
    tick(&mut app, Instant::now());
    let s = screen(&app, 160, 50);
    assert!(
        s.contains("alert (watch, ") && s.contains("production rotation_due"),
        "{s}"
    );
    assert_no_key(&s, &keys_used(&fx));
    // Shown once: later ticks add nothing already shown.
    let count = |s: &str| s.matches("production rotation_due").count();
    let before = count(&s);
    for _ in 0..3 {
        tick(&mut app, Instant::now());
    }
    assert_eq!(count(&screen(&app, 160, 50)), before);
}
