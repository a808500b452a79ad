//! Crash tests of `restore` and of every incident action (issue 12's proof): the command is
//! killed at every failpoint it passes, one kill a run, and each project it leaves is
//! checked against the README ("Writing keys safely", "Rotation and revocation",
//! "Incidents"):
//!
//! - `status` explains what was left: an unfinished journal is KW118 (and every command
//!   says so), targets that disagree are never plain drift, an incident step is either
//!   recorded or still open;
//! - the recovery path finishes: `rotate --resume` and `--rollback` for a journal, the
//!   same command again when none was left, `incident resume ID --step STEP --run` for a
//!   step;
//! - afterwards every target of every environment holds one and the same key, one of the
//!   keys before or the one new key (never a third), no line of a user is lost, every key
//!   that was on disk is in the backups, the audit chain verifies, and neither the project
//!   nor the state home holds debris (temporary files, kept copies, half-written backups);
//! - no key reaches any command's output.
//!
//! The failpoints are found, not listed: each command runs once with
//! `KEYWARDEN_FAILPOINT_TRACE`, which names every failpoint it passes, so a new failpoint
//! is killed at as soon as it exists. Each kill starts from the same copy of the project
//! and its state home (same paths, so the same state folder).

use crate::support::{Sandbox, assert_no_key, stderr, stdout};
use crate::writes::{OLD, codes, env_value};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A second strong key, for a second environment.
const OTHER: &str = "H3kW9pL2xV7nQ4tR8mZ1cB6yJ5gF0dS3aE7uI2oK9jM4nP6vC8xT1qW5rE7bZ2u";

// ---- The project as files -------------------------------------------------------------

/// The file targets of each environment of the scenario, in manifest order.
type Layout = &'static [(&'static str, &'static [&'static str])];

/// Every key the files of `env` hold now, in target order (`None`: no key line).
fn keys_of(sb: &Sandbox, files: &[&str]) -> Vec<Option<String>> {
    files
        .iter()
        .map(|f| {
            std::fs::read_to_string(sb.project.path().join(f))
                .ok()
                .and_then(|t| env_value(&t, "SECRET_KEY"))
        })
        .collect()
}

/// A file's lines other than its key's: what a write of the key must never change.
fn other_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("SECRET_KEY="))
        .map(str::to_string)
        .collect()
}

/// Every file of the project and of the state home, with its bytes (symlinks as such).
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// What a killed run may leave and the next command must have removed: temporary files,
/// kept copies, backup folders without their record or content.
fn debris(sb: &Sandbox) -> Vec<String> {
    let mut found = Vec::new();
    for root in [sb.project.path(), sb.home.path()] {
        for p in tree(root) {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if (name.starts_with(".keywarden-") && name.ends_with(".tmp"))
                || name.contains(".keywarden-kept-")
            {
                found.push(p.display().to_string());
            }
            let in_backups = p
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "backups");
            if in_backups
                && p.is_dir()
                && !(p.join("meta.json").is_file() && p.join("content.age").is_file())
            {
                found.push(format!("{} (a backup without its record)", p.display()));
            }
        }
    }
    found
}

/// A copy of the project and its state home, put back before every kill.
struct Snapshot {
    dir: tempfile::TempDir,
}

fn cp_all(from: &Path, to: &Path) {
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .unwrap()
        .success();
    assert!(ok, "cp -a {} {}", from.display(), to.display());
}

fn empty(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
}

impl Snapshot {
    fn take(sb: &Sandbox) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        for (from, name) in [(sb.project.path(), "project"), (sb.home.path(), "home")] {
            let to = dir.path().join(name);
            std::fs::create_dir(&to).unwrap();
            cp_all(from, &to);
        }
        Snapshot { dir }
    }

    fn put_back(&self, sb: &Sandbox) {
        for (to, name) in [(sb.project.path(), "project"), (sb.home.path(), "home")] {
            empty(to);
            cp_all(&self.dir.path().join(name), to);
        }
    }
}

// ---- One kill ---------------------------------------------------------------------------

/// The failpoints `args` passes, in order, each as `KEYWARDEN_FAILPOINT` names its pass
/// (`NAME#N`). The run itself must succeed.
fn failpoints(sb: &Sandbox, args: &[&str], keys: &[&str]) -> Vec<String> {
    let trace = tempfile::NamedTempFile::new().unwrap();
    let out = sb
        .kw()
        .args(args)
        .env("KEYWARDEN_FAILPOINT_TRACE", trace.path())
        .output()
        .unwrap();
    no_key(&out, keys);
    assert!(
        out.status.success(),
        "keywarden {}: {}{}",
        args.join(" "),
        stdout(&out),
        stderr(&out)
    );
    let text = std::fs::read_to_string(trace.path()).unwrap();
    let mut seen: Vec<&str> = Vec::new();
    let points: Vec<String> = text
        .lines()
        .map(|name| {
            seen.push(name);
            format!("{name}#{}", seen.iter().filter(|n| **n == name).count())
        })
        .collect();
    assert!(
        !points.is_empty(),
        "keywarden {} passes no failpoint: the trace is not written",
        args.join(" ")
    );
    points
}

fn no_key(out: &Output, keys: &[&str]) {
    for k in keys {
        assert_no_key("stdout", &out.stdout, k);
        assert_no_key("stderr", &out.stderr, k);
    }
}

fn aborted(out: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(libc::SIGABRT)
}

/// The state of every environment after a kill or a recovery: its targets' keys.
fn disk(sb: &Sandbox, layout: Layout) -> Vec<Vec<Option<String>>> {
    layout.iter().map(|(_, files)| keys_of(sb, files)).collect()
}

/// Every backup's content, decrypted; a backup put back from a snapshot (same path, same
/// bytes) is decrypted once.
fn backup_contents(sb: &Sandbox) -> Vec<(PathBuf, Vec<u8>)> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Cache = Mutex<HashMap<(PathBuf, Vec<u8>), Vec<u8>>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let sealed: Vec<(PathBuf, Vec<u8>)> = sb
        .state_files()
        .into_iter()
        .filter(|(p, _)| p.ends_with("content.age"))
        .collect();
    if sealed
        .iter()
        .any(|k| !cache.lock().unwrap().contains_key(k))
    {
        for (p, plain) in sb.backup_contents() {
            let bytes = std::fs::read(&p).unwrap();
            cache.lock().unwrap().insert((p, bytes), plain);
        }
    }
    let cache = cache.lock().unwrap();
    sealed
        .into_iter()
        .map(|k| {
            let plain = cache[&k].clone();
            (k.0, plain)
        })
        .collect()
}

/// Whether some backup holds `key` (key backups hold the key, file backups a file with it).
fn backed_up(contents: &[(PathBuf, Vec<u8>)], key: &str) -> bool {
    contents
        .iter()
        .any(|(_, c)| c.windows(key.len()).any(|w| w == key.as_bytes()))
}

/// Checks a project after a kill (`when` = "after the kill") or after its recovery.
/// `before` is each environment's keys before the command, `seen` collects every key
/// found on disk.
#[allow(clippy::too_many_arguments)]
fn check_project(
    sb: &Sandbox,
    at: &str,
    when: &str,
    layout: Layout,
    before_files: &[(String, Vec<String>)],
    after_recovery: bool,
    failures: &mut Vec<String>,
) -> (Vec<Vec<Option<String>>>, Value) {
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{at}: status: {}", stderr(&out));
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = disk(sb, layout);
    // Every command says an unfinished rotation is there, not only `status --json`.
    if st["environments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| !e["rotation"].is_null())
        && !stderr(&out).contains("unfinished rotation")
    {
        failures.push(format!(
            "{at}: {when}: `status` does not say a rotation is unfinished"
        ));
    }
    for (i, (env, files)) in layout.iter().enumerate() {
        let e = st["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == *env)
            .unwrap();
        let found = codes(&e["findings"]);
        let journaled = !e["rotation"].is_null();
        if journaled != found.iter().any(|c| c == "KW118") {
            failures.push(format!(
                "{at}: {when}: {env}: a journal ({journaled}) but findings {found:?}"
            ));
        }
        let one = keys[i].iter().all(|k| *k == keys[i][0]);
        if !one && !journaled {
            failures.push(format!(
                "{at}: {when}: {env}: {} hold different keys and status reports no KW118: {found:?}",
                files.join(", ")
            ));
        }
        if after_recovery {
            if !one {
                failures.push(format!(
                    "{at}: {when}: {env}: the targets do not hold one key"
                ));
            }
            let left: Vec<&String> = found
                .iter()
                .filter(|c| ["KW118", "KW120", "KW102"].contains(&c.as_str()))
                .collect();
            if !left.is_empty() {
                failures.push(format!("{at}: {when}: {env}: {left:?}"));
            }
        }
    }
    for (f, texts) in before_files {
        let now = std::fs::read_to_string(sb.project.path().join(f)).unwrap_or_default();
        if !texts.iter().any(|t| other_lines(&now) == other_lines(t)) {
            failures.push(format!(
                "{at}: {when}: {f} lost or changed a line of its own: {:?} -> {:?}",
                other_lines(&texts[0]),
                other_lines(&now)
            ));
        }
    }
    if after_recovery {
        let left = debris(sb);
        if !left.is_empty() {
            failures.push(format!("{at}: {when}: debris: {left:?}"));
        }
        let out = sb.kw().args(["audit", "--verify"]).output().unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{at}: {when}: the audit chain: {}",
                stdout(&out).trim()
            ));
        }
    }
    (keys, st)
}

/// Every key the project held before, after the kill and after the recovery: at most one
/// key per environment that was not there before; each new key, and each key of before
/// that left the files, in the backups.
fn check_keys(
    sb: &Sandbox,
    at: &str,
    layout: Layout,
    states: &[&Vec<Vec<Option<String>>>],
    failures: &mut Vec<String>,
) {
    let mut moved = BTreeSet::new();
    for (i, (env, _)) in layout.iter().enumerate() {
        let before: BTreeSet<&String> = states[0][i].iter().flatten().collect();
        let last: BTreeSet<&String> = states[states.len() - 1][i].iter().flatten().collect();
        let new: BTreeSet<&String> = states[1..]
            .iter()
            .flat_map(|s| s[i].iter().flatten())
            .filter(|k| !before.contains(k))
            .collect();
        if new.len() > 1 {
            failures.push(format!(
                "{at}: {env}: {} new keys reached its files (a third key)",
                new.len()
            ));
        }
        moved.extend(new.into_iter().cloned());
        moved.extend(before.difference(&last).map(|k| (*k).clone()));
    }
    if moved.is_empty() {
        return;
    }
    let contents = backup_contents(sb);
    for (n, k) in moved.iter().enumerate() {
        if !backed_up(&contents, k) {
            failures.push(format!(
                "{at}: key #{n} of those that came or went is in no backup"
            ));
        }
    }
}

/// What the test does after a kill: a closure that runs the recovery and says what it ran.
type Recover<'a> = &'a dyn Fn(&Sandbox, &Value) -> Result<Vec<Output>, String>;

/// Kills `args` at every failpoint it passes, from `snap` each time, and checks each
/// project it leaves and its recovery. Returns how many runs were killed.
#[allow(clippy::too_many_arguments)]
fn kill_everywhere(
    sb: &Sandbox,
    snap: &Snapshot,
    what: &str,
    args: &[&str],
    layout: Layout,
    keys: &[&str],
    recover: Recover,
    last: &dyn Fn(&Sandbox, &str, &mut Vec<String>),
    also: &[(&str, &str)],
    failures: &mut Vec<String>,
) -> usize {
    snap.put_back(sb);
    // What each file may hold besides its own lines of before: what the command puts there.
    let before_files: Vec<(String, Vec<String>)> = layout
        .iter()
        .flat_map(|(_, files)| files.iter())
        .map(|f| {
            let mut texts =
                vec![std::fs::read_to_string(sb.project.path().join(f)).unwrap_or_default()];
            texts.extend(
                also.iter()
                    .filter(|(g, _)| g == f)
                    .map(|(_, t)| t.to_string()),
            );
            (f.to_string(), texts)
        })
        .collect();
    let before = disk(sb, layout);
    let points = failpoints(sb, args, keys);
    let mut kills = 0;
    for point in &points {
        snap.put_back(sb);
        let at = format!("{what} killed at {point}");
        let out = sb
            .kw()
            .args(args)
            .env("KEYWARDEN_FAILPOINT", point)
            .output()
            .unwrap();
        no_key(&out, keys);
        if !aborted(&out) {
            failures.push(format!(
                "{at}: not killed (exit {:?}): {}",
                out.status.code(),
                stderr(&out).trim()
            ));
            continue;
        }
        kills += 1;
        let (killed, st) = check_project(
            sb,
            &at,
            "after the kill",
            layout,
            &before_files,
            false,
            failures,
        );
        match recover(sb, &st) {
            Err(why) => failures.push(format!("{at}: {why}")),
            Ok(outs) => {
                let (after, _) = check_project(
                    sb,
                    &at,
                    "after recovery",
                    layout,
                    &before_files,
                    true,
                    failures,
                );
                check_keys(sb, &at, layout, &[&before, &killed, &after], failures);
                // No key that was on disk, the new ones included, in any output.
                let seen: Vec<&str> = killed
                    .iter()
                    .chain(&after)
                    .flatten()
                    .flatten()
                    .map(String::as_str)
                    .chain(keys.iter().copied())
                    .collect();
                for out in outs.iter().chain(std::iter::once(&out)) {
                    no_key(out, &seen);
                }
                last(sb, &at, failures);
            }
        }
    }
    kills
}

/// Runs `keywarden args`; an error naming it unless it exits 0.
fn ok(sb: &Sandbox, args: &[&str]) -> Result<Output, String> {
    let out = sb.kw().args(args).output().unwrap();
    if out.status.success() {
        Ok(out)
    } else {
        use std::os::unix::process::ExitStatusExt;
        Err(format!(
            "keywarden {}: exit {:?} (signal {:?}): {}{}",
            args.join(" "),
            out.status.code(),
            out.status.signal(),
            stdout(&out).trim(),
            stderr(&out).trim()
        ))
    }
}

/// The action and result of the audit trail's last event whose action starts with `prefix`.
fn last_event(sb: &Sandbox, prefix: &str) -> Option<(String, String)> {
    let out = ok(sb, &["audit", "--json"]).unwrap();
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    events.as_array()?.iter().rev().find_map(|e| {
        let action = e["action"].as_str()?;
        let result = e["result"].as_str()?;
        action
            .starts_with(prefix)
            .then(|| (action.to_string(), result.to_string()))
    })
}

/// The environments of `st` with an unfinished rotation.
fn journaled(st: &Value) -> Vec<String> {
    st["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["rotation"].is_null())
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect()
}

// ---- restore ----------------------------------------------------------------------------

const DEV: Layout = &[("development", &[".env", "deploy/.env"])];

const DEV_MANIFEST: &str = "version = 1\n[[environments]]\nname = \"development\"\n\
    restart = \"echo restarted >> restarts.log\"\nverify = \"true\"\n\
    targets = [{ path = \".env\" }, { path = \"deploy/.env\" }]\n";

/// The newest backup whose record matches `pick`.
fn backup(sb: &Sandbox, pick: impl Fn(&Value) -> bool) -> String {
    let out = sb.kw().args(["backups", "--json"]).output().unwrap();
    assert!(out.status.success(), "backups: {}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Listed oldest first.
    v.as_array()
        .unwrap()
        .iter()
        .filter(|b| pick(b))
        .filter_map(|b| b["id"].as_str())
        .next_back()
        .unwrap_or_else(|| panic!("no such backup: {v}"))
        .to_string()
}

/// development: two files that held OLD, now a key of `set`; returns that key.
fn dev_project(sb: &Sandbox) -> String {
    sb.write("keywarden.toml", DEV_MANIFEST);
    sb.write(".env", &format!("A=1\nSECRET_KEY='{OLD}'\n"));
    sb.write("deploy/.env", &format!("SECRET_KEY='{OLD}'\nB=2\n"));
    ok(sb, &["set", "development", "--generate"]).unwrap();
    env_value(&sb.read(".env"), "SECRET_KEY").unwrap()
}

#[test]
fn restore_of_a_key_killed_at_every_failpoint_is_resumed_or_rolled_back_to_one_key() {
    let sb = Sandbox::new();
    let set = dev_project(&sb);
    let id = backup(&sb, |b| {
        b["kind"] == "key" && b["reason"].as_str().unwrap().contains("retired")
    });
    let snap = Snapshot::take(&sb);
    let args = ["restore", "development", &id, "--yes"];
    let mut failures = Vec::new();
    let mut kills = 0;
    for mode in ["--resume", "--rollback"] {
        let recover = |sb: &Sandbox, st: &Value| -> Result<Vec<Output>, String> {
            if journaled(st).is_empty() {
                // Killed before the journal or after it was closed: the same command
                // again puts the key back (or finds it there).
                return Ok(vec![ok(sb, &args)?]);
            }
            Ok(vec![ok(sb, &["rotate", "development", mode, "--yes"])?])
        };
        let expect = |sb: &Sandbox, at: &str, failures: &mut Vec<String>| {
            let k = keys_of(sb, &[".env", "deploy/.env"]);
            let want = if mode == "--rollback" && k[0].as_deref() == Some(set.as_str()) {
                &set
            } else {
                OLD
            };
            if k.iter().any(|k| k.as_deref() != Some(want)) {
                failures.push(format!(
                    "{at} {mode}: the files hold neither the restored key everywhere nor the key before everywhere"
                ));
            }
            if mode == "--resume" && k[0].as_deref() != Some(OLD) {
                failures.push(format!("{at} {mode}: the restored key is not in place"));
            }
            // The audit trail ends as the files do: the restore finished, or rolled back.
            let want = if k[0].as_deref() == Some(OLD) {
                "restore.finish"
            } else {
                "restore.rollback"
            };
            match last_event(sb, "restore") {
                Some((action, result)) if action == want && result == "ok" => {}
                other => failures.push(format!(
                    "{at} {mode}: the audit trail's last restore event is {other:?}, not {want} ok"
                )),
            }
        };
        kills += kill_everywhere(
            &sb,
            &snap,
            &format!("restore of key backup ({mode})"),
            &args,
            DEV,
            &[OLD, &set],
            &recover,
            &expect,
            &[],
            &mut failures,
        );
    }
    eprintln!("restore of a key backup: {kills} kills");
    assert!(kills >= 20, "only {kills} runs were killed");
    assert!(
        failures.is_empty(),
        "{kills} kills:\n{}",
        failures.join("\n")
    );
}

#[test]
fn restore_of_a_file_killed_at_every_failpoint_leaves_the_file_or_its_backup() {
    let sb = Sandbox::new();
    let set = dev_project(&sb);
    // The user adds a line; a restore of the same key backs the file up with it; then the
    // line is lost by hand, and the newest backup of .env has it back, with the same key.
    let with_late = format!("A=1\nSECRET_KEY='{set}'\nLATE=1\n");
    sb.write(".env", &with_late);
    let same = backup(&sb, |b| b["kind"] == "key" && b["reason"] == "set: new key");
    ok(
        &sb,
        &["restore", "development", &same, "--yes", "--no-restart"],
    )
    .unwrap();
    let id = backup(&sb, |b| b["kind"] == "file" && b["target"] == ".env");
    sb.write(".env", &format!("A=1\nSECRET_KEY='{set}'\n"));
    let snap = Snapshot::take(&sb);
    let args = ["restore", "development", &id, "--yes"];
    let mut failures = Vec::new();
    let recover = |sb: &Sandbox, st: &Value| -> Result<Vec<Output>, String> {
        if !journaled(st).is_empty() {
            return Err("a file restore left a journal".into());
        }
        Ok(vec![ok(sb, &args)?])
    };
    let expect = |sb: &Sandbox, at: &str, failures: &mut Vec<String>| {
        if sb.read(".env") != with_late {
            failures.push(format!("{at}: .env is not the backup's content"));
        }
        match last_event(sb, "restore") {
            Some((action, result)) if action == "restore" && result == "ok" => {}
            other => failures.push(format!(
                "{at}: the audit trail's last restore event is {other:?}, not restore ok"
            )),
        }
        if keys_of(sb, &["deploy/.env"])[0].as_deref() != Some(set.as_str()) {
            failures.push(format!("{at}: deploy/.env changed key"));
        }
    };
    let kills = kill_everywhere(
        &sb,
        &snap,
        "restore of file backup",
        &args,
        DEV,
        &[OLD, &set],
        &recover,
        &expect,
        &[(".env", &with_late)],
        &mut failures,
    );
    eprintln!("restore of a file backup: {kills} kills");
    assert!(kills >= 3, "only {kills} runs were killed");
    assert!(
        failures.is_empty(),
        "{kills} kills:\n{}",
        failures.join("\n")
    );
}

// ---- incidents --------------------------------------------------------------------------

const INC: Layout = &[
    ("staging", &["staging.env", "deploy/staging.env"]),
    ("production", &["prod.env", "deploy/prod.env"]),
];

const INC_MANIFEST: &str = r#"version = 1
[[environments]]
name = "staging"
restart = "echo restarted staging >> restarts.log"
targets = [{ path = "staging.env" }, { path = "deploy/staging.env" }]
[[environments]]
name = "production"
restart = "echo restarted >> restarts.log"
verify = "true"
notify = "cat > notification.txt"
logs = ["logs/*.log"]
targets = [{ path = "prod.env" }, { path = "deploy/prod.env" }]
"#;

fn inc_project(sb: &Sandbox, staging: &str, production: &str) {
    sb.write("keywarden.toml", INC_MANIFEST);
    sb.write("staging.env", &format!("S=1\nSECRET_KEY='{staging}'\n"));
    sb.write(
        "deploy/staging.env",
        &format!("SECRET_KEY='{staging}'\nS=2\n"),
    );
    sb.write("prod.env", &format!("P=1\nSECRET_KEY='{production}'\n"));
    sb.write(
        "deploy/prod.env",
        &format!("SECRET_KEY='{production}'\nP=2\n"),
    );
    sb.write(
        "logs/app.log",
        &format!("INFO started\nDEBUG SECRET_KEY={OLD}\nWARNING itsdangerous.exc.BadSignature: Signature b'x' does not match\n"),
    );
}

/// The incident's record as saved (`incidents/ID.json` in the state folder), `Null` when
/// there is none: read from disk, as the next keywarden finds it.
fn incident(sb: &Sandbox, id: &str) -> Value {
    let name = format!("{id}.json");
    tree(sb.home.path())
        .into_iter()
        .find(|p| {
            p.file_name().is_some_and(|n| *n == *name)
                && p.parent()
                    .and_then(Path::file_name)
                    .is_some_and(|d| d == "incidents")
        })
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .unwrap_or(Value::Null)
}

fn step_status(sb: &Sandbox, id: &str, step: &str) -> String {
    incident(sb, id)["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == step)
        .and_then(|s| s["status"].as_str())
        .unwrap_or("missing")
        .to_string()
}

/// `incident start` killed at each failpoint: started again, one incident is open.
fn kill_start(sb: &Sandbox, playbook: &str, env: &str, keys: &[&str]) -> (usize, Vec<String>) {
    let snap = Snapshot::take(sb);
    let args = ["incident", "start", playbook, env];
    let mut failures = Vec::new();
    let recover = |sb: &Sandbox, _: &Value| -> Result<Vec<Output>, String> {
        let out = ok(sb, &["incident", "list", "--json"])?;
        let all: Value = serde_json::from_slice(&out.stdout).unwrap();
        match all.as_array().map(Vec::len) {
            Some(0) => Ok(vec![ok(sb, &args)?]),
            Some(1) => Ok(vec![out]),
            n => Err(format!("{n:?} incidents after one start")),
        }
    };
    let expect = |sb: &Sandbox, at: &str, failures: &mut Vec<String>| {
        let out = ok(sb, &["incident", "list", "--json"]).unwrap();
        let all: Value = serde_json::from_slice(&out.stdout).unwrap();
        let open = all.as_array().unwrap();
        if open.len() != 1 || open[0]["steps"][0]["status"] != "pending" {
            failures.push(format!(
                "{at}: not one open incident at its first step: {all}"
            ));
        }
    };
    let kills = kill_everywhere(
        sb,
        &snap,
        &format!("incident start {playbook}"),
        &args,
        INC,
        keys,
        &recover,
        &expect,
        &[],
        &mut failures,
    );
    snap.put_back(sb);
    (kills, failures)
}

/// What a step must have done once recovered: `(sandbox, step, at, failures)`.
type StepCheck<'a> = &'a dyn Fn(&Sandbox, &str, &str, &mut Vec<String>);

/// Kills each step of the incident `id`, in order (`how`: `--run`, or `--done` for the
/// steps people do), at every failpoint; then runs it for real and goes on to the next.
fn kill_steps(
    sb: &Sandbox,
    id: &str,
    steps: &[(&str, &str)],
    keys: &[&str],
    expect: StepCheck,
) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut kills = 0;
    for (step, how) in steps {
        let snap = Snapshot::take(sb);
        let mut args = vec!["incident", "resume", id, "--step", step, how];
        if *how == "--done" {
            args.extend(["--note", "done by hand"]);
        }
        let recover = |sb: &Sandbox, st: &Value| -> Result<Vec<Output>, String> {
            match step_status(sb, id, step).as_str() {
                // Recorded before the kill: nothing may be left to finish.
                "done" if journaled(st).is_empty() => Ok(Vec::new()),
                "done" => Err(format!(
                    "the step is recorded done and {:?} have unfinished rotations",
                    journaled(st)
                )),
                "pending" => Ok(vec![ok(sb, &args)?]),
                other => Err(format!("the step is {other} after the kill")),
            }
        };
        let last = |sb: &Sandbox, at: &str, failures: &mut Vec<String>| {
            let now = step_status(sb, id, step);
            if now != "done" {
                failures.push(format!("{at}: after recovery the step is {now}"));
            }
            expect(sb, step, at, failures);
        };
        kills += kill_everywhere(
            sb,
            &snap,
            &format!("incident step {step}"),
            &args,
            INC,
            keys,
            &recover,
            &last,
            &[],
            &mut failures,
        );
        snap.put_back(sb);
        ok(sb, &args).unwrap();
    }
    (kills, failures)
}

fn opened(sb: &Sandbox, playbook: &str, env: &str) -> String {
    let out = ok(sb, &["incident", "start", playbook, env]).unwrap();
    stdout(&out)
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("opened ")
        .to_string()
}

#[test]
fn every_compromised_key_action_killed_at_every_failpoint_is_recovered() {
    let sb = Sandbox::new();
    // The leaked key is in both environments.
    inc_project(&sb, OLD, OLD);
    let (mut kills, mut failures) = kill_start(&sb, "compromised", "production", &[OLD]);
    let id = opened(&sb, "compromised", "production");
    let expect = |sb: &Sandbox, step: &str, at: &str, failures: &mut Vec<String>| {
        let holds = |files: &[&str]| keys_of(sb, files).iter().any(|k| k.as_deref() == Some(OLD));
        if step == "revoke" && holds(&["prod.env", "deploy/prod.env"]) {
            failures.push(format!("{at}: production still holds the leaked key"));
        }
        if step == "update-all" && holds(&["staging.env", "deploy/staging.env"]) {
            failures.push(format!("{at}: staging still holds the leaked key"));
        }
    };
    let (k, f) = kill_steps(
        &sb,
        &id,
        &[
            ("revoke", "--run"),
            ("generate", "--run"),
            ("update-all", "--run"),
            ("restart-all", "--run"),
            ("audit-logs", "--run"),
            ("notify", "--run"),
            ("sessions", "--done"),
        ],
        &[OLD],
        &expect,
    );
    kills += k;
    failures.extend(f);
    assert!(
        incident(&sb, &id)["closed"].is_string(),
        "the incident is closed"
    );
    eprintln!("compromised-key playbook: {kills} kills");
    assert!(kills >= 30, "only {kills} runs were killed");
    assert!(
        failures.is_empty(),
        "{kills} kills:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_lost_key_action_killed_at_every_failpoint_is_recovered() {
    let sb = Sandbox::new();
    inc_project(&sb, OLD, OTHER);
    // keywarden wrote staging's key, then both files lost it.
    ok(&sb, &["set", "staging", "--generate"]).unwrap();
    sb.write("staging.env", "S=1\n");
    sb.write("deploy/staging.env", "S=2\n");
    let (mut kills, mut failures) = kill_start(&sb, "lost", "staging", &[OLD, OTHER]);
    let id = opened(&sb, "lost", "staging");
    let expect = |sb: &Sandbox, step: &str, at: &str, failures: &mut Vec<String>| {
        let k = keys_of(sb, &["staging.env", "deploy/staging.env"]);
        if step == "generate" && k[0].is_none() {
            failures.push(format!("{at}: staging has no key after generate"));
        }
    };
    let (k, f) = kill_steps(
        &sb,
        &id,
        &[
            ("check-backups", "--run"),
            ("generate", "--run"),
            ("update-config", "--run"),
            ("reset-sessions", "--done"),
        ],
        &[OLD, OTHER],
        &expect,
    );
    kills += k;
    failures.extend(f);
    assert!(
        incident(&sb, &id)["closed"].is_string(),
        "the incident is closed"
    );
    eprintln!("lost-key playbook: {kills} kills");
    assert!(kills >= 15, "only {kills} runs were killed");
    assert!(
        failures.is_empty(),
        "{kills} kills:\n{}",
        failures.join("\n")
    );
}
