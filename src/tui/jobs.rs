//! Slow work, off the render loop: each [`Job`] runs on its own thread and reports back
//! through a channel that the loop polls, so the spinner moves and `q` always answers.
//!
//! A job streams output lines ([`JobEvent::Line`]) for the activity pane and ends with a
//! [`JobReport`]; every job that may have changed something also re-reads the status on
//! its thread, so the screen is fresh without a pause. One job runs at a time: the core
//! takes the project's lock for changes anyway, and one visible task is easier to follow.
//!
//! Rotation, revocation, resume, rollback, restore and an incident step's action all run
//! here, over the same core functions as the commands; each [`rotation::Progress`] line
//! (command output included, already redacted by the core) streams to the activity pane.
//! A job that leaves something to decide (a rotation stopped at restart or verify, an
//! incident step's saved record) says so in [`JobReport::next`].

use super::session::Session;
use crate::incident::actions::{self as incident_actions, StepCtx};
use crate::incident::{Incident, Incidents, Status, playbook};
use crate::ops::apply::{self, NewKey};
use crate::ops::command::CommandRun;
use crate::ops::restore::{self, Restored};
use crate::ops::rotation::{self, Ctx, Progress, RunEnd, Summary};
use crate::ops::status::ProjectStatus;
use crate::records::journal::Kind;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Generate a key and write it to every file target (`keywarden set ENV --generate`).
    SetKey { env: String },
    /// Tighten the environment's files to 0600 (`keywarden fix ENV`).
    FixPermissions { env: String },
    /// Read every target again.
    Refresh,
    /// Rotate the environment's key (`keywarden rotate ENV`).
    Rotate { env: String },
    /// Revoke it (`keywarden revoke ENV --reason`).
    Revoke { env: String, reason: String },
    /// Finish an unfinished rotation (`rotate ENV --resume`).
    Resume { env: String },
    /// Undo it (`rotate ENV --rollback`).
    Rollback { env: String },
    /// Put a backup back (`keywarden restore ENV ID`).
    Restore { env: String, backup: String },
    /// Run an incident step's action and save its result
    /// (`keywarden incident resume ID --step STEP --run`).
    Step { incident: String, step: String },
}

impl Job {
    /// What the activity pane says while it runs.
    pub fn describe(&self) -> String {
        match self {
            Job::SetKey { env } => format!("{env}: writing a new key"),
            Job::FixPermissions { env } => format!("{env}: tightening file permissions"),
            Job::Refresh => "reading every file again".into(),
            Job::Rotate { env } => format!("{env}: rotating the key"),
            Job::Revoke { env, .. } => format!("{env}: revoking the key"),
            Job::Resume { env } => format!("{env}: resuming the rotation"),
            Job::Rollback { env } => format!("{env}: rolling the rotation back"),
            Job::Restore { env, backup } => format!("{env}: restoring backup {backup}"),
            Job::Step { step, .. } => format!("incident step `{step}`"),
        }
    }

    /// The environment it works on, if one.
    pub fn env(&self) -> Option<&str> {
        match self {
            Job::SetKey { env }
            | Job::FixPermissions { env }
            | Job::Rotate { env }
            | Job::Revoke { env, .. }
            | Job::Resume { env }
            | Job::Rollback { env }
            | Job::Restore { env, .. } => Some(env),
            Job::Refresh | Job::Step { .. } => None,
        }
    }

    /// Whether quitting must wait for it: a job that writes files is never cut short.
    pub fn changes_files(&self) -> bool {
        !matches!(self, Job::Refresh)
    }
}

#[derive(Debug)]
pub struct JobReport {
    pub job: Job,
    /// The job panicked (a bug). The panic hook has restored the terminal, so the loop
    /// must take it back.
    pub panicked: bool,
    /// The summary lines on success; the error message otherwise.
    pub outcome: Result<Vec<String>, String>,
    /// What the user has to see or decide next, whatever the outcome.
    pub next: Option<Next>,
    /// The status read after the job, when it read one.
    pub status: Option<Result<ProjectStatus, String>>,
}

/// What a finished job leaves to the user.
#[derive(Debug)]
pub enum Next {
    /// `restart` or `verify` failed: the journal stays; offer rollback or later.
    Stopped {
        env: String,
        step: &'static str,
        run: CommandRun,
    },
    /// A revocation finished and other environments hold the revoked key.
    AlsoExposed { env: String, others: Vec<String> },
    /// An incident step ran: the record as saved.
    Incident(Box<Incident>),
}

#[derive(Debug)]
pub enum JobEvent {
    Line(String),
    Finished(Box<JobReport>),
}

#[derive(Debug)]
pub struct Running {
    pub job: Job,
    pub started: Instant,
}

/// Starts jobs on threads and collects what they report.
pub struct Jobs {
    tx: Sender<JobEvent>,
    rx: Receiver<JobEvent>,
    running: Option<Running>,
}

impl Default for Jobs {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Jobs {
            tx,
            rx,
            running: None,
        }
    }
}

impl Jobs {
    pub fn running(&self) -> Option<&Running> {
        self.running.as_ref()
    }

    /// Starts `job`; `Err` names the job already running.
    pub fn start(&mut self, job: Job, session: Arc<Session>, now: Instant) -> Result<(), String> {
        self.start_holding(job, session, now, None)
    }

    /// Starts `job` with the backups' identity the view unlocked for it (`held`): the
    /// job keeps it while it runs, and it is dropped and wiped when the job ends. Every
    /// job is one operation of its own (see [`crate::records::crypt::hold`]).
    pub fn start_holding(
        &mut self,
        job: Job,
        session: Arc<Session>,
        now: Instant,
        held: Option<crate::records::crypt::Held>,
    ) -> Result<(), String> {
        if let Some(r) = &self.running {
            return Err(format!(
                "wait a moment: {} is still running",
                r.job.describe()
            ));
        }
        let tx = self.tx.clone();
        let thread_job = job.clone();
        std::thread::Builder::new()
            .name("keywarden-job".into())
            .spawn(move || {
                let _identity = held.unwrap_or_else(crate::records::crypt::hold);
                let line_tx = tx.clone();
                let out = move |line: String| {
                    let _ = line_tx.send(JobEvent::Line(line));
                };
                let report = run(thread_job, &session, &out);
                let _ = tx.send(JobEvent::Finished(Box::new(report)));
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        self.running = Some(Running { job, started: now });
        Ok(())
    }

    /// The next event, if one is waiting.
    pub fn poll(&mut self) -> Option<JobEvent> {
        match self.rx.try_recv() {
            Ok(ev) => Some(self.note(ev)),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    /// Waits up to `timeout` for the next event (tests and benchmarks).
    pub fn wait(&mut self, timeout: Duration) -> Option<JobEvent> {
        self.rx.recv_timeout(timeout).ok().map(|ev| self.note(ev))
    }

    fn note(&mut self, ev: JobEvent) -> JobEvent {
        if matches!(ev, JobEvent::Finished(_)) {
            self.running = None;
        }
        ev
    }
}

fn run(job: Job, session: &Session, out: &dyn Fn(String)) -> JobReport {
    // A panic in the core must not take the screen down with it: it becomes an error.
    let mut next = None;
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        execute(&job, session, out, &mut next)
    }));
    let panicked = caught.is_err();
    let outcome = caught.unwrap_or_else(|_| {
        Err(
            "keywarden hit an internal error (a bug); the files are as the last message says"
                .into(),
        )
    });
    let status = Some(session.status().map_err(|e| super::words::error(&e)));
    JobReport {
        job,
        panicked,
        outcome,
        next,
        status,
    }
}

/// Does the work of `job` with the core; `out` receives progress lines, `next` what is
/// left to decide.
fn execute(
    job: &Job,
    session: &Session,
    out: &dyn Fn(String),
    next: &mut Option<Next>,
) -> Result<Vec<String>, String> {
    let project = &session.project;
    let audit = project.audit();
    let ctx = Ctx {
        project,
        pepper: &session.pepper,
        audit: &audit,
        run_commands: true,
    };
    let mut progress = |p: Progress| stream(p, out);
    let err = |e: crate::error::Error| super::words::error(&e);
    match job {
        Job::Rotate { env } => {
            let end = rotation::start(&ctx, env, Kind::Rotate, None, None, &mut progress);
            ended(env, end.map_err(err)?, next)
        }
        Job::Revoke { env, reason } => {
            let end = rotation::start(
                &ctx,
                env,
                Kind::Revoke,
                Some(reason.clone()),
                None,
                &mut progress,
            );
            ended(env, end.map_err(err)?, next)
        }
        Job::Resume { env } => {
            let end = rotation::resume(&ctx, env, &mut progress);
            ended(env, end.map_err(err)?, next)
        }
        Job::Rollback { env } => {
            let restored = rotation::rollback(&ctx, env, &mut progress).map_err(err)?;
            Ok(vec![format!(
                "{env}: rolled back; {} file(s) have their content from before the rotation",
                restored.len()
            )])
        }
        Job::Restore { env, backup } => {
            match restore::run(&ctx, env, backup, &mut progress).map_err(err)? {
                Restored::Key(end) => ended(env, end, next),
                Restored::File { target } => {
                    Ok(vec![format!("{env}: {target} restored from {backup}")])
                }
            }
        }
        Job::Step { incident, step } => run_step(session, incident, step, &mut progress, next),
        Job::SetKey { env } => {
            let done = apply::set_key(project, &session.pepper, env, NewKey::Generate, "tui")
                .map_err(|e| super::words::error(&e))?;
            let mut files = done.written.clone();
            files.extend(done.unchanged.iter().cloned());
            let mut lines = vec![format!(
                "{env}: new key {} in {} (mode 0600)",
                done.fingerprint,
                files.join(", ")
            )];
            if !done.backups.is_empty() {
                lines.push(format!("old files backed up: {}", done.backups.join(", ")));
            }
            let mut next = vec!["restart the application so it loads the new key".to_string()];
            next.extend(
                done.read_only
                    .iter()
                    .map(|r| format!("set {r} where the service runs")),
            );
            lines.push(format!("next: {}", next.join("; ")));
            Ok(lines)
        }
        Job::FixPermissions { env } => {
            let done = apply::fix_permissions(project, env).map_err(|e| super::words::error(&e))?;
            let mut lines = vec![format!(
                "{env}: {} file(s) tightened to 0600",
                done.tightened.len()
            )];
            lines.extend(
                done.tightened
                    .iter()
                    .map(|(t, before)| format!("  {t}: {before} -> 0600")),
            );
            if done.tightened.is_empty() {
                lines[0] = format!("{env}: every file was already private");
            }
            Ok(lines)
        }
        Job::Refresh => Ok(vec!["read every file again".into()]),
    }
}

/// One progress report as activity lines: a command's summary and its last lines.
fn stream(p: Progress, out: &dyn Fn(String)) {
    match p {
        Progress::Step(s) => out(s),
        Progress::Command { name, run } => {
            out(format!("{name}: `{}` {}", run.command, run.summary()));
            let lines: Vec<&str> = run.output.lines().collect();
            for l in &lines[lines.len().saturating_sub(COMMAND_LINES)..] {
                out(format!("  | {l}"));
            }
        }
    }
}

/// Lines of a command's output shown in the activity pane (the journal keeps the rest).
const COMMAND_LINES: usize = 10;

/// The summary of a rotation's end; a stop or an exposure goes to `next`.
fn ended(env: &str, end: RunEnd, next: &mut Option<Next>) -> Result<Vec<String>, String> {
    match (end.summary(env), end) {
        (
            Summary::Finished {
                old,
                new,
                rotate_too,
                ..
            },
            _,
        ) => {
            let mut lines = vec![format!(
                "{env}: now uses {new} (was {old}; the old key is kept in the backups: b)"
            )];
            if !rotate_too.is_empty() {
                lines.push(format!(
                    "{} held that key too: rotate them as well",
                    rotate_too.join(", ")
                ));
                *next = Some(Next::AlsoExposed {
                    env: env.to_string(),
                    others: rotate_too,
                });
            }
            Ok(lines)
        }
        (Summary::Stopped { step, why, .. }, RunEnd::Stopped { run, .. }) => {
            *next = Some(Next::Stopped {
                env: env.to_string(),
                step,
                run,
            });
            Err(format!(
                "{env}: {step} failed ({why}); the new key is in place but not confirmed"
            ))
        }
        (Summary::Stopped { .. }, RunEnd::Finished { .. }) => unreachable!("same run end"),
    }
}

/// Runs an incident step's action and saves the outcome as the step's result, done or
/// failed (an action that could not run at all is saved as failed, with the reason).
fn run_step(
    session: &Session,
    id: &str,
    step: &str,
    progress: &mut dyn FnMut(Progress),
    next: &mut Option<Next>,
) -> Result<Vec<String>, String> {
    let project = &session.project;
    let store = Incidents::new(project);
    let err = |e: crate::error::Error| super::words::error(&e);
    let mut incident = store.load(id).map_err(err)?;
    let pb = playbook::load(project, &incident.playbook).map_err(err)?;
    let def = pb
        .step(step)
        .ok_or_else(|| format!("no step `{step}` in playbook {}", pb.name))?;
    let action = def
        .action
        .ok_or_else(|| format!("step `{step}` has no action: mark it done (d)"))?;
    crate::incident::needs_earlier(&incident, &pb, step).map_err(err)?;
    let ctx = StepCtx {
        project,
        pepper: &session.pepper,
        run_commands: true,
        extra_logs: Vec::new(),
    };
    let ran = incident_actions::run_step(&ctx, &mut incident, &pb, step, action, None, progress);
    // The wizard shows what is on disk, whether the save worked or not.
    *next = store.load(id).ok().map(|i| Next::Incident(Box::new(i)));
    let ran = ran.map_err(err)?;
    let (status, result) = (ran.status, ran.result);
    let title = def.title.clone();
    let mut lines = vec![match status {
        Status::Pending => format!("{title}: still open, for a person to finish"),
        s => format!("{title}: {}", s.as_str()),
    }];
    lines.extend(result.lines().map(str::to_string));
    if status == Status::Failed {
        return Err(lines.join("\n"));
    }
    Ok(lines)
}
