//! The screens of rotation, revocation, backups, the audit trail and the incident wizard,
//! as snapshots at 80×24 and 120×40. What the clock or the random generator decides (a new
//! key's fingerprint, when a rotation started, incident ids and times) is fixed before the
//! snapshot: the frozen clock, a fixed user, `kw:<random>` for a fresh key.

use super::support::*;
use insta::assert_snapshot;
use keywarden::incident::playbook;
use keywarden::incident::{Incidents, Status};
use keywarden::tui::{Action, App};
use ratatui::crossterm::event::KeyCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Both sizes as snapshots, after checking that no key `fx` ever used is on screen.
fn both(fx: &Fixture, name: &str, app: &App, fixes: &[(String, String)]) {
    let keys = keys_used(fx);
    for (w, h) in SIZES {
        let mut s = fixed_durations(&screen(app, w, h));
        assert_no_key(&s, &keys);
        for (from, to) in fixes {
            s = s.replace(from.as_str(), to);
        }
        assert_snapshot!(format!("{name}_{w}x{h}"), s);
    }
}

/// `in 0.3 s` (how long a command took) as `in 0.0 s`.
fn fixed_durations(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(" in ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(0);
        if digits > 0 && rest[digits..].starts_with(" s") && rest[..digits].contains('.') {
            out.push_str("0.0");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// The random parts of an unfinished rotation, and what replaces them (same widths, so
/// lines wrap the same).
fn journal_fixes(fx: &Fixture) -> Vec<(String, String)> {
    let state = fx.session().project.load_state().unwrap();
    let mut fixes = Vec::new();
    for j in state.rotations.values() {
        fixes.push((j.new.to_string(), "kw:<random>".to_string()));
        fixes.push((
            j.started.strftime("%Y-%m-%d").to_string(),
            "2026-06-01".into(),
        ));
        fixes.push((
            j.started.strftime("%H:%M:%SZ").to_string(),
            "12:00:00Z".into(),
        ));
    }
    fixes
}

#[test]
fn rotate_asks_first() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "staging");
    press(&mut app, KeyCode::Char('R'));
    both(&fx, "rotate_confirm_staging", &app, &[]);
    press(&mut app, KeyCode::Esc);
    select(&mut app, "production");
    press(&mut app, KeyCode::Char('R'));
    both(&fx, "rotate_confirm_production", &app, &[]);
}

#[test]
fn revoke_asks_why() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "production");
    press(&mut app, KeyCode::Char('X'));
    type_text(&mut app, "laptop with the .env was stolen (INC-4521)");
    both(&fx, "revoke_reason", &app, &[]);
    press(&mut app, KeyCode::Enter);
    both(&fx, "revoke_confirm", &app, &[]);
}

#[test]
fn a_stopped_rotation_offers_rollback() {
    let fx = Fixture::failing_verify();
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('y'));
    app.settle(JOB_TIMEOUT);
    let mut fixes = journal_fixes(&fx);
    // The new key is random, and so is its estimated strength.
    let bits = app.status().environments[0].strength.as_ref().unwrap().bits;
    fixes.push((format!("(~{bits:.0} bits)"), "(~420 bits)".into()));
    both(&fx, "rollback_offer", &app, &fixes);
    // The next start shows it first.
    let app = fx.app();
    both(&fx, "unfinished_at_start", &app, &fixes);
}

/// Writes a backup as the store keeps it, with a fixed time.
fn backup(
    fx: &Fixture,
    id: &str,
    kind: &str,
    target: &str,
    fp: Option<&str>,
    reason: &str,
    at: &str,
) {
    let dir = state_dir(fx).join("backups").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("content"), "not shown").unwrap();
    let meta = json!({
        "id": id, "kind": kind, "created": at, "environment": "production",
        "target": target, "path": "", "fingerprint": fp, "reason": reason,
    });
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
}

#[test]
fn backups_list_by_fingerprint() {
    let fx = Fixture::demo();
    let session = fx.session();
    let mut state = session.project.load_state().unwrap();
    state.revoked.push(
        serde_json::from_value(json!({
            "fingerprint": "kw:5ca1ab1e", "environment": "production",
            "reason": "laptop stolen (INC-4521)", "at": "2026-05-20T09:00:00Z",
        }))
        .unwrap(),
    );
    state.save(&state_dir(&fx)).unwrap();
    backup(
        &fx,
        "20260301T100000Z-production-1",
        "file",
        "deploy/production/.env",
        None,
        "set: file before",
        "2026-03-01T10:00:00Z",
    );
    backup(
        &fx,
        "20260520T090000Z-production-1",
        "key",
        "",
        Some("kw:5ca1ab1e"),
        "revocation: retired key",
        "2026-05-20T09:00:00Z",
    );
    backup(
        &fx,
        "20260520T090000Z-production-2",
        "key",
        "",
        Some("kw:0ddba11a"),
        "revocation: new key",
        "2026-05-20T09:00:00Z",
    );
    backup(
        &fx,
        "20260601T110000Z-production-1",
        "file",
        "deploy/production/.streamlit/secrets.toml",
        None,
        "rotation: file before",
        "2026-06-01T11:00:00Z",
    );
    let mut app = fx.app();
    select(&mut app, "production");
    press(&mut app, KeyCode::Char('b'));
    both(&fx, "backups", &app, &[]);
    press(&mut app, KeyCode::Down);
    both(&fx, "backups_revoked_selected", &app, &[]);
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A small audit trail with fixed times and user, chained as keywarden chains it.
/// The trail of `project` (each line names it, as keywarden checks).
fn audit_lines(project: &str) -> Vec<String> {
    let events = [
        (
            "2026-05-30T08:00:00Z",
            Some("development"),
            "set",
            "ok",
            json!({"new": "kw:1b2c3d4e"}),
            None,
        ),
        (
            "2026-05-31T09:15:00Z",
            Some("production"),
            "reveal",
            "ok",
            json!({"new": "kw:5ca1ab1e"}),
            None,
        ),
        (
            "2026-06-01T10:00:00Z",
            Some("production"),
            "revoke.create",
            "started",
            json!({"old": "kw:5ca1ab1e", "new": "kw:0ddba11a"}),
            Some("laptop stolen (INC-4521)"),
        ),
        (
            "2026-06-01T10:00:01Z",
            Some("production"),
            "revoke.restart",
            "failed",
            json!({"new": "kw:0ddba11a"}),
            Some("`sh scripts/restart.sh production`: exit 1 in 0.2 s"),
        ),
        (
            "2026-06-01T10:05:00Z",
            Some("production"),
            "revoke.finish",
            "ok",
            json!({"old": "kw:5ca1ab1e", "new": "kw:0ddba11a"}),
            Some("laptop stolen (INC-4521)"),
        ),
        (
            "2026-06-01T11:00:00Z",
            None,
            "incident.open",
            "ok",
            json!(null),
            Some("INC-20260601-110000-compromised (compromised)"),
        ),
    ];
    let mut prev = "0".repeat(64);
    let mut lines = Vec::new();
    for (ts, env, action, result, fps, detail) in events {
        let mut e = json!({
            "ts": ts, "user": "alice", "host": "oncall-laptop", "project": project,
            "action": action, "result": result, "prev": prev,
        });
        if let Some(env) = env {
            e["environment"] = json!(env);
        }
        if !fps.is_null() {
            e["fingerprints"] = fps;
        }
        if let Some(d) = detail {
            e["detail"] = json!(d);
        }
        let line = e.to_string();
        prev = sha256_hex(line.as_bytes());
        lines.push(line);
    }
    lines
}

/// Writes the trail and, as keywarden does with every event, `audit.head` beside it
/// (its end as written: an edit in the middle is what the test shows).
fn write_audit(fx: &Fixture, lines: &[String]) {
    let path = fx.session().project.audit().path().to_path_buf();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    std::fs::write(&path, &text).unwrap();
    let head = json!({
        "lines": lines.len(),
        "last": sha256_hex(lines.last().unwrap().as_bytes()),
        "len": text.len(),
    });
    std::fs::write(path.with_file_name("audit.head"), head.to_string()).unwrap();
}

#[test]
fn audit_trail_intact_and_tampered() {
    let fx = Fixture::demo();
    let mut lines = audit_lines(&fx.session().project.root.to_string_lossy());
    write_audit(&fx, &lines);
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('a'));
    both(&fx, "audit_intact", &app, &[]);
    // Someone softens the failed restart after the fact.
    lines[3] = lines[3].replace("\"failed\"", "\"ok\"");
    write_audit(&fx, &lines);
    let mut app = fx.app();
    press(&mut app, KeyCode::Char('a'));
    both(&fx, "audit_tampered", &app, &[]);
}

#[test]
fn incident_picker() {
    let fx = Fixture::demo();
    let mut app = fx.app();
    select(&mut app, "production");
    press(&mut app, KeyCode::Char('i'));
    both(&fx, "incident_picker", &app, &[]);
}

/// Rewrites every saved incident with a fixed id, times and user, as if opened at the
/// frozen "now" by alice; returns the ids.
fn freeze_incidents(fx: &Fixture) -> Vec<String> {
    let dir = state_dir(fx).join("incidents");
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let id = format!("INC-20260601-120000-{}", v["playbook"].as_str().unwrap());
        v["id"] = json!(id);
        v["opened"] = json!(NOW);
        v["opened_by"] = json!("alice");
        if !v["closed"].is_null() {
            v["closed"] = json!(NOW);
        }
        for step in v["steps"].as_array_mut().unwrap() {
            if !step["at"].is_null() {
                step["at"] = json!(NOW);
                step["by"] = json!("alice");
            }
            for note in step["notes"].as_array_mut().unwrap() {
                note["at"] = json!(NOW);
                note["by"] = json!("alice");
            }
        }
        std::fs::remove_file(&path).unwrap();
        std::fs::write(dir.join(format!("{id}.json")), v.to_string()).unwrap();
        ids.push(id);
    }
    ids
}

#[test]
fn the_wizard_at_start_midway_and_closed() {
    let fx = Fixture::demo();
    let session = fx.session();
    let project = &session.project;
    let store = Incidents::new(project);
    let pb = playbook::load(project, "compromised").unwrap();
    let fp = fx.app().status().environments[2].fingerprint.clone();
    store.open(&pb, "production", fp).unwrap();
    let id = freeze_incidents(&fx).remove(0);
    let mut app = fx.app();
    app.update(Action::ClosePopup); // the open incident offered at start
    app.update(Action::OpenIncident(id.clone()));
    both(&fx, "wizard_start", &app, &[]);

    // Mid-way: two steps done, one failed, a note.
    let mut incident = store.load(&id).unwrap();
    store
        .record(
            &mut incident,
            &pb,
            "revoke",
            Status::Done,
            Some("production: revoked kw:6f2b3a1c; now kw:0ddba11a".into()),
            None,
        )
        .unwrap();
    store
        .record(
            &mut incident,
            &pb,
            "generate",
            Status::Done,
            Some("kw:0ddba11a: fresh, strong (~420 bits), not revoked".into()),
            None,
        )
        .unwrap();
    store
        .record(
            &mut incident,
            &pb,
            "update-all",
            Status::Failed,
            Some("staging: restart failed (exit 1); run the step again to retry".into()),
            None,
        )
        .unwrap();
    store
        .note(
            &mut incident,
            "update-all",
            "staging's restart script needs sudo; asked ops",
        )
        .unwrap();
    freeze_incidents(&fx);
    let mut app = fx.app();
    app.update(Action::ClosePopup);
    app.update(Action::OpenIncident(id.clone()));
    both(&fx, "wizard_midway", &app, &[]);

    // The note popup over it.
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "ops restarted staging by hand at 12:10");
    both(&fx, "wizard_note", &app, &[]);

    // Closed: every step done or skipped.
    for s in ["update-all", "restart-all", "audit-logs", "notify"] {
        store
            .record(&mut incident, &pb, s, Status::Done, None, None)
            .unwrap();
    }
    store
        .record(
            &mut incident,
            &pb,
            "sessions",
            Status::Skipped,
            None,
            Some("no session store: JWT only, all signed with the old key are invalid now"),
        )
        .unwrap();
    freeze_incidents(&fx);
    let mut app = fx.app();
    app.update(Action::OpenIncident(id));
    both(&fx, "wizard_closed", &app, &[]);
}
