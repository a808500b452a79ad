//! Following the audit trail as other processes append to it (the interactive view shows
//! the alerts a separate `keywarden watch` writes there).
//!
//! A [`Follow`] starts near the trail's end ([`Follow::from_tail`]) and reads only what was
//! appended since, under the trail's shared lock (appends hold it exclusively, so a line is
//! never seen half-written); a last line without its newline is read again once it is
//! whole. A trail that became shorter than what was read (rewritten, replaced) is followed
//! from its new end, never replayed. Lines that are not events are skipped here: `keywarden
//! audit --verify` is where a damaged trail is reported.

use super::Event;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub struct Follow {
    path: PathBuf,
    /// Bytes of the trail read so far (always at a line's end).
    offset: u64,
    /// The trail's size and modification time when last read to its end.
    seen: Option<(u64, Option<SystemTime>)>,
}

impl Follow {
    /// Follows `path` from the start of the first whole line of its last `tail` bytes.
    pub fn from_tail(path: &Path, tail: u64) -> Follow {
        Follow {
            path: path.to_path_buf(),
            offset: tail_start(path, tail),
            seen: None,
        }
    }

    /// The events appended since the last call (at most `limit` bytes read; the rest the
    /// next call). Costs one `stat` when nothing changed.
    pub fn poll(&mut self, limit: u64) -> Vec<Event> {
        let meta = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()));
        if meta.is_some() && meta == self.seen {
            return Vec::new();
        }
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
            self.offset = meta.len();
        }
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_err()
            || (&mut file).take(limit).read_to_end(&mut bytes).is_err()
        {
            return Vec::new();
        }
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.offset += whole as u64;
        if self.offset == meta.len() {
            self.seen = Some((meta.len(), meta.modified().ok()));
        }
        bytes[..whole]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice::<Event>(l).ok())
            .collect()
    }
}

/// Where the last `tail` bytes of the file begin, at a line's start.
fn tail_start(path: &Path, tail: u64) -> u64 {
    let Ok(mut file) = File::open(path) else {
        return 0;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return 0;
    };
    if len <= tail {
        return 0;
    }
    let from = len - tail;
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

    fn details(events: Vec<Event>) -> Vec<String> {
        events.into_iter().filter_map(|e| e.detail).collect()
    }

    #[test]
    fn starts_on_the_tail_and_reads_only_new_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut f = File::create(&path).unwrap();
        // 2 MiB of old events, then a recent one.
        let old = event("2026-01-01T00:00:00Z", "rotate", "old");
        for _ in 0..(2 << 20) / old.len() {
            writeln!(f, "{old}").unwrap();
        }
        writeln!(f, "{}", event("2026-06-01T11:30:00Z", "watch-alert", "new")).unwrap();
        f.flush().unwrap();
        let len = f.metadata().unwrap().len();
        let mut follow = Follow::from_tail(&path, 1 << 10);
        assert!(
            follow.offset > len - (1 << 10),
            "{} of {len}",
            follow.offset
        );
        // Only the lines of the last KiB (a few old ones, then the new one).
        let got = details(follow.poll(u64::MAX));
        assert!(got.len() < 1024 / old.len() + 2, "{} lines read", got.len());
        assert_eq!(got.last().map(String::as_str), Some("new"));
        assert_eq!(follow.offset, len);
        assert!(follow.poll(u64::MAX).is_empty());

        // A line being written (no newline yet) is not read until it is whole.
        let line = event("2026-06-01T12:00:01Z", "watch-alert", "later");
        let (a, b) = line.split_at(40);
        write!(f, "{a}").unwrap();
        f.flush().unwrap();
        assert!(follow.poll(u64::MAX).is_empty());
        writeln!(f, "{b}").unwrap();
        f.flush().unwrap();
        assert_eq!(details(follow.poll(u64::MAX)), vec!["later".to_string()]);

        // A rewritten, shorter trail is followed from its end, not replayed.
        drop(f);
        let mut f = File::create(&path).unwrap();
        writeln!(f, "{}", event("2026-06-01T12:00:02Z", "watch-alert", "x")).unwrap();
        f.flush().unwrap();
        assert!(follow.poll(u64::MAX).is_empty());
        writeln!(
            f,
            "{}",
            event("2026-06-01T12:00:03Z", "watch-alert", "after")
        )
        .unwrap();
        f.flush().unwrap();
        assert_eq!(details(follow.poll(u64::MAX)), vec!["after".to_string()]);
    }
}
