//! The append-only, tamper-evident audit log (`audit.jsonl`).
//!
//! One JSON object per line in the project's state folder (folder `0700`, file `0600`).
//! Every line carries `prev`: the lowercase hex SHA-256 of the previous line's exact bytes
//! (without its newline); the first line's `prev` is 64 zeros. `keywarden audit --verify`
//! walks the chain and reports the first line that does not follow from the one before it,
//! so an edited, deleted, inserted or reordered line is found.
//!
//! # Failing closed
//!
//! [`AuditLog::append`] is called *before* an action, and any error (cannot create the folder
//! or the file, cannot lock, cannot read the last line, cannot write or `fsync`) is returned
//! so the caller does not act. A file whose last line has no newline (a crash mid-write, or
//! tampering) or whose last line is not an audit event is never appended to or "repaired":
//! the user is sent to `keywarden audit --verify`.
//!
//! # Concurrency
//!
//! Appends take an exclusive `flock` (`File::lock`) on the audit file itself for the whole
//! read-last-line + write + `fsync` sequence, so processes (and threads: each append opens its
//! own file description) that append at once form one chain. Readers take a shared lock, so
//! they never see a half-written line.
//!
//! # Limits of the chain
//!
//! The chain is an unkeyed hash chain: it detects a change *followed by* at least one intact
//! line. By itself it cannot detect
//! - removal of the last line(s) (the remaining prefix is a valid chain),
//! - an edit of the last line that keeps its `prev` (no later line vouches for it),
//! - a rewrite that recomputes every `prev` from the changed line to the end (anyone who can
//!   write the file can do this; it is evidence against accidents and careless edits, not
//!   against a determined same-user attacker).
//!
//! The first two gaps are closed by an anchor beside the log: every append records the line
//! count and the last line's hash in `audit.head`, and `verify` reports a log shorter than
//! that, or a different line at that position. Someone who edits both files by hand is
//! still not caught: the trail proves accidents and careless edits, not more.
//!
//! # Hygiene
//!
//! The API takes fingerprints only, never a key. `detail` is caller text and must be a short
//! human sentence; JSON escaping keeps it on one line. Error messages from parsing never quote
//! the file's content, only line and column numbers.

use crate::keys::fingerprint::Fingerprint;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The audit log's file name inside the project's state folder.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// The `prev` of the first line.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest last line `append` will read back to chain from (events are a few hundred
/// bytes; anything this long is damage or tampering).
const MAX_LINE: u64 = 1 << 20;

const HINT: &str = "keywarden refuses to act without an audit record; check the state folder's permissions and free disk space";
const VERIFY_HINT: &str = "keywarden will not append to a damaged audit log; run `keywarden audit --verify` to see what is wrong";

/// The key fingerprints an event concerns.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fingerprints {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub old: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub new: Option<Fingerprint>,
}

impl Fingerprints {
    pub fn is_empty(&self) -> bool {
        self.old.is_none() && self.new.is_none()
    }
}

/// How an action ended (or that it started).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
    Refused,
    Started,
}

/// What a caller records; the log adds `ts`, `user`, `host`, `project` and `prev`.
#[derive(Debug, Clone)]
pub struct Record {
    pub environment: Option<String>,
    pub action: String,
    pub fingerprints: Fingerprints,
    pub result: Outcome,
    pub detail: Option<String>,
}

impl Record {
    pub fn new(action: impl Into<String>, result: Outcome) -> Self {
        Record {
            environment: None,
            action: action.into(),
            fingerprints: Fingerprints::default(),
            result,
            detail: None,
        }
    }

    pub fn env(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    pub fn old(mut self, fp: Fingerprint) -> Self {
        self.fingerprints.old = Some(fp);
        self
    }

    pub fn new_fp(mut self, fp: Fingerprint) -> Self {
        self.fingerprints.new = Some(fp);
        self
    }

    /// A short human sentence. Never a key.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// One line of `audit.jsonl`. Field order here is the order on disk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub ts: Timestamp,
    pub user: String,
    pub host: String,
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub environment: Option<String>,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fingerprints: Option<Fingerprints>,
    pub result: Outcome,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    pub prev: String,
}

/// Beside the log: how many lines it had and the hash of the last one.
pub const HEAD_FILE: &str = "audit.head";

#[derive(Debug, Serialize, Deserialize)]
struct Head {
    lines: u64,
    last: String,
}

/// Compares an intact chain with the recorded head: fewer lines, or a different line at
/// the recorded position, means lines were removed from (or replaced at) the end.
fn tail_problem(bytes: &[u8], lines: usize, head: &Head) -> Option<ChainProblem> {
    let recorded = head.lines as usize;
    if recorded == 0 {
        return None;
    }
    if lines < recorded {
        return Some(ChainProblem {
            line: lines + 1,
            message: format!(
                "the log ends after line {lines}, but {recorded} lines were recorded: line(s) {}–{recorded} were removed from the end",
                lines + 1
            ),
        });
    }
    let at = bytes.split(|&b| b == b'\n').nth(recorded - 1)?;
    (sha256_hex(at) != head.last).then(|| ChainProblem {
        line: recorded,
        message: format!("line {recorded} is not the line that was recorded there: the end of the log was rewritten"),
    })
}

/// The outcome of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Lines checked (complete lines in the file, up to and including the first problem).
    pub lines: usize,
    /// The first problem found, if any.
    pub problem: Option<ChainProblem>,
    /// SHA-256 (lowercase hex) of the last complete line, or [`GENESIS_PREV`] for an empty
    /// log: what the next event's `prev` will be. Keep it elsewhere to detect tail deletion.
    pub head: String,
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }
}

/// Where the chain breaks and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot {what} the audit log {}: {source}. {HINT}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("the audit log {} is not a regular file. {HINT}", path.display())]
    NotAFile { path: PathBuf },
    #[error("the audit log {} ends in the middle of a line (a crash mid-write, or tampering). {VERIFY_HINT}", path.display())]
    Unterminated { path: PathBuf },
    #[error("the last line ({line}) of the audit log {} is not a valid audit event ({reason}). {VERIFY_HINT}", path.display())]
    BadLastLine {
        path: PathBuf,
        line: &'static str,
        reason: String,
    },
    #[error("line {line} of the audit log {} is not a valid audit event ({reason}); run `keywarden audit --verify`", path.display())]
    BadLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("cannot encode the audit event: {0}. {HINT}")]
    Encode(#[source] serde_json::Error),
}

impl AuditError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            AuditError::Io { .. } | AuditError::NotAFile { .. } | AuditError::Encode(_) => HINT,
            AuditError::Unterminated { .. } | AuditError::BadLastLine { .. } => VERIFY_HINT,
            AuditError::BadLine { .. } => "run `keywarden audit --verify`",
        }
    }
}

/// The audit log of one project.
#[derive(Debug, Clone)]
pub struct AuditLog {
    dir: PathBuf,
    path: PathBuf,
    project: String,
    user: String,
    host: String,
}

impl AuditLog {
    /// The log at `state_dir/audit.jsonl` for the project rooted at `project_root` (its
    /// canonical path). Touches nothing on disk.
    pub fn new(state_dir: &Path, project_root: &Path) -> AuditLog {
        AuditLog {
            dir: state_dir.to_path_buf(),
            path: state_dir.join(AUDIT_FILE),
            project: project_root.to_string_lossy().into_owned(),
            user: current_user(),
            host: current_host(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, what: &'static str) -> impl FnOnce(io::Error) -> AuditError + '_ {
        move |source| AuditError::Io {
            path: self.path.clone(),
            what,
            source,
        }
    }

    /// Appends one event and returns it. Fails closed: on any error nothing usable was
    /// written and the caller must not perform the action.
    pub fn append(&self, record: Record) -> Result<Event, AuditError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(self.io("create the folder of"))?;

        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.path)
            .map_err(self.io("open"))?;
        let meta = file.metadata().map_err(self.io("inspect"))?;
        if !meta.is_file() {
            return Err(AuditError::NotAFile {
                path: self.path.clone(),
            });
        }
        if meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(self.io("restrict the permissions of"))?;
        }

        file.lock().map_err(self.io("lock"))?;
        // The lock is released when `file` is closed, on every path out of here.

        let len = file.metadata().map_err(self.io("inspect"))?.len();
        let prev = match self.last_line(&file, len)? {
            None => GENESIS_PREV.to_string(),
            Some(line) => {
                if let Err(e) = serde_json::from_slice::<Event>(&line) {
                    return Err(AuditError::BadLastLine {
                        path: self.path.clone(),
                        line: "before the new event",
                        reason: json_reason(&e),
                    });
                }
                sha256_hex(&line)
            }
        };

        let fingerprints = (!record.fingerprints.is_empty()).then_some(record.fingerprints);
        let event = Event {
            ts: Timestamp::now(),
            user: self.user.clone(),
            host: self.host.clone(),
            project: self.project.clone(),
            environment: record.environment,
            action: record.action,
            fingerprints,
            result: record.result,
            detail: record.detail,
            prev,
        };
        let mut line = serde_json::to_vec(&event).map_err(AuditError::Encode)?;
        debug_assert!(!line.contains(&b'\n'));
        line.push(b'\n');

        if let Err(e) = (&file).write_all(&line) {
            // Undo our own partial line (we hold the lock, so it is ours) so the log stays
            // appendable; if even that fails, the next append refuses and points to --verify.
            let _ = file.set_len(len);
            let _ = file.sync_data();
            return Err(self.io("write to")(e));
        }
        file.sync_data().map_err(self.io("flush to disk"))?;
        self.write_head(len, &event.prev, &line[..line.len() - 1]);
        if len == 0 {
            // A new file: make its directory entry durable too.
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(self.io("flush the folder of"))?;
        }
        Ok(event)
    }

    /// The last line of the file (without its newline), or `None` for an empty file.
    fn last_line(&self, file: &File, len: u64) -> Result<Option<Vec<u8>>, AuditError> {
        if len == 0 {
            return Ok(None);
        }
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1)
            .map_err(self.io("read the end of"))?;
        if last[0] != b'\n' {
            return Err(AuditError::Unterminated {
                path: self.path.clone(),
            });
        }
        // Scan backwards from the final newline for the one before it.
        let end = len - 1;
        let mut start = end;
        let mut buf = vec![0u8; 8192];
        'scan: while start > 0 {
            let n = buf.len().min(start as usize);
            let from = start - n as u64;
            file.read_exact_at(&mut buf[..n], from)
                .map_err(self.io("read the end of"))?;
            if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
                start = from + i as u64 + 1;
                break 'scan;
            }
            start = from;
            if end - start > MAX_LINE {
                return Err(AuditError::BadLastLine {
                    path: self.path.clone(),
                    line: "before the new event",
                    reason: format!("longer than {MAX_LINE} bytes"),
                });
            }
        }
        let mut line = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut line, start)
            .map_err(self.io("read the end of"))?;
        Ok(Some(line))
    }

    /// The whole file under a shared lock; `None` if it does not exist.
    fn read_bytes(&self) -> Result<Option<Vec<u8>>, AuditError> {
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("open")(e)),
        };
        if !file.metadata().map_err(self.io("inspect"))?.is_file() {
            return Err(AuditError::NotAFile {
                path: self.path.clone(),
            });
        }
        file.lock_shared().map_err(self.io("lock"))?;
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut &file, &mut bytes).map_err(self.io("read"))?;
        Ok(Some(bytes))
    }

    /// All events, oldest first. A line that is not an event is an error naming its number;
    /// so is a file that ends in the middle of a line.
    pub fn read(&self) -> Result<Vec<Event>, AuditError> {
        let Some(bytes) = self.read_bytes()? else {
            return Ok(Vec::new());
        };
        let (lines, partial) = split_lines(&bytes);
        if partial.is_some() {
            return Err(AuditError::Unterminated {
                path: self.path.clone(),
            });
        }
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_slice::<Event>(line).map_err(|e| AuditError::BadLine {
                    path: self.path.clone(),
                    line: i + 1,
                    reason: json_reason(&e),
                })
            })
            .collect()
    }

    /// Checks the chain. A missing file is an empty, valid log. I/O errors are errors; a
    /// broken chain is a [`ChainProblem`] in the returned report.
    pub fn verify(&self) -> Result<Verification, AuditError> {
        let recorded = self.read_head();
        let Some(bytes) = self.read_bytes()? else {
            let problem = recorded.filter(|h| h.lines > 0).map(|h| ChainProblem {
                line: 1,
                message: format!(
                    "the audit log is gone, but {} line(s) were recorded in {HEAD_FILE}",
                    h.lines
                ),
            });
            return Ok(Verification {
                lines: 0,
                problem,
                head: GENESIS_PREV.to_string(),
            });
        };
        let mut v = verify_bytes(&bytes);
        if let (None, Some(h)) = (&v.problem, recorded) {
            v.problem = tail_problem(&bytes, v.lines, &h);
        }
        Ok(v)
    }

    fn head_path(&self) -> PathBuf {
        self.dir.join(HEAD_FILE)
    }

    fn read_head(&self) -> Option<Head> {
        serde_json::from_slice(&std::fs::read(self.head_path()).ok()?).ok()
    }

    /// Records the line count and the last line's hash beside the log, so that lines cut
    /// from the end (which the chain cannot see) are found by `verify`. Best effort: the
    /// event itself is already durable, and a stale head only lags behind the log.
    fn write_head(&self, len_before: u64, prev: &str, line: &[u8]) {
        let lines = match self.read_head() {
            Some(h) if h.last == prev && len_before > 0 => h.lines + 1,
            _ if len_before == 0 => 1,
            _ => match std::fs::read(&self.path) {
                Ok(all) => all.iter().filter(|&&b| b == b'\n').count() as u64,
                Err(_) => return,
            },
        };
        let head = Head {
            lines,
            last: sha256_hex(line),
        };
        if let Ok(json) = serde_json::to_vec(&head) {
            let _ = crate::fsio::atomic_write(&self.head_path(), &json, 0o600);
        }
    }
}

/// Splits into complete lines (without newlines) and a trailing fragment with no newline.
fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, Option<&[u8]>) {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // `split` always yields a last piece: empty if the file ends with '\n' (or is empty).
    let tail = lines.pop().filter(|t| !t.is_empty());
    (lines, tail)
}

fn verify_bytes(bytes: &[u8]) -> Verification {
    let (lines, partial) = split_lines(bytes);
    let mut head = GENESIS_PREV.to_string();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let problem = |message: String| Verification {
            lines: n,
            problem: Some(ChainProblem { line: n, message }),
            head: head.clone(),
        };
        if line.is_empty() {
            return problem(format!("line {n} is empty"));
        }
        let event = match serde_json::from_slice::<Event>(line) {
            Ok(ev) => ev,
            Err(e) if e.is_syntax() || e.is_eof() => {
                return problem(format!("line {n} is not valid JSON ({})", json_reason(&e)));
            }
            Err(e) => {
                return problem(format!(
                    "line {n} is not a valid audit event ({})",
                    json_reason(&e)
                ));
            }
        };
        if event.prev != head {
            return problem(if n == 1 {
                "line 1 was changed, or lines before it were removed: its `prev` is not the start of a log".to_string()
            } else {
                format!(
                    "line {n} was changed or removed: its `prev` does not match line {}",
                    n - 1
                )
            });
        }
        head = sha256_hex(line);
    }
    let checked = lines.len();
    match partial {
        None => Verification {
            lines: checked,
            problem: None,
            head,
        },
        Some(_) => Verification {
            lines: checked,
            problem: Some(ChainProblem {
                line: checked + 1,
                message: format!(
                    "the file ends in the middle of a line: line {} has no newline (a crash mid-write, or tampering)",
                    checked + 1
                ),
            }),
            head,
        },
    }
}

/// Describes a parse error without quoting the input.
fn json_reason(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "wrong or missing field",
        serde_json::error::Category::Eof => "unexpected end",
    };
    format!("{kind} at column {}", e.column())
}

fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

/// `$USER`, else `$LOGNAME`, else the passwd entry of the real uid, else `uid:N`.
fn current_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return v;
        }
    }
    let uid = crate::sys::uid();
    crate::sys::passwd_name(uid).unwrap_or_else(|| format!("uid:{uid}"))
}

/// `gethostname`, else `unknown`.
fn current_host() -> String {
    crate::sys::hostname().unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn fp(s: &str) -> Fingerprint {
        Fingerprint::parse(s).unwrap()
    }

    fn setup() -> (tempfile::TempDir, AuditLog) {
        let tmp = tempfile::tempdir().unwrap();
        let log = AuditLog::new(&tmp.path().join("state"), Path::new("/srv/app"));
        (tmp, log)
    }

    fn fill(log: &AuditLog, n: usize) {
        for i in 0..n {
            let rec = Record::new("set", Outcome::Ok)
                .env("production")
                .new_fp(fp("kw:0123abcd"))
                .detail(format!("event number {i}"));
            log.append(rec).unwrap();
        }
    }

    fn raw_lines(log: &AuditLog) -> Vec<Vec<u8>> {
        let bytes = std::fs::read(log.path()).unwrap();
        let (lines, tail) = split_lines(&bytes);
        assert!(tail.is_none());
        lines.into_iter().map(<[u8]>::to_vec).collect()
    }

    fn write_lines(log: &AuditLog, lines: &[Vec<u8>]) {
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        std::fs::write(log.path(), out).unwrap();
    }

    fn problem_line(log: &AuditLog) -> Option<usize> {
        log.verify().unwrap().problem.map(|p| p.line)
    }

    #[test]
    fn missing_file_is_empty_and_valid() {
        let (_t, log) = setup();
        let v = log.verify().unwrap();
        assert_eq!(
            (v.lines, v.problem, v.head.as_str()),
            (0, None, GENESIS_PREV)
        );
        assert!(log.read().unwrap().is_empty());
        assert!(!log.path().exists(), "reading must not create the log");
    }

    #[test]
    fn chain_of_100_verifies_and_reads_back() {
        let (_t, log) = setup();
        fill(&log, 100);
        let v = log.verify().unwrap();
        assert_eq!(v.lines, 100);
        assert_eq!(v.problem, None);
        let lines = raw_lines(&log);
        assert_eq!(v.head, sha256_hex(lines.last().unwrap()));
        let events = log.read().unwrap();
        assert_eq!(events.len(), 100);
        assert_eq!(events[0].prev, GENESIS_PREV);
        for i in 1..100 {
            assert_eq!(events[i].prev, sha256_hex(&lines[i - 1]));
            assert_eq!(
                events[i].detail.as_deref(),
                Some(&*format!("event number {i}"))
            );
        }
        // The returned event is exactly what was written.
        let ev = log.append(Record::new("reveal", Outcome::Ok)).unwrap();
        assert_eq!(ev.prev, v.head);
        assert_eq!(log.read().unwrap().last(), Some(&ev));
    }

    #[test]
    fn single_byte_edits_are_detected_at_the_right_line() {
        let (_t, log) = setup();
        fill(&log, 10);
        let orig = raw_lines(&log);
        for k in 0..orig.len() {
            let line = &orig[k];
            let prev_at = line.windows(8).position(|w| w == b"\"prev\":\"").unwrap() + 8;
            let detail_at = line.windows(12).position(|w| w == b"event number").unwrap();
            // (position, expected problem line 1-based)
            let mut cases = vec![
                (0, k + 1),              // '{' -> not JSON
                (prev_at, k + 1),        // inside prev -> mismatch on this line
                (prev_at + 63, k + 1),   // last hex digit of prev
                (line.len() - 1, k + 1), // closing '}'
                (2, k + 1),              // inside key "ts" -> missing field
            ];
            // An edit of content that stays a valid event is caught by the next line.
            if k + 1 < orig.len() {
                cases.push((detail_at, k + 2));
                cases.push((detail_at + 3, k + 2));
            }
            for (pos, expect) in cases {
                let mut lines = orig.clone();
                let b = lines[k][pos];
                lines[k][pos] = if b == b'e' {
                    b'f'
                } else if b == b'0' {
                    b'1'
                } else {
                    b'e'
                };
                write_lines(&log, &lines);
                let v = log.verify().unwrap();
                let p = v
                    .problem
                    .unwrap_or_else(|| panic!("line {} pos {pos} undetected", k + 1));
                assert_eq!(p.line, expect, "line {} pos {pos}: {}", k + 1, p.message);
            }
        }
        // Restored, the chain is valid again.
        write_lines(&log, &orig);
        assert_eq!(problem_line(&log), None);
    }

    #[test]
    fn deletion_swap_and_insertion_are_detected() {
        let (_t, log) = setup();
        fill(&log, 10);
        let orig = raw_lines(&log);

        // Delete line 5: the old line 6, now line 5, no longer follows line 4.
        let mut l = orig.clone();
        l.remove(4);
        write_lines(&log, &l);
        let v = log.verify().unwrap();
        let p = v.problem.unwrap();
        assert_eq!(p.line, 5);
        assert_eq!(
            p.message,
            "line 5 was changed or removed: its `prev` does not match line 4"
        );

        // Delete line 1.
        let mut l = orig.clone();
        l.remove(0);
        write_lines(&log, &l);
        assert_eq!(problem_line(&log), Some(1));

        // Swap lines 3 and 4.
        let mut l = orig.clone();
        l.swap(2, 3);
        write_lines(&log, &l);
        assert_eq!(problem_line(&log), Some(3));

        // Insert a naive forged line (copied from elsewhere) as line 4.
        let mut l = orig.clone();
        l.insert(3, orig[7].clone());
        write_lines(&log, &l);
        assert_eq!(problem_line(&log), Some(4));

        // Replay line 4 right after itself: the copy (line 5) does not follow line 4.
        let mut l = orig.clone();
        l.insert(4, orig[3].clone());
        write_lines(&log, &l);
        assert_eq!(problem_line(&log), Some(5));

        // Insert a careful forgery whose `prev` is right: the line after it catches it.
        let mut forged: Event = serde_json::from_slice(&orig[3]).unwrap();
        forged.prev = sha256_hex(&orig[2]);
        forged.action = "revoke".into();
        let mut l = orig.clone();
        l.insert(3, serde_json::to_vec(&forged).unwrap());
        write_lines(&log, &l);
        assert_eq!(problem_line(&log), Some(5));

        // An empty line in the middle.
        let mut l = orig.clone();
        l.insert(6, Vec::new());
        write_lines(&log, &l);
        let p = log.verify().unwrap().problem.unwrap();
        assert_eq!((p.line, p.message.as_str()), (7, "line 7 is empty"));
    }

    #[test]
    fn tail_deletion_and_a_rewritten_last_line_are_found_through_the_head() {
        let (_t, log) = setup();
        fill(&log, 10);
        assert_eq!(log.verify().unwrap().problem, None);
        let full = raw_lines(&log);
        // The chain alone accepts the shorter prefix; the recorded head does not.
        let mut l = full.clone();
        l.pop();
        l.pop();
        write_lines(&log, &l);
        let p = log.verify().unwrap().problem.unwrap();
        assert_eq!(p.line, 9);
        assert!(p.message.contains("removed from the end"), "{}", p.message);
        // A last line edited without breaking its own `prev`.
        let mut l = full.clone();
        let last = String::from_utf8(l.pop().unwrap()).unwrap();
        l.push(
            last.replace("\"result\":\"ok\"", "\"result\":\"failed\"")
                .into_bytes(),
        );
        write_lines(&log, &l);
        let p = log.verify().unwrap().problem.unwrap();
        assert_eq!(p.line, 10);
        assert!(p.message.contains("rewritten"), "{}", p.message);
        // Put back as it was: intact again, and appends go on counting.
        write_lines(&log, &full);
        assert_eq!(log.verify().unwrap().problem, None);
        fill(&log, 1);
        let v = log.verify().unwrap();
        assert_eq!((v.lines, v.problem), (11, None));
    }

    #[test]
    fn truncated_last_line_is_reported_and_append_refuses() {
        let (_t, log) = setup();
        fill(&log, 5);
        let mut bytes = std::fs::read(log.path()).unwrap();
        bytes.truncate(bytes.len() - 20);
        std::fs::write(log.path(), &bytes).unwrap();

        let v = log.verify().unwrap();
        assert_eq!(v.lines, 4);
        let p = v.problem.unwrap();
        assert_eq!(p.line, 5);
        assert!(
            p.message.contains("ends in the middle of a line"),
            "{}",
            p.message
        );

        let err = log
            .append(Record::new("set", Outcome::Started))
            .unwrap_err();
        assert!(matches!(err, AuditError::Unterminated { .. }), "{err}");
        assert!(err.to_string().contains("keywarden audit --verify"));
        assert_eq!(std::fs::read(log.path()).unwrap(), bytes, "nothing written");
        assert!(matches!(log.read(), Err(AuditError::Unterminated { .. })));
    }

    #[test]
    fn append_refuses_after_a_garbage_last_line() {
        let (_t, log) = setup();
        fill(&log, 2);
        let mut bytes = std::fs::read(log.path()).unwrap();
        bytes.extend_from_slice(b"not json\n");
        std::fs::write(log.path(), &bytes).unwrap();
        let err = log.append(Record::new("set", Outcome::Ok)).unwrap_err();
        assert!(matches!(err, AuditError::BadLastLine { .. }), "{err}");
        assert_eq!(std::fs::read(log.path()).unwrap(), bytes);
        let p = log.verify().unwrap().problem.unwrap();
        assert_eq!(p.line, 3);
        assert!(p.message.contains("not valid JSON"), "{}", p.message);
        match log.read() {
            Err(AuditError::BadLine { line: 3, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fails_closed_when_state_folder_cannot_exist() {
        let tmp = tempfile::tempdir().unwrap();
        // State folder is a regular file.
        let file = tmp.path().join("state");
        std::fs::write(&file, b"x").unwrap();
        let log = AuditLog::new(&file, Path::new("/srv/app"));
        let err = log.append(Record::new("set", Outcome::Ok)).unwrap_err();
        assert!(matches!(err, AuditError::Io { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("refuses to act without an audit record")
        );
        assert!(err.to_string().contains(&*file.display().to_string()));
        assert_eq!(std::fs::read(&file).unwrap(), b"x");

        // State folder's parent is a regular file.
        let log = AuditLog::new(&file.join("sub"), Path::new("/srv/app"));
        assert!(log.append(Record::new("set", Outcome::Ok)).is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }

    #[test]
    fn fails_closed_on_symlink_or_directory() {
        let (tmp, log) = setup();
        std::fs::create_dir_all(log.path().parent().unwrap()).unwrap();
        let target = tmp.path().join("elsewhere");
        std::fs::write(&target, b"").unwrap();
        std::os::unix::fs::symlink(&target, log.path()).unwrap();
        assert!(log.append(Record::new("set", Outcome::Ok)).is_err());
        assert!(log.verify().is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"");

        std::fs::remove_file(log.path()).unwrap();
        std::fs::create_dir(log.path()).unwrap();
        assert!(log.append(Record::new("set", Outcome::Ok)).is_err());
        assert!(log.verify().is_err());
    }

    #[test]
    fn modes_are_0700_and_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a").join("state");
        let log = AuditLog::new(&dir, Path::new("/srv/app"));
        log.append(Record::new("generate", Outcome::Ok)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(log.path()), 0o600);

        // A too-open existing file is tightened.
        std::fs::set_permissions(log.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        log.append(Record::new("generate", Outcome::Ok)).unwrap();
        assert_eq!(mode(log.path()), 0o600);
    }

    #[test]
    fn lines_hold_exactly_the_expected_keys() {
        let (_t, log) = setup();
        let tricky = "rotated after \"incident\"\nline two\u{2028}done\\";
        log.append(Record::new("copy", Outcome::Ok)).unwrap();
        log.append(
            Record::new("rotate.finish", Outcome::Ok)
                .env("staging")
                .old(fp("kw:00000001"))
                .new_fp(fp("kw:deadbeef"))
                .detail(tricky),
        )
        .unwrap();
        log.append(
            Record::new("revoke", Outcome::Refused)
                .old(fp("kw:0badf00d"))
                .detail("refused: key still in use"),
        )
        .unwrap();
        log.append(Record::new("fix", Outcome::Failed).detail("could not write .env"))
            .unwrap();

        let text = std::fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 4, "detail newlines must be escaped");
        assert!(text.ends_with('\n'));
        let base = ["ts", "user", "host", "project", "action", "result", "prev"];
        let expected: [&[&str]; 4] = [
            &[],
            &["environment", "fingerprints", "detail"],
            &["fingerprints", "detail"],
            &["detail"],
        ];
        for (line, extra) in text.lines().zip(expected) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let obj = v.as_object().unwrap();
            let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
            let want: BTreeSet<&str> = base.iter().chain(extra).copied().collect();
            assert_eq!(keys, want, "{line}");
            if let Some(fps) = obj.get("fingerprints") {
                let fps = fps.as_object().unwrap();
                assert!(fps.keys().all(|k| k == "old" || k == "new"));
                assert!(
                    fps.values()
                        .all(|v| Fingerprint::parse(v.as_str().unwrap()).is_some())
                );
            }
            assert_eq!(obj["project"], "/srv/app");
            let ts = obj["ts"].as_str().unwrap();
            assert!(ts.ends_with('Z'), "{ts}");
            assert!(ts.parse::<Timestamp>().is_ok());
            let prev = obj["prev"].as_str().unwrap();
            assert_eq!(prev.len(), 64);
            assert!(
                prev.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
        let events = log.read().unwrap();
        assert_eq!(events[1].detail.as_deref(), Some(tricky));
        assert_eq!(events[1].result, Outcome::Ok);
        assert_eq!(events[2].result, Outcome::Refused);
        assert_eq!(
            events[1].fingerprints,
            Some(Fingerprints {
                old: Some(fp("kw:00000001")),
                new: Some(fp("kw:deadbeef")),
            })
        );
        let v: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(v["result"], "ok");
        assert_eq!(v["action"], "rotate.finish");
        assert_eq!(log.verify().unwrap().problem, None);
    }

    #[test]
    fn concurrent_appends_from_threads_form_one_chain() {
        let (_t, log) = setup();
        std::thread::scope(|s| {
            for t in 0..8 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..50 {
                        log.append(Record::new("copy", Outcome::Ok).detail(format!("t{t} #{i}")))
                            .unwrap();
                    }
                });
            }
        });
        let v = log.verify().unwrap();
        assert_eq!(v.problem, None);
        assert_eq!(v.lines, 400);
        let details: BTreeSet<String> = log
            .read()
            .unwrap()
            .into_iter()
            .filter_map(|e| e.detail)
            .collect();
        assert_eq!(details.len(), 400);
    }

    #[test]
    fn user_and_host_are_known() {
        let (_t, log) = setup();
        let ev = log.append(Record::new("reveal", Outcome::Ok)).unwrap();
        assert!(!ev.user.is_empty());
        assert!(!ev.host.is_empty());
        let uid = crate::sys::uid();
        assert!(crate::sys::passwd_name(uid).is_some_and(|n| !n.is_empty()));
    }
}
