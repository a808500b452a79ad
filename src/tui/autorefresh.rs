//! The view reads the files again by itself when a target file changes on disk (an editor,
//! a deploy, another keywarden): the folders of the targets are watched with `notify`
//! (inotify, FSEvents, ReadDirectoryChangesW — no polling), changes are debounced, and the
//! re-read runs as the usual refresh job.
//!
//! A confirmation on screen is never refreshed under the user's eyes: a change seen while
//! it is open marks it stale, and confirming it then reads the files again and asks once
//! more with what they hold now (see `App::confirm`).

use crate::project::Project;
use crate::project::manifest::Target;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the files must stay quiet before they are read again: an editor's save (write
/// a temporary file, rename it, fix the mode) is one change, not three.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

pub struct AutoRefresh {
    /// Kept alive: dropping it stops the watching.
    _watcher: Option<notify::RecommendedWatcher>,
    changes: mpsc::Receiver<PathBuf>,
    /// The last change not yet read: when, and which file.
    pending: Option<(Instant, PathBuf)>,
    /// Why nothing is watched, when nothing is.
    pub problem: Option<String>,
}

impl AutoRefresh {
    /// Watches the folders of every file target of the project.
    pub fn watch(project: &Project) -> AutoRefresh {
        let (tx, changes) = mpsc::channel();
        let mut files: Vec<PathBuf> = Vec::new();
        for env in &project.manifest.environments {
            for t in env.targets.iter().chain(env.fallback.iter()) {
                let Target::File { path, .. } = t else {
                    continue;
                };
                let real = crate::fsio::resolve_inside(&project.root, path)
                    .unwrap_or_else(|_| project.root.join(path));
                if !files.contains(&real) {
                    files.push(real);
                }
            }
        }
        let mut folders: Vec<PathBuf> = files
            .iter()
            .filter_map(|f| f.parent().map(PathBuf::from))
            .collect();
        folders.sort();
        folders.dedup();
        let wanted = files.clone();
        let handler = move |res: notify::Result<notify::Event>| {
            use notify::EventKind;
            let Ok(event) = res else { return };
            // Reads (ours included: a refresh opens every file) are not changes.
            if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
                return;
            }
            for p in event.paths {
                if wanted.contains(&p) {
                    let _ = tx.send(p);
                }
            }
        };
        let mut problem = None;
        let watcher = match notify::recommended_watcher(handler) {
            Ok(mut w) => {
                use notify::Watcher;
                let mut watched = 0;
                for folder in &folders {
                    match w.watch(folder, notify::RecursiveMode::NonRecursive) {
                        Ok(()) => watched += 1,
                        // A folder that does not exist yet: its file is missing anyway.
                        Err(_) if !folder.exists() => {}
                        Err(e) => {
                            problem = Some(format!(
                                "cannot watch {} for changes ({e}); press r to read the files again",
                                folder.display()
                            ))
                        }
                    }
                }
                if watched == 0 && problem.is_none() && !folders.is_empty() {
                    problem = Some("no target folder exists to watch".into());
                }
                Some(w)
            }
            Err(e) => {
                problem = Some(format!(
                    "cannot watch the files for changes ({e}); press r to read them again"
                ));
                None
            }
        };
        AutoRefresh {
            _watcher: watcher,
            changes,
            pending: None,
            problem,
        }
    }

    /// Takes the changes reported since the last call; returns whether any came.
    pub fn collect(&mut self, now: Instant) -> bool {
        let mut any = false;
        while let Ok(path) = self.changes.try_recv() {
            self.pending = Some((now, path));
            any = true;
        }
        any
    }

    /// Whether a change waits to be read (the loop then ticks faster).
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The changed file, once the files have been quiet for [`DEBOUNCE`]; the change is
    /// then taken (the caller reads the files again).
    pub fn due(&mut self, now: Instant) -> Option<PathBuf> {
        match &self.pending {
            Some((at, _)) if now.saturating_duration_since(*at) >= DEBOUNCE => {
                self.pending.take().map(|(_, p)| p)
            }
            _ => None,
        }
    }

    /// Forgets what was seen (keywarden's own write, already read back by its job).
    pub fn forget(&mut self) {
        while self.changes.try_recv().is_ok() {}
        self.pending = None;
    }
}

impl super::App {
    /// Each tick: take the changes seen; read the files again once they are quiet —
    /// unless a confirmation is on screen (it is marked stale instead, and read again
    /// when confirmed) or a job runs (its own writes, read back when it ends).
    pub(crate) fn watch_tick(&mut self) {
        use super::popup::Popup;
        let now = self.now;
        let confirming = matches!(self.popup, Some(Popup::Confirm(_)));
        if !confirming {
            self.confirm_stale = false;
        }
        let came = self.autorefresh.collect(now);
        if self.jobs.running().is_some_and(|r| r.job.changes_files()) {
            self.autorefresh.forget();
            return;
        }
        if confirming {
            self.confirm_stale |= came;
            return;
        }
        if self.busy() {
            return;
        }
        if let Some(path) = self.autorefresh.due(now) {
            let shown = path
                .strip_prefix(&self.session.project.root)
                .unwrap_or(&path)
                .display()
                .to_string();
            self.refresh_note = Some(format!("{shown} changed on disk: read every file again"));
            self.start(super::jobs::Job::Refresh);
        }
    }

    /// Enter on a confirmation opened before the files changed: read them again and ask
    /// once more with what they hold now, rather than act on what was shown.
    pub(crate) fn ask_again(&mut self, stale: super::popup::Confirm) {
        use super::jobs::Job;
        use super::popup::Popup;
        self.confirm_stale = false;
        self.autorefresh.forget();
        match self.session.status() {
            Ok(status) => self.replace_status(status),
            Err(e) => {
                return self.error("Could not read the files again", super::words::error(&e));
            }
        }
        match stale.then {
            Job::SetKey { env } => self.ask_generate(&env),
            Job::Rotate { env } => self.ask_rotate(&env, None),
            Job::Revoke { env, reason } => self.ask_rotate(&env, Some(reason)),
            Job::Restore { env, backup } => self.ask_restore(&env, &backup),
            other => {
                // Nothing shown depends on the files: ask the same again.
                self.popup = Some(Popup::Confirm(super::popup::Confirm {
                    then: other,
                    ..stale
                }));
            }
        }
        if let Some(Popup::Confirm(c)) = &mut self.popup {
            c.body.insert(
                0,
                "The files changed on disk since this was shown: they were read again. Check what follows and confirm again.".into(),
            );
        }
    }
}
