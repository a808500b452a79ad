//! The system clipboard, for keys: copy, clear after a delay only if the clipboard still
//! holds our key, and keep the key out of clipboard managers' histories.
//!
//! Under X11 the process that copied serves the clipboard: when it exits, the text is
//! gone. So a [`HeldKey`] must live as long as the key should be pasteable: the TUI keeps
//! one in its state; `keywarden copy` hands the key to a detached child that calls
//! [`serve`]. Every copy is marked "exclude from history" (X11:
//! `x-kde-passwordManagerHint = secret`, and no hand-over to a clipboard manager on exit;
//! macOS and Windows have their own equivalents), so a manager never keeps the key.
//!
//! Any failure to reach a clipboard (no display, no X server) is a [`ClipboardError`] with
//! a sentence a user can act on; nothing here panics.

use crate::keys::secret::Secret;
use std::ffi::OsStr;
use std::time::{Duration, Instant};

/// Read when neither `--clear-after` nor a caller gives the delay.
pub const CLEAR_AFTER_ENV: &str = "KEYWARDEN_CLEAR_AFTER";
/// The guide-friendly default: long enough to paste, short enough to forget.
pub const DEFAULT_CLEAR_AFTER: Duration = Duration::from_secs(30);
/// A key left on the clipboard longer than this is no longer a "copy", it is a leak.
pub const MAX_CLEAR_AFTER_SECS: u64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    #[error(
        "no clipboard is available ({0}); keywarden needs an X11 display (DISPLAY) to copy. Over SSH, reveal the key instead, or run keywarden where the display is"
    )]
    Unavailable(String),
    #[error("the clipboard refused the key: {0}")]
    Refused(String),
    #[error(
        "bad clear delay `{value}` (from {source_name}): give a whole number of seconds from 1 to {MAX_CLEAR_AFTER_SECS}"
    )]
    BadDelay { value: String, source_name: String },
}

/// How a copy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleared {
    /// The clipboard still held our key; it is now empty.
    Cleared,
    /// Something else was copied since: left alone.
    Replaced,
}

/// The clear delay: the command-line value if given, else `$KEYWARDEN_CLEAR_AFTER`, else
/// [`DEFAULT_CLEAR_AFTER`].
pub fn clear_after(flag: Option<u64>, env: Option<&OsStr>) -> Result<Duration, ClipboardError> {
    let check = |secs: u64, value: String, source_name: &str| {
        if (1..=MAX_CLEAR_AFTER_SECS).contains(&secs) {
            Ok(Duration::from_secs(secs))
        } else {
            Err(ClipboardError::BadDelay {
                value,
                source_name: source_name.into(),
            })
        }
    };
    if let Some(secs) = flag {
        return check(secs, secs.to_string(), "--clear-after");
    }
    match env.filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_CLEAR_AFTER),
        Some(v) => {
            let text = v.to_string_lossy().into_owned();
            match text.trim().parse::<u64>() {
                Ok(secs) => check(secs, text, CLEAR_AFTER_ENV),
                Err(_) => Err(ClipboardError::BadDelay {
                    value: text,
                    source_name: CLEAR_AFTER_ENV.into(),
                }),
            }
        }
    }
}

/// A key on the clipboard, served by this process until cleared or dropped.
pub struct HeldKey {
    clipboard: arboard::Clipboard,
    key: Secret,
    clear_at: Instant,
}

impl std::fmt::Debug for HeldKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldKey")
            .field("key", &self.key)
            .field("clear_at", &self.clear_at)
            .finish()
    }
}

fn open() -> Result<arboard::Clipboard, ClipboardError> {
    arboard::Clipboard::new().map_err(|e| ClipboardError::Unavailable(e.to_string()))
}

/// Sets the clipboard to `key` (never returned by history), with no waiting.
fn set(clipboard: &mut arboard::Clipboard, key: &Secret) -> Result<(), ClipboardError> {
    set_with(clipboard, key, None)
}

/// Sets the clipboard; with `serve_until`, blocks serving it (X11) until then or until
/// something else is copied.
fn set_with(
    clipboard: &mut arboard::Clipboard,
    key: &Secret,
    serve_until: Option<Instant>,
) -> Result<(), ClipboardError> {
    let request = clipboard.set();
    #[cfg(all(unix, not(target_os = "macos")))]
    let request = {
        use arboard::SetExtLinux;
        let r = request.exclude_from_history();
        match serve_until {
            Some(deadline) => r.wait_until(deadline),
            None => r,
        }
    };
    #[cfg(target_os = "macos")]
    let request = {
        use arboard::SetExtApple;
        request.exclude_from_history()
    };
    #[cfg(windows)]
    let request = {
        use arboard::SetExtWindows;
        request.exclude_from_history()
    };
    let result = request
        .text(key.expose_secret())
        .map_err(|e| ClipboardError::Refused(e.to_string()));
    // Where the clipboard outlives its owner (macOS, Windows), serving is just waiting.
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    if let (Ok(()), Some(deadline)) = (&result, serve_until) {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
    result
}

/// Whether a clipboard can be opened here (a display, a running session), asked before a
/// key is handed out, so that the usual failure — no clipboard at all, as over SSH —
/// is recorded once, as failed, with no key involved.
pub fn available() -> Result<(), ClipboardError> {
    open().map(drop)
}

/// Copies `key`; the caller keeps the returned [`HeldKey`] alive (it serves the clipboard)
/// and calls [`HeldKey::clear_if_ours`] at [`HeldKey::clear_at`].
pub fn copy(key: &Secret, clear_after: Duration) -> Result<HeldKey, ClipboardError> {
    let mut clipboard = open()?;
    set(&mut clipboard, key)?;
    Ok(HeldKey {
        clipboard,
        key: key.duplicate(),
        clear_at: Instant::now() + clear_after,
    })
}

/// Copies text that is no secret (a fingerprint, a fix command) through the same path as
/// a key: excluded from clipboard history, served by this process, cleared after
/// `clear_after` if it is still there.
pub fn copy_text(text: &str, clear_after: Duration) -> Result<HeldKey, ClipboardError> {
    copy(&Secret::new(text.to_string()), clear_after)
}

impl HeldKey {
    pub fn clear_at(&self) -> Instant {
        self.clear_at
    }

    /// Whole seconds left before the clear, rounded up.
    pub fn seconds_left(&self, now: Instant) -> u64 {
        let left = self.clear_at.saturating_duration_since(now);
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }

    /// Empties the clipboard if it still holds our key; leaves anything newer alone.
    pub fn clear_if_ours(mut self) -> Result<Cleared, ClipboardError> {
        clear_if_holding(&mut self.clipboard, &self.key)
    }
}

fn clear_if_holding(
    clipboard: &mut arboard::Clipboard,
    key: &Secret,
) -> Result<Cleared, ClipboardError> {
    // The owner reads its own text back; anything else (another program's copy, an empty
    // clipboard) means the key is no longer there.
    let ours = clipboard
        .get_text()
        .is_ok_and(|text| zeroize::Zeroizing::new(text).as_str() == key.expose_secret());
    if !ours {
        return Ok(Cleared::Replaced);
    }
    clipboard
        .clear()
        .map_err(|e| ClipboardError::Refused(e.to_string()))?;
    Ok(Cleared::Cleared)
}

/// For a process that exists only to serve the copy (`keywarden copy`'s detached child):
/// copies `key`, calls `ready` once the clipboard holds it, serves it until `clear_after`
/// has passed or something else is copied, then clears it if it is still ours.
pub fn serve(
    key: &Secret,
    clear_after: Duration,
    ready: impl FnOnce(),
) -> Result<Cleared, ClipboardError> {
    let deadline = Instant::now() + clear_after;
    let mut clipboard = open()?;
    set(&mut clipboard, key)?;
    ready();
    // Setting the same text again is what lets arboard block until the deadline while its
    // thread answers paste requests.
    set_with(&mut clipboard, key, Some(deadline))?;
    clear_if_holding(&mut clipboard, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_comes_from_flag_then_env_then_default() {
        assert_eq!(clear_after(None, None).unwrap(), DEFAULT_CLEAR_AFTER);
        assert_eq!(
            clear_after(None, Some(OsStr::new(""))).unwrap(),
            DEFAULT_CLEAR_AFTER
        );
        assert_eq!(
            clear_after(None, Some(OsStr::new("12"))).unwrap(),
            Duration::from_secs(12)
        );
        assert_eq!(
            clear_after(Some(5), Some(OsStr::new("12"))).unwrap(),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn bad_delays_name_their_source() {
        let e = clear_after(Some(0), None).unwrap_err().to_string();
        assert!(
            e.contains("--clear-after") && e.contains("1 to 3600"),
            "{e}"
        );
        let e = clear_after(None, Some(OsStr::new("soon")))
            .unwrap_err()
            .to_string();
        assert!(e.contains(CLEAR_AFTER_ENV) && e.contains("`soon`"), "{e}");
        assert!(clear_after(Some(MAX_CLEAR_AFTER_SECS + 1), None).is_err());
    }
}
