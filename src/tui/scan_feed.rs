//! `keywarden scan` run in the background of the interactive view: the project's files
//! searched for the keys keywarden knows and for hard-coded key literals, as `scan` does.
//! While it runs, the activity pane shows its progress; when it ends, its result is an
//! activity entry and its findings are a section of the pager (`o`). It never asks for the
//! backups' passphrase (retired keys are searched when the backups open without asking).

use super::app::{Activity, App};
use crate::finding::Finding;
use crate::keys::fingerprint::Pepper;
use crate::project::Project;
use crate::scanning::scan::{self, Files, History, Unread};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

/// What the background scan ends with: its findings and the files it could not read, or
/// why it failed.
type ScanResult = Result<(Vec<Finding>, Vec<Unread>), String>;

/// The background scan: its progress while it runs, then its findings.
pub(crate) struct ScanFeed {
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    rx: Receiver<ScanResult>,
    /// The findings, once the scan has ended; `None` while it runs.
    pub(crate) findings: Option<Vec<Finding>>,
}

impl ScanFeed {
    /// What the activity pane shows while the scan runs.
    pub(crate) fn progress(&self) -> Option<String> {
        if self.findings.is_some() {
            return None;
        }
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let mb = self.bytes.load(Ordering::Relaxed) as f64 / 1e6;
        Some(if total > 0 {
            format!(
                "scanning the project's files for keys out of place: {done} of {total} files, {mb:.1} MB"
            )
        } else {
            "scanning the project's files for keys out of place".to_string()
        })
    }
}

/// One line for a finding (an environment's or the scan's): severity, code, place, message
/// and fix.
pub(crate) fn finding_line(f: &Finding) -> String {
    let place = f.target.as_deref().map_or(String::new(), |t| match f.line {
        Some(l) => format!("{t}:{l}: "),
        None => format!("{t}: "),
    });
    let fix = f
        .fix
        .as_deref()
        .map_or(String::new(), |x| format!(" — fix: {x}"));
    format!(
        "{} {} {place}{}{fix}",
        f.severity.as_str(),
        f.code.as_str(),
        f.message
    )
}

impl App {
    /// Starts the background scan of the project's files (the terminal run does, when the
    /// view opens).
    pub fn start_scan(&mut self) {
        let p = &self.session.project;
        let project = match Project::open(Some(&p.root), p.home.clone(), p.context.clone()) {
            Ok(project) => project,
            Err(e) => {
                self.log(Activity::Failed, format!("scan: cannot start: {e}"));
                return;
            }
        };
        let (tx, rx) = channel();
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let (d, t, b) = (Arc::clone(&done), Arc::clone(&total), Arc::clone(&bytes));
        let tx = Mutex::new(tx);
        std::thread::spawn(move || {
            let result = Pepper::load_or_create(&project.home)
                .and_then(|pepper| {
                    scan::scan_with_progress(
                        &project,
                        &pepper,
                        Files::Tree,
                        History::No,
                        &|pr: scan::Progress| {
                            d.store(pr.done, Ordering::Relaxed);
                            t.store(pr.total.unwrap_or(0), Ordering::Relaxed);
                            b.store(pr.bytes, Ordering::Relaxed);
                        },
                    )
                })
                .map(|report| (report.findings, report.unread))
                .map_err(|e| e.to_string());
            let _ = tx.lock().map(|tx| tx.send(result));
        });
        self.scan = Some(ScanFeed {
            done,
            total,
            bytes,
            rx,
            findings: None,
        });
    }

    /// Takes the background scan's result when it has ended (each tick).
    pub(crate) fn drain_scan(&mut self) {
        let Some(feed) = &mut self.scan else { return };
        if feed.findings.is_some() {
            return;
        }
        let Ok(result) = feed.rx.try_recv() else {
            return;
        };
        let files = feed.total.load(Ordering::Relaxed);
        match result {
            Ok((findings, unread)) => {
                feed.findings = Some(findings.clone());
                if !unread.is_empty() {
                    // Never "no key out of place" over files nobody read.
                    self.log(
                        Activity::Failed,
                        format!(
                            "scan: {} file(s) or folder(s) could not be read, so they were not searched:",
                            unread.len()
                        ),
                    );
                    for u in unread.iter().take(10) {
                        self.log(
                            Activity::Detail,
                            format!("{}: {}", u.path.escape_debug(), u.error),
                        );
                    }
                    if unread.len() > 10 {
                        self.log(
                            Activity::Detail,
                            format!(
                                "and {} more (`keywarden scan --json` lists them all)",
                                unread.len() - 10
                            ),
                        );
                    }
                }
                if findings.is_empty() && !unread.is_empty() {
                    self.log(
                        Activity::Failed,
                        format!(
                            "scan: no key out of place in what could be read of the project's {files} files"
                        ),
                    );
                } else if findings.is_empty() {
                    self.log(
                        Activity::Done,
                        format!("scan: no key out of place in the project's {files} files"),
                    );
                } else {
                    self.log(
                        Activity::Failed,
                        format!(
                            "scan: {} finding(s) in the project's files (o shows them whole; `keywarden scan` in a shell):",
                            findings.len()
                        ),
                    );
                    for f in &findings {
                        self.log(Activity::Detail, finding_line(f));
                    }
                }
            }
            Err(e) => {
                feed.findings = Some(Vec::new());
                self.log(Activity::Failed, format!("scan: failed: {e}"));
            }
        }
    }
}
