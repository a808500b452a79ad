//! The journal of an unfinished rotation, revocation, restore or set: which step completed,
//! which keys and backups are involved, which files were already written. It is saved
//! (in `state.json`) before every side effect, so after a crash the rotation can be
//! finished or undone; [`crate::ops::rotation`] is the protocol that writes it.

use crate::keys::fingerprint::Fingerprint;
use crate::ops::command::CommandRun;
use crate::project::state::Grace;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a journaled change of key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Scheduled or requested: the old key may stay in the fallback for a grace period.
    Rotate,
    /// Emergency: the old key leaves every target and fallback at once and is revoked.
    Revoke,
    /// A key from the backup store goes back into the targets.
    Restore,
    /// `set`: one key written to every file of the environment, with no restart, verify
    /// or grace period. Journaled only while its files are being written, so a run killed
    /// between two files is finished or undone like a rotation.
    Set,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rotate => "rotate",
            Kind::Revoke => "revoke",
            Kind::Restore => "restore",
            Kind::Set => "set",
        }
    }
}

/// The last step that completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Created,
    Set,
    Restarted,
    Verified,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Created => "created",
            Step::Set => "set",
            Step::Restarted => "restarted",
            Step::Verified => "verified",
        }
    }
}

/// The record of an unfinished rotation: enough to finish it or undo it after a crash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub kind: Kind,
    pub environment: String,
    pub started: Timestamp,
    /// The last step that completed.
    pub step: Step,
    /// The keys the targets held before (more than one when they had drifted).
    pub old: Vec<Fingerprint>,
    pub new: Fingerprint,
    /// Backup holding the new key.
    pub new_key_backup: String,
    /// Backups holding each old key, by fingerprint.
    pub old_key_backups: BTreeMap<Fingerprint, String>,
    /// Per file (as the manifest names it), the backup of its content before the
    /// rotation; `None` when keywarden created the file.
    pub files: BTreeMap<String, Option<String>>,
    /// Files already written with the new key.
    #[serde(default)]
    pub written: Vec<String>,
    /// The grace period's end, when the old key was put in the fallback.
    pub grace_until: Option<Timestamp>,
    /// The old keys the set step writes to the fallback, newest first, each with the end
    /// of its grace period: the old key (until `grace_until`) and those of earlier
    /// rotations still in their grace period. Empty: the fallback key is removed. Keys
    /// are found by fingerprint in the old-key backups and the fallback file's backup.
    #[serde(default)]
    pub fallbacks: Vec<Grace>,
    pub reason: Option<String>,
    pub restart: Option<CommandRun>,
    pub verify: Option<CommandRun>,
    /// Set before a rollback touches the first file: from then on only finishing the
    /// rollback is safe (resuming would declare done a rotation the files no longer hold).
    #[serde(default)]
    pub rolling_back: bool,
}

impl Journal {
    /// The list the set step writes to the fallback. A journal written before the list
    /// existed names only the old key, through `grace_until`.
    pub fn fallback_list(&self) -> Vec<Grace> {
        match (&self.fallbacks[..], self.grace_until, self.old.first()) {
            ([], Some(until), Some(fp)) if self.kind == Kind::Rotate => vec![Grace {
                fingerprint: fp.clone(),
                until,
            }],
            _ => self.fallbacks.clone(),
        }
    }

    /// `production: rotate … started 2026-…Z, last step done `set``. (The journal cannot
    /// tell a stopped run from one still going: the lock holder can.)
    pub fn describe(&self) -> String {
        format!(
            "{}: {} from {} to {} started {}, last step done `{}`",
            self.environment,
            self.kind.as_str(),
            crate::keys::fingerprint::list(&self.old),
            self.new,
            self.started.strftime("%Y-%m-%d %H:%M:%SZ"),
            self.step.as_str()
        )
    }
}
