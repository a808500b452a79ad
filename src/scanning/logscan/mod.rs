//! Log audit for the compromised-key playbook: search log files for a key and for
//! signature-error lines, and report counts and `file:line` — never the key, never text
//! from a log line.
//!
//! # What is searched
//!
//! For every key, each line is searched for these forms ([`Encoding`]):
//!
//! - **Plain**: the key's bytes as they are.
//! - **UrlEncoded**: percent-encoding as in a query string or form body. Encoders differ in
//!   which characters they escape (Python's `quote_plus` escapes `!`, JavaScript's
//!   `encodeURIComponent` does not) and in hex case, so instead of listing every variant the
//!   line is percent-decoded (`%XX` in either case, `+` as space) and the decoded line is
//!   searched for the key. An occurrence counts as URL-encoded only if at least one of its
//!   characters came from an escape; otherwise it is the plain key and is already reported
//!   as [`Encoding::Plain`]. A key made only of `A-Z a-z 0-9 - . _ ~` has no URL-encoded
//!   form distinct from the plain one and is reported as plain. Double encoding (`%2541`)
//!   is not undone.
//! - **Base64** / **Base64Url**: a key inside a longer base64 run (a Basic auth header, a
//!   base64 JSON payload, a JWT segment) may start at any of the 3 byte offsets of a 3-byte
//!   group. For each offset the key is encoded with that many zero bytes before it, and only
//!   the characters whose 6 bits come entirely from the key are kept: the leading and
//!   trailing characters that mix in a neighbouring byte are dropped. That yields 3 needles
//!   per alphabet, each found whatever surrounds the key. Where the URL-safe needle equals
//!   the standard one (no `+` or `/` in it) the hit is reported as [`Encoding::Base64`].
//! - **JsonEscaped**: the key inside a JSON string, as written by serde_json and
//!   JavaScript's `JSON.stringify` (`\"`, `\\`, `\n`…, other controls `\u00xx`), Python's
//!   `json.dumps` (the same, plus non-ASCII and DEL as `\uxxxx`, surrogate pairs above
//!   U+FFFF) and Go's `encoding/json` (the same as serde_json, plus `<` `>` `&` as
//!   `\u003c` `\u003e` `\u0026` and U+2028/U+2029 escaped). A form equal to the plain key
//!   is not searched twice.
//!
//! A needle shorter than [`MIN_NEEDLE`] bytes (16) is skipped: short strings match random
//! text in logs far too often for a hit to mean anything. Keys written by keywarden are
//! much longer; a key shorter than 16 bytes is effectively not searched in plain or
//! URL-encoded form.
//!
//! Signature errors are found case-insensitively with the named list
//! [`SIGNATURE_PATTERNS`]; a line is counted once, under the first pattern of the list it
//! contains.
//!
//! # Reading
//!
//! Files are read in fixed chunks, never whole. Lines end at `\n` (a trailing `\r` is
//! dropped); bytes need not be UTF-8. Only the first [`LINE_CAP`] bytes (1 MiB) of a line
//! are searched; the rest of a longer line is skipped but the line is counted. Compressed
//! logs (`.gz`, `.tgz`, `.bz2`, `.xz`, `.zst`, `.lz4`, `.Z`, or gzip content) are listed in
//! [`LogScan::unreadable`], not searched. File symlinks are followed, directories matched
//! by a glob are skipped, devices/FIFOs/sockets are listed as unreadable (never opened, so
//! a FIFO cannot hang the scan), and a file matched by several globs (or through a
//! symlink) is scanned once, deduplicated by canonical path.
//!
//! # Hygiene
//!
//! Every buffer that may hold key material — the needles, the read buffer, the current
//! line, its lowercased and percent-decoded copies — is a `Zeroizing<Vec<u8>>` allocated
//! at its final size, so it is never reallocated (which would leave an unwiped copy) and is
//! wiped on drop. `memchr::memmem::Finder`s borrow the needles rather than copying them
//! (they keep only derived tables: rare-byte offsets, shift tables, a rolling hash).
//! [`Hit`], [`LogScan`] and [`LogScanError`] hold paths, numbers, pattern names from
//! [`SIGNATURE_PATTERNS`] and OS error text, never bytes from a key or a log line.
//!
//! This file holds the results and the walk over the globs; [`needles`] are the encodings
//! a key is searched in, [`lines`] the chunked line reader and matcher.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use memchr::memmem::Finder;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::keys::secret::Secret;

mod lines;
mod needles;
mod stream;
use crate::keys::encodings::secret_buf;
use lines::*;
use needles::*;
pub use stream::{KeyNeedles, LineSearch};

/// Needles shorter than this many bytes are not searched (too many false positives).
pub const MIN_NEEDLE: usize = 16;

/// Only the first this many bytes of a line are searched; the line is still counted.
pub const LINE_CAP: usize = 1 << 20;

/// Size of the read buffer.
const READ_CHUNK: usize = 256 * 1024;

/// What [`LogScan::unreadable`] says about a compressed log.
pub const COMPRESSED: &str = "compressed logs are not searched; decompress first";

/// Extensions of compressed files (compared ASCII case-insensitively).
const COMPRESSED_EXTENSIONS: &[&str] = &["gz", "tgz", "bz2", "xz", "zst", "lz4", "z"];

/// One way a key can appear in a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// The key's bytes as they are.
    Plain,
    /// Percent-encoding as in a query string or form body: `%20` or `+` for space, upper
    /// or lower hex, whichever characters the encoder chose to escape.
    UrlEncoded,
    /// Standard base64, at any of the 3 byte alignments inside a longer base64 run.
    Base64,
    /// URL-safe base64 (`-` and `_`), at any alignment; padding is irrelevant.
    Base64Url,
    /// Inside a JSON string, as serde_json, `JSON.stringify`, Python's `json.dumps` or Go's
    /// `encoding/json` escape it.
    JsonEscaped,
}

impl Encoding {
    /// The name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::UrlEncoded => "url-encoded",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::JsonEscaped => "json-escaped",
        }
    }
}

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HitKind {
    /// One of the keys, in this encoding.
    Key(Encoding),
    /// A line matching one of [`SIGNATURE_PATTERNS`].
    SignatureError,
}

/// One finding: a line of a file holding a key or a signature error. A line holding
/// several forms gives one hit per form (several keys in the same form: one hit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The file as found by the glob, relative to `root` when the glob was relative.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    pub kind: HitKind,
    /// For signature errors only: the name of the matched pattern from
    /// [`SIGNATURE_PATTERNS`] — never text from the line.
    pub pattern: Option<&'static str>,
}

/// The result of [`scan`].
#[derive(Debug, Default, Serialize)]
pub struct LogScan {
    /// Files read to the end.
    pub files: usize,
    /// Lines read (a last line without `\n` counts).
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// In the order the files were scanned (glob order), then by line.
    pub hits: Vec<Hit>,
    /// Files matched but not (fully) read: the path and why (OS error text or a fixed
    /// sentence, never file content). Hits found before a read error are kept.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Globs that matched no file.
    pub unmatched_globs: Vec<String>,
}

impl LogScan {
    /// Number of lines × encodings where a key was found.
    pub fn key_hits(&self) -> usize {
        self.hits
            .iter()
            .filter(|h| matches!(h.kind, HitKind::Key(_)))
            .count()
    }

    /// Number of lines with a signature error.
    pub fn signature_errors(&self) -> usize {
        self.hits
            .iter()
            .filter(|h| h.kind == HitKind::SignatureError)
            .count()
    }

    /// Per file with at least one hit, in scan order: (path, key hits, signature errors).
    pub fn by_file(&self) -> Vec<(PathBuf, usize, usize)> {
        let mut out: Vec<(PathBuf, usize, usize)> = Vec::new();
        for hit in &self.hits {
            let pos = match out.iter().position(|(p, _, _)| *p == hit.path) {
                Some(pos) => pos,
                None => {
                    out.push((hit.path.clone(), 0, 0));
                    out.len() - 1
                }
            };
            match hit.kind {
                HitKind::Key(_) => out[pos].1 += 1,
                HitKind::SignatureError => out[pos].2 += 1,
            }
        }
        out
    }
}

/// Why [`scan`] could not run.
#[derive(Debug, thiserror::Error)]
pub enum LogScanError {
    #[error("invalid glob pattern {pattern:?}: {msg} (at character {pos})")]
    InvalidGlob {
        pattern: String,
        /// 0-based character index in `pattern`.
        pos: usize,
        msg: &'static str,
    },
    /// The glob library works on `str`, so relative globs need a UTF-8 root.
    #[error("the log root {} is not valid UTF-8; use absolute globs", root.display())]
    RootNotUtf8 { root: PathBuf },
}

/// A named signature-error pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignaturePattern {
    /// Shown in [`Hit::pattern`].
    pub name: &'static str,
    /// Matched ASCII case-insensitively; written in lowercase.
    pub needle: &'static str,
}

const fn pat(name: &'static str, needle: &'static str) -> SignaturePattern {
    SignaturePattern { name, needle }
}

/// Signature-error messages and exception names, most specific first (a line takes the
/// name of the first pattern it contains). Each is a message or class name the framework
/// really writes:
///
/// - itsdangerous (Flask, Starlette/FastAPI `SessionMiddleware`): the exceptions
///   `BadTimeSignature`, `SignatureExpired` and `BadSignature`, as a traceback names them
///   (`itsdangerous.exc.BadSignature: Signature b'…' does not match`).
/// - Django: `django.core.signing.BadSignature`, the `django.security.SuspiciousSession`
///   warning `Session data corrupted`, and the CSRF failure reasons
///   (`CSRF verification failed. Request aborted.`, `Forbidden (CSRF token missing.)`,
///   `Forbidden (CSRF token incorrect.)`, older `CSRF token missing or incorrect.`).
/// - Flask-WTF (its tokens are signed with `SECRET_KEY`): `The CSRF token is invalid.`
/// - PyJWT: `InvalidSignatureError` (message `Signature verification failed`) and
///   `jwt.exceptions.DecodeError` (qualified, so `UnicodeDecodeError` and
///   `JSONDecodeError` do not match).
/// - Node `jsonwebtoken`: `JsonWebTokenError: invalid signature`; `express-session` with
///   `DEBUG=express-session`: `cookie signature invalid`.
/// - Rails (`secret_key_base`): `ActiveSupport::MessageVerifier::InvalidSignature`.
/// - Laravel (`APP_KEY`): `The MAC is invalid.`
/// - Generic: `signature verification failed`, `invalid signature`, `signature mismatch`.
///
/// Not included: expiry alone (`jwt expired`, PyJWT's `Signature has expired`) says the
/// signature was valid; Flask and Starlette drop a bad session cookie silently, so there is
/// no such message to look for.
pub const SIGNATURE_PATTERNS: &[SignaturePattern] = &[
    pat("itsdangerous BadTimeSignature", "badtimesignature"),
    pat("itsdangerous SignatureExpired", "signatureexpired"),
    pat("itsdangerous BadSignature", "itsdangerous.exc.badsignature"),
    pat("Django BadSignature", "django.core.signing.badsignature"),
    pat("BadSignature (itsdangerous or Django)", "badsignature"),
    pat("Django session data corrupted", "session data corrupted"),
    pat(
        "Django CSRF verification failed",
        "csrf verification failed",
    ),
    pat("Django CSRF token missing", "csrf token missing"),
    pat("Django CSRF token incorrect", "csrf token incorrect"),
    pat("Flask-WTF CSRF token invalid", "csrf token is invalid"),
    pat("PyJWT InvalidSignatureError", "invalidsignatureerror"),
    pat("PyJWT DecodeError", "jwt.exceptions.decodeerror"),
    pat(
        "jsonwebtoken invalid signature",
        "jsonwebtokenerror: invalid signature",
    ),
    pat(
        "Rails MessageVerifier InvalidSignature",
        "messageverifier::invalidsignature",
    ),
    pat("Laravel MAC is invalid", "the mac is invalid"),
    pat(
        "express-session cookie signature invalid",
        "cookie signature invalid",
    ),
    pat(
        "signature verification failed",
        "signature verification failed",
    ),
    pat("invalid signature", "invalid signature"),
    pat("signature mismatch", "signature mismatch"),
];

/// Scans the files matched by `globs` (relative ones from `root`, absolute ones as they
/// are; `**` allowed) for any of `keys` in every [`Encoding`] and for signature-error
/// lines. Every glob is checked before any file is read; an invalid one is the only
/// error (besides a non-UTF-8 `root` with relative globs). Unreadable files are recorded
/// in [`LogScan::unreadable`], not fatal.
pub fn scan(root: &Path, globs: &[String], keys: &[&Secret]) -> Result<LogScan, LogScanError> {
    for g in globs {
        glob::Pattern::new(g).map_err(|e| LogScanError::InvalidGlob {
            pattern: g.clone(),
            pos: e.pos,
            msg: e.msg,
        })?;
    }
    let escaped_root = if globs.iter().any(|g| !Path::new(g).is_absolute()) {
        let r = root.to_str().ok_or_else(|| LogScanError::RootNotUtf8 {
            root: root.to_path_buf(),
        })?;
        glob::Pattern::escape(r)
    } else {
        String::new()
    };

    let needles = Needles::new(keys);
    let matcher = Matcher::new(&needles);
    let mut bufs = Buffers::new();
    let mut out = LogScan::default();
    let mut seen: HashSet<PathBuf> = HashSet::new();

    for g in globs {
        let absolute = Path::new(g).is_absolute();
        let full = if absolute {
            g.clone()
        } else if escaped_root.is_empty() || escaped_root.ends_with('/') {
            format!("{escaped_root}{g}")
        } else {
            format!("{escaped_root}/{g}")
        };
        let shown = |p: &Path| -> PathBuf {
            if absolute {
                p.to_path_buf()
            } else {
                p.strip_prefix(root).unwrap_or(p).to_path_buf()
            }
        };
        let mut matched = false;
        // Checked above; the root part is escaped, so this cannot fail in practice.
        let paths = glob::glob(&full).map_err(|e| LogScanError::InvalidGlob {
            pattern: g.clone(),
            pos: e.pos,
            msg: e.msg,
        })?;
        for entry in paths {
            let path = match entry {
                Ok(path) => path,
                Err(e) => {
                    // A folder the walk could not list.
                    let p = shown(e.path());
                    if seen.insert(e.path().to_path_buf()) {
                        out.unreadable.push((p, e.error().to_string()));
                    }
                    continue;
                }
            };
            let meta = match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    // A dangling symlink, or a file gone since the walk.
                    matched = true;
                    if seen.insert(path.clone()) {
                        out.unreadable.push((shown(&path), e.to_string()));
                    }
                    continue;
                }
            };
            if meta.is_dir() {
                continue;
            }
            matched = true;
            let canonical = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if !seen.insert(canonical) {
                continue;
            }
            let display = shown(&path);
            if !meta.is_file() {
                out.unreadable.push((
                    display,
                    "not a regular file (device, FIFO or socket); not read".to_string(),
                ));
                continue;
            }
            if has_compressed_extension(&path) {
                out.unreadable.push((display, COMPRESSED.to_string()));
                continue;
            }
            let mut stats = FileStats::default();
            let result = scan_file(&path, &matcher, &mut bufs, &display, &mut stats);
            out.lines += stats.lines;
            out.bytes += stats.bytes;
            out.hits.append(&mut stats.hits);
            match result {
                Ok(()) => out.files += 1,
                Err(FileError::Compressed) => out.unreadable.push((display, COMPRESSED.into())),
                Err(FileError::Io(e)) => out.unreadable.push((display, e.to_string())),
            }
        }
        if !matched {
            out.unmatched_globs.push(g.clone());
        }
    }
    Ok(out)
}

fn has_compressed_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        COMPRESSED_EXTENSIONS
            .iter()
            .any(|c| c.eq_ignore_ascii_case(e))
    })
}

#[cfg(test)]
mod tests;
