//! TOML's own syntax, as keywarden needs it: dotted key paths (quoted segments
//! included), how a path is written back, string encoding that every TOML reader reads back
//! exactly, and byte offsets as lines and columns.

use super::*;

/// 1-based line and column (in characters) of byte offset `pos` in `text`. A leading BOM is
/// not counted as a column. Offsets past the end, or inside a character, are clamped.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..]
        .chars()
        .filter(|&c| !(line == 1 && c == '\u{feff}'))
        .count()
        + 1;
    (line, column)
}

/// Splits a key path like `auth.secret_key` or `"a.b".c` into its segments, with TOML's
/// own key syntax: bare segments are `A-Z a-z 0-9 _ -`, anything else is quoted.
pub fn parse_key_path(key_path: &str) -> Result<Vec<String>, String> {
    if key_path.trim().is_empty() {
        return Err("the key path is empty".to_string());
    }
    // One bare key (the common `SECRET_KEY`) is itself, without a parse.
    if key_path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Ok(vec![key_path.to_string()]);
    }
    Key::parse(key_path)
        .map(|keys| keys.iter().map(|k| k.get().to_string()).collect())
        .map_err(|e| {
            format!(
                "`{key_path}` is not a valid TOML key path ({}); separate segments with `.`, \
                 each non-empty, and quote segments with other characters than A-Z a-z 0-9 _ - \
                 (e.g. `\"my.key\".inner`)",
                e.message()
            )
        })
}

/// The TOML text of a key path: bare segments where TOML allows, quoted otherwise.
pub fn key_path_repr(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| Key::new(s.as_str()).display_repr().into_owned())
        .collect::<Vec<_>>()
        .join(".")
}

/// The TOML text for a string value, readable identically by TOML 1.0 parsers (Python's
/// `tomllib`, which Streamlit uses) and by toml_edit.
///
/// Decision: a literal string `'…'` when the value has no `'` and no control character
/// (U+0000–U+001F, U+007F; tab included, for clarity). Literal strings have no escapes, so
/// the file holds the key byte for byte: every key of the guide's charset
/// (`A-Z a-z 0-9 !@#$%^&*()_+-=[]{}|;:,.<>?`) is written this way and can be compared by eye
/// or by grep. Otherwise a basic string `"…"`, escaping only what TOML 1.0 requires:
/// `"`, `\`, and control characters (`\b \t \n \f \r`, others as `\u00XX`). TOML 1.1-only
/// escapes (`\e`, `\xHH`) are never written: tomllib reads TOML 1.0. Multi-line strings are
/// never written (their first-newline trimming and line-ending rules are a trap), so a
/// value always stays on one line.
pub fn encode_string(value: &str) -> String {
    let is_control = |c: char| c < '\u{20}' || c == '\u{7f}';
    if !value.contains('\'') && !value.chars().any(is_control) {
        return format!("'{value}'");
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if is_control(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
