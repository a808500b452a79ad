//! The manifest reader's small tools: typed field access that reports the line and column
//! of a wrong value, unknown-field checks with suggestions, and name and path rules.

use super::*;

impl Parser<'_> {
    pub(super) fn check_fields(
        &self,
        t: &dyn TableLike,
        allowed: &[&str],
        ctx: &str,
    ) -> Result<()> {
        for (k, _) in t.iter() {
            if !allowed.contains(&k) {
                let pos = t.key(k).and_then(|k| k.span()).map_or(0, |s| s.start);
                let hint = match suggest(k, allowed) {
                    Some(s) => format!("did you mean `{s}`? Otherwise remove the field"),
                    None => "remove the field, or check its spelling".to_string(),
                };
                return Err(self.err(
                    pos,
                    format!(
                        "unknown field `{k}` {ctx}; expected one of {}",
                        allowed.join(", ")
                    ),
                    hint,
                ));
            }
        }
        Ok(())
    }

    pub(super) fn table<'t>(
        &self,
        item: &'t Item,
        what: &str,
        example: &str,
    ) -> Result<&'t dyn TableLike> {
        item.as_table_like().ok_or_else(|| {
            self.type_error(
                item,
                what.trim_matches('`'),
                &format!("a table ({example})"),
            )
        })
    }

    /// An array of tables: `[[name]]` sections or an array of inline tables.
    pub(super) fn array_of_tables<'t>(
        &self,
        item: &'t Item,
        name: &str,
    ) -> Result<Vec<(usize, &'t dyn TableLike)>> {
        match item {
            Item::ArrayOfTables(a) => Ok(a
                .iter()
                .map(|t| (t.span().map_or(0, |s| s.start), t as &dyn TableLike))
                .collect()),
            Item::Value(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::InlineTable(t) => {
                        Ok((t.span().map_or(0, |s| s.start), t as &dyn TableLike))
                    }
                    other => Err(self.err(
                        other.span().map_or(0, |s| s.start),
                        format!(
                            "each entry of `{name}` must be a table, found {}",
                            value_type(other)
                        ),
                        format!("write entries as {{ ... }} (or use [[{name}]] sections)"),
                    )),
                })
                .collect(),
            other => Err(self.type_error(
                other,
                name,
                &format!("an array of tables ([[{name}]] or {name} = [{{ ... }}])"),
            )),
        }
    }

    pub(super) fn string(&self, t: &dyn TableLike, name: &str) -> Result<Option<(String, usize)>> {
        match t.get(name) {
            None => Ok(None),
            Some(item) => match item.as_str() {
                Some(s) => Ok(Some((s.to_string(), span_start(item)))),
                None => Err(self.type_error(item, name, "a string")),
            },
        }
    }

    pub(super) fn command(&self, t: &dyn TableLike, name: &str) -> Result<Option<String>> {
        match self.string(t, name)? {
            Some((s, pos)) if s.trim().is_empty() => Err(self.err(
                pos,
                format!("`{name}` is empty"),
                format!("remove `{name}`, or give the shell command to run"),
            )),
            other => Ok(other.map(|(s, _)| s)),
        }
    }

    pub(super) fn int(&self, item: &Item, name: &str, min: i64, max: i64) -> Result<i64> {
        let Some(n) = item.as_integer() else {
            return Err(self.type_error(item, name, "a whole number"));
        };
        if n < min || n > max {
            return Err(self.err(
                span_start(item),
                format!("`{name}` must be between {min} and {max}, found {n}"),
                format!("set `{name}` to a value from {min} to {max}"),
            ));
        }
        Ok(n)
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

    pub(super) fn type_error(&self, item: &Item, name: &str, expected: &str) -> ManifestError {
        let found = match item {
            Item::Value(v) => value_type(v),
            Item::Table(_) => "a table".to_string(),
            Item::ArrayOfTables(_) => "an array of tables".to_string(),
            Item::None => "nothing".to_string(),
        };
        self.err(
            span_start(item),
            format!("`{name}` must be {expected}, found {found}"),
            format!("write `{name}` as {expected}"),
        )
    }
}

pub(super) fn span_start(item: &Item) -> usize {
    item.span().map_or(0, |s| s.start)
}

pub(super) fn value_type(v: &Value) -> String {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
    .to_string()
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
