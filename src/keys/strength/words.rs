//! The word lists: keywarden's own *telling words* (public, may be named in messages) and
//! the ranked dictionary of common passwords, English words and names (`assets/words.txt`,
//! never named in messages: a dictionary word found in a key is a piece of the key).
//!
//! Both live in one trie, built once per process, walked from every position of a key.
//! A walk over random text dies after two or three characters, so a 64-character key costs
//! a few hundred node visits.

use std::sync::OnceLock;

/// Words that mark a key as a non-secret. Public: messages name them. Their rank in the
/// dictionary is their position here, ahead of every dictionary word (an attacker tries
/// them first).
pub const TELLING_WORDS: &[&str] = &[
    "secret",
    "secrets",
    "key",
    "keys",
    "password",
    "passwd",
    "pass",
    "pwd",
    "token",
    "dev",
    "devel",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "staging",
    "stage",
    "prod",
    "production",
    "demo",
    "sample",
    "default",
    "admin",
    "local",
    "localhost",
    "temp",
    "tmp",
    "insecure",
    "dummy",
    "fake",
    "debug",
    "sandbox",
    "session",
    "csrf",
    "jwt",
    "signing",
    "django",
    "flask",
    "rails",
    "laravel",
];

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

/// A compact trie over `[a-z0-9]`: children of node `n` are
/// `edges[start[n]..start[n + 1]]`, sorted by byte.
pub struct Dictionary {
    /// The root's children by byte (`NONE` if absent): the one node every walk visits.
    root: [u32; 128],
    start: Vec<u32>,
    edges: Vec<(u8, u32)>,
    entry: Vec<Option<Entry>>,
}

const NONE: u32 = u32::MAX;

/// Shortest dictionary word considered (telling words included).
pub const MIN_WORD_LEN: usize = 3;

impl Dictionary {
    pub fn get() -> &'static Dictionary {
        static DICT: OnceLock<Dictionary> = OnceLock::new();
        DICT.get_or_init(Dictionary::build)
    }

    fn build() -> Dictionary {
        // Build with per-node child lists, then flatten.
        let mut children: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut entry: Vec<Option<Entry>> = vec![None];
        let mut insert = |word: &str, e: Entry| {
            let mut node = 0usize;
            for b in word.bytes() {
                debug_assert!(b.is_ascii_lowercase() || b.is_ascii_digit(), "{word}");
                node = match children[node].iter().find(|(c, _)| *c == b) {
                    Some(&(_, next)) => next as usize,
                    None => {
                        let next = children.len();
                        children.push(Vec::new());
                        entry.push(None);
                        children[node].push((b, next as u32));
                        next
                    }
                };
            }
            if entry[node].is_none() {
                entry[node] = Some(e);
            }
        };
        for (i, w) in TELLING_WORDS.iter().enumerate() {
            insert(w, Entry::Telling(i as u16));
        }
        let ranked = WORDS_TXT
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        for (r, w) in ranked.enumerate() {
            if w.len() >= MIN_WORD_LEN {
                insert(w, Entry::Ranked(r as u32 + 1));
            }
        }
        let mut start = Vec::with_capacity(children.len() + 1);
        let mut edges = Vec::with_capacity(children.len());
        for mut list in children {
            list.sort_unstable();
            start.push(edges.len() as u32);
            edges.extend(list);
        }
        start.push(edges.len() as u32);
        let mut root = [NONE; 128];
        for &(b, n) in &edges[start[0] as usize..start[1] as usize] {
            root[usize::from(b)] = n;
        }
        Dictionary {
            root,
            start,
            edges,
            entry,
        }
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
        self.edges[lo..hi]
            .iter()
            .find(|(c, _)| *c == b)
            .map(|&(_, n)| n)
    }

    #[inline]
    pub fn entry(&self, node: u32) -> Option<Entry> {
        self.entry[node as usize]
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
