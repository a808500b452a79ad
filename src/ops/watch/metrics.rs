//! The watch's numbers in the Prometheus text format (version 0.0.4): served on
//! `GET /metrics` by a small thread (`--metrics ADDR`), and/or written atomically to a file
//! for node_exporter's textfile collector (`--textfile PATH`).

use super::alert::AlertKind;
use crate::finding::Severity;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What the metrics show; updated by the watch, read by the server.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    /// Per environment: the key's age in days (as `status --json`'s `age_days`).
    pub key_age_days: BTreeMap<String, i64>,
    /// Per environment: days until rotation is due (negative: overdue).
    pub rotation_due_days: BTreeMap<String, i64>,
    /// Per environment: signature-error lines seen since the watch started.
    pub signature_errors_total: BTreeMap<String, u64>,
    /// Findings of the watched environments, by severity.
    pub findings: BTreeMap<Severity, u64>,
    /// Alerts raised, by kind.
    pub alerts_total: BTreeMap<AlertKind, u64>,
}

pub type Shared = Arc<Mutex<Metrics>>;

/// A label value, escaped as the text format wants (`\\`, `\"`, `\n`).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, value) in rows {
                out.push_str(&format!("{name}{labels} {value}\n"));
            }
        };
        let env_rows = |m: &BTreeMap<String, i64>| {
            m.iter()
                .map(|(e, v)| (format!("{{environment=\"{}\"}}", label(e)), v.to_string()))
                .collect::<Vec<_>>()
        };
        family(
            "keywarden_key_age_days",
            "gauge",
            "Age of the environment's key in days.",
            env_rows(&self.key_age_days),
        );
        family(
            "keywarden_rotation_due_days",
            "gauge",
            "Days until the environment's rotation is due; negative when overdue.",
            env_rows(&self.rotation_due_days),
        );
        family(
            "keywarden_signature_errors_total",
            "counter",
            "Signature-error lines seen in the environment's logs since the watch started.",
            self.signature_errors_total
                .iter()
                .map(|(e, v)| (format!("{{environment=\"{}\"}}", label(e)), v.to_string()))
                .collect(),
        );
        family(
            "keywarden_findings",
            "gauge",
            "Findings of the watched environments, by severity.",
            Severity::ALL
                .iter()
                .map(|s| {
                    (
                        format!("{{severity=\"{}\"}}", s.as_str()),
                        self.findings.get(s).copied().unwrap_or(0).to_string(),
                    )
                })
                .collect(),
        );
        family(
            "keywarden_alerts_total",
            "counter",
            "Alerts raised since the watch started, by kind.",
            AlertKind::ALL
                .iter()
                .map(|k| {
                    (
                        format!("{{kind=\"{}\"}}", k.as_str()),
                        self.alerts_total.get(k).copied().unwrap_or(0).to_string(),
                    )
                })
                .collect(),
        );
        out
    }
}

/// Binds `addr` and answers `GET /metrics` on a thread of its own (other paths: 404).
/// Returns the bound address (`127.0.0.1:0` picks a free port).
pub fn serve(addr: &str, metrics: Shared) -> crate::error::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(addr).map_err(|e| {
        crate::error::Error::Usage(format!(
            "cannot listen on {addr} for --metrics: {e}; give a free local address such as 127.0.0.1:9477"
        ))
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| crate::error::Error::Usage(format!("--metrics {addr}: {e}")))?;
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut req = [0u8; 2048];
            let mut got = 0;
            // One deadline for the whole request: a client trickling a byte at a time
            // would otherwise hold this one-at-a-time server, and every scrape, forever.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while got < req.len() {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                    break;
                }
                match stream.read(&mut req[got..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        got += n;
                        if req[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                }
            }
            let head = String::from_utf8_lossy(&req[..got]);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let ok =
                head.starts_with("GET ") && (path == "/metrics" || path.starts_with("/metrics?"));
            let (status, ctype, body) = if ok {
                let body = metrics.lock().map(|m| m.render()).unwrap_or_default();
                ("200 OK", "text/plain; version=0.0.4; charset=utf-8", body)
            } else {
                (
                    "404 Not Found",
                    "text/plain",
                    "only GET /metrics is served\n".to_string(),
                )
            };
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    Ok(bound)
}

/// Writes the exposition to `path` atomically (a reader sees the old file or the new one).
pub fn write_textfile(path: &Path, metrics: &Metrics) -> crate::error::Result<()> {
    crate::fsio::atomic_write(path, metrics.render().as_bytes(), 0o644)
}
