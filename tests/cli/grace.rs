//! The grace period's fallback as a list: every previous key stays, newest first, each
//! until its own grace period ends, in the comma-separated form Django
//! (`SECRET_KEY_FALLBACKS` through django-environ's `env.list()`), Laravel
//! (`APP_PREVIOUS_KEYS`) and Flask read.

use crate::common::python;
use crate::support::{Sandbox, assert_no_key, stderr};
use serde_json::Value;
use std::process::Command;

/// A strong key (64 alphanumerics) the target holds before the first rotation.
const OLD: &str = "Q7mZ2kP9xR4vN8tL1cW6bY3hJ5gF0dS2aE7uI9oK4jM6nB8vC1xZ3lT5rH7qW9e";

const FALLBACK_BEFORE: &str = "# previous keys\nDEBUG=0\n";

/// Production with a 7-day grace period, the fallback in its own `.env`, and a verify
/// step that fails while `fail-verify` exists.
fn production(sb: &Sandbox) {
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ngrace_days = 7\n\
         verify = \"test ! -e fail-verify\"\n\
         fallback = { path = \"fallback.env\", key = \"SECRET_KEY_FALLBACKS\" }\n\
         targets = [{ path = \"prod.env\" }]\n",
    );
    sb.write("prod.env", &format!("SECRET_KEY='{OLD}'\n"));
    sb.write("fallback.env", FALLBACK_BEFORE);
}

/// The value of `name` in a `.env` line `NAME='value'`.
fn env_value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}='")))
        .map(|v| v.trim_end_matches('\'').to_string())
}

fn rotate(sb: &Sandbox) -> String {
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "rotate: {}", stderr(&out));
    env_value(&sb.read("prod.env"), "SECRET_KEY").expect("the new key")
}

/// The fallback's keys, in the file's order.
fn fallbacks(sb: &Sandbox) -> Vec<String> {
    env_value(&sb.read("fallback.env"), "SECRET_KEY_FALLBACKS")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

fn status(sb: &Sandbox) -> Value {
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "status: {}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["environments"][0].clone()
}

/// The fingerprint of the key the environment holds now.
fn current_fp(sb: &Sandbox) -> String {
    status(sb)["fingerprint"].as_str().unwrap().to_string()
}

fn state_path(sb: &Sandbox) -> std::path::PathBuf {
    sb.state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with("state.json"))
        .unwrap()
}

fn grace_ends(sb: &Sandbox) -> Vec<Value> {
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "grace.end")
        .cloned()
        .collect()
}

#[test]
fn three_rotations_keep_three_previous_keys_newest_first() {
    let sb = Sandbox::new();
    production(&sb);
    let mut keys = vec![OLD.to_string()];
    let mut fps = vec![current_fp(&sb)];
    for _ in 0..3 {
        keys.push(rotate(&sb));
        fps.push(current_fp(&sb));
    }
    let [k0, k1, k2, k3] = &keys[..] else {
        unreachable!()
    };
    assert_eq!(fallbacks(&sb), vec![k2.clone(), k1.clone(), k0.clone()]);
    // One single-quoted value, no spaces, every other line kept.
    let text = sb.read("fallback.env");
    assert_eq!(
        text,
        format!("{FALLBACK_BEFORE}SECRET_KEY_FALLBACKS='{k2},{k1},{k0}'\n")
    );
    for k in &keys[1..] {
        assert!(!k.contains(','), "a generated key holds no list separator");
    }
    assert!(
        !text.contains(k3.as_str()),
        "the current key is no fallback"
    );

    let env = status(&sb);
    let list = env["fallbacks"].as_array().expect("a fallbacks list");
    let listed: Vec<&str> = list
        .iter()
        .map(|g| g["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![&fps[2], &fps[1], &fps[0]], "newest first");
    let untils: Vec<&str> = list.iter().map(|g| g["until"].as_str().unwrap()).collect();
    assert!(
        untils.windows(2).all(|w| w[0] >= w[1]),
        "each keeps its own expiry: {untils:?}"
    );
    assert_eq!(env["grace_until"].as_str(), Some(untils[0]), "the latest");
    let kw119 = env["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KW119")
        .count();
    assert_eq!(kw119, 3, "KW119 for each old key: {env}");
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    for k in &keys {
        assert_no_key("status --json", &out.stdout, k);
        for (p, content) in sb.state_files() {
            if !p.to_string_lossy().contains("backups") {
                assert_no_key(&p.display().to_string(), &content, k);
            }
        }
    }
}

#[test]
fn expiry_removes_only_the_expired_key_then_the_line_with_the_last() {
    let sb = Sandbox::new();
    production(&sb);
    let old_fp = current_fp(&sb);
    let k1 = rotate(&sb);
    let k1_fp = current_fp(&sb);
    let k2 = rotate(&sb);
    assert_eq!(fallbacks(&sb), vec![k1.clone(), OLD.to_string()]);
    // The oldest entry's grace period ends, as time would make it (the clock that ends
    // grace periods is the one that wrote `until`).
    let path = state_path(&sb);
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let list = state["grace"]["production"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{state}");
    let newer_until = list[0]["until"].clone();
    state["grace"]["production"][1]["until"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();

    let env = status(&sb);
    assert_eq!(
        fallbacks(&sb),
        vec![k1.clone()],
        "only the expired key left"
    );
    assert_eq!(
        sb.read("fallback.env"),
        format!("{FALLBACK_BEFORE}SECRET_KEY_FALLBACKS='{k1}'\n")
    );
    assert_eq!(env["fallbacks"].as_array().unwrap().len(), 1, "{env}");
    assert_eq!(env["fallbacks"][0]["fingerprint"], k1_fp.as_str());
    assert_eq!(env["grace_until"], newer_until);
    let ends = grace_ends(&sb);
    assert_eq!(ends.len(), 1, "{ends:?}");
    let end = ends[0].to_string();
    assert!(end.contains(&old_fp) && !end.contains(&k1_fp), "{end}");

    // The last one ends too: the key leaves the file.
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["grace"]["production"][0]["until"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let env = status(&sb);
    assert_eq!(sb.read("fallback.env"), FALLBACK_BEFORE);
    assert_eq!(env["fallbacks"], Value::Array(Vec::new()));
    assert!(env["grace_until"].is_null());
    assert_eq!(grace_ends(&sb).len(), 2);
    assert_eq!(env_value(&sb.read("prod.env"), "SECRET_KEY"), Some(k2));
}

#[test]
fn a_version_1_state_with_one_old_key_is_read_and_extended() {
    let sb = Sandbox::new();
    production(&sb);
    let k1 = rotate(&sb);
    // Rewrite the state as version 1 wrote it: one old key per environment.
    let path = state_path(&sb);
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let one = state["grace"]["production"][0].clone();
    state["grace"]["production"] = one.clone();
    state["version"] = 1.into();
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let env = status(&sb);
    assert_eq!(env["fallbacks"], Value::Array(vec![one.clone()]));
    let _k2 = rotate(&sb);
    assert_eq!(fallbacks(&sb), vec![k1, OLD.to_string()]);
    let state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(state["grace"]["production"][1], one, "its expiry kept");
}

#[test]
fn revoke_clears_the_whole_list() {
    let sb = Sandbox::new();
    production(&sb);
    rotate(&sb);
    rotate(&sb);
    assert_eq!(fallbacks(&sb).len(), 2);
    let out = sb
        .kw()
        .args(["revoke", "production", "--reason", "leaked", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "revoke: {}", stderr(&out));
    assert_eq!(
        sb.read("fallback.env"),
        FALLBACK_BEFORE,
        "nothing in the fallback"
    );
    let env = status(&sb);
    assert_eq!(env["fallbacks"], Value::Array(Vec::new()));
    assert!(env["grace_until"].is_null());
}

#[test]
fn rollback_gives_the_fallback_its_list_back_exactly() {
    let sb = Sandbox::new();
    production(&sb);
    rotate(&sb);
    let current = rotate(&sb);
    let before = sb.read("fallback.env");
    let status_before = status(&sb)["fallbacks"].clone();
    assert_eq!(status_before.as_array().unwrap().len(), 2);
    sb.write("fail-verify", "");
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "verify fails: {}", stderr(&out));
    assert_eq!(
        fallbacks(&sb).len(),
        3,
        "the set step wrote the longer list"
    );
    let out = sb
        .kw()
        .args(["rotate", "production", "--rollback"])
        .output()
        .unwrap();
    assert!(out.status.success(), "rollback: {}", stderr(&out));
    assert_eq!(sb.read("fallback.env"), before, "byte for byte");
    assert_eq!(env_value(&sb.read("prod.env"), "SECRET_KEY"), Some(current));
    assert_eq!(status(&sb)["fallbacks"], status_before);
}

#[test]
fn a_key_with_the_separator_is_refused_where_the_fallback_is_a_list() {
    let sb = Sandbox::new();
    production(&sb);
    let with_comma = "Xk3,pQ9mZ2vN8tL1cW6bY3hJ5gF0dS2aE7uI9oK4jM6nB8vC1xZ3lT5rH7qW9eRt";
    let out = sb
        .kw()
        .args(["set", "production", "--stdin", "--yes"])
        .write_stdin(with_comma)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("`,`"), "{err}");
    assert!(err.contains("fallback.env"), "{err}");
    assert!(!err.contains(with_comma), "no key in the message");
    assert_eq!(sb.read("prod.env"), format!("SECRET_KEY='{OLD}'\n"));
    // Generated keys for this environment never hold one (the guide's charset does).
    for _ in 0..8 {
        let out = sb
            .kw()
            .args(["set", "production", "--generate", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let k = env_value(&sb.read("prod.env"), "SECRET_KEY").unwrap();
        assert!(!k.contains(','), "a generated key holds the separator");
    }
}

#[test]
fn python_dotenv_reads_the_list_back_exactly() {
    let Some(py) = python("the fallback list read by python-dotenv") else {
        return;
    };
    let sb = Sandbox::new();
    production(&sb);
    let mut keys = vec![OLD.to_string()];
    for _ in 0..3 {
        keys.push(rotate(&sb));
    }
    keys.pop();
    keys.reverse();
    let out = Command::new(py)
        .args([
            "-c",
            "import sys, dotenv\n\
             v = dotenv.dotenv_values(sys.argv[1])['SECRET_KEY_FALLBACKS']\n\
             # django-environ's env.list(): split on ',', empty items dropped\n\
             sys.stdout.write('\\n'.join(x for x in v.split(',') if x))",
        ])
        .arg(sb.project.path().join("fallback.env"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(read == keys, "python-dotenv reads the list as written");
}

#[test]
fn a_toml_fallback_is_one_comma_separated_string_tomllib_reads() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ngrace_days = 7\n\
         fallback = { path = \"secrets.toml\", key = \"SECRET_KEY_FALLBACKS\" }\n\
         targets = [{ path = \"secrets.toml\", key = \"auth.secret_key\" }]\n",
    );
    sb.write("secrets.toml", &format!("[auth]\nsecret_key = '{OLD}'\n"));
    let key = |sb: &Sandbox| {
        let text = sb.read("secrets.toml");
        text.lines()
            .find_map(|l| l.strip_prefix("secret_key = '"))
            .map(|v| v.trim_end_matches('\'').to_string())
            .unwrap_or_else(|| panic!("{text}"))
    };
    let mut keys = vec![OLD.to_string()];
    for _ in 0..2 {
        let out = sb
            .kw()
            .args(["rotate", "production", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "rotate: {}", stderr(&out));
        keys.push(key(&sb));
    }
    let want = format!("{},{}", keys[1], keys[0]);
    let Some(py) = python("the TOML fallback list read by tomllib") else {
        return;
    };
    let out = Command::new(py)
        .args([
            "-c",
            "import sys, tomllib\n\
             d = tomllib.load(open(sys.argv[1], 'rb'))\n\
             sys.stdout.write(d['SECRET_KEY_FALLBACKS'] + '\\n' + d['auth']['secret_key'])",
        ])
        .arg(sb.project.path().join("secrets.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text == format!("{want}\n{}", keys[2]),
        "tomllib reads the fallback list and the key as written"
    );
}

#[test]
fn restore_of_a_key_with_the_separator_is_refused_once_the_fallback_is_a_list() {
    let sb = Sandbox::new();
    let manifest = |fallback: &str| {
        format!(
            "version = 1\n[[environments]]\nname = \"production\"\n{fallback}\
             targets = [{{ path = \"prod.env\" }}]\n"
        )
    };
    sb.write("keywarden.toml", &manifest(""));
    sb.write("prod.env", &format!("SECRET_KEY='{OLD}'\n"));
    // Without a fallback a key may hold a comma.
    let with_comma = "Xk3,pQ9mZ2vN8tL1cW6bY3hJ5gF0dS2aE7uI9oK4jM6nB8vC1xZ3lT5rH7qW9eRt";
    let out = sb
        .kw()
        .args(["set", "production", "--stdin", "--yes"])
        .write_stdin(with_comma)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let comma_fp = current_fp(&sb);
    let out = sb
        .kw()
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb
        .kw()
        .args(["backups", "production", "--json"])
        .output()
        .unwrap();
    let backups: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "key" && b["fingerprint"] == comma_fp.as_str())
        .and_then(|b| b["id"].as_str())
        .unwrap_or_else(|| panic!("no backup of the key: {backups}"))
        .to_string();
    sb.write(
        "keywarden.toml",
        &manifest(
            "grace_days = 7\nfallback = { path = \"fallback.env\", key = \"SECRET_KEY_FALLBACKS\" }\n",
        ),
    );
    let before = sb.read("prod.env");
    let out = sb
        .kw()
        .args(["restore", "production", &id, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("`,`"), "{err}");
    assert!(!err.contains(with_comma), "no key in the message");
    assert_eq!(sb.read("prod.env"), before, "nothing written");
}

#[test]
fn a_second_rotation_killed_at_any_step_resumes_to_the_whole_list() {
    for point in ["create", "set:0", "set:1", "set", "verify"] {
        let sb = Sandbox::new();
        production(&sb);
        let k1 = rotate(&sb);
        let out = sb
            .kw()
            .args(["rotate", "production", "--yes"])
            .env("KEYWARDEN_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{point}: the process was aborted");
        let out = sb
            .kw()
            .args(["rotate", "production", "--resume"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{point}: resume: {}", stderr(&out));
        assert_eq!(
            fallbacks(&sb),
            vec![k1.clone(), OLD.to_string()],
            "{point}: both previous keys, newest first"
        );
        let env = status(&sb);
        assert_eq!(env["fallbacks"].as_array().unwrap().len(), 2, "{point}");
        assert!(env["rotation"].is_null(), "{point}");
    }
}

/// A key drawn before the fallback was configured may hold `,`: rotating it out would put
/// it into the list as two bogus keys while status claimed one fallback. The rotation is
/// refused before anything changes, and says how to rotate without a grace period.
#[test]
fn rotating_out_a_key_with_the_separator_is_refused_not_split() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \".env\" }]\n",
    );
    sb.write(".env", "DEBUG=1\n");
    let with_comma = "Aq7#kP2vX9mL4tR8wZ1nB6yC3,uE5oI0sD7fG2hJ4kL9pQ1rT6vW3xY8zA5bN0cM";
    let out = sb
        .kw()
        .args(["set", "staging", "--stdin"])
        .write_stdin(with_comma)
        .output()
        .unwrap();
    assert!(out.status.success(), "no fallback yet: {}", stderr(&out));
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"staging\"\ngrace_days = 7\n\
         fallback = { path = \".env\", key = \"SECRET_KEY_FALLBACKS\" }\ntargets = [{ path = \".env\" }]\n",
    );
    let before = sb.read(".env");
    let out = sb
        .kw()
        .args(["rotate", "staging", "--yes", "--no-restart"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`,`") && err.contains("grace_days = 0"),
        "{err}"
    );
    assert!(!err.contains(with_comma));
    assert_eq!(sb.read(".env"), before, "nothing changed");
    assert!(
        status(&sb)["fallbacks"]
            .as_array()
            .is_none_or(|a| a.is_empty())
    );
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    let audit = String::from_utf8_lossy(&out.stdout);
    assert!(
        !audit.contains("rotate.create"),
        "not even a started record: {audit}"
    );
}
