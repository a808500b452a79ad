//! Reading a large file without its holes.
//!
//! A sparse file (a preallocated database, a disk image, a core file) can be many
//! gigabytes long and hold a few megabytes of data: read byte by byte, its holes (zeros
//! the file system does not store) would cost as long as a real file of that size. Past
//! its first `dense` bytes, [`SkipHoles`] reads only the file's data regions (`lseek`
//! with `SEEK_DATA` and `SEEK_HOLE`) and gives one zero byte in place of each hole. What
//! it gives has the same text as the file's bytes for any search of non-zero bytes: no
//! key form holds a zero byte, so no match could cross a hole, and the zero in its place
//! keeps two data regions from running into each other; holes hold no line feed, so
//! lines are counted the same.

use rustix::fs::{self as rfs, SeekFrom};
use rustix::io::Errno;
use std::io::{self, Read};

/// A reader of `file` up to `size` bytes, its holes past `dense` bytes each given as one
/// zero byte.
pub struct SkipHoles {
    file: std::fs::File,
    /// Where the file's offset is.
    pos: u64,
    size: u64,
    dense: u64,
    /// The end of the data region `pos` is in (`None`: not known yet).
    data_end: Option<u64>,
}

impl SkipHoles {
    /// `file` at its start, `size` bytes long (its size when opened: it is read no
    /// further); the first `dense` bytes are read as they are, holes included.
    pub fn new(file: std::fs::File, size: u64, dense: u64) -> SkipHoles {
        SkipHoles {
            file,
            pos: 0,
            size,
            dense,
            data_end: None,
        }
    }

    /// The end of the data region at or after `pos` and where it starts, or `None` when
    /// only a hole is left. A file system that cannot say is read whole.
    fn next_data(&self) -> io::Result<Option<(u64, u64)>> {
        let start = match rfs::seek(&self.file, SeekFrom::Data(self.pos)) {
            Ok(start) => start,
            // Only a hole from `pos` to the end.
            Err(Errno::NXIO) => return Ok(None),
            // No SEEK_DATA here (an old or remote file system): all of it is data.
            Err(Errno::INVAL | Errno::NOTSUP) => {
                return Ok(Some((self.pos, u64::MAX)));
            }
            Err(e) => return Err(io::Error::from_raw_os_error(e.raw_os_error())),
        };
        let end = match rfs::seek(&self.file, SeekFrom::Hole(start)) {
            Ok(end) => end,
            // Cut shorter than `start` since: the file ends here.
            Err(Errno::NXIO) => return Ok(None),
            Err(e) => return Err(io::Error::from_raw_os_error(e.raw_os_error())),
        };
        Ok(Some((start, end)))
    }
}

impl Read for SkipHoles {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.size {
            return Ok(0);
        }
        if self.pos >= self.dense && self.data_end.is_none_or(|end| self.pos >= end) {
            let here = self.pos;
            let Some((start, end)) = self.next_data()? else {
                // The rest is a hole: one zero for it, then the end.
                self.pos = self.size;
                buf[0] = 0;
                return Ok(1);
            };
            self.data_end = Some(end);
            rfs::seek(&self.file, SeekFrom::Start(start))
                .map_err(|e| io::Error::from_raw_os_error(e.raw_os_error()))?;
            self.pos = start;
            if start > here {
                buf[0] = 0;
                return Ok(1);
            }
        }
        let mut limit = self.size - self.pos;
        if self.pos < self.dense {
            limit = limit.min(self.dense - self.pos);
        } else if let Some(end) = self.data_end {
            limit = limit.min(end - self.pos);
        }
        let want = buf.len().min(usize::try_from(limit).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            // The file was cut shorter than `size` since it was opened: it ends here.
            self.pos = self.size;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    fn sparse(parts: &[(u64, &[u8])], size: u64) -> (tempfile::NamedTempFile, Vec<u8>) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(size).unwrap();
        let mut dense = vec![0u8; size as usize];
        for (at, bytes) in parts {
            f.as_file_mut().seek(io::SeekFrom::Start(*at)).unwrap();
            f.as_file_mut().write_all(bytes).unwrap();
            dense[*at as usize..*at as usize + bytes.len()].copy_from_slice(bytes);
        }
        f.as_file().sync_all().unwrap();
        (f, dense)
    }

    fn read_all(f: &tempfile::NamedTempFile, size: u64, dense: u64, chunk: usize) -> Vec<u8> {
        let mut r = SkipHoles::new(f.reopen().unwrap(), size, dense);
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    /// Without its holes the text is the file's, each run of zeros the holes stood for
    /// (data's own zeros kept) at most as long as it was and never gone: the non-zero
    /// bytes in order, and a zero wherever the file had one between two of them.
    fn same_but_shorter_zero_runs(got: &[u8], want: &[u8]) {
        let words = |b: &[u8]| -> Vec<Vec<u8>> {
            b.split(|&x| x == 0)
                .filter(|w| !w.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        };
        assert_eq!(words(got), words(want));
        assert!(got.len() <= want.len());
        assert_eq!(got.first() == Some(&0), want.first() == Some(&0));
        assert_eq!(got.last() == Some(&0), want.last() == Some(&0));
    }

    #[test]
    fn holes_past_the_dense_part_are_one_zero_each_and_data_is_whole() {
        const MB: u64 = 1 << 20;
        let size = 64 * MB;
        let (f, want) = sparse(
            &[
                (0, b"start\nline two\n"),
                (10 * MB, b"in the middle\n"),
                (10 * MB + 4096, b"next block\n"),
                (40 * MB - 3, b"across a block boundary"),
                (size - 6, b"end!\n\n"),
            ],
            size,
        );
        for chunk in [1, 7, 4096, 1 << 20] {
            for dense in [0, 100, 5 * MB] {
                let got = read_all(&f, size, dense, chunk);
                same_but_shorter_zero_runs(&got, &want);
                // The dense part is read as it is.
                let d = dense.min(size) as usize;
                assert_eq!(&got[..d.min(got.len())], &want[..d.min(got.len())]);
            }
        }
        // Much less is read than the file's length when the file system keeps holes.
        let got = read_all(&f, size, 0, 1 << 20);
        assert!(got.len() < (8 * MB) as usize, "{} bytes", got.len());
    }

    /// A file cut shorter while it is read ends where it now ends, without an error.
    #[test]
    fn a_file_cut_short_while_it_is_read_ends_there() {
        const MB: u64 = 1 << 20;
        let (f, _) = sparse(
            &[(0, b"head"), (8 * MB, b"middle"), (30 * MB, b"tail")],
            32 * MB,
        );
        let mut r = SkipHoles::new(f.reopen().unwrap(), 32 * MB, 0);
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        let n = r.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
        f.as_file().set_len(9 * MB).unwrap();
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.contains("head") && text.contains("middle"), "{text:?}");
        assert!(!text.contains("tail"));
    }

    #[test]
    fn a_file_of_only_a_hole_and_one_read_to_its_size() {
        let (f, _) = sparse(&[], 1 << 24);
        assert_eq!(read_all(&f, 1 << 24, 0, 4096), vec![0]);
        let (f, want) = sparse(&[(5, b"abc")], 100);
        // Read no further than the size it was given.
        assert_eq!(read_all(&f, 7, 100, 4096), &want[..7]);
    }
}
