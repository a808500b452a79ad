//! The log audit's matcher, one line at a time, for callers that read logs themselves
//! (`keywarden watch` follows logs as they grow): the same encodings and the same
//! [`SIGNATURE_PATTERNS`] as [`scan`], without the file walk.

use super::*;

/// The needles of a set of keys (every [`Encoding`]), owned and wiped on drop.
pub struct KeyNeedles(Needles);

impl std::fmt::Debug for KeyNeedles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Needles are key material: only their number.
        write!(
            f,
            "KeyNeedles({} needles)",
            self.0.direct.len() + self.0.url.len()
        )
    }
}

impl KeyNeedles {
    pub fn new(keys: &[&Secret]) -> Self {
        KeyNeedles(Needles::new(keys))
    }

    /// The length in bytes of the longest needle (0 without one): a caller searching a
    /// long line in windows overlaps them by at least three times this (a URL-encoded
    /// key is at most three times as long as the key).
    pub fn longest(&self) -> usize {
        self.0
            .direct
            .iter()
            .map(|(_, n)| n.len())
            .chain(self.0.url.iter().map(|n| n.len()))
            .max()
            .unwrap_or(0)
    }
}

/// Searches lines for the keys of a [`KeyNeedles`] and for signature errors.
pub struct LineSearch<'n> {
    matcher: Matcher<'n>,
    cap: usize,
    lower: Zeroizing<Vec<u8>>,
    decoded: Zeroizing<Vec<u8>>,
    escapes: Vec<usize>,
}

impl<'n> LineSearch<'n> {
    /// A searcher for lines of at most `cap` bytes (longer ones: only the first `cap`
    /// bytes are searched).
    pub fn new(needles: &'n KeyNeedles, cap: usize) -> Self {
        LineSearch {
            matcher: Matcher::new(&needles.0),
            cap,
            lower: secret_buf(cap),
            decoded: secret_buf(cap),
            escapes: Vec::new(),
        }
    }

    /// Calls `report` once per encoding of a key found in `line`, and once for the first
    /// signature pattern it matches (with the pattern's name) — as [`scan`] reports hits.
    pub fn search(&mut self, line: &[u8], report: impl FnMut(HitKind, Option<&'static str>)) {
        let line = &line[..line.len().min(self.cap)];
        scan_line(
            line,
            &self.matcher,
            &mut self.lower,
            &mut self.decoded,
            &mut self.escapes,
            report,
        );
    }
}
