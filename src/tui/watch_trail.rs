//! The alerts of a `keywarden watch` running as its own process (systemd, a terminal),
//! shown in the view's activity lines: every alert the watch raises is an audit event
//! (action `watch-alert`), so the view follows the project's audit trail
//! ([`crate::records::audit::follow`]: a `stat` per tick, the new lines only) and shows
//! the ones appended while it is open, plus those of the last day when it opens. An
//! alert's detail is the watch's own sentence — kind, severity, message, place — never a
//! key or a log line's text.
//!
//! Not started when the view runs its own watch ([`super::alerts`]): its alerts reach the
//! activity lines directly and would be shown twice.

use super::app::{Activity, App};
use crate::ops::watch::AUDIT_ACTION;
use crate::records::audit::Event;
use crate::records::audit::follow::Follow;
use jiff::{Timestamp, ToSpan};
use std::path::Path;

/// At most this many alerts of the last day are shown when the view opens.
const RECENT_SHOWN: usize = 5;

/// The end of the trail searched for the alerts of the last day when the view opens, so
/// a years-long trail does not slow the first frame.
const RECENT_READ: u64 = 1 << 20;

/// At most this many bytes are read from the trail per tick (the rest the next tick).
const READ_PER_TICK: u64 = 4 << 20;

pub(crate) struct TrailFeed(Follow);

impl TrailFeed {
    /// Follows the trail at `path` from its end; returns the alerts of the last day
    /// (oldest first, at most [`RECENT_SHOWN`]) as activity lines.
    pub(crate) fn start(path: &Path, now: Timestamp) -> (TrailFeed, Vec<String>) {
        let mut follow = Follow::from_tail(path, RECENT_READ);
        let since = now.checked_sub(24.hours()).unwrap_or(now);
        let mut recent: Vec<String> = follow
            .poll(u64::MAX)
            .into_iter()
            .filter(|e| e.action == AUDIT_ACTION && e.ts >= since)
            .map(|e| line(&e, true))
            .collect();
        let skip = recent.len().saturating_sub(RECENT_SHOWN);
        recent.drain(..skip);
        (TrailFeed(follow), recent)
    }

    /// The activity lines of the alerts appended since the last call.
    pub(crate) fn poll(&mut self) -> Vec<String> {
        self.0
            .poll(READ_PER_TICK)
            .iter()
            .filter(|e| e.action == AUDIT_ACTION)
            .map(|e| line(e, false))
            .collect()
    }
}

/// `alert (watch): production rotation_due high: … (target)`, with the time for the
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
