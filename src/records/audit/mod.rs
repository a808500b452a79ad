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
//!
//! # The system log's copy
//!
//! With `[audit] syslog = true` every event is also sent to the system logger
//! ([`AuditLog::with_syslog`]), and an event it does not take stops the action as one
//! that cannot be written does; [`AuditLog::compare_with_system_log`] finds what a
//! consistent rewrite of both local files hides. See [`syslog`].
//!
//! This file holds the events and the log (append, read, verify); [`chain`] is the hash
//! chain and its checks.

use crate::context::{Actor, Context};
use crate::keys::fingerprint::Fingerprint;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

mod chain;
pub mod follow;
pub mod syslog;
pub use chain::*;

/// The audit log's file name inside the project's state folder.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// The `prev` of the first line of a log written before the chain was bound to its
/// project (still read: such a log's lines name their project, and each is checked).
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The `prev` of the first line of `project`'s log: the SHA-256 of
/// `keywarden audit trail of <project>`, so a chain starts from its own project and
/// another project's trail, copied here, does not follow.
pub fn genesis(project: &str) -> String {
    sha256_hex(format!("keywarden audit trail of {project}").as_bytes())
}

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
    /// The log and its head disagree: lines were cut, added or rewritten at the end, or
    /// the head was deleted. Nothing more is recorded (so nothing is done) until a person
    /// has looked and accepted it.
    #[error("the audit log {} and its record of its own end ({HEAD_FILE}) disagree: {why}. Nothing is done until this is looked at: {ACCEPT_HINT}", path.display())]
    Disagrees { path: PathBuf, why: String },
    /// `[audit] syslog = true`, and no system logger takes datagrams at the socket: the
    /// event was not recorded anywhere.
    #[error("every audit event also goes to the system log ([audit] syslog = true), and its socket {} cannot be reached: {source}. Nothing was recorded, so nothing is done: {SYSLOG_HINT}", socket.display())]
    SyslogUnreachable {
        socket: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The local line was written, and the system logger did not take its copy.
    #[error("the audit event is line {seq} of {}, but the system log at {} did not take its copy: {source}. Nothing is done (`keywarden audit --verify --against` will show line {seq} missing from the system log): {SYSLOG_HINT}", log.display(), socket.display())]
    SyslogRefused {
        socket: PathBuf,
        log: PathBuf,
        seq: u64,
        #[source]
        source: io::Error,
    },
}

const SYSLOG_HINT: &str = "start the system logger that listens there (journald or rsyslog: /dev/log), set KEYWARDEN_SYSLOG_SOCKET to the socket it listens on, or set `syslog = false` under [audit] in keywarden.toml to keep the local trail only";

const ACCEPT_HINT: &str = "`keywarden audit --verify` shows where; `keywarden audit --accept` records what was lost and lets keywarden go on";

impl AuditError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            AuditError::Io { .. } | AuditError::NotAFile { .. } | AuditError::Encode(_) => HINT,
            AuditError::Unterminated { .. } | AuditError::BadLastLine { .. } => VERIFY_HINT,
            AuditError::BadLine { .. } => "run `keywarden audit --verify`",
            AuditError::Disagrees { .. } => ACCEPT_HINT,
            AuditError::SyslogUnreachable { .. } | AuditError::SyslogRefused { .. } => SYSLOG_HINT,
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
    /// The system logger's socket, when every event is also sent there.
    syslog: Option<PathBuf>,
}

impl AuditLog {
    /// The log at `state_dir/audit.jsonl` for the project rooted at `project_root` (its
    /// canonical path). Touches nothing on disk.
    /// The log of `project_root` in `state_dir`, its events signed by this process's user
    /// and host.
    pub fn new(state_dir: &Path, project_root: &Path) -> AuditLog {
        AuditLog::by(state_dir, project_root, Context::process().actor())
    }

    /// The log, its events signed by `actor`.
    pub fn by(state_dir: &Path, project_root: &Path, actor: Actor) -> AuditLog {
        AuditLog {
            dir: state_dir.to_path_buf(),
            path: state_dir.join(AUDIT_FILE),
            project: project_root.to_string_lossy().into_owned(),
            user: actor.user,
            host: actor.host,
            syslog: None,
        }
    }

    /// Also sends every event to the system logger listening on `socket` (`[audit]
    /// syslog = true`); `None`: the local trail only. See [`syslog`].
    pub fn with_syslog(mut self, socket: Option<PathBuf>) -> AuditLog {
        self.syslog = socket;
        self
    }

    /// The system logger's socket events are also sent to, if any.
    pub fn syslog_socket(&self) -> Option<&Path> {
        self.syslog.as_deref()
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
        self.append_as(record, false)
    }

    /// `accepting`: the `audit.accept` event, written after a person took the log as it
    /// is, which a trail that is gone may begin with.
    fn append_as(&self, record: Record, accepting: bool) -> Result<Event, AuditError> {
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
            None => genesis(&self.project),
            Some(line) => {
                let last = match serde_json::from_slice::<Event>(&line) {
                    Ok(ev) => ev,
                    Err(e) => {
                        return Err(AuditError::BadLastLine {
                            path: self.path.clone(),
                            line: "before the new event",
                            reason: json_reason(&e),
                        });
                    }
                };
                // (An acceptance takes the log as it is, whoever's lines end it.)
                if last.project != self.project && !accepting {
                    return Err(AuditError::Disagrees {
                        path: self.path.clone(),
                        why: format!(
                            "its last line records the project {}, not this one ({}): the trail was copied from another project's",
                            last.project, self.project
                        ),
                    });
                }
                sha256_hex(&line)
            }
        };
        // Fail closed on a log whose end is not the one recorded.
        let lines = self.agreed_lines(len, &prev, accepting)?;
        // And on a system log that cannot take the copy: connected before anything is
        // written, so an unreachable logger leaves no record anywhere.
        let sender = self
            .syslog
            .as_deref()
            .map(syslog::Sender::connect)
            .transpose()?;

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
            prev: prev.clone(),
        };
        let mut line = serde_json::to_vec(&event).map_err(AuditError::Encode)?;
        debug_assert!(!line.contains(&b'\n'));
        // Announced before it is written: a crash between the line and the head's update
        // is then told from a line someone else appended.
        self.write_head(&Head {
            lines,
            last: prev.clone(),
            len: Some(len),
            pending: Some(sha256_hex(&line)),
        })?;
        line.push(b'\n');

        if let Err(e) = (&file).write_all(&line) {
            // Undo our own partial line (we hold the lock, so it is ours) so the log stays
            // appendable; if even that fails, the next append refuses and points to --verify.
            let _ = file.set_len(len);
            let _ = file.sync_data();
            return Err(self.io("write to")(e));
        }
        file.sync_data().map_err(self.io("flush to disk"))?;
        let hash = sha256_hex(&line[..line.len() - 1]);
        // Best effort: the event is durable, and the announced line is accepted.
        let _ = self.write_head(&Head {
            lines: lines + 1,
            last: hash.clone(),
            len: Some(len + line.len() as u64),
            pending: None,
        });
        if len == 0 {
            // A new file: make its directory entry durable too.
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(self.io("flush the folder of"))?;
        }
        if let Some(sender) = sender {
            sender.send(lines + 1, &hash, &event, &self.path)?;
        }
        Ok(event)
    }

    /// Runs `f` while no append is under way: holding the log's own lock, which an append
    /// holds from reading the last line to updating the head (its temporary file
    /// included). A log that does not exist yet is not created for it (`f` then runs
    /// unguarded: an append that creates the log meanwhile and loses its head's temporary
    /// file fails, and so does not act).
    pub fn without_appends<T>(&self, f: impl FnOnce() -> T) -> Result<T, AuditError> {
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
            .open(&self.path)
        {
            Ok(f) => Some(f),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(self.io("open")(e)),
        };
        if let Some(file) = &file {
            file.lock().map_err(self.io("lock"))?;
        }
        let out = f();
        drop(file);
        Ok(out)
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
        let bytes = self.read_bytes()?;
        let gone = if bytes.is_none() { "gone" } else { "empty" };
        let bytes = bytes.unwrap_or_default();
        if bytes.is_empty() {
            let message = match &recorded {
                HeadRead::Found(h) if h.lines > 0 => Some(format!(
                    "the audit log is {gone}, but {} line(s) were recorded in {HEAD_FILE}",
                    h.lines
                )),
                HeadRead::Damaged(why) => Some(format!(
                    "the audit log is {gone}, and {HEAD_FILE} is damaged ({why})"
                )),
                _ => self.history().map(|past| {
                    let counted = TrailMark::in_state(&self.dir)
                        .map(|m| format!(" ({} line(s), as state.json recorded)", m.lines))
                        .unwrap_or_default();
                    format!(
                        "the audit trail is {gone} ({AUDIT_FILE} {gone}, {HEAD_FILE} {}), but the project has a history ({past}): every earlier record was lost{counted}",
                        if matches!(recorded, HeadRead::Missing) { "missing" } else { "reset to no line" }
                    )
                }),
            };
            return Ok(Verification {
                lines: 0,
                problem: message.map(|message| ChainProblem { line: 1, message }),
                head: genesis(&self.project),
            });
        }
        let mut v = verify_bytes(&bytes, &self.project);
        if v.problem.is_none() {
            v.problem = match recorded {
                HeadRead::Found(h) => tail_problem(&bytes, v.lines, &h),
                HeadRead::Missing => {
                    Some(self.unvouched(&bytes, v.lines, format!("{HEAD_FILE} is missing")))
                }
                HeadRead::Damaged(why) => {
                    Some(self.unvouched(&bytes, v.lines, format!("{HEAD_FILE} is damaged ({why})")))
                }
            };
        }
        Ok(v)
    }

    /// The problem of a log (`bytes`, an intact chain of `lines` lines) whose head is
    /// gone or damaged (`head`): what `state.json`'s mark of the trail still tells, or
    /// that nothing vouches for the end.
    fn unvouched(&self, bytes: &[u8], lines: usize, head: String) -> ChainProblem {
        let (all, _) = split_lines(bytes);
        match TrailMark::in_state(&self.dir) {
            Some(mark) => match mark.gone(&all) {
                Some(gone) => ChainProblem {
                    line: (mark.lines as usize).min(lines + 1),
                    message: format!("{head}, and {gone}"),
                },
                None => ChainProblem {
                    line: lines,
                    message: format!(
                        "{head}: state.json vouches for lines 1–{} only; lines cut from the end after it (or a rewritten last line) cannot be told",
                        mark.lines
                    ),
                },
            },
            None => ChainProblem {
                line: lines,
                message: format!(
                    "{head}: nothing vouches for the end of the log after line {lines}, so lines cut from it (or a rewritten last line) cannot be told"
                ),
            },
        }
    }

    /// What in the state folder shows that the project has a past a trail must record:
    /// its state, its backups, its incidents. `None` for a project keywarden never
    /// changed, whose trail may start.
    fn history(&self) -> Option<String> {
        let entries = |dir: &str, keep: fn(&std::fs::DirEntry) -> bool| {
            std::fs::read_dir(self.dir.join(dir))
                .map(|r| r.filter_map(Result::ok).filter(keep).count())
                .unwrap_or(0)
        };
        let mut past = Vec::new();
        if std::fs::symlink_metadata(self.dir.join(crate::project::state::STATE_FILE)).is_ok() {
            past.push(crate::project::state::STATE_FILE.to_string());
        }
        let backups = entries(crate::records::backup::BACKUPS_DIR, |e| {
            e.file_type().is_ok_and(|t| t.is_dir())
        });
        if backups > 0 {
            past.push(format!("{backups} backup(s)"));
        }
        // The incident records (`incidents/<id>.json`).
        let incidents = entries("incidents", |e| {
            e.file_name().as_encoded_bytes().ends_with(b".json")
        });
        if incidents > 0 {
            past.push(format!("{incidents} incident record(s)"));
        }
        (!past.is_empty()).then(|| past.join(", "))
    }

    /// Compares the trail with `export`, an export of the system log (`journalctl -t
    /// keywarden -o cat`, or syslog file lines): the records missing from either side.
    pub fn compare_with_system_log(&self, export: &str) -> Result<syslog::Comparison, AuditError> {
        let bytes = self.read_bytes()?.unwrap_or_default();
        Ok(syslog::compare(&bytes, &self.project, export))
    }

    /// How many lines the log has, if its end (length `len`, last line hashing to
    /// `last`) is the one the head recorded — or the line it announced; otherwise the
    /// disagreement.
    fn agreed_lines(&self, len: u64, last: &str, accepting: bool) -> Result<u64, AuditError> {
        let disagrees = |why: String| AuditError::Disagrees {
            path: self.path.clone(),
            why,
        };
        let head = match self.read_head() {
            HeadRead::Found(h) => Some(h),
            HeadRead::Missing => None,
            HeadRead::Damaged(why) => {
                return Err(disagrees(format!(
                    "{HEAD_FILE} is damaged ({why}), so the end of the log cannot be checked"
                )));
            }
        };
        match (len, head) {
            (0, h) if h.as_ref().is_none_or(|h| h.lines == 0) => match self.history() {
                Some(past) if !accepting => Err(disagrees(format!(
                    "the audit trail is gone ({AUDIT_FILE} missing or empty, {HEAD_FILE} {}), but the project has a history ({past}): every earlier record was lost",
                    if h.is_none() {
                        "missing"
                    } else {
                        "reset to no line"
                    }
                ))),
                _ => Ok(0),
            },
            (0, Some(h)) => Err(disagrees(format!(
                "the log is empty, but {} line(s) were recorded",
                h.lines
            ))),
            (_, None) => Err(disagrees(format!(
                "{HEAD_FILE} is missing, so the end of the log cannot be checked"
            ))),
            (len, Some(h)) if h.last == last && h.len.is_none_or(|l| l == len) => Ok(h.lines),
            (_, Some(h)) if h.pending.as_deref() == Some(last) => Ok(h.lines + 1),
            (len, Some(h)) => Err(disagrees(match h.len {
                Some(l) if len < l => format!(
                    "the log is {len} bytes, shorter than the {l} recorded after line {}: lines were cut from its end",
                    h.lines
                ),
                Some(l) if len > l => format!(
                    "the log is {len} bytes, longer than the {l} recorded after line {}: lines were added by something else",
                    h.lines
                ),
                _ => format!(
                    "its last line is not line {} as recorded: the end of the log was rewritten",
                    h.lines
                ),
            })),
        }
    }

    fn head_path(&self) -> PathBuf {
        self.dir.join(HEAD_FILE)
    }

    fn read_head(&self) -> HeadRead {
        match std::fs::read(self.head_path()) {
            Ok(bytes) => match serde_json::from_slice::<Head>(&bytes) {
                Ok(h) if h.last.len() == 64 => HeadRead::Found(h),
                Ok(_) => HeadRead::Damaged("its last hash is not a SHA-256".into()),
                Err(e) => {
                    HeadRead::Damaged(format!("not a head keywarden wrote: {}", json_reason(&e)))
                }
            },
            Err(e) if e.kind() == ErrorKind::NotFound => HeadRead::Missing,
            Err(e) => HeadRead::Damaged(format!("unreadable: {e}")),
        }
    }

    fn write_head(&self, head: &Head) -> Result<(), AuditError> {
        let json = serde_json::to_vec(head).map_err(AuditError::Encode)?;
        crate::fsio::atomic_write(&self.head_path(), &json, 0o600).map_err(|e| AuditError::Io {
            path: self.head_path(),
            what: "write",
            source: io::Error::other(e.to_string()),
        })
    }

    /// After a person has looked at a disagreement (`audit --verify`): records, as an
    /// `audit.accept` event, what the log and its head said, then takes the log as it
    /// now is as the new start. Lines changed in the middle stay reported by `verify`:
    /// the chain is never rewritten. Returns what was accepted.
    pub fn accept(&self) -> Result<String, AuditError> {
        let v = self.verify()?;
        let problem = match &v.problem {
            Some(p) => format!("line {}: {}", p.line, p.message),
            None => "nothing: the log and its head agreed".to_string(),
        };
        // The end as it is now (a partial or garbage last line must be fixed by hand:
        // append refuses it, and says so).
        let bytes = self.read_bytes()?.unwrap_or_default();
        let (lines, partial) = split_lines(&bytes);
        if partial.is_some() {
            return Err(AuditError::Unterminated {
                path: self.path.clone(),
            });
        }
        let last = lines
            .last()
            .map_or_else(|| genesis(&self.project), |l| sha256_hex(l));
        self.write_head(&Head {
            lines: lines.len() as u64,
            last,
            len: Some(bytes.len() as u64),
            pending: None,
        })?;
        self.append_as(
            Record::new("audit.accept", Outcome::Ok)
                .detail(format!("accepted after review: {problem}")),
            true,
        )?;
        Ok(problem)
    }
}

impl From<AuditError> for crate::error::Error {
    /// The audit trail fails closed: the action that needed the record did not happen.
    fn from(e: AuditError) -> Self {
        crate::error::Error::Failed(format!(
            "no audit record could be written, so nothing was done: {e}"
        ))
    }
}

#[cfg(test)]
mod tests;
