//! A sampled prefilter for the key search: every match of the automaton, found while
//! reading one 8-byte gram of the text in `step`.
//!
//! Every needle is at least `shortest` bytes long, so an occurrence of one covers
//! `shortest - 7` consecutive gram positions, and one of them is a multiple of
//! `step = shortest - 7`. The filter reads the gram at each such position and looks it up
//! among the grams of every needle at every offset (a bit table first, then the sorted
//! grams). Around each gram found, the window where a needle holding it could lie is handed
//! to the automaton; overlapping windows are merged into one region first.
//!
//! The matches are exactly those of the automaton over the whole text: every occurrence
//! lies inside the window of one of its grams, two occurrences that overlap lie in one
//! region, and no occurrence lies outside the regions, so a leftmost-longest search that
//! goes region by region finds what one from the start finds. The tests check it against
//! the whole-text search.
//!
//! Keys are random: their grams are all but absent from source and logs, and most of the
//! text is read once in `step` bytes instead of byte by byte.

use aho_corasick::{AhoCorasick, Input, Match};
use zeroize::Zeroizing;

/// The gram length: one unaligned 64-bit load.
const Q: usize = 8;
/// Below this step the filter would read nearly every position: the automaton alone does.
const MIN_STEP: usize = 4;
/// The bit table: 2^20 bits (128 KiB), a few percent full with thousands of grams.
const BITS: u32 = 20;

/// The grams of a set of needles (key material: wiped on drop).
pub(super) struct Sampled {
    step: usize,
    longest: usize,
    bits: Zeroizing<Vec<u64>>,
    grams: Zeroizing<Vec<u64>>,
}

fn gram(text: &[u8], at: usize) -> u64 {
    let mut g = [0u8; Q];
    g.copy_from_slice(&text[at..at + Q]);
    u64::from_le_bytes(g)
}

fn slot(g: u64) -> usize {
    (g.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS)) as usize
}

impl Sampled {
    /// The filter for `needles`; `None` when the shortest is too short for sampling to skip
    /// anything (the automaton then reads every byte).
    pub(super) fn new<'n>(needles: impl Iterator<Item = &'n [u8]> + Clone) -> Option<Sampled> {
        let shortest = needles.clone().map(<[u8]>::len).min()?;
        let step = shortest.checked_sub(Q - 1)?;
        if step < MIN_STEP {
            return None;
        }
        let mut grams: Zeroizing<Vec<u64>> = Zeroizing::new(Vec::new());
        let mut bits: Zeroizing<Vec<u64>> = Zeroizing::new(vec![0; (1 << BITS) / 64]);
        for n in needles.clone() {
            for at in 0..=n.len() - Q {
                let g = gram(n, at);
                grams.push(g);
                let s = slot(g);
                bits[s / 64] |= 1 << (s % 64);
            }
        }
        grams.sort_unstable();
        grams.dedup();
        Some(Sampled {
            step,
            longest: needles.map(<[u8]>::len).max().unwrap_or(0),
            bits,
            grams,
        })
    }

    fn holds(&self, g: u64) -> bool {
        let s = slot(g);
        self.bits[s / 64] & (1 << (s % 64)) != 0 && self.grams.binary_search(&g).is_ok()
    }

    /// The regions of `text` a match may lie in, in order, disjoint and not adjacent.
    fn regions<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = (usize, usize)> + 't {
        let last = text.len().checked_sub(Q);
        let mut at = 0usize;
        let mut open: Option<(usize, usize)> = None;
        std::iter::from_fn(move || {
            while last.is_some_and(|l| at <= l) {
                let i = at;
                at += self.step;
                if !self.holds(gram(text, i)) {
                    continue;
                }
                // A needle holding the gram at i starts at or after i + Q - longest and ends
                // at or before i + longest.
                let start = (i + Q).saturating_sub(self.longest);
                let end = (i + self.longest).min(text.len());
                match &mut open {
                    Some((_, e)) if start <= *e => *e = (*e).max(end),
                    Some(region) => return Some(std::mem::replace(region, (start, end))),
                    None => open = Some((start, end)),
                }
            }
            open.take()
        })
    }

    /// Every match of `ac` in `text`, as `ac.find_iter(text)` gives them.
    pub(super) fn find_iter<'t>(
        &'t self,
        ac: &'t AhoCorasick,
        text: &'t [u8],
    ) -> impl Iterator<Item = Match> + 't {
        self.regions(text)
            .flat_map(move |(start, end)| ac.find_iter(Input::new(text).span(start..end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::MatchKind;
    use proptest::prelude::*;

    fn automaton(needles: &[Vec<u8>]) -> AhoCorasick {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(needles)
            .unwrap()
    }

    fn both(needles: &[Vec<u8>], text: &[u8]) -> (Vec<Match>, Vec<Match>) {
        let ac = automaton(needles);
        let s = Sampled::new(needles.iter().map(|n| &n[..])).expect("long needles sample");
        (
            ac.find_iter(text).collect(),
            s.find_iter(&ac, text).collect(),
        )
    }

    #[test]
    fn short_needles_are_not_sampled() {
        assert!(Sampled::new([&b"changethis"[..]].into_iter()).is_none());
        assert!(Sampled::new([&b"0123456789a"[..]].into_iter()).is_some());
        assert!(Sampled::new(std::iter::empty()).is_none());
    }

    #[test]
    fn a_needle_at_every_offset_and_at_both_ends_is_found() {
        let key = b"Zq8f-Kp3#xL0v!Rt7mW2^bN9dH4sJ6cY".to_vec();
        for at in 0..80 {
            for tail in [0, 1, 7, 8, 40] {
                let mut text = vec![b'.'; at];
                text.extend_from_slice(&key);
                text.extend(std::iter::repeat_n(b'.', tail));
                let (whole, sampled) = both(std::slice::from_ref(&key), &text);
                assert_eq!(whole.len(), 1);
                assert_eq!(whole, sampled, "at {at}, tail {tail}");
            }
        }
    }

    #[test]
    fn overlapping_and_nested_needles_match_as_the_whole_text_search() {
        let a = b"AAAABBBBCCCCDDDDEEEE".to_vec();
        let b = b"CCCCDDDDEEEEFFFFGGGG".to_vec();
        let c = b"BBBBCCCCDDDDEEEEFFFF".to_vec();
        let text = [
            &b"xx"[..],
            &a,
            &b"FFFFGGGG"[..],
            &b,
            &a,
            &a[..10],
            &c,
            &b"..."[..],
        ]
        .concat();
        let (whole, sampled) = both(&[a, b, c], &text);
        assert!(whole.len() >= 3, "{whole:?}");
        assert_eq!(whole, sampled);
    }

    fn alphabet() -> impl Strategy<Value = u8> {
        // A small alphabet: needles overlap and share grams often.
        prop::sample::select(b"ab-=\n".to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_matches_are_those_of_the_whole_text_search(
            needles in prop::collection::vec(prop::collection::vec(alphabet(), 11..40), 1..6),
            pieces in prop::collection::vec((prop::collection::vec(alphabet(), 0..30), 0usize..6), 0..12),
        ) {
            let mut text = Vec::new();
            for (filler, which) in &pieces {
                text.extend_from_slice(filler);
                if let Some(n) = needles.get(*which) {
                    text.extend_from_slice(n);
                }
            }
            let (whole, sampled) = both(&needles, &text);
            prop_assert_eq!(whole, sampled);
        }
    }
}
