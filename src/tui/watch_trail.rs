//! The alerts of a `keywarden watch` running as its own process (systemd, a terminal),
//! shown in the view's activity lines: every alert the watch raises is an audit event
//! (action `watch-alert`), so the view follows the project's audit trail and shows the
//! ones appended while it is open, plus those of the last day when it opens.
//!
//! Following is a `stat` of the trail per tick and, when it grew, a read of the new
//! bytes only, under the trail's shared lock (appends hold it exclusively, so a line is
//! never seen half-written). Lines that are not events are ignored here (`keywarden audit
//! --verify` is where a damaged trail is reported). An alert's detail is the watch's own
//! sentence — kind, severity, message, place — never a key or a log line's text.
//!
//! Not started when the view runs its own watch ([`super::alerts`]): its alerts reach the
//! activity lines directly and would be shown twice.

use super::app::{Activity, App};
use crate::ops::watch::AUDIT_ACTION;
use crate::records::audit::Event;
use jiff::{Timestamp, ToSpan};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::SystemTime;

/// At most this many alerts of the last day are shown when the view opens.
const RECENT_SHOWN: usize = 5;

/// The end of the trail searched for the alerts of the last day when the view opens.
const RECENT_READ: u64 = 1 << 20;

/// At most this many bytes are read from the trail per tick (the rest the next tick).
const READ_PER_TICK: u64 = 4 << 20;

pub(crate) struct TrailFeed {
    path: PathBuf,
    /// Bytes of the trail read so far (always at a line's end).
    offset: u64,
    /// The trail's size and modification time when last looked at.
    seen: Option<(u64, Option<SystemTime>)>,
}

impl TrailFeed {
    /// Follows `path` from its current end; returns the alerts of the last day (oldest
    /// first, at most [`RECENT_SHOWN`]) as activity lines.
    pub(crate) fn start(path: PathBuf, now: Timestamp) -> (TrailFeed, Vec<String>) {
        let mut feed = TrailFeed {
            path,
            offset: 0,
            seen: None,
        };
        feed.offset = tail_start(&feed.path);
        let since = now.checked_sub(24.hours()).unwrap_or(now);
        let mut recent: Vec<String> = feed
            .read_new(u64::MAX)
            .into_iter()
            .filter(|e| e.ts >= since)
            .map(|e| line(&e, true))
            .collect();
        let skip = recent.len().saturating_sub(RECENT_SHOWN);
        recent.drain(..skip);
        (feed, recent)
    }

    /// The activity lines of the alerts appended since the last call.
    pub(crate) fn poll(&mut self) -> Vec<String> {
        let meta = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()));
        if meta == self.seen {
            return Vec::new();
        }
        self.read_new(READ_PER_TICK)
            .iter()
            .map(|e| line(e, false))
            .collect()
    }

    /// The watch alerts among the whole lines past `offset` (at most `limit` bytes read).
    fn read_new(&mut self, limit: u64) -> Vec<Event> {
        let Ok(mut file) = File::open(&self.path) else {
            self.seen = None;
            return Vec::new();
        };
        if file.lock_shared().is_err() {
            return Vec::new();
        }
        let Ok(meta) = file.metadata() else {
            return Vec::new();
        };
        if meta.len() < self.offset {
            // Shorter than what was read: rewritten or replaced. Follow it from its end.
            self.offset = meta.len();
        }
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_err()
            || (&mut file).take(limit).read_to_end(&mut bytes).is_err()
        {
            return Vec::new();
        }
        // Only whole lines; a last line without its newline is read again next time.
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.offset += whole as u64;
        if self.offset == meta.len() {
            self.seen = Some((meta.len(), meta.modified().ok()));
        }
        bytes[..whole]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice::<Event>(l).ok())
            .filter(|e| e.action == AUDIT_ACTION)
            .collect()
    }
}

/// Where the last [`RECENT_READ`] bytes of the trail begin, at a line's start: the alerts
/// of the last day are looked for there only, so a years-long trail does not slow the
/// first frame.
fn tail_start(path: &std::path::Path) -> u64 {
    let Ok(mut file) = File::open(path) else {
        return 0;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return 0;
    };
    if len <= RECENT_READ {
        return 0;
    }
    let from = len - RECENT_READ;
    let mut head = Vec::new();
    if file.seek(SeekFrom::Start(from)).is_err()
        || (&mut file).take(64 << 10).read_to_end(&mut head).is_err()
    {
        return len;
    }
    match head.iter().position(|&b| b == b'\n') {
        Some(i) => from + i as u64 + 1,
        None => len,
    }
}

/// `alert (watch): production high rotation_due: … (target)`, with the time for the
/// alerts shown at open.
fn line(e: &Event, with_time: bool) -> String {
    let env = e.environment.as_deref().unwrap_or("-");
    let detail = e.detail.as_deref().unwrap_or("");
    if with_time {
        let at = e.ts.strftime("%Y-%m-%d %H:%M UTC");
        format!("alert (watch, {at}): {env} {detail}")
    } else {
        format!("alert (watch): {env} {detail}")
    }
}

impl App {
    /// Moves the alerts a separate `keywarden watch` appended to the trail into the
    /// activity lines (each tick).
    pub(crate) fn drain_trail(&mut self) {
        let Some(feed) = &mut self.trail else { return };
        for line in feed.poll() {
            self.log(Activity::Failed, line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn event(ts: &str, action: &str, detail: &str) -> String {
        format!(
            r#"{{"ts":"{ts}","user":"u","host":"h","project":"p","environment":"production","action":"{action}","result":"ok","detail":"{detail}","prev":"{}"}}"#,
            "0".repeat(64)
        )
    }

    #[test]
    fn opens_on_the_trail_s_tail_and_follows_only_new_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut f = File::create(&path).unwrap();
        // 2 MiB of old events, then two recent ones (one not an alert).
        let old = event("2026-01-01T00:00:00Z", AUDIT_ACTION, "old alert");
        for _ in 0..(2 << 20) / old.len() {
            writeln!(f, "{old}").unwrap();
        }
        writeln!(f, "{}", event("2026-06-01T11:00:00Z", "rotate", "rotated")).unwrap();
        writeln!(
            f,
            "{}",
            event("2026-06-01T11:30:00Z", AUDIT_ACTION, "new alert")
        )
        .unwrap();
        f.flush().unwrap();
        let len = f.metadata().unwrap().len();
        let (mut feed, recent) =
            TrailFeed::start(path.clone(), "2026-06-01T12:00:00Z".parse().unwrap());
        assert_eq!(recent.len(), 1, "{recent:?}");
        assert!(recent[0].contains("production new alert"), "{recent:?}");
        assert!(recent[0].contains("2026-06-01 11:30 UTC"), "{recent:?}");
        assert_eq!(feed.offset, len);
        assert!(feed.poll().is_empty());

        // A line being written (no newline yet) is not read until it is whole.
        let line = event("2026-06-01T12:00:01Z", AUDIT_ACTION, "later alert");
        let (a, b) = line.split_at(40);
        write!(f, "{a}").unwrap();
        f.flush().unwrap();
        assert!(feed.poll().is_empty());
        writeln!(f, "{b}").unwrap();
        f.flush().unwrap();
        let got = feed.poll();
        assert_eq!(
            got,
            vec!["alert (watch): production later alert".to_string()]
        );

        // A rewritten, shorter trail is followed from its end, not replayed.
        drop(f);
        std::fs::write(
            &path,
            format!("{}\n", event("2026-06-01T12:00:02Z", AUDIT_ACTION, "x")),
        )
        .unwrap();
        assert!(feed.poll().is_empty());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(
            f,
            "{}",
            event("2026-06-01T12:00:03Z", AUDIT_ACTION, "after")
        )
        .unwrap();
        assert_eq!(
            feed.poll(),
            vec!["alert (watch): production after".to_string()]
        );
    }
}
