//! The command-line side of the TUI: `keywarden` alone, `keywarden demo`, `--help`.

use super::support::*;
use std::process::Command;

fn kw(home: &std::path::Path) -> Command {
    let mut c = Command::new(bin());
    c.env("KEYWARDEN_HOME", home)
        .envs(backup_env(home))
        .env_remove("SECRET_KEY");
    c
}

#[test]
fn without_a_terminal_the_view_says_what_to_use() {
    let home = tempfile::tempdir().unwrap();
    let out = kw(home.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs a terminal") && err.contains("keywarden status"),
        "{err}"
    );
}

#[test]
fn help_lists_the_commands_but_not_the_internal_one() {
    let home = tempfile::tempdir().unwrap();
    let out = kw(home.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["demo", "status", "copy", "set", "--clear-after"] {
        assert!(help.contains(cmd), "{cmd} missing from:\n{help}");
    }
    assert!(!help.contains("clipboard-serve"), "{help}");
}

#[test]
fn demo_no_tui_creates_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    let out = kw(tmp.path())
        .args(["demo", "--no-tui"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("status") && text.contains(dir.to_str().unwrap()),
        "{text}"
    );
    assert!(dir.join("keywarden.toml").is_file());
    // A second time, the folder is no longer empty: refused, untouched.
    let before = std::fs::read(dir.join("deploy/production/.env")).unwrap();
    let again = kw(tmp.path())
        .args(["demo", "--no-tui"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read(dir.join("deploy/production/.env")).unwrap(),
        before
    );
}

#[test]
fn a_bad_clear_delay_is_refused_before_anything_happens() {
    let home = tempfile::tempdir().unwrap();
    let out = kw(home.path())
        .env("KEYWARDEN_CLEAR_AFTER", "soon")
        .args(["copy", "production"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEYWARDEN_CLEAR_AFTER"));
}

#[test]
fn the_demo_status_shows_what_the_guide_warns_about() {
    let fx = Fixture::demo();
    let out = kw(fx.home.path())
        .arg("--project")
        .arg(&fx.root)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes = |env: &str| -> Vec<String> {
        json["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == env)
            .unwrap()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    let has = |env: &str, code: &str| codes(env).iter().any(|c| c == code);
    assert!(has("production", "KW001"), "the guide's published key");
    assert!(has("production", "KW104"), "a world-readable .env");
    assert!(has("production", "KW109"), "rotation overdue");
    assert!(has("staging", "KW102"), "drift");
    assert!(
        has("staging", "KW103") && has("development", "KW103"),
        "a shared key"
    );
    if crate::common::require("git", "the demo's committed secrets file (KW108)") {
        assert!(has("development", "KW108"), "a committed secrets file");
    }
    let config = fx.read("backend/app/config.py");
    assert!(
        config.contains("SECRET_KEY = os.getenv(\"SECRET_KEY\", \""),
        "a hard-coded key"
    );
}

#[test]
fn demo_without_a_terminal_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    let out = kw(tmp.path()).arg("demo").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.exists());
}
