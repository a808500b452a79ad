//! `keywarden watch` as a real process on the demo: signature errors past the threshold,
//! a key written URL-encoded into a log, a rotated log, a target made world-readable, a
//! rotation falling due on an injected clock — each exactly one alert, on stdout, to the
//! environment's notify command, to a webhook receiver on 127.0.0.1, in the audit trail;
//! no key anywhere. The metrics are scraped and read by the real `prometheus_client`
//! parser.

use crate::common;
use crate::support::Sandbox;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A webhook receiver: a real HTTP/1.1 server on 127.0.0.1 that keeps every JSON body.
struct Hook {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

fn receiver() -> Hook {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            assert!(
                request_line.starts_with("POST /hook HTTP/1.1"),
                "{request_line}"
            );
            let mut len = 0usize;
            let mut json = false;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if lower.starts_with("content-type: application/json") {
                    json = true;
                }
            }
            assert!(json, "the webhook body is declared as JSON");
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            keep.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            stream
                .write_all(
                    b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
        }
    });
    Hook { url, bodies }
}

struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<Value>,
    metrics: String,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Waits until `want` more alerts have arrived (or 20 s), then half a second more for
    /// any unwanted extra; returns the new ones.
    fn next(&mut self, want: usize) -> Vec<Value> {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.len() < want && Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                got.push(
                    serde_json::from_str::<Value>(&line)
                        .unwrap_or_else(|e| panic!("not one JSON object a line: {e}: {line}")),
                );
            }
        }
        let settle = Instant::now() + Duration::from_millis(2500);
        while Instant::now() < settle {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                got.push(serde_json::from_str(&line).unwrap());
            }
        }
        self.seen.extend(got.iter().cloned());
        assert_eq!(
            got.len(),
            want,
            "expected {want} alert(s), got {got:#?}\nstderr: {}",
            self.stderr.lock().unwrap()
        );
        got
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(sb: &Sandbox, clock: &Path) -> Running {
    start_with(sb, clock, &[])
}

/// [`start`] with more arguments after the usual ones.
fn start_with(sb: &Sandbox, clock: &Path, extra: &[&str]) -> Running {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("keywarden"));
    cmd.current_dir(sb.project.path())
        .env("KEYWARDEN_HOME", sb.home.path())
        .envs(sb.backup_env())
        .env("NO_COLOR", "1")
        .env_remove("SECRET_KEY")
        .env("KEYWARDEN_TEST_CLOCK_FILE", clock)
        .args(["watch", "--json", "--metrics", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout: ChildStdout = child.stdout.take().unwrap();
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = Arc::new(Mutex::new(String::new()));
    let (mtx, mrx) = channel();
    let keep = Arc::clone(&stderr);
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if let Some(at) = line.find("metrics on http://") {
                let _ = mtx.send(line[at + "metrics on ".len()..].to_string());
            }
            keep.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let metrics = mrx
        .recv_timeout(Duration::from_secs(30))
        .expect("watch says where its metrics are");
    Running {
        child,
        lines,
        seen: Vec::new(),
        metrics,
        stderr,
    }
}

/// Sets the injected clock at once: written beside it and renamed over it, so the watch
/// never reads a half-written time (and takes the real one for it).
fn set_clock(clock: &Path, at: impl std::fmt::Display) {
    let tmp = clock.with_extension("tmp");
    std::fs::write(&tmp, at.to_string()).unwrap();
    std::fs::rename(&tmp, clock).unwrap();
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn percent_encode(key: &str) -> String {
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `GET /metrics` over a plain TCP connection; the body.
fn scrape(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    body.to_string()
}

/// The samples as `prometheus_client`'s own text parser reads them: name{labels} value.
fn parse_with_prometheus_client(python: &Path, text: &str) -> Vec<(String, Value, f64)> {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused the metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<(String, Value, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    v
}

fn sample(samples: &[(String, Value, f64)], name: &str, label: (&str, &str)) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| n == name && l[label.0] == label.1)
        .map(|(_, _, v)| *v)
}

fn prometheus_python() -> Option<PathBuf> {
    let py = common::python("keywarden watch's metrics read by prometheus_client")?;
    let want = common::pinned("prometheus-client");
    let out = Command::new(py)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('prometheus-client'))",
        ])
        .output()
        .unwrap();
    let have = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if have != want {
        common::skip(
            "keywarden watch's metrics read by prometheus_client",
            &format!(
                "prometheus-client=={want} in {} (it holds {have:?})",
                py.display()
            ),
            "Run scripts/test: it installs tests/requirements.txt into target/test-venv.",
        );
        return None;
    }
    Some(py.to_path_buf())
}

#[test]
fn watch_raises_each_alert_once_everywhere_and_serves_metrics() {
    let Some(python) = prometheus_python() else {
        return;
    };
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let webhook = receiver();
    // Development gets a schedule that falls due in 10 days (due today then) (its key is 30 days old), and
    // both watched environments a notify command that keeps what it reads.
    let manifest_path = root.join("keywarden.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    manifest = manifest.replacen(
        "rotate_every_days = 0\n",
        "rotate_every_days = 40\nnotify = \"cat >> notify-development.out; echo '<<end>>' >> notify-development.out\"\n",
        1,
    );
    manifest.push_str(
        "notify = \"cat >> notify-production.out; echo '<<end>>' >> notify-production.out\"\n",
    );
    manifest.push_str(&format!(
        "\n[watch]\nsignature_errors = {{ count = 5, window_secs = 60 }}\nquiet_secs = 0\nwebhook = \"{}\"\n",
        webhook.url
    ));
    std::fs::write(&manifest_path, manifest).unwrap();

    // What `status --json` says, before the watch starts (it reads the targets).
    let status: Value =
        serde_json::from_slice(&sb.kw().args(["status", "--json"]).output().unwrap().stdout)
            .unwrap();
    let age = |env: &str| {
        status["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == env)
            .unwrap()["age_days"]
            .as_i64()
            .unwrap()
    };
    let key = sb.read("deploy/production/.env");
    let key = key
        .lines()
        .find_map(|l| l.strip_prefix("SECRET_KEY="))
        .unwrap()
        .trim_matches('"')
        .to_string();
    assert!(key.len() >= 16);

    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    let log = root.join("deploy/production/logs/app.log");
    let old_lines = std::fs::read_to_string(&log).unwrap().lines().count() as u64;
    let mut w = start(&sb, &clock);

    // At start: staging and production are overdue already.
    let first = w.next(2);
    let mut envs: Vec<&str> = first
        .iter()
        .map(|a| {
            assert_eq!(a["kind"], "rotation_due", "{a}");
            a["environment"].as_str().unwrap()
        })
        .collect();
    envs.sort();
    assert_eq!(envs, ["production", "staging"]);

    // The metrics, read by prometheus_client.
    let samples = parse_with_prometheus_client(&python, &scrape(&w.metrics));
    assert_eq!(
        sample(
            &samples,
            "keywarden_key_age_days",
            ("environment", "production")
        ),
        Some(age("production") as f64)
    );
    assert_eq!(
        sample(
            &samples,
            "keywarden_key_age_days",
            ("environment", "development")
        ),
        Some(age("development") as f64)
    );
    assert_eq!(
        sample(
            &samples,
            "keywarden_rotation_due_days",
            ("environment", "production")
        ),
        Some((180 - age("production")) as f64)
    );
    assert_eq!(
        sample(&samples, "keywarden_alerts_total", ("kind", "rotation_due")),
        Some(2.0)
    );
    assert!(sample(&samples, "keywarden_findings", ("severity", "critical")).unwrap() >= 1.0);

    // 1. Signature errors past the threshold (5): seven lines, one alert, at the 5th.
    for i in 0..7 {
        append(
            &log,
            &format!(
                "2026-01-01 ERROR itsdangerous.exc.BadSignature: Signature b'x{i}' does not match\n"
            ),
        );
    }
    let a = w.next(1).remove(0);
    assert_eq!(a["kind"], "signature_errors");
    assert_eq!(a["environment"], "production");
    assert_eq!(a["severity"], "high");
    assert_eq!(a["file"], "deploy/production/logs/app.log");
    assert_eq!(a["line"], old_lines + 5, "the line of the 5th error");
    assert!(
        a["fix"]
            .as_str()
            .unwrap()
            .contains("incident compromised production")
    );

    // 2. The production key, URL-encoded, in a request line.
    append(
        &log,
        &format!("GET /login?next=%2F&key={} 200\n", percent_encode(&key)),
    );
    let a = w.next(1).remove(0);
    assert_eq!(a["kind"], "key_exposed");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["line"], old_lines + 8);
    assert!(
        a["message"].as_str().unwrap().contains("url-encoded"),
        "{a}"
    );

    // 3. The log rotated (rename, new file): the new file is read from its start.
    std::fs::rename(&log, log.with_extension("log.1")).unwrap();
    std::fs::write(&log, "boot\nDecode failed: jwt.exceptions.DecodeError: x\n").unwrap();
    append(
        &log,
        &format!("config dump {{\"SECRET_KEY\": \"{key}\"}}\n"),
    );
    let a = w.next(1).remove(0);
    assert_eq!(a["kind"], "key_exposed");
    assert_eq!(a["file"], "deploy/production/logs/app.log");
    assert_eq!(a["line"], 3, "counted from the new file's start");

    // 4. A target made world-readable.
    common_chmod(&root.join(".env"), 0o644);
    let a = w.next(1).remove(0);
    assert_eq!(a["kind"], "target_changed");
    assert_eq!(a["environment"], "development");
    assert_eq!(a["target"], ".env");
    assert!(
        a["message"].as_str().unwrap().contains("0600 to 0644"),
        "{a}"
    );

    // 5. Time passes (the injected clock): development's rotation falls due.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 10);
    set_clock(&clock, later.to_string());
    // The 10 days are also more than the day after which overdue staging and
    // production are reminded of: those two reminders, and development's one alert.
    let got = w.next(3);
    assert!(got.iter().all(|a| a["kind"] == "rotation_due"), "{got:#?}");
    let dev: Vec<&Value> = got
        .iter()
        .filter(|a| a["environment"] == "development")
        .collect();
    assert_eq!(dev.len(), 1, "{got:#?}");
    assert_eq!(dev[0]["severity"], "medium");
    assert!(
        dev[0]["message"].as_str().unwrap().contains("due today"),
        "{}",
        dev[0]
    );
    assert!(
        dev[0]["fix"]
            .as_str()
            .unwrap()
            .contains("keywarden set development")
    );

    // 6. Another process reads a target (inotify IN_OPEN/IN_ACCESS).
    let _ = std::fs::read(root.join("deploy/staging/.env")).unwrap();
    let a = w.next(1).remove(0);
    assert_eq!(a["kind"], "target_opened");
    assert_eq!(a["environment"], "staging");
    assert_eq!(a["target"], "deploy/staging/.env");

    let samples = parse_with_prometheus_client(&python, &scrape(&w.metrics));
    assert_eq!(
        sample(
            &samples,
            "keywarden_signature_errors_total",
            ("environment", "production")
        ),
        Some(8.0),
        "7 BadSignature lines and one DecodeError"
    );
    assert_eq!(
        sample(&samples, "keywarden_alerts_total", ("kind", "key_exposed")),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &samples,
            "keywarden_key_age_days",
            ("environment", "development")
        ),
        Some((age("development") + 10) as f64)
    );

    // Every alert reached the notify command of its environment, and the webhook.
    let deadline = Instant::now() + Duration::from_secs(20);
    while webhook.bodies.lock().unwrap().len() < w.seen.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let bodies = webhook.bodies.lock().unwrap().clone();
    let kinds = |v: &[Value]| {
        let mut k: Vec<String> = v
            .iter()
            .map(|a| format!("{}/{}", a["environment"], a["kind"]))
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        kinds(&bodies),
        kinds(&w.seen),
        "the webhook got each alert once"
    );
    let notified = |env: &str| {
        std::fs::read_to_string(root.join(format!("notify-{env}.out"))).unwrap_or_default()
    };
    let prod = notified("production");
    let dev = notified("development");
    let count = |env: &str| w.seen.iter().filter(|a| a["environment"] == env).count();
    assert_eq!(
        prod.matches("<<end>>").count(),
        count("production"),
        "{prod}"
    );
    assert_eq!(
        dev.matches("<<end>>").count(),
        count("development"),
        "{dev}"
    );
    assert!(prod.contains("[key_exposed] production"), "{prod}");
    assert!(dev.contains("[target_changed] development"), "{dev}");
    for kind in [
        "signature_errors",
        "key_exposed",
        "rotation_due",
        "target_changed",
        "target_opened",
    ] {
        assert!(w.seen.iter().any(|a| a["kind"] == kind), "{kind}");
    }

    // The audit trail has every alert.
    let audit = std::fs::read_to_string(
        sb.state_files()
            .into_iter()
            .find(|(p, _)| p.ends_with("audit.jsonl"))
            .unwrap()
            .0,
    )
    .unwrap();
    assert_eq!(audit.matches("\"watch-alert\"").count(), w.seen.len());

    // No key anywhere: stdout, stderr, notify output, webhook bodies, the audit trail.
    let stdout: String = w.seen.iter().map(|a| a.to_string()).collect();
    let webhook_text: String = bodies.iter().map(|a| a.to_string()).collect();
    let stderr = w.stderr.lock().unwrap().clone();
    let encoded = percent_encode(&key);
    for (what, text) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("notify", &prod),
        ("notify", &dev),
        ("webhook", &webhook_text),
        ("audit", &audit),
    ] {
        assert!(!text.contains(&key), "the key in {what}");
        assert!(!text.contains(&encoded), "the encoded key in {what}");
        assert!(
            !text.contains("Signature b'x"),
            "a log line's content in {what}"
        );
    }
}

fn common_chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn once_reads_what_was_added_since_the_last_run_and_a_failing_notifier_is_reported() {
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let manifest_path = root.join("keywarden.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    manifest.push_str(
        "notify = \"exit 3\"\n\n[watch]\nsignature_errors = { count = 2, window_secs = 60 }\n",
    );
    std::fs::write(&manifest_path, manifest).unwrap();
    let log = root.join("deploy/production/logs/app.log");
    let once = || {
        let out = sb
            .kw()
            .args(["watch", "production", "--once", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    // The first run starts at the end of the log: only the overdue rotation, whose
    // notify command fails (exit 3) and is reported after its retries.
    let first = once();
    let kinds: Vec<&str> = first.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["rotation_due", "notifier_failed"], "{first:#?}");
    assert!(
        first[1]["message"].as_str().unwrap().contains("exit 3"),
        "{}",
        first[1]
    );
    // The next run reads the two lines added since, and not the rotation again (once a day).
    append(&log, "csrf verification failed\nThe MAC is invalid.\n");
    let second = once();
    let kinds: Vec<&str> = second.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["signature_errors", "notifier_failed"],
        "{second:#?}"
    );
    assert!(once().is_empty(), "nothing new");
}

/// Makes a CA and a certificate for 127.0.0.1 signed by it, with the real `openssl`;
/// returns (CA certificate, server certificate, server key).
fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=keywarden test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

/// A real https receiver: Python's http.server behind its ssl module, keeping each body
/// as a line of `bodies`; returns the server and its port.
fn https_receiver(python: &Path, cert: &Path, key: &Path, bodies: &Path) -> (Child, u16) {
    let script = r#"
import http.server, ssl, sys
cert, key, out = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .arg(cert)
        .arg(key)
        .arg(bodies)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().expect("the https receiver's port");
    (child, port)
}

#[test]
fn an_https_webhook_gets_the_alert_when_its_certificate_is_trusted_and_not_otherwise() {
    if !common::require("openssl", "the https webhook test") {
        return;
    }
    let Some(python) = common::python("the https webhook test") else {
        return;
    };
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_files(certs.path());
    let bodies = certs.path().join("bodies");
    let (mut server, port) = https_receiver(python, &cert, &key, &bodies);
    let manifest_path = root.join("keywarden.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    manifest.push_str(&format!(
        "\n[watch]\nwebhook = \"https://hook:s3cret-word@127.0.0.1:{port}/hook\"\n"
    ));
    std::fs::write(&manifest_path, manifest).unwrap();
    let once = |trusted: Option<&Path>| {
        let mut cmd = sb.kw();
        cmd.args(["watch", "production", "--once", "--json"]);
        match trusted {
            Some(ca) => cmd.env("SSL_CERT_FILE", ca),
            // A CA file that holds only some other certificate: the system roots are
            // never consulted, so the test does not depend on the machine's store.
            None => cmd.env("SSL_CERT_FILE", certs.path().join("server.pem")),
        };
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    // Trusted: the overdue rotation reaches the receiver over TLS, and nothing failed.
    let first = once(Some(&ca));
    let kinds: Vec<&str> = first.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["rotation_due"], "{first:#?}");
    let got = std::fs::read_to_string(&bodies).unwrap_or_default();
    let got: Vec<Value> = got
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["kind"], "rotation_due");
    assert_eq!(got[0]["environment"], "production");
    // Not trusted: the alert is not delivered, and that is reported, naming the receiver
    // without its password.
    let log = root.join("deploy/production/logs/app.log");
    append(&log, &"csrf verification failed\n".repeat(25));
    let second = once(None);
    let failed: Vec<&Value> = second
        .iter()
        .filter(|a| a["kind"] == "notifier_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{second:#?}");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("https://127.0.0.1:{port}/hook")),
        "{message}"
    );
    assert!(!message.contains("s3cret-word"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&bodies).unwrap().lines().count(),
        1,
        "an untrusted receiver got nothing"
    );
    server.kill().ok();
    server.wait().ok();
}

#[test]
fn once_writes_the_textfile_that_prometheus_client_reads_and_leaves_no_temporary_file() {
    let Some(python) = prometheus_python() else {
        return;
    };
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let collector = tempfile::tempdir().unwrap();
    let textfile = collector.path().join("keywarden.prom");
    let once = || {
        let out = sb
            .kw()
            .args(["watch", "--once", "--json", "--textfile"])
            .arg(&textfile)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    once();
    let text = std::fs::read_to_string(&textfile).unwrap();
    let samples = parse_with_prometheus_client(&python, &text);
    // The key ages are status's own.
    let st: Value =
        serde_json::from_slice(&sb.kw().args(["status", "--json"]).output().unwrap().stdout)
            .unwrap();
    let mut aged = 0;
    for env in st["environments"].as_array().unwrap() {
        let name = env["name"].as_str().unwrap();
        if let Some(age) = env["age_days"].as_f64() {
            aged += 1;
            assert_eq!(
                sample(&samples, "keywarden_key_age_days", ("environment", name)),
                Some(age),
                "{name}\n{text}"
            );
        }
    }
    assert!(aged > 0, "the demo's keys have ages: {st:#}");
    // Readable by node_exporter, which runs as another user.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&textfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "{mode:o}");
    // Written again in place by the next run, and nothing else left in the folder.
    once();
    let names: Vec<String> = std::fs::read_dir(collector.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["keywarden.prom"], "{names:?}");
}

#[test]
fn the_same_alert_is_not_repeated_within_the_quiet_period_and_is_after_it() {
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let manifest_path = root.join("keywarden.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    manifest.push_str(
        "\n[watch]\nsignature_errors = { count = 3, window_secs = 60 }\nquiet_secs = 60\n",
    );
    std::fs::write(&manifest_path, manifest).unwrap();
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    let start_at = jiff::Timestamp::now();
    set_clock(&clock, start_at.to_string());
    let log = root.join("deploy/production/logs/app.log");
    let mut w = start(&sb, &clock);
    // At start: staging and production are overdue already.
    let first = w.next(2);
    assert!(
        first.iter().all(|a| a["kind"] == "rotation_due"),
        "{first:#?}"
    );
    let errors = "csrf verification failed\n".repeat(3);
    append(&log, &errors);
    let got = w.next(1);
    assert_eq!(got[0]["kind"], "signature_errors", "{got:#?}");
    // The same kind, environment and file again, 10 s later: within the quiet period.
    set_clock(
        &clock,
        (start_at + jiff::SignedDuration::from_secs(10)).to_string(),
    );
    append(&log, &errors);
    w.next(0);
    // 90 s after the first: raised again.
    set_clock(
        &clock,
        (start_at + jiff::SignedDuration::from_secs(90)).to_string(),
    );
    append(&log, &errors);
    let got = w.next(1);
    assert_eq!(got[0]["kind"], "signature_errors", "{got:#?}");
    assert_eq!(got[0]["environment"], "production");
}

/// The demo with `notify` commands set on staging and production (`None`: unset).
fn with_notify(sb: &Sandbox, staging: Option<&str>, production: Option<&str>) -> PathBuf {
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let manifest_path = root.join("keywarden.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    for (env, cmd) in [("staging", staging), ("production", production)] {
        if let Some(cmd) = cmd {
            let line = format!("name = \"{env}\"\n");
            assert!(manifest.contains(&line));
            manifest = manifest.replace(&line, &format!("{line}notify = {cmd:?}\n"));
        }
    }
    std::fs::write(&manifest_path, manifest).unwrap();
    root
}

fn wait_for_file(path: &Path, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if !text.is_empty() || Instant::now() >= deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_notify_command_that_hangs_does_not_hold_up_another_environments_alerts() {
    let sb = Sandbox::new();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("production.txt");
    with_notify(
        &sb,
        Some("sleep 60"),
        Some(&format!("cat >> '{}'", out.display())),
    );
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    set_clock(&clock, jiff::Timestamp::now().to_string());
    let mut w = start(&sb, &clock);
    // Staging's alert is queued first (environments in manifest order) and its notify
    // never ends; production's still arrives, well before staging's 30 s timeout.
    let first = w.next(2);
    assert!(
        first.iter().all(|a| a["kind"] == "rotation_due"),
        "{first:#?}"
    );
    let got = wait_for_file(&out, Duration::from_secs(8));
    assert!(
        got.contains("production"),
        "production's notify got: {got:?}"
    );
    assert!(!got.contains("staging"), "{got:?}");
}

#[test]
fn sigterm_delivers_the_queued_alerts_then_exits_0() {
    let sb = Sandbox::new();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("production.txt");
    // A slow notifier: its alert is still being delivered when SIGTERM comes.
    with_notify(
        &sb,
        None,
        Some(&format!("sleep 6; cat >> '{}'", out.display())),
    );
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    set_clock(&clock, jiff::Timestamp::now().to_string());
    let mut w = start(&sb, &clock);
    w.next(2);
    assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), "");
    let pid = w.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = w.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "watch still running 15 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "{status:?}\nstderr: {}",
        w.stderr.lock().unwrap()
    );
    let got = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        got.contains("production"),
        "delivered before exiting: {got:?}"
    );
}

#[test]
fn sigterm_exits_0_within_the_drain_bound_when_a_notifier_hangs_and_kills_it() {
    let sb = Sandbox::new();
    let root = with_notify(&sb, Some("echo $$ > notify.pid; exec sleep 60"), None);
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    set_clock(&clock, jiff::Timestamp::now().to_string());
    let mut w = start(&sb, &clock);
    w.next(2);
    let pid = w.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = w.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "watch still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    // Drop's reader threads may still be filling stderr: give them a moment.
    std::thread::sleep(Duration::from_millis(200));
    let err = w.stderr.lock().unwrap().clone();
    assert!(
        err.contains("were still busy after 10 s and were stopped"),
        "{err}"
    );
    // The hung command did not outlive the watch.
    let pid = std::fs::read_to_string(root.join("notify.pid")).unwrap();
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    let gone = Instant::now() + Duration::from_secs(3);
    while proc_dir.exists() && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !proc_dir.exists(),
        "the notify command {} still runs",
        pid.trim()
    );
}

#[test]
fn with_poll_the_watch_finds_new_lines_on_its_interval_without_inotify() {
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let manifest_path = root.join("keywarden.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    manifest.push_str("\n[watch]\nsignature_errors = { count = 3, window_secs = 60 }\n");
    std::fs::write(&manifest_path, manifest).unwrap();
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    let start_at = jiff::Timestamp::now();
    set_clock(&clock, start_at.to_string());
    let log = root.join("deploy/production/logs/app.log");
    let mut w = start_with(&sb, &clock, &["--poll", "--interval", "0.2"]);
    let first = w.next(2);
    let said = w.stderr.lock().unwrap().clone();
    assert!(
        said.contains("--poll was given; polling every 0.2 s"),
        "{said}"
    );
    assert!(
        first.iter().all(|a| a["kind"] == "rotation_due"),
        "{first:#?}"
    );
    append(&log, &"csrf verification failed\n".repeat(3));
    let got = w.next(1);
    assert_eq!(got[0]["kind"], "signature_errors", "{got:#?}");
    assert_eq!(got[0]["environment"], "production");
    // A rotated log (renamed, a new file in its place) is found by polling too (90 s
    // later: past the quiet period of the first alert).
    set_clock(
        &clock,
        (start_at + jiff::SignedDuration::from_secs(90)).to_string(),
    );
    std::fs::rename(&log, log.with_extension("log.1")).unwrap();
    std::fs::write(&log, "csrf verification failed\n".repeat(3)).unwrap();
    let got = w.next(1);
    assert_eq!(got[0]["kind"], "signature_errors", "{got:#?}");
}

#[test]
fn an_interval_out_of_range_is_refused_with_the_range() {
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    for bad in ["0.01", "7200", "NaN"] {
        let out = sb
            .kw()
            .current_dir(&root)
            .args(["watch", "--once", "--interval", bad])
            .output()
            .unwrap();
        assert!(!out.status.success(), "--interval {bad} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("0.05 to 3600"), "--interval {bad}: {err}");
    }
}

/// Puts `text` in `path`'s place by a rename, as an editor or `mv` does: the target's
/// name is never opened.
fn replace_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("hand-tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The `SECRET_KEY` a dotenv file's text holds.
fn dotenv_key(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("SECRET_KEY="))
        .expect("a SECRET_KEY line")
        .trim_matches('"')
        .to_string()
}

#[test]
fn a_revoked_key_put_back_in_a_target_raises_one_critical_alert_and_again_when_it_returns() {
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let target = root.join("deploy/staging/.env");
    let before = std::fs::read_to_string(&target).unwrap();
    let revoked = dotenv_key(&before);
    let out = sb
        .kw()
        .args(["revoke", "staging", "--reason", "test", "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(dotenv_key(&sb.read("deploy/staging/.env")), revoked);
    let mut said = String::new();
    let mut once = || {
        let out = sb
            .kw()
            .args(["watch", "staging", "--once", "--json"])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        said.push_str(&stdout);
        said.push_str(&String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{said}");
        stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let exposed = |alerts: &[Value]| {
        alerts
            .iter()
            .filter(|a| a["kind"] == "key_exposed")
            .cloned()
            .collect::<Vec<_>>()
    };
    // After the revocation the target holds the new key: nothing exposed.
    assert!(exposed(&once()).is_empty());
    // Someone puts the old file back by hand.
    std::fs::write(&target, &before).unwrap();
    let second = once();
    let hits = exposed(&second);
    assert_eq!(hits.len(), 1, "{second:#?}");
    assert_eq!(hits[0]["severity"], "critical");
    assert_eq!(hits[0]["environment"], "staging");
    assert_eq!(hits[0]["target"], "deploy/staging/.env");
    assert!(
        hits[0]["message"].as_str().unwrap().contains("revoked"),
        "{}",
        hits[0]
    );
    assert!(
        second.iter().any(|a| a["kind"] == "target_changed"),
        "{second:#?}"
    );
    // The next cron run the same day does not page again.
    assert!(exposed(&once()).is_empty());
    assert!(!said.contains(&revoked), "the revoked key was printed");

    // A running watch: the key at start, then again when it comes back after the target
    // held another key (each change alerted: no quiet period).
    let manifest_path = root.join("keywarden.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).unwrap();
    manifest.push_str("\n[watch]\nquiet_secs = 0\n");
    std::fs::write(&manifest_path, manifest).unwrap();
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    set_clock(&clock, jiff::Timestamp::now().to_string());
    let mut w = start_with(&sb, &clock, &["staging"]);
    let first = w.next(1);
    assert_eq!(first[0]["kind"], "key_exposed", "{first:#?}");
    // Written by hand (not `keywarden generate`: an audited keywarden action would make
    // the change keywarden's own), by a rename so that no open of the target is seen.
    replace_by_rename(
        &target,
        "SECRET_KEY=Qm9vbGVhbi1Gb3gtN2Y4ZC0yYjE5LWM0YTAtOWUzNg-hand-written\n",
    );
    let changed = w.next(1);
    assert_eq!(changed[0]["kind"], "target_changed", "{changed:#?}");
    replace_by_rename(&target, &before);
    let back = w.next(2);
    let mut kinds: Vec<&str> = back.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["key_exposed", "target_changed"], "{back:#?}");
    let all = format!("{:?}{}", w.seen, w.stderr.lock().unwrap());
    assert!(!all.contains(&revoked), "the revoked key was printed");
}

#[test]
fn a_log_glob_that_reaches_a_target_is_refused_by_name_and_the_key_file_is_not_searched() {
    let sb = Sandbox::new();
    let root = sb.root();
    sb.kw()
        .args(["demo", "--no-tui"])
        .arg(&root)
        .assert()
        .success();
    let manifest = std::fs::read_to_string(root.join("keywarden.toml")).unwrap();
    assert!(
        manifest.contains("deploy/production/logs/*.log"),
        "{manifest}"
    );
    // Staging gets a fallback file (it holds keys too).
    let manifest = manifest.replacen(
        "name = \"staging\"\n",
        "name = \"staging\"\nfallback = { path = \"deploy/staging/fallback.env\", key = \"SECRET_KEY_FALLBACKS\" }\n",
        1,
    );
    std::fs::write(root.join("keywarden.toml"), manifest).unwrap();
    std::fs::write(
        root.join("deploy/staging/fallback.env"),
        "SECRET_KEY_FALLBACKS=\n",
    )
    .unwrap();
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("now");
    set_clock(&clock, jiff::Timestamp::now().to_string());
    let mut w = start_with(&sb, &clock, &["production"]);
    let first = w.next(1);
    assert_eq!(first[0]["kind"], "rotation_due", "{first:#?}");
    // Production's logs folder gets a symlink and a hard link to key files, both matched
    // by its `logs` glob. A log that appears is read from its start: read as logs, they
    // would hold production's and staging's current keys.
    let logs = root.join("deploy/production/logs");
    std::os::unix::fs::symlink(root.join("deploy/production/.env"), logs.join("env.log")).unwrap();
    std::fs::hard_link(root.join("deploy/staging/.env"), logs.join("staging.log")).unwrap();
    std::os::unix::fs::symlink(
        root.join("deploy/staging/fallback.env"),
        logs.join("fallback.log"),
    )
    .unwrap();
    // Nothing raised: no key is "exposed in a log".
    w.next(0);
    let stderr = w.stderr.lock().unwrap().clone();
    assert!(
        stderr.contains("not following deploy/production/logs/env.log: it is the target deploy/production/.env of production, not a log"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not following deploy/production/logs/staging.log: it is the target deploy/staging/.env of staging"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not following deploy/production/logs/fallback.log: it is the target deploy/staging/fallback.env of staging"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("not following deploy/production/logs/env.log")
            .count(),
        1,
        "said once: {stderr}"
    );
}
