//! Waiting for something to happen: inotify on the folders of the logs and targets (and
//! the test clock), else a fallback interval. The watch sleeps in `poll(2)` between
//! events, never spinning.
//!
//! Folders are watched rather than files, so a file replaced by a rename (a log rotated,
//! a target rewritten atomically) stays watched. Opens and reads of a target
//! (`IN_OPEN`, `IN_ACCESS`) are told apart by name.

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What woke the watch.
#[derive(Debug, Default)]
pub struct Woken {
    /// Files of watched folders opened or read: (folder, name).
    pub opened: HashSet<(PathBuf, OsString)>,
    /// Whether a file changed or appeared, or the interval passed (opens alone: see
    /// `opened`).
    pub any: bool,
}

pub struct Wake {
    fd: Option<OwnedFd>,
    /// Watch descriptor -> folder.
    dirs: HashMap<i32, PathBuf>,
    watched: HashSet<PathBuf>,
    buf: Vec<MaybeUninit<u8>>,
    /// Why inotify is not used, if it is not.
    pub unavailable: Option<String>,
}

const MASK: WatchFlags = WatchFlags::MODIFY
    .union(WatchFlags::CREATE)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::DELETE)
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::CLOSE_WRITE)
    .union(WatchFlags::OPEN)
    .union(WatchFlags::ACCESS)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF);

impl Wake {
    /// inotify, unless `force_interval` or the system refuses it.
    pub fn new(force_interval: bool) -> Wake {
        let (fd, unavailable) = if force_interval {
            (None, Some("--poll was given".to_string()))
        } else {
            match inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK) {
                Ok(fd) => (Some(fd), None),
                Err(e) => (None, Some(format!("inotify is not available: {e}"))),
            }
        };
        Wake {
            fd,
            dirs: HashMap::new(),
            watched: HashSet::new(),
            buf: vec![MaybeUninit::uninit(); 64 * 1024],
            unavailable,
        }
    }

    #[allow(dead_code)]
    pub fn uses_inotify(&self) -> bool {
        self.fd.is_some()
    }

    /// Watches `dir` (once); a folder that does not exist yet is tried again later.
    pub fn watch_dir(&mut self, dir: &Path) {
        let Some(fd) = &self.fd else { return };
        if self.watched.contains(dir) {
            return;
        }
        if let Ok(wd) = inotify::add_watch(fd, dir, MASK) {
            self.dirs.insert(wd, dir.to_path_buf());
            self.watched.insert(dir.to_path_buf());
        }
    }

    /// Waits until an event or `timeout`; returns what happened.
    pub fn wait(&mut self, timeout: Duration) -> Woken {
        let mut woken = Woken::default();
        let Some(fd) = &self.fd else {
            std::thread::sleep(timeout);
            woken.any = true;
            return woken;
        };
        let ts = Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        match poll(&mut fds, Some(&ts)) {
            Ok(0) => {
                woken.any = true;
                return woken;
            }
            Ok(_) => {}
            Err(_) => {
                woken.any = true;
                return woken;
            }
        }
        self.drain(&mut woken);
        woken
    }

    /// Reads every queued event without waiting.
    pub fn drain(&mut self, woken: &mut Woken) {
        let Some(fd) = &self.fd else { return };
        let mut reader = inotify::Reader::new(fd, &mut self.buf);
        let mut gone = Vec::new();
        while let Ok(ev) = reader.next() {
            let flags = ev.events();
            // Opens and reads wake the watch only for a target (the caller decides from
            // `opened`): the watch's own reads of logs and listings of folders must not
            // wake it again.
            if flags.intersects(
                ReadFlags::MODIFY
                    | ReadFlags::CREATE
                    | ReadFlags::MOVED_TO
                    | ReadFlags::MOVED_FROM
                    | ReadFlags::DELETE
                    | ReadFlags::DELETE_SELF
                    | ReadFlags::MOVE_SELF
                    | ReadFlags::ATTRIB
                    | ReadFlags::CLOSE_WRITE
                    | ReadFlags::QUEUE_OVERFLOW
                    | ReadFlags::IGNORED,
            ) {
                woken.any = true;
            }
            if flags.contains(ReadFlags::IGNORED) {
                gone.push(ev.wd());
                continue;
            }
            if flags.intersects(ReadFlags::OPEN | ReadFlags::ACCESS)
                && !flags.contains(ReadFlags::ISDIR)
                && let (Some(dir), Some(name)) = (self.dirs.get(&ev.wd()), ev.file_name())
            {
                woken.opened.insert((
                    dir.clone(),
                    OsString::from(std::ffi::OsStr::from_bytes(name.to_bytes())),
                ));
            }
        }
        for wd in gone {
            if let Some(dir) = self.dirs.remove(&wd) {
                self.watched.remove(&dir);
            }
        }
    }

    /// Drops the events queued so far (this process's own reads of the targets).
    pub fn discard(&mut self) -> Woken {
        let mut w = Woken::default();
        self.drain(&mut w);
        w
    }
}
