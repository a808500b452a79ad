//! The system log's copy of the trail (`[audit] syslog = true`).
//!
//! Every event appended to `audit.jsonl` is also sent, as one datagram, to the system
//! logger's socket (`/dev/log`, where journald and rsyslog listen; `KEYWARDEN_SYSLOG_SOCKET`
//! names another): a copy the user cannot rewrite, the way Vault's audit devices work.
//! `keywarden audit --verify --against FILE` reads an export of it (`journalctl -t
//! keywarden -o cat`, or `/var/log/auth.log` lines) and reports the records missing from
//! either side, so a local trail cut and rebuilt consistently (head included), or a line
//! forged into both files, is still caught.
//!
//! # The datagram
//!
//! RFC 3164, as glibc's `syslog(3)` writes it: `<85>Dec  2 01:50:07 keywarden[PID]: MSG`
//! (facility authpriv, severity notice; `warning` for failed and refused events; the time
//! in UTC). MSG is one line of ASCII JSON:
//! `{"keywarden_audit":1,"seq":N,"hash":"…","event":{…}}` — the record's line number in
//! the local trail, the SHA-256 of that line (the hash the next line's `prev` carries), and
//! the event itself: project, environment, action, result, fingerprints, detail, `prev`.
//! Never a key: events name keys by fingerprint only.
//!
//! # Failing closed
//!
//! The socket is connected before anything is written: if no logger listens there, the
//! event is not recorded and the action does not happen, with an error naming the socket.
//! The datagram is sent after the local line is durable; if the logger refuses it then,
//! the action does not happen either, and `--against` shows that line missing from the
//! system log (which is the truth: it was never sent).
//!
//! # Limits
//!
//! The system log proves that what it holds was sent; it cannot tell who sent it: any
//! local program can send lines tagged `keywarden` (journald stamps each with the
//! sender's uid and pid, `journalctl -o verbose` shows them; a plain syslog file does
//! not). A forged pair — a line appended locally and a matching datagram — passes the
//! comparison; removing or rewriting what was sent does not.

use super::{AuditError, Event, Outcome, sha256_hex, split_lines};
use serde::{Deserialize, Serialize};
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The tag (APP-NAME) of every datagram: `journalctl -t keywarden`.
pub const TAG: &str = "keywarden";
/// What starts the message, so an export's other lines are told from keywarden's.
const MARKER: &str = "{\"keywarden_audit\":";
/// authpriv: the facility of security messages (auth.log, `journalctl --facility authpriv`).
const FACILITY: u8 = 10;
/// How long a busy logger may hold up an action before it fails closed.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// One audit record as the system log carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Copy {
    /// The format's version (1).
    pub keywarden_audit: u32,
    /// The record's line number in `audit.jsonl` (1-based).
    pub seq: u64,
    /// The SHA-256 (lowercase hex) of that line.
    pub hash: String,
    pub event: Event,
}

/// The message (the datagram's MSG): `Copy` as one line of ASCII JSON.
pub fn message(seq: u64, hash: &str, event: &Event) -> Result<String, AuditError> {
    let copy = Copy {
        keywarden_audit: 1,
        seq,
        hash: hash.to_string(),
        event: event.clone(),
    };
    let json = serde_json::to_string(&copy).map_err(AuditError::Encode)?;
    // Loggers may escape bytes above 127; JSON's \u escapes survive every one of them.
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    Ok(out)
}

/// The whole datagram, RFC 3164 as glibc writes it to `/dev/log`.
pub fn datagram(seq: u64, hash: &str, event: &Event, pid: u32) -> Result<Vec<u8>, AuditError> {
    let severity: u8 = match event.result {
        Outcome::Failed | Outcome::Refused => 4,
        Outcome::Ok | Outcome::Started => 5,
    };
    let when = event.ts.strftime("%b %e %H:%M:%S");
    Ok(format!(
        "<{}>{when} {TAG}[{pid}]: {}",
        FACILITY * 8 + severity,
        message(seq, hash, event)?
    )
    .into_bytes())
}

/// A connection to the system logger, made before the local line is written.
pub(super) struct Sender {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Sender {
    pub(super) fn connect(path: &Path) -> Result<Sender, AuditError> {
        let unreachable = |source: io::Error| AuditError::SyslogUnreachable {
            socket: path.to_path_buf(),
            source,
        };
        let socket = UnixDatagram::unbound().map_err(unreachable)?;
        socket.connect(path).map_err(unreachable)?;
        socket
            .set_write_timeout(Some(SEND_TIMEOUT))
            .map_err(unreachable)?;
        Ok(Sender {
            socket,
            path: path.to_path_buf(),
        })
    }

    pub(super) fn send(
        &self,
        seq: u64,
        hash: &str,
        event: &Event,
        log: &Path,
    ) -> Result<(), AuditError> {
        let bytes = datagram(seq, hash, event, std::process::id())?;
        self.socket
            .send(&bytes)
            .map(|_| ())
            .map_err(|source| AuditError::SyslogRefused {
                socket: self.path.clone(),
                log: log.to_path_buf(),
                seq,
                source,
            })
    }
}

/// What the system log's copy and the local trail disagree about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// A record the system log holds that the local trail has not (at that line): lines
    /// were cut from the local trail, or rewritten.
    MissingLocally {
        seq: u64,
        hash: String,
        action: String,
    },
    /// A local line, at or after the system log's first record, that the system log
    /// never received: added or rewritten by something else (or lost by the logger).
    MissingFromSystemLog { seq: u64, action: String },
}

impl Mismatch {
    pub fn message(&self) -> String {
        match self {
            Mismatch::MissingLocally { seq, hash, action } => format!(
                "record {seq} of the system log ({action}, {}) is not line {seq} of the local trail: lines were cut from it or rewritten",
                &hash[..hash.len().min(12)]
            ),
            Mismatch::MissingFromSystemLog { seq, action } => format!(
                "line {seq} of the local trail ({action}) is not in the system log: it was added or rewritten by something else (or the system log lost it)"
            ),
        }
    }
}

/// The outcome of comparing the local trail with an export of the system log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Lines of the local trail.
    pub local_lines: usize,
    /// Records of this project in the export.
    pub system_records: usize,
    /// The first line the system log holds a record of (earlier lines were written
    /// before the copy began, and are not expected there).
    pub first_seq: Option<u64>,
    /// keywarden records of other projects, skipped.
    pub other_projects: usize,
    /// Lines that carry keywarden's marker but cannot be read (damaged, or truncated by
    /// the logger): their line numbers in the export.
    pub unreadable: Vec<usize>,
    pub mismatches: Vec<Mismatch>,
}

impl Comparison {
    /// Whether the two agree (and the export held a record of this project at all, if
    /// the local trail has lines).
    pub fn agrees(&self) -> bool {
        self.mismatches.is_empty()
            && self.unreadable.is_empty()
            && (self.local_lines == 0 || self.system_records > 0)
    }
}

/// The records of an export, each with its line number in it.
fn records(export: &str) -> (Vec<Copy>, Vec<usize>) {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    for (i, line) in export.lines().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let mut values = serde_json::Deserializer::from_str(&line[at..]).into_iter::<Copy>();
        match values.next() {
            Some(Ok(copy)) => out.push(copy),
            _ => unreadable.push(i + 1),
        }
    }
    (out, unreadable)
}

/// Compares the local trail (`bytes`, of the project `project`) with `export`.
pub(super) fn compare(bytes: &[u8], project: &str, export: &str) -> Comparison {
    let (lines, _) = split_lines(bytes);
    let local: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            let action = serde_json::from_slice::<Event>(l)
                .map(|e| e.action)
                .unwrap_or_else(|_| "not an audit event".to_string());
            (sha256_hex(l), action)
        })
        .collect();
    let (all, unreadable) = records(export);
    let other_projects = all.iter().filter(|c| c.event.project != project).count();
    let mut system: Vec<Copy> = all
        .into_iter()
        .filter(|c| c.event.project == project)
        .collect();
    system.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.hash.cmp(&b.hash)));
    system.dedup_by(|a, b| a.seq == b.seq && a.hash == b.hash);
    let first_seq = system.first().map(|c| c.seq);

    let mut mismatches = Vec::new();
    for c in &system {
        let here = usize::try_from(c.seq)
            .ok()
            .and_then(|s| s.checked_sub(1))
            .and_then(|i| local.get(i));
        if here.is_none_or(|(h, _)| *h != c.hash) {
            mismatches.push(Mismatch::MissingLocally {
                seq: c.seq,
                hash: c.hash.clone(),
                action: c.event.action.clone(),
            });
        }
    }
    if let Some(first) = first_seq {
        for (i, (hash, action)) in local.iter().enumerate() {
            let seq = i as u64 + 1;
            if seq >= first && !system.iter().any(|c| c.seq == seq && c.hash == *hash) {
                mismatches.push(Mismatch::MissingFromSystemLog {
                    seq,
                    action: action.clone(),
                });
            }
        }
    }
    mismatches.sort_by_key(|m| match m {
        Mismatch::MissingLocally { seq, .. } | Mismatch::MissingFromSystemLog { seq, .. } => *seq,
    });
    Comparison {
        local_lines: local.len(),
        system_records: system.len(),
        first_seq,
        other_projects,
        unreadable,
        mismatches,
    }
}
