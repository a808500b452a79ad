//! `--json` on every command that changes something: scripts read back the new
//! fingerprint, the backup ids and the incident id, and no key.

use crate::support::{Sandbox, assert_no_key, set_mode, stderr};
use serde_json::Value;

fn json(sb: &Sandbox, args: &[&str]) -> Value {
    let out = sb.kw().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e})"));
    for (p, key) in keys(sb) {
        assert_no_key(&format!("{args:?} stdout ({p})"), &out.stdout, &key);
    }
    v
}

/// Every key on disk now, by file.
fn keys(sb: &Sandbox) -> Vec<(String, String)> {
    ["a.env", "b.env"]
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(sb.root().join(f)).ok()?;
            let line = text.lines().find(|l| l.starts_with("SECRET_KEY="))?;
            let v = line["SECRET_KEY=".len()..].trim_matches('\'').to_string();
            Some((f.to_string(), v))
        })
        .collect()
}

fn fingerprint(sb: &Sandbox) -> Value {
    json(sb, &["status", "--json"])["environments"][0]["fingerprint"].clone()
}

#[test]
fn every_changing_command_speaks_json() {
    let sb = Sandbox::new();
    let a = sb.write("a.env", "DEBUG=1\n");
    sb.write(".env.staging", "SECRET_KEY=unused\n");
    std::fs::remove_file(sb.root().join(".env.staging")).unwrap();
    set_mode(&a, 0o644);
    // init from what discovery finds.
    sb.write(
        ".env",
        "SECRET_KEY='dev-0123456789abcdef0123456789abcdef'\n",
    );
    let v = json(&sb, &["init", "--json"]);
    assert!(
        v["manifest"].as_str().unwrap().ends_with("keywarden.toml"),
        "{v}"
    );
    assert_eq!(v["environments"][0]["name"], "development");
    std::fs::remove_file(sb.root().join(".env")).unwrap();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"staging\"\nrestart = \"true\"\nverify = \"true\"\n\
         targets = [{ path = \"a.env\" }, { path = \"b.env\" }]\n",
    );

    let v = json(&sb, &["set", "staging", "--generate", "--json"]);
    assert_eq!(v["environment"], "staging");
    assert_eq!(v["fingerprint"], fingerprint(&sb), "{v}");
    assert_eq!(v["written"].as_array().unwrap().len(), 2, "{v}");
    assert!(!v["backups"].as_array().unwrap().is_empty(), "{v}");

    set_mode(&a, 0o644);
    let v = json(&sb, &["fix", "staging", "--json"]);
    assert_eq!(v["tightened"][0]["target"], "a.env", "{v}");
    assert_eq!(v["tightened"][0]["mode_before"], "0644", "{v}");

    let before = fingerprint(&sb);
    let v = json(&sb, &["rotate", "staging", "--yes", "--json"]);
    assert_eq!(v["outcome"], "finished", "{v}");
    assert_eq!(v["new"], fingerprint(&sb));
    assert_eq!(v["old"], before);
    assert_eq!(v["restarted"], true);

    let backups = json(&sb, &["backups", "staging", "--json"]);
    let key_backup = backups
        .as_array()
        .or_else(|| backups["backups"].as_array())
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "key" && b["fingerprint"] == before)
        .unwrap_or_else(|| panic!("no key backup of {before}: {backups}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = json(&sb, &["restore", "staging", &key_backup, "--yes", "--json"]);
    assert_eq!(v["outcome"], "finished", "{v}");
    assert_eq!(v["fingerprint"], before);
    assert_eq!(fingerprint(&sb), before);

    let v = json(
        &sb,
        &["revoke", "staging", "--reason", "test", "--yes", "--json"],
    );
    assert_eq!(v["outcome"], "finished", "{v}");
    assert_eq!(v["old"], before);

    let inc = json(&sb, &["incident", "start", "lost", "staging", "--json"]);
    let id = inc["id"].as_str().unwrap().to_string();
    assert_eq!(inc["environment"], "staging");
    let v = json(
        &sb,
        &[
            "incident",
            "resume",
            &id,
            "--step",
            "check-backups",
            "--run",
            "--json",
        ],
    );
    assert_eq!(v["incident"], id.as_str());
    assert_eq!(v["step"], "check-backups");
    assert!(
        matches!(v["status"].as_str(), Some("done" | "pending")),
        "{v}"
    );
    assert_eq!(v["closed"], false);
    let v = json(&sb, &["incident", "resume", &id, "--json"]);
    assert_eq!(v["id"], id.as_str());
}
