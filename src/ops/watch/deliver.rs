//! Sending alerts on: the environment's `notify` command (the alert's text on stdin,
//! `sh -c` in the project root, as the incident playbook runs it) and `[watch] webhook`
//! (the alert's JSON POSTed). Each destination has its own bounded queue and thread, so a
//! slow or hung receiver holds up neither the watch nor the other destinations; a notify
//! command is given [`TIMEOUT`] per try (then its process group is killed); a failing one is
//! retried with backoff ([`BACKOFF`]; one try an alert while it keeps failing: [`TRIES`]) and, when every
//! try failed, reported as a `notifier_failed` alert — never dropped silently. When the
//! watch stops, [`Delivery::finish`] gives the queues [`DRAIN`] to empty, then kills the
//! notify commands still running: none outlives the watch.

use super::alert::{Alert, AlertKind};
use crate::finding::Severity;
use crate::keys::secret::Secret;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// How many alerts may wait for one destination; past it an alert is not queued for that
/// destination and a `notifier_failed` alert says so (it is still on stdout and in the
/// audit trail).
pub const QUEUE: usize = 64;

/// How long [`Delivery::finish`] waits, at most, for the queues to empty when the watch
/// stops.
pub const DRAIN: Duration = Duration::from_secs(10);

type Failed = Arc<dyn Fn(Alert) + Send + Sync>;

/// One queue and one thread per destination (each notify command, the webhook): a
/// destination that hangs holds up only its own alerts.
pub struct Delivery {
    root: PathBuf,
    redact: Arc<Vec<(Secret, String)>>,
    failed: Failed,
    queues: Vec<(String, SyncSender<Alert>, JoinHandle<()>)>,
    /// Set by [`Delivery::finish`] at its deadline: running commands are killed, nothing
    /// more is tried.
    abort: Arc<AtomicBool>,
}

impl Delivery {
    /// Prepares delivery (threads start with each destination's first alert). `failed`
    /// gets a `notifier_failed` alert for every destination that refused an alert after
    /// all its tries; `redact` are the keys that must not appear in a notify command's
    /// kept output.
    pub fn start(
        root: PathBuf,
        redact: Vec<(Secret, String)>,
        failed: impl Fn(Alert) + Send + Sync + 'static,
    ) -> Delivery {
        Delivery {
            root,
            redact: Arc::new(redact),
            failed: Arc::new(failed),
            queues: Vec::new(),
            abort: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn send(&mut self, job: Job) {
        if let Some(cmd) = &job.notify {
            let id = format!("notify\0{}\0{cmd}", job.alert.environment);
            let (root, redact, cmd2) = (self.root.clone(), Arc::clone(&self.redact), cmd.clone());
            let failed = Arc::clone(&self.failed);
            let what = format!("the notify command `{cmd}`");
            let abort = Arc::clone(&self.abort);
            let mut failing = false;
            self.queue(id, &what, job.alert.clone(), move |alert: Alert| {
                let text = alert.text();
                let tries = if failing { 1 } else { TRIES };
                let r = with_retries(&abort, tries, || {
                    let run = crate::ops::command::run_with_input(
                        &cmd2,
                        &root,
                        TIMEOUT,
                        &redact,
                        Some(text.as_bytes()),
                        Some(&abort),
                    );
                    if run.succeeded() {
                        Ok(())
                    } else {
                        Err(run.summary())
                    }
                });
                failing = r.is_err();
                if let Err(why) = r
                    && !abort.load(Ordering::Relaxed)
                {
                    failed(failure(
                        &alert,
                        &format!("the notify command `{cmd2}`"),
                        tries,
                        &why,
                        "check the environment's `notify` command in keywarden.toml (it gets the alert on stdin and must exit 0)",
                    ));
                }
            });
        }
        if let Some(url) = &job.webhook {
            let id = format!("webhook\0{url}");
            let failed = Arc::clone(&self.failed);
            let url2 = url.clone();
            let what = format!("the webhook {}", super::http::shown(url));
            let abort = Arc::clone(&self.abort);
            let mut failing = false;
            self.queue(id, &what, job.alert, move |alert: Alert| {
                let body = alert.json();
                let tries = if failing { 1 } else { TRIES };
                let r = with_retries(&abort, tries, || {
                    super::http::post_json(&url2, &body, TIMEOUT)
                });
                failing = r.is_err();
                if let Err(why) = r
                    && !abort.load(Ordering::Relaxed)
                {
                    failed(failure(
                        &alert,
                        &format!("the webhook {}", super::http::shown(&url2)),
                        tries,
                        &why,
                        "check `[watch] webhook` in keywarden.toml and that the receiver answers 2xx to a JSON POST",
                    ));
                }
            });
        }
    }

    fn queue(
        &mut self,
        id: String,
        what: &str,
        alert: Alert,
        mut deliver: impl FnMut(Alert) + Send + 'static,
    ) {
        let tx = match self.queues.iter().find(|q| q.0 == id) {
            Some(q) => q.1.clone(),
            None => {
                let (tx, rx) = sync_channel::<Alert>(QUEUE);
                let abort = Arc::clone(&self.abort);
                let thread = std::thread::spawn(move || {
                    for alert in rx {
                        if abort.load(Ordering::Relaxed) {
                            break;
                        }
                        deliver(alert);
                    }
                });
                self.queues.push((id, tx.clone(), thread));
                tx
            }
        };
        if let Err(TrySendError::Full(alert) | TrySendError::Disconnected(alert)) =
            tx.try_send(alert)
        {
            (self.failed)(failure(
                &alert,
                what,
                0,
                &format!("{QUEUE} alerts were already waiting for it"),
                "the destination is not keeping up: check that it answers promptly",
            ));
        }
    }

    /// Waits for every queued alert to be delivered (or given up), at most `within`;
    /// returns the destinations still busy then (their alerts are on stdout and in the
    /// audit trail, not delivered). Their notify commands are killed, with their process
    /// groups, before it returns.
    pub fn finish(self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        let threads: Vec<JoinHandle<()>> = self
            .queues
            .into_iter()
            .map(|(_, tx, t)| {
                drop(tx);
                t
            })
            .collect();
        while Instant::now() < deadline && threads.iter().any(|t| !t.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let busy = threads.iter().filter(|t| !t.is_finished()).count();
        if busy > 0 {
            // Each busy thread sees this within its 20 ms poll and kills its command's
            // group; a webhook request in flight dies with the process.
            self.abort.store(true, Ordering::Relaxed);
            let grace = Instant::now() + Duration::from_secs(1);
            while Instant::now() < grace && threads.iter().any(|t| !t.is_finished()) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for t in threads {
            if t.is_finished() {
                let _ = t.join();
            }
        }
        busy
    }
}

/// Tries per alert while a destination works; once every try of an alert failed, the
/// next alerts get one try each until one gets through (a destination that is down costs
/// one timeout per alert, not four, and its backlog does not grow by hours).
pub const TRIES: usize = BACKOFF.len() + 1;

fn with_retries(
    abort: &AtomicBool,
    tries: usize,
    mut f: impl FnMut() -> Result<(), String>,
) -> Result<(), String> {
    let mut last = String::new();
    for wait in std::iter::once(Duration::ZERO).chain(BACKOFF).take(tries) {
        std::thread::sleep(wait);
        if abort.load(Ordering::Relaxed) {
            return Err("the watch stopped".to_string());
        }
        match f() {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The `notifier_failed` alert for `alert`, after `tries` tries (0: never tried).
fn failure(alert: &Alert, what: &str, tries: usize, why: &str, fix: &str) -> Alert {
    let tried = match tries {
        0 => "was not tried".to_string(),
        1 => "failed (1 try: it failed every try of the alert before)".to_string(),
        n => format!("failed {n} times"),
    };
    Alert {
        kind: AlertKind::NotifierFailed,
        severity: Severity::High,
        environment: alert.environment.clone(),
        message: format!(
            "{what} {tried} for a {} alert ({why}); the alert is shown here and kept in the audit trail",
            alert.kind.as_str()
        ),
        file: alert.file.clone(),
        line: alert.line,
        target: alert.target.clone(),
        fix: fix.to_string(),
        ts: jiff::Timestamp::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn alert(message: &str) -> Alert {
        Alert::new(
            AlertKind::RotationDue,
            Severity::Medium,
            "staging",
            message.to_string(),
            "rotate it",
            jiff::Timestamp::now(),
        )
    }

    /// Waits until `failed` holds `n` alerts (or 20 s).
    fn wait_for(failed: &Mutex<Vec<Alert>>, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while failed.lock().unwrap().len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        failed
            .lock()
            .unwrap()
            .iter()
            .map(|a| a.message.clone())
            .collect()
    }

    #[test]
    fn a_destination_that_failed_every_try_gets_one_try_an_alert_until_it_works_again() {
        let dir = tempfile::tempdir().unwrap();
        let failed = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&failed);
        let mut d = Delivery::start(dir.path().to_path_buf(), Vec::new(), move |a| {
            keep.lock().unwrap().push(a)
        });
        // Fails while `ok` is absent; counts its runs.
        let job = |m: &str| Job {
            alert: alert(m),
            notify: Some("echo run >> runs; test -e ok".to_string()),
            webhook: None,
        };
        let runs = || {
            std::fs::read_to_string(dir.path().join("runs"))
                .unwrap_or_default()
                .lines()
                .count()
        };
        d.send(job("one"));
        d.send(job("two"));
        let got = wait_for(&failed, 2);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("failed 4 times"), "{}", got[0]);
        assert!(got[1].contains("failed (1 try"), "{}", got[1]);
        assert_eq!(runs(), 5);
        // It works again: delivered, and the next failure is tried in full again.
        std::fs::write(dir.path().join("ok"), "").unwrap();
        d.send(job("three"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while runs() < 6 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        std::fs::remove_file(dir.path().join("ok")).unwrap();
        d.send(job("four"));
        let got = wait_for(&failed, 3);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[2].contains("failed 4 times"), "{}", got[2]);
        assert_eq!(runs(), 10);
        assert_eq!(d.finish(Duration::from_secs(5)), 0);
    }
}
