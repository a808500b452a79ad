//! A sampled prefilter for multi-pattern search: every match of the automaton, found while
//! reading one gram of the text (8 bytes, or 4) in `step`.
//!
//! Every needle is at least `shortest` bytes long, so an occurrence of one covers
//! `shortest - q + 1` consecutive gram positions (q the gram's length), and one of them is
//! a multiple of `step = shortest - q + 1`. The filter reads the gram at each such position and looks it up
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
//! text is read once in `step` bytes instead of byte by byte. For an automaton that
//! matches ASCII case-insensitively (the key names of the literal search), grams are
//! compared with bit 0x20 of every byte set: two bytes equal but for ASCII case are equal
//! then, so no match is missed, and the automaton decides.

use aho_corasick::{AhoCorasick, Input, Match};
use zeroize::Zeroizing;

/// Below this step the filter would read nearly every position: the automaton alone does.
const MIN_STEP: usize = 4;
/// The bit table: 2^20 bits (128 KiB), a few percent full with thousands of grams.
const BITS: u32 = 20;

/// The grams of a set of needles (key material: wiped on drop).
pub(crate) struct Sampled {
    /// The gram length: 8 (one 64-bit load) or 4.
    q: usize,
    /// Or-ed into every gram: 0x20 in each byte for a case-insensitive automaton.
    fold: u64,
    step: usize,
    longest: usize,
    bits: Zeroizing<Vec<u64>>,
    grams: Zeroizing<Vec<u64>>,
}

impl Sampled {
    #[inline]
    fn gram(&self, text: &[u8], at: usize) -> u64 {
        let g = if self.q == 8 {
            let mut g = [0u8; 8];
            g.copy_from_slice(&text[at..at + 8]);
            u64::from_le_bytes(g)
        } else {
            let mut g = [0u8; 4];
            g.copy_from_slice(&text[at..at + 4]);
            u64::from(u32::from_le_bytes(g))
        };
        g | self.fold
    }
}

fn slot(g: u64) -> usize {
    (g.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS)) as usize
}

impl Sampled {
    /// The filter for `needles`, searched byte for byte, in 8-byte grams; `None` when the
    /// shortest is too short for sampling to skip anything (the automaton then reads every
    /// byte).
    pub(crate) fn new<'n>(needles: impl Iterator<Item = &'n [u8]> + Clone) -> Option<Sampled> {
        Sampled::build(needles, 8, false)
    }

    /// The filter for short `needles` searched ASCII case-insensitively, in 4-byte grams.
    pub(crate) fn caseless<'n>(needles: impl Iterator<Item = &'n [u8]> + Clone) -> Option<Sampled> {
        Sampled::build(needles, 4, true)
    }

    fn build<'n>(
        needles: impl Iterator<Item = &'n [u8]> + Clone,
        q: usize,
        fold: bool,
    ) -> Option<Sampled> {
        let shortest = needles.clone().map(<[u8]>::len).min()?;
        let step = (shortest + 1).checked_sub(q)?;
        if step < MIN_STEP {
            return None;
        }
        let mut s = Sampled {
            q,
            fold: if fold {
                0x2020_2020_2020_2020 >> (64 - 8 * q)
            } else {
                0
            },
            step,
            longest: needles.clone().map(<[u8]>::len).max().unwrap_or(0),
            bits: Zeroizing::new(vec![0; (1 << BITS) / 64]),
            grams: Zeroizing::new(Vec::new()),
        };
        // Room for every gram first: a vector that grew would leave the key material of
        // its old buffer unwiped in freed memory.
        s.grams
            .reserve_exact(needles.clone().map(|n| n.len() + 1 - q).sum());
        for n in needles {
            for at in 0..=n.len() - q {
                let g = s.gram(n, at);
                s.grams.push(g);
                let slot = slot(g);
                s.bits[slot / 64] |= 1 << (slot % 64);
            }
        }
        s.grams.sort_unstable();
        s.grams.dedup();
        Some(s)
    }

    fn holds(&self, g: u64) -> bool {
        let s = slot(g);
        self.bits[s / 64] & (1 << (s % 64)) != 0 && self.grams.binary_search(&g).is_ok()
    }

    /// The regions of `text` a match may lie in, in order, disjoint and not adjacent.
    fn regions<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = (usize, usize)> + 't {
        let last = text.len().checked_sub(self.q);
        let mut at = 0usize;
        let mut open: Option<(usize, usize)> = None;
        std::iter::from_fn(move || {
            while last.is_some_and(|l| at <= l) {
                let i = at;
                at += self.step;
                if !self.holds(self.gram(text, i)) {
                    continue;
                }
                // A needle holding the gram at i starts at or after i + q - longest and ends
                // at or before i + longest.
                let start = (i + self.q).saturating_sub(self.longest);
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
    pub(crate) fn find_iter<'t>(
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
    fn caseless_needles_match_as_the_whole_text_search_in_any_case() {
        let names: [&[u8]; 3] = [b"secret_key", b"secretkey", b"signing_key"];
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(names)
            .unwrap();
        let s = Sampled::caseless(names.into_iter()).unwrap();
        let text = b"x = 1\nSECRET_KEY = 'a'\nsecretKey:SiGnInG_KeY\n_KEY secret_ke\x7fsecret_key";
        let whole: Vec<Match> = ac.find_iter(&text[..]).collect();
        assert_eq!(whole.len(), 4, "{whole:?}");
        assert_eq!(whole, s.find_iter(&ac, &text[..]).collect::<Vec<_>>());
    }

    #[test]
    fn the_grams_are_gathered_without_a_reallocation() {
        let needles: [&[u8]; 3] = [&[7u8; 64], &[9u8; 40], b"0123456789abcdef"];
        let s = Sampled::new(needles.into_iter()).unwrap();
        // Reserved exactly once for every gram (dedup keeps the capacity): no buffer
        // holding key material was freed unwiped on the way.
        assert_eq!(s.grams.capacity(), (64 - 7) + (40 - 7) + (16 - 7));
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

        #[test]
        fn caseless_matches_are_those_of_the_whole_text_search(
            needles in prop::collection::vec(prop::collection::vec(prop::sample::select(b"aAbB_-\x7f".to_vec()), 9..14), 1..5),
            pieces in prop::collection::vec((prop::collection::vec(prop::sample::select(b"aAbB_-\x7f\n".to_vec()), 0..20), 0usize..5), 0..12),
        ) {
            let mut text = Vec::new();
            for (filler, which) in &pieces {
                text.extend_from_slice(filler);
                if let Some(n) = needles.get(*which) {
                    // The needle in another case.
                    text.extend(n.iter().map(|b| if b.is_ascii_alphabetic() { b ^ 0x20 } else { *b }));
                }
            }
            let ac = AhoCorasick::builder().ascii_case_insensitive(true).build(&needles).unwrap();
            let s = Sampled::caseless(needles.iter().map(|n| &n[..])).unwrap();
            let whole: Vec<Match> = ac.find_iter(&text).collect();
            prop_assert_eq!(whole, s.find_iter(&ac, &text).collect::<Vec<_>>());
        }
    }
}
