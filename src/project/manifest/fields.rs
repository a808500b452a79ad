//! The manifest reader's small tools: typed field access that reports the line and column
//! of a wrong value, unknown-field checks with suggestions, and name and path rules.

use super::*;

impl Parser<'_> {
    pub(super) fn check_fields(&self, t: &Table<'_>, allowed: &[&str], ctx: &str) -> Result<()> {
        for (k, _) in t.iter() {
            let name: &str = k.get_ref();
            if !allowed.contains(&name) {
                let hint = match suggest(name, allowed) {
                    Some(s) => format!("did you mean `{s}`? Otherwise remove the field"),
                    None => "remove the field, or check its spelling".to_string(),
                };
                return Err(self.err(
                    k.span().start,
                    format!(
                        "unknown field `{name}` {ctx}; expected one of {}",
                        allowed.join(", ")
                    ),
                    hint,
                ));
            }
        }
        Ok(())
    }

    pub(super) fn table<'t, 'i>(
        &self,
        item: &'t Item<'i>,
        what: &str,
        example: &str,
    ) -> Result<&'t Table<'i>> {
        item.get_ref().as_table().ok_or_else(|| {
            self.type_error(
                item,
                what.trim_matches('`'),
                &format!("a table ({example})"),
            )
        })
    }

    /// An array of tables: `[[name]]` sections or an array of inline tables.
    pub(super) fn array_of_tables<'t, 'i>(
        &self,
        item: &'t Item<'i>,
        name: &str,
    ) -> Result<Vec<(usize, &'t Table<'i>)>> {
        let Some(array) = item.get_ref().as_array() else {
            return Err(self.type_error(
                item,
                name,
                &format!("an array of tables ([[{name}]] or {name} = [{{ ... }}])"),
            ));
        };
        array
            .iter()
            .map(|v| match v.get_ref() {
                DeValue::Table(t) => Ok((v.span().start, t)),
                _ => Err(self.err(
                    v.span().start,
                    format!(
                        "each entry of `{name}` must be a table, found {}",
                        self.value_type(v)
                    ),
                    format!("write entries as {{ ... }} (or use [[{name}]] sections)"),
                )),
            })
            .collect()
    }

    pub(super) fn string(&self, t: &Table<'_>, name: &str) -> Result<Option<(String, usize)>> {
        match t.get(name) {
            None => Ok(None),
            Some(item) => match item.get_ref().as_str() {
                Some(s) => Ok(Some((s.to_string(), item.span().start))),
                None => Err(self.type_error(item, name, "a string")),
            },
        }
    }

    pub(super) fn command(&self, t: &Table<'_>, name: &str) -> Result<Option<String>> {
        match self.string(t, name)? {
            Some((s, pos)) if s.trim().is_empty() => Err(self.err(
                pos,
                format!("`{name}` is empty"),
                format!("remove `{name}`, or give the shell command to run"),
            )),
            other => Ok(other.map(|(s, _)| s)),
        }
    }

    pub(super) fn int(&self, item: &Item<'_>, name: &str, min: i64, max: i64) -> Result<i64> {
        let Some(i) = item.get_ref().as_integer() else {
            return Err(self.type_error(item, name, "a whole number"));
        };
        // TOML integers are 64-bit; a longer one is out of range like any other.
        let n = i64::from_str_radix(i.as_str(), i.radix());
        match n {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.err(
                item.span().start,
                format!(
                    "`{name}` must be between {min} and {max}, found {}",
                    n.map_or_else(|_| self.text[item.span()].to_string(), |n| n.to_string())
                ),
                format!("set `{name}` to a value from {min} to {max}"),
            )),
        }
    }

    /// A key value where a key *name* belongs. The value is not repeated: the manifest is
    /// committed, and an error message may end up in a log.
    pub(super) fn pasted_key(&self, pos: usize, field: &str) -> ManifestError {
        self.err(
            pos,
            format!("`{field}` looks like a key value, not a name (value not shown)"),
            format!(
                "keys never go in keywarden.toml: `{field}` names where the key lives (e.g. SECRET_KEY or auth.secret_key). \
                 If this is a real key, it may already be in version control: remove it and rotate the key"
            ),
        )
    }

    pub(super) fn type_error(&self, item: &Item<'_>, name: &str, expected: &str) -> ManifestError {
        self.err(
            item.span().start,
            format!(
                "`{name}` must be {expected}, found {}",
                self.value_type(item)
            ),
            format!("write `{name}` as {expected}"),
        )
    }
}

/// The start of a table key's name, or `or` when the table lacks it.
pub(super) fn key_start(t: &Table<'_>, name: &str, or: usize) -> usize {
    t.get_key_value(name).map_or(or, |(k, _)| k.span().start)
}

/// The start of a field's value, or `or` when the table lacks it.
pub(super) fn value_start(t: &Table<'_>, name: &str, or: usize) -> usize {
    t.get(name).map_or(or, |v| v.span().start)
}

impl Parser<'_> {
    /// What `item` is, for a type error: as the file writes it (`[[name]]` sections are an
    /// array of tables; `name = [{ … }]` is an array).
    pub(super) fn value_type(&self, item: &Item<'_>) -> &'static str {
        match item.get_ref() {
            DeValue::String(_) => "a string",
            DeValue::Integer(_) => "an integer",
            DeValue::Float(_) => "a float",
            DeValue::Boolean(_) => "a boolean",
            DeValue::Datetime(_) => "a date-time",
            DeValue::Array(_) if self.is_sections(item) => "an array of tables",
            DeValue::Array(_) => "an array",
            DeValue::Table(_) => "a table",
        }
    }

    /// Whether `item` is written as `[[name]]` sections: an array whose entries are tables
    /// starting at a header, not inline (`{`).
    pub(super) fn is_sections(&self, item: &Item<'_>) -> bool {
        item.get_ref().as_array().is_some_and(|a| {
            a.first().is_some_and(|first| {
                first.get_ref().is_table()
                    && self
                        .text
                        .get(first.span().start..)
                        .is_some_and(|t| t.starts_with('['))
            })
        })
    }
}

/// Whether a would-be name is more likely a pasted key: long, or with characters that no
/// variable or TOML key name has (quotes aside, for quoted TOML segments).
pub(super) fn looks_like_a_key(s: &str) -> bool {
    s.chars().count() >= 24
        || s.chars().any(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'' | ' '))
        })
}

pub(super) fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `a/./b/../c` → `a/c`, for comparing target locations (paths are known not to escape).
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

/// The allowed name closest to `field`, if it is a plausible typo.
pub(super) fn suggest<'f>(field: &str, allowed: &[&'f str]) -> Option<&'f str> {
    allowed
        .iter()
        .map(|a| (edit_distance(field, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4) || a.starts_with(field) || field.starts_with(a))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}
