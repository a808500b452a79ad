use super::super::parse::{decode_double, decode_single, is_hspace, is_py_space};
use super::Binding;

/// `(original offset, char)` of the text as Python reads it (CRLF and CR become LF).
fn translate(text: &str) -> Vec<(usize, char)> {
    let mut out = Vec::with_capacity(text.len());
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c == '\r' {
            if let Some(&(_, '\n')) = it.peek() {
                it.next();
            }
            out.push((i, '\n'));
        } else {
            out.push((i, c));
        }
    }
    out
}

/// `'((?:\\q|[^q])*)'` matched at `open`: the offset of the closing quote.
fn quoted(s: &[char], open: usize, q: char) -> Option<usize> {
    let mut i = open + 1;
    let mut last_pair_quote = None;
    loop {
        match s.get(i) {
            None => return last_pair_quote,
            Some('\\') if s.get(i + 1) == Some(&q) => {
                last_pair_quote = Some(i + 1);
                i += 2;
            }
            Some(&c) if c == q => return Some(i),
            Some(_) => i += 1,
        }
    }
}

pub(crate) fn bindings(text: &str) -> Vec<Binding> {
    let map = translate(text);
    let s: Vec<char> = map.iter().map(|&(_, c)| c).collect();
    let off = |i: usize| map.get(i).map_or(text.len(), |&(o, _)| o);
    let n = s.len();
    let mut out = Vec::new();
    let mut pos = 0;
    let rest_of_line = |mut p: usize| {
        while p < n && s[p] != '\n' {
            p += 1;
        }
        (p + 1).min(n)
    };
    while pos < n {
        let mark = pos;
        while pos < n && is_py_space(s[pos]) {
            pos += 1;
        }
        if pos >= n {
            break;
        }
        let line_start = {
            let mut p = pos;
            while p > mark && s[p - 1] != '\n' {
                p -= 1;
            }
            p
        };
        let result = (|| -> Result<(Option<String>, Option<String>, usize, bool), usize> {
            let mut p = pos;
            let ex: Vec<char> = "export".chars().collect();
            if s[p..].starts_with(&ex) && s.get(p + 6).is_some_and(|&c| is_hspace(c)) {
                p += 6;
                while p < n && is_hspace(s[p]) {
                    p += 1;
                }
            }
            let key = match s.get(p) {
                Some('#') => None,
                Some('\'') => {
                    let close = (p + 1..n).find(|&i| s[i] == '\'').ok_or(p)?;
                    if close == p + 1 {
                        return Err(p);
                    }
                    let k: String = s[p + 1..close].iter().collect();
                    p = close + 1;
                    Some(k)
                }
                _ => {
                    let st = p;
                    while p < n && s[p] != '=' && s[p] != '#' && !is_py_space(s[p]) {
                        p += 1;
                    }
                    if p == st {
                        return Err(p);
                    }
                    Some(s[st..p].iter().collect())
                }
            };
            while p < n && is_hspace(s[p]) {
                p += 1;
            }
            let mut value = None;
            let mut double = false;
            if key.is_some() && s.get(p) == Some(&'=') {
                p += 1;
                while p < n && is_hspace(s[p]) {
                    p += 1;
                }
                value = Some(match s.get(p) {
                    Some(&q @ ('\'' | '"')) => {
                        let close = quoted(&s, p, q).ok_or(p)?;
                        let raw: String = s[p + 1..close].iter().collect();
                        p = close + 1;
                        double = q == '"';
                        if double {
                            decode_double(&raw)
                        } else {
                            decode_single(&raw)
                        }
                    }
                    None | Some('\n') => String::new(),
                    _ => {
                        let st = p;
                        while p < n && s[p] != '\n' {
                            p += 1;
                        }
                        let part: String = s[st..p].iter().collect();
                        let part = match part.char_indices().find(|&(i, c)| {
                            is_py_space(c)
                                && part[i..].trim_start_matches(is_py_space).starts_with('#')
                        }) {
                            Some((i, _)) => part[..i].to_string(),
                            None => part,
                        };
                        part.trim_end_matches(is_py_space).to_string()
                    }
                });
            }
            // comment, end of line
            let mut q = p;
            while q < n && is_hspace(s[q]) {
                q += 1;
            }
            if s.get(q) == Some(&'#') {
                while q < n && s[q] != '\n' {
                    q += 1;
                }
                p = q;
            }
            while p < n && is_hspace(s[p]) {
                p += 1;
            }
            match s.get(p) {
                None => {}
                Some('\n') => p += 1,
                Some(_) => return Err(p),
            }
            Ok((key, value, p, double))
        })();
        match result {
            Ok((key, value, end, double)) => {
                if let Some(key) = key {
                    out.push(Binding {
                        key,
                        value,
                        start: off(line_start),
                        end: off(end),
                        key_line_only: double,
                    });
                }
                pos = end;
            }
            Err(at) => {
                // python-dotenv skips the rest of the line where reading stopped.
                let end = rest_of_line(at);
                out.push(Binding {
                    key: String::new(),
                    value: None,
                    start: off(line_start),
                    end: off(end),
                    key_line_only: false,
                });
                pos = end;
            }
        }
    }
    out
}
