//! Rotation, revocation, restore and the audit trail, as users and crashes meet them.

use crate::support::{Sandbox, assert_no_key, stderr, stdout};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

const OLD: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";

const ENV_BEFORE: &str = "# production\nexport DEBUG=0\nSECRET_KEY='Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z'\nDB_URL=postgres://db\n";
const TOML_BEFORE: &str = "# secrets\n[auth]\nsecret_key = 'Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z'\n";

/// A production environment with a `.env`, a `secrets.toml`, a grace fallback in a third
/// file, and restart/verify commands that leave traces.
fn production(sb: &Sandbox, restart: &str, verify: &str) {
    sb.write(
        "keywarden.toml",
        &format!(
            r#"version = 1
[[environments]]
name = "production"
restart = "{restart}"
verify = "{verify}"
grace_days = 7
fallback = {{ path = "fallback.env", key = "SECRET_KEY_FALLBACKS" }}
targets = [
  {{ path = "prod.env" }},
  {{ path = "secrets.toml", key = "auth.secret_key" }},
]
"#
        ),
    );
    sb.write("prod.env", ENV_BEFORE);
    sb.write("secrets.toml", TOML_BEFORE);
    sb.write("fallback.env", "# old keys still accepted\n");
}

fn status(sb: &Sandbox) -> Value {
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of `name` in a .env line `NAME='value'`.
fn env_value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}='")))
        .map(|v| v.trim_end_matches('\'').to_string())
}

fn audit_ok(sb: &Sandbox) {
    let out = sb.kw().args(["audit", "--verify"]).output().unwrap();
    assert!(out.status.success(), "audit chain: {}", stdout(&out));
}

/// Every file under the state home except backup contents: none may hold a key.
fn assert_state_clean(sb: &Sandbox, keys: &[&str]) {
    for (p, bytes) in sb.state_files() {
        if p.ends_with("content") {
            continue;
        }
        for k in keys {
            assert_no_key(&p.display().to_string(), &bytes, k);
        }
    }
}

const POINTS: &[&str] = &[
    "create", "set:0", "set:1", "set:2", "set", "restart", "verify", "finish",
];

#[test]
fn a_crash_at_any_point_can_be_resumed() {
    for point in POINTS {
        let sb = Sandbox::new();
        production(&sb, "true", "true");
        let out = sb
            .kw()
            .args(["rotate", "production", "--yes"])
            .env("KEYWARDEN_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{point}: the process was aborted");
        let st = status(&sb);
        let env = &st["environments"][0];
        let expected_new = if *point == "finish" {
            // The crash came after the journal was closed: the rotation is complete.
            assert!(env["rotation"].is_null(), "{point}");
            env["fingerprint"].as_str().unwrap().to_string()
        } else {
            assert_eq!(
                env["rotation"]["kind"], "rotate",
                "{point}: the journal is seen"
            );
            let out = sb.kw().arg("status").output().unwrap();
            assert!(
                stderr(&out).contains("unfinished rotation"),
                "{point}: every command says so"
            );
            let new = env["rotation"]["new"].as_str().unwrap().to_string();
            let out = sb
                .kw()
                .args(["rotate", "production", "--resume"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{point}: resume: {}", stderr(&out));
            new
        };
        let st = status(&sb);
        let env = &st["environments"][0];
        assert!(env["rotation"].is_null(), "{point}: journal closed");
        assert_eq!(
            env["fingerprint"],
            expected_new.as_str(),
            "{point}: every target holds the new key"
        );
        assert_eq!(env["age_source"], "recorded");
        for t in env["targets"].as_array().unwrap() {
            assert_eq!(
                t["fingerprint"],
                expected_new.as_str(),
                "{point}: {}",
                t["path"]
            );
        }
        let prod = sb.read("prod.env");
        assert!(
            prod.starts_with("# production\nexport DEBUG=0\nSECRET_KEY='")
                && prod.ends_with("'\nDB_URL=postgres://db\n"),
            "{point}: {prod}"
        );
        let new_key = env_value(&prod, "SECRET_KEY").unwrap();
        assert_ne!(new_key, OLD);
        assert_eq!(
            env_value(&sb.read("fallback.env"), "SECRET_KEY_FALLBACKS").as_deref(),
            Some(OLD),
            "{point}: grace fallback"
        );
        // Both keys are in the backup store.
        let out = sb
            .kw()
            .args(["backups", "production", "--json"])
            .output()
            .unwrap();
        let backups: Value = serde_json::from_slice(&out.stdout).unwrap();
        let key_fps: Vec<&str> = backups
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["kind"] == "key")
            .filter_map(|b| b["fingerprint"].as_str())
            .collect();
        assert!(
            key_fps.contains(&expected_new.as_str()),
            "{point}: new key backed up"
        );
        assert_eq!(key_fps.len(), 2, "{point}: old and new keys backed up");
        audit_ok(&sb);
        assert_state_clean(&sb, &[OLD, &new_key]);
    }
}

#[test]
fn a_crash_at_any_point_can_be_rolled_back() {
    for point in &POINTS[..POINTS.len() - 1] {
        let sb = Sandbox::new();
        production(&sb, "true", "true");
        let out = sb
            .kw()
            .args(["rotate", "production", "--yes"])
            .env("KEYWARDEN_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{point}");
        let new = status(&sb)["environments"][0]["rotation"]["new"]
            .as_str()
            .unwrap()
            .to_string();
        // Nothing else may change the key under the journal.
        let out = sb
            .kw()
            .args(["set", "production", "--generate", "--yes"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{point}: set refuses");
        assert!(stderr(&out).contains("--rollback"), "{point}");
        let out = sb
            .kw()
            .args(["rotate", "production", "--rollback"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{point}: rollback: {}", stderr(&out));
        assert_eq!(sb.read("prod.env"), ENV_BEFORE, "{point}: byte for byte");
        assert_eq!(sb.read("secrets.toml"), TOML_BEFORE, "{point}");
        assert_eq!(
            sb.read("fallback.env"),
            "# old keys still accepted\n",
            "{point}"
        );
        let st = status(&sb);
        let env = &st["environments"][0];
        assert!(env["rotation"].is_null());
        assert_ne!(env["fingerprint"], new.as_str());
        // The new key is not lost either: it stays in the backups.
        let out = sb.kw().args(["backups", "--json"]).output().unwrap();
        let backups: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            backups
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["fingerprint"] == new.as_str())
        );
        audit_ok(&sb);
        assert_state_clean(&sb, &[OLD]);
    }
}

fn wait_for(path: &std::path::Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `keywarden rotate production` whose restart command waits for a `go` file; returns
/// once the command is running.
fn start_blocked_rotation(sb: &Sandbox) -> std::process::Child {
    production(
        sb,
        "touch started; while [ ! -f go ]; do sleep 0.05; done",
        "true",
    );
    let child = Command::new(assert_cmd::cargo::cargo_bin("keywarden"))
        .current_dir(sb.project.path())
        .env("KEYWARDEN_HOME", sb.home.path())
        .envs(sb.backup_env())
        .args(["rotate", "production", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&sb.project.path().join("started"), "the restart command");
    child
}

#[test]
fn sigkill_during_restart_then_resume() {
    let sb = Sandbox::new();
    let mut child = start_blocked_rotation(&sb);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let env = &status(&sb)["environments"][0];
    assert_eq!(env["rotation"]["step"], "set", "killed while restarting");
    std::fs::write(sb.project.path().join("go"), "").unwrap();
    let out = sb
        .kw()
        .args(["rotate", "production", "--resume"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let env = &status(&sb)["environments"][0];
    assert!(env["rotation"].is_null());
    assert_eq!(env["targets"][0]["fingerprint"], env["fingerprint"]);
    audit_ok(&sb);
}

#[test]
fn two_rotations_at_once_one_is_locked_out() {
    let sb = Sandbox::new();
    let mut first = start_blocked_rotation(&sb);
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains(&format!("pid {}", first.id())),
        "{}",
        stderr(&out)
    );
    std::fs::write(sb.project.path().join("go"), "").unwrap();
    assert!(first.wait().unwrap().success());
}

#[test]
fn failed_verify_stops_and_rollback_restores() {
    let sb = Sandbox::new();
    production(
        &sb,
        "echo restarted",
        "echo health check failed >&2; exit 7",
    );
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("verify failed (exit 7"), "{err}");
    assert!(
        err.contains("health check failed"),
        "the command's output is shown: {err}"
    );
    assert!(err.contains("--rollback"), "{err}");
    let out = sb
        .kw()
        .args(["rotate", "production", "--rollback"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.read("prod.env"), ENV_BEFORE);
    assert_eq!(sb.read("secrets.toml"), TOML_BEFORE);
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "rotate.create",
            "rotate.set",
            "rotate.restart",
            "rotate.verify",
            "rotate.rollback",
            "rotate.rollback"
        ]
    );
}

#[test]
fn production_needs_confirmation() {
    let sb = Sandbox::new();
    production(&sb, "true", "true");
    let out = sb.kw().args(["rotate", "production"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"));
    assert_eq!(sb.read("prod.env"), ENV_BEFORE);
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes", "--no-restart"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("skipped (--no-restart)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn revoke_flags_every_environment_that_shared_the_key_and_refuses_it_back() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"staging.env\" }]\n[[environments]]\nname = \"production\"\ntargets = [{ path = \"prod.env\" }]\n",
    );
    sb.write("staging.env", &format!("SECRET_KEY='{OLD}'\n"));
    sb.write("prod.env", &format!("SECRET_KEY='{OLD}'\n"));
    let out = sb
        .kw()
        .args([
            "revoke",
            "production",
            "--reason",
            "leaked in a CI log",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("staging holds the revoked key too"),
        "{}",
        stdout(&out)
    );
    let st = status(&sb);
    let staging = &st["environments"][0];
    let revoked: Vec<&Value> = staging["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KW117")
        .collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["severity"], "critical");
    assert!(
        revoked[0]["message"]
            .as_str()
            .unwrap()
            .contains("leaked in a CI log")
    );
    // The revoked key cannot come back: not by set, not by restore.
    let out = sb
        .kw()
        .args(["set", "production", "--stdin", "--yes"])
        .write_stdin(OLD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("revoked"));
    let out = sb
        .kw()
        .args(["backups", "production", "--json"])
        .output()
        .unwrap();
    let backups: Value = serde_json::from_slice(&out.stdout).unwrap();
    let retired = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "key" && b["reason"].as_str().unwrap().contains("retired"))
        .unwrap();
    let out = sb
        .kw()
        .args([
            "restore",
            "production",
            retired["id"].as_str().unwrap(),
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    assert_ne!(
        env_value(&sb.read("prod.env"), "SECRET_KEY").as_deref(),
        Some(OLD)
    );
    audit_ok(&sb);
}

#[test]
fn restore_a_file_backup_is_itself_backed_up_and_audited() {
    let sb = Sandbox::new();
    sb.write(".env", &format!("SECRET_KEY='{OLD}'\nA=1\n"));
    sb.kw()
        .args(["set", "development", "--generate"])
        .assert()
        .success();
    let after_set = sb.read(".env");
    let out = sb.kw().args(["backups", "--json"]).output().unwrap();
    let backups: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "file")
        .unwrap();
    let id = file["id"].as_str().unwrap();
    let out = sb
        .kw()
        .args(["restore", "development", id])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.read(".env"), format!("SECRET_KEY='{OLD}'\nA=1\n"));
    let out = sb.kw().args(["backups", "--json"]).output().unwrap();
    let backups: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = backups
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "file")
        .count();
    assert_eq!(files, 2, "the content before the restore is kept");
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "restore" && e["result"] == "ok")
    );
    assert_state_clean(&sb, &[OLD, &env_value(&after_set, "SECRET_KEY").unwrap()]);
}

#[test]
fn audit_verify_finds_the_tampered_line() {
    let sb = Sandbox::new();
    sb.write(".env", "A=1\n");
    for _ in 0..3 {
        sb.kw()
            .args(["set", "development", "--generate"])
            .assert()
            .success();
    }
    audit_ok(&sb);
    let path = sb
        .state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with("audit.jsonl"))
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert_eq!(lines.len(), 6, "two events per set");
    lines[2] = lines[2].replace("\"result\":\"started\"", "\"result\":\"ok\"");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = sb.kw().args(["audit", "--verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("line 4"),
        "the line after the edit no longer vouches for it: {}",
        stdout(&out)
    );
    lines.remove(1);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = sb.kw().args(["audit", "--verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Lines cut from the end leave a valid chain; the recorded head still finds them.
    let original = text.lines().map(String::from).collect::<Vec<_>>();
    std::fs::write(&path, original[..4].join("\n") + "\n").unwrap();
    let out = sb.kw().args(["audit", "--verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("removed from the end"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn without_an_audit_record_nothing_happens() {
    let sb = Sandbox::new();
    sb.write(".env", "SECRET_KEY=old\n");
    sb.kw().arg("status").assert().success();
    let dir = sb
        .state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with("pepper"))
        .unwrap();
    let project_dir = std::fs::read_dir(dir.parent().unwrap().join("projects"))
        .ok()
        .and_then(|mut d| d.next())
        .map(|e| e.unwrap().path());
    let project_dir = project_dir.unwrap_or_else(|| {
        let p = keywarden::project::home::Home::at(sb.home.path().into()).project_dir(&sb.root());
        std::fs::create_dir_all(&p).unwrap();
        p
    });
    std::fs::create_dir_all(project_dir.join("audit.jsonl")).unwrap();
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no audit record could be written, so nothing was done"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.read(".env"), "SECRET_KEY=old\n");
}

#[test]
fn the_grace_period_ends_on_the_next_run() {
    let sb = Sandbox::new();
    production(&sb, "true", "true");
    sb.kw()
        .args(["rotate", "production", "--yes"])
        .assert()
        .success();
    assert_eq!(
        env_value(&sb.read("fallback.env"), "SECRET_KEY_FALLBACKS").as_deref(),
        Some(OLD)
    );
    // Move the end of the grace period into the past, as time would.
    let state_path = sb
        .state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with("state.json"))
        .unwrap();
    let mut state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    state["grace"]["production"][0]["until"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(
        stderr(&out).contains("grace period ended"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.read("fallback.env"), "# old keys still accepted\n");
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "grace.end")
    );
}

#[test]
fn retention_prunes_old_backups_but_keeps_the_newest_of_a_key_in_use() {
    let sb = Sandbox::new();
    sb.write("keywarden.toml", "version = 1\n[defaults]\nkeep_backups_days = 30\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \".env.staging\" }]\n");
    sb.write(".env.staging", &format!("SECRET_KEY='{OLD}'\n"));
    sb.kw().args(["rotate", "staging"]).assert().success();
    let list = |sb: &Sandbox| -> Vec<Value> {
        let out = sb.kw().args(["backups", "--json"]).output().unwrap();
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let first = list(&sb);
    assert_eq!(first.len(), 3, "new key, retired key, file");
    // Age every backup by a year, as time would.
    for (path, bytes) in sb.state_files() {
        if path.ends_with("meta.json") {
            let mut meta: Value = serde_json::from_slice(&bytes).unwrap();
            meta["created"] = "2025-01-01T00:00:00Z".into();
            std::fs::write(&path, serde_json::to_vec(&meta).unwrap()).unwrap();
        }
    }
    let current = status(&sb)["environments"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    // Setting the same key again changes nothing but applies the retention.
    let key = env_value(&sb.read(".env.staging"), "SECRET_KEY").unwrap();
    sb.kw()
        .args(["set", "staging", "--stdin"])
        .write_stdin(key)
        .assert()
        .success();
    let after = list(&sb);
    assert_eq!(
        after.len(),
        1,
        "the retired key and the old file content were pruned: {after:?}"
    );
    assert_eq!(after[0]["kind"], "key");
    assert_eq!(
        after[0]["fingerprint"],
        current.as_str(),
        "the newest backup of the key in use stays"
    );
}

#[test]
fn an_interrupted_rollback_cannot_be_resumed_into_a_finish() {
    let sb = Sandbox::new();
    production(&sb, "true", "false");
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "verify failed");
    let out = sb
        .kw()
        .args(["rotate", "production", "--rollback"])
        .env("KEYWARDEN_FAILPOINT", "rollback")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed as the rollback began");
    let out = sb
        .kw()
        .args(["rotate", "production", "--resume"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("rollback of this rotation was interrupted"),
        "{}",
        stderr(&out)
    );
    let out = sb
        .kw()
        .args(["rotate", "production", "--rollback"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.read("prod.env"), ENV_BEFORE);
    assert_eq!(sb.read("secrets.toml"), TOML_BEFORE);
}

#[test]
fn a_grace_period_that_cannot_end_warns_and_records_nothing_false() {
    let sb = Sandbox::new();
    production(&sb, "true", "true");
    sb.kw()
        .args(["rotate", "production", "--yes"])
        .assert()
        .success();
    let state_path = sb
        .state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with("state.json"))
        .unwrap();
    let mut state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    state["grace"]["production"][0]["until"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let broken = format!("SECRET_KEY_FALLBACKS='{OLD}'\nBROKEN=\"never closed\n");
    sb.write("fallback.env", &broken);
    for _ in 0..2 {
        let out = sb.kw().args(["status", "--json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "status still works");
        assert!(
            stderr(&out).contains("could not end a grace period"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(sb.read("fallback.env"), broken, "untouched");
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "grace.end"),
        "no record of what did not happen"
    );
}

#[test]
fn a_file_backup_holding_a_revoked_key_is_refused() {
    let sb = Sandbox::new();
    sb.write("keywarden.toml", "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"staging.env\" }]\n");
    sb.write("staging.env", &format!("SECRET_KEY='{OLD}'\nA=1\n"));
    sb.kw()
        .args(["revoke", "staging", "--reason", "leaked", "--yes"])
        .assert()
        .success();
    let out = sb.kw().args(["backups", "--json"]).output().unwrap();
    let backups: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "file")
        .unwrap();
    assert!(
        file["fingerprint"].is_string(),
        "the file backup names the key it held"
    );
    let after = sb.read("staging.env");
    let out = sb
        .kw()
        .args(["restore", "staging", file["id"].as_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    assert_eq!(sb.read("staging.env"), after, "nothing restored");
    // An older record without a fingerprint is caught by reading the content.
    let meta_path = sb
        .state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with(format!("{}/meta.json", file["id"].as_str().unwrap())))
        .unwrap();
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["fingerprint"] = Value::Null;
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let out = sb
        .kw()
        .args(["restore", "staging", file["id"].as_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(sb.read("staging.env"), after);
}
