//! Walking the document to a key: the tables on the way (standard, inline, dotted) and
//! what the walk found.

use super::*;

/// A table on the way to a key.
#[derive(Clone, Copy)]
pub(super) enum Node<'a> {
    Table(&'a Table),
    Inline(&'a InlineTable),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Root,
    /// `[header]` section.
    Header,
    /// Created by a dotted key (`a.b = 1` makes `a` dotted), in a table or inline table.
    Dotted,
    /// Only implied by a deeper header (`[a.b]` without `[a]`).
    Implicit,
    /// `{ ... }`
    Inline,
}

impl<'a> Node<'a> {
    pub(super) fn get(self, key: &str) -> Option<(&'a Key, &'a Item)> {
        match self {
            Node::Table(t) => t.get_key_value(key),
            Node::Inline(t) => t.get_key_value(key),
        }
    }

    pub(super) fn kind(self, is_root: bool) -> Kind {
        match self {
            _ if is_root => Kind::Root,
            Node::Table(t) if t.is_dotted() => Kind::Dotted,
            Node::Table(t) if t.is_implicit() => Kind::Implicit,
            Node::Table(_) => Kind::Header,
            Node::Inline(t) if t.is_dotted() => Kind::Dotted,
            Node::Inline(_) => Kind::Inline,
        }
    }

    /// The last key/value written in this table's own region (not in sub-sections):
    /// `(end of the value, start of its key)`.
    pub(super) fn last_entry(self) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        let mut consider = |e: Option<(usize, usize)>| {
            if let Some(e) = e
                && best.is_none_or(|b| e.0 > b.0)
            {
                best = Some(e);
            }
        };
        match self {
            Node::Table(t) => {
                for (k, item) in t.iter() {
                    let key_start = t.key(k).and_then(Key::span).map(|s| s.start);
                    match item {
                        Item::Value(v) => consider(v.span().map(|s| s.end).zip(key_start)),
                        Item::Table(sub) if sub.is_dotted() => {
                            consider(Node::Table(sub).last_entry())
                        }
                        _ => {}
                    }
                }
            }
            Node::Inline(t) => {
                for (k, v) in t.iter() {
                    let key_start = t.key(k).and_then(Key::span).map(|s| s.start);
                    match v {
                        Value::InlineTable(sub) if sub.is_dotted() => {
                            consider(Node::Inline(sub).last_entry())
                        }
                        v => consider(v.span().map(|s| s.end).zip(key_start)),
                    }
                }
            }
        }
        best
    }
}

/// What walking a key path found.
pub(super) enum Lookup<'a> {
    Found {
        key: &'a Key,
        value: &'a toml_edit::Formatted<String>,
        /// The tables from the root down to the key's table.
        chain: Vec<Node<'a>>,
    },
    Absent {
        /// The tables that exist, from the root down (at most `segments.len()`).
        chain: Vec<Node<'a>>,
    },
}

pub(super) fn segments(key_path: &str) -> Result<Vec<String>, TomlTargetError> {
    parse_key_path(key_path).map_err(|e| {
        TomlTargetError::nowhere(
            e,
            "fix the target's `key` in keywarden.toml (e.g. `auth.secret_key`)",
        )
    })
}

/// Every table and value under `item`, as `(path, canonical text)`, in a stable order.
/// Strings compare by value, other scalars by their source text; tables are listed too, so
/// that an emptied or vanished table is noticed.
pub(super) fn flatten(
    text: &str,
    item: &Item,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    match item {
        Item::None => {}
        Item::Value(v) => flatten_value(text, v, path, out),
        Item::Table(t) => {
            out.push((path.clone(), "{table}".to_string()));
            let mut keys: Vec<_> = t.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            for (k, it) in keys {
                path.push(k.to_string());
                flatten(text, it, path, out);
                path.pop();
            }
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                path.push(format!("[{i}]"));
                flatten(text, &Item::Table(t.clone()), path, out);
                path.pop();
            }
        }
    }
}

pub(super) fn flatten_value(
    text: &str,
    v: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    match v {
        Value::String(s) => out.push((path.clone(), format!("string:{}", s.value()))),
        Value::Array(a) => {
            out.push((path.clone(), "{array}".to_string()));
            for (i, v) in a.iter().enumerate() {
                path.push(format!("[{i}]"));
                flatten_value(text, v, path, out);
                path.pop();
            }
        }
        Value::InlineTable(t) => {
            out.push((path.clone(), "{table}".to_string()));
            let mut keys: Vec<_> = t.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in keys {
                path.push(k.to_string());
                flatten_value(text, v, path, out);
                path.pop();
            }
        }
        other => {
            let raw = other.span().and_then(|s| text.get(s)).unwrap_or_default();
            out.push((path.clone(), format!("{}:{raw}", other.type_name())));
        }
    }
}

pub(super) fn type_phrase(item: &Item) -> String {
    let name = match item {
        Item::Value(v) => v.type_name(),
        Item::Table(_) => "table",
        Item::ArrayOfTables(_) => "array of tables",
        Item::None => "nothing",
    };
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// Where the first `[header]` / `[[header]]` under `item` starts (explicit headers only).
pub(super) fn header_start(item: &Item) -> Option<usize> {
    match item {
        Item::Table(t) => {
            let own = (!t.is_dotted() && !t.is_implicit())
                .then(|| t.span().map(|s| s.start))
                .flatten();
            t.iter()
                .filter_map(|(_, it)| header_start(it))
                .chain(own)
                .min()
        }
        Item::ArrayOfTables(a) => a.iter().filter_map(|t| t.span().map(|s| s.start)).min(),
        _ => None,
    }
}

pub(super) fn splice(text: &str, range: Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..range.start]);
    out.push_str(with);
    out.push_str(&text[range.end..]);
    out
}

/// The file's line ending, from its first line: CRLF files get CRLF lines.
pub(super) fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

pub(super) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset just after the newline ending the line that holds `pos`.
pub(super) fn after_line(text: &str, pos: usize) -> Option<usize> {
    text[pos..].find('\n').map(|i| pos + i + 1)
}

pub(super) fn indentation(text: &str, pos: usize) -> &str {
    let start = line_start(text, pos);
    let line = &text[start..];
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    let n = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..n]
}
