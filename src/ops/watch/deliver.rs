//! Sending alerts on: the environment's `notify` command (the alert's text on stdin,
//! `sh -c` in the project root, as the incident playbook runs it) and `[watch] webhook`
//! (the alert's JSON POSTed). Delivery runs on its own thread so a slow receiver never
//! holds up the watch; a failing one is retried with backoff ([`BACKOFF`]) and, when every
//! try failed, reported as a `notifier_failed` alert — never dropped silently.

use super::alert::{Alert, AlertKind};
use crate::finding::Severity;
use crate::keys::secret::Secret;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// The waits before the 2nd, 3rd and 4th tries.
pub const BACKOFF: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// How long one notify command or webhook request may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Where one alert goes.
pub struct Job {
    pub alert: Alert,
    /// The environment's `notify` command.
    pub notify: Option<String>,
    pub webhook: Option<String>,
}

pub struct Delivery {
    tx: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Delivery {
    /// Starts the delivery thread. `failed` gets a `notifier_failed` alert for every
    /// destination that refused an alert after all its tries; `redact` are the keys that
    /// must not appear in a notify command's kept output.
    pub fn start(
        root: PathBuf,
        redact: Vec<(Secret, String)>,
        failed: impl Fn(Alert) + Send + 'static,
    ) -> Delivery {
        let (tx, rx): (Sender<Job>, Receiver<Job>) = channel();
        let thread = std::thread::spawn(move || {
            for job in rx {
                if let Some(cmd) = &job.notify {
                    let text = job.alert.text();
                    let r = with_retries(|| {
                        let run = crate::ops::command::run_with_input(
                            cmd,
                            &root,
                            TIMEOUT,
                            &redact,
                            Some(text.as_bytes()),
                        );
                        if run.succeeded() {
                            Ok(())
                        } else {
                            Err(run.summary())
                        }
                    });
                    if let Err(why) = r {
                        failed(failure(
                            &job.alert,
                            &format!("the notify command `{cmd}`"),
                            &why,
                            "check the environment's `notify` command in keywarden.toml (it gets the alert on stdin and must exit 0)",
                        ));
                    }
                }
                if let Some(url) = &job.webhook {
                    let body = job.alert.json();
                    let r = with_retries(|| super::http::post_json(url, &body, TIMEOUT));
                    if let Err(why) = r {
                        failed(failure(
                            &job.alert,
                            &format!("the webhook {}", super::http::shown(url)),
                            &why,
                            "check `[watch] webhook` in keywarden.toml and that the receiver answers 2xx to a JSON POST",
                        ));
                    }
                }
            }
        });
        Delivery {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn send(&self, job: Job) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(job);
        }
    }

    /// Waits for every queued alert to be delivered (or given up).
    pub fn finish(mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn with_retries(mut f: impl FnMut() -> Result<(), String>) -> Result<(), String> {
    let mut last = String::new();
    for wait in std::iter::once(Duration::ZERO).chain(BACKOFF) {
        std::thread::sleep(wait);
        match f() {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn failure(alert: &Alert, what: &str, why: &str, fix: &str) -> Alert {
    Alert {
        kind: AlertKind::NotifierFailed,
        severity: Severity::High,
        environment: alert.environment.clone(),
        message: format!(
            "{what} failed {} times for a {} alert ({why}); the alert is shown here and kept in the audit trail",
            BACKOFF.len() + 1,
            alert.kind.as_str()
        ),
        file: alert.file.clone(),
        line: alert.line,
        target: alert.target.clone(),
        fix: fix.to_string(),
        ts: jiff::Timestamp::now(),
    }
}
