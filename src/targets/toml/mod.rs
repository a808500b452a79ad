//! Reading and writing one key in a TOML file (`.streamlit/secrets.toml` and friends).
//!
//! # How edits are made
//!
//! `toml_edit` parses the file and tells us *where* things are (byte spans); the edit itself
//! is a splice into the original text. We do not re-serialise the document: measured with
//! toml_edit 0.25, `DocumentMut::to_string()` drops a leading BOM, rewrites every CRLF as LF
//! (also in untouched lines) and assigning an item replaces its trailing comment. A splice
//! keeps every byte outside the changed line(s) identical, by construction.
//!
//! Every edit is then checked before it is returned: the new text must parse, the key must
//! read back as exactly the value written (or be gone, for [`TomlFile::remove`]), and every
//! other value in the file must be unchanged. If not, the edit is refused with an error and
//! nothing is returned to be written.
//!
//! # Where a missing key goes
//!
//! - The key's table exists as a `[header]` section (or is the root): the line goes after the
//!   section's last key/value line (copying its indentation), or right after the header
//!   line if the section is empty. A root key in a file whose root has no keys goes *before*
//!   the first table header (above the comment block attached to it), never at the end of
//!   the file, where it would land inside the last table.
//! - The table exists as a dotted key (`auth.client_id = ...`): a dotted line
//!   (`auth.secret_key = ...`) goes after the group's last line.
//! - The table exists as an inline table (`auth = { client_id = "x" }`): `, secret_key = ...`
//!   goes before the closing brace.
//! - The table is missing, or exists only implicitly (`[auth.google]` without `[auth]`): a new
//!   `[auth]` section goes at the end of the file (TOML allows defining a super-table after its
//!   sub-tables).
//! - A path through an array of tables (`[[auth]]`) or a non-table value is an error.
//!
//! Errors carry a 1-based line and column, a message and a hint. They never include a value
//! from the file: only key names, types and positions.
//!
//! This file holds [`TomlFile`] (read, plan an edit, check it); [`syntax`] is TOML's key
//! and string syntax, [`tree`] the walk to a key.

use std::fmt;
use std::ops::Range;
use toml_edit::{Document, InlineTable, Item, Key, Table, Value};
use zeroize::Zeroizing;

mod strict;
mod syntax;
mod tree;
pub use syntax::*;
use tree::*;

/// An error reading or editing a TOML target. `line`/`column` are 1-based; `line == 0` means
/// the error is not about a position in the file (for example a malformed key path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TomlTargetError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for TomlTargetError {
    /// `3:5: message` then the hint on its own line, so a caller can prefix the path:
    /// `format!("{}:{err}", path.display())`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: ", self.line, self.column)?;
        }
        write!(f, "{}\n  hint: {}", self.message, self.hint)
    }
}

impl TomlTargetError {
    fn at(text: &str, pos: usize, message: impl Into<String>, hint: impl Into<String>) -> Self {
        let (line, column) = line_col(text, pos);
        TomlTargetError {
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn nowhere(message: impl Into<String>, hint: impl Into<String>) -> Self {
        TomlTargetError {
            line: 0,
            column: 0,
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn internal(what: &str) -> Self {
        TomlTargetError::nowhere(
            format!("internal error: {what}; the file was left unchanged"),
            "this is a keywarden bug: please report it (without the file's contents)",
        )
    }
}

/// A parsed TOML file: the original text and the spans toml_edit found in it.
pub struct TomlFile {
    doc: Document<Zeroizing<String>>,
}

impl fmt::Debug for TomlFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text may hold keys: never print it.
        f.debug_struct("TomlFile")
            .field("bytes", &self.text().len())
            .finish_non_exhaustive()
    }
}

impl TomlFile {
    /// Parses `text`. Syntax errors carry the line and column toml_edit reports.
    pub fn parse(text: &str) -> Result<TomlFile, TomlTargetError> {
        let doc = Document::parse(Zeroizing::new(text.to_owned())).map_err(|e| {
            TomlTargetError::at(
                text,
                e.span().map_or(0, |s| s.start),
                format!("invalid TOML: {}", e.message()),
                "fix the TOML syntax at this position (https://toml.io/en/v1.0.0), then run keywarden again",
            )
        })?;
        if let Some((pos, what, fix)) = strict::first_toml11_only(text) {
            return Err(TomlTargetError::at(
                text,
                pos,
                format!("not TOML 1.0: {what}"),
                format!("{fix}; keywarden reads and writes only TOML that tomllib reads"),
            ));
        }
        Ok(TomlFile { doc })
    }

    /// The text this file was parsed from.
    pub fn text(&self) -> &str {
        self.doc.raw()
    }

    /// Whether the file starts with a UTF-8 byte order mark. Edits keep it, but Python's
    /// `tomllib` (and so Streamlit) refuses such a file: callers should warn.
    pub fn has_bom(&self) -> bool {
        self.text().starts_with('\u{feff}')
    }

    /// The string at `key_path` (`auth.secret_key`), `Ok(None)` if it is absent.
    pub fn get(&self, key_path: &str) -> Result<Option<String>, TomlTargetError> {
        let segments = segments(key_path)?;
        match self.lookup(&segments)? {
            Lookup::Found { value, .. } => Ok(Some(value.value().clone())),
            Lookup::Absent { .. } => Ok(None),
        }
    }

    /// The 1-based line of the key at `key_path`, if it is present (whatever its type).
    pub fn line_of(&self, key_path: &str) -> Option<usize> {
        let segments = parse_key_path(key_path).ok()?;
        let mut node = Node::Table(self.doc.as_table());
        for (i, seg) in segments.iter().enumerate() {
            let (key, item) = node.get(seg)?;
            if i + 1 == segments.len() {
                return key.span().map(|s| line_col(self.text(), s.start).0);
            }
            node = match item {
                Item::Table(t) => Node::Table(t),
                Item::Value(Value::InlineTable(t)) => Node::Inline(t),
                _ => return None,
            };
        }
        None
    }

    /// The full new text with `key_path` set to `value`. Only the value changes if the key
    /// exists (its decoration, trailing comment and the lines around it stay); otherwise a
    /// line is inserted (see the module docs for where).
    pub fn set(&self, key_path: &str, value: &str) -> Result<String, TomlTargetError> {
        let segments = segments(key_path)?;
        let text = self.text();
        let encoded = encode_string(value);
        let new_text = match self.lookup(&segments)? {
            Lookup::Found { value: v, .. } => {
                let span = v
                    .span()
                    .ok_or_else(|| TomlTargetError::internal("a parsed value has no position"))?;
                splice(text, span, &encoded)
            }
            Lookup::Absent { chain } => self.insert(&segments, chain, &encoded)?,
        };
        self.verify(&new_text, &segments, Some(value))?;
        Ok(new_text)
    }

    /// The full new text without `key_path`: its line is removed (with its trailing comment;
    /// comment lines above it stay). Unchanged text if the key is absent.
    pub fn remove(&self, key_path: &str) -> Result<String, TomlTargetError> {
        let segments = segments(key_path)?;
        let text = self.text();
        let (key, value, chain) = match self.lookup(&segments)? {
            Lookup::Absent { .. } => return Ok(text.to_string()),
            Lookup::Found { key, value, chain } => (key, value, chain),
        };
        let (key_span, value_span) = key
            .span()
            .zip(value.span())
            .ok_or_else(|| TomlTargetError::internal("a parsed key has no position"))?;
        let parent = *chain.last().expect("the chain holds at least the root");
        let parent_kind = parent.kind(chain.len() == 1);
        let anchor_kind = chain
            .iter()
            .enumerate()
            .rev()
            .map(|(i, n)| n.kind(i == 0))
            .find(|k| *k != Kind::Dotted)
            .unwrap_or(Kind::Root);
        let new_text = if anchor_kind == Kind::Inline {
            if parent_kind != Kind::Inline {
                return Err(TomlTargetError::at(
                    text,
                    key_span.start,
                    format!("`{key_path}` is written as a dotted key inside an inline table"),
                    "keywarden does not remove such keys: remove it by hand",
                ));
            }
            // `{ a = 1, key = 'v', b = 2 }`: remove the entry and one comma next to it.
            let bytes = text.as_bytes();
            let mut end = value_span.end;
            let mut after = end;
            while after < bytes.len() && matches!(bytes[after], b' ' | b'\t') {
                after += 1;
            }
            let mut start = key_span.start;
            if after < bytes.len() && bytes[after] == b',' {
                end = after + 1;
                while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
                    end += 1;
                }
            } else {
                let mut before = start;
                while before > 0 && matches!(bytes[before - 1], b' ' | b'\t') {
                    before -= 1;
                }
                if before > 0 && bytes[before - 1] == b',' {
                    start = before - 1;
                }
            }
            splice(text, start..end, "")
        } else {
            // A key/value in a section owns whole lines: from its line's start to the end of
            // the line where the value ends (multi-line strings included).
            let start = line_start(text, key_span.start);
            let end = after_line(text, value_span.end).unwrap_or(text.len());
            splice(text, start..end, "")
        };
        self.verify(&new_text, &segments, None)?;
        Ok(new_text)
    }

    fn lookup(&self, segments: &[String]) -> Result<Lookup<'_>, TomlTargetError> {
        let text = self.text();
        let mut chain = vec![Node::Table(self.doc.as_table())];
        for (i, seg) in segments.iter().enumerate() {
            let node = *chain.last().expect("non-empty");
            let Some((key, item)) = node.get(seg) else {
                return Ok(Lookup::Absent { chain });
            };
            let here = key.span().map_or(0, |s| s.start);
            let shown = key_path_repr(&segments[..=i]);
            let last = i + 1 == segments.len();
            match item {
                Item::Value(Value::String(s)) if last => {
                    return Ok(Lookup::Found {
                        key,
                        value: s,
                        chain,
                    });
                }
                Item::Table(t) if !last => chain.push(Node::Table(t)),
                Item::Value(Value::InlineTable(t)) if !last => chain.push(Node::Inline(t)),
                Item::ArrayOfTables(_) => {
                    return Err(TomlTargetError::at(
                        text,
                        here,
                        format!(
                            "`{shown}` is an array of tables (`[[{shown}]]`), so keywarden cannot tell which entry holds the key"
                        ),
                        "use a plain table, or point the target's `key` at another path",
                    ));
                }
                other => {
                    let what = if last { "a string" } else { "a table" };
                    return Err(TomlTargetError::at(
                        text,
                        here,
                        format!("`{shown}` is {}, not {what}", type_phrase(other)),
                        if last {
                            "keywarden only manages string keys: fix or remove this entry by hand, or point the target's `key` elsewhere"
                        } else {
                            "keywarden never overwrites other data: rename this entry, or point the target's `key` elsewhere"
                        },
                    ));
                }
            }
        }
        Err(TomlTargetError::internal("an empty key path was looked up"))
    }

    /// Inserts `segments = encoded` where the module docs say; `chain` are the tables that
    /// exist on the way (root first).
    fn insert(
        &self,
        segments: &[String],
        chain: Vec<Node<'_>>,
        encoded: &str,
    ) -> Result<String, TomlTargetError> {
        let text = self.text();
        let eol = line_ending(text);
        let all_tables_exist = chain.len() == segments.len();
        let deepest = chain.len() - 1;
        let deepest_kind = chain[deepest].kind(deepest == 0);

        let new_section = |header: &[String]| -> String {
            let mut out = String::new();
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            if !body.is_empty() {
                if !text.ends_with('\n') {
                    out.push_str(eol);
                }
                if !(text.ends_with("\n\n") || text.ends_with("\n\r\n")) {
                    out.push_str(eol);
                }
            }
            out.push_str(&format!(
                "[{}]{eol}{} = {encoded}{eol}",
                key_path_repr(header),
                key_path_repr(&segments[segments.len() - 1..])
            ));
            format!("{text}{out}")
        };

        let parent_path = &segments[..segments.len() - 1];
        // Missing tables become a new `[section]` at the end, unless they hang off a dotted
        // or inline table, where a dotted key keeps to the style in use.
        if deepest_kind == Kind::Implicit
            || (!all_tables_exist && matches!(deepest_kind, Kind::Root | Kind::Header))
        {
            return Ok(new_section(parent_path));
        }

        // The anchor owns the text region we write in: the nearest table that is not dotted.
        let anchor = (0..=deepest)
            .rev()
            .find(|&i| chain[i].kind(i == 0) != Kind::Dotted)
            .unwrap_or(0);
        let anchor_kind = chain[anchor].kind(anchor == 0);
        let line = format!("{} = {encoded}", key_path_repr(&segments[anchor..]));

        if anchor_kind == Kind::Inline {
            let Node::Inline(t) = chain[anchor] else {
                unreachable!("kind Inline is an inline table")
            };
            return match chain[anchor].last_entry() {
                Some((end, _)) => Ok(splice(text, end..end, &format!(", {line}"))),
                None => {
                    let span = t.span().ok_or_else(|| {
                        TomlTargetError::internal("a parsed inline table has no position")
                    })?;
                    Ok(splice(text, span, &format!("{{ {line} }}")))
                }
            };
        }

        // The entry to write after: the dotted group's last line, else the anchor section's.
        let after = chain[deepest]
            .last_entry()
            .or_else(|| chain[anchor].last_entry());
        if let Some((end, key_start)) = after {
            let indent = indentation(text, key_start);
            return Ok(match after_line(text, end) {
                Some(at) => splice(text, at..at, &format!("{indent}{line}{eol}")),
                None => format!("{text}{eol}{indent}{line}"),
            });
        }
        match (anchor_kind, chain[anchor]) {
            (Kind::Header, Node::Table(t)) => {
                let header = t
                    .span()
                    .ok_or_else(|| TomlTargetError::internal("a parsed table has no position"))?;
                Ok(match after_line(text, header.end) {
                    Some(at) => splice(text, at..at, &format!("{line}{eol}")),
                    None => format!("{text}{eol}{line}"),
                })
            }
            _ => Ok(self.insert_in_empty_root(&line, eol)),
        }
    }

    /// A root key in a file whose root has no key/value yet: before the first table header
    /// and the comment lines attached to it (no blank line between), with a blank line after.
    fn insert_in_empty_root(&self, line: &str, eol: &str) -> String {
        let text = self.text();
        let first_header = self
            .doc
            .as_table()
            .iter()
            .filter_map(|(_, item)| header_start(item))
            .min();
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let Some(header) = first_header else {
            // No table at all: the end of the file is the root.
            let mut out = text.to_string();
            if out.len() > bom && !out.ends_with('\n') {
                out.push_str(eol);
            }
            out.push_str(line);
            out.push_str(eol);
            return out;
        };
        let mut at = line_start(text, header).max(bom);
        while at > bom {
            let prev = line_start(text, at - 1).max(bom);
            if text[prev..at].trim_start().starts_with('#') {
                at = prev;
            } else {
                break;
            }
        }
        splice(text, at..at, &format!("{line}{eol}{eol}"))
    }

    /// Refuses an edit unless the new text parses, holds `expected` at `segments` (absent for
    /// `None`), and every other value is unchanged.
    fn verify(
        &self,
        new_text: &str,
        segments: &[String],
        expected: Option<&str>,
    ) -> Result<(), TomlTargetError> {
        let new = TomlFile::parse(new_text)
            .map_err(|_| TomlTargetError::internal("the edited file would not parse"))?;
        let got = new
            .lookup(segments)
            .map_err(|_| TomlTargetError::internal("the edited key would not read back"))?;
        let got = match got {
            Lookup::Found { value, .. } => Some(value.value().as_str()),
            Lookup::Absent { .. } => None,
        };
        if got != expected {
            return Err(TomlTargetError::internal(
                "the edited key would not read back as written",
            ));
        }
        let others = |file: &TomlFile| {
            let mut out = Vec::new();
            flatten(file.text(), file.doc.as_item(), &mut Vec::new(), &mut out);
            out.retain(|(path, _)| !segments.starts_with(path));
            out
        };
        if others(self) != others(&new) {
            return Err(TomlTargetError::internal(
                "the edit would change other values in the file",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
