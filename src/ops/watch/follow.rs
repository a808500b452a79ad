//! Following one log file like `tail -F`: from its end (a file present at start) or its
//! start (one that appears later), through truncation and rotation (rename and a new
//! file), in constant memory.
//!
//! Bytes are read in [`READ_CHUNK`] pieces into one buffer; a line is searched where it
//! lies in that buffer, or, when it spans reads, in a carry buffer of [`WINDOW`] bytes. A
//! line longer than a window is searched in windows that overlap by [`Searcher::overlap`]
//! bytes (more than any needle is long), so nothing in it is skipped; each kind of hit is
//! reported once per line. Both buffers are allocated once at their final size and wiped
//! on drop (a log line may hold a key).

use super::search::{LineHit, Searcher};
use crate::keys::encodings::secret_buf;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The most bytes of a line searched at once.
pub const WINDOW: usize = 64 * 1024;
/// Bytes read at a time.
pub const READ_CHUNK: usize = 256 * 1024;

/// A log file being followed.
pub struct Followed {
    /// As the glob found it (relative to the project root for a relative glob).
    pub shown: String,
    pub path: PathBuf,
    file: Option<File>,
    /// (device, inode) of the open file.
    id: (u64, u64),
    /// Bytes consumed from the open file.
    pub offset: u64,
    /// Lines completed so far in the open file.
    pub lines: u64,
    /// The current, unfinished line's bytes (at most one window).
    carry: Zeroizing<Vec<u8>>,
    /// Whether the unfinished line has already been searched in windows.
    windowed: bool,
    /// Bytes read in total (metrics, the benchmark).
    pub bytes_read: u64,
}

/// Where to start a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Start,
    End,
    /// A byte offset recorded by an earlier `--once` run, for the same (device, inode).
    Offset(u64, u64, (u64, u64)),
}

impl Followed {
    /// Opens `path` and positions it; `None` when it cannot be opened (reported by the
    /// caller) — it is tried again on the next pass.
    pub fn open(path: PathBuf, shown: String, from: From) -> io::Result<Followed> {
        let mut file = open_regular(&path)?;
        let meta = file.metadata()?;
        let id = (meta.dev(), meta.ino());
        let mut f = Followed {
            shown,
            path,
            file: None,
            id,
            offset: 0,
            lines: 0,
            carry: secret_buf(WINDOW),
            windowed: false,
            bytes_read: 0,
        };
        match from {
            From::Start => {}
            From::Offset(offset, lines, rid) if rid == id && offset <= meta.len() => {
                file.seek(SeekFrom::Start(offset))?;
                f.offset = offset;
                f.lines = lines;
            }
            From::End | From::Offset(..) => {
                // Line numbers count from the file's start: count the lines skipped.
                f.lines = count_lines(&mut file)?;
                f.offset = file.stream_position()?;
            }
        }
        f.file = Some(file);
        Ok(f)
    }

    pub fn id(&self) -> (u64, u64) {
        self.id
    }

    /// The offset of the start of the unfinished line (what a later run resumes from).
    pub fn resume_offset(&self) -> u64 {
        self.offset - self.carry.len() as u64
    }

    /// Reads what was added since the last call, then follows a rotation or truncation:
    /// the old file is read to its end first. Hits go to `out` as (file's shown name,
    /// line number, hit).
    pub fn poll(
        &mut self,
        search: &mut Searcher<'_>,
        read: &mut [u8],
        out: &mut Vec<(String, u64, LineHit)>,
    ) -> io::Result<()> {
        self.read_new(search, read, out)?;
        match std::fs::metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) != self.id => {
                // Rotated: the old file is done (its last line, even without `\n`).
                self.finish_line(search, out);
                let mut file = open_regular(&self.path)?;
                let meta = file.metadata()?;
                self.id = (meta.dev(), meta.ino());
                self.offset = 0;
                self.lines = 0;
                file.seek(SeekFrom::Start(0))?;
                self.file = Some(file);
                self.read_new(search, read, out)?;
            }
            Ok(meta) if meta.len() < self.offset => {
                // Truncated in place (copytruncate): start again from the top.
                self.carry.clear();
                self.windowed = false;
                self.offset = 0;
                self.lines = 0;
                if let Some(f) = &mut self.file {
                    f.seek(SeekFrom::Start(0))?;
                }
                self.read_new(search, read, out)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn read_new(
        &mut self,
        search: &mut Searcher<'_>,
        read: &mut [u8],
        out: &mut Vec<(String, u64, LineHit)>,
    ) -> io::Result<()> {
        loop {
            let Some(file) = self.file.as_mut() else {
                return Ok(());
            };
            let n = match file.read(read) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.offset += n as u64;
            self.bytes_read += n as u64;
            let mut data = &read[..n];
            while let Some(i) = memchr::memchr(b'\n', data) {
                let line_no = self.lines + 1;
                if self.carry.is_empty() && !self.windowed {
                    search_long(search, &data[..i], line_no, &self.shown, out);
                } else {
                    self.push(search, &data[..i], out);
                    search.line(&self.carry, line_no, &self.shown, out);
                    self.carry.clear();
                    search.end_line();
                    self.windowed = false;
                }
                self.lines += 1;
                data = &data[i + 1..];
            }
            if !data.is_empty() {
                self.push(search, data, out);
            }
        }
    }

    /// Appends to the unfinished line; a full window is searched and all but its last
    /// `overlap` bytes dropped.
    fn push(
        &mut self,
        search: &mut Searcher<'_>,
        mut data: &[u8],
        out: &mut Vec<(String, u64, LineHit)>,
    ) {
        let overlap = search.overlap();
        while !data.is_empty() {
            let room = WINDOW - self.carry.len();
            let take = room.min(data.len());
            self.carry.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.carry.len() == WINDOW && !data.is_empty() {
                let line_no = self.lines + 1;
                search.line(&self.carry, line_no, &self.shown, out);
                self.carry.copy_within(WINDOW - overlap.., 0);
                self.carry.truncate(overlap);
                self.windowed = true;
            }
        }
    }

    /// Ends a last line without `\n` (its file was rotated away).
    fn finish_line(&mut self, search: &mut Searcher<'_>, out: &mut Vec<(String, u64, LineHit)>) {
        if !self.carry.is_empty() {
            self.lines += 1;
            search.line(&self.carry, self.lines, &self.shown, out);
            self.carry.clear();
        }
        search.end_line();
        self.windowed = false;
    }
}

/// Searches a line found whole in the read buffer: at once, or in overlapping windows.
fn search_long(
    search: &mut Searcher<'_>,
    line: &[u8],
    line_no: u64,
    shown: &str,
    out: &mut Vec<(String, u64, LineHit)>,
) {
    if line.len() <= WINDOW {
        search.line(line, line_no, shown, out);
    } else {
        let step = WINDOW - search.overlap();
        let mut start = 0;
        loop {
            let end = (start + WINDOW).min(line.len());
            search.line(&line[start..end], line_no, shown, out);
            if end == line.len() {
                break;
            }
            start += step;
        }
    }
    search.end_line();
}

/// Opens a log for reading, refusing anything but a regular file: a FIFO put in a log's
/// place would block the open until a writer came (`O_NONBLOCK` makes it return), and a
/// device such as `/dev/zero` (through a symlink) would be read without end.
fn open_regular(path: &std::path::Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        use std::os::unix::fs::FileTypeExt;
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "a folder"
        };
        return Err(io::Error::other(format!(
            "not a regular file ({what}): a log must be one; replace it with the app's log file"
        )));
    }
    Ok(file)
}

/// Counts the `\n` from the current position to the end, leaving the file at its end.
fn count_lines(file: &mut File) -> io::Result<u64> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut n = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => n += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    // Counting reads whatever the file holds; wipe it.
    zeroize::Zeroize::zeroize(&mut buf[..]);
    Ok(n)
}
