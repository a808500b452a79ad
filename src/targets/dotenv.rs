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
//! # Secrets
//!
//! Values may be secrets. Neither the [`Display`](fmt::Display) of errors nor
//! the [`Debug`](fmt::Debug) of [`Entry`] and [`DotenvFile`] ever shows a
//! value or any other text taken from the file.

use std::fmt;
use std::ops::Range;

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
            DotenvError::Syntax { line, .. } => Some(*line),
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
    /// keeping its indentation, `export ` prefix, inline comment (with at
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
                    line.push_str("export");
                    line.push_str(e.export_separator());
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
        self.check_edit(&new_text, key, Some(value))?;
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
    ) -> Result<(), DotenvError> {
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
        Ok(())
    }
}

fn push_assignment(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str("='");
    out.push_str(value);
    out.push('\'');
}

/// Whether `key` is a name that python-dotenv, Docker Compose and bash all
/// accept as written: ASCII letters, digits and `_`, not starting with a
/// digit.
pub fn is_portable_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Checks that `value`, written as `KEY='value'`, reads back unchanged in
/// python-dotenv (with or without interpolation), Docker Compose and a POSIX
/// shell.
///
/// Refused: `'`, `\`, NUL, CR, LF, any other control character (Unicode
/// category Cc) and any `${…}` form matching python-dotenv's interpolation
/// pattern `\$\{[^}:]*(:-[^}]*)?\}`. Everything else is accepted, including
/// `$`, `${` without a matching form (e.g. `${A:?x}`), `"`, `#`, spaces and
/// non-ASCII text. The empty value is accepted: all three readers read `''`
/// as the empty string (whether an empty secret is acceptable is the
/// caller's policy, not a quoting question).
pub fn check_portable(value: &str) -> Result<(), Unportable> {
    for c in value.chars() {
        match c {
            '\0' => return Err(Unportable::Nul),
            '\'' => return Err(Unportable::SingleQuote),
            '\\' => return Err(Unportable::Backslash),
            '\r' => return Err(Unportable::CarriageReturn),
            '\n' => return Err(Unportable::LineFeed),
            c if c.is_control() => return Err(Unportable::ControlChar),
            _ => {}
        }
    }
    if has_python_variable(value) {
        return Err(Unportable::Interpolation);
    }
    Ok(())
}

/// Whether python-dotenv's interpolation regex
/// `\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}` matches anywhere.
fn has_python_variable(value: &str) -> bool {
    let b = value.as_bytes();
    let mut from = 0;
    while let Some(off) = value[from..].find("${") {
        let start = from + off;
        let mut j = start + 2;
        while j < b.len() && b[j] != b'}' && b[j] != b':' {
            j += 1;
        }
        match b.get(j) {
            Some(b'}') => return true,
            Some(b':') if b.get(j + 1) == Some(&b'-') && b[j + 2..].contains(&b'}') => {
                return true;
            }
            _ => {}
        }
        from = start + 1;
    }
    false
}

/// Characters an unquoted value may hold and still be read identically by
/// python-dotenv, Docker Compose and bash.
fn is_plain_unquoted(c: char) -> bool {
    c.is_alphanumeric() || "_./:@%+,=-#".contains(c)
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Says whether python-dotenv (with interpolation), Docker Compose and bash
/// (`set -a; . file`) could read different values for `entry`, and why.
///
/// Conservative: `None` means the three readers agree on this entry; `Some`
/// means at least one of them may read it differently (or not at all). The
/// sentence never contains the value.
pub fn readers_disagree(entry: &Entry) -> Option<String> {
    let mut reasons: Vec<&'static str> = Vec::new();
    if entry.first_line_after_bom {
        reasons.push(
            "the file starts with a UTF-8 byte-order mark, which python-dotenv and Docker \
             Compose skip but bash reads as part of this line, so bash never sets the variable",
        );
    }
    match entry.line_ending {
        LineEnding::CrLf => reasons.push(
            "the line ends in CRLF and bash keeps the carriage return at the end of the value",
        ),
        LineEnding::Cr => reasons.push(
            "the line ends in a lone carriage return, which python-dotenv treats as a line \
             break but bash and Docker Compose read as part of the value",
        ),
        LineEnding::Lf | LineEnding::Missing => {}
    }
    if entry.raw[entry.value_raw.clone()].contains('\r') {
        reasons.push(
            "the value spans lines ending in CR or CRLF; python-dotenv reads those line breaks \
             as LF while bash and Docker Compose keep the carriage return",
        );
    }
    if entry.key_quoted {
        reasons.push(
            "the variable name is in quotes, which only python-dotenv accepts (Docker Compose \
             rejects the file and bash runs the line as a command)",
        );
    } else if !is_portable_key(&entry.key) {
        reasons.push(
            "the variable name is not a plain shell name (ASCII letters, digits and `_`, not \
             starting with a digit), so bash does not read the line as an assignment",
        );
    }
    if !entry.indent().chars().all(is_blank) {
        reasons.push(
            "the indentation contains whitespace other than spaces and tabs, which bash does \
             not skip",
        );
    }
    if !entry.export_separator().chars().all(is_blank) {
        reasons.push(
            "the whitespace after `export` is not a plain space or tab, which bash and Docker \
             Compose do not accept",
        );
    }
    if entry.space_before_eq || entry.space_after_eq {
        reasons.push(
            "there is whitespace around `=`, which python-dotenv and Docker Compose skip but \
             bash does not accept in an assignment",
        );
    }
    if entry.empty_then_comment {
        reasons.push(
            "the value is empty and followed by a comment, which Docker Compose reads as the \
             value",
        );
    }
    let inner = if entry.quote == Quote::None {
        &entry.raw[entry.value_raw.clone()]
    } else {
        &entry.raw[entry.value_raw.start + 1..entry.value_raw.end - 1]
    };
    match (entry.quote, entry.value.as_deref()) {
        (_, None) => reasons.push(
            "the line has no `=`: python-dotenv reads no value, Docker Compose copies the \
             variable from its own environment (and rejects the file if a comment follows), and \
             bash runs the name as a command",
        ),
        (Quote::Single, Some(v)) => {
            if inner.contains('\\') {
                reasons.push(
                    "the single-quoted value contains a backslash: python-dotenv reads `\\\\` \
                     and `\\'` as escapes, Docker Compose only `\\'`, and bash neither",
                );
            }
            if has_python_variable(v) {
                reasons.push(
                    "the single-quoted value contains a `${…}` form that python-dotenv expands \
                     (unless interpolation is off) while Docker Compose and bash keep it",
                );
            }
        }
        (Quote::Double, Some(_)) => {
            if inner.contains('\\') {
                reasons.push(
                    "the double-quoted value contains a backslash, and python-dotenv, Docker \
                     Compose and bash each decode backslash escapes differently",
                );
            }
            if inner.contains('$') {
                reasons.push(
                    "the double-quoted value contains `$`: Docker Compose and bash expand \
                     `$NAME` and `${NAME}` forms, python-dotenv only `${NAME}` ones",
                );
            }
            if inner.contains('`') {
                reasons.push(
                    "the double-quoted value contains a backtick, which bash runs as a command \
                     substitution",
                );
            }
        }
        (Quote::None, Some(v)) => {
            if !v.chars().all(is_plain_unquoted) {
                reasons.push(
                    "the unquoted value contains characters that bash or Docker Compose treat \
                     specially (such as whitespace, quotes, `$`, `\\`, `;`, `&`, `|`, `<`, `>`, \
                     `(`, `)`, `~`, `*` or a backtick); single quotes would avoid that",
                );
            }
        }
    }
    if entry.value.is_some() && !entry.empty_then_comment {
        let tail = entry.tail();
        let hash = tail.find('#');
        let space = &tail[..hash.unwrap_or(tail.len())];
        if !space.chars().all(is_blank) {
            reasons.push(
                "the whitespace after the value is not plain spaces or tabs, which bash reads as \
                 part of the value",
            );
        } else if hash.is_some() && space.is_empty() {
            reasons.push(
                "a `#` comment follows the closing quote without a space, so bash reads it as \
                 part of the value",
            );
        } else if hash.is_some() && entry.quote == Quote::None && !space.ends_with(' ') {
            reasons.push(
                "the inline comment is preceded by a tab, and Docker Compose only recognises \
                 ` #` (space, hash) as the start of a comment in an unquoted value",
            );
        }
    }
    if reasons.is_empty() {
        None
    } else {
        let mut s = reasons.join("; ");
        s.push('.');
        Some(s)
    }
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/// Python's `str.isspace` / `re` `\s` (Unicode White_Space plus U+001C–U+001F).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// python-dotenv's `[^\S\r\n]`.
fn is_hspace(c: char) -> bool {
    c != '\r' && c != '\n' && is_py_space(c)
}

struct Parser<'a> {
    /// The text after the byte-order mark.
    s: &'a str,
    /// Length of the byte-order mark, added to spans.
    base: usize,
    /// Byte offsets (in `s`) where each physical line starts.
    line_starts: Vec<usize>,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str, base: usize) -> Self {
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

    fn line_col(&self, pos: usize) -> (usize, usize) {
        let idx = self.line_starts.partition_point(|&st| st <= pos);
        let start = self.line_starts[idx - 1];
        (idx, self.s[start..pos].chars().count() + 1)
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> DotenvError {
        let (line, column) = self.line_col(pos);
        DotenvError::Syntax {
            line,
            column,
            message: message.into(),
        }
    }

    fn at(&self, pos: usize) -> Option<char> {
        self.s[pos..].chars().next()
    }

    fn skip(&self, mut pos: usize, f: impl Fn(char) -> bool) -> usize {
        while let Some(c) = self.at(pos) {
            if !f(c) {
                break;
            }
            pos += c.len_utf8();
        }
        pos
    }

    fn end_of_content(&self, pos: usize) -> usize {
        self.s[pos..]
            .find(['\r', '\n'])
            .map_or(self.s.len(), |i| pos + i)
    }

    /// Returns the offset of the closing quote of the value opened at `open`.
    fn scan_quoted(&self, open: usize, quote: char) -> Result<usize, DotenvError> {
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

    fn run(&self) -> Result<Vec<Entry>, DotenvError> {
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

    fn skip_line_break(&self, pos: usize) -> usize {
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
    fn entry(&self, line_start: usize, start: usize) -> Result<Option<Entry>, DotenvError> {
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
fn unquoted_value(part: &str) -> (&str, Option<usize>) {
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
fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// python-dotenv's `_single_quote_escapes`: `\\` and `\'`.
fn decode_single(raw: &str) -> String {
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
fn decode_double(raw: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DotenvFile {
        match DotenvFile::parse(text) {
            Ok(f) => f,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    fn values(text: &str) -> Vec<(String, Option<String>)> {
        parse(text)
            .entries()
            .iter()
            .map(|e| (e.key().to_owned(), e.value().map(str::to_owned)))
            .collect()
    }

    fn kv(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
            .collect()
    }

    fn syntax_err(text: &str) -> (usize, usize, String) {
        match DotenvFile::parse(text) {
            Err(DotenvError::Syntax {
                line,
                column,
                message,
            }) => (line, column, message),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn plain_and_export() {
        let f = parse("A=1\nexport B=2\nexport\tC=3\n");
        let e = f.entries();
        assert_eq!(e.len(), 3);
        assert_eq!(
            (e[0].key(), e[0].value(), e[0].has_export()),
            ("A", Some("1"), false)
        );
        assert_eq!(
            (e[1].key(), e[1].value(), e[1].has_export()),
            ("B", Some("2"), true)
        );
        assert_eq!(
            (e[2].key(), e[2].value(), e[2].has_export()),
            ("C", Some("3"), true)
        );
        assert_eq!(e[1].line(), 2);
        assert_eq!(e[1].span(), 4..15);
        // `export` without blanks after it is part of the name.
        assert_eq!(
            values("exportX=1\nexport=2\n"),
            kv(&[("exportX", Some("1")), ("export", Some("2"))])
        );
    }

    #[test]
    fn single_quotes() {
        assert_eq!(
            values("A='x y # z'\nB='a\\'b'\nC='a\\\\b'\nD='a\\nb'\nE='${X}'\n"),
            kv(&[
                ("A", Some("x y # z")),
                ("B", Some("a'b")),
                ("C", Some("a\\b")),
                ("D", Some("a\\nb")),
                ("E", Some("${X}")),
            ])
        );
        assert_eq!(parse("A='x'\n").entries()[0].quote(), Quote::Single);
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(
            values(r#"A="a\nb\tc\"d\\e\'f\$g\xh\ai\bj\fk\rl\vm""#),
            kv(&[(
                "A",
                Some("a\nb\tc\"d\\e'f\\$g\\xh\u{7}i\u{8}j\u{c}k\rl\u{b}m")
            )])
        );
        // `\\n` is an escaped backslash followed by `n`.
        assert_eq!(values(r#"A="x\\ny""#), kv(&[("A", Some("x\\ny"))]));
        assert_eq!(parse("A=\"x\"\n").entries()[0].quote(), Quote::Double);
    }

    #[test]
    fn multiline_values() {
        let text = "A=\"line1\nline2\\n\" # c\nB='x\r\ny'\r\nC=3\n";
        let f = parse(text);
        let e = f.entries();
        assert_eq!(e[0].value(), Some("line1\nline2\n"));
        assert_eq!(e[0].line(), 1);
        assert_eq!(e[0].span(), 0..22);
        assert_eq!(e[0].comment(), Some("# c"));
        // Universal newlines inside quotes, as python-dotenv reads a file.
        assert_eq!(e[1].value(), Some("x\ny"));
        assert_eq!(e[1].line(), 3);
        assert_eq!(e[1].line_ending(), LineEnding::CrLf);
        assert_eq!((e[2].key(), e[2].line()), ("C", 5));
    }

    #[test]
    fn inline_comments_and_unquoted() {
        assert_eq!(
            values("A=abc # c\nB=abc#c\nC= #c\nD=#c\nE=a b  \nF='q' #c\nG=\"q\"#c\nH=x\t# c\nI=\n"),
            kv(&[
                ("A", Some("abc")),
                ("B", Some("abc#c")),
                ("C", Some("")),
                ("D", Some("#c")),
                ("E", Some("a b")),
                ("F", Some("q")),
                ("G", Some("q")),
                ("H", Some("x")),
                ("I", Some("")),
            ])
        );
        let f = parse("A=abc  # rotated 2024\n");
        assert_eq!(f.entries()[0].comment(), Some("# rotated 2024"));
    }

    #[test]
    fn bare_key_and_spaces_around_equals() {
        assert_eq!(
            values("A\nB # c\nC = 1\nD=  2\n  E=3\n"),
            kv(&[
                ("A", None),
                ("B", None),
                ("C", Some("1")),
                ("D", Some("2")),
                ("E", Some("3")),
            ])
        );
        let f = parse("  E=3\n");
        assert_eq!(f.entries()[0].span(), 0..6);
    }

    #[test]
    fn quoted_key() {
        let f = parse("'A B'=1\n");
        assert_eq!(f.entries()[0].key(), "A B");
        assert!(readers_disagree(&f.entries()[0]).is_some());
    }

    #[test]
    fn crlf_bom_and_final_newline() {
        let f = parse("\u{feff}A=1\r\nB=2");
        assert!(f.has_bom());
        let e = f.entries();
        assert_eq!(e[0].span(), 3..8);
        assert_eq!(e[0].line_ending(), LineEnding::CrLf);
        assert_eq!(e[1].line_ending(), LineEnding::Missing);
        assert_eq!(e[1].line(), 2);
        assert_eq!(f.dominant_line_ending(), LineEnding::CrLf);
        // A lone CR is a line break for python-dotenv.
        assert_eq!(
            values("A=1\rB=2\r"),
            kv(&[("A", Some("1")), ("B", Some("2"))])
        );
        assert_eq!(values(""), kv(&[]));
        assert_eq!(values("\u{feff}"), kv(&[]));
        assert_eq!(values("\n\n  \n# only\n"), kv(&[]));
    }

    #[test]
    fn duplicates_last_wins() {
        let f = parse("K=1\nO=x\nexport K='2'\nK=\"3\"\nO=y\n");
        assert_eq!(f.get("K").map(|e| e.value()), Some(Some("3")));
        assert_eq!(f.entries_named("K").len(), 3);
        assert_eq!(f.get("K").map(Entry::line), Some(4));
        assert!(f.get("missing").is_none());
        let new = f.set("K", "new").unwrap();
        assert_eq!(new, "K=1\nO=x\nexport K='2'\nK='new'\nO=y\n");
        assert_eq!(f.remove("K").unwrap(), "O=x\nO=y\n");
    }

    #[test]
    fn set_preserves_line_shape() {
        let f = parse("\u{feff}# c\r\n  export  SECRET_KEY=abc # rotated 2024\r\nX=1");
        assert_eq!(
            f.set("SECRET_KEY", "n3w").unwrap(),
            "\u{feff}# c\r\n  export  SECRET_KEY='n3w' # rotated 2024\r\nX=1"
        );
        // A comment glued to a closing quote gets a space.
        let f = parse("K='a'#c\n");
        assert_eq!(f.set("K", "b").unwrap(), "K='b' #c\n");
        // `KEY= #c` keeps its comment.
        let f = parse("K= #c\n");
        assert_eq!(f.set("K", "b").unwrap(), "K='b' #c\n");
        // Multi-line value becomes one line.
        let f = parse("A=1\nK=\"x\ny\"\nB=2\n");
        assert_eq!(f.set("K", "z").unwrap(), "A=1\nK='z'\nB=2\n");
        // Bare key, whitespace around `=`.
        let f = parse("K\nJ = 1\n");
        assert_eq!(f.set("K", "z").unwrap(), "K='z'\nJ = 1\n");
        assert_eq!(f.set("J", "z").unwrap(), "K\nJ='z'\n");
    }

    #[test]
    fn set_appends() {
        assert_eq!(parse("").set("K", "v").unwrap(), "K='v'\n");
        assert_eq!(parse("\u{feff}").set("K", "v").unwrap(), "\u{feff}K='v'\n");
        assert_eq!(parse("A=1").set("K", "v").unwrap(), "A=1\nK='v'\n");
        assert_eq!(
            parse("A=1\r\nB=2").set("K", "v").unwrap(),
            "A=1\r\nB=2\r\nK='v'\r\n"
        );
        assert_eq!(
            parse("A=1\n# x").set("K", "v").unwrap(),
            "A=1\n# x\nK='v'\n"
        );
        assert_eq!(parse("A=1\n\n").set("K", "").unwrap(), "A=1\n\nK=''\n");
    }

    #[test]
    fn set_refuses() {
        let f = parse("K=1\n");
        assert_eq!(
            f.set("K", "a'b"),
            Err(DotenvError::Unportable(Unportable::SingleQuote))
        );
        assert_eq!(
            f.set("K", "a${X}"),
            Err(DotenvError::Unportable(Unportable::Interpolation))
        );
        assert_eq!(f.set("1K", "x"), Err(DotenvError::InvalidKey));
        assert_eq!(f.set("K-2", "x"), Err(DotenvError::InvalidKey));
        assert_eq!(f.set("", "x"), Err(DotenvError::InvalidKey));
    }

    #[test]
    fn remove_all_occurrences() {
        let f = parse("\u{feff}K=1\r\nA=2\r\nexport K='3' # c\r\nB=4\r\nK=5");
        assert_eq!(f.remove("K").unwrap(), "\u{feff}A=2\r\nB=4\r\n");
        assert_eq!(f.remove("absent").unwrap(), f.text());
    }

    #[test]
    fn portable_values() {
        for ok in [
            "", "abc", "a$b", "$", "${", "${A", "${A:?x}", "$X", "a b # c", "\"`!", "é€",
        ] {
            assert_eq!(check_portable(ok), Ok(()), "{ok:?}");
        }
        let bad = [
            ("a'b", Unportable::SingleQuote),
            ("a\\b", Unportable::Backslash),
            ("a\0b", Unportable::Nul),
            ("a\rb", Unportable::CarriageReturn),
            ("a\nb", Unportable::LineFeed),
            ("a\tb", Unportable::ControlChar),
            ("a\u{7f}b", Unportable::ControlChar),
            ("a\u{85}b", Unportable::ControlChar),
            ("${}", Unportable::Interpolation),
            ("x${HOME}y", Unportable::Interpolation),
            ("${:-d}", Unportable::Interpolation),
            ("${A:-}", Unportable::Interpolation),
            ("${A:?x}${B}", Unportable::Interpolation),
            ("${a$b{c}", Unportable::Interpolation),
        ];
        for (v, why) in bad {
            assert_eq!(check_portable(v), Err(why), "{v:?}");
        }
        let msg = Unportable::Interpolation.to_string();
        assert!(
            msg.contains("`${…}` form that python-dotenv expands"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_lines() {
        let (l, c, m) = syntax_err("A=1\nB=2\nSECRET_KEY=\"abc\n");
        assert_eq!((l, c), (3, 12));
        assert_eq!(
            m,
            "unterminated double quote opened at line 3 column 12; close the quote or remove the line"
        );
        let (l, c, m) = syntax_err("A='abc\\'");
        assert_eq!((l, c), (1, 3));
        assert!(m.starts_with("unterminated single quote"));
        let (l, c, m) = syntax_err("A=1\nthis is not valid\n");
        assert_eq!((l, c), (2, 6));
        assert!(m.starts_with("expected `=`"));
        let (l, c, m) = syntax_err("=value\n");
        assert_eq!((l, c), (1, 1));
        assert!(m.starts_with("missing variable name"));
        let (l, c, m) = syntax_err("\u{feff}A='x'y\n");
        assert_eq!((l, c), (1, 6));
        assert!(m.starts_with("unexpected text after the closing quote"));
        let (l, c, m) = syntax_err("A=1\r\nB=a\0b\r\n");
        assert_eq!((l, c), (2, 4));
        assert!(m.contains("NUL"));
        let (l, _, _) = syntax_err("export ");
        assert_eq!(l, 1);
        let (l, c, _) = syntax_err("'AB=1\n");
        assert_eq!((l, c), (1, 1));
        let (_, _, m) = syntax_err("''=1\n");
        assert!(m.starts_with("empty variable name"));
    }

    #[test]
    fn errors_never_echo_values() {
        let secret = "sk_live_51HxQzRealLookingSecretValue0123456789";
        let cases = [
            format!("SECRET_KEY=\"{secret}\n"),
            format!("SECRET_KEY='{secret}\n"),
            format!("SECRET_KEY {secret}\n"),
            format!("{secret} {secret}\n"),
            format!("SECRET_KEY='{secret}'{secret}\n"),
            format!("SECRET_KEY={secret}\0\n"),
            format!("={secret}\n"),
        ];
        for text in &cases {
            let err = DotenvFile::parse(text).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("sk_live"),
                "error echoes the value: {shown}"
            );
            assert!(
                !shown.contains("SECRET_KEY"),
                "error echoes file text: {shown}"
            );
        }
        let f = parse(&format!("SECRET_KEY={secret}\n"));
        let shown = format!("{f:?}");
        assert!(!shown.contains("sk_live"), "Debug shows the value: {shown}");
        let err = f.set("SECRET_KEY", &format!("{secret}'")).unwrap_err();
        assert!(!err.to_string().contains("sk_live"));
    }

    #[test]
    fn disagreement() {
        let agree = "A=plain-value_1.2:3@x\nB='a b $X ${ \"q\" #h'\nexport C='multi\nline' # c\nD=\nE=x # c\n";
        for e in parse(agree).entries() {
            assert_eq!(readers_disagree(e), None, "{}", e.key());
        }
        let disagree = [
            "A=a b\n",
            "A=$HOME\n",
            "A='${HOME}'\n",
            "A='a\\\\b'\n",
            "A=\"x\\ny\"\n",
            "A=\"$X\"\n",
            "A=x\r\n",
            "A=x\rB=y\n",
            "A\n",
            "A =x\n",
            "A= x\n",
            "A= #c\n",
            "A='x'#c\n",
            "A=x\t#c\n",
            "a.b=x\n",
            "\u{feff}A=x\n",
            "A=\"`x`\"\n",
            "A=~/x\n",
        ];
        for text in disagree {
            let f = parse(text);
            let why = readers_disagree(&f.entries()[0]);
            assert!(why.is_some(), "{text:?}");
            assert!(!why.unwrap_or_default().contains("HOME"));
        }
    }

    #[test]
    fn portable_keys() {
        assert!(is_portable_key("SECRET_KEY"));
        assert!(is_portable_key("_x9"));
        assert!(!is_portable_key("9x"));
        assert!(!is_portable_key("a.b"));
        assert!(!is_portable_key("É"));
    }
}
