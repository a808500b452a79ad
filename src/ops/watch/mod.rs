//! `keywarden watch`: the guide's continuous monitoring. Follows each environment's
//! `logs` globs as they grow and rotate, watches its targets, and raises [`Alert`]s:
//!
//! - `signature_errors`: the log audit's signature-error patterns reached
//!   `[watch] signature_errors = { count, window_secs }` in one environment's logs (a
//!   sliding window; after an alert the count starts again);
//! - `key_exposed`: a key keywarden knows (current, retired, revoked) in a log line, in
//!   any encoding the log audit searches; or a revoked key found in a target;
//! - `rotation_due`: the environment's rotation is due or overdue (once when it becomes
//!   so, then at most once a day);
//! - `target_changed`: a target's content, mode or owner changed, or it disappeared,
//!   without a keywarden action recorded for its environment in the audit trail;
//! - `target_opened`: a target was opened or read (inotify `IN_OPEN`/`IN_ACCESS`) by a
//!   process other than this watch, and no keywarden action of its environment was
//!   recorded then (inotify does not say which process: that needs fanotify or auditd);
//! - `notifier_failed`: a notify command or the webhook refused an alert after retries.
//!
//! Each alert goes to the face (stdout), to the audit trail (action `watch-alert`), to
//! the environment's `notify` command and to `[watch] webhook` ([`deliver`]). The same
//! kind for the same environment and file or target is not repeated within
//! `[watch] quiet_secs`.
//!
//! The core knows nothing of terminals: the face passes a function that shows an alert.

pub mod alert;
pub mod deliver;
pub mod follow;
mod http;
pub mod metrics;
pub mod search;
mod wake;

pub use alert::{Alert, AlertKind};

use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::keys::fingerprint::Pepper;
use crate::ops::known::Known;
use crate::project::Project;
use crate::project::manifest::{Environment, Target, WatchSettings};
use crate::project::state::State;
use crate::records::audit::{AuditLog, Outcome, Record};
use follow::{Followed, From};
use jiff::Timestamp;
use search::{LineHit, Needles, Searcher};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The audit trail's action for an alert.
pub const AUDIT_ACTION: &str = "watch-alert";

/// Debug builds only: a file holding an RFC 3339 time that the watch takes for "now"
/// (re-read on every pass), so a test can let a rotation fall due.
pub const TEST_CLOCK_ENV: &str = "KEYWARDEN_TEST_CLOCK_FILE";

/// The file in the project's state folder where `--once` keeps its place between runs.
pub const STATE_FILE: &str = "watch.json";

/// How long a change of a target waits for keywarden's own audit record before it is
/// taken for a change made outside keywarden.
const SETTLE: Duration = Duration::from_millis(1500);

/// How often the status (key ages, findings) is computed again without a change.
const STATUS_EVERY: Duration = Duration::from_secs(600);

/// How `watch` runs.
pub struct Options {
    /// The environments to watch; empty: every one.
    pub environments: Vec<String>,
    /// One pass, then exit (for cron): logs are read from where the last `--once` run
    /// stopped, targets compared with what it saw.
    pub once: bool,
    /// The longest sleep between passes (with inotify), or the polling interval without.
    pub interval: Duration,
    /// Poll at `interval` instead of using inotify.
    pub interval_only: bool,
    /// Written after each pass that changed a number.
    pub textfile: Option<PathBuf>,
    /// Whether opens of the targets are alerts (`target_opened`); off where the same
    /// process reads them for its own use (the interactive view).
    pub report_opens: bool,
}

/// What the face gets besides alerts: notes (a log that cannot be read, inotify missing).
pub trait Face: Send + Sync {
    fn alert(&self, alert: &Alert);
    fn note(&self, note: &str);
}

/// What an alert reaches besides its notifiers: the face, the audit trail, the metrics.
struct Local {
    face: Arc<dyn Face>,
    audit: Mutex<AuditLog>,
    metrics: metrics::Shared,
}

impl Local {
    fn emit(&self, alert: &Alert) {
        if let Ok(mut m) = self.metrics.lock() {
            *m.alerts_total.entry(alert.kind).or_default() += 1;
        }
        self.face.alert(alert);
        let record = Record::new(AUDIT_ACTION, Outcome::Ok)
            .env(alert.environment.clone())
            .detail(format!(
                "{} {}: {} ({})",
                alert.kind.as_str(),
                alert.severity,
                alert.message,
                alert.place()
            ));
        let result = self.audit.lock().map(|a| a.append(record));
        if let Ok(Err(e)) = result {
            self.face.note(&format!(
                "the alert could not be written to the audit trail: {e}"
            ));
        }
    }
}

/// A target's file as last seen: no content, only its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Snapshot {
    exists: bool,
    dev: u64,
    ino: u64,
    mode: u32,
    uid: u32,
    len: u64,
    mtime_ns: i128,
    /// SHA-256 of the content, hex.
    digest: String,
}

impl Snapshot {
    fn quick(&self, other: &Snapshot) -> bool {
        self.exists == other.exists
            && self.dev == other.dev
            && self.ino == other.ino
            && self.mode == other.mode
            && self.uid == other.uid
            && self.len == other.len
            && self.mtime_ns == other.mtime_ns
    }
}

fn stat(path: &Path) -> Snapshot {
    match std::fs::metadata(path) {
        Ok(m) => Snapshot {
            exists: true,
            dev: m.dev(),
            ino: m.ino(),
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            digest: String::new(),
        },
        Err(_) => Snapshot {
            exists: false,
            dev: 0,
            ino: 0,
            mode: 0,
            uid: 0,
            len: 0,
            mtime_ns: 0,
            digest: String::new(),
        },
    }
}

fn digest(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let d = Sha256::digest(&bytes[..]);
            d.iter().map(|b| format!("{b:02x}")).collect()
        }
        Err(_) => String::new(),
    }
}

fn snapshot(path: &Path) -> Snapshot {
    let mut s = stat(path);
    if s.exists {
        s.digest = digest(path);
    }
    s
}

struct TargetWatch {
    label: String,
    path: PathBuf,
    dir: PathBuf,
    name: OsString,
    base: Snapshot,
    /// A change seen, waiting [`SETTLE`] for keywarden's audit record: when, what now.
    changed: Option<(Instant, Snapshot)>,
    /// An open seen, waiting likewise.
    opened: Option<Instant>,
}

struct EnvWatch {
    env: Environment,
    logs: Vec<Followed>,
    /// Canonical paths of `logs`, so a file matched twice is followed once.
    followed: HashSet<PathBuf>,
    /// Times of the signature errors in the window.
    signatures: VecDeque<Timestamp>,
    targets: Vec<TargetWatch>,
    created: Option<Timestamp>,
    rotation_alerted: Option<Timestamp>,
}

/// What `--once` keeps between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    /// Log path (as shown) -> (device, inode, offset, lines).
    logs: BTreeMap<String, (u64, u64, u64, u64)>,
    /// "env\ttarget" -> snapshot.
    targets: BTreeMap<String, Snapshot>,
    /// Number of audit events seen.
    audit_events: usize,
    /// Environment -> when its rotation was last alerted.
    rotation_alerted: BTreeMap<String, Timestamp>,
    /// "env\ttarget\tfingerprint" -> when that target's revoked key was last alerted.
    #[serde(default)]
    revoked_alerted: BTreeMap<String, Timestamp>,
}

/// A running watch.
pub struct Watch {
    project: Project,
    pepper: Pepper,
    settings: WatchSettings,
    options: Options,
    envs: Vec<EnvWatch>,
    known: Vec<Known>,
    state: State,
    quiet: HashMap<(AlertKind, String, String), Timestamp>,
    local: Arc<Local>,
    delivery: Option<deliver::Delivery>,
    audit: AuditLog,
    audit_events: usize,
    /// Environments with a keywarden action in the audit trail, and when it was seen.
    own: Vec<(Instant, String)>,
    wake: wake::Wake,
    status_at: Instant,
    keys_changed: bool,
    clock_file: Option<PathBuf>,
    backups_noted: bool,
    /// "env\ttarget\tfingerprint" -> when a revoked key in that target was last alerted.
    revoked_alerted: BTreeMap<String, Timestamp>,
    /// Logs that could not be followed, and why (each reason said once).
    refused_logs: HashMap<PathBuf, String>,
}

impl Watch {
    /// Prepares a watch of `project` (keys read, targets and logs opened; nothing raised
    /// yet). `metrics` is what `--metrics` and `--textfile` show.
    pub fn new(
        project: Project,
        pepper: Pepper,
        options: Options,
        face: Arc<dyn Face>,
        metrics: metrics::Shared,
    ) -> Result<Watch> {
        let names: Vec<&str> = project
            .manifest
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        for want in &options.environments {
            if !names.contains(&want.as_str()) {
                return Err(Error::Usage(format!(
                    "no environment `{want}`; this project has: {}",
                    names.join(", ")
                )));
            }
        }
        let chosen: Vec<Environment> = project
            .manifest
            .environments
            .iter()
            .filter(|e| options.environments.is_empty() || options.environments.contains(&e.name))
            .cloned()
            .collect();
        for env in &chosen {
            for g in &env.logs {
                glob::Pattern::new(g).map_err(|e| {
                    Error::Usage(format!(
                        "environment {}: invalid log glob {g:?}: {} (at character {}); fix `logs` in keywarden.toml",
                        env.name, e.msg, e.pos
                    ))
                })?;
            }
        }
        let audit = project.audit();
        let local = Arc::new(Local {
            face: Arc::clone(&face),
            audit: Mutex::new(project.audit()),
            metrics,
        });
        let redact = crate::ops::known::to_hide(&project, &pepper, &[]);
        let failed_local = Arc::clone(&local);
        let delivery =
            deliver::Delivery::start(project.root.clone(), redact, move |a| failed_local.emit(&a));
        let clock_file = if cfg!(debug_assertions) {
            project
                .context
                .env
                .var_os(TEST_CLOCK_ENV)
                .map(PathBuf::from)
        } else {
            None
        };
        let wake = wake::Wake::new(options.interval_only);
        if let Some(why) = &wake.unavailable {
            face.note(&format!(
                "{why}; polling every {} s instead",
                options.interval.as_secs_f64()
            ));
        }
        let state = project.load_state()?;
        let settings = project.manifest.watch.clone();
        let mut w = Watch {
            pepper,
            settings,
            envs: chosen
                .into_iter()
                .map(|env| EnvWatch {
                    env,
                    logs: Vec::new(),
                    followed: HashSet::new(),
                    signatures: VecDeque::new(),
                    targets: Vec::new(),
                    created: None,
                    rotation_alerted: None,
                })
                .collect(),
            known: Vec::new(),
            state,
            quiet: HashMap::new(),
            local,
            delivery: Some(delivery),
            audit,
            audit_events: 0,
            own: Vec::new(),
            wake,
            status_at: Instant::now(),
            keys_changed: false,
            clock_file,
            backups_noted: false,
            revoked_alerted: BTreeMap::new(),
            refused_logs: HashMap::new(),
            options,
            project,
        };
        w.audit_events = w.audit.read().map(|e| e.len()).unwrap_or(0);
        w.load_keys()?;
        w.refresh_status();
        Ok(w)
    }

    fn now(&self) -> Timestamp {
        if let Some(f) = &self.clock_file
            && let Ok(text) = std::fs::read_to_string(f)
            && let Ok(t) = text.trim().parse::<Timestamp>()
        {
            return t;
        }
        Timestamp::now()
    }

    fn load_keys(&mut self) -> Result<()> {
        // Retired and revoked keys come from the backups: only when they open without
        // asking (a watch has nobody to ask; the command line opened them first).
        let store = crate::records::backup::BackupStore::of(&self.project);
        let backups = store.crypt().opens_without_asking();
        if !backups && !self.backups_noted && !store.list().is_empty() {
            self.backups_noted = true;
            self.local.face.note(&format!(
                "the backups are locked, so retired and revoked keys are not searched for in the logs (set {} or run at a terminal)",
                crate::records::crypt::PASSPHRASE_FILE_ENV
            ));
        }
        let (known, _unreadable) = crate::ops::known::known(&self.project, &self.pepper, backups)?;
        self.known = known;
        self.state = self.project.load_state()?;
        Ok(())
    }

    /// Key ages, rotation due dates and findings, from the status `status` shows.
    fn refresh_status(&mut self) {
        self.status_at = Instant::now();
        let Ok(st) = crate::ops::status::collect(&self.project, &self.state, &self.pepper) else {
            return;
        };
        let mut findings: BTreeMap<Severity, u64> = BTreeMap::new();
        for e in &st.environments {
            if let Some(w) = self.envs.iter_mut().find(|w| w.env.name == e.name) {
                w.created = e.created;
                for f in &e.findings {
                    *findings.entry(f.severity).or_default() += 1;
                }
            }
        }
        if let Ok(mut m) = self.local.metrics.lock() {
            m.findings = findings;
        }
        // The status read every target: those opens were this process's.
        self.wake.discard();
    }

    /// Runs until `stop` is set (foreground), or one pass (`--once`).
    pub fn run(mut self, stop: &AtomicBool) -> Result<()> {
        let saved = if self.options.once {
            self.load_saved()
        } else {
            Saved::default()
        };
        self.start_targets(&saved);
        loop {
            let needles_keys: Vec<&crate::keys::secret::Secret> =
                self.known.iter().map(|k| &k.key).collect();
            let needles = Needles::new(&needles_keys);
            drop(needles_keys);
            let mut searcher = Searcher::new(&needles, follow::WINDOW);
            let mut read = Zeroizing::new(vec![0u8; follow::READ_CHUNK]);
            let first = self.envs.iter().all(|e| e.logs.is_empty());
            self.keys_changed = false;
            let done = self.inner(&mut searcher, &mut read, first, &saved, stop)?;
            if done {
                break;
            }
            drop(searcher);
            self.load_keys()?;
            self.refresh_status();
        }
        if self.options.once {
            self.save();
        }
        if let Some(d) = self.delivery.take() {
            let busy = d.finish(deliver::DRAIN);
            if busy > 0 {
                eprintln!(
                    "keywarden: watch: {busy} alert destination(s) were still busy after {} s and were stopped (a notify command is killed with its process group); their remaining alerts are on stdout and in the audit trail but were not delivered",
                    deliver::DRAIN.as_secs()
                );
            }
        }
        Ok(())
    }

    /// Passes until `stop`, `--once`, or the keys changed (`Ok(false)`: the caller builds
    /// new needles and calls again).
    fn inner(
        &mut self,
        searcher: &mut Searcher<'_>,
        read: &mut [u8],
        first: bool,
        saved: &Saved,
        stop: &AtomicBool,
    ) -> Result<bool> {
        let mut first = first;
        let mut woken = wake::Woken::default();
        loop {
            self.pass(searcher, read, first, saved, &woken);
            first = false;
            if self.options.once {
                // Pending changes are decided now: the audit trail has had its time.
                self.settle(true);
                return Ok(true);
            }
            if self.keys_changed {
                return Ok(false);
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(true);
            }
            let mut timeout = self.options.interval;
            let pending = self
                .envs
                .iter()
                .flat_map(|e| &e.targets)
                .filter_map(|t| t.changed.as_ref().map(|c| c.0).or(t.opened))
                .map(|at| (at + SETTLE).saturating_duration_since(Instant::now()))
                .min();
            if let Some(p) = pending {
                timeout = timeout.min(p + Duration::from_millis(10));
            }
            // Sleep in slices so a stop request is seen within a fraction of a second.
            let slice = timeout.min(Duration::from_millis(500));
            woken = self.wake.wait(slice);
            let deadline = Instant::now() + timeout.saturating_sub(slice);
            while !woken.any && !self.opens_a_target(&woken) && Instant::now() < deadline {
                if stop.load(Ordering::Relaxed) {
                    return Ok(true);
                }
                let w = self.wake.wait(
                    deadline
                        .saturating_duration_since(Instant::now())
                        .min(slice),
                );
                woken.any |= w.any;
                woken.opened.extend(w.opened);
            }
        }
    }

    fn opens_a_target(&self, woken: &wake::Woken) -> bool {
        !woken.opened.is_empty()
            && self
                .envs
                .iter()
                .flat_map(|e| &e.targets)
                .any(|t| woken.opened.contains(&(t.dir.clone(), t.name.clone())))
    }

    fn start_targets(&mut self, saved: &Saved) {
        let root = self.project.root.clone();
        for e in &mut self.envs {
            for t in &e.env.targets {
                let Target::File { path, .. } = t else {
                    continue;
                };
                let full = root.join(path);
                let dir = full.parent().map(Path::to_path_buf).unwrap_or(root.clone());
                let name = full.file_name().map(OsString::from).unwrap_or_default();
                let label = t.label();
                let now_snap = snapshot(&full);
                let key = format!("{}\t{label}", e.env.name);
                let (base, changed) = match saved.targets.get(&key) {
                    Some(old) if *old != now_snap => {
                        (old.clone(), Some((Instant::now(), now_snap)))
                    }
                    _ => (now_snap, None),
                };
                e.targets.push(TargetWatch {
                    label,
                    path: full,
                    dir,
                    name,
                    base,
                    changed,
                    opened: None,
                });
            }
            for (env, rotated) in &saved.rotation_alerted {
                if *env == e.env.name {
                    e.rotation_alerted = Some(*rotated);
                }
            }
        }
        if self.options.once {
            self.audit_events = saved.audit_events.min(self.audit_events);
            self.revoked_alerted = saved.revoked_alerted.clone();
        }
        let dirs: Vec<PathBuf> = self
            .envs
            .iter()
            .flat_map(|e| e.targets.iter().map(|t| t.dir.clone()))
            .collect();
        for d in dirs {
            self.wake.watch_dir(&d);
        }
        if let Some(c) = self.clock_file.clone()
            && let Some(dir) = c.parent()
        {
            self.wake.watch_dir(dir);
        }
        self.wake.discard();
        self.revoked_in_targets(None);
    }

    /// Revoked keys held by targets (only by `only`, an (environment, target) pair, when
    /// given): one critical alert per target and key, again a day later while it stays
    /// there, and at once when it comes back after it was gone.
    fn revoked_in_targets(&mut self, only: Option<(&str, &str)>) {
        let mut alerts = Vec::new();
        let now = self.now();
        for e in &self.envs {
            for t in &e.env.targets {
                let label = t.label();
                if only.is_some_and(|(oe, ot)| oe != e.env.name || ot != label) {
                    continue;
                }
                let read =
                    crate::targets::read(&self.project.root, t, self.project.context.env.reader());
                let held = read.key().and_then(|k| {
                    let fp = self.pepper.fingerprint(k);
                    self.state.is_revoked(&fp).map(|r| (fp, r))
                });
                let prefix = format!("{}\t{label}\t", e.env.name);
                let now_key = held.as_ref().map(|(fp, _)| format!("{prefix}{fp}"));
                // What the target no longer holds is forgotten: its return is news.
                self.revoked_alerted
                    .retain(|k, _| !k.starts_with(&prefix) || Some(k) == now_key.as_ref());
                let (Some((fp, r)), Some(key)) = (held, now_key) else {
                    continue;
                };
                if self
                    .revoked_alerted
                    .get(&key)
                    .is_some_and(|t| now.as_second() - t.as_second() < 86_400)
                {
                    continue;
                }
                self.revoked_alerted.insert(key, now);
                alerts.push(
                    Alert::new(
                        AlertKind::KeyExposed,
                        Severity::Critical,
                        &e.env.name,
                        format!(
                            "{label} holds the revoked key {fp} (revoked {} for {})",
                            r.at.strftime("%Y-%m-%d"),
                            r.environment
                        ),
                        format!(
                            "a revoked key must never be used again: keywarden set {} --generate, then find how it came back",
                            e.env.name
                        ),
                        now,
                    )
                    .at_target(&label),
                );
            }
        }
        self.wake.discard();
        for a in alerts {
            // Once per target, key and day, whatever the quiet period.
            self.emit(a);
        }
    }

    /// One pass: targets, then logs, then rotation, then metrics.
    fn pass(
        &mut self,
        searcher: &mut Searcher<'_>,
        read: &mut [u8],
        first: bool,
        saved: &Saved,
        woken: &wake::Woken,
    ) {
        let now = self.now();
        // Targets first: reading them opens them, and those opens are discarded before
        // the logs are read.
        let mut read_any = false;
        let report_opens = self.options.report_opens;
        for e in &mut self.envs {
            for t in &mut e.targets {
                if report_opens
                    && woken.opened.contains(&(t.dir.clone(), t.name.clone()))
                    && t.opened.is_none()
                {
                    t.opened = Some(Instant::now());
                }
                let quick = stat(&t.path);
                let against = t.changed.as_ref().map_or(&t.base, |c| &c.1);
                if !quick.quick(against) {
                    let mut full = quick;
                    if full.exists {
                        full.digest = digest(&t.path);
                        read_any = true;
                    }
                    if full != t.base {
                        t.changed = Some((Instant::now(), full));
                    } else {
                        t.changed = None;
                    }
                }
            }
        }
        if read_any {
            self.wake.discard();
        }
        self.settle(false);

        // Logs.
        let root = self.project.root.clone();
        let targets = TargetFiles::of(&self.project);
        let mut hits: Vec<(usize, String, u64, LineHit)> = Vec::new();
        let mut notes = Vec::new();
        for (ei, e) in self.envs.iter_mut().enumerate() {
            for (path, shown) in matched_logs(&root, &e.env.logs) {
                if let Some(dir) = path.parent() {
                    self.wake.watch_dir(dir);
                }
                let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if e.followed.contains(&canonical) {
                    continue;
                }
                if let Some(target) = targets.holding(&canonical) {
                    let why = format!(
                        "not following {shown}: it is the target {target}, not a log (a key file is never searched as one); make the `logs` globs of {} in keywarden.toml match the app's log files only",
                        e.env.name
                    );
                    if self.refused_logs.get(&canonical) != Some(&why) {
                        notes.push(why.clone());
                        self.refused_logs.insert(canonical, why);
                    }
                    continue;
                }
                let from = if let Some((dev, ino, off, lines)) = saved.logs.get(&shown) {
                    From::Offset(*off, *lines, (*dev, *ino))
                } else if first {
                    From::End
                } else {
                    From::Start
                };
                match Followed::open(path.clone(), shown.clone(), from) {
                    Ok(f) => {
                        self.refused_logs.remove(&canonical);
                        e.followed.insert(canonical);
                        e.logs.push(f);
                    }
                    Err(err) => {
                        // Tried again on every pass; said once per reason.
                        let why = format!("cannot read the log {shown}: {err}");
                        if self.refused_logs.get(&canonical) != Some(&why) {
                            notes.push(why.clone());
                            self.refused_logs.insert(canonical, why);
                        }
                    }
                }
            }
            // Glob folders that do not exist yet are watched once they appear.
            for g in &e.env.logs {
                let dir = literal_dir(&root, g);
                self.wake.watch_dir(&dir);
            }
            // A followed log replaced by a link to a target is let go before it is read.
            e.logs.retain(|f| {
                let canonical = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
                let Some(target) = targets.holding(&canonical) else {
                    return true;
                };
                notes.push(format!(
                    "stopped following {}: it is now the target {target}, not a log (a key file is never searched as one)",
                    f.shown
                ));
                false
            });
            e.followed.retain(|p| targets.holding(p).is_none());
            let mut out = Vec::new();
            for f in &mut e.logs {
                if let Err(err) = f.poll(searcher, read, &mut out) {
                    notes.push(format!("cannot read the log {}: {err}", f.shown));
                }
            }
            hits.extend(out.into_iter().map(|(s, l, h)| (ei, s, l, h)));
        }
        for n in notes {
            self.local.face.note(&n);
        }
        for (ei, file, line, hit) in hits {
            self.log_hit(ei, &file, line, hit, now);
        }
        self.rotation(now);
        if self.status_at.elapsed() > STATUS_EVERY {
            self.refresh_status();
            self.revoked_in_targets(None);
        }
        self.update_metrics(now);
    }

    fn log_hit(&mut self, ei: usize, file: &str, line: u64, hit: LineHit, now: Timestamp) {
        let env_name = self.envs[ei].env.name.clone();
        match hit {
            LineHit::Signature(pattern) => {
                if let Ok(mut m) = self.local.metrics.lock() {
                    *m.signature_errors_total
                        .entry(env_name.clone())
                        .or_default() += 1;
                }
                let count = self.settings.signature_errors_count as usize;
                let window = self.settings.signature_errors_window_secs as i64;
                let e = &mut self.envs[ei];
                e.signatures.push_back(now);
                while e
                    .signatures
                    .front()
                    .is_some_and(|t| now.as_second() - t.as_second() >= window)
                {
                    e.signatures.pop_front();
                }
                if e.signatures.len() >= count {
                    let n = e.signatures.len();
                    e.signatures.clear();
                    let alert = Alert::new(
                        AlertKind::SignatureErrors,
                        Severity::High,
                        &env_name,
                        format!(
                            "{n} signature errors within {window} s in the logs (the threshold is {count}); the last one, {pattern}, at {file}:{line}"
                        ),
                        format!(
                            "someone may be forging sessions or tokens, or an app runs with an old key: read the lines named, and if the key may be known, run `keywarden incident compromised {env_name}`"
                        ),
                        now,
                    )
                    .at_line(file, line);
                    self.raise(alert);
                }
            }
            LineHit::Key { index, encoding } => {
                let Some(k) = self.known.get(index) else {
                    return;
                };
                let fix = if k.what.starts_with("the ") {
                    format!(
                        "the key is exposed: run `keywarden incident compromised {env_name}` (revoke it, rotate, then purge the line from {file} and its copies)"
                    )
                } else {
                    format!(
                        "something still uses or logs a key that was replaced: find what sent it, and purge the line from {file} and its copies"
                    )
                };
                let alert = Alert::new(
                    AlertKind::KeyExposed,
                    k.severity,
                    &env_name,
                    format!(
                        "{} ({}) appears in a log, {}",
                        k.what,
                        k.fingerprint,
                        encoding.as_str()
                    ),
                    fix,
                    now,
                )
                .at_line(file, line);
                self.raise(alert);
            }
        }
    }

    /// Reads the audit trail's new events: keywarden's own actions, by environment.
    fn read_own(&mut self) {
        let Ok(events) = self.audit.read() else {
            return;
        };
        if events.len() < self.audit_events {
            self.audit_events = 0;
        }
        for ev in &events[self.audit_events..] {
            if ev.action != AUDIT_ACTION {
                let env = ev.environment.clone().unwrap_or_default();
                self.own.push((Instant::now(), env));
            }
        }
        self.audit_events = events.len();
        self.own
            .retain(|(at, _)| at.elapsed() < Duration::from_secs(120));
    }

    fn own_action(&self, env: &str, since: Instant) -> bool {
        let since = since.checked_sub(Duration::from_secs(10)).unwrap_or(since);
        self.own
            .iter()
            .any(|(at, e)| (e == env || e.is_empty()) && *at >= since)
    }

    /// Decides the target changes and opens that have waited long enough (`all`: every
    /// one, now).
    fn settle(&mut self, all: bool) {
        let ready = |at: Instant| all || at.elapsed() >= SETTLE;
        let any_ready =
            self.envs.iter().flat_map(|e| &e.targets).any(|t| {
                t.changed.as_ref().is_some_and(|c| ready(c.0)) || t.opened.is_some_and(ready)
            });
        if !any_ready {
            return;
        }
        self.read_own();
        let now = self.now();
        let mut alerts = Vec::new();
        let mut own_envs = Vec::new();
        let mut settled = Vec::new();
        for ei in 0..self.envs.len() {
            let name = self.envs[ei].env.name.clone();
            for ti in 0..self.envs[ei].targets.len() {
                let (changed, opened) = {
                    let t = &self.envs[ei].targets[ti];
                    (t.changed.clone(), t.opened)
                };
                if let Some((at, snap)) = changed
                    && ready(at)
                {
                    let own = if all {
                        // `--once`: any keywarden action since the last run.
                        self.own.iter().any(|(_, e)| *e == name || e.is_empty())
                    } else {
                        self.own_action(&name, at)
                    };
                    let t = &mut self.envs[ei].targets[ti];
                    if own {
                        own_envs.push(name.clone());
                    } else if let Some(a) = describe_change(&name, &t.label, &t.base, &snap, now) {
                        alerts.push(a);
                    }
                    settled.push((name.clone(), t.label.clone()));
                    t.base = snap;
                    t.changed = None;
                }
                if let Some(at) = opened
                    && ready(at)
                {
                    let own = self.own_action(&name, at);
                    let t = &mut self.envs[ei].targets[ti];
                    t.opened = None;
                    if !own {
                        alerts.push(
                            Alert::new(
                                AlertKind::TargetOpened,
                                Severity::Medium,
                                &name,
                                format!(
                                    "{} was opened or read by another process (inotify does not say which)",
                                    t.label
                                ),
                                "if no app or person of yours read it, find who did (auditd: `auditctl -w FILE -p r`), and treat the key as exposed if it was not you",
                                now,
                            )
                            .at_target(&t.label),
                        );
                    }
                }
            }
        }
        if !own_envs.is_empty() {
            self.keys_changed = true;
        }
        for a in alerts {
            self.raise(a);
            // The file may now hold another key.
            self.keys_changed = true;
        }
        // A file put back by hand may hold a key that was revoked (and one rewritten by
        // keywarden no longer does: its return is alerted again).
        for (env, target) in settled {
            self.revoked_in_targets(Some((&env, &target)));
        }
    }

    fn rotation(&mut self, now: Timestamp) {
        let mut alerts = Vec::new();
        for e in &mut self.envs {
            let every = i64::from(e.env.rotate_every_days);
            let Some(created) = e.created else { continue };
            if every == 0 {
                continue;
            }
            let age = (now.as_second() - created.as_second()).max(0) / 86_400;
            let due = every - age;
            if due > 0 {
                e.rotation_alerted = None;
                continue;
            }
            if e.rotation_alerted
                .is_some_and(|t| now.as_second() - t.as_second() < 86_400)
            {
                continue;
            }
            e.rotation_alerted = Some(now);
            let (severity, when) = if due < 0 {
                (Severity::High, format!("overdue by {} days", -due))
            } else {
                (Severity::Medium, "due today".to_string())
            };
            alerts.push(Alert::new(
                AlertKind::RotationDue,
                severity,
                &e.env.name,
                format!("the key is {age} days old; rotation every {every} days is {when}"),
                format!("rotate it: {}", crate::ops::status::renew(&e.env)),
                now,
            ));
        }
        for a in alerts {
            // Once per state change and day, whatever the quiet period.
            self.emit(a);
        }
    }

    fn update_metrics(&mut self, now: Timestamp) {
        let Ok(mut m) = self.local.metrics.lock() else {
            return;
        };
        for e in &self.envs {
            let name = e.env.name.clone();
            m.signature_errors_total.entry(name.clone()).or_default();
            if let Some(created) = e.created {
                let age = (now.as_second() - created.as_second()).max(0) / 86_400;
                m.key_age_days.insert(name.clone(), age);
                if e.env.rotate_every_days > 0 {
                    m.rotation_due_days
                        .insert(name, i64::from(e.env.rotate_every_days) - age);
                }
            }
        }
        if let Some(path) = &self.options.textfile {
            let snapshot = m.clone();
            drop(m);
            if let Err(e) = metrics::write_textfile(path, &snapshot) {
                self.local
                    .face
                    .note(&format!("cannot write the --textfile: {e}"));
            }
        }
    }

    /// Raises an alert unless the same one was raised within the quiet period.
    fn raise(&mut self, alert: Alert) {
        let key = alert.dedup_key();
        let quiet = self.settings.quiet_secs as i64;
        if let Some(last) = self.quiet.get(&key)
            && quiet > 0
            && alert.ts.as_second() - last.as_second() < quiet
        {
            return;
        }
        self.quiet.insert(key, alert.ts);
        self.emit(alert);
    }

    fn emit(&mut self, alert: Alert) {
        self.local.emit(&alert);
        let notify = self
            .envs
            .iter()
            .find(|e| e.env.name == alert.environment)
            .and_then(|e| e.env.notify.clone());
        if let Some(d) = &mut self.delivery {
            d.send(deliver::Job {
                alert,
                notify,
                webhook: self.settings.webhook.clone(),
            });
        }
    }

    fn state_path(&self) -> PathBuf {
        self.project.state_dir().join(STATE_FILE)
    }

    fn load_saved(&self) -> Saved {
        std::fs::read(self.state_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&mut self) {
        let mut s = Saved {
            audit_events: self
                .audit
                .read()
                .map(|e| e.len())
                .unwrap_or(self.audit_events),
            ..Saved::default()
        };
        for e in &self.envs {
            for f in &e.logs {
                let (dev, ino) = f.id();
                s.logs
                    .insert(f.shown.clone(), (dev, ino, f.resume_offset(), f.lines));
            }
            for t in &e.targets {
                s.targets
                    .insert(format!("{}\t{}", e.env.name, t.label), t.base.clone());
            }
            if let Some(r) = e.rotation_alerted {
                s.rotation_alerted.insert(e.env.name.clone(), r);
            }
        }
        s.revoked_alerted = self.revoked_alerted.clone();
        let dir = self.project.state_dir();
        let result = crate::fsio::create_private_dir(&dir).and_then(|_| {
            crate::fsio::atomic_write(
                &self.state_path(),
                &serde_json::to_vec_pretty(&s).expect("serialises"),
                0o600,
            )
        });
        if let Err(e) = result {
            self.local.face.note(&format!(
                "cannot keep the watch's place for the next --once: {e}"
            ));
        }
    }
}

/// The alert for a target that changed from `old` to `new`, or `None` if nothing that
/// matters did.
fn describe_change(
    env: &str,
    label: &str,
    old: &Snapshot,
    new: &Snapshot,
    now: Timestamp,
) -> Option<Alert> {
    let mut what = Vec::new();
    let mut severity = Severity::Medium;
    let mut fix = format!(
        "if this was not you or your deployment, compare with `keywarden status {env}`; a key written by hand is not recorded: keywarden set {env} --generate writes a new one"
    );
    if old.exists && !new.exists {
        what.push("was deleted or moved away".to_string());
        severity = Severity::High;
        fix = format!(
            "put the file back: keywarden restore (see `keywarden backups`), or keywarden set {env} --generate"
        );
    } else if !old.exists && new.exists {
        what.push("appeared".to_string());
    } else {
        if old.mode != new.mode {
            let weaker = new.mode & !old.mode & 0o077 != 0;
            what.push(format!(
                "mode changed from {:04o} to {:04o}{}",
                old.mode,
                new.mode,
                if weaker { " (open to others now)" } else { "" }
            ));
            if weaker {
                severity = Severity::High;
                fix = format!(
                    "restore owner-only access: keywarden fix {env}; and find out who changed it"
                );
            }
        }
        if old.uid != new.uid {
            what.push(format!(
                "owner changed from uid {} to uid {}",
                old.uid, new.uid
            ));
            severity = Severity::High;
        }
        if old.digest != new.digest {
            what.push("content changed".to_string());
            severity = severity.max(Severity::High);
        }
    }
    if what.is_empty() {
        return None;
    }
    Some(
        Alert::new(
            AlertKind::TargetChanged,
            severity,
            env,
            format!("{label} {} outside keywarden", what.join(", ")),
            fix,
            now,
        )
        .at_target(label),
    )
}

/// Every file target and fallback file of the project (of every environment, watched or
/// not), to keep a
/// log glob from matching one: by its resolved path and by its file's (device, inode),
/// so neither a symlink nor a hard link to a key file is followed as a log.
struct TargetFiles {
    paths: Vec<(PathBuf, String)>,
    ids: Vec<((u64, u64), String)>,
}

impl TargetFiles {
    fn of(project: &Project) -> TargetFiles {
        use std::os::unix::fs::MetadataExt;
        let mut paths = Vec::new();
        let mut ids = Vec::new();
        for env in &project.manifest.environments {
            // Fallback files hold keys too (the previous ones, in their grace period).
            for t in env.targets.iter().chain(env.fallback.iter()) {
                let Target::File { path, .. } = t else {
                    continue;
                };
                let full = project.root.join(path);
                let label = format!("{} of {}", t.label(), env.name);
                let resolved = std::fs::canonicalize(&full).unwrap_or(full);
                if let Ok(m) = std::fs::metadata(&resolved) {
                    ids.push(((m.dev(), m.ino()), label.clone()));
                }
                paths.push((resolved, label));
            }
        }
        TargetFiles { paths, ids }
    }

    /// The target `canonical` (a resolved log path) is, if any.
    fn holding(&self, canonical: &Path) -> Option<&str> {
        use std::os::unix::fs::MetadataExt;
        if let Some((_, label)) = self.paths.iter().find(|(p, _)| p == canonical) {
            return Some(label);
        }
        let m = std::fs::metadata(canonical).ok()?;
        self.ids
            .iter()
            .find(|(id, _)| *id == (m.dev(), m.ino()))
            .map(|(_, label)| label.as_str())
    }
}

/// The files the globs match now: (path, as shown).
fn matched_logs(root: &Path, globs: &[String]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let escaped_root = root.to_str().map(glob::Pattern::escape).unwrap_or_default();
    for g in globs {
        let absolute = Path::new(g).is_absolute();
        let full = if absolute {
            g.clone()
        } else {
            format!("{}/{g}", escaped_root.trim_end_matches('/'))
        };
        let Ok(paths) = glob::glob(&full) else {
            continue;
        };
        for p in paths.flatten() {
            if !std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                continue;
            }
            if p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["gz", "tgz", "bz2", "xz", "zst", "lz4", "z"]
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(e))
            }) {
                continue;
            }
            let shown = if absolute {
                p.display().to_string()
            } else {
                p.strip_prefix(root).unwrap_or(&p).display().to_string()
            };
            out.push((p, shown));
        }
    }
    out
}

/// The deepest folder of a glob without a wildcard in it.
fn literal_dir(root: &Path, glob: &str) -> PathBuf {
    let mut dir = if Path::new(glob).is_absolute() {
        PathBuf::from("/")
    } else {
        root.to_path_buf()
    };
    let parts: Vec<&str> = glob.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if part.contains(['*', '?', '[']) {
            break;
        }
        if !part.is_empty() {
            dir.push(part);
        }
    }
    dir
}

#[cfg(test)]
mod tests;
