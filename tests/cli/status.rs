use crate::support::{Sandbox, assert_no_key, set_mode, stderr, stdout};
use serde_json::Value;

const DEV: &str = "dev-secret-key-for-testing-only";

fn status_json(sb: &Sandbox, extra: &[&str]) -> Value {
    let out = sb
        .kw()
        .args(["status", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codes(env: &Value) -> Vec<String> {
    env["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn env<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()
}

#[test]
fn discovered_project_reports_every_documented_field() {
    let sb = Sandbox::new();
    sb.write(
        ".env",
        &format!("# app\nexport DEBUG=1\nSECRET_KEY={DEV}\n"),
    );
    sb.write(
        ".streamlit/secrets.toml",
        &format!("SECRET_KEY = \"{DEV}\"\n"),
    );
    let v = status_json(&sb, &[]);
    assert!(v["manifest"].is_null());
    let dev = env(&v, "development");
    let fp = dev["fingerprint"].as_str().unwrap();
    assert!(fp.starts_with("kw:") && fp.len() == 11, "{fp}");
    assert_eq!(dev["age_source"], "mtime");
    assert_eq!(dev["age_days"], 0);
    assert!(
        dev["rotation_due_days"].is_null(),
        "development has no schedule"
    );
    assert!(dev["strength"]["label"].is_string());
    let targets = dev["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["path"], ".env");
    assert_eq!(targets[0]["mode"], "0600");
    assert_eq!(targets[0]["fingerprint"], fp);
    assert_eq!(targets[0]["line"], 3);
    assert_eq!(targets[1]["path"], ".streamlit/secrets.toml");
    assert_eq!(targets[1]["format"], "toml");
    let c = codes(dev);
    assert!(c.contains(&"KW008".to_string()), "telling words: {c:?}");
    for f in dev["findings"].as_array().unwrap() {
        assert!(f["code"].is_string() && f["severity"].is_string() && f["message"].is_string());
    }
    // Human output too: never the key.
    let out = sb.kw().arg("status").output().unwrap();
    assert!(out.status.success());
    assert_no_key("status", &out.stdout, DEV);
    assert!(stdout(&out).contains("development"));
    assert_no_key("status --json", v.to_string().as_bytes(), DEV);
}

#[test]
fn drift_shared_keys_permissions_and_missing_keys() {
    let sb = Sandbox::new();
    let k1 = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=";
    let k2 = "Bn7]vM3[cX9{zA1}sD4|fG6;hJ2:kL8,qW5.eR0<tY3>uI7?oP1a";
    sb.write(".env", &format!("SECRET_KEY='{k1}'\n"));
    sb.write(".streamlit/secrets.toml", &format!("SECRET_KEY = '{k2}'\n"));
    sb.write(".env.production", &format!("SECRET_KEY='{k1}'\n"));
    sb.write(".env.staging", "OTHER=1\n");
    let p = sb.write("deploy/production/.env", &format!("SECRET_KEY='{k1}'\n"));
    set_mode(&p, 0o644);
    let v = status_json(&sb, &[]);
    let dev = env(&v, "development");
    assert!(dev["fingerprint"].is_null(), "drift has no single key");
    assert!(codes(dev).contains(&"KW102".to_string()));
    let prod = env(&v, "production");
    let shared: Vec<&Value> = prod["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KW103")
        .collect();
    assert_eq!(shared.len(), 1);
    assert_eq!(
        shared[0]["severity"], "critical",
        "production shares its key"
    );
    assert!(
        codes(prod).contains(&"KW104".to_string()),
        "0644 production file"
    );
    let staging = env(&v, "staging");
    assert!(codes(staging).contains(&"KW101".to_string()));
    assert_eq!(staging["targets"][0]["state"], "missing-key");
    for k in [k1, k2] {
        assert_no_key("status --json", v.to_string().as_bytes(), k);
    }
}

#[test]
fn status_is_a_view_and_check_is_a_gate() {
    let sb = Sandbox::new();
    sb.write(".env", "SECRET_KEY=password123\n");
    let out = sb.kw().arg("status").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "status exits 0 whatever it finds"
    );
    let out = sb.kw().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FAIL"), "{}", stdout(&out));
    assert!(stdout(&out).contains("KW001"));
    let out = sb
        .kw()
        .args(["check", "--fail-on", "critical"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a published key is critical");
    let out = sb.kw().args(["check", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["failed"], true);
    assert_eq!(v["fail_on"], "high");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "KW001")
    );
    assert_no_key("check", &out.stdout, "password123");
}

#[test]
fn check_passes_a_clean_project_and_speaks_sarif() {
    let sb = Sandbox::new();
    sb.write(".env", "OTHER=1\n");
    sb.kw()
        .args(["set", "development", "--generate"])
        .assert()
        .success();
    let out = sb.kw().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = sb
        .kw()
        .args(["check", "--sarif", "--fail-on", "info"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "keywarden");
    assert!(
        v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len()
            >= 28
    );
}

#[test]
fn status_of_one_environment_and_unknown_names() {
    let sb = Sandbox::new();
    sb.write(".env", &format!("SECRET_KEY={DEV}\n"));
    sb.write(".env.prod", &format!("SECRET_KEY={DEV}x\n"));
    let v = status_json(&sb, &["production"]);
    assert_eq!(v["environments"].as_array().unwrap().len(), 1);
    let out = sb.kw().args(["status", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("development, production"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn environment_variable_targets_are_read_only() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ path = \".env\" }, { env = \"SECRET_KEY\" }]\n",
    );
    sb.write(".env", "SECRET_KEY=abc\n");
    let v = status_json(&sb, &[]);
    let prod = env(&v, "production");
    assert_eq!(prod["targets"][1]["env"], "SECRET_KEY");
    assert_eq!(prod["targets"][1]["state"], "unset");
    assert!(codes(prod).contains(&"KW111".to_string()));
    let out = sb
        .kw()
        .args(["status", "--json"])
        .env("SECRET_KEY", "abc")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let prod = env(&v, "production");
    assert_eq!(prod["targets"][1]["state"], "ok");
    assert_eq!(
        prod["targets"][1]["fingerprint"],
        prod["targets"][0]["fingerprint"]
    );
    assert!(
        !codes(prod).contains(&"KW102".to_string()),
        "same key: no drift"
    );
}

#[test]
fn git_tracked_and_unignored_files_are_findings() {
    let sb = Sandbox::new();
    let git = |args: &[&str]| {
        assert!(
            std::process::Command::new("git")
                .current_dir(sb.project.path())
                .args(args)
                .output()
                .unwrap()
                .status
                .success()
        );
    };
    git(&["init", "-q"]);
    sb.write(".gitignore", ".env\n");
    sb.write(".env", &format!("SECRET_KEY={DEV}\n"));
    sb.write(
        ".streamlit/secrets.toml",
        &format!("SECRET_KEY = \"{DEV}\"\n"),
    );
    sb.write(".env.staging", &format!("SECRET_KEY={DEV}s\n"));
    git(&["add", ".streamlit/secrets.toml"]);
    let v = status_json(&sb, &[]);
    let dev = env(&v, "development");
    let tracked: Vec<&Value> = dev["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "KW108")
        .collect();
    assert_eq!(tracked.len(), 1);
    assert_eq!(tracked[0]["target"], ".streamlit/secrets.toml");
    assert_eq!(tracked[0]["severity"], "critical");
    let staging = env(&v, "staging");
    assert!(
        codes(staging).contains(&"KW107".to_string()),
        "{:?}",
        codes(staging)
    );
    assert!(!codes(dev).iter().any(|c| c == "KW107"), ".env is ignored");
}

#[test]
fn rotation_overdue_from_file_times() {
    let sb = Sandbox::new();
    let p = sb.write(
        ".env.staging",
        "SECRET_KEY='Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z'\n",
    );
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(100 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let v = status_json(&sb, &[]);
    let staging = env(&v, "staging");
    assert_eq!(staging["age_source"], "mtime");
    assert_eq!(staging["age_days"], 100);
    assert_eq!(staging["rotation_due_days"], -10);
    assert!(codes(staging).contains(&"KW109".to_string()));
}

/// 5,000 environments whose files git ignores: git's answer (every path) is far larger than
/// a pipe, which once left `status` and `git check-ignore` waiting on each other forever.
#[test]
fn status_in_a_repository_with_5000_ignored_environments() {
    if !crate::common::require("git", "status in a git repository with 5,000 environments") {
        return;
    }
    let sb = Sandbox::new();
    let root = sb.project.path();
    let ok = std::process::Command::new("git")
        .current_dir(root)
        .args(["init", "-q"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "git init");
    sb.write(".gitignore", "deploy/\n");
    let mut manifest = String::from("version = 1\n");
    for i in 0..5000 {
        let dir = format!("deploy/environment-{i:04}");
        std::fs::create_dir_all(root.join(&dir)).unwrap();
        let file = root.join(&dir).join(".env");
        std::fs::write(&file, format!("SECRET_KEY={DEV}-{i:04}\n")).unwrap();
        set_mode(&file, 0o600);
        manifest.push_str(&format!(
            "[[environments]]\nname = \"env{i:04}\"\nrotate_every_days = 0\ntargets = [{{ path = \"{dir}/.env\" }}]\n"
        ));
    }
    sb.write("keywarden.toml", &manifest);
    let out = sb
        .kw()
        .args(["status", "--json"])
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let envs = v["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 5000);
    // Git answered for every file: none is reported as not ignored or as committed.
    for e in envs {
        let c = codes(e);
        assert!(
            !c.iter().any(|c| c == "KW107" || c == "KW108"),
            "{}: {c:?}",
            e["name"]
        );
    }
    assert!(v.get("git_error").is_none(), "{}", v["git_error"]);
    // And the finding is still made where it holds: one environment outside the ignore.
    sb.write(".gitignore", "deploy/*\n!deploy/environment-0042/\n");
    let v = status_json(&sb, &[]);
    assert!(codes(env(&v, "env0042")).iter().any(|c| c == "KW107"));
    assert!(!codes(env(&v, "env0043")).iter().any(|c| c == "KW107"));
}

#[test]
fn a_git_that_cannot_answer_is_named_not_taken_for_clean() {
    if !crate::common::require("git", "status when git fails") {
        return;
    }
    let sb = Sandbox::new();
    sb.write(".env", &format!("SECRET_KEY={DEV}\n"));
    set_mode(&sb.root().join(".env"), 0o600);
    let ok = std::process::Command::new("git")
        .current_dir(sb.project.path())
        .args(["init", "-q"])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::write(sb.root().join(".git/index"), b"DIRC garbage").unwrap();
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["git_error"].as_str().unwrap().contains("git "), "{v}");
    assert!(
        stderr(&out).contains("KW107/KW108 were not checked"),
        "{}",
        stderr(&out)
    );
}

/// Targets that disagree still have an age: the oldest key the environment serves. And
/// where the app has restart/verify commands, the fix for an old or weak key is a rotation
/// (which restarts it), not a bare write it would never load.
#[test]
fn drift_keeps_the_age_and_the_fix_is_a_rotation_where_the_app_restarts() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"staging\"\nrotate_every_days = 90\n\
         restart = \"true\"\ntargets = [{ path = \"a.env\" }, { path = \"b.env\" }]\n",
    );
    for (f, k) in [
        ("a.env", "Xk9#mQ2$vL7@pR4&zW8!qT5^aB3*cD6(eF1)"),
        ("b.env", "Yk9#mQ2$vL7@pR4&zW8!qT5^aB3*cD6(eF2)"),
    ] {
        private_file_aged(&sb, f, &format!("SECRET_KEY='{k}'\n"), 120);
    }
    let v = status_json(&sb, &[]);
    let e = env(&v, "staging");
    assert!(codes(e).contains(&"KW102".to_string()), "{e}");
    assert!(e["age_days"].as_i64().unwrap() >= 120, "{e}");
    assert_eq!(e["age_source"], "mtime");
    let overdue = e["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KW109")
        .unwrap_or_else(|| panic!("no KW109: {e}"));
    assert_eq!(overdue["fix"], "keywarden rotate staging", "{overdue}");
}

/// SARIF as code-scanning services read it: environment findings at the manifest line that
/// declares the target (the secrets file itself is outside the repository), a
/// security-severity score, and partial fingerprints that stay the same on another
/// installation (another pepper) so a known finding is not reported as new.
#[test]
fn sarif_locates_findings_in_the_manifest_with_stable_fingerprints() {
    let manifest = "version = 1\n\n[[environments]]\nname = \"staging\"\ntargets = [\n  { path = \"deploy/staging.env\" },\n]\n";
    let run = || {
        let sb = Sandbox::new();
        sb.write("keywarden.toml", manifest);
        let p = sb.write("deploy/staging.env", "SECRET_KEY=changeme\n");
        set_mode(&p, 0o644);
        let out = sb.kw().args(["check", "--sarif"]).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["runs"][0]["results"].as_array().unwrap().clone()
    };
    let (first, second) = (run(), run());
    assert!(!first.is_empty());
    for r in &first {
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "keywarden.toml", "{r}");
        if r["properties"]["target"].is_null() {
            assert_eq!(loc["region"]["startLine"], 4, "the environment's line: {r}");
        } else {
            assert_eq!(r["properties"]["target"], "deploy/staging.env");
            assert_eq!(
                loc["region"]["startLine"], 6,
                "the line declaring the target: {r}"
            );
        }
        let score: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
    }
    let fps = |rs: &[Value]| {
        let mut v: Vec<String> = rs
            .iter()
            .map(|r| {
                r["partialFingerprints"]["keywarden/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        fps(&first),
        fps(&second),
        "another installation, the same fingerprints"
    );
    let distinct: std::collections::BTreeSet<String> = fps(&first).into_iter().collect();
    assert_eq!(distinct.len(), first.len(), "one fingerprint per finding");
}

/// `status --timeline`: the rotation calendar, each key's age against its schedule.
#[test]
fn the_timeline_draws_each_age_against_its_schedule() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"development\"\nrotate_every_days = 0\ntargets = [{ path = \"dev.env\" }]\n\
         [[environments]]\nname = \"staging\"\nrotate_every_days = 90\ntargets = [{ path = \"staging.env\" }]\n\
         [[environments]]\nname = \"production\"\nrotate_every_days = 180\ntargets = [{ path = \"prod.env\" }]\n",
    );
    for (f, days) in [("dev.env", 10u64), ("staging.env", 120), ("prod.env", 45)] {
        let key = format!("SECRET_KEY='Xk9#mQ2$vL7@pR4&zW8!qT5^aB3*cD6(eF1){f}'\n");
        private_file_aged(&sb, f, &key, days);
    }
    let out = sb
        .kw()
        .args(["status", "--timeline"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |env: &str| {
        text.lines()
            .find(|l| l.starts_with(env))
            .unwrap_or_else(|| panic!("{env}: {text}"))
            .to_string()
    };
    assert!(line("development").contains("no schedule"), "{text}");
    let staging = line("staging");
    assert!(
        staging.contains("overdue by 30d") && staging.contains('|'),
        "{text}"
    );
    // 120 of 180 days drawn: past the due mark, in a bar of 40.
    assert_eq!(staging.matches('█').count(), 26, "{staging}");
    let production = line("production");
    assert!(production.contains("due in 135d"), "{text}");
    assert_eq!(production.matches('█').count(), 5, "{production}");
}

/// Writes `rel` with mode 0600 and a modification time `days` ago.
fn private_file_aged(sb: &Sandbox, rel: &str, content: &str, days: u64) {
    let p = sb.write(rel, content);
    set_mode(&p, 0o600);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400))
        .unwrap();
}

/// A status pass opens each file once when it is a plain file in a plain folder; every other
/// case is resolved the full way and reported as before: a link inside the project is read
/// through, a link or a folder leading outside is refused by name, a dangling link and a
/// missing folder are told apart, and a file appended to as it is read is read to its end.
#[test]
fn targets_behind_links_and_missing_folders_are_told_apart() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::new();
    let p = sb.root();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join(".env"), format!("SECRET_KEY={DEV}\n")).unwrap();
    sb.write("real/.env", &format!("SECRET_KEY={DEV}\n"));
    std::fs::create_dir_all(p.join("linked")).unwrap();
    symlink("../real/.env", p.join("linked/.env")).unwrap();
    std::fs::create_dir_all(p.join("out")).unwrap();
    symlink(outside.path().join(".env"), p.join("out/.env")).unwrap();
    symlink(outside.path(), p.join("outdir")).unwrap();
    symlink("nowhere", p.join("dangling")).unwrap();
    let mut manifest = String::from("version = 1\n");
    for (name, path) in [
        ("plain", "real/.env"),
        ("inside-link", "linked/.env"),
        ("outside-link", "out/.env"),
        ("outside-folder", "outdir/.env"),
        ("dangling-folder", "dangling/.env"),
        ("missing-folder", "absent/deeper/.env"),
    ] {
        manifest.push_str(&format!(
            "[[environments]]\nname = \"{name}\"\ntargets = [{{ path = \"{path}\" }}]\n"
        ));
    }
    sb.write("keywarden.toml", &manifest);
    let v = status_json(&sb, &[]);
    let target = |name: &str| env(&v, name)["targets"][0].clone();
    let fp = target("plain")["fingerprint"].clone();
    assert!(fp.is_string(), "{v:#}");
    assert_eq!(target("plain")["state"], "ok");
    assert_eq!(target("inside-link")["state"], "ok", "{v:#}");
    assert_eq!(target("inside-link")["fingerprint"], fp);
    for (name, says) in [
        ("outside-link", "outside the project"),
        ("outside-folder", "outside the project"),
        (
            "dangling-folder",
            "a symlink to a folder that does not exist",
        ),
    ] {
        let t = target(name);
        assert_eq!(t["state"], "error", "{name}: {t:#}");
        assert!(t["fingerprint"].is_null(), "{name}: {t:#}");
        assert!(t["error"].as_str().unwrap().contains(says), "{name}: {t:#}");
    }
    assert_eq!(target("missing-folder")["state"], "missing-file", "{v:#}");
    assert_no_key("status --json", v.to_string().as_bytes(), DEV);
}

/// The read that asks for one byte more than `fstat` said finds the file grown and reads on
/// to its end: a key appended between the `fstat` and the read is read, not cut off.
#[test]
fn a_target_appended_to_between_fstat_and_read_is_read_to_its_end() {
    if !crate::common::require("strace", "a file appended to while status reads it") {
        return;
    }
    let sb = Sandbox::new();
    let env_file = std::fs::canonicalize(sb.write(".env", "DEBUG=0\n")).unwrap();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ path = \".env\" }]\n",
    );
    // The first read of the file waits 3 s on entry, after its open and fstat.
    let child = crate::scan::first_read_delayed(&sb, &env_file, &["status", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !crate::scan::open_anywhere(&env_file) {
        assert!(
            std::time::Instant::now() < deadline,
            "status never opened the file"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Past its fstat (microseconds after the open) and well inside the delayed read.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&env_file)
        .unwrap();
    std::io::Write::write_all(&mut f, format!("SECRET_KEY={DEV}\n").as_bytes()).unwrap();
    drop(f);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_key("status --json", &out.stdout, DEV);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &env(&v, "production")["targets"][0];
    assert_eq!(t["state"], "ok", "the appended key was cut off: {t:#}");
    assert_eq!(t["line"], 2, "{t:#}");
}

/// Folders are opened through `openat2` (no link on the way, never out of the project) and
/// listed for leftovers through the same handle; a kernel that refuses `openat2` (too old,
/// or a seccomp filter: ENOSYS, EPERM) gets the same status the full way, asked once. The
/// project has every case: plain folders, a folder shared by two environments, a target at
/// the root, links inside and out, a missing folder, and a leftover temporary file in a
/// plain folder, in a linked one and at the root.
#[test]
fn a_kernel_without_openat2_gets_the_same_status() {
    use std::os::unix::fs::symlink;
    if !crate::common::require("strace", "status on a kernel that refuses openat2") {
        return;
    }
    let sb = Sandbox::new();
    let p = sb.root();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join(".env"), format!("SECRET_KEY={DEV}\n")).unwrap();
    for rel in ["a/.env", "a/b.env", "deep/er/.env", "real/.env", ".env"] {
        sb.write(rel, &format!("SECRET_KEY={DEV}\n"));
    }
    sb.write(
        ".streamlit/secrets.toml",
        &format!("SECRET_KEY = '{DEV}'\n"),
    );
    symlink("real", p.join("linked")).unwrap();
    symlink(outside.path(), p.join("outdir")).unwrap();
    for rel in [
        "a/.keywarden-0123456789abcdef.tmp",
        "real/.keywarden-fedcba9876543210.tmp",
        ".keywarden-00000000000000ff.tmp",
    ] {
        sb.write(rel, &format!("SECRET_KEY={DEV}\n"));
    }
    let mut manifest = String::from("version = 1\n");
    for (name, paths) in [
        ("one", &["a/.env", ".streamlit/secrets.toml"][..]),
        ("two", &["a/b.env"][..]),
        ("clean", &["deep/er/.env"][..]),
        ("root", &[".env"][..]),
        ("linked", &["linked/.env"][..]),
        ("outside", &["outdir/.env"][..]),
        ("missing", &["absent/.env"][..]),
    ] {
        let targets: Vec<String> = paths
            .iter()
            .map(|t| format!("{{ path = \"{t}\" }}"))
            .collect();
        manifest.push_str(&format!(
            "[[environments]]\nname = \"{name}\"\ntargets = [{}]\n",
            targets.join(", ")
        ));
    }
    sb.write("keywarden.toml", &manifest);
    let plain = crate::writes::keywarden(&sb, &["status", "--json"])
        .output()
        .unwrap();
    assert!(plain.status.success(), "{}", stderr(&plain));
    let v: Value = serde_json::from_slice(&plain.stdout).unwrap();
    // Both environments of the shared folder are told of its leftover.
    for name in ["one", "two", "root", "linked"] {
        assert!(
            codes(env(&v, name)).iter().any(|c| c == "KW120"),
            "{name}: the leftover beside it is not reported: {v:#}"
        );
    }
    assert!(
        !codes(env(&v, "clean")).iter().any(|c| c == "KW120"),
        "{v:#}"
    );
    for errno in ["ENOSYS", "EPERM"] {
        let trace = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = crate::writes::command(
            &sb,
            std::path::Path::new("strace"),
            &["-f", "-qq", "-e", "trace=openat2"],
        );
        cmd.arg("-o")
            .arg(trace.path())
            .arg("-e")
            .arg(format!("inject=openat2:error={errno}"))
            .arg(crate::writes::bin())
            .args(["status", "--json"]);
        let refused = cmd.output().unwrap();
        assert!(refused.status.success(), "{errno}: {}", stderr(&refused));
        assert_eq!(
            String::from_utf8_lossy(&refused.stdout),
            String::from_utf8_lossy(&plain.stdout),
            "{errno}: another status without openat2"
        );
        let calls = std::fs::read_to_string(trace.path()).unwrap();
        let asked = calls.lines().filter(|l| l.contains("openat2(")).count();
        assert!(
            calls.contains("(INJECTED)"),
            "{errno}: not refused: {calls}"
        );
        assert_eq!(
            asked, 1,
            "{errno}: a refused openat2 is asked again: {calls}"
        );
    }
    assert_no_key("status --json", &plain.stdout, DEV);
}

/// A folder whose listing fails is said to hide what it may hold: a leftover temporary
/// file (which may hold a key) would not be seen there, so status says so, with a fix that
/// fits the error, whether the folder was opened beneath the root or through a link.
#[test]
fn a_folder_that_cannot_be_listed_is_said_to_hide_leftovers() {
    use std::os::unix::fs::symlink;
    if !crate::common::require("strace", "status with a folder that cannot be listed") {
        return;
    }
    let sb = Sandbox::new();
    for rel in ["a/.env", "b/.env", "real/.env"] {
        sb.write(rel, &format!("SECRET_KEY={DEV}\n"));
    }
    symlink("real", sb.root().join("linked")).unwrap();
    // A folder that is not there, and a file where a folder should be: nothing to list,
    // nothing hidden.
    sb.write("afile", "not a folder\n");
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"plain\"\ntargets = [{ path = \"a/.env\" }]\n[[environments]]\nname = \"other\"\ntargets = [{ path = \"b/.env\" }]\n[[environments]]\nname = \"linked\"\ntargets = [{ path = \"linked/.env\" }]\n[[environments]]\nname = \"missing\"\ntargets = [{ path = \"absent/.env\" }]\nfallback = { path = \"gone/old.env\" }\n[[environments]]\nname = \"notdir\"\ntargets = [{ path = \"afile/.env\" }]\n",
    );
    let root = std::fs::canonicalize(sb.root()).unwrap();
    let unlisted = |v: &Value, name: &str| -> Vec<(String, String, String)> {
        env(v, name)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "KW120")
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
                (s("severity"), s("message"), s("fix"))
            })
            .collect()
    };
    // Nothing is said when every listing works, or there is no folder to list.
    let v = status_json(&sb, &[]);
    for name in ["plain", "other", "linked", "missing", "notdir"] {
        assert!(unlisted(&v, name).is_empty(), "{name}: {v:#}");
    }
    // `a` is opened beneath the root (openat2); `real` through the link, the full way.
    for (folder, name) in [("a", "plain"), ("real", "linked")] {
        for (errno, fix) in [
            ("EIO", "check the folder and the disk"),
            ("EACCES", "chmod u+r"),
        ] {
            let dir = root.join(folder);
            let mut cmd = crate::writes::command(
                &sb,
                std::path::Path::new("strace"),
                &["-f", "-qq", "-o", "/dev/null"],
            );
            cmd.arg("-P")
                .arg(&dir)
                .args(["-e", "trace=getdents64", "-e"])
                .arg(format!("inject=getdents64:error={errno}"))
                .arg(crate::writes::bin())
                .args(["status", "--json"]);
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{errno}: {}", stderr(&out));
            assert_no_key("status --json", &out.stdout, DEV);
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let said = unlisted(&v, name);
            assert_eq!(said.len(), 1, "{folder} {errno}: {v:#}");
            let (severity, message, got_fix) = &said[0];
            assert_eq!(severity, "medium", "{message}");
            assert!(
                message.starts_with(&format!("{}: cannot list the folder: ", dir.display())),
                "{message}"
            );
            assert!(message.contains("would not be seen"), "{message}");
            assert!(got_fix.contains(fix), "{errno}: {got_fix}");
            for other in ["plain", "other", "linked"].iter().filter(|n| **n != name) {
                assert!(unlisted(&v, other).is_empty(), "{other}: {v:#}");
            }
        }
    }
}

/// An environment with hundreds of folders is read whole under a small file-descriptor
/// limit: folder handles are not all held at once.
#[test]
fn many_folders_do_not_run_out_of_file_descriptors() {
    let sb = Sandbox::new();
    let targets: Vec<String> = (0..300)
        .map(|i| {
            sb.write(&format!("d{i}/.env"), &format!("SECRET_KEY={DEV}\n"));
            format!("{{ path = \"d{i}/.env\" }}")
        })
        .collect();
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{}]\n",
            targets.join(", ")
        ),
    );
    let mut cmd = crate::writes::command(
        &sb,
        std::path::Path::new("sh"),
        &["-c", "ulimit -n 40 && exec \"$0\" status --json"],
    );
    let out = cmd.arg(crate::writes::bin()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<&Value> = env(&v, "development")["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["state"])
        .collect();
    assert_eq!(states.len(), 300);
    assert!(states.iter().all(|s| *s == "ok"), "{v:#}");
    assert_no_key("status --json", &out.stdout, DEV);
}
