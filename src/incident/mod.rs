//! Incidents: a playbook followed step by step, recorded so that nothing is lost.
//!
//! An incident has an id, its playbook, the environment, when it was opened and closed,
//! the key concerned (by fingerprint), and for every step who did it, when, the result and
//! notes. The record is saved (atomically, `0600`, in the project's state folder under
//! `incidents/`) after every step, so a closed terminal or a killed process loses nothing
//! and `incident resume` continues at the first open step.

pub mod actions;
pub mod playbook;
pub mod report;

use crate::error::{Error, Result};
use crate::keys::fingerprint::Fingerprint;
use crate::ops::rotation::failpoint;
use crate::project::Project;
use crate::records::audit::{Outcome, Record};
use crate::records::store;
use jiff::Timestamp;
use playbook::Playbook;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

const DIR: &str = "incidents";

/// How incident records are kept on disk. Records written before they had a version
/// read as version 1.
const KIND: store::Kind = store::Kind {
    name: "incident record",
    version: 1,
    damaged: "damaged incident record",
    damaged_hint: None,
    read_action: "read",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Done,
    Skipped,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Done => "done",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }

    /// Done or deliberately skipped: the step no longer blocks the incident.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Done | Status::Skipped)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub at: Timestamp,
    pub by: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    pub status: Status,
    pub by: Option<String>,
    pub at: Option<Timestamp>,
    /// What the step's action reported (fingerprints, counts, file:line — never a key).
    pub result: Option<String>,
    #[serde(default)]
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub playbook: String,
    pub title: String,
    pub environment: String,
    pub opened: Timestamp,
    pub opened_by: String,
    pub closed: Option<Timestamp>,
    /// The key the incident is about, as it was when the incident was opened.
    pub fingerprint: Option<Fingerprint>,
    pub steps: Vec<StepRecord>,
}

impl Incident {
    /// The first step that is neither done nor skipped.
    pub fn current(&self) -> Option<&StepRecord> {
        self.steps.iter().find(|s| !s.status.is_closed())
    }

    /// `3/7`: closed steps over all steps.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.steps.iter().filter(|s| s.status.is_closed()).count(),
            self.steps.len(),
        )
    }

    pub fn step(&self, id: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// The incident store of a project.
pub struct Incidents<'a> {
    project: &'a Project,
}

/// The first step that `step` requires and that is still open, if any: a step cannot
/// run or be marked done before the steps it requires are done or skipped.
pub fn unmet_requirement<'p>(incident: &Incident, pb: &'p Playbook, step: &str) -> Option<&'p str> {
    pb.step(step)?
        .requires
        .iter()
        .find(|r| incident.step(r).is_none_or(|s| !s.status.is_closed()))
        .map(String::as_str)
}

/// [`unmet_requirement`] as an error.
pub fn needs_earlier(incident: &Incident, pb: &Playbook, step: &str) -> Result<()> {
    match unmet_requirement(incident, pb, step) {
        Some(r) => Err(Error::StepNeedsEarlier {
            step: step.to_string(),
            requires: r.to_string(),
        }),
        None => Ok(()),
    }
}

impl<'a> Incidents<'a> {
    pub fn new(project: &'a Project) -> Incidents<'a> {
        Incidents { project }
    }

    fn dir(&self) -> PathBuf {
        self.project.state_dir().join(DIR)
    }

    fn path(&self, id: &str) -> Result<PathBuf> {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::Usage(format!(
                "`{id}` is not an incident id (see `keywarden incident list`)"
            )));
        }
        Ok(self.dir().join(format!("{id}.json")))
    }

    /// Opens an incident on `env` following `playbook`.
    pub fn open(
        &self,
        pb: &Playbook,
        env: &str,
        fingerprint: Option<Fingerprint>,
    ) -> Result<Incident> {
        crate::ops::apply::environment(self.project, env)?;
        let now = self.project.context.now();
        let base = format!("INC-{}-{}", now.strftime("%Y%m%d-%H%M%S"), pb.name);
        let mut id = base.clone();
        let mut n = 2;
        while self.path(&id)?.exists() {
            id = format!("{base}-{n}");
            n += 1;
        }
        let incident = Incident {
            id,
            playbook: pb.name.clone(),
            title: pb.title.clone(),
            environment: env.to_string(),
            opened: now,
            opened_by: self.project.context.user(),
            closed: None,
            fingerprint,
            steps: pb
                .steps
                .iter()
                .map(|s| StepRecord {
                    id: s.id.clone(),
                    status: Status::Pending,
                    by: None,
                    at: None,
                    result: None,
                    notes: Vec::new(),
                })
                .collect(),
        };
        self.project.audit().append(
            Record::new("incident.open", Outcome::Ok)
                .env(env)
                .detail(format!("{} ({})", incident.id, pb.name)),
        )?;
        failpoint("incident-open:audited");
        self.save(&incident)?;
        Ok(incident)
    }

    /// Saves the record atomically (`0600`), with its version.
    pub fn save(&self, incident: &Incident) -> Result<()> {
        store::save(&KIND, &self.path(&incident.id)?, incident)
    }

    pub fn load(&self, id: &str) -> Result<Incident> {
        store::load(&KIND, &self.path(id)?)?.ok_or_else(|| {
            Error::Usage(format!(
                "no incident `{id}`; `keywarden incident list` shows them"
            ))
        })
    }

    /// Takes the record's lock and reads it again, so a change made meanwhile by another
    /// keywarden (the TUI and the CLI on one incident) is kept, not overwritten.
    fn lock_fresh(&self, incident: &mut Incident) -> Result<store::RecordLock> {
        let lock = store::lock(&self.path(&incident.id)?)?;
        if let Ok(fresh) = self.load(&incident.id) {
            *incident = fresh;
        }
        Ok(lock)
    }

    /// Every incident, newest first.
    pub fn list(&self) -> Result<Vec<Incident>> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json") {
                all.push(self.load(id)?);
            }
        }
        all.sort_by(|a, b| b.opened.cmp(&a.opened).then(b.id.cmp(&a.id)));
        Ok(all)
    }

    /// Records a step's outcome (and an optional note), closes the incident when every
    /// step is closed, saves, and audits. A step cannot close before the steps it requires.
    pub fn record(
        &self,
        incident: &mut Incident,
        pb: &Playbook,
        step_id: &str,
        status: Status,
        result: Option<String>,
        note: Option<&str>,
    ) -> Result<()> {
        let _lock = self.lock_fresh(incident)?;
        pb.step(step_id).ok_or_else(|| {
            let ids: Vec<&str> = pb.steps.iter().map(|s| s.id.as_str()).collect();
            Error::Usage(format!(
                "no step `{step_id}` in playbook {}; its steps are: {}",
                pb.name,
                ids.join(", ")
            ))
        })?;
        if status == Status::Done {
            needs_earlier(incident, pb, step_id)?;
        }
        if status == Status::Skipped && note.is_none_or(|n| n.trim().is_empty()) {
            return Err(Error::Usage(format!(
                "skipping `{step_id}` needs a note saying why (--note)"
            )));
        }
        let now = self.project.context.now();
        let user = self.project.context.user();
        self.project.audit().append(
            Record::new(
                "incident.step",
                match status {
                    Status::Failed => Outcome::Failed,
                    _ => Outcome::Ok,
                },
            )
            .env(&incident.environment)
            .detail(format!("{} {step_id}: {}", incident.id, status.as_str())),
        )?;
        failpoint("incident-step:audited");
        let rec = incident
            .steps
            .iter_mut()
            .find(|s| s.id == step_id)
            .ok_or_else(|| {
                Error::Failed(format!("incident {} has no step `{step_id}`", incident.id))
            })?;
        rec.status = status;
        rec.by = Some(user.clone());
        rec.at = Some(now);
        if result.is_some() {
            rec.result = result;
        }
        if let Some(text) = note.filter(|n| !n.trim().is_empty()) {
            rec.notes.push(Note {
                at: now,
                by: user,
                text: text.to_string(),
            });
        }
        if incident.closed.is_none() && incident.steps.iter().all(|s| s.status.is_closed()) {
            incident.closed = Some(now);
            self.project.audit().append(
                Record::new("incident.close", Outcome::Ok)
                    .env(&incident.environment)
                    .detail(incident.id.clone()),
            )?;
            failpoint("incident-close:audited");
        }
        self.save(incident)
    }

    /// Adds a note to a step without changing its status.
    pub fn note(&self, incident: &mut Incident, step_id: &str, text: &str) -> Result<()> {
        let _lock = self.lock_fresh(incident)?;
        let rec = incident
            .steps
            .iter_mut()
            .find(|s| s.id == step_id)
            .ok_or_else(|| {
                Error::Usage(format!("incident {} has no step `{step_id}`", incident.id))
            })?;
        rec.notes.push(Note {
            at: self.project.context.now(),
            by: self.project.context.user(),
            text: text.to_string(),
        });
        self.save(incident)
    }
}
