//! The word lists: keywarden's own *telling words* (public, may be named in messages) and
//! the ranked dictionary of common passwords, English words and names (`assets/words.txt`,
//! never named in messages: a dictionary word found in a key is a piece of the key).
//!
//! Both live in one trie, built at compile time (`build.rs`), walked from every position
//! of a key.
//! A walk over random text dies after two or three characters, so a 64-character key costs
//! a few hundred node visits.

include!("telling_words.rs");

#[cfg(test)]
const WORDS_TXT: &str = include_str!("../../../assets/words.txt");

/// What a dictionary entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Index into [`TELLING_WORDS`].
    Telling(u16),
    /// 1-based frequency rank in `assets/words.txt` (after the telling words).
    Ranked(u32),
}

impl Entry {
    /// Guess rank: how many words an attacker tries before this one.
    pub fn rank(self) -> u32 {
        match self {
            Entry::Telling(i) => u32::from(i) + 1,
            Entry::Ranked(r) => TELLING_WORDS.len() as u32 + r,
        }
    }
}

/// A compact trie over `[a-z0-9]`, built at compile time by `build.rs`: children of node
/// `n` are `edge_bytes[start[n]..start[n + 1]]` (sorted) leading to the same range of
/// `edge_nodes`.
pub struct Dictionary {
    /// The root's children by byte (`NONE` if absent): the one node every walk visits.
    root: &'static [u32; 128],
    start: &'static [u32],
    edge_bytes: &'static [u8],
    edge_nodes: &'static [u32],
    /// 0: no word ends here; `TRIE_TELLING_FLAG | i`: telling word `i`; else the rank.
    entries: &'static [u32],
}

mod tables {
    include!(concat!(env!("OUT_DIR"), "/strength_dictionary.rs"));
}

const NONE: u32 = u32::MAX;

/// Shortest dictionary word considered (telling words included).
pub const MIN_WORD_LEN: usize = 3;

static DICT: Dictionary = Dictionary {
    root: &tables::TRIE_ROOT,
    start: &tables::TRIE_START,
    edge_bytes: &tables::TRIE_EDGE_BYTES,
    edge_nodes: &tables::TRIE_EDGE_NODES,
    entries: &tables::TRIE_ENTRIES,
};

impl Dictionary {
    /// The dictionary: static data, nothing is built at run time.
    pub fn get() -> &'static Dictionary {
        &DICT
    }

    /// The child of `node` along byte `b`.
    #[inline]
    pub fn step(&self, node: u32, b: u8) -> Option<u32> {
        if node == Self::ROOT {
            let n = *self.root.get(usize::from(b))?;
            return (n != NONE).then_some(n);
        }
        let (lo, hi) = (
            self.start[node as usize] as usize,
            self.start[node as usize + 1] as usize,
        );
        let k = self.edge_bytes[lo..hi].iter().position(|&c| c == b)?;
        Some(self.edge_nodes[lo + k])
    }

    #[inline]
    pub fn entry(&self, node: u32) -> Option<Entry> {
        match self.entries[node as usize] {
            0 => None,
            e if e & tables::TRIE_TELLING_FLAG != 0 => {
                Some(Entry::Telling((e & !tables::TRIE_TELLING_FLAG) as u16))
            }
            r => Some(Entry::Ranked(r)),
        }
    }

    pub const ROOT: u32 = 0;
}

/// Common l33t substitutions: the letters a character may stand for.
#[inline]
pub fn l33t(c: char) -> &'static [u8] {
    match c {
        '4' | '@' => b"a",
        '3' => b"e",
        '1' => b"il",
        '!' | '|' => b"i",
        '0' => b"o",
        '$' | '5' => b"s",
        '7' | '+' => b"t",
        _ => b"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(word: &str) -> Option<Entry> {
        let d = Dictionary::get();
        let mut node = Dictionary::ROOT;
        for b in word.bytes() {
            node = d.step(node, b)?;
        }
        d.entry(node)
    }

    #[test]
    fn telling_words_rank_first() {
        assert_eq!(lookup("secret"), Some(Entry::Telling(0)));
        assert_eq!(lookup("secret").unwrap().rank(), 1);
        assert!(matches!(lookup("testing"), Some(Entry::Telling(_))));
        for w in TELLING_WORDS {
            assert!(w.len() >= MIN_WORD_LEN && w.bytes().all(|b| b.is_ascii_lowercase()));
        }
    }

    #[test]
    fn dictionary_has_common_passwords_and_words() {
        for w in [
            "qwerty", "dragon", "monkey", "metro", "only", "the", "abc123",
        ] {
            assert!(matches!(lookup(w), Some(Entry::Ranked(_))), "{w}");
        }
        assert_eq!(lookup("zzqxj"), None);
        let qwerty = lookup("qwerty").unwrap().rank();
        let metro = lookup("metro").unwrap().rank();
        assert!(qwerty < metro);
    }

    #[test]
    fn asset_is_small_and_clean() {
        assert!(WORDS_TXT.len() < 200 * 1024);
        for l in WORDS_TXT.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                l.len() >= MIN_WORD_LEN
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{l:?}"
            );
        }
    }
}
