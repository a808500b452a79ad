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

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use memchr::memmem::Finder;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::keys::secret::Secret;

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

/// A buffer for key material, allocated at its final capacity so that it never moves.
fn secret_buf(capacity: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Vec::with_capacity(capacity))
}

/// The byte strings searched for, owned here and wiped on drop.
struct Needles {
    /// Searched in the raw line.
    direct: Vec<(Encoding, Zeroizing<Vec<u8>>)>,
    /// Keys searched in the percent-decoded line.
    url: Vec<Zeroizing<Vec<u8>>>,
}

impl Needles {
    fn new(keys: &[&Secret]) -> Self {
        let mut direct: Vec<(Encoding, Zeroizing<Vec<u8>>)> = Vec::new();
        let mut url: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut add = |enc: Encoding, n: Zeroizing<Vec<u8>>| {
            if n.len() >= MIN_NEEDLE && !direct.iter().any(|(_, d)| **d == *n) {
                direct.push((enc, n));
            }
        };
        for key in keys {
            let s = key.expose_secret();
            let b = s.as_bytes();
            let mut plain = secret_buf(b.len());
            plain.extend_from_slice(b);
            add(Encoding::Plain, plain);
            for style in [JsonStyle::Serde, JsonStyle::Python, JsonStyle::Go] {
                add(Encoding::JsonEscaped, json_escape(s, style));
            }
            for needle in base64_needles(b, &STANDARD_NO_PAD) {
                add(Encoding::Base64, needle);
            }
            for needle in base64_needles(b, &URL_SAFE_NO_PAD) {
                add(Encoding::Base64Url, needle);
            }
            if b.len() >= MIN_NEEDLE
                && b.iter().any(|&c| !is_url_unreserved(c))
                && !url.iter().any(|u| **u == *b)
            {
                let mut k = secret_buf(b.len());
                k.extend_from_slice(b);
                url.push(k);
            }
        }
        Needles { direct, url }
    }
}

fn is_url_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// The base64 forms of `key` for the 3 alignments inside a longer run: for `a` in 0..3,
/// encode `a` zero bytes + key + zero padding to a multiple of 3, then keep characters
/// `ceil(8a/6) .. floor(8(a+n)/6)`, the ones whose 6 bits all come from the key.
fn base64_needles(key: &[u8], engine: &base64::engine::GeneralPurpose) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out = Vec::with_capacity(3);
    if key.is_empty() {
        return out;
    }
    for a in 0..3 {
        let padded_len = (a + key.len()).div_ceil(3) * 3;
        let mut padded = secret_buf(padded_len);
        padded.resize(padded_len, 0);
        padded[a..a + key.len()].copy_from_slice(key);
        let encoded_len = padded_len / 3 * 4;
        let mut encoded = secret_buf(encoded_len);
        encoded.resize(encoded_len, 0);
        let written = engine
            .encode_slice(&padded[..], &mut encoded[..])
            .expect("buffer sized for the encoding");
        debug_assert_eq!(written, encoded_len);
        let start = (8 * a).div_ceil(6);
        let end = 8 * (a + key.len()) / 6;
        let mut needle = secret_buf(end - start);
        needle.extend_from_slice(&encoded[start..end]);
        out.push(needle);
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum JsonStyle {
    /// serde_json and `JSON.stringify`: non-ASCII as is.
    Serde,
    /// Python `json.dumps` (`ensure_ascii=True`): non-ASCII and DEL as `\uxxxx`.
    Python,
    /// Go `encoding/json`: also `<` `>` `&` U+2028 U+2029 as `\uxxxx`.
    Go,
}

fn json_escape(s: &str, style: JsonStyle) -> Zeroizing<Vec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // The longest escape is 6 bytes per input byte (`\u001f` for one byte; a 4-byte
    // character becomes a 12-byte surrogate pair).
    let mut out = secret_buf(s.len() * 6);
    let u = |out: &mut Zeroizing<Vec<u8>>, v: u32| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[((v >> shift) & 0xf) as usize]);
        }
    };
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' if style != JsonStyle::Go => out.extend_from_slice(b"\\b"),
            '\u{c}' if style != JsonStyle::Go => out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => u(&mut out, c as u32),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style == JsonStyle::Go => {
                u(&mut out, c as u32)
            }
            c if style == JsonStyle::Python && (c as u32) >= 0x7f => {
                let v = c as u32;
                if v > 0xffff {
                    let v = v - 0x10000;
                    u(&mut out, 0xd800 + (v >> 10));
                    u(&mut out, 0xdc00 + (v & 0x3ff));
                } else {
                    u(&mut out, v);
                }
            }
            c => {
                let mut tmp = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                tmp.fill(0);
            }
        }
    }
    debug_assert!(out.len() <= s.len() * 6);
    out
}

/// The compiled searchers, borrowing the needles.
struct Matcher<'n> {
    direct: Vec<(Encoding, Finder<'n>)>,
    url: Vec<Finder<'n>>,
    signatures: Vec<(&'static str, Gate, Finder<'static>)>,
    sig_word: Finder<'static>,
    csrf_word: Finder<'static>,
}

/// A cheap pre-check shared by many signature patterns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gate {
    Signature,
    Csrf,
    None,
}

impl<'n> Matcher<'n> {
    fn new(needles: &'n Needles) -> Self {
        let signatures = SIGNATURE_PATTERNS
            .iter()
            .map(|p| {
                let gate = if p.needle.contains("signature") {
                    Gate::Signature
                } else if p.needle.contains("csrf") {
                    Gate::Csrf
                } else {
                    Gate::None
                };
                (p.name, gate, Finder::new(p.needle.as_bytes()))
            })
            .collect();
        Matcher {
            direct: needles
                .direct
                .iter()
                .map(|(e, n)| (*e, Finder::new(&n[..])))
                .collect(),
            url: needles.url.iter().map(|n| Finder::new(&n[..])).collect(),
            signatures,
            sig_word: Finder::new(b"signature"),
            csrf_word: Finder::new(b"csrf"),
        }
    }
}

/// Scratch buffers reused across files; each holds key material and is wiped on drop.
struct Buffers {
    read: Zeroizing<Vec<u8>>,
    line: Zeroizing<Vec<u8>>,
    lower: Zeroizing<Vec<u8>>,
    decoded: Zeroizing<Vec<u8>>,
    /// Indexes in `decoded` of bytes that came from `%XX` or `+` (no key material).
    escapes: Vec<usize>,
}

impl Buffers {
    fn new() -> Self {
        let mut read = secret_buf(READ_CHUNK);
        read.resize(READ_CHUNK, 0);
        Buffers {
            read,
            line: secret_buf(LINE_CAP),
            lower: secret_buf(LINE_CAP),
            decoded: secret_buf(LINE_CAP),
            escapes: Vec::new(),
        }
    }
}

#[derive(Default)]
struct FileStats {
    lines: u64,
    bytes: u64,
    hits: Vec<Hit>,
}

enum FileError {
    Compressed,
    Io(io::Error),
}

fn scan_file(
    path: &Path,
    matcher: &Matcher<'_>,
    bufs: &mut Buffers,
    display: &Path,
    stats: &mut FileStats,
) -> Result<(), FileError> {
    let file = File::open(path).map_err(FileError::Io)?;
    let Buffers {
        read,
        line: carry,
        lower,
        decoded,
        escapes,
    } = bufs;
    let mut first = true;
    let mut on_line = |line_no: u64, line: &[u8], hits: &mut Vec<Hit>| {
        scan_line(line, matcher, lower, decoded, escapes, |kind, pattern| {
            hits.push(Hit {
                path: display.to_path_buf(),
                line: line_no as usize,
                kind,
                pattern,
            })
        });
    };
    let result = for_each_line(
        file,
        read,
        carry,
        |chunk| {
            if first {
                first = false;
                if chunk.starts_with(&[0x1f, 0x8b]) {
                    return false;
                }
            }
            true
        },
        |n, l| on_line(n, l, &mut stats.hits),
        &mut stats.lines,
        &mut stats.bytes,
    );
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(FileError::Compressed),
        Err(e) => Err(FileError::Io(e)),
    }
}

/// Streams `src` in chunks through `read`, calling `f(line_number, line)` for each line
/// (without `\n`, capped at [`LINE_CAP`]). Lines that span chunks are assembled in `carry`,
/// which never grows past its capacity. `check_first` sees the first chunk and may stop the
/// scan (returns `Ok(false)`).
fn for_each_line(
    mut src: impl Read,
    read: &mut [u8],
    carry: &mut Vec<u8>,
    mut check_first: impl FnMut(&[u8]) -> bool,
    mut f: impl FnMut(u64, &[u8]),
    lines: &mut u64,
    bytes: &mut u64,
) -> io::Result<bool> {
    carry.clear();
    // Whether the current line has started in an earlier chunk (it may be empty in
    // `carry` only if the line is empty so far, which is harmless).
    let mut pending = false;
    let mut checked = false;
    loop {
        let n = match src.read(read) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                carry.clear();
                return Err(e);
            }
        };
        let mut data = &read[..n];
        if !checked {
            checked = true;
            if !check_first(data) {
                return Ok(false);
            }
        }
        *bytes += n as u64;
        while let Some(i) = memchr::memchr(b'\n', data) {
            *lines += 1;
            if pending {
                push_capped(carry, &data[..i]);
                f(*lines, carry);
                carry.clear();
                pending = false;
            } else {
                f(*lines, &data[..i.min(LINE_CAP)]);
            }
            data = &data[i + 1..];
        }
        if !data.is_empty() {
            push_capped(carry, data);
            pending = true;
        }
    }
    if pending {
        *lines += 1;
        f(*lines, carry);
        carry.clear();
    }
    Ok(true)
}

/// Appends what fits below [`LINE_CAP`] (and `carry`'s capacity), dropping the rest.
fn push_capped(carry: &mut Vec<u8>, data: &[u8]) {
    let room = LINE_CAP.min(carry.capacity()) - carry.len();
    carry.extend_from_slice(&data[..data.len().min(room)]);
}

fn scan_line(
    line: &[u8],
    m: &Matcher<'_>,
    lower: &mut Vec<u8>,
    decoded: &mut Vec<u8>,
    escapes: &mut Vec<usize>,
    mut report: impl FnMut(HitKind, Option<&'static str>),
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);

    // Keys: one bit per encoding found.
    let mut found = [false; 5];
    for (enc, finder) in &m.direct {
        if !found[*enc as usize] && finder.find(line).is_some() {
            found[*enc as usize] = true;
        }
    }
    if !m.url.is_empty()
        && memchr::memchr2(b'%', b'+', line).is_some()
        && url_decoded_hit(line, &m.url, decoded, escapes)
    {
        found[Encoding::UrlEncoded as usize] = true;
    }
    for enc in [
        Encoding::Plain,
        Encoding::UrlEncoded,
        Encoding::Base64,
        Encoding::Base64Url,
        Encoding::JsonEscaped,
    ] {
        if found[enc as usize] {
            report(HitKind::Key(enc), None);
        }
    }

    // Signature errors.
    lower.clear();
    lower.extend(line.iter().map(u8::to_ascii_lowercase));
    let has_sig = m.sig_word.find(lower).is_some();
    let has_csrf = m.csrf_word.find(lower).is_some();
    for (name, gate, finder) in &m.signatures {
        let open = match gate {
            Gate::Signature => has_sig,
            Gate::Csrf => has_csrf,
            Gate::None => true,
        };
        if open && finder.find(lower).is_some() {
            report(HitKind::SignatureError, Some(name));
            break;
        }
    }
}

/// Percent-decodes `line` into `decoded` and tells whether a key occurs there with at
/// least one of its bytes decoded from an escape (otherwise it is a plain occurrence).
fn url_decoded_hit(
    line: &[u8],
    keys: &[Finder<'_>],
    decoded: &mut Vec<u8>,
    escapes: &mut Vec<usize>,
) -> bool {
    fn hex(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    decoded.clear();
    escapes.clear();
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c == b'%'
            && i + 2 < line.len()
            && let (Some(h), Some(l)) = (hex(line[i + 1]), hex(line[i + 2]))
        {
            escapes.push(decoded.len());
            decoded.push(h << 4 | l);
            i += 3;
            continue;
        }
        if c == b'+' {
            escapes.push(decoded.len());
            decoded.push(b' ');
        } else {
            decoded.push(c);
        }
        i += 1;
    }
    if escapes.is_empty() {
        return false;
    }
    keys.iter().any(|finder| {
        let len = finder.needle().len();
        finder.find_iter(decoded).any(|start| {
            let first = escapes.partition_point(|&e| e < start);
            first < escapes.len() && escapes[first] < start + len
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Zq8#vN2!pL@4wX9$mR6^tY1&kB7*hD3(jF5)";

    fn secret(s: &str) -> Secret {
        Secret::new(s.to_string())
    }

    fn hits_of(line: &[u8], keys: &[&Secret]) -> Vec<(HitKind, Option<&'static str>)> {
        let needles = Needles::new(keys);
        let m = Matcher::new(&needles);
        let mut b = Buffers::new();
        let mut out = Vec::new();
        scan_line(
            line,
            &m,
            &mut b.lower,
            &mut b.decoded,
            &mut b.escapes,
            |k, p| out.push((k, p)),
        );
        out
    }

    fn kinds(line: &[u8], key: &str) -> Vec<HitKind> {
        let s = secret(key);
        hits_of(line, &[&s]).into_iter().map(|(k, _)| k).collect()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Python's `quote_plus`: escape all but `A-Za-z0-9_.-~`, space as `+`.
    fn quote_plus(s: &str, lower_hex: bool) -> String {
        let mut out = String::new();
        for &c in s.as_bytes() {
            if is_url_unreserved(c) {
                out.push(c as char);
            } else if c == b' ' {
                out.push('+');
            } else if lower_hex {
                out.push_str(&format!("%{c:02x}"));
            } else {
                out.push_str(&format!("%{c:02X}"));
            }
        }
        out
    }

    /// JavaScript's `encodeURIComponent`: also leaves `!*'()` as they are.
    fn encode_uri_component(s: &str) -> String {
        let mut out = String::new();
        for &c in s.as_bytes() {
            if is_url_unreserved(c) || b"!*'()".contains(&c) {
                out.push(c as char);
            } else {
                out.push_str(&format!("%{c:02X}"));
            }
        }
        out
    }

    #[test]
    fn plain_key_is_found_once() {
        let line = format!("SECRET_KEY = '{KEY}' loaded");
        assert_eq!(kinds(line.as_bytes(), KEY), [HitKind::Key(Encoding::Plain)]);
    }

    #[test]
    fn base64_every_alignment_and_surrounding() {
        let key = KEY.as_bytes();
        for prefix_len in 0..7 {
            for suffix_len in 0..4 {
                let mut blob = vec![b'u'; prefix_len];
                blob.extend_from_slice(key);
                blob.extend(std::iter::repeat_n(b'z', suffix_len));
                let line = format!("Authorization: Basic {}", b64(&blob));
                assert_eq!(
                    kinds(line.as_bytes(), KEY),
                    [HitKind::Key(Encoding::Base64)],
                    "prefix {prefix_len}, suffix {suffix_len}"
                );
            }
        }
    }

    #[test]
    fn base64_needles_drop_only_partial_characters() {
        let n = base64_needles(&[0xff; 16], &STANDARD_NO_PAD);
        // 16 bytes = 128 bits. Offset 0: chars 0..21; offset 1 (8 bits before): chars
        // 2..22; offset 2: chars 3..24.
        let lens: Vec<usize> = n.iter().map(|v| v.len()).collect();
        assert_eq!(lens, [21, 20, 21]);
        assert!(n.iter().all(|v| v.iter().all(|&c| c == b'/')));
    }

    #[test]
    fn base64url_is_told_apart_when_it_differs() {
        // A run of `~` encodes to the cycle "fn5+" (URL-safe "fn5-") at every alignment.
        let key = "tilde~~~~~~~~~~~~~~~~~~~~~~~~~~~end";
        let blob: Vec<u8> = [b"{\"k\":\"".as_slice(), key.as_bytes(), b"\"}"].concat();
        let std = b64(&blob);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&blob);
        assert_ne!(std.trim_end_matches('='), url);
        assert_eq!(kinds(std.as_bytes(), key), [HitKind::Key(Encoding::Base64)]);
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{url}.c2ln");
        assert_eq!(
            kinds(jwt.as_bytes(), key),
            [HitKind::Key(Encoding::Base64Url)]
        );
    }

    #[test]
    fn url_encoded_by_several_encoders() {
        let key = "Zq8#vN2!pL@4 wX9$mR6^tY1&kB7*hD3(jF5)+/";
        for enc in [
            quote_plus(key, false),
            quote_plus(key, true),
            encode_uri_component(key),
        ] {
            let line = format!("GET /login?next=%2F&token={enc}&x=1 HTTP/1.1");
            assert_eq!(
                kinds(line.as_bytes(), key),
                [HitKind::Key(Encoding::UrlEncoded)],
                "{enc}"
            );
        }
    }

    #[test]
    fn plain_key_in_a_line_with_escapes_is_not_also_url_encoded() {
        let line = format!("GET /a%20b?x=1+2 key={KEY}");
        assert_eq!(kinds(line.as_bytes(), KEY), [HitKind::Key(Encoding::Plain)]);
        // ... and both when both are there.
        let line = format!("key={KEY} q={}", quote_plus(KEY, false));
        assert_eq!(
            kinds(line.as_bytes(), KEY),
            [
                HitKind::Key(Encoding::Plain),
                HitKind::Key(Encoding::UrlEncoded)
            ]
        );
    }

    #[test]
    fn key_with_a_percent_sign_decodes_without_false_plain() {
        let key = "abcd%41efghijklmnopqrstu";
        let line = "x=abcd%2541efghijklmnopqrstu".to_string();
        assert_eq!(
            kinds(line.as_bytes(), key),
            [HitKind::Key(Encoding::UrlEncoded)]
        );
        let line = format!("x={key}");
        assert_eq!(kinds(line.as_bytes(), key), [HitKind::Key(Encoding::Plain)]);
    }

    #[test]
    fn json_escape_matches_serde_json() {
        for key in [
            "quote\"back\\slash\u{1}\u{8}\u{c}\n\r\t\u{7f}é€😀<&>",
            "plain-ascii-only-key-0123456789",
        ] {
            let serde = serde_json::to_string(key).unwrap();
            let ours = json_escape(key, JsonStyle::Serde);
            assert_eq!(&serde.as_bytes()[1..serde.len() - 1], &ours[..]);
        }
        let py = json_escape("a\"é😀\u{7f}", JsonStyle::Python);
        assert_eq!(&py[..], b"a\\\"\\u00e9\\ud83d\\ude00\\u007f");
        let go = json_escape("<&>\u{8}\u{2028}", JsonStyle::Go);
        assert_eq!(&go[..], b"\\u003c\\u0026\\u003e\\u0008\\u2028");
    }

    #[test]
    fn json_escaped_key_is_found() {
        let key = "json\"quoted\\key-with-specials-0123";
        let esc = serde_json::to_string(key).unwrap();
        let line = format!("{{\"level\":\"info\",\"settings\":{{\"SECRET_KEY\":{esc}}}}}");
        assert_eq!(
            kinds(line.as_bytes(), key),
            [HitKind::Key(Encoding::JsonEscaped)]
        );
        // A guide-charset key is identical in serde_json, escaped only by Go.
        let go = String::from_utf8(json_escape(KEY, JsonStyle::Go).to_vec()).unwrap();
        let line = format!("{{\"key\":\"{go}\"}}");
        assert_eq!(
            kinds(line.as_bytes(), KEY),
            [HitKind::Key(Encoding::JsonEscaped)]
        );
    }

    #[test]
    fn short_needles_are_skipped() {
        let key = "short-key-15chr";
        assert_eq!(key.len(), 15);
        assert!(kinds(format!("k={key}").as_bytes(), key).is_empty());
        let n = Needles::new(&[&secret(key)]);
        assert!(n.direct.iter().all(|(e, _)| *e != Encoding::Plain));
        assert!(n.url.is_empty());
        assert!(n.direct.iter().all(|(_, v)| v.len() >= MIN_NEEDLE));
    }

    #[test]
    fn signature_patterns_are_case_insensitive_and_counted_once() {
        let line = b"ERROR itsdangerous.exc.BADSIGNATURE: Signature b'x' does not match; invalid signature";
        assert_eq!(
            hits_of(line, &[]),
            [(HitKind::SignatureError, Some("itsdangerous BadSignature"))]
        );
        for (line, name) in [
            (
                "WARNING django.security.SuspiciousSession Session data corrupted",
                "Django session data corrupted",
            ),
            (
                "Forbidden (CSRF token missing.): /login/",
                "Django CSRF token missing",
            ),
            (
                "Forbidden (CSRF token incorrect.): /login/",
                "Django CSRF token incorrect",
            ),
            (
                "jwt.exceptions.InvalidSignatureError: Signature verification failed",
                "PyJWT InvalidSignatureError",
            ),
            (
                "jwt.exceptions.DecodeError: Not enough segments",
                "PyJWT DecodeError",
            ),
            (
                "JsonWebTokenError: invalid signature",
                "jsonwebtoken invalid signature",
            ),
            (
                "ActiveSupport::MessageVerifier::InvalidSignature",
                "Rails MessageVerifier InvalidSignature",
            ),
            (
                "Illuminate\\Contracts\\Encryption\\DecryptException: The MAC is invalid.",
                "Laravel MAC is invalid",
            ),
            (
                "express-session cookie signature invalid +0ms",
                "express-session cookie signature invalid",
            ),
            ("webhook: Signature Mismatch", "signature mismatch"),
        ] {
            assert_eq!(
                hits_of(line.as_bytes(), &[]),
                [(HitKind::SignatureError, Some(name))],
                "{line}"
            );
        }
        for benign in [
            "UnicodeDecodeError: 'utf-8' codec can't decode byte",
            "json.decoder.JSONDecodeError: Expecting value",
            "jwt expired",
            "jwt.exceptions.ExpiredSignatureError: Signature has expired",
            "GET /signature/verify 200",
        ] {
            assert!(hits_of(benign.as_bytes(), &[]).is_empty(), "{benign}");
        }
    }

    fn lines_of(data: &[u8], chunk: usize) -> (Vec<(u64, Vec<u8>)>, u64, u64) {
        let mut read = vec![0u8; chunk];
        let mut carry = Vec::with_capacity(LINE_CAP);
        let mut out = Vec::new();
        let (mut lines, mut bytes) = (0, 0);
        for_each_line(
            data,
            &mut read,
            &mut carry,
            |_| true,
            |n, l| out.push((n, l.to_vec())),
            &mut lines,
            &mut bytes,
        )
        .unwrap();
        (out, lines, bytes)
    }

    #[test]
    fn lines_across_chunks_and_without_final_newline() {
        let data = b"alpha\nbeta\r\n\ngamma-is-long\ndelta";
        for chunk in [1, 2, 3, 5, 7, 64] {
            let (out, lines, bytes) = lines_of(data, chunk);
            let got: Vec<&[u8]> = out.iter().map(|(_, l)| l.as_slice()).collect();
            assert_eq!(
                got,
                [&b"alpha"[..], b"beta\r", b"", b"gamma-is-long", b"delta"],
                "chunk {chunk}"
            );
            assert_eq!(
                out.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                [1, 2, 3, 4, 5]
            );
            assert_eq!((lines, bytes), (5, data.len() as u64));
        }
        let (out, lines, _) = lines_of(b"one\n", 2);
        assert_eq!((out.len(), lines), (1, 1));
    }

    #[test]
    fn long_lines_are_capped_but_counted() {
        let mut data = vec![b'a'; LINE_CAP + 10];
        data.extend_from_slice(b"\nnext\n");
        for chunk in [4096, LINE_CAP * 2] {
            let (out, lines, bytes) = lines_of(&data, chunk);
            assert_eq!(lines, 2);
            assert_eq!(bytes, data.len() as u64);
            assert_eq!(out[0].1.len(), LINE_CAP);
            assert_eq!(out[1].1, b"next");
        }
    }

    #[test]
    fn needles_are_deduplicated_across_keys() {
        let a = secret(KEY);
        let b = secret(KEY);
        let n = Needles::new(&[&a, &b]);
        let single = Needles::new(&[&a]);
        assert_eq!(n.direct.len(), single.direct.len());
        assert_eq!(n.url.len(), 1);
    }

    #[test]
    fn errors_name_the_glob() {
        let e = scan(Path::new("/nonexistent"), &["logs/[a".to_string()], &[]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("logs/[a"), "{text}");
        assert!(matches!(e, LogScanError::InvalidGlob { .. }));
    }
}
