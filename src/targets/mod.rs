//! Targets: the places one environment's key lives, read and written the same way
//! whatever their format.
//!
//! Reading never fails as a whole: a missing file, an absent key or a malformed file is a
//! value of [`Value`] or an error kept in [`TargetRead`], so `status` can show every
//! target. Writing is planned first ([`plan_set`]) and applied by the caller only when
//! every target of the environment planned cleanly, so an environment is never left
//! half-updated.
//!
//! Every kind of target goes through one interface, [`kind::TargetKind`] (read → plan →
//! commit); the file formats share the file handling and differ only in their
//! [`text::TextFormat`] (`dotenv`, `toml`). The functions below are what the operations
//! call; they pick the implementation from the manifest's target.

pub mod dotenv;
pub mod kind;
pub mod text;
pub mod toml;
pub mod vault;

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::fsio::{self, FileMeta};
use crate::keys::secret::Secret;
use crate::project::manifest::{Format, Target};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What a target holds.
#[derive(Debug)]
pub enum Value {
    /// The key, as the application reads it; `line` is 1-based where the format has lines.
    Present { key: Secret, line: Option<usize> },
    /// The file exists but does not set the key.
    KeyAbsent,
    /// The file does not exist.
    FileMissing,
    /// The environment variable is not set.
    Unset,
}

#[derive(Debug)]
pub struct TargetRead {
    pub target: Target,
    /// The file read and written (symlinks inside the project resolved); `None` for a
    /// variable.
    pub path: Option<PathBuf>,
    pub meta: Option<FileMeta>,
    pub value: Result<Value>,
    /// What the reader noticed about the file itself: duplicates, readers that disagree.
    pub findings: Vec<Finding>,
    /// A secret store's version and its write time; `None` for files and variables.
    pub remote: Option<vault::Remote>,
}

impl TargetRead {
    pub fn key(&self) -> Option<&Secret> {
        match &self.value {
            Ok(Value::Present { key, .. }) => Some(key),
            _ => None,
        }
    }
}

/// Reads `target` of the project at `root` (canonical). `env_var` reads the process
/// environment.
pub fn read(
    root: &Path,
    target: &Target,
    env_var: &dyn Fn(&str) -> Option<OsString>,
) -> TargetRead {
    read_with(root, target, env_var, None)
}

/// [`read`], through the open folders of one pass's scope.
pub fn read_with(
    root: &Path,
    target: &Target,
    env_var: &dyn Fn(&str) -> Option<OsString>,
    scope: Option<&fsio::ReadScope>,
) -> TargetRead {
    kind::of(target).read(root, env_var, scope)
}

/// The key `target` would read from `text` (a file's content, e.g. a backup), if any.
pub fn key_in_text(target: &Target, text: &str) -> Option<Secret> {
    kind::of(target).key_in(text)
}

/// Whether every reader of `target` reads `key` back exactly; `Err` says why not.
pub fn carries(target: &Target, key: &Secret) -> std::result::Result<(), String> {
    kind::of(target).carries(key)
}

/// A write that has been prepared but not done: the file's folder is already open
/// ([`fsio::PinnedDir`]), so the write lands where the checks were made, and only if the
/// file still holds what was read. Its contents hold keys: `Debug` shows their lengths.
pub struct PlannedWrite {
    /// The target as the manifest names it.
    pub label: String,
    /// The file to replace (symlinks resolved), for messages and backups.
    pub path: PathBuf,
    /// The file's bytes now; `None` if it does not exist yet. Both hold key material.
    pub old: Option<Zeroizing<Vec<u8>>>,
    pub new: Zeroizing<Vec<u8>>,
    destination: Destination,
}

/// Where a planned write lands, held open since it was read.
enum Destination {
    /// A file, by its name in a folder opened once ([`fsio::PinnedDir`]).
    File {
        dir: fsio::PinnedDir,
        name: OsString,
    },
    /// A secret in a store, written with check-and-set.
    Vault(Box<vault::VaultWrite>),
}

impl std::fmt::Debug for PlannedWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedWrite")
            .field("label", &self.label)
            .field("path", &self.path)
            .field("old_len", &self.old.as_ref().map(|o| o.len()))
            .field("new_len", &self.new.len())
            .finish()
    }
}

impl PlannedWrite {
    /// A planned write of a file, by its name in a folder opened at planning.
    pub(crate) fn new(
        label: String,
        path: PathBuf,
        old: Option<Zeroizing<Vec<u8>>>,
        new: Zeroizing<Vec<u8>>,
        dir: fsio::PinnedDir,
        name: OsString,
    ) -> PlannedWrite {
        PlannedWrite {
            label,
            path,
            old,
            new,
            destination: Destination::File { dir, name },
        }
    }

    /// A planned check-and-set write of a store secret.
    pub(crate) fn vault(label: String, w: vault::VaultWrite) -> PlannedWrite {
        PlannedWrite {
            path: PathBuf::from(&label),
            label,
            old: w.old.as_ref().map(|d| d.to_bytes()),
            new: w.new.to_bytes(),
            destination: Destination::Vault(Box::new(w)),
        }
    }

    /// The store write, for a plan of a store target.
    pub fn store_write(&self) -> Option<&vault::VaultWrite> {
        match &self.destination {
            Destination::Vault(w) => Some(w),
            Destination::File { .. } => None,
        }
    }

    pub fn changes_anything(&self) -> bool {
        self.old.as_ref().map(|o| &o[..]) != Some(&self.new[..])
    }

    /// Replaces the file with the new content (mode `0600`) if it still holds what was
    /// read; otherwise changes nothing and says the file changed meanwhile.
    pub fn commit(&self) -> Result<()> {
        if !self.changes_anything() {
            return Ok(());
        }
        match &self.destination {
            Destination::File { dir, name } => dir.replace(
                name,
                self.old.as_deref().map(|o| &o[..]),
                &self.new,
                fsio::PRIVATE_FILE,
            ),
            Destination::Vault(w) => w.commit(),
        }
    }

    /// Undoes [`PlannedWrite::commit`]: the old content back (or the new file removed),
    /// if the file still holds what was written.
    pub fn undo(&self) -> Result<()> {
        if !self.changes_anything() {
            return Ok(());
        }
        let (dir, name) = match &self.destination {
            Destination::File { dir, name } => (dir, name),
            Destination::Vault(w) => return w.undo(),
        };
        match &self.old {
            Some(old) => dir.replace(name, Some(&self.new), old, fsio::PRIVATE_FILE),
            None => dir.remove_if(name, &self.new),
        }
    }
}

/// Why `path` (relative to the project root, normalised) is a file keywarden must never
/// write a key into: the manifest, git's own files and the ignore files that keep
/// secrets out of commits. `None` for any other file.
pub fn not_a_secrets_file(path: &Path) -> Option<&'static str> {
    if path == Path::new(crate::project::manifest::FILE_NAME) {
        return Some("is the manifest itself, which is committed and never holds a key");
    }
    if path.components().any(|c| c.as_os_str() == ".git") {
        return Some("is inside git's own folder");
    }
    match path.file_name()?.to_str()? {
        ".gitignore" | ".gitattributes" | ".gitmodules" | ".dockerignore" => {
            Some("is a git or Docker control file, committed and read by tools, not a secrets file")
        }
        ".keywarden-scan.toml" => Some("is keywarden's own scan configuration"),
        _ => None,
    }
}

/// Refuses `file` (where `path`, inside `root`, resolves to) when it is a file that must
/// never hold a key: a symlink may lead to the manifest or an ignore file, so this is
/// judged by where it lands.
pub(crate) fn refuse_non_secret(root: &Path, path: &Path, file: &Path) -> Result<()> {
    match file.strip_prefix(root).ok().and_then(not_a_secrets_file) {
        Some(why) => Err(Error::input(
            root.join(path),
            None,
            None,
            format!("leads to {}, which {why}", file.display()),
            Some("point the target at the secrets file itself".into()),
        )),
        None => Ok(()),
    }
}

/// Opens the folder of `file` (a resolved path inside `root`) and reads the file.
pub(crate) fn open_pinned(
    root: &Path,
    file: &Path,
) -> Result<(fsio::PinnedDir, OsString, Option<fsio::Snapshot>)> {
    let name = file
        .file_name()
        .ok_or_else(|| Error::input(file, None, None, "names a folder, not a file", None))?
        .to_os_string();
    let parent = file.parent().unwrap_or(root);
    let dir = fsio::PinnedDir::open(root, parent)?;
    let snapshot = dir.read(&name)?;
    Ok((dir, name, snapshot))
}

/// Prepares replacing the whole content of `path` (inside `root`) with `content`, as
/// restores and rollbacks do: pinned and checked like every other write.
pub fn plan_content(root: &Path, path: &Path, label: &str, content: &[u8]) -> Result<PlannedWrite> {
    let file = fsio::resolve_inside(root, path)?;
    refuse_non_secret(root, path, &file)?;
    let (dir, name, snapshot) = open_pinned(root, &file)?;
    Ok(PlannedWrite {
        label: label.to_string(),
        path: file,
        old: snapshot.map(|s| s.bytes),
        new: Zeroizing::new(content.to_vec()),
        destination: Destination::File { dir, name },
    })
}

/// Removes the file at `path` (inside `root`) that keywarden created, through its folder
/// handle and only if it still holds what was read: never a file through a swapped folder
/// or symlink, never one that changed since. `before` gets its content first (to back it
/// up); nothing is removed if it fails. Returns whether there was a file to remove.
pub fn remove_created(
    root: &Path,
    path: &Path,
    before: impl FnOnce(&[u8]) -> Result<()>,
) -> Result<bool> {
    let file = fsio::resolve_inside(root, path)?;
    refuse_non_secret(root, path, &file)?;
    let (dir, name, snapshot) = open_pinned(root, &file)?;
    let Some(snapshot) = snapshot else {
        return Ok(false);
    };
    before(&snapshot.bytes)?;
    dir.remove_if(&name, &snapshot.bytes)?;
    Ok(true)
}

/// Tightens the file at `path` (inside `root`) to `0600` through its folder handle, never
/// through a symlink swapped in since it was checked. `Ok(None)` when it does not
/// exist; otherwise the mode it had.
pub fn make_private(root: &Path, path: &Path) -> Result<Option<u32>> {
    let file = fsio::resolve_inside(root, path)?;
    let name = file
        .file_name()
        .ok_or_else(|| Error::input(&file, None, None, "names a folder, not a file", None))?
        .to_os_string();
    let dir = fsio::PinnedDir::open(root, file.parent().unwrap_or(root))?;
    dir.chmod(&name, fsio::PRIVATE_FILE)
}

/// One change to a key inside a file: set it to a value, or remove it.
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    /// The key's name in the file (`SECRET_KEY`, `auth.secret_key`).
    pub name: &'a str,
    /// `None` removes the key.
    pub value: Option<&'a Secret>,
}

/// Prepares writing `key` to `target`. Environment variables are read-only: `Ok(None)`.
/// Any problem (malformed file, missing folder, a key the format cannot carry) is an
/// error and nothing is written.
pub fn plan_set(root: &Path, target: &Target, key: &Secret) -> Result<Option<PlannedWrite>> {
    let name = match target {
        Target::File { key, .. } => key.as_str(),
        Target::Env { var } => var.as_str(),
        Target::Vault { field, .. } => field.as_str(),
    };
    kind::of(target).plan(
        root,
        &[Edit {
            name,
            value: Some(key),
        }],
    )
}

/// Prepares several edits of one file as one write (a key and its grace-period fallback
/// often share a `.env`). Removing a key that is absent changes nothing.
pub fn plan_edits(
    root: &Path,
    path: &Path,
    format: Format,
    edits: &[Edit],
) -> Result<PlannedWrite> {
    kind::plan_file(root, path, text::of(format), edits)
}
