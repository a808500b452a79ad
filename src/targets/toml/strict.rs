//! TOML 1.0 exactly, as Python's `tomllib` (Streamlit's reader) reads it: the checks for
//! what toml_edit accepts (it reads TOML 1.1) but `tomllib` rejects. Run on every file
//! before it is read or edited; measured against toml-test's invalid corpus by
//! `tests/toml/interop.rs`.
//!
//! Refused, each with its line:
//! - a UTF-8 byte-order mark (`tomllib` reads it as an invalid statement);
//! - a time without seconds (`07:32`, `1979-05-27T07:32`, `07:32Z`): seconds are optional
//!   only from TOML 1.1;
//! - the escapes `\e` and `\xHH` in basic strings (TOML 1.1);
//! - an inline table spanning lines, or with a trailing comma (TOML 1.1).

/// The first construct of `text` that TOML 1.0 does not allow: byte offset, what, and what
/// to write instead. Assumes `text` parsed with toml_edit already.
pub(super) fn first_toml11_only(text: &str) -> Option<(usize, &'static str, &'static str)> {
    if text.starts_with('\u{feff}') {
        return Some((
            0,
            "the file starts with a UTF-8 byte-order mark, which Python's tomllib (Streamlit's \
             reader) rejects",
            "save the file as UTF-8 without BOM",
        ));
    }
    let b = text.as_bytes();
    let n = b.len();
    // The open brackets of the value being read: b'{' inline table, b'[' array (only
    // those opened after `=`; table headers are skipped whole).
    let mut brackets: Vec<u8> = Vec::new();
    let mut at_line_start = true;
    let mut i = 0;
    while i < n {
        let c = b[i];
        if at_line_start && brackets.is_empty() && c == b'[' {
            // A table header: skip to the end of the line (strings in it are keys).
            while i < n && b[i] != b'\n' {
                if b[i] == b'"' || b[i] == b'\'' {
                    i = skip_string(b, i).0;
                    continue;
                }
                if b[i] == b'#' {
                    break;
                }
                i += 1;
            }
            continue;
        }
        if c != b' ' && c != b'\t' {
            at_line_start = false;
        }
        match c {
            b'\n' => {
                if brackets.last() == Some(&b'{') {
                    return Some((
                        i,
                        "an inline table spans more than one line, which only TOML 1.1 allows \
                         (Python's tomllib, Streamlit's reader, rejects it)",
                        "write the inline table on one line, or make it a [table] section",
                    ));
                }
                at_line_start = true;
                i += 1;
            }
            b'#' => {
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                let (end, bad) = skip_string(b, i);
                if let Some(at) = bad {
                    return Some((
                        at,
                        "a basic string uses the escape `\\e` or `\\x`, which only TOML 1.1 \
                         has (Python's tomllib, Streamlit's reader, rejects it)",
                        "write the character as `\\u001B` / `\\u00XX` instead",
                    ));
                }
                i = end;
            }
            b'{' | b'[' => {
                brackets.push(c);
                i += 1;
            }
            b'}' | b']' => {
                brackets.pop();
                i += 1;
            }
            b',' => {
                if brackets.last() == Some(&b'{') {
                    let mut j = i + 1;
                    while j < n && (b[j] == b' ' || b[j] == b'\t') {
                        j += 1;
                    }
                    if b.get(j) == Some(&b'}') {
                        return Some((
                            i,
                            "an inline table ends in a trailing comma, which only TOML 1.1 \
                             allows (Python's tomllib, Streamlit's reader, rejects it)",
                            "remove the comma before `}`",
                        ));
                    }
                }
                i += 1;
            }
            b'0'..=b'9' => {
                let st = i;
                while i < n && (b[i].is_ascii_alphanumeric() || b"-:.+_".contains(&b[i])) {
                    i += 1;
                }
                if let Some(at) = time_without_seconds(&b[st..i]) {
                    return Some((
                        st + at,
                        "a time has no seconds (`HH:MM`), which only TOML 1.1 allows (Python's \
                         tomllib, Streamlit's reader, rejects it)",
                        "write the seconds too, e.g. `07:32:00`",
                    ));
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Skips the string starting at `i` (any of the four kinds); returns the offset after it
/// and, for a basic string, the offset of a TOML 1.1-only escape.
fn skip_string(b: &[u8], i: usize) -> (usize, Option<usize>) {
    let q = b[i];
    let multi = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    let mut j = if multi { i + 3 } else { i + 1 };
    let mut bad = None;
    while j < b.len() {
        let c = b[j];
        if q == b'"' && c == b'\\' {
            if matches!(b.get(j + 1), Some(b'e' | b'x')) && bad.is_none() {
                bad = Some(j);
            }
            j += 2;
            continue;
        }
        if c == q {
            if !multi {
                return (j + 1, bad);
            }
            if b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q) {
                // Up to two more quotes may belong to the content.
                let mut end = j + 3;
                while end < b.len() && b[end] == q && end < j + 5 {
                    end += 1;
                }
                return (end, bad);
            }
        }
        if c == b'\n' && !multi {
            return (j, bad);
        }
        j += 1;
    }
    (j, bad)
}

/// In a bare value token (a number, date, time or date-time), the offset of an `HH:MM` not
/// followed by `:SS`.
fn time_without_seconds(tok: &[u8]) -> Option<usize> {
    let d = |k: usize| tok.get(k).is_some_and(u8::is_ascii_digit);
    for k in 0..tok.len() {
        let starts = k == 0 || tok[k - 1] == b'T' || tok[k - 1] == b't' || tok[k - 1] == b' ';
        if starts && d(k) && d(k + 1) && tok.get(k + 2) == Some(&b':') && d(k + 3) && d(k + 4) {
            return (tok.get(k + 5) != Some(&b':')).then_some(k);
        }
    }
    None
}
