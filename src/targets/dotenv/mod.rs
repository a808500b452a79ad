//! Reading and line-preserving editing of `.env` ("dotenv") files.
//!
//! # Dialect
//!
//! Reading follows python-dotenv 1.2.4 (`dotenv/parser.py`) as used by
//! `dotenv_values(path, interpolate=False)`, which opens the file in Python's
//! text mode (universal newlines: `\r\n` and a lone `\r` both become `\n`
//! before parsing, including inside quoted values):
//!
//! * a leading UTF-8 byte-order mark is skipped;
//! * blank lines and lines whose first non-blank character is `#` are
//!   comments;
//! * an entry is `[export<blanks>]KEY[<blanks>]=[<blanks>]VALUE[<comment>]`
//!   or a bare `KEY` (no `=`, read as "no value", [`Entry::value`] is `None`);
//!   `KEY` is any run of characters other than `=`, `#` and whitespace, or a
//!   single-quoted name `'KEY'`;
//! * `VALUE` is single-quoted (`\\` and `\'` are escapes, everything else is
//!   literal, may span lines), double-quoted (escapes `\\ \' \" \a \b \f \n
//!   \r \t \v`, other backslashes stay, may span lines), or unquoted (up to the
//!   end of the line, cut at the first whitespace followed by `#`, trailing
//!   whitespace removed; `KEY= #x` is an empty value plus a comment while
//!   `KEY=#x` is the value `#x`);
//! * after a quoted value only blanks and an optional `# comment` may follow.
//!
//! We are stricter than python-dotenv, which skips lines it cannot parse with
//! a warning: such lines, unterminated quotes, quoted names spanning lines and
//! NUL bytes are a [`DotenvError`] here, with a line and column.
//!
//! # Which occurrence wins
//!
//! When a key appears more than once, python-dotenv (`dotenv_values`,
//! `load_dotenv`), Docker Compose (`env_file:`) and bash (`set -a; . file`)
//! all use the **last** occurrence (checked against the real tools by
//! `tests/interop.rs`). [`DotenvFile::get`] returns that one and
//! [`DotenvFile::set`] edits that one. (`load_dotenv` without `override=True`
//! still lets a variable already in the process environment win over the
//! file; that is outside the file's control.)
//!
//! # Other readers
//!
//! Docker Compose and bash read some lines differently from python-dotenv.
//! [`readers_disagree`] says, for an entry, whether they would; values that
//! [`DotenvFile::set`] writes are restricted by [`check_portable`] so that
//! python-dotenv (with or without interpolation), Docker Compose and a POSIX
//! shell read them back byte for byte, as long as the line itself is plain
//! (no byte-order mark before it on line 1, no CRLF for bash; see
//! [`readers_disagree`]).
//!
//! The rest of the file matters too: a quote bash does not close, a trailing `\`, a
//! value python-dotenv 1.0–1.2.2 runs past, a line Docker Compose rejects. [`readers`]
//! models each reader over the whole file: [`DotenvFile::disagreements`] lists every line
//! that makes one read the key differently (KW113), and [`DotenvFile::set`] refuses
//! ([`DotenvError::ReadersDisagree`], with the line and a fix) a write that some reader would
//! not read back exactly, or that changes how a reader reads another variable.
//! [`DotenvFile::with_lf_line_endings`] is the fix for CRLF files.
//!
//! # Secrets
//!
//! Values may be secrets. Neither the [`Display`](fmt::Display) of errors nor
//! the [`Debug`](fmt::Debug) of [`Entry`] and [`DotenvFile`] ever shows a
//! value or any other text taken from the file.
//!
//! This file holds the model (entries, quotes, line endings, errors) and the editor;
//! [`parse`] is the reader and [`portable`] the checks on what every reader reads back.

use std::fmt;
use std::ops::Range;

/// The python-dotenv release whose parser this module follows; the interop tests pin
/// this version (`tests/requirements.txt`) and check the two agree.
pub const PYTHON_DOTENV_MODEL: &str = "1.2.4";

mod parse;
mod portable;
pub mod readers;
use parse::*;
pub use portable::*;
pub use readers::{Disagreement, Reader};

/// How a value was quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quote {
    /// `KEY=value`, `KEY=` or a bare `KEY`.
    None,
    /// `KEY='value'`.
    Single,
    /// `KEY="value"`.
    Double,
}

/// The line break that ends an entry (for a multi-line value: the one after
/// the closing quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// `\n`
    Lf,
    /// `\r\n`
    CrLf,
    /// A lone `\r` (python-dotenv treats it as a line break, bash and Docker
    /// Compose do not).
    Cr,
    /// The entry is the last line and the file does not end with a line break.
    Missing,
}

impl LineEnding {
    /// The bytes of this line ending (`""` for [`LineEnding::Missing`]).
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
            LineEnding::Cr => "\r",
            LineEnding::Missing => "",
        }
    }
}

/// One `KEY=value` (or bare `KEY`) entry of a `.env` file.
///
/// Its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    key: String,
    value: Option<String>,
    line: usize,
    span: Range<usize>,
    export: bool,
    quote: Quote,
    line_ending: LineEnding,
    // The text of `span`; offsets below are relative to `span.start`.
    raw: String,
    indent_end: usize,
    key_start: usize,
    key_quoted: bool,
    space_before_eq: bool,
    space_after_eq: bool,
    empty_then_comment: bool,
    value_raw: Range<usize>,
    comment: Option<Range<usize>>,
    content_end: usize,
    first_line_after_bom: bool,
}

impl Entry {
    /// The variable name (without quotes for a `'KEY'=…` name).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value as python-dotenv's `dotenv_values(path, interpolate=False)`
    /// reads it; `None` for a bare `KEY` line without `=`.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// 1-based line number of the line holding the key.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Byte range in the file text of the whole logical line: from the start
    /// of the line holding the key (indentation included, byte-order mark
    /// excluded) to after its line ending. A multi-line quoted value spans
    /// several physical lines.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Whether the line starts with `export `.
    pub fn has_export(&self) -> bool {
        self.export
    }

    /// How the value is quoted.
    pub fn quote(&self) -> Quote {
        self.quote
    }

    /// The line ending after the entry.
    pub fn line_ending(&self) -> LineEnding {
        self.line_ending
    }

    /// The inline comment on the entry's (last) line, from `#` to the end of
    /// the line, if any.
    pub fn comment(&self) -> Option<&str> {
        let c = self.comment.as_ref()?;
        let text = &self.raw[c.clone()];
        text.find('#').map(|i| &text[i..])
    }

    fn indent(&self) -> &str {
        &self.raw[..self.indent_end]
    }

    fn export_separator(&self) -> &str {
        if self.export {
            &self.raw[self.indent_end + "export".len()..self.key_start]
        } else {
            ""
        }
    }

    /// Text between the end of the raw value and the line ending.
    fn tail(&self) -> &str {
        &self.raw[self.value_raw.end..self.content_end]
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("key", &self.key)
            .field(
                "value",
                &match self.value {
                    Some(_) => "<redacted>",
                    None => "<none>",
                },
            )
            .field("line", &self.line)
            .field("span", &self.span)
            .field("export", &self.export)
            .field("quote", &self.quote)
            .field("line_ending", &self.line_ending)
            .finish_non_exhaustive()
    }
}

/// Why a value cannot be written so that every reader gets it back unchanged.
///
/// The `Display` text is a sentence fragment that never contains the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Unportable {
    /// The value contains `'`.
    #[error(
        "contains a single quote, which ends a single-quoted value in a POSIX shell \
         (bash reports a syntax error or reads a different value)"
    )]
    SingleQuote,
    /// The value contains `\`.
    #[error(
        "contains a backslash, which python-dotenv and Docker Compose read as the start \
         of an escape sequence inside quotes (`\\\\` and `\\'`)"
    )]
    Backslash,
    /// The value contains a NUL character.
    #[error("contains a NUL character, which no environment variable can hold")]
    Nul,
    /// The value contains a carriage return.
    #[error(
        "contains a carriage return, which python-dotenv turns into a line feed \
         when it reads the file while bash and Docker Compose keep it"
    )]
    CarriageReturn,
    /// The value contains a line feed.
    #[error(
        "contains a line break; a value spanning lines is changed by any line-ending \
         conversion of the file (python-dotenv then reads LF where bash and Docker \
         Compose read CRLF)"
    )]
    LineFeed,
    /// The value contains another control character.
    #[error(
        "contains a control character, which is invisible in editors and terminals \
         and is easily lost or altered when the file is edited by hand"
    )]
    ControlChar,
    /// The value contains a `${…}` form matching python-dotenv's
    /// interpolation pattern.
    #[error(
        "contains a `${{…}}` form that python-dotenv expands as a variable \
         (Docker Compose and bash keep it literally inside single quotes)"
    )]
    Interpolation,
}

/// An error reading or editing a `.env` file.
///
/// Its `Display` never contains a value, a key or any other text of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DotenvError {
    /// The file cannot be read unambiguously.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters (a byte-order mark is not counted).
        column: usize,
        /// What is wrong and what to do about it.
        message: String,
    },
    /// [`DotenvFile::set`] was given a value that [`check_portable`] refuses.
    #[error(
        "the new value cannot be written so that python-dotenv, Docker Compose and bash \
         all read it back unchanged: it {0}"
    )]
    Unportable(#[from] Unportable),
    /// [`DotenvFile::set`] was given a name that is not a portable variable name.
    #[error(
        "invalid variable name: use only ASCII letters, digits and `_`, not starting \
         with a digit"
    )]
    InvalidKey,
    /// The file around the key makes some reader (bash, dash, Docker Compose, node, an
    /// older python-dotenv) read the key, or another variable, differently from
    /// python-dotenv after the edit: nothing is written. `line` is the line that causes
    /// it, `fix` what the user can do.
    #[error("{message}")]
    ReadersDisagree {
        /// 1-based line that breaks the reader.
        line: usize,
        /// Which line breaks which reader, and why (never a value).
        message: String,
        /// What to do about it.
        fix: String,
    },
    /// The edited text did not read back as intended (a bug; nothing was
    /// written).
    #[error(
        "internal check failed: the edited file would not read back as intended, so it \
         was not produced; please report this"
    )]
    EditCheckFailed,
}

impl DotenvError {
    /// 1-based line of a [`DotenvError::Syntax`] error.
    pub fn line(&self) -> Option<usize> {
        match self {
            DotenvError::Syntax { line, .. } | DotenvError::ReadersDisagree { line, .. } => {
                Some(*line)
            }
            _ => None,
        }
    }

    /// What the user can do about a [`DotenvError::ReadersDisagree`].
    pub fn fix(&self) -> Option<&str> {
        match self {
            DotenvError::ReadersDisagree { fix, .. } => Some(fix),
            _ => None,
        }
    }

    /// 1-based column of a [`DotenvError::Syntax`] error.
    pub fn column(&self) -> Option<usize> {
        match self {
            DotenvError::Syntax { column, .. } => Some(*column),
            _ => None,
        }
    }
}

/// A parsed `.env` file: the original text plus its entries.
#[derive(Clone, PartialEq, Eq)]
pub struct DotenvFile {
    text: String,
    bom_len: usize,
    entries: Vec<Entry>,
}

impl fmt::Debug for DotenvFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DotenvFile")
            .field("len", &self.text.len())
            .field("bom", &(self.bom_len > 0))
            .field("entries", &self.entries)
            .finish()
    }
}

const BOM: char = '\u{feff}';

impl DotenvFile {
    /// Parses `text` (already decoded from UTF-8; a leading byte-order mark is
    /// allowed and kept).
    pub fn parse(text: &str) -> Result<DotenvFile, DotenvError> {
        let bom_len = if text.starts_with(BOM) {
            BOM.len_utf8()
        } else {
            0
        };
        let entries = Parser::new(&text[bom_len..], bom_len).run()?;
        Ok(DotenvFile {
            text: text.to_owned(),
            bom_len,
            entries,
        })
    }

    /// The original text, byte for byte.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the text starts with a UTF-8 byte-order mark.
    pub fn has_bom(&self) -> bool {
        self.bom_len > 0
    }

    /// All entries in file order, duplicates included.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry that wins for `key`: the last occurrence, as for
    /// python-dotenv, Docker Compose and bash.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Every occurrence of `key`, in file order (the last one wins).
    pub fn entries_named(&self, key: &str) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.key == key).collect()
    }

    /// The most common line ending of the file (ties prefer LF, then CRLF);
    /// LF for a file without line breaks.
    pub fn dominant_line_ending(&self) -> LineEnding {
        let body = &self.text[self.bom_len..];
        let (mut lf, mut crlf, mut cr) = (0usize, 0usize, 0usize);
        let bytes = body.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' if i > 0 && bytes[i - 1] == b'\r' => crlf += 1,
                b'\n' => lf += 1,
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => cr += 1,
                _ => {}
            }
        }
        if lf >= crlf && lf >= cr {
            LineEnding::Lf
        } else if crlf >= cr {
            LineEnding::CrLf
        } else {
            LineEnding::Cr
        }
    }

    /// Returns the new full text with `key` set to `value`.
    ///
    /// Only the winning line of `key` changes: it becomes `KEY='value'`,
    /// keeping its indentation, `export ` prefix (with one space after it), inline comment (with at
    /// least one space or tab before the `#`) and line ending. If `key` is
    /// absent, `KEY='value'` is appended with the file's dominant line ending
    /// (after adding a line break if the file did not end with one). Every
    /// other byte is kept.
    ///
    /// Fails if `key` is not a portable name ([`is_portable_key`]) or `value`
    /// is refused by [`check_portable`]. The result is parsed again before it
    /// is returned, to check that it reads back as intended.
    pub fn set(&self, key: &str, value: &str) -> Result<String, DotenvError> {
        if !is_portable_key(key) {
            return Err(DotenvError::InvalidKey);
        }
        check_portable(value)?;
        let mut line = String::with_capacity(key.len() + value.len() + 8);
        let new_text = match self.get(key) {
            Some(e) => {
                line.push_str(e.indent());
                if e.export {
                    // One space: node reads `export` and any other gap as part of the name.
                    line.push_str("export ");
                }
                push_assignment(&mut line, key, value);
                if let Some(c) = &e.comment {
                    let c = &e.raw[c.clone()];
                    let hash = c.find('#').unwrap_or(c.len());
                    let (space, rest) = c.split_at(hash);
                    if !space.is_empty() && space.chars().all(|c| c == ' ' || c == '\t') {
                        line.push_str(space);
                    } else {
                        line.push(' ');
                    }
                    line.push_str(rest);
                }
                line.push_str(e.line_ending.as_str());
                let mut out = String::with_capacity(self.text.len() + line.len());
                out.push_str(&self.text[..e.span.start]);
                out.push_str(&line);
                out.push_str(&self.text[e.span.end..]);
                out
            }
            None => {
                let ending = self.dominant_line_ending().as_str();
                let mut out = String::with_capacity(self.text.len() + key.len() + value.len() + 8);
                out.push_str(&self.text);
                let body = &self.text[self.bom_len..];
                if !body.is_empty() && !body.ends_with(['\n', '\r']) {
                    out.push_str(ending);
                }
                push_assignment(&mut out, key, value);
                out.push_str(ending);
                out
            }
        };
        let new = self.check_edit(&new_text, key, Some(value))?;
        self.check_readers(&new, key, value)?;
        Ok(new_text)
    }

    /// Returns the new full text without any line of `key` (all occurrences
    /// are removed, each with its line ending). The text is unchanged if the
    /// key is absent.
    pub fn remove(&self, key: &str) -> Result<String, DotenvError> {
        let mut out = String::with_capacity(self.text.len());
        let mut last = 0;
        for e in self.entries.iter().filter(|e| e.key == key) {
            out.push_str(&self.text[last..e.span.start]);
            last = e.span.end;
        }
        out.push_str(&self.text[last..]);
        self.check_edit(&out, key, None)?;
        Ok(out)
    }

    /// Re-parses an edited text and checks that `key` reads as `expected`
    /// (`None`: absent) and that every other entry reads as before, in order.
    fn check_edit(
        &self,
        new_text: &str,
        key: &str,
        expected: Option<&str>,
    ) -> Result<DotenvFile, DotenvError> {
        let new = DotenvFile::parse(new_text).map_err(|_| DotenvError::EditCheckFailed)?;
        let others = |f: &DotenvFile| -> Vec<(String, Option<String>)> {
            let skip = match expected {
                // `set` changes only the winning line.
                Some(_) => f.get(key).map(|e| e.span.start),
                None => None,
            };
            f.entries
                .iter()
                .filter(|e| match expected {
                    Some(_) => Some(e.span.start) != skip,
                    None => e.key != key,
                })
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect()
        };
        let got = new.get(key).map(|e| e.value.as_deref());
        let ok = match expected {
            Some(v) => got == Some(Some(v)),
            None => got.is_none(),
        };
        if !ok || others(self) != others(&new) || new.bom_len != self.bom_len {
            return Err(DotenvError::EditCheckFailed);
        }
        Ok(new)
    }
}

fn push_assignment(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str("='");
    out.push_str(value);
    out.push('\'');
}

#[cfg(test)]
mod tests;
