//! The backup store: every file's whole content before keywarden changes it.
//!
//! `backups/<id>/` under the project's state folder holds `content.age` (the bytes as
//! they were, encrypted with age to the installation's recipient and the manifest's
//! `backup_recipients`: see [`crate::records::crypt`]) and `meta.json` (when, which
//! environment and file, the fingerprint of the key it held, why). Folders `0700`, files
//! `0600`. Key material lives here, encrypted, and in the targets only; `meta.json` names
//! keys by fingerprint.
//!
//! Backups written before encryption hold a plaintext `content`: [`BackupStore::migrate`]
//! (run when a command takes the project's lock) encrypts each into `content.age`, then
//! removes the plaintext. Until then they are read as they are.

use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::fingerprint::Fingerprint;
use crate::records::crypt::Crypt;
use crate::records::store;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const BACKUPS_DIR: &str = "backups";
/// A backup's content, encrypted.
pub const CONTENT: &str = "content.age";
/// A backup's content in plaintext, as written before encryption (migrated away).
pub const LEGACY_CONTENT: &str = "content";

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

/// The contents this process saved, by their `content.age` path: a rotation reads back
/// the key it backed up a moment ago, and a failed one rolls back to the files it saved,
/// without asking for the identity's passphrase (writing never does). Held in zeroizing
/// buffers for the life of the process, as the keys themselves already are.
type Written = Vec<(PathBuf, std::sync::Arc<Zeroizing<Vec<u8>>>)>;
static WRITTEN: std::sync::Mutex<Written> = std::sync::Mutex::new(Vec::new());

fn written(path: &Path) -> Option<Zeroizing<Vec<u8>>> {
    let list = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    list.iter()
        .find(|(p, _)| p == path)
        .map(|(_, c)| Zeroizing::new(c.to_vec()))
}

fn remember_written(path: PathBuf, content: &[u8]) {
    let mut list = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    list.push((path, std::sync::Arc::new(Zeroizing::new(content.to_vec()))));
}

fn forget_written(folder: &Path) {
    let mut list = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    list.retain(|(p, _)| !p.starts_with(folder));
}

#[derive(Debug, Clone)]
pub struct BackupStore {
    dir: PathBuf,
    crypt: Crypt,
    /// Where a migration is recorded (the project's trail; none for a bare store).
    audit: Option<crate::records::audit::AuditLog>,
}

impl BackupStore {
    /// The store of `project`: in its state folder, encrypted to the installation's
    /// recipient and the manifest's `backup_recipients`.
    pub fn of(project: &crate::project::Project) -> BackupStore {
        let crypt = Crypt::new(project.home.root(), project.context.env.clone())
            .with_team(&project.manifest.defaults.backup_recipients);
        BackupStore {
            audit: Some(project.audit()),
            ..BackupStore::at(&project.state_dir(), crypt)
        }
    }

    /// The store in the state folder `state_dir`, encrypted by `crypt`.
    pub fn at(state_dir: &Path, crypt: Crypt) -> BackupStore {
        BackupStore {
            dir: state_dir.join(BACKUPS_DIR),
            crypt,
            audit: None,
        }
    }

    /// The encryption the store uses (for a face that unlocks the identity itself).
    pub fn crypt(&self) -> &Crypt {
        &self.crypt
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
        // Encrypted before anything is created: a backup that cannot be sealed stops the
        // change it was meant to protect.
        let sealed = self.crypt.seal(content)?;
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
                    fsio::create_new_private(&dir.join(CONTENT), &sealed)?;
                    crate::ops::rotation::failpoint("backup:content");
                    remember_written(dir.join(CONTENT), content);
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

    /// Removes the backup folders a killed run left without their record (`meta.json`
    /// missing: the run died between creating the folder and linking the record in place,
    /// before the change the backup was for). Call it holding the project's lock, under
    /// which every backup is written. A record that is there but damaged is kept (and
    /// reported by [`BackupStore::damaged`]). Returns the ids removed.
    pub fn remove_unfinished(&self) -> Vec<String> {
        let mut removed = Vec::new();
        for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let folder = e.path();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let missing = matches!(
                std::fs::symlink_metadata(folder.join("meta.json")),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound
            );
            if is_dir && missing && std::fs::remove_dir_all(&folder).is_ok() {
                forget_written(&folder);
                removed.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        removed
    }

    /// The folder of backup `id`, for messages.
    pub fn folder_path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// The saved bytes of backup `id` (key material: the caller wraps them at once),
    /// decrypted with the installation's identity (which may ask for its passphrase once
    /// per process).
    pub fn content(&self, id: &str) -> Result<Zeroizing<Vec<u8>>> {
        let folder = self.folder(id)?;
        let p = folder.join(CONTENT);
        if let Some(c) = written(&p) {
            return Ok(c);
        }
        match std::fs::read(&p) {
            Ok(sealed) => self.crypt.open(&sealed, &p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Not migrated yet (no command has taken the lock since the upgrade).
                let legacy = folder.join(LEGACY_CONTENT);
                match std::fs::read(&legacy) {
                    Ok(bytes) => Ok(Zeroizing::new(bytes)),
                    Err(le) if le.kind() == std::io::ErrorKind::NotFound => {
                        Err(Error::reading(&p, "read the backup", e))
                    }
                    Err(le) => Err(Error::reading(&legacy, "read the backup", le)),
                }
            }
            Err(e) => Err(Error::reading(&p, "read the backup", e)),
        }
    }

    /// Opens the installation's identity now if reading the backups `ids` will need it
    /// (they are encrypted and this process did not write them): so that a wrong or
    /// missing passphrase stops an operation before its first step, not in the middle.
    pub fn ready<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> Result<()> {
        for id in ids {
            let p = self.folder(id)?.join(CONTENT);
            if written(&p).is_none() && p.exists() {
                return crate::records::crypt::identity::open(&self.crypt).map(|_| ());
            }
        }
        Ok(())
    }

    /// Whether reading the backups `ids` would need a passphrase someone must type: one
    /// of them is encrypted and was not written by this process, and the identity is a
    /// passphrase-protected file that is not open, with no `KEYWARDEN_PASSPHRASE_FILE`.
    pub fn would_ask<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> bool {
        self.crypt.needs_passphrase()
            && ids.into_iter().any(|id| {
                self.folder(id)
                    .map(|f| f.join(CONTENT))
                    .is_ok_and(|p| written(&p).is_none() && p.exists())
            })
    }

    /// Encrypts every backup still in plaintext (written before backups were encrypted):
    /// `content.age` is written whole (temporary file, fsync, link), then `content` is
    /// removed. A run killed in between leaves both; the next run removes the plaintext.
    /// Needs only the recipients, so it never asks for a passphrase (except to make the
    /// installation's identity, the first time). Returns how many were encrypted.
    ///
    /// Recorded in the project's audit trail (`backup.migrate`): `started` with how many
    /// backups are in plaintext before the first is touched (no record, no migration),
    /// then `ok` with how many were encrypted, or `failed` with how far it got.
    pub fn migrate(&self) -> Result<usize> {
        let plain = self.plaintext()?;
        if plain.is_empty() {
            return Ok(0);
        }
        let to_encrypt = plain.iter().filter(|(_, sealed)| !sealed).count();
        if let Some(audit) = &self.audit {
            audit.append(
                crate::records::audit::Record::new(
                    "backup.migrate",
                    crate::records::audit::Outcome::Started,
                )
                .detail(format!(
                    "{} plaintext backup(s) written before encryption: encrypting {to_encrypt}, \
                     then removing the plaintext",
                    plain.len()
                )),
            )?;
        }
        let mut done = 0;
        let result = plain
            .iter()
            .try_for_each(|(folder, sealed)| self.migrate_one(folder, *sealed, &mut done));
        if let Some(audit) = &self.audit {
            let (outcome, detail) = match &result {
                Ok(()) => (
                    crate::records::audit::Outcome::Ok,
                    format!(
                        "{done} plaintext backup(s) encrypted, the plaintext of {} removed",
                        plain.len()
                    ),
                ),
                Err(_) => (
                    crate::records::audit::Outcome::Failed,
                    format!(
                        "{done} of {to_encrypt} plaintext backup(s) encrypted before an error; \
                         the next locked command goes on"
                    ),
                ),
            };
            audit.append(
                crate::records::audit::Record::new("backup.migrate", outcome).detail(detail),
            )?;
        }
        result.map(|()| done)
    }

    /// The backup folders holding a plaintext `content`, each with whether its
    /// `content.age` already exists (a run killed between the two steps).
    fn plaintext(&self) -> Result<Vec<(PathBuf, bool)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::reading(&self.dir, "read the backup folder", e)),
        };
        let mut out: Vec<(PathBuf, bool)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|folder| {
                std::fs::symlink_metadata(folder.join(LEGACY_CONTENT)).is_ok_and(|m| m.is_file())
            })
            .map(|folder| {
                let sealed = folder.join(CONTENT).exists();
                (folder, sealed)
            })
            .collect();
        out.sort();
        Ok(out)
    }

    fn migrate_one(&self, folder: &Path, sealed: bool, done: &mut usize) -> Result<()> {
        let legacy = folder.join(LEGACY_CONTENT);
        if !sealed {
            let plain = Zeroizing::new(
                std::fs::read(&legacy)
                    .map_err(|e| Error::reading(&legacy, "read the backup", e))?,
            );
            let sealed = self.crypt.seal(&plain)?;
            fsio::create_new_private(&folder.join(CONTENT), &sealed)?;
            *done += 1;
        }
        std::fs::remove_file(&legacy)
            .map_err(|e| Error::writing(&legacy, "remove the plaintext backup", e))?;
        std::fs::File::open(folder)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::writing(folder, "sync the folder", e))
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
        forget_written(&dir);
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
    use crate::context::Env;

    /// A store whose identity file opens with a passphrase file (fast scrypt, no keyring).
    fn store_in(dir: &Path) -> BackupStore {
        let pass = dir.join("pass");
        std::fs::write(&pass, "test passphrase\n").unwrap();
        std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let env = Env::from_fn(move |n| match n {
            "KEYWARDEN_PASSPHRASE_FILE" => Some(pass.clone().into_os_string()),
            "KEYWARDEN_KEYRING" => Some("off".into()),
            "KEYWARDEN_TEST_SCRYPT_LOG_N" => Some("4".into()),
            _ => None,
        });
        BackupStore::at(&dir.join("projects/p"), Crypt::new(dir, env))
    }

    #[test]
    fn migrates_plaintext_backups_and_still_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let id = store
            .save("dev", ".env", Path::new("/p/.env"), b"new", None, "set")
            .unwrap();
        // A backup as written before encryption.
        let old = dir.path().join("projects/p").join(BACKUPS_DIR).join(&id);
        let legacy_id = format!("{id}-legacy");
        let legacy = old.with_file_name(&legacy_id);
        std::fs::create_dir(&legacy).unwrap();
        std::fs::copy(old.join("meta.json"), legacy.join("meta.json")).unwrap();
        std::fs::write(legacy.join(LEGACY_CONTENT), b"SECRET_KEY='plain-old-key'\n").unwrap();
        assert_eq!(
            &store.content(&legacy_id).unwrap()[..],
            b"SECRET_KEY='plain-old-key'\n"
        );
        assert_eq!(store.migrate().unwrap(), 1);
        assert!(!legacy.join(LEGACY_CONTENT).exists());
        let sealed = std::fs::read(legacy.join(CONTENT)).unwrap();
        assert!(crate::records::crypt::is_sealed(&sealed));
        assert!(!sealed.windows(12).any(|w| w == b"plain-old-ke"));
        assert_eq!(
            &store.content(&legacy_id).unwrap()[..],
            b"SECRET_KEY='plain-old-key'\n"
        );
        // A run killed between the two steps left both: the plaintext goes, nothing else.
        std::fs::write(legacy.join(LEGACY_CONTENT), b"x").unwrap();
        assert_eq!(store.migrate().unwrap(), 0);
        assert!(!legacy.join(LEGACY_CONTENT).exists());
        assert_eq!(store.migrate().unwrap(), 0);
    }

    #[test]
    fn saves_private_copies_and_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
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
        let state = dir.path().join("projects/p");
        for f in [CONTENT, "meta.json"] {
            let meta = fsio::file_meta(&state.join(BACKUPS_DIR).join(&a).join(f)).unwrap();
            assert_eq!(meta.mode_string(), "0600");
        }
        assert_eq!(
            fsio::file_meta(&state.join(BACKUPS_DIR))
                .unwrap()
                .mode_string(),
            "0700"
        );
        assert!(store.content("../x").is_err());
    }
}
