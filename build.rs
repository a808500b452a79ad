//! Builds the strength estimator's tables at compile time, so no process spends time
//! on them at run time (the interactive view's first frame builds nothing):
//!
//! - the dictionary trie over keywarden's telling words and `assets/words.txt`;
//! - the sorted SHA-256 digests of the published keys (`assets/known-keys.txt`).
//!
//! Output: `$OUT_DIR/strength_dictionary.rs` and `$OUT_DIR/known_digests.rs`, included
//! by `src/keys/strength/words.rs` and `known.rs`. Nothing here is secret: both assets are public lists.

use std::fmt::Write as _;
use std::path::Path;

include!("src/keys/strength/telling_words.rs");

/// Shortest dictionary word kept (as `words::MIN_WORD_LEN`).
const MIN_WORD_LEN: usize = 3;
/// Flag of an entry that is a telling word (its index in the low bits); other non-zero
/// entries are ranks in `assets/words.txt`, 0 is no entry.
const TELLING_FLAG: u32 = 1 << 31;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/keys/strength/telling_words.rs");
    println!("cargo::rerun-if-changed=assets/words.txt");
    println!("cargo::rerun-if-changed=assets/known-keys.txt");
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut out = String::new();
    trie(&mut out);
    std::fs::write(Path::new(&dir).join("strength_dictionary.rs"), out)
        .expect("write strength_dictionary.rs");
    let mut out = String::new();
    digests(&mut out);
    std::fs::write(Path::new(&dir).join("known_digests.rs"), out).expect("write known_digests.rs");
}

fn trie(out: &mut String) {
    let words = std::fs::read_to_string("assets/words.txt").expect("read assets/words.txt");
    let mut children: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
    let mut entry: Vec<u32> = vec![0];
    let mut insert = |word: &str, e: u32| {
        let mut node = 0usize;
        for b in word.bytes() {
            assert!(
                b.is_ascii_lowercase() || b.is_ascii_digit(),
                "word {word:?}: only [a-z0-9] in the dictionary"
            );
            node = match children[node].iter().find(|(c, _)| *c == b) {
                Some(&(_, next)) => next as usize,
                None => {
                    let next = children.len();
                    children.push(Vec::new());
                    entry.push(0);
                    children[node].push((b, next as u32));
                    next
                }
            };
        }
        if entry[node] == 0 {
            entry[node] = e;
        }
    };
    for (i, w) in TELLING_WORDS.iter().enumerate() {
        insert(w, TELLING_FLAG | i as u32);
    }
    let ranked = words
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    for (r, w) in ranked.enumerate() {
        if w.len() >= MIN_WORD_LEN {
            insert(w, r as u32 + 1);
        }
    }
    let mut start = Vec::with_capacity(children.len() + 1);
    let mut edge_bytes = Vec::with_capacity(children.len());
    let mut edge_nodes = Vec::with_capacity(children.len());
    for mut list in children {
        list.sort_unstable();
        start.push(edge_bytes.len() as u32);
        for (b, n) in list {
            edge_bytes.push(b);
            edge_nodes.push(n);
        }
    }
    start.push(edge_bytes.len() as u32);
    let mut root = [u32::MAX; 128];
    for k in start[0] as usize..start[1] as usize {
        root[usize::from(edge_bytes[k])] = edge_nodes[k];
    }
    array(out, "TRIE_ROOT", "u32", &root);
    array(out, "TRIE_START", "u32", &start);
    array(out, "TRIE_EDGE_BYTES", "u8", &edge_bytes);
    array(out, "TRIE_EDGE_NODES", "u32", &edge_nodes);
    array(out, "TRIE_ENTRIES", "u32", &entry);
    writeln!(
        out,
        "pub(super) const TRIE_TELLING_FLAG: u32 = {TELLING_FLAG};"
    )
    .unwrap();
}

fn digests(out: &mut String) {
    let text =
        std::fs::read_to_string("assets/known-keys.txt").expect("read assets/known-keys.txt");
    let mut lines = 0usize;
    let mut all: Vec<[u8; 32]> = Vec::new();
    for l in text.lines().map(str::trim) {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        lines += 1;
        let b = l.as_bytes();
        assert!(
            b.len() == 64,
            "known-keys.txt: {l:?} is not a SHA-256 hex digest"
        );
        let mut d = [0u8; 32];
        for (o, pair) in d.iter_mut().zip(b.chunks_exact(2)) {
            let s = std::str::from_utf8(pair).unwrap();
            *o = u8::from_str_radix(s, 16)
                .unwrap_or_else(|_| panic!("known-keys.txt: {l:?} is not hex"));
        }
        all.push(d);
    }
    all.sort_unstable();
    all.dedup();
    writeln!(
        out,
        "#[cfg(test)]\npub(super) const KNOWN_DIGEST_LINES: usize = {lines};"
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static KNOWN_DIGESTS: [[u8; 32]; {}] = [",
        all.len()
    )
    .unwrap();
    for d in &all {
        writeln!(out, "    {d:?},").unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn array<T: std::fmt::Display>(out: &mut String, name: &str, ty: &str, items: &[T]) {
    writeln!(out, "pub(super) static {name}: [{ty}; {}] = [", items.len()).unwrap();
    for chunk in items.chunks(32) {
        out.push_str("   ");
        for x in chunk {
            write!(out, " {x},").unwrap();
        }
        out.push('\n');
    }
    writeln!(out, "];").unwrap();
}
