//! Secrecy in flight: what an attacker finds in keywarden's output, its records and its
//! process after hostile restart commands, and whether a core dump could hold a key.

use crate::support::{Sandbox, stderr};
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
