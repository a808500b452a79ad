//! Secrecy in flight: what an attacker finds in keywarden's output, its records and its
//! process after hostile restart commands, and whether a core dump could hold a key.

use crate::support::{PASSPHRASE, Sandbox, set_mode, stderr};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const DEV: &str = "Dv7#kP2!xQ9@mR4$tL6^wN1&zB8*cF3(hJ5)gS0_aE2+yU7-iO4=lK9]nM6[vX1{";
const STAGING: &str = "St4#bN8!qW2@eR6$tY1^uI9&oP3*aS7(dF5)gH2_jK8+lZ4-xC6=vB1]nM9[mQ3{";
const PROD: &str = "Pr9#zX3!cV7@bN1$mQ5^wE8&rT2*yU6(iO4)pA0_sD9+fG3-hJ7=kL2]zX8[cV5{";

/// Every form a program prints a key in.
fn forms(key: &str) -> Vec<String> {
    let b = key.as_bytes();
    let mut out = vec![
        key.to_string(),
        key[..24].to_string(),
        key[40..].to_string(),
        STANDARD.encode(b),
        URL_SAFE_NO_PAD.encode(b),
        b.iter().map(|c| format!("{c:02x}")).collect(),
    ];
    // base64 of the key inside a longer run, each alignment, edges trimmed.
    for pre in ["", "a", "ab"] {
        let enc = STANDARD.encode(format!("{pre}{key}"));
        out.push(enc[4..enc.len() - 8].to_string());
    }
    out
}

fn assert_clean(what: &str, haystack: &[u8]) {
    let text = String::from_utf8_lossy(haystack);
    for key in [DEV, STAGING, PROD] {
        for form in forms(key) {
            assert!(
                !text.contains(&form),
                "{what} holds a key ({} chars of {}…)",
                form.len(),
                &key[..2]
            );
        }
    }
}

fn project(sb: &Sandbox) {
    // Production's restart prints every environment's file, the keys encoded, and its
    // own key split over two writes; it also records its environment and limits.
    let restart = "cat dev.env staging.env prod.env; \
                   base64 -w0 dev.env; echo; base64 -w0 staging.env; echo; \
                   od -An -tx1 prod.env | tr -d ' \\n'; echo; \
                   head -c 30 prod.env; sleep 0.2; tail -c +31 prod.env; \
                   env > child-env.txt; cat /proc/$PPID/limits > parent-limits.txt; \
                   ulimit -c > child-core-limit.txt";
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n\
             [[environments]]\nname = \"development\"\ntargets = [{{ path = \"dev.env\" }}]\n\
             [[environments]]\nname = \"staging\"\ntargets = [{{ path = \"staging.env\" }}]\n\
             [[environments]]\nname = \"production\"\nrestart = \"{}\"\nverify = \"cat prod.env | base64\"\n\
             targets = [{{ path = \"prod.env\" }}]\n",
            restart.replace('\\', "\\\\").replace('"', "\\\"")
        ),
    );
    sb.write("dev.env", &format!("SECRET_KEY='{DEV}'\n"));
    sb.write("staging.env", &format!("SECRET_KEY='{STAGING}'\n"));
    sb.write("prod.env", &format!("SECRET_KEY='{PROD}'\n"));
}

#[test]
fn hostile_restart_and_verify_output_reveals_no_key_anywhere() {
    let sb = Sandbox::new();
    project(&sb);
    // A key exported in keywarden's own environment, as a deploy shell would have it.
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes"])
        .env("SECRET_KEY", STAGING)
        .env("OTHER_COPY", format!("prefix-{DEV}"))
        .env("BAO_TOKEN", "s.bao-token-of-the-shell")
        .env("VAULT_TOKEN", "s.vault-token-of-the-shell")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let new_key = sb
        .read("prod.env")
        .trim()
        .trim_start_matches("SECRET_KEY='")
        .trim_end_matches('\'')
        .to_string();
    assert_ne!(new_key, PROD);
    assert_clean("rotate's stdout", &out.stdout);
    assert_clean("rotate's stderr", &out.stderr);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for form in forms(&new_key) {
        assert!(!text.contains(&form), "the new key reached the output");
    }
    // The records: audit trail, state, and every other file under the state home (the
    // backups are encrypted).
    for (path, bytes) in sb.state_files() {
        assert_clean(&path.display().to_string(), &bytes);
    }
    // No variable holding a key reached the command.
    let env = sb.read("child-env.txt");
    assert!(
        !env.contains(STAGING) && !env.contains(DEV),
        "a key was inherited"
    );
    // Nor keywarden's own secrets: the store's token, the passphrase file's name.
    for var in ["BAO_TOKEN=", "VAULT_TOKEN=", "KEYWARDEN_PASSPHRASE_FILE="] {
        assert!(
            !env.lines().any(|l| l.starts_with(var)),
            "{var} reached the restart command"
        );
    }
    // Core dumps: keywarden's limit and its child's are 0.
    let limits = sb.read("parent-limits.txt");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core limit line");
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    assert_eq!(sb.read("child-core-limit.txt").trim(), "0");
}

#[test]
fn a_cut_or_forged_audit_trail_stops_every_action_until_accepted() {
    for case in ["cut", "forge", "no-head"] {
        let sb = Sandbox::new();
        project(&sb);
        for _ in 0..2 {
            let out = sb
                .kw()
                .args(["set", "development", "--generate"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let log = sb
            .state_files()
            .into_iter()
            .map(|(p, _)| p)
            .find(|p| p.ends_with("audit.jsonl"))
            .unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        match case {
            "cut" => std::fs::write(&log, format!("{}\n", lines[..2].join("\n"))).unwrap(),
            "forge" => {
                // A line with the right `prev`, as someone who read the chain would write.
                let last = lines.last().unwrap();
                let prev = {
                    use sha2::Digest;
                    let d = sha2::Sha256::digest(last.as_bytes());
                    d.iter().map(|b| format!("{b:02x}")).collect::<String>()
                };
                let mut forged: serde_json::Value = serde_json::from_str(last).unwrap();
                forged["action"] = "revoke".into();
                forged["prev"] = prev.into();
                std::fs::write(&log, format!("{text}{forged}\n")).unwrap();
            }
            _ => std::fs::remove_file(log.with_file_name("audit.head")).unwrap(),
        }
        let before = sb.read("dev.env");
        let out = sb
            .kw()
            .args(["set", "development", "--generate"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{case}: refused");
        assert!(
            stderr(&out).contains("audit --accept"),
            "{case}: {}",
            stderr(&out)
        );
        assert_eq!(sb.read("dev.env"), before, "{case}: nothing done");
        // Still refused by the next command, and still found by verify.
        let again = sb
            .kw()
            .args(["rotate", "development", "--yes", "--no-restart"])
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(1), "{case}: still refused");
        if case != "no-head" {
            let v = sb.kw().args(["audit", "--verify"]).output().unwrap();
            assert_eq!(v.status.code(), Some(1), "{case}: verify finds it");
        }
        let accept = sb.kw().args(["audit", "--accept"]).output().unwrap();
        assert!(accept.status.success(), "{case}: {}", stderr(&accept));
        let out = sb
            .kw()
            .args(["set", "development", "--generate"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{case}: acts again: {}", stderr(&out));
        let trail = sb.kw().args(["audit", "--json"]).output().unwrap();
        assert!(
            String::from_utf8_lossy(&trail.stdout).contains("audit.accept"),
            "{case}: the acceptance is in the trail"
        );
    }
}

/// `key` percent-encoded leaving letters, digits and `literal` as they are.
fn percent(key: &str, literal: &[u8]) -> String {
    key.bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || literal.contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect()
}

/// The forms of `key` that are the whole key, as is and encoded (never a piece of it).
fn whole_forms(key: &str) -> Vec<String> {
    let b = key.as_bytes();
    let mut out = vec![
        key.to_string(),
        URL_SAFE_NO_PAD.encode(b),
        b.iter().map(|c| format!("{c:02x}")).collect(),
        percent(key, b".-*_"),
        percent(key, b"-_.!~*'();,/?:@&=+$#"),
    ];
    for pre in ["", "a", "ab"] {
        let enc = STANDARD.encode(format!("{pre}{key}"));
        out.push(enc[4..enc.len() - 8].to_string());
    }
    out
}

/// Fails if `text`, or `text` with its whitespace and the report's `    | ` line marks
/// taken out (wrapped and spaced encodings joined again), holds a whole form of a key.
fn assert_no_whole_key(what: &str, text: &str, keys: &[&str]) {
    let compact: String = text
        .replace("    | ", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for key in keys {
        for form in whole_forms(key) {
            assert!(
                !text.contains(&form) && !compact.contains(&form),
                "{what} holds a whole key ({} chars of {}…)",
                form.len(),
                &key[..2]
            );
        }
    }
}

fn key_in(sb: &Sandbox, rel: &str) -> String {
    sb.read(rel)
        .lines()
        .find_map(|l| l.strip_prefix("SECRET_KEY='"))
        .unwrap()
        .trim_end_matches('\'')
        .to_string()
}

#[test]
fn wrapped_split_and_escaped_keys_and_the_passphrase_reach_no_output_or_record() {
    let sb = Sandbox::new();
    let pass_file = sb.passphrase_file();
    // Production's restart prints the keys base64-wrapped (76 columns), as od and xxd -p
    // print hex, URL-encoded as Java's URLEncoder and JS's encodeURI do, split between
    // stdout and stderr, cut by an escape sequence and by a backspace, and the backups'
    // passphrase; it records its environment. Its verify fails, so the output stays in
    // the journal.
    let restart = format!(
        "base64 dev.env; od -An -tx1 -v staging.env; \
         od -An -tx1 -v prod.env | tr -d ' \\n' | fold -w 60; echo; \
         cat java.txt uri.txt; \
         head -c 52 dev.env; sleep 0.2; tail -c +53 dev.env >&2; sleep 0.2; \
         head -c 44 staging.env; printf '\\033[0m'; tail -c +45 staging.env; \
         head -c 44 prod.env; printf 'Z\\b'; tail -c +45 prod.env; \
         printf 'ab\\rcd\\033]52;c;aGk=\\007\\n'; \
         cat \"$KEYWARDEN_PASSPHRASE_FILE\"; cat '{}'; env > child-env.txt",
        pass_file.display()
    );
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n\
             [[environments]]\nname = \"development\"\ntargets = [{{ path = \"dev.env\" }}]\n\
             [[environments]]\nname = \"staging\"\ntargets = [{{ path = \"staging.env\" }}]\n\
             [[environments]]\nname = \"production\"\nrestart = \"{}\"\nverify = \"false\"\n\
             targets = [{{ path = \"prod.env\" }}]\n",
            restart.replace('\\', "\\\\").replace('"', "\\\"")
        ),
    );
    sb.write("dev.env", &format!("SECRET_KEY='{DEV}'\n"));
    sb.write("staging.env", &format!("SECRET_KEY='{STAGING}'\n"));
    sb.write("prod.env", &format!("SECRET_KEY='{PROD}'\n"));
    sb.write("java.txt", &format!("a=1&k={}\n", percent(DEV, b".-*_")));
    sb.write(
        "uri.txt",
        &format!(
            "https://x/?k={}\n",
            percent(STAGING, b"-_.!~*'();,/?:@&=+$#")
        ),
    );
    let out = sb
        .kw()
        .args(["rotate", "production", "--yes"])
        .env("SECRET_KEY_B64", STANDARD.encode(PROD))
        .env("MYAPP_CFG", format!("url=x&key={}", percent(DEV, b"-._~")))
        .env("PLAIN_VAR", "still here")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "verify fails: {}", stderr(&out));
    let new_key = key_in(&sb, "prod.env");
    assert_ne!(new_key, PROD);
    let keys = [DEV, STAGING, PROD, new_key.as_str()];
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_whole_key(
        "rotate's stdout",
        &String::from_utf8_lossy(&out.stdout),
        &keys,
    );
    assert_no_whole_key("rotate's stderr", &err, &keys);
    // The restart ran and printed: its output is there, made visible, keys replaced.
    assert!(
        err.contains("^[[0m") && err.contains("Z^H"),
        "the restart's output is shown"
    );
    assert!(
        err.contains("ab^Mcd^[]52;c;aGk=^G"),
        "control characters are shown as text"
    );
    assert!(
        !out.stderr.iter().any(|&b| b < 0x20 && b != b'\n'),
        "a control byte reached the terminal"
    );
    assert!(err.contains("[the backups' passphrase]"));
    // The journal in state.json: the restart's output as kept, without a key or the
    // passphrase.
    let mut journal_checked = false;
    for (path, bytes) in sb.state_files() {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert_no_whole_key(&path.display().to_string(), &text, &keys);
        assert!(
            !text.contains(PASSPHRASE),
            "{} holds the passphrase",
            path.display()
        );
        if path.ends_with("state.json") {
            let state: serde_json::Value = serde_json::from_str(&text).unwrap();
            let kept = state["rotations"]["production"]["restart"]["output"]
                .as_str()
                .unwrap();
            assert_no_whole_key("the journal's restart output", kept, &keys);
            assert!(kept.contains("^[[0m") && !kept.contains('\u{1b}'));
            journal_checked = true;
        }
    }
    assert!(journal_checked, "the rotation's journal was read");
    for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !String::from_utf8_lossy(bytes).contains(PASSPHRASE),
            "{what} holds the passphrase"
        );
    }
    // The child's environment: no key in any form, no passphrase file.
    let env = sb.read("child-env.txt");
    assert!(
        env.contains("PLAIN_VAR=still here"),
        "the environment was recorded"
    );
    for name in [
        "SECRET_KEY_B64=",
        "MYAPP_CFG=",
        "KEYWARDEN_PASSPHRASE_FILE=",
    ] {
        assert!(!env.contains(name), "{name} reached the restart command");
    }
    assert_no_whole_key("the child's environment", &env, &keys);
}

const R1: &str = "Ra1#kP2!xQ9@mR4$tL6^wN1&zB8*cF3(hJ5)gS0_aE2+yU7-iO4=lK9]nM6[vX1{";
const R2: &str = "Rb2#zX3!cV7@bN1$mQ5^wE8&rT2*yU6(iO4)pA0_sD9+fG3-hJ7=kL2]zX8[cV5{";

/// Staging's restart prints `staging_prints`; production keeps old keys in a fallback.
fn two_environments(sb: &Sandbox, staging_prints: &str) {
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n\
             [[environments]]\nname = \"staging\"\nrestart = \"cat {staging_prints}\"\n\
             targets = [{{ path = \"staging.env\" }}]\n\
             [[environments]]\nname = \"production\"\ngrace_days = 7\n\
             fallback = {{ path = \"fallback.env\", key = \"SECRET_KEY_FALLBACKS\" }}\n\
             targets = [{{ path = \"prod.env\" }}]\n"
        ),
    );
    sb.write("staging.env", &format!("SECRET_KEY='{STAGING}'\n"));
    sb.write("prod.env", &format!("SECRET_KEY='{PROD}'\n"));
    sb.write("fallback.env", "# previous keys\n");
}

fn ok(sb: &Sandbox, args: &[&str], stdin: Option<&str>) {
    let mut cmd = sb.kw();
    cmd.args(args);
    if let Some(s) = stdin {
        cmd.write_stdin(format!("{s}\n"));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

fn fingerprint_of(sb: &Sandbox, env: &str) -> String {
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    st["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == env)
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

fn all_output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_unreadable_backup_or_a_wrong_passphrase_never_uncovers_the_live_keys() {
    let sb = Sandbox::new();
    two_environments(&sb, "prod.env retired.txt");
    // Production's first key and R1 are retired (kept only in the backups); R2 is live.
    let first = fingerprint_of(&sb, "production");
    ok(&sb, &["set", "production", "--stdin", "--yes"], Some(R1));
    ok(&sb, &["set", "production", "--stdin", "--yes"], Some(R2));
    sb.write("retired.txt", &format!("{PROD}\n{R1}\n"));
    // The backup of the first key is damaged: cut short.
    let listing = sb.kw().args(["backups", "--json"]).output().unwrap();
    let backups: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    let damaged = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "key" && b["fingerprint"] == first.as_str())
        .expect("a backup of the first key")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sealed = sb
        .state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with(format!("{damaged}/content.age")))
        .unwrap();
    let bytes = std::fs::read(&sealed).unwrap();
    std::fs::write(&sealed, &bytes[..bytes.len() / 2]).unwrap();

    let out = sb
        .kw()
        .args(["rotate", "staging", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = all_output(&out);
    assert!(
        text.contains("| SECRET_KEY='kw:"),
        "the restart ran: its output is shown"
    );
    for (what, key) in [
        ("the live production key", R2),
        ("a readable retired key", R1),
    ] {
        assert!(!text.contains(key), "{what} was printed");
    }
    // The damaged backup's key is the only one not hidden, and that is said.
    let err = stderr(&out);
    assert!(
        err.contains(&damaged) && err.contains("cannot be read"),
        "the unreadable backup is named: {err}"
    );

    // A wrong passphrase file: a clear error before anything changes, no key printed.
    let wrong = sb.secrets.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    set_mode(&wrong, 0o600);
    let before = sb.read("staging.env");
    let out = sb
        .kw()
        .args(["rotate", "staging", "--yes"])
        .env("KEYWARDEN_PASSPHRASE_FILE", &wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not open"), "{}", stderr(&out));
    assert_eq!(sb.read("staging.env"), before, "nothing changed");
    for key in [R1, R2, PROD] {
        assert!(!all_output(&out).contains(key), "a key was printed");
    }
}

/// Production rotated twice (its first two keys in the fallback) and staging's first key
/// retired by `set` (kept only in an encrypted backup).
fn with_fallbacks_and_a_retired_key(sb: &Sandbox) -> Vec<String> {
    two_environments(sb, "fallback.env prod.env retired.txt");
    sb.write("retired.txt", &format!("{STAGING}\n"));
    let mut kept = vec![PROD.to_string()];
    for _ in 0..2 {
        ok(sb, &["rotate", "production", "--yes"], None);
        kept.push(key_in(sb, "prod.env"));
    }
    ok(sb, &["set", "staging", "--stdin"], Some(R1));
    kept
}

#[test]
fn without_a_passphrase_the_fallbacks_are_hidden_and_the_rest_is_said() {
    let sb = Sandbox::new();
    let production_keys = with_fallbacks_and_a_retired_key(&sb);
    // No keyring, no passphrase file, no terminal.
    let out = sb
        .kw()
        .args(["rotate", "staging", "--yes"])
        .env_remove("KEYWARDEN_PASSPHRASE_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = all_output(&out);
    assert!(
        text.contains("SECRET_KEY_FALLBACKS='kw:"),
        "the fallback was printed"
    );
    for key in &production_keys {
        assert!(!text.contains(key.as_str()), "a production key was printed");
    }
    // Staging's retired key needs the backups: not hidden, and stderr says so.
    let err = stderr(&out);
    assert!(
        err.contains("1 retired or revoked key(s)")
            && err.contains("not hidden")
            && err.contains("KEYWARDEN_PASSPHRASE_FILE"),
        "{err}"
    );
}

#[test]
fn at_a_terminal_the_passphrase_is_asked_once_and_retired_keys_are_hidden() {
    if !crate::common::require("tmux", "asking for the passphrase before restart commands") {
        return;
    }
    let sb = Sandbox::new();
    let production_keys = with_fallbacks_and_a_retired_key(&sb);
    let bin = assert_cmd::cargo::cargo_bin("keywarden");
    let cmd = format!(
        "cd '{}' && '{}' rotate staging --yes; echo EXIT=$?; sleep 60",
        sb.project.path().display(),
        bin.display()
    );
    let env = [
        ("KEYWARDEN_HOME", sb.home.path()),
        ("NO_COLOR", std::path::Path::new("1")),
        ("KEYWARDEN_KEYRING", std::path::Path::new("off")),
        ("KEYWARDEN_TEST_SCRYPT_LOG_N", std::path::Path::new("4")),
    ];
    let t = crate::common::tmux::Tmux::start(160, 50, &env, &["sh", "-c", &cmd]);
    t.wait_for("the passphrase prompt", 20, |s| {
        s.contains("Passphrase of the backup identity")
    });
    t.line(PASSPHRASE);
    let screen = t.wait_for("the end", 20, |s| s.contains("EXIT="));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(
        screen.matches("Passphrase of the backup identity").count(),
        1,
        "asked once: {screen}"
    );
    assert!(
        screen.contains("| kw:"),
        "the retired key was replaced: {screen}"
    );
    assert!(!screen.contains(PASSPHRASE), "the passphrase was echoed");
    for key in production_keys.iter().map(String::as_str).chain([STAGING]) {
        assert!(!screen.contains(&key[..20]), "a key is on the screen");
    }
}
