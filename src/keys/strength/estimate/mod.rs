//! The entropy estimate: a zxcvbn-style minimal decomposition of the key.
//!
//! Every structured piece found in the key (dictionary word, telling word, name, year,
//! date, sequence, keyboard run, repeated chunk, separator between pieces) becomes a
//! [`Token`] priced at the log2 of its guess space; a character not covered by a token
//! costs log2 of the key's character pool. A dynamic programme picks the cheapest cover:
//! that total is the estimate, in bits, and the chosen tokens are what the findings report.
//!
//! This file holds the estimate (the cheapest cover of the key by patterns); [`patterns`]
//! finds the patterns.

use super::words::{Dictionary, Entry, MIN_WORD_LEN, l33t};

mod patterns;
use patterns::*;

/// Structure is searched in the first `MAX_ANALYZED` characters; the rest counts as
/// random characters (keys are 32 to 128 characters; this bounds the cost of a huge one).
pub const MAX_ANALYZED: usize = 256;
/// Each structured token costs two extra bits: which kind of piece comes next, and
/// that one comes at all (zxcvbn charges k! for k pieces instead).
const TOKEN_BITS: f64 = 2.0;
/// See [`Estimate::beats_chance`].
pub const CHANCE_MARGIN: f64 = 4.0;
/// Characters that join words (`dev-secret_key.2024`), priced log2(4) after a token.
const SEPARATORS: &[u8] = b"-_. ";
/// Guess spaces.
const YEAR_SPACE: f64 = 150.0; // 1950..=2099
const DAY_SPACE: f64 = 366.0;
const KEYBOARD_STARTS_TIMES_DEGREE: f64 = 94.0 * 4.6; // zxcvbn's figures for qwerty

/// Keyboard rows (QWERTY, its shifted digit row, AZERTY) and the QWERTY column zigzag;
/// matched forwards and backwards.
const KEYBOARD_ROWS: &[&[u8]] = &[
    b"`1234567890-=",
    b"~!@#$%^&*()_+",
    b"qwertyuiop[]\\",
    b"asdfghjkl;'",
    b"zxcvbnm,./",
    b"azertyuiop",
    b"qsdfghjklm",
    b"wxcvbn",
    b"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    b"zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
];
const MIN_KEYBOARD_LEN: usize = 4;
const NOT_ON_ROW: u8 = u8::MAX;

/// For each keyboard row and direction, the position of each ASCII byte on it (computed
/// at compile time).
static KEYBOARD_TABLES: [[u8; 128]; 2 * KEYBOARD_ROWS.len()] = {
    let mut tables = [[NOT_ON_ROW; 128]; 2 * KEYBOARD_ROWS.len()];
    let mut r = 0;
    while r < KEYBOARD_ROWS.len() {
        let row = KEYBOARD_ROWS[r];
        let mut k = 0;
        while k < row.len() {
            tables[2 * r][row[k] as usize] = k as u8;
            tables[2 * r + 1][row[k] as usize] = (row.len() - 1 - k) as u8;
            k += 1;
        }
        r += 1;
    }
    tables
};

fn keyboard_tables() -> &'static [[u8; 128]] {
    &KEYBOARD_TABLES
}

/// For each pair of ASCII bytes `a`, `b`: bit `t` set when `b` comes right after `a` on
/// keyboard table `t` (computed at compile time). A keyboard run is a stretch of such
/// pairs sharing a bit, which lets a key with no such stretch skip the tables.
static KEYBOARD_PAIRS: [[u32; 128]; 128] = {
    let mut pairs = [[0u32; 128]; 128];
    let mut t = 0;
    while t < KEYBOARD_TABLES.len() {
        let table = &KEYBOARD_TABLES[t];
        let mut a = 0;
        while a < 128 {
            if table[a] != NOT_ON_ROW {
                let mut b = 0;
                while b < 128 {
                    if table[b] != NOT_ON_ROW && table[b] == table[a] + 1 {
                        pairs[a][b] |= 1 << t;
                    }
                    b += 1;
                }
            }
            a += 1;
        }
        t += 1;
    }
    pairs
};
const _: () = assert!(
    KEYBOARD_TABLES.len() <= 32,
    "one bit per table in KEYBOARD_PAIRS"
);

/// Whether `low` may hold a keyboard run of [`MIN_KEYBOARD_LEN`] characters: some
/// `MIN_KEYBOARD_LEN - 1` consecutive neighbour pairs on one table. `false` is exact (no
/// run); `true` means the tables must be walked.
fn may_hold_keyboard_run(low: &[u8]) -> bool {
    let pairs = MIN_KEYBOARD_LEN - 1;
    let masks = low
        .windows(2)
        .map(|w| KEYBOARD_PAIRS[usize::from(w[0] & 0x7f)][usize::from(w[1] & 0x7f)]);
    let mut run = [0u32; MIN_KEYBOARD_LEN - 1];
    for (i, m) in masks.enumerate() {
        run[i % pairs] = m;
        if i + 1 >= pairs && run.iter().fold(u32::MAX, |acc, m| acc & m) != 0 {
            return true;
        }
    }
    false
}
const MIN_SEQUENCE_LEN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A dictionary word or common password (never named: it is a piece of the key).
    Word,
    /// Index into `TELLING_WORDS`.
    Telling(u16),
    /// Index into the caller's list of names.
    Name(usize),
    Year,
    Date,
    Sequence,
    Keyboard,
    Repeat {
        reps: usize,
    },
    Separator,
}

/// A structured piece of the key: characters `start..end`, guessable in `2^bits` tries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    pub bits: f64,
}

impl Token {
    pub fn len(&self) -> usize {
        self.end - self.start
    }
}

/// A name to look for (already lowercased, ASCII), with the index the caller knows it by.
pub struct Name {
    pub pattern: Vec<u8>,
    pub index: usize,
}

/// Names indexed by length, so a key is searched in O(length × distinct name lengths)
/// whatever the number of names (a project may have a thousand environments). Each length
/// keeps the set of first bytes its names start with: most positions of a key start no
/// name and are passed over without hashing.
#[derive(Debug, Default)]
pub struct NameIndex {
    by_len: Vec<NamesOfLen>,
}

#[derive(Debug)]
struct NamesOfLen {
    len: usize,
    /// Bit `b` set: some name of this length starts with byte `b`.
    first: [u64; 4],
    names: std::collections::HashMap<Vec<u8>, usize, BuildFnv>,
}

impl NameIndex {
    /// The first pattern of a given spelling wins.
    pub fn new(names: Vec<Name>) -> NameIndex {
        let mut by_len: Vec<NamesOfLen> = Vec::new();
        for n in names {
            let len = n.pattern.len();
            let Some(&b) = n.pattern.first() else {
                continue;
            };
            let slot = match by_len.iter().position(|l| l.len == len) {
                Some(i) => i,
                None => {
                    by_len.push(NamesOfLen {
                        len,
                        first: [0; 4],
                        names: Default::default(),
                    });
                    by_len.len() - 1
                }
            };
            by_len[slot].first[usize::from(b >> 6)] |= 1 << (b & 63);
            by_len[slot].names.entry(n.pattern).or_insert(n.index);
        }
        by_len.sort_by_key(|l| l.len);
        NameIndex { by_len }
    }

    /// Every name found in `low` (lowercased bytes): (start, length, index).
    pub(super) fn find(&self, low: &[u8], mut each: impl FnMut(usize, usize, usize)) {
        for names in &self.by_len {
            let len = names.len;
            if len > low.len() {
                continue;
            }
            for i in 0..=low.len() - len {
                let b = low[i];
                if names.first[usize::from(b >> 6)] & (1 << (b & 63)) == 0 {
                    continue;
                }
                if let Some(&index) = names.names.get(&low[i..i + len]) {
                    each(i, len, index);
                }
            }
        }
    }
}

/// FNV-1a: names are short and not chosen by an attacker who could flood the table (they
/// are the project's own environment names), so a cheap hash serves better than SipHash.
#[derive(Default, Clone, Copy)]
struct BuildFnv;

struct Fnv(u64);

impl std::hash::BuildHasher for BuildFnv {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl std::fmt::Debug for BuildFnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BuildFnv")
    }
}

pub struct Estimate {
    /// Estimated entropy in bits (uncapped, unrounded): the cheapest cover, with the
    /// tokens that do not beat chance priced back as random characters.
    pub bits: f64,
    /// log2 of the character pool: what one random character is worth.
    pub per_char: f64,
    /// Length in characters.
    pub len: usize,
    /// The structured tokens of the cheapest cover, in key order.
    pub path: Vec<Token>,
    /// For each token of `path`: does it count as structure (see [`Estimate::beats_chance`];
    /// a separator counts between two tokens that do).
    pub counts: Vec<bool>,
    /// The structured tokens inside the repeated chunks of `path` (first occurrence).
    pub inner: Vec<Token>,
}

impl Estimate {
    /// What the length alone suggests: `len · log2(pool)`.
    pub fn random_bits(&self) -> f64 {
        self.len as f64 * self.per_char
    }

    /// Bits a token saves against random characters, counting its token overhead.
    pub fn saved(&self, t: &Token) -> f64 {
        t.len() as f64 * self.per_char - t.bits - token_overhead(t.kind)
    }

    /// Bits a token saves beyond what chance gives a random key: `saved` minus log2 of
    /// the number of places a token of its length could sit.
    pub fn excess(&self, t: &Token) -> f64 {
        self.saved(t) - ((self.len - t.len() + 1) as f64).log2()
    }

    /// A token beats chance when its excess reaches [`CHANCE_MARGIN`]: a random key holds
    /// such a token with odds below 1 in 16. Random keys are full of tokens that do not
    /// (a 3-letter word, `aaa`, `123`): they are priced as random characters.
    pub fn beats_chance(&self, t: &Token) -> bool {
        t.kind != Kind::Separator && self.excess(t) >= CHANCE_MARGIN
    }
}

fn token_overhead(kind: Kind) -> f64 {
    if kind == Kind::Separator {
        0.0
    } else {
        TOKEN_BITS
    }
}

/// The character pool of the key: the sum of the sizes of the classes it uses (lowercase
/// 26, uppercase 26, digits 10, ASCII symbols and space 33, anything else 100), except that
/// a key of hex digits (both digits and letters, one case) counts 16 and a base64 or
/// base64url key (upper, lower, digits, symbols only from its alphabet) counts 64.
pub fn pool(chars: &[char]) -> f64 {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    let (mut b64, mut b64url, mut symbols) = (true, true, false);
    let (mut hex_lower, mut hex_upper) = (true, true);
    for &c in chars {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            c if c.is_ascii() => {
                symbols = true;
                b64 &= matches!(c, '+' | '/' | '=');
                b64url &= matches!(c, '-' | '_' | '=');
            }
            _ => other = true,
        }
        hex_lower &= matches!(c, '0'..='9' | 'a'..='f');
        hex_upper &= matches!(c, '0'..='9' | 'A'..='F');
    }
    let letters = lower || upper;
    if digit && letters && (hex_lower || hex_upper) {
        return 16.0;
    }
    if lower && upper && digit && !other && symbols && (b64 || b64url) {
        return 64.0;
    }
    let mut n = 0.0;
    for (used, size) in [
        (lower, 26.0),
        (upper, 26.0),
        (digit, 10.0),
        (symbols, 33.0),
        (other, 100.0),
    ] {
        if used {
            n += size;
        }
    }
    f64::max(n, 2.0)
}

/// Estimates the entropy of `chars` (the key) given names to look for.
pub fn estimate(chars: &[char], names: &NameIndex) -> Estimate {
    let per_char = pool(chars).log2();
    let n = chars.len().min(MAX_ANALYZED);
    let (chars_a, tail) = chars.split_at(n);
    let low: Vec<u8> = chars_a.iter().map(|&c| lower_byte(c)).collect();
    let low = zeroize::Zeroizing::new(low);
    let text = Text {
        chars: chars_a,
        low: &low,
        per_char,
        names,
    };
    let mut tokens = text.tokens(true);
    let (bits, path) = text.cheapest(&mut tokens);
    let mut inner = Vec::new();
    for t in &path {
        if matches!(t.kind, Kind::Repeat { .. }) {
            inner.extend(text.chunk_path(t).into_iter().map(|mut c| {
                c.start += t.start;
                c.end += t.start;
                c
            }));
        }
    }
    let mut est = Estimate {
        bits: bits + tail.len() as f64 * per_char,
        per_char,
        len: chars.len(),
        path,
        counts: Vec::new(),
        inner,
    };
    let beats: Vec<bool> = est.path.iter().map(|t| est.beats_chance(t)).collect();
    let p = &est.path;
    est.counts = (0..p.len())
        .map(|i| {
            beats[i]
                || (p[i].kind == Kind::Separator
                    && i > 0
                    && i + 1 < p.len()
                    && beats[i - 1]
                    && beats[i + 1]
                    && p[i - 1].end == p[i].start
                    && p[i + 1].start == p[i].end)
        })
        .collect();
    for (t, counts) in est.path.iter().zip(&est.counts) {
        if !counts {
            est.bits += est.saved(t).max(0.0);
        }
    }
    est
}

fn token(start: usize, end: usize, kind: Kind, bits: f64) -> Token {
    Token {
        start,
        end,
        kind,
        bits,
    }
}

/// zxcvbn's uppercase variations: 0 bits for lowercase, 1 bit for Capitalised, ALL CAPS
/// or a last capital, else log2 of the number of ways to place that many capitals.
fn case_bits(chars: &[char]) -> f64 {
    let upper = chars.iter().filter(|c| c.is_ascii_uppercase()).count();
    if upper == 0 {
        return 0.0;
    }
    let lower = chars.iter().filter(|c| c.is_ascii_lowercase()).count();
    let first = chars.first().is_some_and(char::is_ascii_uppercase);
    let last = chars.last().is_some_and(char::is_ascii_uppercase);
    if lower == 0 || (upper == 1 && (first || last)) {
        return 1.0;
    }
    let n = upper + lower;
    let mut sum = 0.0;
    for k in 1..=upper.min(lower) {
        sum += binomial(n, k);
    }
    sum.log2()
}

fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests;
