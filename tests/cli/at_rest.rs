//! Backups encrypted at rest: what the state folder holds after writes, and reading it
//! back with the installation's identity (a passphrase-protected file here: the tests
//! never touch the machine's OS keyring).

use crate::support::{PASSPHRASE, Sandbox, assert_no_key, stderr, stdout};
use serde_json::Value;

const A: &str = "Qw7!eR4@tY1#uI8$oP5%aS2^dF9&gH6*jK3(lZ0)xC7_vB4+nM1-qW8=eR5[tY2]u";
const B: &str = "Lp3{oK8}iJ5|uH2;yG9:tF6,rD1<eS4>wA7.qZ0?xC3!vB6@nM9#bV2$cX5%zL8^m";

fn project(sb: &Sandbox) {
    sb.write(
        "keywarden.toml",
        r#"version = 1
[[environments]]
name = "staging"
targets = [
  { path = "staging.env" },
  { path = "secrets.toml", key = "auth.secret_key" },
]
"#,
    );
    sb.write("staging.env", &format!("DEBUG=0\nSECRET_KEY='{A}'\n"));
    sb.write("secrets.toml", &format!("[auth]\nsecret_key = '{A}'\n"));
}

fn set(sb: &Sandbox, key: &str) {
    let out = sb
        .kw()
        .args(["set", "staging", "--stdin"])
        .write_stdin(format!("{key}\n"))
        .output()
        .unwrap();
    assert!(out.status.success(), "set: {}", stderr(&out));
}

/// The key `staging.env` holds now.
fn current(sb: &Sandbox) -> String {
    sb.read("staging.env")
        .lines()
        .find_map(|l| l.strip_prefix("SECRET_KEY='"))
        .map(|v| v.trim_end_matches('\'').to_string())
        .unwrap()
}

fn backups(sb: &Sandbox) -> Vec<Value> {
    let out = sb.kw().args(["backups", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Every file under the state home: none holds any of `keys`, nor an age identity in
/// the clear, nor the passphrase.
fn assert_home_clean(sb: &Sandbox, keys: &[String]) {
    let files = sb.state_files();
    assert!(!files.is_empty());
    for (p, bytes) in files {
        let what = p.display().to_string();
        for k in keys {
            assert_no_key(&what, &bytes, k);
        }
        assert_no_key(&what, &bytes, "AGE-SECRET-KEY-");
        assert_no_key(&what, &bytes, PASSPHRASE);
        assert!(!p.ends_with("content"), "{what}: a plaintext backup");
    }
}

#[test]
fn no_key_is_in_the_state_home_after_set_rotate_and_revoke() {
    let sb = Sandbox::new();
    project(&sb);
    let mut keys = vec![A.to_string()];
    set(&sb, B);
    keys.push(B.to_string());
    let out = sb
        .kw()
        .args(["rotate", "staging", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "rotate: {}", stderr(&out));
    keys.push(current(&sb));
    let out = sb
        .kw()
        .args(["revoke", "staging", "--reason", "test", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "revoke: {}", stderr(&out));
    keys.push(current(&sb));
    keys.dedup();
    assert_eq!(keys.len(), 4);
    assert!(!backups(&sb).is_empty());
    assert_home_clean(&sb, &keys);
    // The identity is a passphrase-protected file; its public half is in the clear.
    let home = sb.home.path();
    assert!(home.join("backup-identity.age").is_file());
    let recipient = std::fs::read_to_string(home.join("backup-recipient")).unwrap();
    assert!(recipient.starts_with("age1"), "{recipient}");
    // Nothing printed names the passphrase.
    assert_no_key("revoke stderr", &out.stderr, PASSPHRASE);
}

#[test]
fn restore_and_rollback_read_the_encrypted_backups() {
    let sb = Sandbox::new();
    project(&sb);
    set(&sb, B);
    // set saved every file before changing it: the backup of staging.env holds A.
    let file_backup = backups(&sb)
        .into_iter()
        .find(|b| b["kind"] == "file" && b["target"] == "staging.env")
        .unwrap();
    let id = file_backup["id"].as_str().unwrap().to_string();
    let out = sb
        .kw()
        .args(["restore", "staging", &id, "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "restore: {}", stderr(&out));
    assert_eq!(current(&sb), A);

    // A rotation whose verify fails, rolled back: every file's old content comes back
    // from the encrypted backups.
    sb.write(
        "keywarden.toml",
        r#"version = 1
[[environments]]
name = "staging"
verify = "exit 3"
targets = [
  { path = "staging.env" },
  { path = "secrets.toml", key = "auth.secret_key" },
]
"#,
    );
    let env_before = sb.read("staging.env");
    let toml_before = sb.read("secrets.toml");
    let out = sb
        .kw()
        .args(["rotate", "staging", "--yes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_ne!(sb.read("staging.env"), env_before);
    let out = sb
        .kw()
        .args(["rotate", "staging", "--rollback", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "rollback: {}", stderr(&out));
    assert_eq!(sb.read("staging.env"), env_before);
    assert_eq!(sb.read("secrets.toml"), toml_before);
}

#[test]
fn a_wrong_passphrase_is_bad_input_that_names_the_identity_file_and_changes_nothing() {
    let sb = Sandbox::new();
    project(&sb);
    set(&sb, B);
    let id = backups(&sb)
        .into_iter()
        .find(|b| b["kind"] == "file" && b["target"] == "staging.env")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = sb.secrets.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    crate::support::set_mode(&wrong, 0o600);
    let env_before = sb.read("staging.env");
    let files_before = sb.state_files();
    let out = sb
        .kw()
        .args(["restore", "staging", &id, "--yes"])
        .env("KEYWARDEN_PASSPHRASE_FILE", &wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let identity = sb.home.path().join("backup-identity.age");
    assert!(err.contains(&identity.display().to_string()), "{err}");
    assert!(err.contains("does not open"), "{err}");
    assert_no_key("stderr", &out.stderr, "not the passphrase");
    assert_no_key("stderr", &out.stderr, PASSPHRASE);
    assert_eq!(sb.read("staging.env"), env_before);
    // Not a byte of state changed: no audit line, no backup.
    assert_eq!(sb.state_files(), files_before);
}

#[test]
fn without_a_passphrase_writing_needs_none_once_the_identity_exists() {
    let sb = Sandbox::new();
    project(&sb);
    // The first backup of an installation makes its identity: with no keyring and no
    // passphrase (CI, no terminal) it is refused, and nothing changes.
    let out = sb
        .kw()
        .args(["set", "staging", "--stdin"])
        .env_remove("KEYWARDEN_PASSPHRASE_FILE")
        .write_stdin(format!("{B}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("KEYWARDEN_PASSPHRASE_FILE"),
        "{}",
        stderr(&out)
    );
    assert_eq!(current(&sb), A);
    assert!(!sb.home.path().join("backup-recipient").exists());

    // Made once (with a passphrase), every later write needs only the recipient.
    set(&sb, B);
    let out = sb
        .kw()
        .args(["set", "staging", "--generate"])
        .env_remove("KEYWARDEN_PASSPHRASE_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb
        .kw()
        .args(["rotate", "staging", "--yes"])
        .env_remove("KEYWARDEN_PASSPHRASE_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Reading one does need it: refused, and says how to give it.
    let id = backups(&sb)[0]["id"].as_str().unwrap().to_string();
    let before = sb.read("staging.env");
    let out = sb
        .kw()
        .args(["restore", "staging", &id, "--yes"])
        .env_remove("KEYWARDEN_PASSPHRASE_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("KEYWARDEN_PASSPHRASE_FILE"));
    assert_eq!(sb.read("staging.env"), before);
}

#[test]
fn plaintext_backups_are_migrated_by_the_first_locked_command() {
    let sb = Sandbox::new();
    project(&sb);
    set(&sb, B);
    // Make a backup as keywarden wrote them before encryption: a plaintext `content`.
    let source = backups(&sb)
        .into_iter()
        .find(|b| b["kind"] == "file" && b["target"] == "staging.env")
        .unwrap();
    let source_id = source["id"].as_str().unwrap();
    let backups_dir = sb
        .state_files()
        .into_iter()
        .find(|(p, _)| p.ends_with(format!("{source_id}/meta.json")))
        .unwrap()
        .0
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let legacy_id = format!("{source_id}-legacy");
    let legacy = backups_dir.join(&legacy_id);
    std::fs::create_dir(&legacy).unwrap();
    let mut meta: Value = serde_json::from_slice(
        &std::fs::read(backups_dir.join(source_id).join("meta.json")).unwrap(),
    )
    .unwrap();
    meta["id"] = Value::String(legacy_id.clone());
    std::fs::write(legacy.join("meta.json"), meta.to_string()).unwrap();
    let legacy_key = "Mg5#hT8!kP2@wQ7$zR4^yN1&xL6*vJ3(uB9)tC0_sD5+rE8-qF1=pG4[oH7]nI2{l";
    std::fs::write(
        legacy.join("content"),
        format!("DEBUG=0\nSECRET_KEY='{legacy_key}'\n"),
    )
    .unwrap();

    // `status` takes no lock: the plaintext is still there.
    let out = sb.kw().args(["status"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(legacy.join("content").exists());

    // `fix` takes the lock: migrated.
    let out = sb.kw().args(["fix", "staging"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!legacy.join("content").exists());
    assert!(legacy.join("content.age").is_file());
    assert_home_clean(&sb, &[A.to_string(), B.to_string(), legacy_key.to_string()]);
    // The migration is in the audit trail, with how many backups it encrypted: once.
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let migrations: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["action"] == "backup.migrate")
        .map(|e| {
            (
                e["result"].as_str().unwrap(),
                e["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(migrations.len(), 2, "{migrations:?}");
    assert_eq!(migrations[0].0, "started");
    assert!(
        migrations[0].1.contains("1 plaintext backup(s)"),
        "{migrations:?}"
    );
    assert_eq!(migrations[1].0, "ok");
    assert!(
        migrations[1]
            .1
            .starts_with("1 plaintext backup(s) encrypted"),
        "{migrations:?}"
    );
    let out = sb.kw().args(["audit", "--verify"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));

    // And it restores.
    let out = sb
        .kw()
        .args(["restore", "staging", &legacy_id, "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "restore: {} {}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(current(&sb), legacy_key);
    // Later locked commands find nothing to migrate and record nothing.
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "backup.migrate")
            .count(),
        2
    );
}

#[test]
fn a_malformed_backup_recipient_is_a_manifest_error_with_its_line() {
    let sb = Sandbox::new();
    project(&sb);
    let manifest = sb.read("keywarden.toml").replace(
        "version = 1\n",
        "version = 1\n[defaults]\nbackup_recipients = [\n  \"age1notarecipient\",\n]\n",
    );
    sb.write("keywarden.toml", &manifest);
    let out = sb.kw().args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("keywarden.toml:4:"), "{err}");
    assert!(err.contains("age1notarecipient"), "{err}");
}

#[test]
fn a_team_recipient_can_read_every_backup_without_the_installation() {
    use age::secrecy::ExposeSecret;
    let sb = Sandbox::new();
    project(&sb);
    let team = age::x25519::Identity::generate();
    let manifest = sb.read("keywarden.toml").replace(
        "version = 1\n",
        &format!(
            "version = 1\n[defaults]\nbackup_recipients = [\"{}\"]\n",
            team.to_public()
        ),
    );
    sb.write("keywarden.toml", &manifest);
    set(&sb, B);
    let sealed: Vec<_> = sb
        .state_files()
        .into_iter()
        .filter(|(p, _)| p.ends_with("content.age"))
        .collect();
    assert!(!sealed.is_empty());
    let mut found = false;
    for (_, bytes) in sealed {
        let plain = age::decrypt(&team, &bytes).expect("the team identity opens every backup");
        found |= String::from_utf8(plain).unwrap().contains(A);
    }
    assert!(found, "a backup holds the key that was replaced");
    assert!(!team.to_string().expose_secret().is_empty());
}

#[test]
fn the_identity_goes_to_the_os_keyring_when_one_answers() {
    if !crate::common::require(
        "dbus-run-session",
        "the backups' identity in a Secret Service",
    ) || !crate::common::require(
        "gnome-keyring-daemon",
        "the backups' identity in a Secret Service",
    ) {
        return;
    }
    let sb = Sandbox::new();
    project(&sb);
    let bin = assert_cmd::cargo::cargo_bin("keywarden");
    // A private session bus and keyring: never the keyring of whoever runs the tests.
    // No passphrase file: with a keyring, nothing asks for one.
    let script = format!(
        r#"set -e
eval "$(printf 'test-login' | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
'{bin}' set staging --generate </dev/null
id=$('{bin}' backups --json | grep -B1 '"kind": "file"' | grep '"id"' | head -1 | cut -d'"' -f4)
'{bin}' restore staging "$id" --yes </dev/null
"#,
        bin = bin.display()
    );
    let out = std::process::Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .current_dir(sb.project.path())
        .env("KEYWARDEN_HOME", sb.home.path())
        .env("NO_COLOR", "1")
        .env("HOME", sb.secrets.path())
        .env("XDG_DATA_HOME", sb.secrets.path().join("data"))
        .env("XDG_RUNTIME_DIR", sb.secrets.path())
        .env_remove("KEYWARDEN_PASSPHRASE_FILE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("SECRET_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let home = sb.home.path();
    assert!(home.join("backup-identity.keyring").is_file());
    assert!(!home.join("backup-identity.age").exists());
    // Restored from the keyring-opened identity: the key set replaced is back.
    assert_eq!(current(&sb), A);
    assert_home_clean(&sb, &[A.to_string()]);
}

#[test]
fn scan_says_which_retired_keys_it_did_not_search_for_when_the_identity_is_locked() {
    let sb = Sandbox::new();
    project(&sb);
    set(&sb, B);
    // A, retired by `set`, is kept only in an encrypted key backup; a note holds it.
    sb.write("notes.txt", &format!("old key: {A}\n"));
    let kw202 = |v: &Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "KW202")
            .count()
    };

    // With the passphrase file the identity opens without asking: A is found.
    let out = sb.kw().args(["scan", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(kw202(&v), 1, "{v}");
    assert!(v["not_searched"].is_null(), "{v}");
    assert!(!stderr(&out).contains("not searched"), "{}", stderr(&out));

    // Without it, scan never asks: it leaves A out and says so, in JSON and on stderr.
    for json in [true, false] {
        let mut cmd = sb.kw();
        cmd.env_remove("KEYWARDEN_PASSPHRASE_FILE").arg("scan");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(
                "1 retired or revoked key(s) kept in encrypted backups were not searched for"
            ),
            "{err}"
        );
        assert!(err.contains("backup-identity.age"), "{err}");
        assert!(err.contains("KEYWARDEN_PASSPHRASE_FILE"), "{err}");
        assert_no_key("scan stdout", &out.stdout, A);
        assert_no_key("scan stderr", &out.stderr, A);
        if json {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(kw202(&v), 0, "{v}");
            assert_eq!(v["not_searched"]["keys"], 1, "{v}");
            assert!(
                v["not_searched"]["include"]
                    .as_str()
                    .unwrap()
                    .contains("KEYWARDEN_PASSPHRASE_FILE"),
                "{v}"
            );
        }
    }
}

#[test]
fn a_passphrase_file_others_can_read_is_refused() {
    let sb = Sandbox::new();
    project(&sb);
    let pass = sb.passphrase_file();
    crate::support::set_mode(&pass, 0o644);
    let out = sb
        .kw()
        .args(["set", "staging", "--stdin"])
        .write_stdin(format!("{B}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&pass.display().to_string()), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(err.contains("0644"), "{err}");
    assert_no_key("stderr", &out.stderr, PASSPHRASE);
    assert_eq!(current(&sb), A);
    assert!(!sb.home.path().join("backup-identity.age").exists());

    // Made private, the same command works; made readable again, reading a backup is
    // refused too (no identity is opened with a passphrase others could read).
    crate::support::set_mode(&pass, 0o600);
    set(&sb, B);
    crate::support::set_mode(&pass, 0o640);
    let id = backups(&sb)[0]["id"].as_str().unwrap().to_string();
    let out = sb
        .kw()
        .args(["restore", "staging", &id, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    assert_eq!(current(&sb), B);
}

#[test]
fn a_short_passphrase_makes_no_identity_and_an_old_one_still_opens() {
    let sb = Sandbox::new();
    project(&sb);
    let short = sb.secrets.path().join("short");
    std::fs::write(&short, "a\n").unwrap();
    crate::support::set_mode(&short, 0o600);
    let out = sb
        .kw()
        .args(["set", "staging", "--stdin"])
        .env("KEYWARDEN_PASSPHRASE_FILE", &short)
        .write_stdin(format!("{B}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("at least 12"), "{err}");
    assert!(err.contains(&short.display().to_string()), "{err}");
    assert_eq!(current(&sb), A);
    assert!(!sb.home.path().join("backup-identity.age").exists());
    assert!(!sb.home.path().join("backup-recipient").exists());

    // An identity made with a short passphrase (by an older keywarden, or `age -p`)
    // keeps opening with it: the floor is for new identities only.
    let id = age::x25519::Identity::generate();
    let text = format!(
        "# public key: {}\n{}\n",
        id.to_public(),
        age::secrecy::ExposeSecret::expose_secret(&id.to_string())
    );
    let mut r = age::scrypt::Recipient::new(age::secrecy::SecretString::from("a".to_string()));
    r.set_work_factor(4);
    let sealed = age::encrypt(&r, text.as_bytes()).unwrap();
    std::fs::create_dir_all(sb.home.path()).unwrap();
    std::fs::write(sb.home.path().join("backup-identity.age"), sealed).unwrap();
    std::fs::write(
        sb.home.path().join("backup-recipient"),
        format!("{}\n", id.to_public()),
    )
    .unwrap();
    let out = sb
        .kw()
        .args(["set", "staging", "--stdin"])
        .env("KEYWARDEN_PASSPHRASE_FILE", &short)
        .write_stdin(format!("{B}\n"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let backup = backups(&sb)
        .into_iter()
        .find(|b| b["kind"] == "file" && b["target"] == "staging.env")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sb
        .kw()
        .args(["restore", "staging", &backup, "--yes"])
        .env("KEYWARDEN_PASSPHRASE_FILE", &short)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(current(&sb), A);
}
