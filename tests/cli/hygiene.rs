//! No key ever leaves the targets and the backup store: after a session that uses every
//! command, neither stdout, stderr, `state.json`, the audit trail nor any other state file
//! holds any key that was ever in a target.

use crate::support::{Sandbox, assert_no_key};
use keywarden::targets::{dotenv::DotenvFile, toml::TomlFile};
use std::collections::BTreeSet;

const SHARED: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";
const GIVEN: &str = "Bn7]vM3[cX9{zA1}sD4|fG6;hJ2:kL8,qW5.eR0<tY3>uI7?oP1aQ2wS3eD4rF5tG";

fn keys_in_targets(sb: &Sandbox, into: &mut BTreeSet<String>) {
    for rel in [".env", ".env.staging", "qa.env", "deploy/production/.env"] {
        if let Ok(text) = std::fs::read_to_string(sb.project.path().join(rel)) {
            let parsed = DotenvFile::parse(&text).unwrap();
            for e in parsed.entries() {
                if let Some(v) = e.value().filter(|v| v.len() >= 16) {
                    into.insert(v.to_string());
                }
            }
        }
    }
    if let Ok(text) =
        std::fs::read_to_string(sb.project.path().join("deploy/production/secrets.toml"))
        && let Some(v) = TomlFile::parse(&text).unwrap().get("SECRET_KEY").unwrap()
    {
        into.insert(v);
    }
}

#[test]
fn no_key_in_any_output_or_state_file() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        r#"version = 1
[[environments]]
name = "development"
targets = [{ path = ".env" }]
[[environments]]
name = "staging"
restart = "cat .env.staging"
targets = [{ path = ".env.staging" }]
[[environments]]
name = "qa"
restart = "echo qa restarted with $(cat qa.env)"
verify = "false"
targets = [{ path = "qa.env" }]
[[environments]]
name = "production"
restart = "echo restarting with $(cat deploy/production/.env)"
verify = "grep -q SECRET_KEY deploy/production/secrets.toml"
grace_days = 3
fallback = { path = "deploy/production/.env", key = "SECRET_KEY_FALLBACKS" }
targets = [
  { path = "deploy/production/.env" },
  { path = "deploy/production/secrets.toml" },
  { env = "SECRET_KEY" },
]
"#,
    );
    sb.write(".env", "SECRET_KEY=dev-secret-key-for-testing-only\n");
    sb.write(
        "qa.env",
        "SECRET_KEY='qa-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ'\n",
    );
    sb.write(".env.staging", &format!("SECRET_KEY='{SHARED}'\n"));
    sb.write(
        "deploy/production/.env",
        &format!("SECRET_KEY='{SHARED}'\n"),
    );
    sb.write(
        "deploy/production/secrets.toml",
        &format!("SECRET_KEY = '{SHARED}'\n"),
    );

    let mut keys = BTreeSet::new();
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    keys_in_targets(&sb, &mut keys);
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = sb.kw();
        cmd.args(args).env("SECRET_KEY", SHARED);
        if let Some(s) = stdin {
            cmd.write_stdin(s.to_string());
        }
        let out = cmd.output().unwrap();
        outputs.push((format!("{args:?} stdout"), out.stdout));
        outputs.push((format!("{args:?} stderr"), out.stderr));
        // Every key that passes through a target, including the ones replaced later.
        keys_in_targets(&sb, &mut keys);
    };
    run(&["status"], None);
    run(&["status", "--json"], None);
    run(&["check"], None);
    run(&["check", "--json"], None);
    run(&["check", "--sarif"], None);
    run(&["analyze", "--json"], Some(SHARED));
    run(&["set", "development", "--stdin"], Some(GIVEN));
    run(
        &["set", "development", "--stdin"],
        Some("it's-not-portable-0123456789abcdefghijkl"),
    );
    run(&["set", "staging", "--generate"], None);
    run(&["rotate", "staging", "--yes"], None);
    run(&["rotate", "production", "--yes"], None);
    run(&["revoke", "production", "--reason", "test", "--yes"], None);
    run(&["fix", "production"], None);
    run(&["backups"], None);
    run(&["backups", "--json"], None);
    run(&["audit"], None);
    run(&["audit", "--json"], None);
    run(&["audit", "--verify"], None);
    // A rotation stopped by a failing verify, then rolled back: the restart that runs
    // with the old key echoes it.
    run(&["rotate", "qa", "--yes"], None);
    run(&["rotate", "qa", "--rollback"], None);
    // Restore a file backup of development.
    let listing = sb
        .kw()
        .args(["backups", "development", "--json"])
        .output()
        .unwrap();
    let backups: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    let file_backup = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "file")
        .map(|b| b["id"].as_str().unwrap().to_string())
        .unwrap();
    run(&["restore", "development", &file_backup, "--yes"], None);
    // The compromised-key playbook, whose restart step runs every restart command.
    run(
        &["incident", "start", "compromised", "staging", "--no-prompt"],
        None,
    );
    let listing = sb
        .kw()
        .args(["incident", "list", "--json"])
        .output()
        .unwrap();
    let incidents: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    let id = incidents[0]["id"].as_str().unwrap().to_string();
    for step in ["revoke", "update-all", "restart-all", "notify"] {
        run(&["incident", "resume", &id, "--step", step, "--run"], None);
    }
    run(&["incident", "report", &id], None);
    run(&["scan"], None);
    run(&["scan", "--json"], None);
    run(&["status", "--json"], None);
    keys.insert(GIVEN.to_string());
    keys.insert(SHARED.to_string());
    assert!(
        keys.len() >= 6,
        "the session went through several keys: {}",
        keys.len()
    );

    // The commands that echo keys did run, and printed fingerprints in their place.
    let printed = |args: &str| -> String {
        outputs
            .iter()
            .filter(|(w, _)| w.starts_with(args))
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect()
    };
    assert!(
        printed("[\"rotate\", \"qa\", \"--rollback\"]")
            .contains("qa restarted with SECRET_KEY='kw:")
    );
    assert!(printed("[\"incident\", \"resume\"").contains("SECRET_KEY='kw:"));
    for (what, bytes) in &outputs {
        for k in &keys {
            assert_no_key(what, bytes, k);
        }
    }
    let mut checked = 0;
    for (path, bytes) in sb.state_files() {
        if path.ends_with("content") {
            continue; // the backup store: where keys are meant to be
        }
        checked += 1;
        for k in &keys {
            assert_no_key(&path.display().to_string(), &bytes, k);
        }
    }
    assert!(
        checked >= 10,
        "state.json, audit.jsonl, pepper, lock and backup records: {checked}"
    );
}
