//! The patterns a key is cut into, each with the bits an attacker who knows the pattern
//! needs: repeats, sequences, keyboard walks, dates, years, known words and names.

use super::*;

/// ASCII lowercase byte, or 0 for a non-ASCII character (matches nothing).
pub(super) fn lower_byte(c: char) -> u8 {
    if c.is_ascii() {
        (c as u8).to_ascii_lowercase()
    } else {
        0
    }
}

pub(super) struct Text<'a> {
    pub(super) chars: &'a [char],
    pub(super) low: &'a [u8],
    pub(super) per_char: f64,
    pub(super) names: &'a NameIndex,
}

impl Text<'_> {
    pub(super) fn slice(&self, start: usize, end: usize) -> Text<'_> {
        Text {
            chars: &self.chars[start..end],
            low: &self.low[start..end],
            per_char: self.per_char,
            names: self.names,
        }
    }

    pub(super) fn tokens(&self, repeats: bool) -> Vec<Token> {
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
    pub(super) fn cheapest(&self, tokens: &mut [Token]) -> (f64, Vec<Token>) {
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
    pub(super) fn chunk_bits(&self, start: usize, len: usize) -> f64 {
        let chunk = self.slice(start, start + len);
        let mut tokens = chunk.tokens(false);
        chunk.cheapest(&mut tokens).0
    }

    pub(super) fn chunk_path(&self, repeat: &Token) -> Vec<Token> {
        let Kind::Repeat { reps } = repeat.kind else {
            return Vec::new();
        };
        let chunk = self.slice(repeat.start, repeat.start + repeat.len() / reps);
        let mut tokens = chunk.tokens(false);
        chunk.cheapest(&mut tokens).1
    }

    pub(super) fn dictionary(&self, out: &mut Vec<Token>) {
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

    pub(super) fn names(&self, out: &mut Vec<Token>) {
        self.names.find(self.low, |i, len, index| {
            let bits = 1.0 + case_bits(&self.chars[i..i + len]);
            out.push(token(i, i + len, Kind::Name(index), bits));
        });
    }

    pub(super) fn dates(&self, out: &mut Vec<Token>) {
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
    pub(super) fn sequences(&self, out: &mut Vec<Token>) {
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

    pub(super) fn keyboard(&self, out: &mut Vec<Token>) {
        if may_hold_keyboard_run(self.low) {
            self.keyboard_walk(out);
        }
    }

    /// Every keyboard run, table by table.
    pub(super) fn keyboard_walk(&self, out: &mut Vec<Token>) {
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
    pub(super) fn repeats(&self, out: &mut Vec<Token>) {
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
