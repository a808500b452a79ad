//! The entropy estimate: a zxcvbn-style minimal decomposition of the key.
//!
//! Every structured piece found in the key (dictionary word, telling word, name, year,
//! date, sequence, keyboard run, repeated chunk, separator between pieces) becomes a
//! [`Token`] priced at the log2 of its guess space; a character not covered by a token
//! costs log2 of the key's character pool. A dynamic programme picks the cheapest cover:
//! that total is the estimate, in bits, and the chosen tokens are what the findings report.

use super::words::{Dictionary, Entry, MIN_WORD_LEN, l33t};

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

/// For each keyboard row and direction, the position of each ASCII byte on it.
fn keyboard_tables() -> &'static [[u8; 128]] {
    static TABLES: std::sync::OnceLock<Vec<[u8; 128]>> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = Vec::new();
        for row in KEYBOARD_ROWS {
            for forward in [true, false] {
                let mut t = [NOT_ON_ROW; 128];
                for (k, &b) in row.iter().enumerate() {
                    let pos = if forward { k } else { row.len() - 1 - k };
                    t[usize::from(b)] = pos as u8;
                }
                tables.push(t);
            }
        }
        tables
    })
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
/// whatever the number of names (a project may have a thousand environments).
#[derive(Debug, Default)]
pub struct NameIndex {
    by_len: Vec<(usize, std::collections::HashMap<Vec<u8>, usize>)>,
}

impl NameIndex {
    /// The first pattern of a given spelling wins.
    pub fn new(names: Vec<Name>) -> NameIndex {
        let mut by_len: Vec<(usize, std::collections::HashMap<Vec<u8>, usize>)> = Vec::new();
        for n in names {
            let len = n.pattern.len();
            let slot = match by_len.iter().position(|(l, _)| *l == len) {
                Some(i) => i,
                None => {
                    by_len.push((len, Default::default()));
                    by_len.len() - 1
                }
            };
            by_len[slot].1.entry(n.pattern).or_insert(n.index);
        }
        by_len.sort_by_key(|(l, _)| *l);
        NameIndex { by_len }
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

/// ASCII lowercase byte, or 0 for a non-ASCII character (matches nothing).
fn lower_byte(c: char) -> u8 {
    if c.is_ascii() {
        (c as u8).to_ascii_lowercase()
    } else {
        0
    }
}

struct Text<'a> {
    chars: &'a [char],
    low: &'a [u8],
    per_char: f64,
    names: &'a NameIndex,
}

impl Text<'_> {
    fn slice(&self, start: usize, end: usize) -> Text<'_> {
        Text {
            chars: &self.chars[start..end],
            low: &self.low[start..end],
            per_char: self.per_char,
            names: self.names,
        }
    }

    fn tokens(&self, repeats: bool) -> Vec<Token> {
        let mut out = Vec::new();
        self.dictionary(&mut out);
        self.names(&mut out);
        self.dates(&mut out);
        self.sequences(&mut out);
        self.keyboard(&mut out);
        if repeats {
            self.repeats(&mut out);
        }
        let sep_bits = (SEPARATORS.len() as f64).log2();
        for (i, b) in self.low.iter().enumerate() {
            if SEPARATORS.contains(b) {
                out.push(token(i, i + 1, Kind::Separator, sep_bits));
            }
        }
        out
    }

    /// The cheapest cover: (bits, structured tokens in order). Two states per position:
    /// 0 = after a random character (or at the start), 1 = right after a structured token,
    /// where a separator is cheap.
    fn cheapest(&self, tokens: &mut [Token]) -> (f64, Vec<Token>) {
        const BRUTE: u32 = u32::MAX;
        let n = self.chars.len();
        tokens.sort_unstable_by_key(|t| (t.start, t.end));
        let mut cost = vec![[f64::INFINITY; 2]; n + 1];
        // back[i][s] = (token index or BRUTE, previous state)
        let mut back = vec![[(BRUTE, 0u8); 2]; n + 1];
        cost[0][0] = 0.0;
        let mut next = 0;
        for i in 0..n {
            for s in 0..2 {
                let c = cost[i][s];
                if c.is_finite() && c + self.per_char < cost[i + 1][0] {
                    cost[i + 1][0] = c + self.per_char;
                    back[i + 1][0] = (BRUTE, s as u8);
                }
            }
            while next < tokens.len() && tokens[next].start == i {
                let t = &tokens[next];
                let from = if t.kind == Kind::Separator {
                    [1].as_slice()
                } else {
                    [0, 1].as_slice()
                };
                for &s in from {
                    let c = cost[i][s] + t.bits + token_overhead(t.kind);
                    if c < cost[t.end][1] {
                        cost[t.end][1] = c;
                        back[t.end][1] = (next as u32, s as u8);
                    }
                }
                next += 1;
            }
        }
        let mut state = if cost[n][1] < cost[n][0] { 1 } else { 0 };
        let bits = cost[n][state];
        let mut path = Vec::new();
        let mut i = n;
        while i > 0 {
            let (t, prev) = back[i][state];
            if t == BRUTE {
                i -= 1;
            } else {
                let t = tokens[t as usize];
                i = t.start;
                path.push(t);
            }
            state = prev as usize;
        }
        path.reverse();
        // A separator only counts as structure between two tokens: a trailing one
        // (`word-` then random characters) stays, it is still cheaper; keep as chosen.
        (bits, path)
    }

    /// The cheapest cover of a repeated chunk (without nested repeats).
    fn chunk_bits(&self, start: usize, len: usize) -> f64 {
        let chunk = self.slice(start, start + len);
        let mut tokens = chunk.tokens(false);
        chunk.cheapest(&mut tokens).0
    }

    fn chunk_path(&self, repeat: &Token) -> Vec<Token> {
        let Kind::Repeat { reps } = repeat.kind else {
            return Vec::new();
        };
        let chunk = self.slice(repeat.start, repeat.start + repeat.len() / reps);
        let mut tokens = chunk.tokens(false);
        chunk.cheapest(&mut tokens).1
    }

    fn dictionary(&self, out: &mut Vec<Token>) {
        let dict = Dictionary::get();
        let n = self.low.len();
        let mut stack: Vec<(u32, usize, u8)> = Vec::new();
        for i in 0..n {
            stack.push((Dictionary::ROOT, i, 0));
            while let Some((node, pos, subs)) = stack.pop() {
                // At least half the characters literal: `105` is not `los`.
                if pos - i >= MIN_WORD_LEN
                    && usize::from(subs) * 2 <= pos - i
                    && let Some(entry) = dict.entry(node)
                {
                    let kind = match entry {
                        Entry::Telling(t) => Kind::Telling(t),
                        Entry::Ranked(_) => Kind::Word,
                    };
                    let bits = f64::from(entry.rank()).log2()
                        + case_bits(&self.chars[i..pos])
                        + f64::from(subs);
                    out.push(token(i, pos, kind, bits));
                }
                if pos == n {
                    continue;
                }
                let b = self.low[pos];
                if (b.is_ascii_lowercase() || b.is_ascii_digit())
                    && let Some(next) = dict.step(node, b)
                {
                    stack.push((next, pos + 1, subs));
                }
                for &sub in l33t(self.chars[pos]) {
                    if let Some(next) = dict.step(node, sub) {
                        stack.push((next, pos + 1, subs + 1));
                    }
                }
            }
        }
    }

    fn names(&self, out: &mut Vec<Token>) {
        for (len, patterns) in &self.names.by_len {
            let len = *len;
            if len == 0 || len > self.low.len() {
                continue;
            }
            for i in 0..=self.low.len() - len {
                if let Some(&index) = patterns.get(&self.low[i..i + len]) {
                    let bits = 1.0 + case_bits(&self.chars[i..i + len]);
                    out.push(token(i, i + len, Kind::Name(index), bits));
                }
            }
        }
    }

    fn dates(&self, out: &mut Vec<Token>) {
        let low = self.low;
        let n = low.len();
        let digits_at = |i: usize, len: usize| -> Option<u32> {
            let s = low.get(i..i + len)?;
            s.iter().try_fold(0u32, |acc, &b| {
                b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
            })
        };
        let year = |y: u32| (1950..=2099).contains(&y);
        let day_month = |d: u32, m: u32| (1..=31).contains(&d) && (1..=12).contains(&m);
        let date_bits = (YEAR_SPACE * DAY_SPACE).log2();
        for i in 0..n {
            if !low[i].is_ascii_digit() {
                continue;
            }
            if digits_at(i, 4).is_some_and(year) {
                out.push(token(i, i + 4, Kind::Year, YEAR_SPACE.log2()));
            }
            // YYYYMMDD, DDMMYYYY, MMDDYYYY
            if let (Some(a), Some(b), Some(c)) =
                (digits_at(i, 4), digits_at(i + 4, 2), digits_at(i + 6, 2))
                && year(a)
                && day_month(c, b)
            {
                out.push(token(i, i + 8, Kind::Date, date_bits));
            }
            if let (Some(a), Some(b), Some(c)) =
                (digits_at(i, 2), digits_at(i + 2, 2), digits_at(i + 4, 4))
                && year(c)
                && (day_month(a, b) || day_month(b, a))
            {
                out.push(token(i, i + 8, Kind::Date, date_bits));
            }
            // Separated: Y-M-D and D-M-Y / M-D-Y, one- or two-digit day and month.
            let sep_bits = date_bits + 5f64.log2();
            let is_sep = |j: usize| low.get(j).is_some_and(|b| b"-/._ ".contains(b));
            if digits_at(i, 4).is_some_and(year) && is_sep(i + 4) {
                for l1 in [1, 2] {
                    for l2 in [1, 2] {
                        let (j, k) = (i + 5 + l1, i + 6 + l1 + l2);
                        if let (Some(m), Some(d)) = (digits_at(i + 5, l1), digits_at(j + 1, l2))
                            && low[j] == low[i + 4]
                            && day_month(d, m)
                            && !low.get(k).is_some_and(u8::is_ascii_digit)
                        {
                            out.push(token(i, k, Kind::Date, sep_bits));
                        }
                    }
                }
            }
            if i > 0 && low[i - 1].is_ascii_digit() {
                continue;
            }
            for l1 in [1, 2] {
                for l2 in [1, 2] {
                    let (s1, s2) = (i + l1, i + l1 + 1 + l2);
                    if let (Some(a), Some(b), Some(y)) = (
                        digits_at(i, l1),
                        digits_at(s1 + 1, l2),
                        digits_at(s2 + 1, 4),
                    ) && is_sep(s1)
                        && low[s1] == low[s2]
                        && year(y)
                        && (day_month(a, b) || day_month(b, a))
                    {
                        out.push(token(i, s2 + 5, Kind::Date, sep_bits));
                    }
                }
            }
        }
    }

    /// Runs of characters of one class (digits, lowercase, uppercase) with a constant step
    /// of ±1 or ±2: `abcd`, `1234`, `9753`, `ZYX`.
    fn sequences(&self, out: &mut Vec<Token>) {
        let c = self.chars;
        let step = |i: usize| -> Option<i32> {
            let (a, b) = (c[i], c[i + 1]);
            let same_class = (a.is_ascii_digit() && b.is_ascii_digit())
                || (a.is_ascii_lowercase() && b.is_ascii_lowercase())
                || (a.is_ascii_uppercase() && b.is_ascii_uppercase());
            let d = b as i32 - a as i32;
            (same_class && (1..=2).contains(&d.abs())).then_some(d)
        };
        let mut i = 0;
        while i + 1 < c.len() {
            let Some(d) = step(i) else {
                i += 1;
                continue;
            };
            let mut j = i + 1;
            while j + 1 < c.len() && step(j) == Some(d) {
                j += 1;
            }
            let len = j - i + 1;
            if len >= MIN_SEQUENCE_LEN {
                let base = if "aAzZ019".contains(c[i]) {
                    4.0
                } else if c[i].is_ascii_digit() {
                    10.0
                } else {
                    26.0
                };
                let dir = if d < 0 { 2.0 } else { 1.0 };
                let guesses = base * len as f64 * dir * f64::from(d.abs());
                out.push(token(i, j + 1, Kind::Sequence, guesses.log2()));
            }
            i = j;
        }
    }

    fn keyboard(&self, out: &mut Vec<Token>) {
        let low = self.low;
        let n = low.len();
        for table in keyboard_tables() {
            let mut i = 0;
            while i < n {
                let k = table[usize::from(low[i] & 0x7f)];
                if k == NOT_ON_ROW {
                    i += 1;
                    continue;
                }
                let mut j = i + 1;
                while j < n
                    && usize::from(table[usize::from(low[j] & 0x7f)]) == usize::from(k) + (j - i)
                {
                    j += 1;
                }
                let len = j - i;
                if len >= MIN_KEYBOARD_LEN {
                    let bits = (KEYBOARD_STARTS_TIMES_DEGREE * (len - 1) as f64).log2()
                        + case_bits(&self.chars[i..j]);
                    out.push(token(i, j, Kind::Keyboard, bits));
                }
                i = j;
            }
        }
    }

    /// A chunk repeated at least twice back to back (`abcabc`, `aaaa`), chunk of any
    /// length; only primitive chunks (`ab`, not `abab`).
    fn repeats(&self, out: &mut Vec<Token>) {
        let c = self.chars;
        let n = c.len();
        for p in 1..=n / 2 {
            let mut j = 0;
            while j + p < n {
                if c[j] != c[j + p] {
                    j += 1;
                    continue;
                }
                let s = j;
                while j + p < n && c[j] == c[j + p] {
                    j += 1;
                }
                let reps = (j - s + p) / p;
                let len = reps * p;
                let chunk = &c[s..s + p];
                let primitive =
                    !(1..p).any(|q| p % q == 0 && (q..p).all(|k| chunk[k] == chunk[k - q]));
                if reps >= 2 && len >= 3 && primitive {
                    let bits = self.chunk_bits(s, p) + (reps as f64).log2();
                    out.push(token(s, s + len, Kind::Repeat { reps }, bits));
                }
            }
        }
    }
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
mod tests {
    use super::*;

    fn est(s: &str) -> Estimate {
        let chars: Vec<char> = s.chars().collect();
        estimate(&chars, &NameIndex::default())
    }

    fn kinds(s: &str) -> Vec<Kind> {
        est(s).path.iter().map(|t| t.kind).collect()
    }

    #[test]
    fn pools() {
        let p = |s: &str| pool(&s.chars().collect::<Vec<_>>());
        assert_eq!(p("abc"), 26.0);
        assert_eq!(p("aB3!"), 95.0);
        assert_eq!(p("deadbeef0123"), 16.0);
        assert_eq!(p("DEADBEEF0123"), 16.0);
        assert_eq!(p("deadBEEF0123"), 62.0);
        assert_eq!(p("aZ09+/=="), 64.0);
        assert_eq!(p("aZ09-_"), 64.0);
        assert_eq!(p("aZ09-+"), 95.0);
        assert_eq!(p("é"), 100.0);
    }

    #[test]
    fn finds_structure() {
        assert_eq!(kinds("qwerty"), [Kind::Word]);
        assert_eq!(kinds("Xq7!zxcvbnm"), [Kind::Word]);
        assert!(kinds("p@ssw0rd").contains(&Kind::Telling(4)));
        assert_eq!(kinds("13579"), [Kind::Sequence]);
        assert_eq!(kinds("xyzw"), [Kind::Sequence]);
        assert!(kinds("!k;/lkjhgf").contains(&Kind::Keyboard));
        assert_eq!(kinds("%1987"), [Kind::Year]);
        assert_eq!(kinds("%15/03/1987"), [Kind::Date]);
        assert_eq!(kinds("%1987-3-15"), [Kind::Date]);
        assert_eq!(kinds("%19870315"), [Kind::Date]);
        assert!(matches!(
            kinds("xK9xK9xK9xK9")[..],
            [Kind::Repeat { reps: 4 }]
        ));
        let dev = kinds("dev-secret-key");
        assert_eq!(
            dev,
            [
                Kind::Telling(9),
                Kind::Separator,
                Kind::Telling(0),
                Kind::Separator,
                Kind::Telling(2)
            ]
        );
    }

    #[test]
    fn names_match_case_insensitively() {
        let names = NameIndex::new(vec![Name {
            pattern: b"baguette-metro".to_vec(),
            index: 0,
        }]);
        let chars: Vec<char> = "BAGUETTE-METRO-2024".chars().collect();
        let e = estimate(&chars, &names);
        assert_eq!(e.path[0].kind, Kind::Name(0));
        assert!(e.bits < 20.0, "{}", e.bits);
    }

    #[test]
    fn estimates_are_sane() {
        let b = |s: &str| est(s).bits;
        assert!(b("password") < 5.0);
        assert!(b("abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc") < 16.0);
        assert!(b("dev-secret-key-for-testing-only") < 64.0);
        assert!(b("correct-horse-battery-staple") < 80.0);
        // Random-looking: close to len·log2(pool).
        let k = "Xk9#mQ2$vL7@pR4&";
        assert!(b(k) > 0.85 * est(k).random_bits(), "{}", b(k));
        // Long keys: structure searched in the first MAX_ANALYZED chars, the rest is random.
        let long = "a".repeat(1000);
        assert!(b(&long) > 700.0 * 26f64.log2());
    }

    #[test]
    fn case_variations() {
        let cb = |s: &str| case_bits(&s.chars().collect::<Vec<_>>());
        assert_eq!(cb("password"), 0.0);
        assert_eq!(cb("Password"), 1.0);
        assert_eq!(cb("PASSWORD"), 1.0);
        assert!(cb("PaSsWoRd") > 6.0);
    }
}
