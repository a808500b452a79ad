//! `[audit] syslog = true`: every audit record also goes to the system log, as one
//! datagram on its socket (here a real `UnixDatagram` bound at a temporary path, named by
//! `KEYWARDEN_SYSLOG_SOCKET`); an unreachable logger stops the action; and `audit
//! --verify --against` catches what the local trail alone cannot.

use crate::support::{Sandbox, assert_no_key, stderr, stdout};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const A: &str = "Sy5#lG8!oQ2@wE6$rT1^yU9&iO3*pA7(sD4)fG0_hJ5+kL2-zX8=cV3]bN7[mQ1{";
const B: &str = "Lo4{gK9}iJ2|uH7;yG5:tF1,rD8<eS3>wA6.qZ9?xC2!vB5@nM8#bV1$cX4%zL7^m";
const C: &str = "Gv2]hN6[jM0{kL4}zX8|cV3;bN7:mQ1,wE5<rT9>yU3.iO7?pA1!sD5@fG9#hJ3$";

/// A system logger: a datagram socket bound at a temporary path, drained by a thread
/// (the kernel queues only a few datagrams per socket).
struct Logger {
    path: PathBuf,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Logger {
    fn start() -> Logger {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, s) = (got.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            loop {
                match socket.recv(&mut buf) {
                    Ok(n) => g.lock().unwrap().push(buf[..n].to_vec()),
                    Err(_) if s.load(Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
        });
        Logger {
            path,
            got,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// Every datagram received so far (all of a finished command's are: it sent them
    /// before it exited).
    fn datagrams(&self) -> Vec<Vec<u8>> {
        self.got.lock().unwrap().clone()
    }

    /// The datagrams as an export: one message a line, as `journalctl -o cat` prints.
    fn export(&self, dir: &Path) -> PathBuf {
        let text: String = self
            .datagrams()
            .iter()
            .map(|d| format!("{}\n", message(d)))
            .collect();
        let p = dir.join("exported.log");
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The datagram's MSG, after checking the RFC 3164 header glibc writes:
/// `<PRI>Mmm dd hh:mm:ss keywarden[PID]: `.
fn message(d: &[u8]) -> String {
    let text = std::str::from_utf8(d).unwrap();
    assert!(text.is_ascii(), "{text}");
    let pri = text.strip_prefix('<').unwrap();
    let (pri, rest) = pri.split_once('>').unwrap();
    assert!(
        ["84", "85"].contains(&pri),
        "authpriv.notice or .warning: {pri}"
    );
    // "Dec  2 01:50:07 " is 16 characters.
    let (stamp, rest) = rest.split_at(16);
    assert_eq!(stamp.as_bytes()[3], b' ', "{stamp}");
    assert_eq!(&stamp[9..10], ":", "{stamp}");
    let rest = rest.strip_prefix("keywarden[").unwrap();
    let (pid, msg) = rest.split_once("]: ").unwrap();
    assert!(pid.parse::<u32>().is_ok(), "{pid}");
    assert!(!msg.contains('\n'));
    msg.to_string()
}

fn project(sb: &Sandbox, syslog: bool) {
    sb.write(
        "keywarden.toml",
        &format!(
            "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{{ path = \"staging.env\" }}]\n\
             \n[audit]\nsyslog = {syslog}\n"
        ),
    );
    sb.write("staging.env", &format!("SECRET_KEY='{A}'\n"));
}

fn kw(sb: &Sandbox, logger: &Path, args: &[&str]) -> std::process::Output {
    sb.kw()
        .env("KEYWARDEN_SYSLOG_SOCKET", logger)
        .args(args)
        .output()
        .unwrap()
}

fn set(sb: &Sandbox, logger: &Path, key: &str) -> std::process::Output {
    sb.kw()
        .env("KEYWARDEN_SYSLOG_SOCKET", logger)
        .args(["set", "staging", "--stdin"])
        .write_stdin(format!("{key}\n"))
        .output()
        .unwrap()
}

fn audit_file(sb: &Sandbox) -> PathBuf {
    sb.state_files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with("audit.jsonl"))
        .expect("an audit trail")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn key_in(sb: &Sandbox) -> String {
    sb.read("staging.env")
        .trim()
        .strip_prefix("SECRET_KEY='")
        .unwrap()
        .trim_end_matches('\'')
        .to_string()
}

/// set, rotate and revoke with the logger listening; returns every key there was.
fn run_commands(sb: &Sandbox, logger: &Logger) -> Vec<String> {
    let mut keys = vec![A.to_string(), B.to_string()];
    let out = set(sb, &logger.path, B);
    assert!(out.status.success(), "set: {}", stderr(&out));
    let out = kw(sb, &logger.path, &["rotate", "staging", "--yes"]);
    assert!(out.status.success(), "rotate: {}", stderr(&out));
    keys.push(key_in(sb));
    let out = kw(
        sb,
        &logger.path,
        &["revoke", "staging", "--reason", "a test", "--yes"],
    );
    assert!(out.status.success(), "revoke: {}", stderr(&out));
    keys.push(key_in(sb));
    keys
}

#[test]
fn every_audit_record_is_one_datagram_with_its_seq_and_hash_and_never_a_key() {
    let sb = Sandbox::new();
    project(&sb, true);
    let logger = Logger::start();
    let keys = run_commands(&sb, &logger);
    assert_eq!(keys.len(), 4);

    let local = std::fs::read(audit_file(&sb)).unwrap();
    let lines: Vec<&[u8]> = local
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let datagrams = logger.datagrams();
    assert!(
        lines.len() >= 8,
        "set, rotate and revoke record several events"
    );
    assert_eq!(
        datagrams.len(),
        lines.len(),
        "one datagram per audit record"
    );
    let root = sb.root().to_string_lossy().into_owned();
    for (i, (d, line)) in datagrams.iter().zip(&lines).enumerate() {
        for k in &keys {
            assert_no_key(&format!("datagram {}", i + 1), d, k);
        }
        let copy: Value = serde_json::from_str(&message(d)).unwrap();
        assert_eq!(copy["keywarden_audit"], 1);
        assert_eq!(copy["seq"], i as u64 + 1, "in order, numbered as the lines");
        assert_eq!(copy["hash"], sha256_hex(line), "datagram {}", i + 1);
        let event: Value = serde_json::from_slice(line).unwrap();
        assert_eq!(copy["event"], event, "the whole event, as recorded");
        assert_eq!(copy["event"]["project"], root.as_str());
    }
    let actions: Vec<String> = datagrams
        .iter()
        .map(|d| serde_json::from_str::<Value>(&message(d)).unwrap()["event"]["action"].to_string())
        .collect();
    for a in ["\"set\"", "\"rotate.finish\"", "\"revoke.finish\""] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }

    // The copy and the trail agree.
    let export = logger.export(sb.secrets.path());
    let out = kw(
        &sb,
        &logger.path,
        &["audit", "--verify", "--against", export.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("ok: the system log"),
        "{}",
        stdout(&out)
    );
    // And the reading command sent nothing.
    assert_eq!(logger.datagrams().len(), lines.len());
}

#[test]
fn an_unreachable_system_log_stops_the_action_with_an_error_naming_the_socket() {
    let sb = Sandbox::new();
    project(&sb, true);
    let dir = tempfile::tempdir().unwrap();
    // Nothing at the path; then a socket file no one reads any more.
    let absent = dir.path().join("absent");
    let dead = dir.path().join("dead");
    drop(UnixDatagram::bind(&dead).unwrap());
    assert!(dead.exists());
    for socket in [&absent, &dead] {
        let before = sb.read("staging.env");
        let out = set(&sb, socket, B);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&socket.display().to_string()), "{err}");
        assert!(err.contains("[audit] syslog = true"), "{err}");
        assert!(err.contains("KEYWARDEN_SYSLOG_SOCKET"), "{err}");
        assert!(err.contains("syslog = false"), "{err}");
        assert!(err.contains("nothing is done"), "{err}");
        assert_no_key("stderr", &out.stderr, B);
        assert_eq!(sb.read("staging.env"), before, "the key was not written");
        // Nothing was recorded locally either.
        let trail = sb
            .state_files()
            .into_iter()
            .find(|(p, _)| p.ends_with("audit.jsonl"))
            .map(|(_, b)| b)
            .unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&trail).contains("\"action\":\"set\""),
            "no record of a set that did not happen"
        );
    }
    // With the logger back, the same command works.
    let logger = Logger::start();
    let out = set(&sb, &logger.path, B);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(key_in(&sb), B);
    assert!(!logger.datagrams().is_empty());

    // Without `[audit] syslog`, no socket is needed.
    let plain = Sandbox::new();
    project(&plain, false);
    let out = set(&plain, &absent, B);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn against_catches_a_cut_trail_rebuilt_without_its_head() {
    let sb = Sandbox::new();
    project(&sb, true);
    let logger = Logger::start();
    run_commands(&sb, &logger);
    let trail = audit_file(&sb);
    let bytes = std::fs::read(&trail).unwrap();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    lines.pop();
    let n = lines.len();
    // Cut the last three lines and delete the head: the chain left is valid.
    let cut: Vec<u8> = lines[..n - 3]
        .iter()
        .flat_map(|l| [*l, b"\n"].concat())
        .collect();
    std::fs::write(&trail, &cut).unwrap();
    std::fs::remove_file(trail.with_file_name("audit.head")).unwrap();
    // Rebuilt: accepted (sent to the system log as well), and one more command.
    let out = kw(&sb, &logger.path, &["audit", "--accept"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = set(&sb, &logger.path, C);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kw(&sb, &logger.path, &["audit", "--verify"]);
    assert!(
        out.status.success(),
        "the local trail alone looks intact: {}",
        stdout(&out)
    );

    let export = logger.export(sb.secrets.path());
    let out = kw(
        &sb,
        &logger.path,
        &["audit", "--verify", "--against", export.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("MISMATCH"), "{text}");
    for seq in n - 2..=n {
        assert!(
            text.contains(&format!("record {seq} of the system log")),
            "line {seq} was cut: {text}"
        );
    }
    assert!(
        !text.contains(&format!("record {} of the system log", n - 3)),
        "{text}"
    );

    // JSON names the same records.
    let out = kw(
        &sb,
        &logger.path,
        &[
            "audit",
            "--verify",
            "--json",
            "--against",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let missing: Vec<u64> = v["against"]["comparison"]["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "missing_locally")
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        missing,
        ((n - 2) as u64..=n as u64).collect::<Vec<_>>(),
        "{v}"
    );
}

#[test]
fn against_catches_a_forged_line_appended_with_its_head() {
    let sb = Sandbox::new();
    project(&sb, true);
    let logger = Logger::start();
    let out = set(&sb, &logger.path, B);
    assert!(out.status.success(), "{}", stderr(&out));
    let trail = audit_file(&sb);
    let bytes = std::fs::read(&trail).unwrap();
    let last = bytes[..bytes.len() - 1]
        .rsplit(|&b| b == b'\n')
        .next()
        .unwrap();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    // A forged event with the right `prev`, and a head rewritten to match: the local
    // trail is consistent.
    let mut forged: Value = serde_json::from_slice(last).unwrap();
    forged["action"] = "restore".into();
    forged["detail"] = "restored by the on-call engineer".into();
    forged["prev"] = sha256_hex(last).into();
    let forged = serde_json::to_vec(&forged).unwrap();
    let mut all = bytes.clone();
    all.extend_from_slice(&forged);
    all.push(b'\n');
    std::fs::write(&trail, &all).unwrap();
    std::fs::write(
        trail.with_file_name("audit.head"),
        serde_json::json!({
            "lines": lines + 1,
            "last": sha256_hex(&forged),
            "len": all.len(),
        })
        .to_string(),
    )
    .unwrap();
    let out = kw(&sb, &logger.path, &["audit", "--verify"]);
    assert!(
        out.status.success(),
        "forged consistently: {}",
        stdout(&out)
    );

    // Its system log lines, as /var/log/auth.log holds them, among other programs' lines.
    let export = sb.secrets.path().join("auth.log");
    let mut text = String::from("Dec  2 01:00:00 host sshd[1]: Accepted publickey for ana\n");
    for d in logger.datagrams() {
        text.push_str(&format!("Dec  2 01:00:01 host {}\n", &message(&d)));
    }
    std::fs::write(&export, text).unwrap();
    let out = kw(
        &sb,
        &logger.path,
        &["audit", "--verify", "--against", export.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "line {} of the local trail (restore) is not in the system log",
            lines + 1
        )),
        "{text}"
    );
    assert_eq!(
        text.matches("is not in the system log").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("record "), "nothing was cut: {text}");

    // An export of another project's records, or of none, does not pass for agreement.
    let empty = sb.secrets.path().join("empty.log");
    std::fs::write(&empty, "Dec  2 01:00:00 host sshd[1]: nothing here\n").unwrap();
    let out = kw(
        &sb,
        &logger.path,
        &["audit", "--verify", "--against", empty.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("holds no record of this project"));
}
