//! `state.json`: what keywarden knows about a project's keys that the files cannot say.
//!
//! Per environment: the current key's fingerprint, when it was created and how that is
//! known, and the fingerprints it replaced; the old keys its fallback still carries, each
//! with its own expiry. Fingerprints only, never a key. The file is versioned; a newer version than this build understands is refused rather than
//! rewritten, so an older keywarden never drops what a newer one recorded.

use crate::error::Result;
use crate::keys::fingerprint::Fingerprint;
use crate::records::store;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";
/// 2: `grace` holds a list of old keys per environment (version 1 held one, and is read).
pub const STATE_VERSION: u32 = 2;

/// How the state is kept on disk.
const KIND: store::Kind = store::Kind {
    name: "state",
    version: STATE_VERSION,
    damaged: "keywarden's state file is damaged",
    damaged_hint: Some(
        "restore it from a backup of the state folder; keywarden will not overwrite it meanwhile",
    ),
    read_action: "read",
};

/// How the creation time of a key is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgeSource {
    /// keywarden wrote the key and recorded the time.
    Recorded,
    /// The oldest modification time of the files holding it: the key is at least this old.
    Mtime,
    /// Neither: e.g. a key only in an environment variable.
    Unknown,
}

impl AgeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AgeSource::Recorded => "recorded",
            AgeSource::Mtime => "mtime",
            AgeSource::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retired {
    pub fingerprint: Fingerprint,
    pub retired_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvState {
    pub fingerprint: Fingerprint,
    pub created: Timestamp,
    #[serde(default)]
    pub previous: Vec<Retired>,
}

/// A key taken out of service for cause: found anywhere later, it is a critical finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revoked {
    pub fingerprint: Fingerprint,
    pub environment: String,
    pub reason: String,
    pub at: Timestamp,
}

/// An old key still accepted through the environment's fallback until `until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grace {
    pub fingerprint: Fingerprint,
    pub until: Timestamp,
}

/// Reads `grace` in both of its forms: per environment a list of [`Grace`], newest first,
/// or (state version 1) the one old key the fallback held then.
fn grace_lists<'de, D>(d: D) -> std::result::Result<BTreeMap<String, Vec<Grace>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrList {
        List(Vec<Grace>),
        One(Grace),
    }
    let map = BTreeMap::<String, OneOrList>::deserialize(d)?;
    Ok(map
        .into_iter()
        .map(|(env, g)| match g {
            OneOrList::List(list) => (env, list),
            OneOrList::One(one) => (env, vec![one]),
        })
        .filter(|(_, list)| !list.is_empty())
        .collect())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// The project's canonical root, to tell state folders apart by eye.
    pub project: PathBuf,
    #[serde(default)]
    pub environments: BTreeMap<String, EnvState>,
    #[serde(default)]
    pub revoked: Vec<Revoked>,
    /// Per environment, the old keys its fallback still carries, newest first, each
    /// until its own grace period ends. Never an empty list.
    #[serde(default, deserialize_with = "grace_lists")]
    pub grace: BTreeMap<String, Vec<Grace>>,
    /// Per environment, the journal of a rotation that has not finished.
    #[serde(default)]
    pub rotations: BTreeMap<String, crate::records::journal::Journal>,
    /// The audit trail's end when this state was written (set by [`State::save`]): a
    /// second witness of the trail, so lines cut from it are counted even when
    /// `audit.head` is gone too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::records::audit::TrailMark>,
}

impl State {
    pub fn new(project: &Path) -> State {
        State {
            version: STATE_VERSION,
            project: project.to_path_buf(),
            environments: BTreeMap::new(),
            revoked: Vec::new(),
            grace: BTreeMap::new(),
            rotations: BTreeMap::new(),
            audit: None,
        }
    }

    /// Loads `dir/state.json`; a missing file is an empty state.
    pub fn load(dir: &Path, project: &Path) -> Result<State> {
        let mut state: State =
            store::load(&KIND, &dir.join(STATE_FILE))?.unwrap_or_else(|| State::new(project));
        // An older version is read as this one and written back as this one.
        state.version = STATE_VERSION;
        Ok(state)
    }

    /// Writes `dir/state.json` atomically (`0600`), creating `dir` (`0700`). Callers hold
    /// the project's lock.
    /// The trail's end as `audit.head` records it now goes with it.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mark = crate::records::audit::TrailMark::recorded_in(dir);
        if mark.is_none() || mark == self.audit {
            return store::save(&KIND, &dir.join(STATE_FILE), self);
        }
        let mut state = self.clone();
        state.audit = mark;
        store::save(&KIND, &dir.join(STATE_FILE), &state)
    }

    /// The end of the last grace period of `env`'s fallback, if it carries an old key.
    pub fn grace_until(&self, env: &str) -> Option<Timestamp> {
        self.grace.get(env)?.iter().map(|g| g.until).max()
    }

    pub fn is_revoked(&self, fp: &Fingerprint) -> Option<&Revoked> {
        self.revoked.iter().find(|r| &r.fingerprint == fp)
    }

    /// Records that `env` now holds the key `fp`, created `at`; the key it replaces is
    /// remembered as retired.
    pub fn record_key(&mut self, env: &str, fp: Fingerprint, at: Timestamp) {
        match self.environments.get_mut(env) {
            Some(es) if es.fingerprint == fp => {}
            Some(es) => {
                let old = std::mem::replace(&mut es.fingerprint, fp);
                es.previous.push(Retired {
                    fingerprint: old,
                    retired_at: at,
                });
                es.created = at;
            }
            None => {
                self.environments.insert(
                    env.to_string(),
                    EnvState {
                        fingerprint: fp,
                        created: at,
                        previous: Vec::new(),
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsio;

    fn fp(s: &str) -> Fingerprint {
        Fingerprint::parse(s).unwrap()
    }

    #[test]
    fn round_trips_and_keeps_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::new(Path::new("/p"));
        let t1: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t2: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        st.record_key("production", fp("kw:00000001"), t1);
        st.record_key("production", fp("kw:00000001"), t2);
        assert_eq!(
            st.environments["production"].created, t1,
            "same key keeps its time"
        );
        st.record_key("production", fp("kw:00000002"), t2);
        st.save(dir.path()).unwrap();
        let back = State::load(dir.path(), Path::new("/p")).unwrap();
        assert_eq!(back, st);
        assert_eq!(
            back.environments["production"].previous[0].fingerprint,
            fp("kw:00000001")
        );
        assert_eq!(
            fsio::file_meta(&dir.path().join(STATE_FILE))
                .unwrap()
                .mode_string(),
            "0600"
        );
    }

    #[test]
    fn a_version_1_state_with_one_old_key_reads_as_a_list_of_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(STATE_FILE),
            r#"{"version": 1, "project": "/p",
                "grace": {"production": {"fingerprint": "kw:00000001", "until": "2026-01-08T00:00:00Z"}}}"#,
        )
        .unwrap();
        let st = State::load(dir.path(), Path::new("/p")).unwrap();
        let until: Timestamp = "2026-01-08T00:00:00Z".parse().unwrap();
        assert_eq!(
            st.grace["production"],
            vec![Grace {
                fingerprint: fp("kw:00000001"),
                until
            }]
        );
        assert_eq!(st.grace_until("production"), Some(until));
        // Written back, it is this version's list form, and reads back the same.
        st.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
        assert!(
            text.contains(&format!("\"version\": {STATE_VERSION}")),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["grace"]["production"].is_array(), "{text}");
        assert_eq!(State::load(dir.path(), Path::new("/p")).unwrap(), st);
    }

    #[test]
    fn a_list_of_old_keys_round_trips_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::new(Path::new("/p"));
        let t1: Timestamp = "2026-01-08T00:00:00Z".parse().unwrap();
        let t2: Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
        st.grace.insert(
            "production".into(),
            vec![
                Grace {
                    fingerprint: fp("kw:00000002"),
                    until: t2,
                },
                Grace {
                    fingerprint: fp("kw:00000001"),
                    until: t1,
                },
            ],
        );
        st.save(dir.path()).unwrap();
        let back = State::load(dir.path(), Path::new("/p")).unwrap();
        assert_eq!(back, st);
        assert_eq!(back.grace_until("production"), Some(t2));
        assert_eq!(back.grace_until("staging"), None);
    }

    #[test]
    fn damaged_or_newer_state_is_refused_with_location() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(STATE_FILE),
            "{\n  \"version\": 1,\n  oops\n}",
        )
        .unwrap();
        let err = State::load(dir.path(), Path::new("/p"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("state.json:3:"), "{err}");
        std::fs::write(
            dir.path().join(STATE_FILE),
            r#"{"version": 9, "project": "/p"}"#,
        )
        .unwrap();
        let err = State::load(dir.path(), Path::new("/p"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("newer keywarden"), "{err}");
    }
}
