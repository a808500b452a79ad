//! What a followed line is searched for: every known key in every encoding the log audit
//! knows, and its signature-error patterns, through [`crate::scanning::logscan`]'s public
//! line matcher. One combined search finds whether any key is there; only then is each key
//! searched alone, to say which one it was.

use crate::scanning::logscan::{Encoding, HitKind, KeyNeedles, LineSearch};

/// One hit on a line: never bytes from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineHit {
    /// The `index`-th known key, in this encoding.
    Key { index: usize, encoding: Encoding },
    /// A signature error, with the pattern's name.
    Signature(&'static str),
}

/// The needles a [`Searcher`] borrows: all keys together, then each key alone.
pub struct Needles {
    all: KeyNeedles,
    each: Vec<KeyNeedles>,
}

impl Needles {
    pub fn new(keys: &[&crate::keys::secret::Secret]) -> Needles {
        Needles {
            all: KeyNeedles::new(keys),
            each: keys.iter().map(|k| KeyNeedles::new(&[k])).collect(),
        }
    }
}

pub struct Searcher<'n> {
    all: LineSearch<'n>,
    each: Vec<LineSearch<'n>>,
    overlap: usize,
    /// What this line has reported already (a long line is searched in windows).
    seen_sig: bool,
    seen_keys: Vec<(usize, Encoding)>,
}

impl<'n> Searcher<'n> {
    pub fn new(needles: &'n Needles, window: usize) -> Searcher<'n> {
        let overlap = (3 * needles.all.longest()).max(64).min(window / 2);
        Searcher {
            all: LineSearch::new(&needles.all, window),
            each: needles
                .each
                .iter()
                .map(|n| LineSearch::new(n, window))
                .collect(),
            overlap,
            seen_sig: false,
            seen_keys: Vec::new(),
        }
    }

    /// How much consecutive windows of one long line overlap.
    pub fn overlap(&self) -> usize {
        self.overlap
    }

    /// Searches one line, or one window of a long line.
    pub fn line(
        &mut self,
        line: &[u8],
        line_no: u64,
        shown: &str,
        out: &mut Vec<(String, u64, super::search::LineHit)>,
    ) {
        let mut key_found = false;
        let mut sig = None;
        self.all.search(line, |kind, pattern| match kind {
            HitKind::Key(_) => key_found = true,
            HitKind::SignatureError => sig = pattern,
        });
        if let Some(p) = sig
            && !self.seen_sig
        {
            self.seen_sig = true;
            out.push((shown.to_string(), line_no, LineHit::Signature(p)));
        }
        if key_found {
            for (index, s) in self.each.iter_mut().enumerate() {
                let mut encodings = Vec::new();
                s.search(line, |kind, _| {
                    if let HitKind::Key(e) = kind {
                        encodings.push(e);
                    }
                });
                for encoding in encodings {
                    if !self.seen_keys.contains(&(index, encoding)) {
                        self.seen_keys.push((index, encoding));
                        out.push((shown.to_string(), line_no, LineHit::Key { index, encoding }));
                    }
                }
            }
        }
    }

    /// The line is over: the next one reports afresh.
    pub fn end_line(&mut self) {
        self.seen_sig = false;
        self.seen_keys.clear();
    }
}
