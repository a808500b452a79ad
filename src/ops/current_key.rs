//! An environment's current key, read for the two places that hand it to a person: the
//! clipboard (`copy`) and the TUI's reveal popup.
//!
//! The key is the one every target of the environment holds. When the targets disagree
//! (drift) there is no "current key" to give: which one the application uses depends on
//! which file it reads, so the caller gets an error that says how to end the drift.
//!
//! [`hand_out`] is what both faces call: it reads the key and records in the audit trail
//! that it is being handed to a person *before* the caller lets it out of memory. If the
//! record cannot be written the key is dropped (and wiped) and the caller gets the error:
//! fail closed, as for every other action.

use crate::error::{Error, Result};
use crate::keys::fingerprint::{Fingerprint, Pepper};
use crate::keys::secret::Secret;
use crate::ops::apply;
use crate::project::Project;
use crate::records::audit::{Outcome, Record};
use crate::targets;

#[derive(Debug)]
pub struct CurrentKey {
    pub key: Secret,
    pub fingerprint: Fingerprint,
    /// The first target holding it, as the manifest names it.
    pub source: String,
}

/// Reads the key of `env_name`; an error when no target holds one or targets disagree.
pub fn read(project: &Project, pepper: &Pepper, env_name: &str) -> Result<CurrentKey> {
    let env = apply::environment(project, env_name)?;
    let mut found: Option<CurrentKey> = None;
    for t in &env.targets {
        let read = targets::read(&project.root, t, project.context.env.reader());
        let Some(key) = read.key() else { continue };
        let fingerprint = pepper.fingerprint(key);
        match &found {
            None => {
                found = Some(CurrentKey {
                    key: key.duplicate(),
                    fingerprint,
                    source: t.label(),
                });
            }
            Some(first) if first.fingerprint != fingerprint => {
                return Err(Error::KeysDisagree {
                    env: env_name.to_string(),
                    first: first.fingerprint.to_string(),
                    first_in: first.source.clone(),
                    second: fingerprint.to_string(),
                    second_in: t.label(),
                });
            }
            Some(_) => {}
        }
    }
    found.ok_or_else(|| Error::NoKey {
        env: env_name.to_string(),
    })
}

/// Why a key leaves keywarden's memory for a person: the audit trail's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handout {
    /// To the clipboard (`keywarden copy`, the TUI's `c`).
    Copy,
    /// On screen (the TUI's reveal popup).
    Reveal,
    /// Into a command's environment (`keywarden run`).
    Run,
}

impl Handout {
    pub fn as_str(self) -> &'static str {
        match self {
            Handout::Copy => "copy",
            Handout::Reveal => "reveal",
            Handout::Run => "run",
        }
    }
}

/// Reads the key of `env_name` (as [`read`]) and appends `copy` or `reveal` to the audit
/// trail. On an audit error the key is wiped and the error returned: the caller must not
/// show or copy anything.
pub fn hand_out(
    project: &Project,
    pepper: &Pepper,
    env_name: &str,
    why: Handout,
) -> Result<CurrentKey> {
    hand_out_to(project, pepper, env_name, why, || Ok(()))
}

/// [`hand_out`] to a place that may not be there (the clipboard): `ready` is asked after
/// the key is found and before it is recorded, so a place that is missing is recorded
/// once, as failed, and the key never leaves memory.
pub fn hand_out_to(
    project: &Project,
    pepper: &Pepper,
    env_name: &str,
    why: Handout,
    ready: impl FnOnce() -> std::result::Result<(), String>,
) -> Result<CurrentKey> {
    let key = read(project, pepper, env_name)?;
    if let Err(missing) = ready() {
        project.audit().append(
            Record::new(why.as_str(), Outcome::Failed)
                .env(env_name)
                .new_fp(key.fingerprint.clone())
                .detail(missing.clone()),
        )?;
        return Err(crate::error::Error::Failed(missing));
    }
    project.audit().append(
        Record::new(why.as_str(), Outcome::Ok)
            .env(env_name)
            .new_fp(key.fingerprint.clone()),
    )?;
    Ok(key)
}
