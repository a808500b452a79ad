//! Redaction of keys from the output of the commands keywarden runs (restart, verify,
//! notify): every key it knows, in every form a program prints one
//! ([`super::encodings`]), replaced by its fingerprint before the output reaches the
//! terminal, the TUI, the journal or an incident record.
//!
//! Output arrives in chunks, and a key may be cut between two reads. A [`Redactor`] is a
//! stream: it releases only the bytes that no needle can still reach, and holds back the
//! last bytes that a needle could still span until more arrive or the stream ends.
//!
//! Programs wrap and space encodings: `base64` breaks its output every 76 columns,
//! `xxd -p` every 60, `od -An -tx1` puts a space between bytes. Besides the text as it
//! is, each chunk is searched in a *compact view*: the same bytes with every run of up to
//! [`MAX_GAP`] whitespace bytes (space, tab, CR, LF) taken out, where the needles, also
//! without whitespace, are found whatever line breaks or spaces the program put between
//! their characters. A match there is mapped back to the range of the original bytes it
//! covers, whitespace included, and that whole range is replaced. A key printed in two
//! pieces on two lines is caught the same way.
//!
//! [`neutralise`] makes relayed output inert before it is redacted and shown: control
//! characters become visible text, so a command can neither repaint the screen nor
//! rebuild a key on it with `\r`, backspaces or escape sequences.

use super::encodings::{
    JsonStyle, base64_needles, hex_forms, json_escape, percent_forms, secret_buf,
};
use super::sampled::Sampled;
use super::secret::Secret;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Needles shorter than this are not searched: they would match ordinary text. A key is
/// at least 32 characters; the edge-trimmed base64 forms of a short key are the shortest.
const MIN_NEEDLE: usize = 12;

/// The longest run of whitespace the compact view takes out between two characters of a
/// needle: line breaks and indentation of wrapped encodings, the spaces of a hex dump. A
/// longer run separates: no needle spans it.
pub const MAX_GAP: usize = 8;

fn is_gap(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The compiled search for a set of keys; cheap to share between streams.
#[derive(Clone)]
pub struct Needles {
    automaton: Option<Arc<AhoCorasick>>,
    /// The sampled prefilter of `automaton`, when the needles are long enough.
    sampled: Option<Arc<Sampled>>,
    /// For each needle, the text that replaces it.
    replacement: Arc<Vec<String>>,
    longest: usize,
    /// The needles without whitespace, searched in the compact view (by output
    /// redaction; a search of files never needs them).
    compact: Arc<Compact>,
    /// For each compact needle, the text that replaces it.
    compact_replacement: Arc<Vec<String>>,
    compact_longest: usize,
}

impl std::fmt::Debug for Needles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Needles")
            .field("count", &self.replacement.len())
            .finish_non_exhaustive()
    }
}

impl Needles {
    /// Every form of each key, each replaced by its text (the key's fingerprint).
    pub fn new(keys: &[(Secret, String)]) -> Needles {
        let mut needles: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut replacement = Vec::new();
        for (key, shown) in keys {
            let s = key.expose_secret();
            let b = s.as_bytes();
            if b.is_empty() {
                continue;
            }
            let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::new();
            let mut plain = secret_buf(b.len());
            plain.extend_from_slice(b);
            forms.push(plain);
            for style in [JsonStyle::Serde, JsonStyle::Python, JsonStyle::Go] {
                forms.push(json_escape(s, style));
            }
            forms.extend(base64_needles(b, &STANDARD_NO_PAD));
            forms.extend(base64_needles(b, &URL_SAFE_NO_PAD));
            forms.extend(percent_forms(b));
            forms.extend(hex_forms(b));
            for form in forms {
                // The key itself is always searched, however short; its encodings only
                // when long enough not to match ordinary text.
                let is_plain = *form == *b;
                if (is_plain || form.len() >= MIN_NEEDLE) && !needles.iter().any(|n| **n == *form) {
                    needles.push(form);
                    replacement.push(shown.clone());
                }
            }
        }
        // The compact needles: each form without its whitespace, when what is left is
        // long enough to mean the key.
        let mut compact: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut compact_replacement = Vec::new();
        for (n, shown) in needles.iter().zip(&replacement) {
            let mut c = secret_buf(n.len());
            c.extend(n.iter().copied().filter(|&b| !is_gap(b)));
            if c.len() >= MIN_NEEDLE && !compact.iter().any(|o| **o == *c) {
                compact.push(c);
                compact_replacement.push(shown.clone());
            }
        }
        let sampled = Sampled::new(needles.iter().map(|n| &n[..])).map(Arc::new);
        // Key forms start with any byte: the automaton's own prefilters skip nothing.
        // Behind the sampled prefilter it reads only short windows, and a contiguous NFA
        // (quick to build) does; without it (a short key among the needles) it reads every
        // byte, and a full DFA reads each in one lookup (a tree scan is 1.5× faster than
        // with the NFA).
        let kind = if sampled.is_some() {
            AhoCorasickKind::ContiguousNFA
        } else {
            AhoCorasickKind::DFA
        };
        Needles {
            automaton: (!needles.is_empty()).then(|| Arc::new(automaton(&needles, kind))),
            sampled,
            longest: needles.iter().map(|n| n.len()).max().unwrap_or(0),
            replacement: Arc::new(replacement),
            compact_longest: compact.iter().map(|n| n.len()).max().unwrap_or(0),
            compact: Arc::new(Compact {
                needles: compact,
                automaton: std::sync::OnceLock::new(),
            }),
            compact_replacement: Arc::new(compact_replacement),
        }
    }

    /// How many bytes at the end of a stream a needle could still span: the longest
    /// needle, or the longest compact needle with a gap between each two characters.
    fn hold(&self) -> usize {
        self.longest
            .saturating_sub(1)
            .max(self.compact_longest * (MAX_GAP + 1))
    }

    /// Whether `bytes` holds one of the keys, in any form, wrapped or spaced (an
    /// environment variable's value, a whole text).
    pub fn holds_any(&self, bytes: &[u8]) -> bool {
        let mut scratch = Scratch::default();
        !matches(self, bytes, &mut scratch).is_empty()
    }

    /// `bytes` with every needle replaced (a whole text, not a stream).
    pub fn redact(&self, bytes: &[u8]) -> Vec<u8> {
        let mut r = self.stream();
        let mut out = r.feed(bytes);
        out.extend(r.finish());
        out
    }

    /// The texts (fingerprints) of the keys found anywhere in `bytes`, in any of their
    /// exact forms (as is, JSON, base64, percent, hex), each once. Forms wrapped over lines
    /// or spaced out are what the output redactor also catches; a search of files does not.
    pub fn found_in(&self, bytes: &[u8]) -> Vec<&str> {
        let mut found: Vec<&str> = self
            .find_iter(bytes)
            .map(|m| self.replacement[m.pattern().as_usize()].as_str())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Where a key starts in `bytes`, in any form, with its text (fingerprint).
    pub fn positions<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        self.find_iter(bytes)
            .map(|m| (m.start(), self.replacement[m.pattern().as_usize()].as_str()))
    }

    /// [`Needles::positions`] over a stream of any length, read in 1 MiB chunks: memory
    /// stays at one chunk (wiped after use). Each match is given as its 1-based line and
    /// its text (fingerprint). The last `longest - 1` bytes of a chunk are searched again
    /// with the next one, so a key cut between two reads is found; a match that lies
    /// wholly in those bytes was given with the chunk before and is not given twice.
    /// Returns the bytes read; a read error ends the stream with that error, after what
    /// was read before it has been searched.
    pub fn search_stream(
        &self,
        r: &mut dyn std::io::Read,
        each: &mut dyn FnMut(usize, &str),
    ) -> std::io::Result<u64> {
        const CHUNK: usize = 1 << 20;
        let keep = self.longest.saturating_sub(1);
        let mut buf: Zeroizing<Vec<u8>> = Zeroizing::new(vec![0; CHUNK + keep]);
        // buf[..held] is the end of the chunk before, already searched.
        let (mut held, mut total, mut lines_before) = (0usize, 0u64, 0usize);
        loop {
            let mut len = held;
            // An error ends the stream, but what was read before it is searched first.
            let mut failed = None;
            while len < buf.len() {
                match r.read(&mut buf[len..]) {
                    Ok(0) => break,
                    Ok(n) => len += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            total += (len - held) as u64;
            let window = &buf[..len];
            // Matches come in order: lines are counted on from the one before.
            let (mut line, mut counted_to) = (lines_before, 0);
            for m in self.find_iter(window).filter(|m| m.end() > held) {
                line += memchr::memchr_iter(b'\n', &window[counted_to..m.start()]).count();
                counted_to = m.start();
                each(line + 1, &self.replacement[m.pattern().as_usize()]);
            }
            if let Some(e) = failed {
                return Err(e);
            }
            if len < buf.len() {
                return Ok(total);
            }
            let cut = len - keep;
            lines_before += memchr::memchr_iter(b'\n', &buf[..cut]).count();
            buf.copy_within(cut..len, 0);
            held = keep;
        }
    }

    /// Every match of the needles as they are in `text`, in order: through the sampled
    /// prefilter when there is one (the same matches, most of the text skipped).
    fn find_iter<'t>(
        &'t self,
        text: &'t [u8],
    ) -> Box<dyn Iterator<Item = aho_corasick::Match> + 't> {
        match (&self.automaton, &self.sampled) {
            (Some(ac), Some(s)) => Box::new(s.find_iter(ac, text)),
            (Some(ac), None) => Box::new(ac.find_iter(text)),
            (None, _) => Box::new(std::iter::empty()),
        }
    }

    /// A stream over these needles.
    pub fn stream(&self) -> Redactor {
        Redactor {
            needles: self.clone(),
            pending: Zeroizing::new(Vec::new()),
            scratch: Scratch::default(),
        }
    }
}

/// The compact needles and their automaton, built on first use.
struct Compact {
    needles: Vec<Zeroizing<Vec<u8>>>,
    automaton: std::sync::OnceLock<Option<AhoCorasick>>,
}

impl Compact {
    /// A full DFA: output is searched byte by byte.
    fn automaton(&self) -> Option<&AhoCorasick> {
        self.automaton
            .get_or_init(|| {
                (!self.needles.is_empty()).then(|| automaton(&self.needles, AhoCorasickKind::DFA))
            })
            .as_ref()
    }
}

/// The leftmost-longest automaton of `set`, of `kind`, or of the default kind should that
/// one not build (a full DFA's state ids overflow on a huge set).
fn automaton(set: &[Zeroizing<Vec<u8>>], kind: AhoCorasickKind) -> AhoCorasick {
    let builder = |kind| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(kind)
            .build(set.iter().map(|n| &n[..]))
    };
    builder(Some(kind))
        .or_else(|_| builder(None))
        .expect("needles of bounded length always build")
}

/// Buffers reused from one chunk to the next (no allocation per byte or per match).
#[derive(Default)]
struct Scratch {
    /// The compact view of the text: key material, wiped on drop.
    view: Zeroizing<Vec<u8>>,
    /// For each byte of the view, where it is in the text.
    at: Vec<usize>,
    /// The matches: start and end in the text, and the replacement's index.
    ranges: Vec<(usize, usize, usize)>,
}

/// Every match in `text`, as is and in the compact view, as ranges of `text` sorted by
/// start (they may overlap). The third field indexes `replacement` for a match as is,
/// and `compact_replacement` (offset by the number of needles) for a compact one.
fn matches<'s>(n: &Needles, text: &[u8], s: &'s mut Scratch) -> &'s [(usize, usize, usize)] {
    s.ranges.clear();
    for m in n.find_iter(text) {
        s.ranges.push((m.start(), m.end(), m.pattern().as_usize()));
    }
    if let Some(ac) = n.compact.automaton() {
        s.view.clear();
        s.at.clear();
        let mut i = 0;
        while i < text.len() {
            if is_gap(text[i]) {
                let run = text[i..].iter().take_while(|&&b| is_gap(b)).count();
                if run > MAX_GAP {
                    // A separator no compact needle holds.
                    s.view.push(b'\n');
                    s.at.push(i);
                }
                i += run;
                continue;
            }
            s.view.push(text[i]);
            s.at.push(i);
            i += 1;
        }
        let offset = n.replacement.len();
        for m in ac.find_iter(&s.view[..]) {
            let start = s.at[m.start()];
            let end = s.at[m.end() - 1] + 1;
            s.ranges.push((start, end, offset + m.pattern().as_usize()));
        }
    }
    s.ranges
        .sort_unstable_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    &s.ranges
}

impl Needles {
    fn shown(&self, index: usize) -> &str {
        match index.checked_sub(self.replacement.len()) {
            None => &self.replacement[index],
            Some(c) => &self.compact_replacement[c],
        }
    }
}

/// One output stream being redacted.
pub struct Redactor {
    needles: Needles,
    /// Bytes received but not released: a needle may still be completed by the next
    /// chunk. Key material until redacted: wiped on drop.
    pending: Zeroizing<Vec<u8>>,
    scratch: Scratch,
}

impl Redactor {
    /// Takes `chunk`; returns the redacted bytes that are safe to release now.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(chunk);
        let hold = self.needles.hold();
        let safe = self.pending.len().saturating_sub(hold);
        self.release(safe)
    }

    /// The end of the stream: everything left, redacted.
    pub fn finish(&mut self) -> Vec<u8> {
        let all = self.pending.len();
        self.release(all)
    }

    /// Releases `pending[..upto]`, extended past `upto` through any match that starts
    /// before it (a match starting before `upto` lies wholly in `pending`: no needle spans
    /// more than what is held back). Overlapping matches are replaced as one.
    fn release(&mut self, upto: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(upto);
        let mut at = 0;
        let ranges = matches(&self.needles, &self.pending[..], &mut self.scratch);
        for &(start, end, index) in ranges {
            if start >= upto {
                break;
            }
            if start < at {
                // Overlaps the match just replaced: covered by the same replacement.
                at = at.max(end);
                continue;
            }
            out.extend_from_slice(&self.pending[at..start]);
            out.extend_from_slice(self.needles.shown(index).as_bytes());
            at = end;
        }
        let end = upto.max(at);
        out.extend_from_slice(&self.pending[at..end]);
        // Shift the rest to the front in place: the buffer never reallocates a copy.
        let rest = self.pending.len() - end;
        self.pending.copy_within(end.., 0);
        let len = self.pending.len();
        self.pending[rest..len].iter_mut().for_each(|b| *b = 0);
        self.pending.truncate(rest);
        self.scratch.view.iter_mut().for_each(|b| *b = 0);
        out
    }
}

/// `text` made inert for a terminal, the TUI and the records: every control character
/// but `\n` and `\t` (ESC, `\r`, backspace, NUL, DEL…) in caret notation (`^[`, `^M`,
/// `^H`, `^@`, `^?`), a `\r` just before `\n` dropped (a CRLF line end), and the C1
/// controls and the invisible format characters a terminal would hide or act on
/// (zero-width spaces and joiners, bidirectional overrides, the BOM, the soft hyphen)
/// as `<U+XXXX>`. Output passes through this before it is redacted, so no byte a terminal
/// acts on reaches it: a key cut by a control byte stays cut on the screen, and `\r` or
/// backspaces cannot draw one half over something else. `text` must end on a character
/// boundary (a whole line) for a multi-byte character to be recognised.
pub fn neutralise(text: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        match b {
            b'\n' | b'\t' => out.push(b),
            b'\r' if text.get(i + 1) == Some(&b'\n') => {}
            0x00..=0x1f => out.extend_from_slice(&[b'^', b + 0x40]),
            0x7f => out.extend_from_slice(b"^?"),
            0xc2..=0xf4 => {
                let len = match b {
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    _ => 4,
                };
                match text
                    .get(i..i + len)
                    .and_then(|c| std::str::from_utf8(c).ok())
                {
                    Some(c) => {
                        let ch = c.chars().next().unwrap_or(' ');
                        if is_invisible(ch) {
                            out.extend_from_slice(format!("<U+{:04X}>", ch as u32).as_bytes());
                        } else {
                            out.extend_from_slice(c.as_bytes());
                        }
                        i += len;
                        continue;
                    }
                    None => out.push(b),
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
}

/// The characters a terminal acts on or draws as nothing.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f
        | 0xad
        | 0x34f
        | 0x61c
        | 0x115f..=0x1160
        | 0x17b4..=0x17b5
        | 0x180b..=0x180f
        | 0x200b..=0x200f
        | 0x2028..=0x202e
        | 0x2060..=0x206f
        | 0x3164
        | 0xfe00..=0xfe0f
        | 0xfeff
        | 0xffa0
        | 0xfff0..=0xfffb
        | 0xe0000..=0xe007f
        | 0xe0100..=0xe01ef)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const KEY: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";

    fn needles() -> Needles {
        Needles::new(&[(Secret::new(KEY.to_string()), "kw:00000000".to_string())])
    }

    fn leaks(text: &[u8]) -> bool {
        let s = String::from_utf8_lossy(text);
        s.contains(KEY) || s.contains(&KEY[..20]) || s.contains(&KEY[40..])
    }

    #[test]
    fn every_form_is_replaced() {
        let b = KEY.as_bytes();
        let mut forms: Vec<String> = vec![
            KEY.to_string(),
            serde_json::to_string(KEY).unwrap(),
            base64::engine::general_purpose::STANDARD.encode(b),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
            b.iter().map(|c| format!("{c:02x}")).collect(),
            b.iter().map(|c| format!("{c:02X}")).collect(),
        ];
        // base64 of the key inside a longer run, at each alignment.
        for pre in ["", "a", "ab"] {
            forms.push(base64::engine::general_purpose::STANDARD.encode(format!("{pre}{KEY}tail")));
        }
        forms.push(
            b.iter()
                .map(|&c| {
                    if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                        (c as char).to_string()
                    } else {
                        format!("%{c:02X}")
                    }
                })
                .collect(),
        );
        let n = needles();
        for form in forms {
            let text = format!("SECRET_KEY={form} and more\n");
            let out = n.redact(text.as_bytes());
            let out = String::from_utf8_lossy(&out);
            assert!(!out.contains(&form), "{form} survived: {out}");
            assert!(out.contains("kw:00000000"), "{out}");
        }
    }

    #[test]
    fn a_key_split_across_chunks_is_still_replaced() {
        let text = format!("before {KEY} after {KEY}\n");
        let n = needles();
        for cut in 0..text.len() {
            for second in cut..text.len() {
                let mut r = n.stream();
                let mut out = r.feed(&text.as_bytes()[..cut]);
                out.extend(r.feed(&text.as_bytes()[cut..second]));
                out.extend(r.feed(&text.as_bytes()[second..]));
                out.extend(r.finish());
                assert!(!leaks(&out), "cut at {cut},{second}");
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    "before kw:00000000 after kw:00000000\n"
                );
            }
        }
    }

    #[test]
    fn byte_by_byte_releases_everything_in_order() {
        let text = format!(
            "a{KEY}b{}c",
            base64::engine::general_purpose::STANDARD.encode(KEY)
        );
        let n = needles();
        let mut r = n.stream();
        let mut out = Vec::new();
        for b in text.as_bytes() {
            out.extend(r.feed(std::slice::from_ref(b)));
        }
        out.extend(r.finish());
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("akw:00000000b"), "{out}");
        assert!(out.ends_with('c'), "{out}");
        assert!(!leaks(out.as_bytes()));
    }

    /// `text` broken into lines of `width` characters, as `base64` and `xxd -p` do.
    fn wrapped(text: &str, width: usize, eol: &str) -> String {
        text.as_bytes()
            .chunks(width)
            .map(|c| format!("{}{eol}", String::from_utf8_lossy(c)))
            .collect()
    }

    fn redacted(n: &Needles, text: &str) -> String {
        String::from_utf8_lossy(&n.redact(text.as_bytes())).into_owned()
    }

    #[test]
    fn wrapped_and_spaced_encodings_are_replaced() {
        let b = KEY.as_bytes();
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("SECRET_KEY='{KEY}'\n"));
        let hex: String = format!("SECRET_KEY='{KEY}'\n")
            .bytes()
            .map(|c| format!("{c:02x}"))
            .collect();
        let od: String = b
            .chunks(16)
            .map(|l| {
                let mut s: String = l.iter().map(|c| format!(" {c:02x}")).collect();
                s.push('\n');
                s
            })
            .collect();
        let cases = [
            ("base64, 76 columns", wrapped(&b64, 76, "\n")),
            ("base64, MIME CRLF", wrapped(&b64, 76, "\r\n")),
            ("base64 indented in YAML", wrapped(&b64, 40, "\n      ")),
            ("xxd -p", wrapped(&hex, 60, "\n")),
            ("od -An -tx1", od),
            (
                "the key on two lines",
                format!("{}\n{}\n", &KEY[..40], &KEY[40..]),
            ),
        ];
        let n = needles();
        for (what, text) in cases {
            let out = redacted(&n, &format!("before\n{text}after\n"));
            assert!(out.contains("kw:00000000"), "{what}: not replaced");
            assert!(
                out.starts_with("before\n") && out.ends_with("after\n"),
                "{what}"
            );
            // No line of what is left holds a piece of the encoded key longer than the
            // edges a neighbouring byte shares.
            let compact: String = out.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(!leaks(compact.as_bytes()), "{what}: the key survived");
            for piece in text.split_whitespace().filter(|p| p.len() >= 16) {
                assert!(
                    !out.contains(&piece[2..piece.len() - 2]),
                    "{what}: a piece survived"
                );
            }
        }
        // Fed in chunks of every size, the result is the same.
        let text = format!("x\n{}y\n", wrapped(&b64, 76, "\n"));
        let whole = redacted(&n, &text);
        for size in [1, 2, 7, 64, 100] {
            let mut r = n.stream();
            let mut out = Vec::new();
            for c in text.as_bytes().chunks(size) {
                out.extend(r.feed(c));
            }
            out.extend(r.finish());
            assert_eq!(String::from_utf8_lossy(&out), whole, "chunks of {size}");
        }
        // A long run of whitespace separates: ordinary text is not joined across it.
        let far = format!("{}{}{}", &KEY[..40], " ".repeat(MAX_GAP + 1), &KEY[40..]);
        assert!(!redacted(&n, &far).contains("kw:00000000"));
    }

    #[test]
    fn percent_encodings_of_the_common_encoders_are_replaced() {
        let enc = |literal: &[u8], plus: bool, upper: bool| -> String {
            KEY.bytes()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || literal.contains(&c) {
                        (c as char).to_string()
                    } else if c == b' ' && plus {
                        "+".to_string()
                    } else if upper {
                        format!("%{c:02X}")
                    } else {
                        format!("%{c:02x}")
                    }
                })
                .collect()
        };
        let cases = [
            ("Java URLEncoder", enc(b".-*_", true, true)),
            ("JS encodeURI", enc(b"-_.!~*'();,/?:@&=+$#", false, true)),
            ("JS encodeURIComponent", enc(b"-_.!~*'()", false, true)),
            ("PHP urlencode", enc(b"-_.", true, true)),
            ("Python quote", enc(b"-_.~/", false, true)),
            (".NET UrlEncode", enc(b"-_.!*()", true, false)),
        ];
        let n = needles();
        for (what, form) in cases {
            let out = redacted(&n, &format!("url=x&key={form}&y=1\n"));
            assert_eq!(out, "url=x&key=kw:00000000&y=1\n", "{what}");
        }
    }

    #[test]
    fn control_characters_are_shown_not_acted_on() {
        let mut out = Vec::new();
        neutralise(
            b"a\x1b[0mb\rc\x08d\x00e\x7ff\r\ng\th\xc2\x9bi\xe2\x80\x8bj\xc3\xa9\n",
            &mut out,
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            "a^[[0mb^Mc^Hd^@e^?f\ng\th<U+009B>i<U+200B>j\u{e9}\n"
        );
        // A key cut by an escape sequence or rebuilt with `\r` stays visibly cut.
        for sep in ["\x1b[0m", "Z\x08", "\r", "\u{200b}"] {
            let text = format!("{}{sep}{}\n", &KEY[..32], &KEY[32..]);
            let mut inert = Vec::new();
            neutralise(text.as_bytes(), &mut inert);
            let shown = String::from_utf8_lossy(&inert);
            assert!(!shown.contains(KEY), "{sep:?}");
            assert!(
                !inert.iter().any(|&b| b < 0x20 && b != b'\n'),
                "{sep:?}: a control byte passed"
            );
        }
    }

    #[test]
    fn holds_any_sees_every_form() {
        let n = needles();
        let b64 = base64::engine::general_purpose::STANDARD.encode(KEY);
        assert!(n.holds_any(b64.as_bytes()));
        assert!(
            n.holds_any(
                format!(
                    "url=x&key={}",
                    percent_forms(KEY.as_bytes())[0]
                        .iter()
                        .map(|&c| c as char)
                        .collect::<String>()
                )
                .as_bytes()
            )
        );
        assert!(n.holds_any(KEY.as_bytes()));
        assert!(!n.holds_any(b"nothing of the kind, just a long ordinary value"));
    }

    #[test]
    fn no_keys_passes_everything() {
        let n = Needles::new(&[]);
        assert_eq!(n.redact(b"hello"), b"hello");
        let mut r = n.stream();
        assert_eq!(r.feed(b"abc"), b"abc");
        assert!(r.finish().is_empty());
    }

    /// A reader that hands out at most `piece` bytes per read.
    struct Pieces<'a> {
        data: &'a [u8],
        piece: usize,
    }

    impl std::io::Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.data.len().min(self.piece).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn stream_hits(n: &Needles, data: &[u8], piece: usize) -> (Vec<(usize, String)>, u64) {
        let mut hits = Vec::new();
        let read = n
            .search_stream(&mut Pieces { data, piece }, &mut |line, shown| {
                hits.push((line, shown.to_string()))
            })
            .unwrap();
        (hits, read)
    }

    #[test]
    fn a_stream_finds_each_key_once_with_its_line_at_every_chunk_offset() {
        const CHUNK: usize = 1 << 20;
        let n = needles();
        // A key just before, across, wholly inside and across the end of the bytes carried
        // from the first chunk to the next, and one past 2 MiB.
        let keep = n.longest - 1;
        let starts = [1, 2, 31, KEY.len() - 1, KEY.len(), KEY.len() + 1]
            .map(|back| CHUNK - back)
            .into_iter()
            .chain([
                CHUNK,
                CHUNK + 5,
                CHUNK + keep - KEY.len(),
                CHUNK + keep - 10,
                CHUNK + keep,
            ]);
        for start in starts {
            let mut data = Vec::new();
            let mut expect = Vec::new();
            let mut line = 1;
            let filler = b"x".repeat(99);
            let push_line = |data: &mut Vec<u8>, line: &mut usize| {
                data.extend_from_slice(&filler);
                data.push(b'\n');
                *line += 1;
            };
            while data.len() + 200 < start {
                push_line(&mut data, &mut line);
            }
            data.resize(start, b'y');
            data.extend_from_slice(KEY.as_bytes());
            expect.push((line, "kw:00000000".to_string()));
            data.push(b'\n');
            line += 1;
            while data.len() < 2 * CHUNK + 10_000 {
                push_line(&mut data, &mut line);
            }
            data.extend_from_slice(b"SECRET_KEY=");
            data.extend_from_slice(KEY.as_bytes());
            expect.push((line, "kw:00000000".to_string()));
            for piece in [usize::MAX, 4096, 777] {
                let (hits, read) = stream_hits(&n, &data, piece);
                assert_eq!(read, data.len() as u64);
                assert_eq!(hits, expect, "key at {start}, piece {piece}");
            }
        }
    }

    #[test]
    fn a_stream_finds_a_key_read_a_byte_at_a_time_and_nothing_in_clean_text() {
        let n = needles();
        let data = format!("one\ntwo {KEY}\nthree\n{KEY}{KEY}");
        let (hits, read) = stream_hits(&n, data.as_bytes(), 1);
        assert_eq!(read, data.len() as u64);
        let lines: Vec<usize> = hits.iter().map(|h| h.0).collect();
        assert_eq!(lines, [2, 4, 4]);
        let (hits, _) = stream_hits(&n, &b"no key here\n".repeat(300_000), 65_536);
        assert!(hits.is_empty());
        let (hits, read) = stream_hits(&Needles::new(&[]), data.as_bytes(), 10);
        assert!(hits.is_empty());
        assert_eq!(read, data.len() as u64);
    }

    #[test]
    fn a_stream_error_is_returned() {
        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        let err = needles()
            .search_stream(&mut Broken, &mut |_, _| {})
            .unwrap_err();
        assert_eq!(err.to_string(), "disk gone");

        // The keys read before the error, in the chunk it cut short, are still given.
        let data = format!("a\n{KEY}\nb\n{KEY}\n");
        let mut r = std::io::Read::chain(data.as_bytes(), Broken);
        let mut lines = Vec::new();
        let err = needles()
            .search_stream(&mut r, &mut |line, _| lines.push(line))
            .unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
        assert_eq!(lines, [2, 4]);
    }
}
