//! The whole-file reader model: how each real reader of a `.env` file splits the *whole*
//! file into variables, so that a line elsewhere in the file that breaks the key for one
//! reader is found (KW113) and a write into such a file is refused.
//!
//! Readers modelled (each checked against the real tool by `tests/dotenv/interop.rs`):
//!
//! * python-dotenv 1.2.4 — [`Parser`](super::parse), the reference: every other reader must
//!   agree with it;
//! * python-dotenv 1.0–1.2.2 ([`legacy`]): its quoted-value patterns `'((?:\\'|[^'])*)'` and
//!   `"((?:\\"|[^"])*)"` let an escaped backslash before the closing quote (`'a\\'`, `"a\\"`)
//!   run on to the next quote of the file, swallowing the lines between; it keeps a
//!   byte-order mark in the first name;
//! * Docker Compose (compose-go): rejects the whole file on a quoted name or a bare name
//!   followed by a comment, and only splits lines at LF or CRLF;
//! * bash and dash (`set -a; . ./file`): [`shell`], a lexer of the shell's quoting,
//!   continuations and operators; a quote, `\` at the end of a line, `$(`, `${`, a
//!   backtick, a here-document or a trailing `|` carries over to the next line; dash stops
//!   at any syntax error in the file, bash at one before the key; both keep a CR;
//! * node 20 (`node --env-file`): [`node`]: a quote (`'`, `"` or a backtick) runs to the
//!   next same quote anywhere in the file, escapes or not; lines split at LF only; a
//!   byte-order mark stays in the first name.
//!
//! The model is conservative where the real grammar is larger (shell compound commands,
//! here-documents): such lines are reported rather than interpreted.

use super::*;

/// One real reader of `.env` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reader {
    /// python-dotenv 1.2.3 and later (the model's reference, pinned 1.2.4 in the tests).
    PythonDotenv,
    /// python-dotenv 1.0 to 1.2.2.
    PythonDotenvLegacy,
    /// Docker Compose's `env_file:` (compose-go).
    Compose,
    /// `set -a; . ./file` in bash.
    Bash,
    /// `set -a; . ./file` in dash (Debian's `/bin/sh`).
    Dash,
    /// `node --env-file=file` (node 20).
    Node,
}

impl Reader {
    /// The reader's name as the user knows it.
    pub fn name(self) -> &'static str {
        match self {
            Reader::PythonDotenv => "python-dotenv 1.2.3+",
            Reader::PythonDotenvLegacy => "python-dotenv 1.0-1.2.2",
            Reader::Compose => "Docker Compose",
            Reader::Bash => "bash",
            Reader::Dash => "dash",
            Reader::Node => "node --env-file",
        }
    }
}

fn names(readers: &[Reader]) -> String {
    let n: Vec<&str> = readers.iter().map(|r| r.name()).collect();
    match n.len() {
        0 => String::new(),
        1 => n[0].to_string(),
        _ => format!("{} and {}", n[..n.len() - 1].join(", "), n[n.len() - 1]),
    }
}

/// A line of the file that makes some reader read the key (or another variable)
/// differently from python-dotenv. Its text never contains a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// 1-based line that causes it (python-dotenv's numbering: CRLF, LF and a lone CR each
    /// end a line).
    pub line: usize,
    /// The readers that read differently.
    pub readers: Vec<Reader>,
    /// Why, as a sentence fragment naming the readers.
    pub reason: String,
    /// What the user can do about it.
    pub fix: String,
}

impl Disagreement {
    fn new(line: usize, readers: &[Reader], reason: impl Into<String>, fix: &str) -> Self {
        let mut readers = readers.to_vec();
        readers.sort();
        readers.dedup();
        Disagreement {
            line,
            readers,
            reason: reason.into(),
            fix: fix.to_string(),
        }
    }

    /// `line 3 makes bash read the key differently: …`.
    pub fn message(&self) -> String {
        if self.readers.is_empty() {
            return self.reason.clone();
        }
        format!(
            "line {} makes {} read the key differently: {}",
            self.line,
            names(&self.readers),
            self.reason
        )
    }
}

const FIX_LINE_ENDINGS: &str = "convert the file's line endings to LF (for example `dos2unix FILE`, \
     or `keywarden fix ENV --line-endings`); python-dotenv reads the file the same afterwards";
const FIX_BOM: &str = "remove the byte-order mark at the start of the file (save it as UTF-8 \
     without BOM); python-dotenv 1.2.3+ and Docker Compose read the file the same afterwards";
const FIX_LINE: &str = "rewrite this line so it stands on its own: single-quote the value \
     (`NAME='value'`, with no `'` or `\\` inside), or remove the line";
const FIX_SET: &str =
    "write the key again with keywarden set, which quotes it so every reader agrees";

/// Sorted by line; the same reason on the same line for several readers becomes one.
fn merge(mut all: Vec<Disagreement>) -> Vec<Disagreement> {
    all.sort_by_key(|d| d.line);
    let mut out: Vec<Disagreement> = Vec::new();
    for d in all {
        match out
            .iter_mut()
            .find(|o| o.line == d.line && o.reason == d.reason)
        {
            Some(o) => {
                o.readers.extend(d.readers);
                o.readers.sort();
                o.readers.dedup();
            }
            None => out.push(d),
        }
    }
    out
}

/// 1-based line of byte offset `pos` of `text`, python-dotenv's way (CRLF, LF, lone CR).
pub(super) fn line_at(text: &str, pos: usize) -> usize {
    let b = &text.as_bytes()[..pos.min(text.len())];
    let mut line = 1;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

impl DotenvFile {
    /// Every line of the file that makes a reader read `key` differently from
    /// python-dotenv (the key's own line included), each with the readers and a fix.
    /// Empty when the key is absent and nothing in the file would stop every reader from
    /// reading a line appended at its end.
    pub fn disagreements(&self, key: &str) -> Vec<Disagreement> {
        let mut out = Vec::new();
        let entry = self.get(key);
        if let Some(e) = entry
            && let Some(why) = own_line_reasons(e, false)
        {
            out.push(Disagreement::new(e.line, &[], why, FIX_SET));
        }
        let own = !out.is_empty();
        self.file_disagreements(key, &mut out);
        if let Some(e) = entry
            && own
        {
            // What breaks the key's own line is said once, by the own-line reason (whose
            // fix, `set`, rewrites that line); CR and BOM problems stay, with their fixes.
            out.retain(|d| d.line != e.line || d.fix != FIX_LINE || d.readers.is_empty());
        }
        merge(out)
    }

    /// The problems of the file *around* the key (everything but the key's own quoting):
    /// what `set` cannot fix by rewriting the key's line.
    fn file_disagreements(&self, key: &str, out: &mut Vec<Disagreement>) {
        let text = &self.text;
        let Some(e) = self.get(key) else {
            return;
        };
        let start = e.span.start;
        let bytes = text.as_bytes();
        // A byte-order mark before the key.
        if e.first_line_after_bom {
            out.push(Disagreement::new(
                1,
                &[
                    Reader::Bash,
                    Reader::Dash,
                    Reader::Node,
                    Reader::PythonDotenvLegacy,
                ],
                "the file starts with a UTF-8 byte-order mark before the key's name; bash and \
                 dash run the line as a command (and print it, key included, in the error), \
                 node and python-dotenv 1.0-1.2.2 read a different name",
                FIX_BOM,
            ));
        }
        // Carriage returns.
        match e.line_ending {
            LineEnding::CrLf => out.push(Disagreement::new(
                e.line,
                &[Reader::Bash, Reader::Dash],
                "the line ends in CRLF and bash and dash keep the carriage return at the end of \
                 the key (python-dotenv, Docker Compose and node drop it)",
                FIX_LINE_ENDINGS,
            )),
            LineEnding::Cr => out.push(Disagreement::new(
                e.line,
                &[Reader::Bash, Reader::Dash],
                "the line ends in a lone carriage return, which bash and dash keep at the end \
                 of the key",
                FIX_LINE_ENDINGS,
            )),
            LineEnding::Lf | LineEnding::Missing => {}
        }
        let lone_cr_before = start > 0 && bytes[start - 1] == b'\r';
        if lone_cr_before {
            out.push(Disagreement::new(
                line_at(text, start - 1),
                &[Reader::Bash, Reader::Dash, Reader::Compose, Reader::Node],
                "this line ends in a lone carriage return, which only python-dotenv reads as a \
                 line break: bash, dash, Docker Compose and node read the key's line as part of \
                 this one",
                FIX_LINE_ENDINGS,
            ));
        }
        // The shells.
        for (reader, dialect) in [(Reader::Bash, true), (Reader::Dash, false)] {
            let scan = shell::scan(text, dialect);
            let mut pending = false;
            if !lone_cr_before
                && !e.first_line_after_bom
                && let Some(opener) = scan.pending_at(start)
            {
                pending = true;
                out.push(Disagreement::new(
                    line_at(text, opener.at),
                    &[reader],
                    format!(
                        "{}, so the shell reads the key's line as part of it and does not set \
                         the key",
                        opener.what
                    ),
                    FIX_LINE,
                ));
            }
            if let Some(err) = &scan.error
                && !(pending && err.at < e.span.end)
            {
                let stops = match reader {
                    // bash has run every command before the error.
                    Reader::Bash => err.at < e.span.end,
                    _ => true,
                };
                if stops {
                    out.push(Disagreement::new(
                        line_at(text, err.at),
                        &[reader],
                        format!(
                            "{}: {} stops reading the file with a syntax error there{}",
                            err.what,
                            reader.name(),
                            if reader == Reader::Dash {
                                " and `set -a; . ./file` fails, so the program is never started"
                            } else {
                                ", before the key is set"
                            }
                        ),
                        FIX_LINE,
                    ));
                }
            }
            // A later line the shell reads as setting the key again.
            for (at, name) in scan.assignments.iter().rev() {
                if *at > start && name == key && !self.entries.iter().any(|x| x.span.start == *at) {
                    out.push(Disagreement::new(
                        line_at(text, *at),
                        &[reader],
                        format!(
                            "{} reads this line, inside a multi-line value for python-dotenv, as \
                             setting the key again",
                            reader.name()
                        ),
                        FIX_LINE,
                    ));
                    break;
                }
            }
        }
        // Docker Compose rejects the whole file on some lines.
        for x in &self.entries {
            let why = if x.key_quoted {
                Some("the variable name is in quotes")
            } else if x.value.is_none() && x.comment.is_some() {
                Some("a name without `=` is followed by a comment")
            } else if !x
                .key
                .chars()
                .all(|c| c.is_alphanumeric() || "_.-".contains(c))
            {
                Some("the variable name has characters Docker Compose does not accept")
            } else {
                None
            };
            if let Some(why) = why {
                out.push(Disagreement::new(
                    x.line,
                    &[Reader::Compose],
                    format!("{why}, and Docker Compose rejects the whole file, key included"),
                    FIX_LINE,
                ));
            }
        }
        // node and python-dotenv 1.0-1.2.2, each with its own way of splitting the file.
        let want = e.value.as_deref();
        for (reader, bindings) in [
            (Reader::Node, node::bindings(text)),
            (Reader::PythonDotenvLegacy, legacy::bindings(text)),
        ] {
            if lone_cr_before && reader == Reader::Node {
                continue;
            }
            let last = bindings.iter().rev().find(|b| b.key == key);
            let ok = match last {
                Some(b) => b.start == start && (b.value.as_deref() == want || b.key_line_only),
                None => false,
            };
            if ok || (e.first_line_after_bom && last.is_none()) {
                continue;
            }
            // Which binding swallowed the key's line, or redefines the key?
            let culprit = bindings
                .iter()
                .find(|b| b.start < start && b.end > start)
                .map(|b| b.start)
                .or(last.filter(|b| b.start != start).map(|b| b.start))
                .unwrap_or(start);
            let reason = match reader {
                Reader::Node => {
                    "node reads a quoted value on this line up to the next same quote of the \
                     file (it has no escapes), through the key's line"
                }
                _ => {
                    "python-dotenv 1.0-1.2.2 reads the quoted value on this line past its \
                     closing quote (a `\\\\` before the quote looks like an escaped quote to \
                     it), through the key's line"
                }
            };
            out.push(Disagreement::new(
                line_at(text, culprit),
                &[reader],
                reason,
                FIX_LINE,
            ));
        }
    }

    /// Checks an edit of `key` (the text `new` made from this file) against every reader:
    /// the key must read as `value` everywhere, and no other variable may read differently
    /// from before for any reader, unless it now reads as python-dotenv does.
    pub(super) fn check_readers(
        &self,
        new: &DotenvFile,
        key: &str,
        value: &str,
    ) -> Result<(), DotenvError> {
        let mut found = Vec::new();
        new.file_disagreements(key, &mut found);
        let found = merge(found);
        if let Some(first) = found.first() {
            let same: Vec<&Disagreement> = found.iter().filter(|d| d.line == first.line).collect();
            let mut message = first.message();
            for d in &same[1..] {
                message.push_str("; also, ");
                message.push_str(&d.message());
            }
            return Err(DotenvError::ReadersDisagree {
                line: first.line,
                message,
                fix: first.fix.clone(),
            });
        }
        debug_assert_eq!(new.get(key).and_then(|e| e.value.as_deref()), Some(value));
        // Other variables, reader by reader.
        let reference = |f: &DotenvFile, k: &str| f.get(k).and_then(|e| e.value.clone());
        for (reader, old_b, new_b) in [
            (
                Reader::Node,
                node::bindings(&self.text),
                node::bindings(&new.text),
            ),
            (
                Reader::PythonDotenvLegacy,
                legacy::bindings(&self.text),
                legacy::bindings(&new.text),
            ),
        ] {
            let read = |b: &[Binding], k: &str| {
                b.iter().rev().find(|x| x.key == k).map(|x| x.value.clone())
            };
            for b in &new_b {
                if b.key == key {
                    continue;
                }
                let now = read(&new_b, &b.key);
                if now != read(&old_b, &b.key) && now != Some(reference(new, &b.key)) {
                    return Err(DotenvError::ReadersDisagree {
                        line: line_at(&new.text, b.start),
                        message: format!(
                            "the edit would make {} read the variable on line {} differently",
                            reader.name(),
                            line_at(&new.text, b.start)
                        ),
                        fix: FIX_LINE.to_string(),
                    });
                }
            }
        }
        for dialect in [true, false] {
            let (old_s, new_s) = (
                shell::scan(&self.text, dialect),
                shell::scan(&new.text, dialect),
            );
            let shift = new.text.len() as isize - self.text.len() as isize;
            let edited_end = new.get(key).map_or(new.text.len(), |e| e.span.end);
            for &(at, _) in &new_s.line_starts {
                if at < edited_end {
                    continue;
                }
                let was = old_s.pending_at((at as isize - shift) as usize).is_some();
                let now = new_s.pending_at(at).is_some();
                if now && !was {
                    return Err(DotenvError::ReadersDisagree {
                        line: line_at(&new.text, at),
                        message: format!(
                            "the edit would make {} read line {} as part of the key's line",
                            if dialect { "bash" } else { "dash" },
                            line_at(&new.text, at)
                        ),
                        fix: FIX_LINE.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The file with every CRLF and lone CR turned into LF (the byte-order mark, if any,
    /// kept): the fix for keys that bash reads with a trailing carriage return. Fails if
    /// python-dotenv would read any variable differently afterwards (it never should: it
    /// reads CRLF and CR as LF already).
    pub fn with_lf_line_endings(&self) -> Result<String, DotenvError> {
        let out = self.text.replace("\r\n", "\n").replace('\r', "\n");
        let new = DotenvFile::parse(&out).map_err(|_| DotenvError::EditCheckFailed)?;
        let pairs = |f: &DotenvFile| -> Vec<(String, Option<String>)> {
            f.entries
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect()
        };
        if pairs(&new) != pairs(self) {
            return Err(DotenvError::EditCheckFailed);
        }
        Ok(out)
    }
}

/// A variable as one reader splits the file: where its line starts (byte offset of the
/// line's first byte), where its text ends, and its value.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Binding {
    pub(super) key: String,
    pub(super) value: Option<String>,
    pub(super) start: usize,
    pub(super) end: usize,
    /// The value is read with other rules than python-dotenv's for reasons the own-line
    /// checks report (such as node's `\n` in double quotes): only the position counts.
    pub(super) key_line_only: bool,
}

/// node 20's `--env-file` parser, as far as where each variable starts and ends.
pub(super) mod node {
    use super::Binding;

    pub(crate) fn bindings(text: &str) -> Vec<Binding> {
        let mut out = Vec::new();
        let b = text.as_bytes();
        let mut pos = 0;
        while pos < text.len() {
            let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
            let line = &text[pos..line_end];
            let trimmed = line.trim_start();
            let lead = line.len() - trimmed.len();
            let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
            if body.is_empty() || body.starts_with('#') {
                pos = line_end + 1;
                continue;
            }
            let Some(eq) = body.find('=') else {
                pos = line_end + 1;
                continue;
            };
            let key = body[..eq].trim().to_string();
            let vstart = pos + lead + (trimmed.len() - body.len()) + eq + 1;
            let rest = &text[vstart..];
            let rest_trim = rest.trim_start_matches([' ', '\t']);
            let qpos = vstart + (rest.len() - rest_trim.len());
            let q = b.get(qpos).copied();
            let (value, end) = match q {
                Some(q @ (b'\'' | b'"' | b'`')) => match text[qpos + 1..].find(q as char) {
                    Some(i) => {
                        let close = qpos + 1 + i;
                        let end = text[close..].find('\n').map_or(text.len(), |j| close + j);
                        let mut v = text[qpos + 1..close].to_string();
                        if q == b'"' {
                            v = v.replace("\\n", "\n");
                        }
                        (v, end)
                    }
                    None => (text[qpos..line_end].trim_end().to_string(), line_end),
                },
                _ => {
                    let v = &text[qpos..line_end];
                    let v = v.find(" #").map_or(v, |i| &v[..i]);
                    (v.trim_end().to_string(), line_end)
                }
            };
            let value = value.strip_suffix('\r').unwrap_or(&value).to_string();
            out.push(Binding {
                key,
                value: Some(value),
                start: pos,
                end,
                key_line_only: q == Some(b'"'),
            });
            pos = end + 1;
        }
        out
    }
}

/// python-dotenv 1.0 to 1.2.2's parser (`dotenv/parser.py`), ported with its regular
/// expressions' backtracking, on the text after Python's universal-newline translation.
pub(super) mod legacy {
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
}

/// A lexer of the POSIX shell's quoting and line structure (bash or dash), enough to tell
/// where each line of a `.env` file starts a fresh command and where the file has a
/// syntax error.
pub(super) mod shell {
    /// What is still open at the start of a line.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Open {
        pub(crate) at: usize,
        pub(crate) what: &'static str,
    }

    pub(crate) struct Scan {
        /// Every line start (byte offset after each LF, and 0), with what is open there.
        pub(crate) line_starts: Vec<(usize, Option<Open>)>,
        pub(crate) error: Option<Open>,
        /// Offsets of lines that start a fresh command with `NAME=`, and the name.
        pub(crate) assignments: Vec<(usize, String)>,
    }

    impl Scan {
        pub(crate) fn pending_at(&self, at: usize) -> Option<Open> {
            let i = self.line_starts.partition_point(|&(s, _)| s <= at);
            match i.checked_sub(1).map(|i| self.line_starts[i]) {
                Some((s, open)) if s == at => open,
                // Not at a line start: part of a longer line.
                Some((s, _)) => Some(Open {
                    at: s,
                    what: "this line runs on without a line feed",
                }),
                None => None,
            }
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Ctx {
        Single,
        AnsiC,
        Double,
        Backtick,
        Paren,
        Brace,
    }

    const Q1: &str = "this line opens a single quote the shell does not close on it (`\\'` is \
                      no escape inside single quotes in a shell)";
    const QA: &str = "this line opens a `$'…'` quote that is not closed on it";
    const Q2: &str = "this line opens a double quote the shell does not close on it";
    const BT: &str = "this line opens a backtick command substitution that is not closed on it";
    const PA: &str =
        "this line opens a parenthesis (`$(`, `(` or an array) that is not closed on it";
    const BR: &str = "this line opens a `${` that is not closed on it";
    const BS: &str = "this line ends in a backslash, which joins the next line to it in a shell";
    const OP: &str =
        "this line ends in `|`, `&&` or `||`, which continues the command on the next line";
    const HD: &str =
        "this line starts a here-document (`<<`), which takes the following lines as its text";
    const KW: &str =
        "this line starts a shell compound command (such as `if`, `for`, `case` or `{`)";

    fn what(c: Ctx) -> &'static str {
        match c {
            Ctx::Single => Q1,
            Ctx::AnsiC => QA,
            Ctx::Double => Q2,
            Ctx::Backtick => BT,
            Ctx::Paren => PA,
            Ctx::Brace => BR,
        }
    }

    fn is_name(s: &str) -> bool {
        let mut c = s.chars();
        matches!(c.next(), Some(x) if x == '_' || x.is_ascii_alphabetic())
            && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
    }

    /// Scans `text` as bash (`bash == true`) or dash would.
    pub(crate) fn scan(text: &str, bash: bool) -> Scan {
        let b = text.as_bytes();
        let n = b.len();
        let mut stack: Vec<(Ctx, usize)> = Vec::new();
        let mut line_starts = vec![(0usize, None)];
        let mut assignments = Vec::new();
        let mut error: Option<Open> = None;
        let mut carry: Option<Open> = None; // continuation / operator at end of line
        let mut pending_op: Option<usize> = None;
        let mut heredoc: Option<(String, bool, usize)> = None;
        let mut compound: Option<usize> = None;
        let mut word_start = true;
        let mut cmd_start = true;
        let mut word_begin = 0usize;
        let mut i = 0usize;
        let set_err = |error: &mut Option<Open>, at, what| {
            if error.is_none() {
                *error = Some(Open { at, what });
            }
        };
        while i < n {
            let c = b[i];
            let top = stack.last().map(|&(c, _)| c);
            // A line start.
            if i == 0 || b[i - 1] == b'\n' {
                let open = stack
                    .first()
                    .map(|&(c, at)| Open { at, what: what(c) })
                    .or(carry)
                    .or(compound.map(|at| Open { at, what: KW }));
                if i > 0 {
                    line_starts.push((i, open));
                }
                if open.is_none() {
                    // The here-document body, if one was opened on the previous line.
                    let rest_end = text[i..].find('\n').map_or(n, |j| i + j);
                    let first: String = text[i..rest_end]
                        .trim_start_matches([' ', '\t'])
                        .chars()
                        .take_while(|&ch| ch == '_' || ch.is_ascii_alphanumeric())
                        .collect();
                    let after = text[i..rest_end].trim_start_matches([' ', '\t']);
                    if is_name(&first) && after[first.len()..].starts_with('=') {
                        assignments.push((i, first));
                    }
                }
                carry = None;
                word_start = true;
                if stack.is_empty() {
                    cmd_start = true;
                }
            }
            if let Some((delim, _, opened)) = &heredoc
                && stack.is_empty()
                && (i == 0 || b[i - 1] == b'\n')
            {
                // Inside a here-document: lines until the delimiter.
                let opened = *opened;
                let rest_end = text[i..].find('\n').map_or(n, |j| i + j);
                let line = text[i..rest_end].trim_start_matches('\t');
                let done = line == delim;
                if let Some(last) = line_starts.last_mut()
                    && last.0 == i
                {
                    last.1 = Some(Open {
                        at: opened,
                        what: HD,
                    });
                }
                if done {
                    heredoc = None;
                }
                i = rest_end + 1;
                if i > n {
                    break;
                }
                continue;
            }
            match top {
                Some(Ctx::Single) => {
                    if c == b'\'' {
                        stack.pop();
                    }
                    i += 1;
                    continue;
                }
                Some(Ctx::AnsiC) => {
                    match c {
                        b'\\' => i += 1,
                        b'\'' => {
                            stack.pop();
                        }
                        _ => {}
                    }
                    i += 1;
                    continue;
                }
                Some(Ctx::Backtick) => {
                    match c {
                        b'\\' => i += 1,
                        b'`' => {
                            stack.pop();
                        }
                        _ => {}
                    }
                    i += 1;
                    continue;
                }
                Some(Ctx::Double) => {
                    match c {
                        b'\\' => i += 1,
                        b'"' => {
                            stack.pop();
                        }
                        b'`' => stack.push((Ctx::Backtick, i)),
                        b'$' if b.get(i + 1) == Some(&b'(') => {
                            stack.push((Ctx::Paren, i));
                            i += 1;
                        }
                        b'$' if b.get(i + 1) == Some(&b'{') => {
                            stack.push((Ctx::Brace, i));
                            i += 1;
                        }
                        _ => {}
                    }
                    i += 1;
                    continue;
                }
                _ => {}
            }
            // Normal context: the top level, inside `$(`/`(`, or inside `${`.
            if !b" \t\r\n#".contains(&c) && stack.is_empty() {
                pending_op = None;
            }
            let was_word_start = word_start;
            word_start = false;
            match c {
                b'\\' => {
                    if b.get(i + 1) == Some(&b'\n') && stack.is_empty() {
                        carry = Some(Open { at: i, what: BS });
                    }
                    i += 2;
                    continue;
                }
                b'\'' => stack.push((Ctx::Single, i)),
                b'"' => stack.push((Ctx::Double, i)),
                b'`' => stack.push((Ctx::Backtick, i)),
                b'$' if bash && b.get(i + 1) == Some(&b'\'') => {
                    stack.push((Ctx::AnsiC, i));
                    i += 1;
                }
                b'$' if b.get(i + 1) == Some(&b'(') => {
                    stack.push((Ctx::Paren, i));
                    i += 1;
                }
                b'$' if b.get(i + 1) == Some(&b'{') => {
                    stack.push((Ctx::Brace, i));
                    i += 1;
                }
                b'}' if top == Some(Ctx::Brace) => {
                    stack.pop();
                }
                b'#' if was_word_start && top != Some(Ctx::Brace) => {
                    i = text[i..].find('\n').map_or(n, |j| i + j);
                    word_start = true;
                    continue;
                }
                b'(' if top != Some(Ctx::Brace) => {
                    let word = &text[word_begin..i];
                    // A subshell, a nested parenthesis, or (bash) an array `NAME=(`.
                    let array = bash && word.ends_with('=') && is_name(&word[..word.len() - 1]);
                    if (cmd_start && was_word_start) || top == Some(Ctx::Paren) || array {
                        stack.push((Ctx::Paren, i));
                    } else {
                        set_err(&mut error, i, "this line has an unquoted `(`");
                    }
                }
                b')' if top == Some(Ctx::Paren) => {
                    stack.pop();
                }
                b')' if top != Some(Ctx::Brace) => {
                    set_err(&mut error, i, "this line has an unquoted `)`");
                }
                b' ' | b'\t' | b'\n' if top != Some(Ctx::Brace) => {
                    word_start = true;
                    if c == b'\n' && stack.is_empty() {
                        // `|`, `&&` or `||` at the end of the line.
                        if let Some(at) = pending_op.take() {
                            carry = Some(Open { at, what: OP });
                        }
                    }
                    i += 1;
                    continue;
                }
                b';' | b'&' | b'|' if top != Some(Ctx::Brace) => {
                    if c == b';' && b.get(i + 1) == Some(&b';') {
                        set_err(&mut error, i, "this line has an unquoted `;;`");
                    }
                    let double = b.get(i + 1) == Some(&c);
                    pending_op = (c == b'|' || (c == b'&' && double)).then_some(i);
                    word_start = true;
                    cmd_start = true;
                    i += if double && c != b';' { 2 } else { 1 };
                    word_begin = i;
                    continue;
                }
                b'<' if top.is_none()
                    && b.get(i + 1) == Some(&b'<')
                    && b.get(i + 2) != Some(&b'<') =>
                {
                    let mut j = i + 2;
                    let strip = b.get(j) == Some(&b'-');
                    if strip {
                        j += 1;
                    }
                    while j < n && (b[j] == b' ' || b[j] == b'\t') {
                        j += 1;
                    }
                    let st = j;
                    while j < n && !b" \t\n;&|<>()".contains(&b[j]) {
                        j += 1;
                    }
                    let delim: String = text[st..j]
                        .chars()
                        .filter(|&c| c != '\'' && c != '"' && c != '\\')
                        .collect();
                    if delim.is_empty() {
                        set_err(&mut error, i, "this line has a `<<` without a delimiter");
                    }
                    heredoc = Some((delim, strip, i));
                    i = j;
                    continue;
                }
                _ => {}
            }
            if was_word_start && top.is_none() && c != b' ' && c != b'\t' && c != b'\n' {
                word_begin = i;
                if cmd_start && compound.is_none() {
                    let end = text[i..]
                        .find([' ', '\t', '\n', ';', '&', '|'])
                        .map_or(n, |j| i + j);
                    let w = &text[i..end];
                    if matches!(
                        w,
                        "if" | "while"
                            | "until"
                            | "for"
                            | "case"
                            | "select"
                            | "function"
                            | "{"
                            | "[["
                            | "!"
                    ) {
                        compound = Some(i);
                    }
                }
                cmd_start = false;
            }
            i += 1;
        }
        if let Some(&(c, at)) = stack.first() {
            set_err(&mut error, at, what(c));
        }
        if let Some(at) = pending_op.or(carry.filter(|o| o.what == OP).map(|o| o.at)) {
            set_err(&mut error, at, OP);
        }
        Scan {
            line_starts,
            error,
            assignments,
        }
    }
}
