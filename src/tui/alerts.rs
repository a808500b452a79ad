//! The alerts of a `keywarden watch` the interactive view runs in the background, shown
//! in its activity lines (`alert: …`). Opt-in: `KEYWARDEN_TUI_WATCH=1` in the
//! environment starts one when the view opens (a systemd `keywarden watch` usually runs
//! already, and two would deliver every alert twice). It is the same watch as the
//! command's — audit trail, notify commands and webhook included — except that it does not
//! raise `target_opened`: the view reads the targets itself to draw them.

use super::app::{Activity, App};
use super::session::Session;
use crate::keys::fingerprint::Pepper;
use crate::ops::watch::{Alert, Face, Options, Watch, metrics};
use crate::project::Project;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The variable that starts a background watch with the view.
pub const ENV: &str = "KEYWARDEN_TUI_WATCH";

pub(crate) struct AlertFeed {
    rx: Receiver<String>,
    stop: Arc<AtomicBool>,
}

struct ToView(Mutex<Sender<String>>);

impl Face for ToView {
    fn alert(&self, a: &Alert) {
        let line = format!(
            "alert: {} {} [{}] {} ({})",
            a.severity,
            a.environment,
            a.kind.as_str(),
            a.message,
            a.place()
        );
        let _ = self.0.lock().map(|tx| tx.send(line));
    }

    fn note(&self, note: &str) {
        let _ = self.0.lock().map(|tx| tx.send(format!("watch: {note}")));
    }
}

impl AlertFeed {
    /// Starts the background watch when [`ENV`] is `1`; `None` otherwise or when it
    /// cannot start (said in the activity lines by the caller's next drain).
    pub(crate) fn start(session: &Session) -> Option<AlertFeed> {
        let p = &session.project;
        if p.context.env.var(ENV).as_deref() != Some("1") {
            return None;
        }
        let (tx, rx) = channel();
        let project = match Project::open(Some(&p.root), p.home.clone(), p.context.clone()) {
            Ok(project) => project,
            Err(e) => {
                let _ = tx.send(format!("watch: cannot start: {e}"));
                return Some(AlertFeed {
                    rx,
                    stop: Arc::new(AtomicBool::new(true)),
                });
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let face = Arc::new(ToView(Mutex::new(tx.clone())));
        std::thread::spawn(move || {
            let pepper = match Pepper::load_or_create(&project.home) {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(format!("watch: cannot start: {e}"));
                    return;
                }
            };
            let options = Options {
                environments: Vec::new(),
                once: false,
                interval: Duration::from_secs(5),
                interval_only: false,
                textfile: None,
                report_opens: false,
            };
            let shared: metrics::Shared = Arc::new(Mutex::new(metrics::Metrics::default()));
            let result =
                Watch::new(project, pepper, options, face, shared).and_then(|w| w.run(&flag));
            if let Err(e) = result {
                let _ = tx.send(format!("watch: stopped: {e}"));
            }
        });
        Some(AlertFeed { rx, stop })
    }
}

impl Drop for AlertFeed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl App {
    /// Moves the background watch's new alerts into the activity lines (each tick).
    pub(crate) fn drain_alerts(&mut self) {
        let Some(feed) = &self.alerts else { return };
        let lines: Vec<String> = feed.rx.try_iter().collect();
        for line in lines {
            self.log(Activity::Failed, line);
        }
    }
}
