//! One way to keep a JSON record on disk, for the state, incident records and backup
//! descriptions. Every record carries a `version` (written by [`save`] when the type has
//! no field of its own; an old record without one reads as version 1); a newer version is
//! refused rather than misread; damage is reported with the line and column. Writes are
//! atomic (temporary file, fsync, rename, fsync the folder), mode `0600` in a `0700`
//! folder, so a crash leaves the old record or the new one, never half of one. A record
//! changed by read-modify-write is held under its own lock ([`lock`]) meanwhile.

use crate::error::{Error, Result};
use crate::fsio;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What kind of record a file holds, for versions and messages.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// `state`, `incident record`, `backup record`.
    pub name: &'static str,
    /// The version this keywarden writes and the newest it reads.
    pub version: u32,
    /// The start of the message for a file that does not parse.
    pub damaged: &'static str,
    /// What to do about a damaged file.
    pub damaged_hint: Option<&'static str>,
    /// How a failed read is worded (`cannot <read_action>`).
    pub read_action: &'static str,
}

#[derive(serde::Deserialize)]
struct VersionOnly {
    version: Option<u32>,
}

/// Reads the record at `path`; `None` when there is no file.
pub fn load<T: DeserializeOwned>(kind: &Kind, path: &Path) -> Result<Option<T>> {
    let text = match std::fs::read(path) {
        Ok(bytes) => fsio::text_from_bytes(path, bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::reading(path, kind.read_action, e)),
    };
    let damaged = |e: serde_json::Error| {
        Error::input(
            path,
            Some(e.line()),
            Some(e.column()),
            format!("{}: {e}", kind.damaged),
            kind.damaged_hint.map(str::to_string),
        )
    };
    // The version first: a newer record is refused as newer, not as damaged.
    if let Ok(VersionOnly {
        version: Some(version),
    }) = serde_json::from_str::<VersionOnly>(&text)
        && version > kind.version
    {
        return Err(Error::input(
            path,
            None,
            None,
            format!(
                "{} version {version} was written by a newer keywarden (this one reads version {})",
                kind.name, kind.version
            ),
            Some("upgrade keywarden".into()),
        ));
    }
    serde_json::from_str(&text).map(Some).map_err(damaged)
}

/// The record as pretty JSON with a final newline, `version` first when the type has no
/// such field of its own.
fn encode<T: Serialize>(kind: &Kind, value: &T) -> Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Failed(format!("cannot encode the {}: {e}", kind.name)))?;
    let has_version =
        serde_json::from_slice::<VersionOnly>(&json).is_ok_and(|v| v.version.is_some());
    if !has_version && json.starts_with(b"{\n") {
        let field = format!("  \"version\": {},\n", kind.version);
        json.splice(2..2, field.into_bytes());
    }
    json.push(b'\n');
    Ok(json)
}

/// Writes the record at `path` atomically (`0600`), creating its folder (`0700`).
pub fn save<T: Serialize>(kind: &Kind, path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        fsio::create_private_dir(dir)?;
    }
    let json = encode(kind, value)?;
    fsio::atomic_write(path, &json, fsio::PRIVATE_FILE)
}

/// Writes a record that must not exist yet (`0600`); it is never rewritten.
pub fn create<T: Serialize>(kind: &Kind, path: &Path, value: &T) -> Result<()> {
    let json = encode(kind, value)?;
    fsio::create_new_private(path, &json)
}

/// Held while a record is read, changed and written back; dropping it releases the lock.
#[derive(Debug)]
pub struct RecordLock {
    _file: File,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Waits for and takes the lock of the record at `path` (a `.lock` file beside it). The
/// hold is short (one read and one write), so waiting is better than failing.
pub fn lock(path: &Path) -> Result<RecordLock> {
    if let Some(dir) = path.parent() {
        fsio::create_private_dir(dir)?;
    }
    let lock = lock_path(path);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(fsio::PRIVATE_FILE)
        .open(&lock)
        .map_err(|e| Error::writing(&lock, "open the lock file", e))?;
    file.lock().map_err(|e| Error::writing(&lock, "lock", e))?;
    Ok(RecordLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    const THING: Kind = Kind {
        name: "thing",
        version: 2,
        damaged: "damaged thing",
        damaged_hint: None,
        read_action: "read",
    };

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Thing {
        name: String,
    }

    #[test]
    fn a_record_is_written_with_its_version_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/thing.json");
        let thing = Thing { name: "a".into() };
        save(&THING, &path, &thing).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("{\n  \"version\": 2,\n  \"name\": \"a\""),
            "{text}"
        );
        assert_eq!(load::<Thing>(&THING, &path).unwrap(), Some(thing));
        assert_eq!(fsio::file_meta(&path).unwrap().mode_string(), "0600");
        assert!(
            load::<Thing>(&THING, &dir.path().join("none.json"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn an_unversioned_record_reads_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("thing.json");
        std::fs::write(&path, r#"{"name": "old"}"#).unwrap();
        assert_eq!(
            load::<Thing>(&THING, &path).unwrap(),
            Some(Thing { name: "old".into() })
        );
        std::fs::write(&path, r#"{"version": 3, "name": "new"}"#).unwrap();
        let err = load::<Thing>(&THING, &path).unwrap_err().to_string();
        assert!(
            err.contains("thing version 3") && err.contains("newer keywarden"),
            "{err}"
        );
        std::fs::write(&path, "{\n  \"name\": \n}").unwrap();
        let err = load::<Thing>(&THING, &path).unwrap_err().to_string();
        assert!(
            err.contains("thing.json:3:") && err.contains("damaged thing"),
            "{err}"
        );
    }

    #[test]
    fn the_lock_is_a_file_beside_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let held = lock(&path).unwrap();
        assert!(dir.path().join("x.json.lock").exists());
        drop(held);
        lock(&path).unwrap();
    }
}
