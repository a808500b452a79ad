//! One read-only pass over many targets (a `status`): each folder opened once.
//!
//! A target's folder is opened below the project root by one `openat2` that refuses every
//! symlink on the way and every step out of the root (`RESOLVE_NO_SYMLINKS |
//! RESOLVE_BENEATH`). A folder that opens is inside the project by construction, and
//! nothing can swap it between a check and the read: its files are opened relative to
//! that handle, never through a symlink, and the same handle lists the folder for the
//! temporary files an interrupted write left behind.
//!
//! Everything else is left to the full resolution ([`super::resolve_inside_with`]),
//! which reports each case: a link on the way (followed when it stays inside the
//! project), a folder that is missing or unreadable, a path with `..` or an absolute
//! one, a kernel without `openat2` (before Linux 5.6, or a filter that refuses it).

use super::FolderCache;
use super::pinned::{Listing, Snapshot, os_err, read_regular, temp_files};
use crate::error::{Error, Result};
use rustix::fs::{self as rfs, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::cell::RefCell;
use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What one pass shares between its threads.
#[derive(Debug)]
pub struct ReadPass {
    /// The project root (canonical), and a handle on it.
    root: PathBuf,
    root_fd: Option<OwnedFd>,
    /// Set once the kernel refused `openat2` as such: every read takes the full way.
    no_openat2: AtomicBool,
    /// The temporary files in each folder opened so far, by the folder's real path (as
    /// bytes: hashing a `Path` walks its components).
    listed: Mutex<foldhash::HashMap<OsString, Listing>>,
    /// Canonical folders, for the reads that take the full way.
    folders: FolderCache,
}

/// The folders that one thread has open for one group of reads (an environment's
/// targets): the last few it tried, so that an environment with a thousand folders does
/// not run the process out of file descriptors; they are closed when it is dropped.
#[derive(Debug)]
pub struct ReadScope<'p> {
    pass: &'p ReadPass,
    /// The last folders (relative to the root) tried, at most [`OPEN_FOLDERS`]; `None`
    /// for one that did not open.
    open: RefCell<Vec<(PathBuf, Option<OwnedFd>)>>,
}

/// Folder handles one scope keeps open (an environment's targets are most often in one
/// or two folders): with one scope per thread, a pass holds a few dozen at most.
const OPEN_FOLDERS: usize = 4;

impl ReadPass {
    /// A pass over the project at `root` (canonical).
    pub fn new(root: &Path) -> ReadPass {
        let root_fd = rfs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok();
        ReadPass {
            root: root.to_path_buf(),
            root_fd,
            no_openat2: AtomicBool::new(false),
            listed: Mutex::default(),
            folders: FolderCache::default(),
        }
    }

    /// The folder cache for reads that take the full way.
    pub fn folders(&self) -> &FolderCache {
        &self.folders
    }

    /// A scope for one thread's group of reads.
    pub fn scope(&self) -> ReadScope<'_> {
        ReadScope {
            pass: self,
            open: RefCell::new(Vec::new()),
        }
    }

    /// The temporary files found in every folder this pass opened, by the folder's real
    /// path (a folder with none maps to an empty listing; one never opened is absent).
    pub fn into_listings(self) -> foldhash::HashMap<OsString, Listing> {
        self.listed.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens the folder `rel` (relative, plain components only; empty: the root itself)
    /// below the root, as a handle of its own (its listing offset is not shared).
    fn open_folder(&self, rel: &Path) -> Option<OwnedFd> {
        let root = self.root_fd.as_ref()?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if rel.as_os_str().is_empty() {
            return rfs::openat(root, ".", flags, Mode::empty()).ok();
        }
        if self.no_openat2.load(Ordering::Relaxed) {
            return None;
        }
        match rfs::openat2(
            root,
            rel,
            flags,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
        ) {
            Ok(fd) => Some(fd),
            // No `openat2` here (ENOSYS), or a seccomp filter that refuses it (EPERM,
            // which opening a folder to read never gives), or an `open_how` this kernel
            // does not know (E2BIG).
            Err(Errno::NOSYS | Errno::PERM | Errno::TOOBIG) => {
                self.no_openat2.store(true, Ordering::Relaxed);
                None
            }
            Err(_) => None,
        }
    }

    /// Lists the temporary files of `dir` (open as `fd`) once per pass.
    fn list_once(&self, dir: PathBuf, fd: BorrowedFd<'_>) {
        let dir = dir.into_os_string();
        if self.listings().contains_key(&dir) {
            return;
        }
        let names = temp_files(fd);
        self.listings().insert(dir, names);
    }

    fn listings(&self) -> std::sync::MutexGuard<'_, foldhash::HashMap<OsString, Listing>> {
        // A panic elsewhere cannot leave the map half-changed: an insert is whole.
        self.listed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ReadScope<'_> {
    /// The pass this scope belongs to.
    pub fn pass(&self) -> &ReadPass {
        self.pass
    }

    /// Reads `path` (relative to the root, as the manifest names it) through its folder's
    /// handle: the file's real path and what was read (`Ok(None)`: it does not exist).
    /// `None` when the full resolution must decide: the path is not plain, its folder
    /// did not open as described above, or the file itself is a symlink.
    pub fn read(&self, path: &Path) -> Option<(PathBuf, Result<Option<Snapshot>>)> {
        if !path.components().all(|c| matches!(c, Component::Normal(_))) {
            return None;
        }
        let name = path.file_name()?;
        let rel: PathBuf = path.parent()?.components().collect();
        // The folder's real path (the root as itself, not `root/`).
        let folder = if rel.as_os_str().is_empty() {
            self.pass.root.clone()
        } else {
            self.pass.root.join(&rel)
        };
        let file = folder.join(name);
        let mut open = self.open.borrow_mut();
        // As bytes: both are built from plain components (comparing `Path`s walks them).
        let index = match open
            .iter()
            .position(|(r, _)| r.as_os_str() == rel.as_os_str())
        {
            Some(i) => i,
            None => {
                let fd = self.pass.open_folder(&rel);
                if let Some(fd) = &fd {
                    self.pass.list_once(folder, fd.as_fd());
                }
                if open.len() == OPEN_FOLDERS {
                    // The oldest is closed; should it be needed again, it is opened again
                    // (and not listed twice).
                    open.remove(0);
                }
                open.push((rel, fd));
                open.len() - 1
            }
        };
        let dir = open[index].1.as_ref()?.as_fd();
        match rfs::openat(
            dir,
            name,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Some((file.clone(), read_regular(&file, fd).map(Some))),
            Err(Errno::LOOP) => None,
            Err(Errno::NOENT) => Some((file, Ok(None))),
            Err(e) => Some((file.clone(), Err(Error::reading(&file, "read", os_err(e))))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each folder is listed under its real path (the root as itself), once per pass,
    /// however many scopes and files read it.
    #[test]
    fn folders_are_listed_once_under_their_real_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("a")).unwrap();
        for f in [
            ".env",
            "a/.env",
            "a/b.env",
            "a/.keywarden-0123456789abcdef.tmp",
        ] {
            std::fs::write(root.join(f), "A=1\n").unwrap();
        }
        let pass = ReadPass::new(&root);
        for _ in 0..2 {
            let scope = pass.scope();
            for f in [".env", "a/.env", "a/b.env"] {
                let (path, read) = scope.read(Path::new(f)).unwrap();
                assert_eq!(path, root.join(f));
                assert_eq!(&read.unwrap().unwrap().bytes[..], b"A=1\n");
            }
        }
        let listed = pass.into_listings();
        let mut keys: Vec<&OsString> = listed.keys().collect();
        keys.sort();
        assert_eq!(keys, [root.as_os_str(), root.join("a").as_os_str()]);
        assert_eq!(
            listed[root.join("a").as_os_str()].names,
            [".keywarden-0123456789abcdef.tmp"]
        );
        assert!(listed[root.as_os_str()].names.is_empty());
        assert!(listed.values().all(|l| l.failed.is_none()));
    }

    /// A scope keeps a few folders open, not one per folder it read.
    #[test]
    fn a_scope_keeps_few_folders_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let pass = ReadPass::new(&root);
        let scope = pass.scope();
        for i in 0..3 * OPEN_FOLDERS {
            std::fs::create_dir(root.join(format!("d{i}"))).unwrap();
            let f = format!("d{i}/.env");
            std::fs::write(root.join(&f), "A=1\n").unwrap();
            assert!(scope.read(Path::new(&f)).unwrap().1.unwrap().is_some());
            assert!(scope.open.borrow().len() <= OPEN_FOLDERS);
        }
        // The first folder again: opened anew, read the same.
        assert!(
            scope
                .read(Path::new("d0/.env"))
                .unwrap()
                .1
                .unwrap()
                .is_some()
        );
    }
}
