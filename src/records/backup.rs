//! The backup store: every file's whole content before keywarden changes it.
//!
//! `backups/<id>/` under the project's state folder holds `content` (the bytes as they
//! were) and `meta.json` (when, which environment and file, the fingerprint of the key it
//! held, why). Folders `0700`, files `0600`. Key material lives here and in the targets
//! only; `meta.json` names keys by fingerprint.

use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::fingerprint::Fingerprint;
use crate::records::store;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const BACKUPS_DIR: &str = "backups";

/// How a backup's description (`meta.json`) is kept. Descriptions written before they
/// had a version read as version 1.
const KIND: store::Kind = store::Kind {
    name: "backup record",
    version: 1,
    damaged: "damaged backup record",
    damaged_hint: None,
    read_action: "read the backup record",
};

/// What a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A file's whole content before keywarden changed it.
    #[default]
    File,
    /// A key on its own: a retired key, or the pending key of a rotation.
    Key,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupMeta {
    pub id: String,
    #[serde(default)]
    pub kind: Kind,
    pub created: Timestamp,
    pub environment: String,
    /// The file as the manifest names it (relative to the project root).
    pub target: String,
    /// Where the content came from on disk.
    pub path: PathBuf,
    /// The key the file held, if it held one.
    pub fingerprint: Option<Fingerprint>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct BackupStore {
    dir: PathBuf,
}

impl BackupStore {
    /// The store of the project whose state folder is `state_dir`.
    pub fn new(state_dir: &Path) -> BackupStore {
        BackupStore {
            dir: state_dir.join(BACKUPS_DIR),
        }
    }

    /// Saves a file's `content` and its description; returns the backup's id. Fails
    /// closed: if the backup cannot be written, the caller must not change the file.
    pub fn save(
        &self,
        environment: &str,
        target: &str,
        path: &Path,
        content: &[u8],
        fingerprint: Option<Fingerprint>,
        reason: &str,
    ) -> Result<String> {
        self.save_kind(
            Kind::File,
            environment,
            target,
            path,
            content,
            fingerprint,
            reason,
        )
    }

    /// Saves a key on its own (a retired key, a rotation's pending key).
    pub fn save_key(
        &self,
        environment: &str,
        key: &crate::keys::secret::Secret,
        fingerprint: Fingerprint,
        reason: &str,
    ) -> Result<String> {
        self.save_kind(
            Kind::Key,
            environment,
            "",
            Path::new(""),
            key.expose_secret().as_bytes(),
            Some(fingerprint),
            reason,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn save_kind(
        &self,
        kind: Kind,
        environment: &str,
        target: &str,
        path: &Path,
        content: &[u8],
        fingerprint: Option<Fingerprint>,
        reason: &str,
    ) -> Result<String> {
        fsio::create_private_dir(&self.dir)?;
        let created = Timestamp::now();
        let stamp = created.strftime("%Y%m%dT%H%M%SZ").to_string();
        let safe_env: String = environment
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // A sequence number keeps ids unique within one second; create_dir is the claim.
        for seq in 1..10_000 {
            let id = format!("{stamp}-{safe_env}-{seq}");
            let dir = self.dir.join(&id);
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    fsio::create_private_dir(&dir)?;
                    let meta = BackupMeta {
                        id: id.clone(),
                        kind,
                        created,
                        environment: environment.to_string(),
                        target: target.to_string(),
                        path: path.to_path_buf(),
                        fingerprint,
                        reason: reason.to_string(),
                    };
                    fsio::create_new_private(&dir.join("content"), content)?;
                    store::create(&KIND, &dir.join("meta.json"), &meta)?;
                    return Ok(id);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::writing(&dir, "create the backup folder", e)),
            }
        }
        Err(Error::Failed(format!(
            "{}: too many backups in one second",
            self.dir.display()
        )))
    }

    /// Every backup, oldest first. Damaged entries are skipped (listing must not fail).
    pub fn list(&self) -> Vec<BackupMeta> {
        let mut all: Vec<BackupMeta> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                store::load(&KIND, &e.path().join("meta.json"))
                    .ok()
                    .flatten()
            })
            .collect();
        all.sort_by(|a: &BackupMeta, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// Backup folders whose record is missing or unreadable (a run killed while saving
    /// one, or a damaged disk): their ids and what is wrong. `list` leaves them out.
    pub fn damaged(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| {
                let id = e.file_name().to_string_lossy().into_owned();
                let meta = e.path().join("meta.json");
                let why = match std::fs::read(&meta) {
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                        "its record (meta.json) is missing".to_string()
                    }
                    Err(err) => format!("its record (meta.json) cannot be read: {err}"),
                    Ok(b) if b.is_empty() => "its record (meta.json) is empty".to_string(),
                    Ok(_) => match store::load::<BackupMeta>(&KIND, &meta) {
                        Ok(Some(_)) => return None,
                        Ok(None) => "its record (meta.json) is missing".to_string(),
                        Err(err) => format!("its record (meta.json) is damaged: {err}"),
                    },
                };
                Some((id, why))
            })
            .collect();
        out.sort();
        out
    }

    /// The folder of backup `id`, for messages.
    pub fn folder_path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// The saved bytes of backup `id` (key material: the caller wraps them at once).
    pub fn content(&self, id: &str) -> Result<Zeroizing<Vec<u8>>> {
        let p = self.folder(id)?.join("content");
        std::fs::read(&p)
            .map(Zeroizing::new)
            .map_err(|e| Error::reading(&p, "read the backup", e))
    }

    /// The description of backup `id`.
    pub fn meta(&self, id: &str) -> Result<BackupMeta> {
        let p = self.folder(id)?.join("meta.json");
        store::load(&KIND, &p)?.ok_or_else(|| {
            Error::Usage(format!("no backup `{id}`; `keywarden backups` lists them"))
        })
    }

    /// A key backup's key.
    pub fn key(&self, id: &str) -> Result<crate::keys::secret::Secret> {
        let bytes = self.content(id)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::Failed(format!("backup {id} does not hold a UTF-8 key")))?;
        Ok(crate::keys::secret::Secret::new(text.to_string()))
    }

    /// Deletes backup `id` (retention).
    pub fn remove(&self, id: &str) -> Result<()> {
        let dir = self.folder(id)?;
        std::fs::remove_dir_all(&dir).map_err(|e| Error::writing(&dir, "remove the backup", e))
    }

    fn folder(&self, id: &str) -> Result<PathBuf> {
        if id.is_empty() || id.contains('/') || id.contains("..") {
            return Err(Error::Usage(format!("`{id}` is not a backup id")));
        }
        Ok(self.dir.join(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_private_copies_and_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = BackupStore::new(dir.path());
        let a = store
            .save(
                "production",
                ".env",
                Path::new("/p/.env"),
                b"SECRET_KEY='x'\n",
                None,
                "set",
            )
            .unwrap();
        let b = store
            .save(
                "production",
                ".env",
                Path::new("/p/.env"),
                b"two",
                None,
                "set",
            )
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(&store.content(&a).unwrap()[..], b"SECRET_KEY='x'\n");
        let list = store.list();
        assert_eq!(
            list.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
            vec![a.clone(), b]
        );
        for f in ["content", "meta.json"] {
            let meta = fsio::file_meta(&dir.path().join(BACKUPS_DIR).join(&a).join(f)).unwrap();
            assert_eq!(meta.mode_string(), "0600");
        }
        assert_eq!(
            fsio::file_meta(&dir.path().join(BACKUPS_DIR))
                .unwrap()
                .mode_string(),
            "0700"
        );
        assert!(store.content("../x").is_err());
    }
}
