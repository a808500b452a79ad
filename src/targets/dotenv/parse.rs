//! The reader: python-dotenv's grammar (see the dialect at the top of [`super`]), with
//! spans for every entry so the editor can rewrite one line and keep every other byte.

use super::*;

/// Python's `str.isspace` / `re` `\s` (Unicode White_Space plus U+001C–U+001F).
pub(super) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// python-dotenv's `[^\S\r\n]`.
pub(super) fn is_hspace(c: char) -> bool {
    c != '\r' && c != '\n' && is_py_space(c)
}

pub(super) struct Parser<'a> {
    /// The text after the byte-order mark.
    s: &'a str,
    /// Length of the byte-order mark, added to spans.
    base: usize,
    /// Byte offsets (in `s`) where each physical line starts.
    line_starts: Vec<usize>,
}

impl<'a> Parser<'a> {
    pub(super) fn new(s: &'a str, base: usize) -> Self {
        let b = s.as_bytes();
        let mut line_starts = vec![0];
        for (i, &c) in b.iter().enumerate() {
            if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        Parser {
            s,
            base,
            line_starts,
        }
    }

    pub(super) fn line_col(&self, pos: usize) -> (usize, usize) {
        let idx = self.line_starts.partition_point(|&st| st <= pos);
        let start = self.line_starts[idx - 1];
        (idx, self.s[start..pos].chars().count() + 1)
    }

    pub(super) fn error(&self, pos: usize, message: impl Into<String>) -> DotenvError {
        let (line, column) = self.line_col(pos);
        DotenvError::Syntax {
            line,
            column,
            message: message.into(),
        }
    }

    pub(super) fn at(&self, pos: usize) -> Option<char> {
        self.s[pos..].chars().next()
    }

    pub(super) fn skip(&self, mut pos: usize, f: impl Fn(char) -> bool) -> usize {
        while let Some(c) = self.at(pos) {
            if !f(c) {
                break;
            }
            pos += c.len_utf8();
        }
        pos
    }

    pub(super) fn end_of_content(&self, pos: usize) -> usize {
        self.s[pos..]
            .find(['\r', '\n'])
            .map_or(self.s.len(), |i| pos + i)
    }

    /// Returns the offset of the closing quote of the value opened at `open`.
    pub(super) fn scan_quoted(&self, open: usize, quote: char) -> Result<usize, DotenvError> {
        let mut pos = open + 1;
        loop {
            match self.at(pos) {
                None => break,
                Some('\\') => match self.at(pos + 1) {
                    None => break,
                    Some(next) => pos += 1 + next.len_utf8(),
                },
                Some(c) if c == quote => return Ok(pos),
                Some(c) => pos += c.len_utf8(),
            }
        }
        let (line, column) = self.line_col(open);
        let kind = if quote == '"' { "double" } else { "single" };
        Err(self.error(
            open,
            format!(
                "unterminated {kind} quote opened at line {line} column {column}; close the \
                 quote or remove the line"
            ),
        ))
    }

    pub(super) fn run(&self) -> Result<Vec<Entry>, DotenvError> {
        if let Some(i) = self.s.find('\0') {
            return Err(self.error(
                i,
                "the file contains a NUL byte; a .env file must be plain text, so remove it",
            ));
        }
        let mut entries = Vec::new();
        let mut pos = 0;
        while pos < self.s.len() {
            let ws_start = pos;
            pos = self.skip(pos, is_py_space);
            if pos == self.s.len() {
                break;
            }
            let line_start = self.s[ws_start..pos]
                .rfind(['\n', '\r'])
                .map_or(ws_start, |i| ws_start + i + 1);
            if let Some(entry) = self.entry(line_start, pos)? {
                pos = entry.span.end - self.base;
                entries.push(entry);
            } else {
                // A comment line: skip to and past its line break.
                pos = self.end_of_content(pos);
                pos = self.skip_line_break(pos);
            }
        }
        Ok(entries)
    }

    pub(super) fn skip_line_break(&self, pos: usize) -> usize {
        let rest = &self.s[pos..];
        if rest.starts_with("\r\n") {
            pos + 2
        } else if rest.starts_with(['\r', '\n']) {
            pos + 1
        } else {
            pos
        }
    }

    /// Parses the line whose first non-blank character is at `start`.
    /// Returns `None` for a comment line.
    pub(super) fn entry(
        &self,
        line_start: usize,
        start: usize,
    ) -> Result<Option<Entry>, DotenvError> {
        let s = self.s;
        let indent_end = start;
        let mut pos = start;
        let mut export = false;
        if let Some(rest) = s[pos..].strip_prefix("export")
            && rest.starts_with(is_hspace)
        {
            export = true;
            pos = self.skip(pos + "export".len(), is_hspace);
        }

        // Key.
        let key_start = pos;
        let (key, key_quoted) = match self.at(pos) {
            Some('#') => return Ok(None),
            None => {
                return Err(self.error(
                    pos,
                    "expected a variable name after `export`; write the line as \
                     `export KEY=value` or remove it",
                ));
            }
            Some('\'') => {
                let close = match s[pos + 1..].find('\'') {
                    Some(i) => pos + 1 + i,
                    None => {
                        let (line, column) = self.line_col(pos);
                        return Err(self.error(
                            pos,
                            format!(
                                "unterminated single quote around the variable name opened at \
                                 line {line} column {column}; close the quote or remove it"
                            ),
                        ));
                    }
                };
                let name = &s[pos + 1..close];
                if name.is_empty() {
                    return Err(self.error(
                        pos,
                        "empty variable name in quotes; write the line as KEY=value",
                    ));
                }
                if name.contains(['\r', '\n']) {
                    return Err(self.error(
                        pos,
                        "the quoted variable name spans more than one line; close the quote on \
                         the same line",
                    ));
                }
                pos = close + 1;
                (name.to_owned(), true)
            }
            Some(_) => {
                let end = self.skip(pos, |c| c != '=' && c != '#' && !is_py_space(c));
                if end == pos {
                    return Err(self.error(
                        pos,
                        "missing variable name before `=`; write the line as KEY=value",
                    ));
                }
                let name = &s[pos..end];
                pos = end;
                (name.to_owned(), false)
            }
        };
        let key_end = pos;
        pos = self.skip(pos, is_hspace);
        let space_before_eq = pos > key_end;

        // Value.
        let mut quote = Quote::None;
        let mut value = None;
        let mut value_raw = pos..pos;
        let mut comment: Option<Range<usize>> = None;
        let mut space_after_eq = false;
        let mut empty_then_comment = false;
        if self.at(pos) == Some('=') {
            pos += 1;
            let eq_ws_start = pos;
            pos = self.skip(pos, is_hspace);
            let eq_ws = pos > eq_ws_start;
            match self.at(pos) {
                Some('#') if eq_ws => {
                    value = Some(String::new());
                    value_raw = pos..pos;
                    empty_then_comment = true;
                    let end = self.end_of_content(pos);
                    comment = Some(eq_ws_start..end);
                    pos = end;
                }
                Some(q @ ('\'' | '"')) => {
                    space_after_eq = eq_ws;
                    let close = self.scan_quoted(pos, q)?;
                    let inner = normalize_newlines(&s[pos + 1..close]);
                    value = Some(if q == '"' {
                        quote = Quote::Double;
                        decode_double(&inner)
                    } else {
                        quote = Quote::Single;
                        decode_single(&inner)
                    });
                    value_raw = pos..close + 1;
                    pos = close + 1;
                }
                None | Some('\r' | '\n') => {
                    value = Some(String::new());
                    value_raw = pos..pos;
                }
                Some(_) => {
                    space_after_eq = eq_ws;
                    let end = self.end_of_content(pos);
                    let part = &s[pos..end];
                    let (v, comment_at) = unquoted_value(part);
                    value_raw = pos..pos + v.len();
                    comment = comment_at.map(|c| pos + c..end);
                    value = Some(v.to_owned());
                    pos = end;
                }
            }
        } else {
            // No `=`: a comment may follow the name; keep its leading blanks.
            pos = key_end;
        }

        // Optional comment, then the end of the line.
        if comment.is_none() {
            let p = self.skip(pos, is_hspace);
            if self.at(p) == Some('#') {
                let end = self.end_of_content(p);
                comment = Some(pos..end);
                pos = end;
            }
        }
        let content_end_candidate = self.skip(pos, is_hspace);
        let rest = &s[content_end_candidate..];
        let line_ending = if rest.starts_with("\r\n") {
            LineEnding::CrLf
        } else if rest.starts_with('\n') {
            LineEnding::Lf
        } else if rest.starts_with('\r') {
            LineEnding::Cr
        } else if rest.is_empty() {
            LineEnding::Missing
        } else if value.is_none() {
            return Err(self.error(
                content_end_candidate,
                "expected `=` after the variable name; write the line as KEY=value, or start it \
                 with `#` to make it a comment",
            ));
        } else {
            return Err(self.error(
                content_end_candidate,
                "unexpected text after the closing quote; put a space and `#` before a comment, \
                 or quote the whole value",
            ));
        };
        let content_end = content_end_candidate;
        let end = content_end + line_ending.as_str().len();
        let rel = |p: usize| p - line_start;
        let (line, _) = self.line_col(line_start);
        Ok(Some(Entry {
            key,
            value,
            line,
            span: self.base + line_start..self.base + end,
            export,
            quote,
            line_ending,
            raw: s[line_start..end].to_owned(),
            indent_end: rel(indent_end),
            key_start: rel(key_start),
            key_quoted,
            space_before_eq,
            space_after_eq,
            empty_then_comment,
            value_raw: rel(value_raw.start)..rel(value_raw.end),
            comment: comment.map(|c| rel(c.start)..rel(c.end)),
            content_end: rel(content_end),
            first_line_after_bom: self.base > 0 && line_start == 0,
        }))
    }
}

/// python-dotenv's unquoted value: cut at the first whitespace run followed by
/// `#`, then strip trailing whitespace. Returns the value and the offset of
/// the comment (its leading whitespace included), if any.
pub(super) fn unquoted_value(part: &str) -> (&str, Option<usize>) {
    let mut run_start: Option<usize> = None;
    for (i, c) in part.char_indices() {
        if is_py_space(c) {
            run_start.get_or_insert(i);
        } else if c == '#' && run_start.is_some() {
            let at = run_start.unwrap_or(i);
            return (part[..at].trim_end_matches(is_py_space), Some(at));
        } else {
            run_start = None;
        }
    }
    (part.trim_end_matches(is_py_space), None)
}

/// Universal newlines, as Python's text mode applies them when reading.
pub(super) fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// python-dotenv's `_single_quote_escapes`: `\\` and `\'`.
pub(super) fn decode_single(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n @ ('\\' | '\'')) = chars.peek()
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// python-dotenv's `_double_quote_escapes`: `\\ \' \" \a \b \f \n \r \t \v`.
pub(super) fn decode_double(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
        {
            let decoded = match n {
                '\\' => Some('\\'),
                '\'' => Some('\''),
                '"' => Some('"'),
                'a' => Some('\u{7}'),
                'b' => Some('\u{8}'),
                'f' => Some('\u{c}'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'v' => Some('\u{b}'),
                _ => None,
            };
            if let Some(d) = decoded {
                out.push(d);
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    out
}
