//! The incident playbooks end to end, as on-call staff (or their scripts) run them.

use crate::support::{Sandbox, assert_no_key, stderr, stdout};
use serde_json::Value;

const LEAKED: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";

fn project(sb: &Sandbox) {
    sb.write(
        "keywarden.toml",
        r#"version = 1
[[environments]]
name = "staging"
targets = [{ path = "staging.env" }]
[[environments]]
name = "production"
restart = "echo restarted >> restarts.log"
verify = "true"
notify = "cat > notification.txt"
logs = ["logs/*.log"]
targets = [{ path = "prod.env" }]
"#,
    );
    sb.write("staging.env", &format!("SECRET_KEY='{LEAKED}'\n"));
    sb.write("prod.env", &format!("SECRET_KEY='{LEAKED}'\n"));
    let encoded: String = LEAKED
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    sb.write(
        "logs/app.log",
        &format!(
            "INFO started\nDEBUG settings SECRET_KEY={LEAKED}\nINFO ok\nWARNING itsdangerous.exc.BadSignature: Signature b'x' does not match\nGET /debug?key={encoded} 200\n"
        ),
    );
}

fn run(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let out = sb.kw().arg("incident").args(args).output().unwrap();
    assert_no_key(&format!("{args:?} stdout"), &out.stdout, LEAKED);
    assert_no_key(&format!("{args:?} stderr"), &out.stderr, LEAKED);
    out
}

fn open(sb: &Sandbox, playbook: &str, env: &str) -> String {
    let out = run(sb, &["start", playbook, env]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("[>] "),
        "the checklist shows the current step: {text}"
    );
    text.lines()
        .next()
        .unwrap()
        .trim_start_matches("opened ")
        .to_string()
}

fn step(sb: &Sandbox, id: &str, step: &str, how: &[&str]) -> String {
    let mut args = vec!["resume", id, "--step", step];
    args.extend_from_slice(how);
    let out = run(sb, &args);
    assert!(
        out.status.success(),
        "{step}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn record(sb: &Sandbox, id: &str) -> Value {
    let out = run(sb, &["list", "--json"]);
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone()
}

#[test]
fn compromised_key_end_to_end() {
    let sb = Sandbox::new();
    project(&sb);
    let id = open(&sb, "compromised", "production");
    let fp = record(&sb, &id)["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();

    let out = step(&sb, &id, "revoke", &["--run"]);
    assert!(out.contains(&format!("production: revoked {fp}")), "{out}");
    assert!(out.contains("also held by staging"), "{out}");
    let out = step(&sb, &id, "generate", &["--run"]);
    assert!(out.contains("fresh, strong"), "{out}");
    let out = step(&sb, &id, "update-all", &["--run"]);
    assert!(out.contains("staging: revoked"), "{out}");
    // The notification waits for the log audit: its draft says what was found.
    let early = run(&sb, &["resume", &id, "--step", "notify", "--run"]);
    assert_eq!(early.status.code(), Some(2), "{}", stderr(&early));
    let out = step(&sb, &id, "restart-all", &["--run"]);
    assert!(
        out.contains("production: `echo restarted >> restarts.log` exit 0"),
        "{out}"
    );
    // Staging has no restart command: nobody restarted it, so the step is not done.
    assert!(out.contains("restart-all: pending"), "{out}");
    assert!(out.contains("staging: no restart command"), "{out}");
    let out = step(&sb, &id, "audit-logs", &["--run"]);
    assert!(
        out.contains("2 occurrence(s) of the key, 1 signature error(s)"),
        "{out}"
    );
    assert!(out.contains("logs/app.log:2 key (plain)"), "{out}");
    assert!(out.contains("logs/app.log:5 key (url-encoded)"), "{out}");
    assert!(out.contains("logs/app.log:4 signature error"), "{out}");
    let out = step(&sb, &id, "notify", &["--run"]);
    assert!(out.contains("sent with `cat > notification.txt`"), "{out}");
    let sent = sb.read("notification.txt");
    assert!(
        sent.contains(&id) && sent.contains(&fp) && sent.contains("production"),
        "{sent}"
    );
    let out = step(
        &sb,
        &id,
        "sessions",
        &["--done", "--note", "no unknown sessions in the store"],
    );
    assert!(
        !out.contains("every step is closed"),
        "restart-all is open: {out}"
    );
    let out = step(
        &sb,
        &id,
        "restart-all",
        &["--done", "--note", "staging restarted by hand"],
    );
    assert!(out.contains("every step is closed"), "{out}");

    let rec = record(&sb, &id);
    assert!(rec["closed"].is_string());
    assert!(
        rec["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "done" && s["by"].is_string())
    );

    // The report: every step, the timeline, the notes, no open item, no key.
    let out = run(&sb, &["report", &id]);
    let report = stdout(&out);
    for needle in [
        "## Steps",
        "## Timeline",
        "## Open items",
        "None.",
        "no unknown sessions in the store",
        "[x] **Revoke the compromised key now**",
        &fp,
    ] {
        assert!(report.contains(needle), "report lacks {needle}: {report}");
    }
    assert_no_key("notification", sent.as_bytes(), LEAKED);
    // Both environments were moved off the leaked key; the audit trail has every step.
    assert_ne!(sb.read("prod.env"), format!("SECRET_KEY='{LEAKED}'\n"));
    assert_ne!(sb.read("staging.env"), format!("SECRET_KEY='{LEAKED}'\n"));
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "incident.step")
        .count();
    // Seven steps, restart-all twice: run (pending), then marked done.
    assert_eq!(steps, 8);
    sb.kw().args(["audit", "--verify"]).assert().success();
    for (p, bytes) in sb.state_files() {
        if !p.ends_with("content") {
            assert_no_key(&p.display().to_string(), &bytes, LEAKED);
        }
    }
}

#[test]
fn lost_key_end_to_end() {
    let sb = Sandbox::new();
    project(&sb);
    // keywarden wrote the key, so its backup store has it; then the file is wiped.
    sb.kw()
        .args(["set", "staging", "--generate"])
        .assert()
        .success();
    let written = sb.read("staging.env");
    sb.write("staging.env", "# rebuilt by hand\n");
    let id = open(&sb, "lost", "staging");
    let out = step(&sb, &id, "check-backups", &["--run"]);
    assert!(out.contains("is in backup"), "{out}");
    let backup_id = out
        .split("is in backup ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    // The on-call engineer restores it and skips generating a new one.
    sb.kw()
        .args(["restore", "staging", &backup_id])
        .assert()
        .success();
    assert_eq!(
        sb.read("staging.env"),
        format!("# rebuilt by hand\n{}", written),
        "the key is back"
    );
    let out = run(&sb, &["resume", &id, "--step", "generate", "--skip"]);
    assert_eq!(out.status.code(), Some(2), "skipping needs a note");
    step(
        &sb,
        &id,
        "generate",
        &["--skip", "--note", "restored from backup"],
    );
    let out = step(&sb, &id, "update-config", &["--run"]);
    assert!(
        out.contains("hold kw:") && out.contains("mode 0600"),
        "{out}"
    );
    step(
        &sb,
        &id,
        "reset-sessions",
        &["--done", "--note", "flushed redis sessions"],
    );
    assert!(record(&sb, &id)["closed"].is_string());
}

#[test]
fn lost_key_without_backup_generates_a_new_one() {
    let sb = Sandbox::new();
    project(&sb);
    sb.write("staging.env", "OTHER=1\n");
    let id = open(&sb, "lost", "staging");
    let out = step(&sb, &id, "check-backups", &["--run"]);
    assert!(out.contains("generate a new key"), "{out}");
    let out = step(&sb, &id, "generate", &["--run"]);
    assert!(out.contains("staging: rotated no key; now kw:"), "{out}");
    step(&sb, &id, "update-config", &["--run"]);
}

#[test]
fn steps_keep_their_order_and_the_record_survives_a_killed_process() {
    let sb = Sandbox::new();
    project(&sb);
    let id = open(&sb, "compromised", "production");
    let out = run(&sb, &["resume", &id, "--step", "restart-all", "--done"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs `update-all` first"),
        "{}",
        stderr(&out)
    );
    // Killed in the middle of the revocation: the incident and the rotation both survive.
    let out = sb
        .kw()
        .args(["incident", "resume", &id, "--step", "revoke", "--run"])
        .env("KEYWARDEN_FAILPOINT", "set:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "aborted");
    let rec = record(&sb, &id);
    assert_eq!(rec["steps"][0]["status"], "pending");
    assert!(rec["closed"].is_null());
    // Running the step again finishes the interrupted revocation.
    let out = step(&sb, &id, "revoke", &["--run"]);
    assert!(out.contains("production: revoked"), "{out}");
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(st["environments"][1]["rotation"].is_null());
    let out = run(&sb, &["resume", &id]);
    assert!(stdout(&out).contains("[x] revoke"), "{}", stdout(&out));
    assert!(stdout(&out).contains("[>] generate"), "{}", stdout(&out));
}

#[test]
fn unknown_playbooks_and_project_overrides() {
    let sb = Sandbox::new();
    project(&sb);
    let out = run(&sb, &["start", "stolen", "production"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("compromised, lost"),
        "{}",
        stderr(&out)
    );
    sb.write(
        ".keywarden/playbooks/lost.toml",
        "name = \"lost\"\ntitle = \"Lost key (our runbook)\"\nsummary = \"s\"\n[[steps]]\nid = \"page\"\ntitle = \"Page the platform team\"\nwhat = \"call them\"\n",
    );
    let out = run(&sb, &["start", "lost", "production"]);
    assert!(
        stdout(&out).contains("Lost key (our runbook)"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("[>] page"), "{}", stdout(&out));
}
