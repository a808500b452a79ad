//! Reading and replacing a secrets file through a handle on its folder, opened once.
//!
//! A path is a question asked again at every use: a folder swapped for a symlink between
//! the check ("inside the project") and the write would send the key elsewhere. So a
//! target's folder is opened once, one component at a time below the project root and
//! never through a symlink, and the file is read, its replacement created and renamed
//! into place all relative to that handle (`openat`, `renameat2`).
//!
//! The replacement also checks that the file is still what was read. The new content is
//! swapped in with `RENAME_EXCHANGE`, which hands back the file that was there at that
//! instant: if it is not the one read (someone edited it meanwhile), it is swapped back,
//! so the other writer's version stays and nothing of it is lost. A new file is put in
//! place with `RENAME_NOREPLACE`, so one created meanwhile is never overwritten.
//!
//! Only regular files are read: a FIFO would block forever, a device could stream without
//! end. Reads are capped at [`MAX_FILE_BYTES`], far above any secrets file.

use crate::error::{Error, Result};
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use zeroize::Zeroizing;

/// The largest file keywarden reads as a target: 1 MiB, thousands of times a real `.env`.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The prefix and suffix of keywarden's temporary files, so that a run killed mid-write
/// can be told from the user's files and cleaned up.
pub const TEMP_PREFIX: &str = ".keywarden-";
pub const TEMP_SUFFIX: &str = ".tmp";

/// A folder inside the project, opened without following symlinks.
#[derive(Debug)]
pub struct PinnedDir {
    fd: OwnedFd,
    /// The folder's path, for messages only: it is never opened again.
    shown: PathBuf,
}

/// A file's bytes as read, and what identifies that version of it.
pub struct Snapshot {
    pub bytes: Zeroizing<Vec<u8>>,
    pub mode: u32,
    pub uid: u32,
    pub mtime: i64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("mode", &format_args!("{:04o}", self.mode))
            .finish_non_exhaustive()
    }
}

pub(super) fn os_err(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// What a file that is not a regular one is, in words.
pub fn kind_of(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Fifo => "a FIFO (named pipe)",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Socket => "a socket",
        FileType::Directory => "a folder",
        FileType::Symlink => "a symlink",
        _ => "not a regular file",
    }
}

fn not_regular(path: &Path, file_type: FileType) -> Error {
    Error::input(
        path,
        None,
        None,
        format!(
            "is {}, not a regular file; keywarden reads and writes keys only in regular files",
            kind_of(file_type)
        ),
        Some("point the manifest at the real secrets file".into()),
    )
}

fn too_large(path: &Path, size: u64) -> Error {
    Error::input(
        path,
        None,
        None,
        format!(
            "is {size} bytes, more than a secrets file ever holds (keywarden reads at most {MAX_FILE_BYTES})"
        ),
        Some("check that the manifest points at the right file".into()),
    )
}

impl PinnedDir {
    /// Opens `dir`, which must be `root` or below it (both absolute; `root` canonical),
    /// one component at a time from `root`, refusing any component that is a symlink.
    pub fn open(root: &Path, dir: &Path) -> Result<PinnedDir> {
        let rel = dir.strip_prefix(root).map_err(|_| {
            Error::input(
                dir,
                None,
                None,
                format!("is outside the project ({})", root.display()),
                Some("keep targets inside the project folder".into()),
            )
        })?;
        let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let mut fd = rfs::open(root, dir_flags, Mode::empty())
            .map_err(|e| Error::reading(root, "open the project folder", os_err(e)))?;
        let mut shown = root.to_path_buf();
        for c in rel.components() {
            let Component::Normal(name) = c else {
                return Err(Error::input(
                    dir,
                    None,
                    None,
                    "has `.` or `..` in its path after resolution",
                    None,
                ));
            };
            shown.push(name);
            fd = match rfs::openat(&fd, name, dir_flags | OFlags::NOFOLLOW, Mode::empty()) {
                Ok(next) => next,
                Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                    return Err(Error::input(
                        &shown,
                        None,
                        None,
                        "was replaced by a symlink or a file while keywarden was working; nothing was written there",
                        Some("check who changed the folder, then run the command again".into()),
                    ));
                }
                Err(Errno::NOENT) => {
                    return Err(Error::input(
                        dir,
                        None,
                        None,
                        format!("the folder does not exist ({} is missing)", shown.display()),
                        Some(format!(
                            "create it (`mkdir -p {}`), or fix the target's path in keywarden.toml",
                            rel.display()
                        )),
                    ));
                }
                Err(e) => return Err(Error::reading(&shown, "open the folder", os_err(e))),
            };
        }
        Ok(PinnedDir { fd, shown })
    }

    /// The folder's path, for messages.
    pub fn path(&self) -> &Path {
        &self.shown
    }

    fn shown(&self, name: &OsStr) -> PathBuf {
        self.shown.join(name)
    }

    /// Reads `name` in this folder: `None` when it does not exist. Refuses anything but a
    /// regular file (without blocking on a FIFO) and anything over [`MAX_FILE_BYTES`].
    pub fn read(&self, name: &OsStr) -> Result<Option<Snapshot>> {
        let path = self.shown(name);
        let Some(fd) = self.open_no_follow(name, &path, "read")? else {
            return Ok(None);
        };
        read_regular(&path, fd).map(Some)
    }

    /// Opens `name` for reading without following a symlink and without blocking on a
    /// FIFO; `None` when it does not exist. `action` words the error.
    fn open_no_follow(
        &self,
        name: &OsStr,
        path: &Path,
        action: &'static str,
    ) -> Result<Option<OwnedFd>> {
        match rfs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP) => Err(not_regular(path, FileType::Symlink)),
            Err(e) => Err(Error::reading(path, action, os_err(e))),
        }
    }

    /// Replaces `name` with `bytes` (mode `mode`) if it still holds `expected` — the bytes
    /// read before, or `None` for a file that did not exist. Otherwise nothing is changed
    /// and the error says the file changed meanwhile.
    pub fn replace(
        &self,
        name: &OsStr,
        expected: Option<&[u8]>,
        bytes: &[u8],
        mode: u32,
    ) -> Result<()> {
        let path = self.shown(name);
        let tmp = self.write_temp(&path, bytes, mode)?;
        let result = self.swap_in(&path, name, &tmp, expected, bytes);
        // Whatever happened, the temporary name holds nothing anyone needs now: our
        // content that did not go in, or the old version that was replaced (backed up).
        let _ = rfs::unlinkat(&self.fd, tmp.as_os_str(), AtFlags::empty());
        result?;
        rfs::fsync(&self.fd).map_err(|e| Error::writing(&self.shown, "sync the folder", os_err(e)))
    }

    fn write_temp(&self, path: &Path, bytes: &[u8], mode: u32) -> Result<OsString> {
        let mut attempt = 0u32;
        loop {
            let tmp = temp_name();
            let fd = match rfs::openat(
                &self.fd,
                tmp.as_os_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
            ) {
                Ok(fd) => fd,
                Err(Errno::EXIST) if attempt < 8 => {
                    attempt += 1;
                    continue;
                }
                Err(e) => {
                    return Err(Error::writing(
                        &self.shown,
                        "create a temporary file in the folder",
                        os_err(e),
                    ));
                }
            };
            let written = (|| -> io::Result<()> {
                // The mode given to openat is filtered by the umask; set it exactly.
                rfs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(os_err)?;
                let mut file = std::fs::File::from(fd);
                file.write_all(bytes)?;
                file.sync_all()
            })();
            if let Err(e) = written {
                let _ = rfs::unlinkat(&self.fd, tmp.as_os_str(), AtFlags::empty());
                return Err(Error::writing(path, "write", e));
            }
            return Ok(tmp);
        }
    }

    fn swap_in(
        &self,
        path: &Path,
        name: &OsStr,
        tmp: &OsStr,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<()> {
        let Some(expected) = expected else {
            return match rfs::renameat_with(&self.fd, tmp, &self.fd, name, RenameFlags::NOREPLACE) {
                Ok(()) => Ok(()),
                Err(Errno::EXIST) => Err(changed(path, "was created by another program")),
                Err(Errno::INVAL) | Err(Errno::NOSYS) | Err(Errno::NOTSUP) => {
                    // A file system without renameat2 flags: check, then rename.
                    if self.read(name)?.is_some() {
                        return Err(changed(path, "was created by another program"));
                    }
                    self.plain_rename(path, tmp, name)
                }
                Err(e) => Err(Error::writing(path, "replace", os_err(e))),
            };
        };
        match rfs::renameat_with(&self.fd, tmp, &self.fd, name, RenameFlags::EXCHANGE) {
            Ok(()) => {
                // `tmp` now names the file that was in place until this instant.
                let was = self.read_name(path, tmp);
                let same = matches!(&was, Ok(Some(s)) if s.bytes[..] == expected[..]);
                if same {
                    return Ok(());
                }
                // Someone else's version: give it its place back.
                rfs::renameat_with(&self.fd, tmp, &self.fd, name, RenameFlags::EXCHANGE).map_err(
                    |e| Error::writing(path, "put back the version found in", os_err(e)),
                )?;
                // `tmp` should hold our content again. If another program wrote into the
                // file while it was ours (between the two exchanges), that edit is in `tmp`
                // now: keep it under a name of its own instead of deleting it.
                let ours = matches!(self.read(tmp), Ok(Some(s)) if s.bytes[..] == new[..]);
                if !ours {
                    let kept = self.keep_aside(name, tmp);
                    return Err(changed(
                        path,
                        &format!(
                            "was changed by another program, twice; the version found first is back in place, the other was kept as {}",
                            self.shown(&kept).display()
                        ),
                    ));
                }
                Err(changed(path, "was changed by another program"))
            }
            Err(Errno::NOENT) => Err(changed(path, "was removed by another program")),
            Err(Errno::INVAL) | Err(Errno::NOSYS) | Err(Errno::NOTSUP) => {
                match self.read(name)? {
                    Some(now) if now.bytes[..] == expected[..] => {}
                    Some(_) => return Err(changed(path, "was changed by another program")),
                    None => return Err(changed(path, "was removed by another program")),
                }
                self.plain_rename(path, tmp, name)
            }
            Err(e) => Err(Error::writing(path, "replace", os_err(e))),
        }
    }

    /// Renames `tmp` to `<name>.keywarden-kept-<n>` (never over an existing file) and
    /// returns the new name; on failure, the name it still has.
    fn keep_aside(&self, name: &OsStr, tmp: &OsStr) -> OsString {
        for _ in 0..8 {
            let mut kept = name.to_os_string();
            kept.push(format!(".keywarden-kept-{:08x}", rand::random::<u32>()));
            if rfs::renameat_with(&self.fd, tmp, &self.fd, &kept, RenameFlags::NOREPLACE).is_ok() {
                return kept;
            }
        }
        tmp.to_os_string()
    }

    /// Sets the mode of `name`, a regular file in this folder, through a handle opened
    /// without following a symlink: a file swapped for a link is never what changes.
    /// `Ok(None)` when it does not exist; otherwise the mode it had.
    pub fn chmod(&self, name: &OsStr, mode: u32) -> Result<Option<u32>> {
        let path = self.shown(name);
        let Some(fd) = self.open_no_follow(name, &path, "read the mode of")? else {
            return Ok(None);
        };
        let st =
            rfs::fstat(&fd).map_err(|e| Error::reading(&path, "read the mode of", os_err(e)))?;
        let file_type = FileType::from_raw_mode(st.st_mode);
        if file_type != FileType::RegularFile {
            return Err(not_regular(&path, file_type));
        }
        let before = (st.st_mode & 0o7777) as u32;
        if before != mode {
            rfs::fchmod(&fd, Mode::from_raw_mode(mode))
                .map_err(|e| Error::writing(&path, "change the mode of", os_err(e)))?;
        }
        Ok(Some(before))
    }

    fn plain_rename(&self, path: &Path, tmp: &OsStr, name: &OsStr) -> Result<()> {
        rfs::renameat(&self.fd, tmp, &self.fd, name)
            .map_err(|e| Error::writing(path, "replace", os_err(e)))
    }

    fn read_name(&self, path: &Path, name: &OsStr) -> Result<Option<Snapshot>> {
        self.read(name)
            .map_err(|_| changed(path, "could not be read back"))
    }

    /// Removes `name` if it is still `expected` (a file keywarden created and must take
    /// back); leaves anything else alone.
    pub fn remove_if(&self, name: &OsStr, expected: &[u8]) -> Result<()> {
        let path = self.shown(name);
        match self.read(name)? {
            Some(now) if now.bytes[..] == expected[..] => {
                rfs::unlinkat(&self.fd, name, AtFlags::empty())
                    .map_err(|e| Error::writing(&path, "remove", os_err(e)))?;
                rfs::fsync(&self.fd)
                    .map_err(|e| Error::writing(&self.shown, "sync the folder", os_err(e)))
            }
            Some(_) => Err(changed(&path, "was changed by another program")),
            None => Ok(()),
        }
    }

    /// The names of temporary files a killed keywarden left in this folder.
    pub fn leftover_temp_files(&self) -> Vec<OsString> {
        // A handle of its own, read from its start: the folder's handle (and any `dup` of
        // it) shares one offset, which a listing leaves at the end.
        match rfs::openat(
            &self.fd,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fresh) => temp_files(fresh.as_fd()).names,
            Err(_) => Vec::new(),
        }
    }

    /// Removes a leftover temporary file (see [`PinnedDir::leftover_temp_files`]).
    pub fn remove_temp(&self, name: &OsStr) -> Result<()> {
        if !is_temp_name(name) {
            return Ok(());
        }
        rfs::unlinkat(&self.fd, name, AtFlags::empty())
            .map_err(|e| Error::writing(self.shown(name), "remove", os_err(e)))
    }
}

/// The temporary files of one folder: their names, and the error that stopped the
/// listing if one did (the names are then those read by then). A folder whose listing
/// failed may hold more: its leftovers are unknown, not none.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listing {
    pub names: Vec<OsString>,
    pub failed: Option<String>,
    /// The failure was a permission refused (a folder this user may enter, not list).
    pub denied: bool,
}

impl Listing {
    /// Records the error that stopped the listing.
    pub fn fail(&mut self, e: &io::Error) {
        self.failed = Some(e.to_string());
        self.denied = e.kind() == io::ErrorKind::PermissionDenied;
    }
}

/// The temporary files of the folder at `path`: none when there is no folder there;
/// any other failure (a permission, an I/O error) is kept in the listing.
pub fn list_temp_files(path: &Path) -> Listing {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    match rfs::open(path, flags, Mode::empty()) {
        Ok(fd) => temp_files(fd.as_fd()),
        Err(Errno::NOENT | Errno::NOTDIR) => Listing::default(),
        Err(e) => {
            let mut listing = Listing::default();
            listing.fail(&os_err(e));
            listing
        }
    }
}

/// The names of keywarden's temporary files in the folder open as `fd`, read from the
/// handle's offset (its start, for a folder just opened).
pub(super) fn temp_files(fd: std::os::fd::BorrowedFd<'_>) -> Listing {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 16 * 1024];
    let mut dir = rfs::RawDir::new(fd, &mut buf);
    let mut listing = Listing::default();
    while let Some(entry) = dir.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                listing.fail(&os_err(e));
                break;
            }
        };
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if is_temp_name(name) {
            listing.names.push(name.to_owned());
        }
    }
    listing
}

/// Whether `name` is one of keywarden's temporary file names.
pub fn is_temp_name(name: &OsStr) -> bool {
    let b = name.as_encoded_bytes();
    b.starts_with(TEMP_PREFIX.as_bytes()) && b.ends_with(TEMP_SUFFIX.as_bytes())
}

fn temp_name() -> OsString {
    let n: u64 = rand::random();
    OsString::from(format!("{TEMP_PREFIX}{n:016x}{TEMP_SUFFIX}"))
}

fn changed(path: &Path, what: &str) -> Error {
    Error::Failed(format!(
        "{}: {what} while keywarden was writing it; keywarden left that version in place and wrote nothing to it. Check the file, then run the command again",
        path.display()
    ))
}

/// Reads an open file if it is a regular file of at most [`MAX_FILE_BYTES`].
pub(super) fn read_regular(path: &Path, fd: OwnedFd) -> Result<Snapshot> {
    let st = rfs::fstat(&fd).map_err(|e| Error::reading(path, "read", os_err(e)))?;
    let file_type = FileType::from_raw_mode(st.st_mode);
    if file_type != FileType::RegularFile {
        return Err(not_regular(path, file_type));
    }
    let size = st.st_size as u64;
    if size > MAX_FILE_BYTES {
        return Err(too_large(path, size));
    }
    let mut file = std::fs::File::from(fd).take(MAX_FILE_BYTES + 1);
    // One read asks for a byte more than the file holds: when it returns the size `fstat`
    // gave, the file ended there (it did not grow since), and the read that would return 0
    // is not needed. A file that grew, or a short read, goes on to the end.
    let mut bytes = Zeroizing::new(vec![0u8; size as usize + 1]);
    let first = loop {
        match file.read(&mut bytes[..]) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::reading(path, "read", e)),
        }
    };
    bytes.truncate(first);
    if first as u64 != size {
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::reading(path, "read", e))?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(path, bytes.len() as u64));
    }
    Ok(Snapshot {
        bytes,
        mode: (st.st_mode & 0o7777) as u32,
        uid: st.st_uid as u32,
        mtime: st.st_mtime as i64,
    })
}

/// Opens and reads `path` (any path) under the same rules as [`PinnedDir::read`]: regular
/// files only, never blocking, at most [`MAX_FILE_BYTES`]. `None` when it does not exist.
pub fn read_capped(path: &Path) -> Result<Option<Snapshot>> {
    let fd = match rfs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(Error::reading(path, "read", os_err(e))),
    };
    read_regular(path, fd).map(Some)
}

/// Opens `path` for reading if it is a regular file, never through a symlink and never
/// blocking (a FIFO swapped in is not waited on): the file and its size, or `None` when it
/// does not exist or is not a regular file. Any other failure (permission, I/O) is the
/// caller's to report. Reads from the file are the caller's too, of any length.
pub fn open_regular(path: &Path) -> io::Result<Option<(std::fs::File, u64)>> {
    let fd = match rfs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        // Gone, a symlink, a path through a file; a socket (ENXIO) or a device with no
        // driver (ENODEV): none of them a regular file.
        Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR | Errno::NXIO | Errno::NODEV) => {
            return Ok(None);
        }
        Err(e) => return Err(os_err(e)),
    };
    let st = rfs::fstat(&fd).map_err(os_err)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Ok(None);
    }
    Ok(Some((std::fs::File::from(fd), st.st_size as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn reads_and_replaces_through_the_handle() {
        let (_d, root) = setup();
        fs::create_dir(root.join("deploy")).unwrap();
        fs::write(root.join("deploy/.env"), "A=1\n").unwrap();
        let dir = PinnedDir::open(&root, &root.join("deploy")).unwrap();
        let name = OsStr::new(".env");
        let snap = dir.read(name).unwrap().unwrap();
        assert_eq!(&snap.bytes[..], b"A=1\n");
        dir.replace(name, Some(&snap.bytes), b"A=2\n", 0o600)
            .unwrap();
        assert_eq!(fs::read(root.join("deploy/.env")).unwrap(), b"A=2\n");
        assert_eq!(
            fs::read_dir(root.join("deploy")).unwrap().count(),
            1,
            "no temp left"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(root.join("deploy/.env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o600);
    }

    #[test]
    fn a_swapped_folder_does_not_redirect_the_write() {
        let (_d, root) = setup();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join(".env"), "ELSEWHERE=1\n").unwrap();
        fs::create_dir(root.join("deploy")).unwrap();
        fs::write(root.join("deploy/.env"), "A=1\n").unwrap();
        let dir = PinnedDir::open(&root, &root.join("deploy")).unwrap();
        let snap = dir.read(OsStr::new(".env")).unwrap().unwrap();
        fs::rename(root.join("deploy"), root.join("deploy.real")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("deploy")).unwrap();
        dir.replace(OsStr::new(".env"), Some(&snap.bytes), b"A=2\n", 0o600)
            .unwrap();
        assert_eq!(
            fs::read(outside.path().join(".env")).unwrap(),
            b"ELSEWHERE=1\n"
        );
        assert_eq!(fs::read(root.join("deploy.real/.env")).unwrap(), b"A=2\n");
        // Opening again refuses the symlink.
        let err = PinnedDir::open(&root, &root.join("deploy")).unwrap_err();
        assert!(err.to_string().contains("replaced by a symlink"), "{err}");
    }

    #[test]
    fn a_concurrent_change_is_kept_and_reported() {
        let (_d, root) = setup();
        fs::write(root.join(".env"), "A=1\n").unwrap();
        let dir = PinnedDir::open(&root, &root).unwrap();
        let snap = dir.read(OsStr::new(".env")).unwrap().unwrap();
        fs::write(root.join(".env"), "A=1\nUSER_EDIT=1\n").unwrap();
        let err = dir
            .replace(OsStr::new(".env"), Some(&snap.bytes), b"A=2\n", 0o600)
            .unwrap_err();
        assert!(
            err.to_string().contains("changed by another program"),
            "{err}"
        );
        assert_eq!(fs::read(root.join(".env")).unwrap(), b"A=1\nUSER_EDIT=1\n");
        assert_eq!(fs::read_dir(&root).unwrap().count(), 1, "no temp left");
        // A file that appeared meanwhile is not overwritten either.
        let err = dir
            .replace(OsStr::new("new.env"), None, b"A=2\n", 0o600)
            .map(|()| fs::write(root.join("x"), "").unwrap());
        assert!(err.is_ok());
        let err = dir
            .replace(OsStr::new("new.env"), None, b"A=3\n", 0o600)
            .unwrap_err();
        assert!(
            err.to_string().contains("created by another program"),
            "{err}"
        );
        assert_eq!(fs::read(root.join("new.env")).unwrap(), b"A=2\n");
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let (_d, root) = setup();
        let fifo = root.join("pipe.env");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let dir = PinnedDir::open(&root, &root).unwrap();
        let err = dir.read(OsStr::new("pipe.env")).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = read_capped(&fifo).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = read_capped(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        fs::write(
            root.join("big.env"),
            vec![b'a'; MAX_FILE_BYTES as usize + 1],
        )
        .unwrap();
        let err = dir.read(OsStr::new("big.env")).unwrap_err();
        assert!(
            err.to_string().contains("more than a secrets file"),
            "{err}"
        );
        assert!(dir.read(OsStr::new("missing.env")).unwrap().is_none());
    }

    #[test]
    fn open_regular_hands_over_regular_files_of_any_size_and_nothing_else() {
        let (_d, root) = setup();
        let big = root.join("big.bin");
        fs::write(&big, vec![b'a'; 3 * MAX_FILE_BYTES as usize]).unwrap();
        let (mut file, size) = open_regular(&big).unwrap().unwrap();
        assert_eq!(size, 3 * MAX_FILE_BYTES);
        assert_eq!(io::copy(&mut file, &mut io::sink()).unwrap(), size);
        let fifo = root.join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|s| s.success()),
            "mkfifo"
        );
        assert!(
            open_regular(&fifo).unwrap().is_none(),
            "a FIFO is not waited on"
        );
        assert!(open_regular(Path::new("/dev/zero")).unwrap().is_none());
        let socket = root.join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert!(
            open_regular(&socket).unwrap().is_none(),
            "a socket is skipped"
        );
        std::os::unix::fs::symlink(&big, root.join("link")).unwrap();
        assert!(
            open_regular(&root.join("link")).unwrap().is_none(),
            "never through a symlink"
        );
        assert!(open_regular(&root.join("missing")).unwrap().is_none());
        assert!(open_regular(&big.join("below")).unwrap().is_none());
    }

    #[test]
    fn leftover_temp_files_are_found_and_removed() {
        let (_d, root) = setup();
        fs::write(root.join(".keywarden-0123456789abcdef.tmp"), "SECRET").unwrap();
        fs::write(root.join(".env"), "A=1\n").unwrap();
        let dir = PinnedDir::open(&root, &root).unwrap();
        let left = dir.leftover_temp_files();
        assert_eq!(left, [OsString::from(".keywarden-0123456789abcdef.tmp")]);
        // Each listing reads the folder from its start.
        assert_eq!(dir.leftover_temp_files(), left);
        dir.remove_temp(&left[0]).unwrap();
        dir.remove_temp(OsStr::new(".env")).unwrap();
        assert!(root.join(".env").exists(), "only temp names are removed");
        assert!(dir.leftover_temp_files().is_empty());
    }
}
