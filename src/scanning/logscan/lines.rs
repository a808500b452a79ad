//! The line reader: reads a log in chunks, cuts it into lines (capped at [`LINE_CAP`]),
//! and matches each line against the needles and the signature-error patterns.

use super::*;

/// The compiled searchers, borrowing the needles.
pub(super) struct Matcher<'n> {
    pub(super) direct: Vec<(Encoding, Finder<'n>)>,
    pub(super) url: Vec<Finder<'n>>,
    /// Whether a URL-searched key holds a space: only then can a `+` (a space once
    /// decoded) be part of one, and a line with a `+` but no `%` need decoding.
    pub(super) url_space: bool,
    pub(super) signatures: Vec<(&'static str, Gate, Finder<'static>)>,
    pub(super) sig_word: Finder<'static>,
    pub(super) csrf_word: Finder<'static>,
}

/// A cheap pre-check shared by many signature patterns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    Signature,
    Csrf,
    None,
}

impl<'n> Matcher<'n> {
    pub(super) fn new(needles: &'n Needles) -> Self {
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
            url_space: needles.url.iter().any(|n| n.contains(&b' ')),
            signatures,
            sig_word: Finder::new(b"signature"),
            csrf_word: Finder::new(b"csrf"),
        }
    }
}

/// Scratch buffers reused across files; each holds key material and is wiped on drop.
pub(super) struct Buffers {
    pub(super) read: Zeroizing<Vec<u8>>,
    pub(super) line: Zeroizing<Vec<u8>>,
    pub(super) lower: Zeroizing<Vec<u8>>,
    pub(super) decoded: Zeroizing<Vec<u8>>,
    /// Indexes in `decoded` of bytes that came from `%XX` or `+` (no key material).
    pub(super) escapes: Vec<usize>,
}

impl Buffers {
    pub(super) fn new() -> Self {
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
pub(super) struct FileStats {
    pub(super) lines: u64,
    pub(super) bytes: u64,
    pub(super) hits: Vec<Hit>,
}

pub(super) enum FileError {
    Compressed,
    Io(io::Error),
}

pub(super) fn scan_file(
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
pub(super) fn for_each_line(
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
pub(super) fn push_capped(carry: &mut Vec<u8>, data: &[u8]) {
    let room = LINE_CAP.min(carry.capacity()) - carry.len();
    carry.extend_from_slice(&data[..data.len().min(room)]);
}

pub(super) fn scan_line(
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
    // A decoded hit needs an escape inside the key: a `%XX`, or a `+` if a key holds a
    // space. Lines without one (most) are not decoded.
    let escaped = if m.url_space {
        memchr::memchr2(b'%', b'+', line).is_some()
    } else {
        memchr::memchr(b'%', line).is_some()
    };
    if !m.url.is_empty() && escaped && url_decoded_hit(line, &m.url, decoded, escapes) {
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
pub(super) fn url_decoded_hit(
    line: &[u8],
    keys: &[Finder<'_>],
    decoded: &mut Vec<u8>,
    escapes: &mut Vec<usize>,
) -> bool {
    pub(super) fn hex(c: u8) -> Option<u8> {
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
        // The bytes up to the next escape are copied as they are, in one piece.
        let next = memchr::memchr2(b'%', b'+', &line[i..]).map_or(line.len(), |j| i + j);
        decoded.extend_from_slice(&line[i..next]);
        i = next;
        let Some(&c) = line.get(i) else { break };
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
