//! End to end in a real terminal: `keywarden demo DIR` in a detached tmux session, driven
//! with `send-keys`, read with `capture-pane`. Polls with deadlines, never fixed sleeps.

use super::support::*;
use crate::common::tmux::Tmux;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn production_fingerprint(dir: &Path, home: &Path) -> String {
    let out = Command::new(bin())
        .args(["--project"])
        .arg(dir)
        .args(["status", "--json"])
        .env("KEYWARDEN_HOME", home)
        .envs(backup_env(home))
        .env_remove("SECRET_KEY")
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "production")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn demo_then_generate_production_in_tmux() {
    if !require("tmux", "the TUI end to end in a real terminal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let home = tmp.path().join("home");
    let bin = bin().to_str().unwrap();
    let tmux = Tmux::start(
        100,
        30,
        &tmux_env(&home)
            .iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[bin, "demo", dir.to_str().unwrap()],
    );
    tmux.wait_for("the main view", 20, |s| {
        s.contains("Environments") && s.contains("production") && s.contains("? help")
    });
    let before = production_fingerprint(&dir, &home);

    tmux.keys(&["j", "j"]);
    tmux.wait_for("production selected", 10, |s| s.contains("╭ production"));
    tmux.keys(&["g"]);
    tmux.wait_for("the typed confirmation", 10, |s| {
        s.contains("Type production to confirm")
    });
    tmux.text("production");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the new key", 20, |s| s.contains("production: new key kw:"));
    assert!(
        !s.contains(&before),
        "the old fingerprint is gone from the screen:\n{s}"
    );
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.alive() {
        assert!(
            Instant::now() < deadline,
            "q did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let after = production_fingerprint(&dir, &home);
    assert_ne!(after, before);
    assert!(
        s.contains(&after),
        "the screen showed the key that is on disk"
    );
    let template = include_str!("../../assets/demo/deploy/production/dot-env");
    let written = std::fs::read_to_string(dir.join("deploy/production/.env")).unwrap();
    let other = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("SECRET_KEY="))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        other(&written),
        other(template),
        "every other line is unchanged"
    );
    assert_eq!(written.lines().count(), template.lines().count());
    let key_line = written
        .lines()
        .find(|l| l.starts_with("SECRET_KEY="))
        .unwrap();
    assert!(key_line.starts_with("SECRET_KEY='") && key_line.ends_with('\''));
}

fn keywarden_json(dir: &Path, home: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(bin())
        .arg("--project")
        .arg(dir)
        .args(args)
        .env("KEYWARDEN_HOME", home)
        .envs(backup_env(home))
        .env_remove("SECRET_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn wait_until_gone(tmux: &Tmux) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.alive() {
        assert!(
            Instant::now() < deadline,
            "q did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The demo in a real terminal: `R` on staging runs the demo's restart and verify
/// scripts on a thread, streams their output, and the key on disk changes.
#[test]
fn rotate_staging_in_tmux() {
    if !require("tmux", "the TUI end to end in a real terminal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let home = tmp.path().join("home");
    let bin = bin().to_str().unwrap();
    let tmux = Tmux::start(
        100,
        30,
        &tmux_env(&home)
            .iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[bin, "demo", dir.to_str().unwrap()],
    );
    tmux.wait_for("the main view", 20, |s| s.contains("? help"));
    let staging = |json: &serde_json::Value| {
        json["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "staging")
            .unwrap()
            .clone()
    };
    let before = staging(&keywarden_json(&dir, &home, &["status", "--json"]));
    assert!(before["fingerprint"].is_null(), "the demo's staging drifts");

    tmux.keys(&["j"]);
    tmux.wait_for("staging selected", 10, |s| s.contains("╭ staging"));
    tmux.keys(&["R"]);
    tmux.wait_for("the confirmation", 10, |s| {
        s.contains("Rotate staging's key?")
    });
    tmux.keys(&["y"]);
    let s = tmux.wait_for("the rotation's end", 30, |s| {
        s.contains("staging: now uses kw:")
    });
    // The pane shows the report from its first line; the verify output streamed before
    // it is there when scrolled back.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = tmux.screen();
        if now.contains("baguette-metro (staging) is healthy") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the verify output streamed:\n{now}"
        );
        tmux.keys(&["["]);
        std::thread::sleep(Duration::from_millis(50));
    }
    tmux.keys(&["q"]);
    wait_until_gone(&tmux);

    let after = staging(&keywarden_json(&dir, &home, &["status", "--json"]));
    let fp = after["fingerprint"]
        .as_str()
        .expect("one key in every file");
    assert!(s.contains(fp), "the screen named the key on disk:\n{s}");
    for t in before["targets"].as_array().unwrap() {
        assert_ne!(t["fingerprint"].as_str(), Some(fp));
    }
    let audit = keywarden_json(&dir, &home, &["audit", "--json"]);
    let finish = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "rotate.finish" && e["environment"] == "staging")
        .expect("rotate.finish in the audit trail");
    assert_eq!(finish["fingerprints"]["new"], fp);
    assert!(dir.join("deploy/staging/restarted-at").is_file());
}

/// The start of the compromised-key wizard in a real terminal: open it on production, run
/// the revoke step, quit; `incident list --json` has the step done.
#[test]
fn compromised_wizard_in_tmux() {
    if !require("tmux", "the TUI end to end in a real terminal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let home = tmp.path().join("home");
    let bin = bin().to_str().unwrap();
    let tmux = Tmux::start(
        100,
        30,
        &tmux_env(&home)
            .iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[bin, "demo", dir.to_str().unwrap()],
    );
    tmux.wait_for("the main view", 20, |s| s.contains("? help"));
    let before = production_fingerprint(&dir, &home);
    tmux.keys(&["j", "j"]);
    tmux.wait_for("production selected", 10, |s| s.contains("╭ production"));
    tmux.keys(&["i"]);
    tmux.wait_for("the incident picker", 10, |s| {
        s.contains("Start: Compromised key")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the wizard", 10, |s| {
        s.contains("[>] 1. Revoke the compromised key now") && s.contains("0/7")
    });
    tmux.keys(&["r"]);
    tmux.wait_for("the typed confirmation", 10, |s| {
        s.contains("Type production to confirm")
    });
    tmux.text("production");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the step done", 30, |s| {
        s.contains("[x] 1. Revoke the compromised key now") && s.contains("1/7")
    });
    assert!(s.contains("[>] 2. Check the new key"), "{s}");
    tmux.keys(&["q"]);
    wait_until_gone(&tmux);

    assert_ne!(production_fingerprint(&dir, &home), before);
    let list = keywarden_json(&dir, &home, &["incident", "list", "--json"]);
    let incident = &list.as_array().unwrap()[0];
    assert_eq!(incident["environment"], "production");
    assert_eq!(incident["playbook"], "compromised");
    let revoke = &incident["steps"][0];
    assert_eq!(revoke["id"], "revoke");
    assert_eq!(revoke["status"], "done");
    assert!(
        revoke["result"]
            .as_str()
            .unwrap()
            .contains(&format!("revoked {before}")),
        "{revoke}"
    );
}

/// Quitting while a rotation runs: the view waits for it and, once the terminal is
/// restored, prints how it ended (here: its restart failed, so the rotation is left
/// unfinished).
#[test]
fn quitting_during_a_rotation_that_fails_prints_how_it_ended() {
    if !require("tmux", "the TUI end to end in a real terminal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let home = tmp.path().join("home");
    let out = Command::new(bin())
        .args(["demo", "--no-tui"])
        .arg(&dir)
        .env("KEYWARDEN_HOME", &home)
        .envs(backup_env(&home))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        dir.join("scripts/restart.sh"),
        "sleep 1\necho the service will not start\nexit 1\n",
    )
    .unwrap();
    let script = format!(
        "'{}' --project '{}'; echo KEYWARDEN-EXITED; sleep 30",
        bin().display(),
        dir.display()
    );
    let tmux = Tmux::start(
        100,
        30,
        &tmux_env(&home)
            .iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &["sh", "-c", &script],
    );
    tmux.wait_for("the main view", 20, |s| {
        s.contains("Environments") && s.contains("? help")
    });
    tmux.keys(&["j"]);
    tmux.wait_for("staging selected", 10, |s| s.contains("╭ staging"));
    tmux.keys(&["R"]);
    tmux.wait_for("the confirmation", 10, |s| {
        s.contains("Rotate staging's key?")
    });
    tmux.keys(&["y"]);
    tmux.wait_for("the rotation running", 10, |s| {
        s.contains("rotating the key")
    });
    tmux.keys(&["q"]);
    let s = tmux.wait_for("the view gone, the outcome printed", 30, |s| {
        s.contains("KEYWARDEN-EXITED")
    });
    assert!(s.contains("restart failed"), "{s}");
    assert!(s.contains("unfinished rotation of staging"), "{s}");
}

/// A target file changed from outside (another program) shows on screen by itself: no
/// key pressed, the view reads the files again and names the file.
#[test]
fn a_file_changed_from_outside_shows_in_tmux() {
    if !require("tmux", "the TUI end to end in a real terminal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let home = tmp.path().join("home");
    let bin = bin().to_str().unwrap();
    let tmux = Tmux::start(
        100,
        30,
        &tmux_env(&home)
            .iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[bin, "demo", dir.to_str().unwrap()],
    );
    tmux.wait_for("the main view", 20, |s| {
        s.contains("Environments") && s.contains("? help")
    });
    let env_file = dir.join(".env");
    let text = std::fs::read_to_string(&env_file).unwrap();
    let changed: String = text
        .lines()
        .map(|l| {
            if l.starts_with("SECRET_KEY=") {
                "SECRET_KEY='changed-by-another-program-0123456789-abcdefghij-klmnop'".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&env_file, changed + "\n").unwrap();
    let status = keywarden_json(&dir, &home, &["status", "--json"]);
    let fp = status["environments"][0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["path"] == ".env")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let s = tmux.wait_for("the new fingerprint, unasked", 15, |s| s.contains(&fp));
    assert!(s.contains(".env changed on disk"), "{s}");
    assert!(!s.contains("changed-by-another"), "no key on screen:\n{s}");
    tmux.keys(&["q"]);
    wait_until_gone(&tmux);
}

/// The background scan of the view never calls a tree clean when it could not read part
/// of it: a file it may not open is named in the activity pane, and the summary counts
/// only the files read. (Run as root, which no mode stops: the open is made to fail by
/// strace.)
#[test]
fn the_views_scan_names_a_file_it_could_not_read() {
    if !require("tmux", "the TUI end to end in a real terminal")
        || !require("strace", "a file the view's scan may not open")
    {
        return;
    }
    const KEY: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(tmp.path()).unwrap().join("proj");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(dir.join("notes")).unwrap();
    std::fs::write(dir.join(".env"), format!("SECRET_KEY='{KEY}'\n")).unwrap();
    std::fs::write(dir.join("notes/ok.txt"), "nothing here\n").unwrap();
    let locked = dir.join("notes/locked.txt");
    std::fs::write(&locked, format!("pasted {KEY}\n")).unwrap();
    let tmux = Tmux::start(
        200,
        40,
        &tmux_env(&home)
            .iter()
            .map(|(k, v)| (*k, v.as_path()))
            .collect::<Vec<_>>(),
        &[
            "strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-P",
            locked.to_str().unwrap(),
            "-e",
            "trace=open,openat",
            "-e",
            "inject=open,openat:error=EACCES",
            bin().to_str().unwrap(),
            "--project",
            dir.to_str().unwrap(),
        ],
    );
    let s = tmux.wait_for("the scan's end", 30, |s| {
        s.contains("could be read") || s.contains("no key out of place")
    });
    assert!(
        s.contains("scan: 1 file(s) or folder(s) could not be read"),
        "the unread file is said:\n{s}"
    );
    assert!(
        s.contains("notes/locked.txt: Permission denied"),
        "and named:\n{s}"
    );
    assert!(
        s.contains("no key out of place in what could be read of the project's 2 files"),
        "{s}"
    );
    assert!(
        !s.contains(KEY) && !s.contains(&KEY[..16]),
        "no key on screen:\n{s}"
    );
    tmux.keys(&["q"]);
    wait_until_gone(&tmux);
}
