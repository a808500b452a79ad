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

/// Whether a value's text holds `${NAME?…}` or `${NAME:?…}`: an error in a shell and in
/// Docker Compose when `NAME` is unset.
pub(super) fn requires_variable(raw: &str) -> bool {
    raw.match_indices("${").any(|(at, _)| {
        let rest = &raw[at + 2..];
        let name = rest
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(rest.len());
        name > 0 && (rest[name..].starts_with('?') || rest[name..].starts_with(":?"))
    })
}

/// Whether a shell takes `name` as a variable name.
fn shell_name(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some(x) if x == '_' || x.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
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

/// Whether every line of `text` is plain: blank; a comment of plain characters; or
/// `[export ]NAME=VALUE` with a shell name and a value of plain characters, bare or in
/// single quotes. Lines end in LF (the last one may not end); no byte-order mark, no CR,
/// no `$`, backslash, backtick or double quote anywhere. Most `.env` files are such files,
/// and the whole-file model finds nothing in them (the property test
/// `plain_files_have_no_disagreements` checks it), so skipping it changes no finding.
/// (What the model does not know of either: shell variables with a meaning of their own,
/// such as `OPTIND`, which dash refuses a non-number for.)
fn plain(text: &str) -> bool {
    /// Characters every reader takes literally in a bare value.
    fn bare(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"_./:@%+,=-".contains(&b)
    }
    /// Characters every reader takes literally between single quotes (and in a comment).
    fn quoted(b: u8) -> bool {
        (b' '..=b'~').contains(&b) && !b"'\\$`\"".contains(&b)
    }
    text.split('\n').all(|line| {
        let l = line.as_bytes();
        if l.is_empty() {
            return true;
        }
        if l[0] == b'#' {
            return l.iter().all(|&b| quoted(b));
        }
        let l = l.strip_prefix(b"export ").unwrap_or(l);
        let Some(eq) = l.iter().position(|&b| b == b'=') else {
            return false;
        };
        let (name, value) = (&l[..eq], &l[eq + 1..]);
        let name_ok = name
            .first()
            .is_some_and(|&b| b == b'_' || b.is_ascii_alphabetic())
            && name.iter().all(|&b| b == b'_' || b.is_ascii_alphanumeric());
        name_ok
            && match value {
                [b'\'', inner @ .., b'\''] => inner.iter().all(|&b| quoted(b)),
                _ => value.iter().all(|&b| bare(b)),
            }
    })
}

impl DotenvFile {
    /// Every line of the file that makes a reader read `key` differently from
    /// python-dotenv (the key's own line included), each with the readers and a fix.
    /// Empty when the key is absent and nothing in the file would stop every reader from
    /// reading a line appended at its end.
    pub fn disagreements(&self, key: &str) -> Vec<Disagreement> {
        if self.bom_len == 0 && plain(&self.text) {
            return Vec::new();
        }
        self.modelled_disagreements(key)
    }

    /// [`DotenvFile::disagreements`] by the whole-file model, whatever the file.
    fn modelled_disagreements(&self, key: &str) -> Vec<Disagreement> {
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
        // Lines that stop a reader with an error wherever they are in the file.
        for x in &self.entries {
            let raw = &x.raw[x.value_raw.clone()];
            if x.quote != Quote::Single && requires_variable(raw) {
                out.push(Disagreement::new(
                    x.line,
                    &[Reader::Compose, Reader::Bash, Reader::Dash],
                    "this line's `${NAME?…}` or `${NAME:?…}` is an error when NAME is unset: \
                     Docker Compose rejects the file, and bash and dash stop there, so the \
                     program is never started",
                    FIX_LINE,
                ));
            }
            if x.export
                && (x.space_before_eq
                    || !shell_name(&x.key)
                    || (x.quote == Quote::None
                        && raw.split('#').next().is_some_and(|v| v.contains(is_blank))))
            {
                out.push(Disagreement::new(
                    x.line,
                    &[Reader::Dash],
                    "this `export` line hands dash a word that is not a variable name (a \
                     space around `=`, a name a shell does not take, or an unquoted value with \
                     spaces), and dash stops reading the file with an error there, so the \
                     program is never started",
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
                    "node reads this line and the ones after it as one variable, through the \
                     key's line: its quoted values run to the next same quote of the file (no \
                     escapes), and its names run across lines to the next `=` (after a line \
                     without `=`, an indented comment, a line of spaces or a byte-order mark)"
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
            // Every name the reader read, before or after: one that appears, changes or
            // vanishes is a disagreement.
            // What a reader read from the key's own line (under any name) is the edit's.
            let (old_at, new_at) = (
                self.get(key).map(|e| e.span.start),
                new.get(key).map(|e| e.span.start),
            );
            let others = new_b
                .iter()
                .filter(|b| Some(b.start) != new_at)
                .chain(old_b.iter().filter(|b| Some(b.start) != old_at));
            for b in others {
                if b.key == key {
                    continue;
                }
                let now = read(&new_b, &b.key);
                if now != read(&old_b, &b.key) {
                    // Where it is read now, or (gone) where it was.
                    let at = match new_b.iter().rev().find(|x| x.key == b.key) {
                        Some(x) => line_at(&new.text, x.start),
                        None => line_at(&self.text, b.start),
                    };
                    return Err(DotenvError::ReadersDisagree {
                        line: at,
                        message: format!(
                            "the edit would make {} read the variable on line {} differently",
                            reader.name(),
                            at
                        ),
                        fix: FIX_LINE.to_string(),
                    });
                }
            }
        }
        // Docker Compose reads a name without `=` on the last line, with no line break
        // after it, as a variable named "" (and drops it once a line follows).
        let body = &self.text[self.bom_len..];
        if self.get(key).is_none()
            && !body.is_empty()
            && !body.ends_with(['\n', '\r'])
            && let Some(last) = self.entries.last()
            && last.value.is_none()
            && last.span.end == self.text.len()
        {
            return Err(DotenvError::ReadersDisagree {
                line: last.line,
                message: format!(
                    "line {} makes Docker Compose read the key differently: it is a name \
                     without `=` at the end of the file with no line break after it, which \
                     Docker Compose reads as a variable with no name; appending the key changes \
                     that",
                    last.line
                ),
                fix: FIX_LINE.to_string(),
            });
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
pub(super) mod node;

/// python-dotenv 1.0 to 1.2.2's parser (`dotenv/parser.py`), ported with its regular
/// expressions' backtracking, on the text after Python's universal-newline translation.
pub(super) mod legacy;

/// A lexer of the POSIX shell's quoting and line structure (bash or dash), enough to tell
/// where each line of a `.env` file starts a fresh command and where the file has a
/// syntax error.
pub(super) mod shell;

#[cfg(test)]
mod plain_tests {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_]{0,8}"
    }

    /// One line of the plain grammar.
    fn plain_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "#[ -~&&[^'\\\\$`\"]]{0,20}",
            (any::<bool>(), name(), "[A-Za-z0-9_./:@%+,=-]{0,20}")
                .prop_map(|(e, n, v)| format!("{}{n}={v}", if e { "export " } else { "" })),
            (any::<bool>(), name(), "[ -~&&[^'\\\\$`\"]]{0,30}")
                .prop_map(|(e, n, v)| format!("{}{n}='{v}'", if e { "export " } else { "" })),
        ]
    }

    fn names_in(text: &str) -> Vec<String> {
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|l| {
                let l = l.strip_prefix("export ").unwrap_or(l);
                (!l.starts_with('#')).then(|| l.split('=').next().unwrap_or("").to_string())
            })
            .filter(|n| !n.is_empty())
            .collect();
        names.push("SECRET_KEY".to_string());
        names
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The shortcut is sound: a file `plain` accepts is one the whole-file model finds
        /// nothing in, for every name in it and for one it lacks.
        #[test]
        fn plain_files_have_no_disagreements(
            lines in prop::collection::vec(plain_line(), 0..8),
            trailing in any::<bool>(),
        ) {
            let mut text = lines.join("\n");
            if trailing {
                text.push('\n');
            }
            prop_assert!(plain(&text), "{:?}", text);
            let file = DotenvFile::parse(&text).expect("a plain file parses");
            for n in names_in(&text) {
                let d = file.modelled_disagreements(&n);
                prop_assert!(d.is_empty(), "{:?} for {}: {:?}", text, n, d);
            }
        }

        /// Near the edge of the grammar (quotes, `$`, backslashes, CR, spaces, `#` after a
        /// value): whatever `plain` accepts has no disagreement.
        #[test]
        fn what_plain_accepts_near_its_edge_has_no_disagreements(
            lines in prop::collection::vec("(export )?[A-Za-z_#][A-Za-z0-9_]{0,3}[= ]?['\"$\\\\ #a=\r`{}~!*-]{0,6}", 0..5),
        ) {
            let text = lines.join("\n");
            if plain(&text) && let Ok(file) = DotenvFile::parse(&text) {
                for n in names_in(&text) {
                    let d = file.modelled_disagreements(&n);
                    prop_assert!(d.is_empty(), "{:?} for {}: {:?}", text, n, d);
                }
            }
        }
    }

    #[test]
    fn typical_files_are_plain_and_odd_ones_are_not() {
        assert!(plain(
            "# e1\nDEBUG=0\nSECRET_KEY='Zq8f-Kp3#xL0v!Rt7mW2^bN9dH4sJ6cY'\nDB_URL=postgres://db/e1\n"
        ));
        assert!(plain("export SECRET_KEY='a b'\n"));
        for odd in [
            "SECRET_KEY=a\r\n",
            "SECRET_KEY=\"a\"\n",
            "SECRET_KEY=a b\n",
            "SECRET_KEY=a#b\n",
            "SECRET_KEY=$HOME\n",
            "SECRET_KEY='it\\'s'\n",
            "\u{feff}SECRET_KEY=a\n",
            "SECRET_KEY='a' # note\n",
            " SECRET_KEY=a\n",
            "SECRET_KEY=~/a\n",
            "# it's\nSECRET_KEY=a\n",
        ] {
            assert!(!plain(odd), "{odd:?}");
        }
    }
}
