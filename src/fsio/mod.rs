//! File operations that must not lose data: atomic replacement, private folders and files,
//! modes and owners, reading text with located errors, and the per-project lock.
//!
//! Every write goes to a temporary file in the destination's folder, is fsynced, renamed
//! over the destination and the folder is fsynced, so a crash leaves either the old file
//! or the new one, never a mix. New files are `0600`.

pub mod pass;
pub mod pinned;
pub mod sparse;

pub use pass::{ReadPass, ReadScope};
pub use pinned::{Listing, MAX_FILE_BYTES, PinnedDir, Snapshot, open_regular, read_capped};

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

pub const PRIVATE_FILE: u32 = 0o600;
pub const PRIVATE_DIR: u32 = 0o700;

/// Creates `dir` and its missing parents with mode `0700`; tightens an existing folder.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
        .map_err(|e| Error::writing(dir, "create the folder", e))?;
    let meta = fs::metadata(dir).map_err(|e| Error::reading(dir, "read the folder", e))?;
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(PRIVATE_DIR))
            .map_err(|e| Error::writing(dir, "make the folder private", e))?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` atomically; the result has mode `mode`.
/// `path`'s folder must exist (a missing folder is an error, never created silently).
pub fn atomic_write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = parent_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".keywarden-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| Error::writing(dir, "create a temporary file in the folder", e))?;
    // The builder's mode is filtered by the umask; set it exactly.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))
        .map_err(|e| Error::writing(tmp.path(), "set the mode of", e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::writing(path, "write", e))?;
    tmp.persist(path)
        .map_err(|e| Error::writing(path, "replace", e.error))?;
    sync_dir(dir)
}

/// Writes a new file that must not exist yet, `0600`, fsynced, and whole: the bytes go to
/// a temporary file first, which is then linked into place (`link` fails if the name is
/// taken, as `O_EXCL` would), so a crash leaves no half-written file under `path`.
pub fn create_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(pinned::TEMP_PREFIX)
        .suffix(pinned::TEMP_SUFFIX)
        .permissions(fs::Permissions::from_mode(PRIVATE_FILE))
        .tempfile_in(dir)
        .map_err(|e| Error::writing(dir, "create a temporary file in the folder", e))?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(PRIVATE_FILE))
        .map_err(|e| Error::writing(tmp.path(), "set the mode of", e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::writing(path, "write", e))?;
    fs::hard_link(tmp.path(), path).map_err(|e| Error::writing(path, "create", e))?;
    // Dropping `tmp` removes the temporary name; `path` keeps the file.
    drop(tmp);
    sync_dir(dir)
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::writing(dir, "sync the folder", e))
}

/// Reads a file as UTF-8 text. Invalid UTF-8 is an input error at the offending byte's line
/// and column; a NUL byte marks a binary file.
pub fn read_text(path: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::reading(path, "read", e))?;
    text_from_bytes(path, bytes)
}

pub fn text_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<String> {
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        let (line, col) = line_col(&bytes, pos);
        return Err(Error::input(
            path,
            Some(line),
            Some(col),
            "this looks like a binary file (it holds a NUL byte), not a text configuration file",
            Some("check that the manifest points at the right file".into()),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let pos = e.utf8_error().valid_up_to();
        let (line, col) = line_col(e.as_bytes(), pos);
        Error::input(
            path,
            Some(line),
            Some(col),
            "the file is not valid UTF-8",
            Some(
                "convert it to UTF-8 (e.g. `iconv -f latin1 -t utf-8`), then run the command again"
                    .into(),
            ),
        )
    })
}

/// 1-based line and column (in characters) of byte offset `pos`.
pub fn line_col(bytes: &[u8], pos: usize) -> (usize, usize) {
    let before = &bytes[..pos.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Mode bits and owner of an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub mode: u32,
    pub uid: u32,
    pub mtime: i64,
}

impl FileMeta {
    /// `"0600"`.
    pub fn mode_string(&self) -> String {
        format!("{:04o}", self.mode & 0o7777)
    }
}

/// Reads a file and its mode, owner and mtime through one open (`fstat` on the handle).
pub fn read_with_meta(path: &Path) -> io::Result<(Vec<u8>, FileMeta)> {
    let mut f = File::open(path)?;
    let m = f.metadata()?;
    let meta = FileMeta {
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        mtime: m.mtime(),
    };
    let mut bytes = Vec::with_capacity(m.len() as usize + 1);
    f.read_to_end(&mut bytes)?;
    Ok((bytes, meta))
}

pub fn file_meta(path: &Path) -> io::Result<FileMeta> {
    let m = fs::metadata(path)?;
    Ok(FileMeta {
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        mtime: m.mtime(),
    })
}

pub fn current_uid() -> u32 {
    crate::sys::uid()
}

/// Sets mode `0600` on `path`.
pub fn make_private(path: &Path) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(PRIVATE_FILE))
        .map_err(|e| Error::writing(path, "change the mode of", e))
}

/// Lexically normalises `path` (`.` and `..`), without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    if is_normal(path) {
        return path.to_path_buf();
    }
    normalize_components(path)
}

fn normalize_components(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether `path` is its own normal form: relative, and only plain components joined by
/// single slashes (no `.`, `..`, empty component or trailing slash), as manifests name
/// their targets.
fn is_normal(path: &Path) -> bool {
    let b = path.as_os_str().as_encoded_bytes();
    !b.is_empty()
        && b.split(|&c| c == b'/')
            .all(|part| !part.is_empty() && part != b"." && part != b"..")
}

/// Where a write to `path` (inside `root`, which is canonical) really lands. A symlink is
/// followed when its destination stays inside the project; a link leading outside is
/// refused, so keywarden never writes a key where it does not belong.
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf> {
    resolve_inside_with(root, path, None)
}

/// Canonical folders already resolved during one read-only pass (a `status` over many
/// targets shares folders). Never used for writes: they resolve afresh every time.
#[derive(Debug, Default)]
pub struct FolderCache(std::sync::Mutex<std::collections::HashMap<std::ffi::OsString, PathBuf>>);

impl FolderCache {
    /// `fs::canonicalize(dir)`, built from the cached parent plus one `lstat` (a full
    /// `realpath` walks every component from `/` each time).
    pub fn canonical(&self, dir: &Path) -> io::Result<PathBuf> {
        // Keyed by the bytes of the path (hashing a `Path` walks its components).
        if let Some(p) = self
            .0
            .lock()
            .ok()
            .and_then(|c| c.get(dir.as_os_str()).cloned())
        {
            return Ok(p);
        }
        let resolved = match (dir.parent(), dir.file_name()) {
            (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
                let candidate = self.canonical(parent)?.join(name);
                let meta = fs::symlink_metadata(&candidate)?;
                if meta.file_type().is_symlink() {
                    fs::canonicalize(&candidate)?
                } else if meta.is_dir() {
                    candidate
                } else {
                    return Err(io::Error::new(io::ErrorKind::NotADirectory, "not a folder"));
                }
            }
            _ => fs::canonicalize(dir)?,
        };
        if let Ok(mut c) = self.0.lock() {
            c.insert(dir.as_os_str().to_owned(), resolved.clone());
        }
        Ok(resolved)
    }
}

/// [`resolve_inside`], reusing canonical folders from `cache`.
pub fn resolve_inside_with(
    root: &Path,
    path: &Path,
    cache: Option<&FolderCache>,
) -> Result<PathBuf> {
    let full = root.join(path);
    match fs::symlink_metadata(&full) {
        Ok(m) if m.file_type().is_symlink() => {
            let real = fs::canonicalize(&full)
                .map_err(|e| Error::reading(&full, "follow the symlink", e))?;
            if real.starts_with(root) {
                Ok(real)
            } else {
                Err(Error::input(
                    &full,
                    None,
                    None,
                    format!(
                        "is a symlink to {}, outside the project; keywarden does not write keys outside the project",
                        real.display()
                    ),
                    Some("replace the link with a file inside the project, or point the manifest at the real file".into()),
                ))
            }
        }
        _ => {
            // Not a link (or missing): its folder may still be a link leading elsewhere.
            let parent = parent_of(&full);
            let resolved = match cache {
                Some(c) => c.canonical(parent),
                None => fs::canonicalize(parent),
            };
            match resolved {
                Ok(real_parent) if !real_parent.starts_with(root) => Err(Error::input(
                    &full,
                    None,
                    None,
                    format!(
                        "its folder resolves to {}, outside the project",
                        real_parent.display()
                    ),
                    Some("keep targets inside the project folder".into()),
                )),
                Ok(real_parent) => Ok(real_parent.join(full.file_name().unwrap_or_default())),
                // A folder that does not exist yet: the file is missing, not unreadable,
                // as long as the nearest folder that does exist is inside the project.
                Err(e)
                    if e.kind() == std::io::ErrorKind::NotFound
                        && !parent
                            .components()
                            .any(|c| matches!(c, std::path::Component::ParentDir)) =>
                {
                    let mut existing = parent;
                    let mut rest = Vec::new();
                    loop {
                        // A link to nowhere is not a missing folder: where it leads is
                        // unknown, so nothing is said to be inside the project.
                        if fs::symlink_metadata(existing).is_ok_and(|m| m.file_type().is_symlink())
                        {
                            return Err(Error::input(
                                existing,
                                None,
                                None,
                                "is a symlink to a folder that does not exist",
                                Some("point the target at a real folder inside the project".into()),
                            ));
                        }
                        rest.push(existing.file_name().unwrap_or_default().to_owned());
                        existing = parent_of(existing);
                        if let Ok(real) = fs::canonicalize(existing) {
                            if !real.starts_with(root) {
                                return Err(Error::input(
                                    &full,
                                    None,
                                    None,
                                    format!(
                                        "its folder resolves to {}, outside the project",
                                        real.display()
                                    ),
                                    Some("keep targets inside the project folder".into()),
                                ));
                            }
                            let mut path = real;
                            for part in rest.iter().rev() {
                                path.push(part);
                            }
                            return Ok(path.join(full.file_name().unwrap_or_default()));
                        }
                        if existing.as_os_str().is_empty() || existing == root {
                            return Err(Error::reading(parent, "open the folder", e));
                        }
                    }
                }
                Err(e) => Err(Error::reading(parent, "open the folder", e)),
            }
        }
    }
}

/// The per-project advisory lock: one keywarden process mutates a project at a time.
/// Dropping it releases the lock.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Takes the lock at `path` without waiting; if another process holds it, the error
    /// names that process's pid (exit code 3).
    pub fn acquire(path: &Path) -> Result<ProjectLock> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(PRIVATE_FILE)
            .open(path)
            .map_err(|e| Error::writing(path, "open the lock file", e))?;
        match file.try_lock() {
            Ok(()) => {
                // The pid is written over the old one in one write, padded to a fixed
                // width, never after emptying the file: a process that finds the lock
                // taken always reads a whole pid (this one's, or a finished holder's,
                // which it recognises as gone and reads again).
                use std::os::unix::fs::FileExt;
                let line = format!("{:>10}\n", std::process::id());
                file.write_all_at(line.as_bytes(), 0)
                    .and_then(|_| file.set_len(line.len() as u64))
                    .and_then(|_| file.sync_data())
                    .map_err(|e| Error::writing(path, "write the lock file", e))?;
                Ok(ProjectLock { _file: file })
            }
            Err(fs::TryLockError::WouldBlock) => Err(Error::Locked {
                pid: holder_from_kernel(&file).or_else(|| holder_pid(&mut file)),
                lock: path.to_path_buf(),
            }),
            Err(fs::TryLockError::Error(e)) => Err(Error::writing(path, "lock", e)),
        }
    }
}

/// The pid of the process holding the lock on `file`, as the kernel knows it
/// (`/proc/locks`, Linux): right even in the instant before the holder has written its
/// pid into the file. `None` where the kernel does not say.
fn holder_from_kernel(file: &File) -> Option<u32> {
    let st = rustix::fs::fstat(file).ok()?;
    let want = format!(
        "{:02x}:{:02x}:{}",
        rustix::fs::major(st.st_dev),
        rustix::fs::minor(st.st_dev),
        st.st_ino
    );
    let locks = fs::read_to_string("/proc/locks").ok()?;
    // `1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF`; a waiter's line has `->` after
    // the number and names no holder.
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() >= 6 && f[1] == "FLOCK" && f[5] == want)
            .then(|| f[4].parse().ok())
            .flatten()
    })
}

/// The pid in a lock file held by another process. The holder writes it right after
/// taking the lock, so a file that names no running process yet is read again for a
/// moment before giving up.
fn holder_pid(file: &mut File) -> Option<u32> {
    use std::io::Seek;
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let mut last = None;
    loop {
        let mut s = String::new();
        let read = file
            .seek(io::SeekFrom::Start(0))
            .and_then(|_| file.read_to_string(&mut s));
        if read.is_ok() {
            last = s.trim().parse::<u32>().ok().or(last);
            if let Some(pid) = last
                && Path::new(&format!("/proc/{pid}")).exists()
            {
                return Some(pid);
            }
        }
        if std::time::Instant::now() > deadline {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_a_missing_file_unless_a_link_leads_nowhere() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let got = resolve_inside(&root, Path::new("deploy/prod/.env")).unwrap();
        assert_eq!(got, root.join("deploy/prod/.env"));
        std::os::unix::fs::symlink("../nowhere-at-all", root.join("deploy")).unwrap();
        let err = resolve_inside(&root, Path::new("deploy/prod/.env")).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        // `..` through a missing folder is never dropped into another path.
        let dotdot = resolve_inside(&root, Path::new("x/../.env"));
        assert_ne!(dotdot.ok(), Some(root.join("x/.env")));
    }

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        atomic_write(&p, b"new", PRIVATE_FILE).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(file_meta(&p).unwrap().mode_string(), "0600");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_write_into_a_missing_folder_fails_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = atomic_write(&dir.path().join("nope/f"), b"x", PRIVATE_FILE).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = text_from_bytes(Path::new("a.env"), b"A=1\nB=\xff\n".to_vec()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a.env:2:3: the file is not valid UTF-8"),
            "{err}"
        );
        let err = text_from_bytes(Path::new("b.env"), b"A=1\0".to_vec()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("b.env:1:4: this looks like a binary"),
            "{err}"
        );
    }

    #[test]
    fn second_lock_is_refused_with_pid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let _held = ProjectLock::acquire(&p).unwrap();
        match ProjectLock::acquire(&p) {
            Err(Error::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Locked, got {other:?}"),
        }
    }

    #[test]
    fn symlink_outside_the_project_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(project.path()).unwrap();
        fs::write(outside.path().join("real.env"), "A=1\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("real.env"), root.join(".env")).unwrap();
        let err = resolve_inside(&root, Path::new(".env")).unwrap_err();
        assert!(err.to_string().contains("outside the project"), "{err}");
        fs::write(root.join("in.env"), "A=1\n").unwrap();
        std::os::unix::fs::symlink(root.join("in.env"), root.join("link.env")).unwrap();
        assert_eq!(
            resolve_inside(&root, Path::new("link.env")).unwrap(),
            root.join("in.env")
        );
    }

    #[test]
    fn folder_cache_agrees_with_canonicalize() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(root.join("a/b")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("a/link")).unwrap();
        let cache = FolderCache::default();
        for p in ["a", "a/b", "a/link", "a/b/../b"] {
            assert_eq!(
                cache.canonical(&root.join(p)).unwrap(),
                fs::canonicalize(root.join(p)).unwrap(),
                "{p}"
            );
        }
        assert!(cache.canonical(&root.join("missing/x")).is_err());
        // A linked folder leading outside is still refused through the cache.
        fs::write(outside.path().join("x.env"), "A=1\n").unwrap();
        let err = resolve_inside_with(&root, Path::new("a/link/x.env"), Some(&cache)).unwrap_err();
        assert!(err.to_string().contains("outside the project"), "{err}");
    }

    #[test]
    fn normalize_resolves_dots() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// A path taken as already normal is what the component walk makes of it.
        #[test]
        fn the_normal_shortcut_agrees_with_the_walk(p in "[ab./]{0,12}") {
            let p = Path::new(&p);
            proptest::prop_assert_eq!(normalize(p), normalize_components(p));
        }
    }
}
