//! Byte-exact fixtures and property tests for `target::toml`.

use keywarden::targets::toml::{TomlFile, TomlTargetError};
use proptest::prelude::*;
use std::path::Path;

const GUIDE_VALUE: &str = "N3w!@#$%^&*()_+-=[]{}|;:,.<>?key";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/toml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (input fixture, key path, value, expected fixture)
const SET_CASES: &[(&str, &str, &str, &str)] = &[
    (
        "streamlit.toml",
        "SECRET_KEY",
        GUIDE_VALUE,
        "streamlit.root.expected.toml",
    ),
    (
        "streamlit.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "streamlit.auth.expected.toml",
    ),
    (
        "absent_root.toml",
        "SECRET_KEY",
        GUIDE_VALUE,
        "absent_root.expected.toml",
    ),
    (
        "absent_root_after_keys.toml",
        "SECRET_KEY",
        GUIDE_VALUE,
        "absent_root_after_keys.expected.toml",
    ),
    (
        "absent_in_auth.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "absent_in_auth.expected.toml",
    ),
    (
        "empty_auth.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "empty_auth.expected.toml",
    ),
    (
        "absent_table.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "absent_table.expected.toml",
    ),
    (
        "inline.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "inline.expected.toml",
    ),
    (
        "inline_existing.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "inline_existing.expected.toml",
    ),
    (
        "dotted.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "dotted.expected.toml",
    ),
    (
        "indented.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "indented.expected.toml",
    ),
    (
        "implicit.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "implicit.expected.toml",
    ),
    (
        "no_final_newline.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "no_final_newline.expected.toml",
    ),
    (
        "multiline_existing.toml",
        "SECRET_KEY",
        GUIDE_VALUE,
        "multiline_existing.expected.toml",
    ),
    (
        "empty.toml",
        "SECRET_KEY",
        GUIDE_VALUE,
        "empty.expected.toml",
    ),
    (
        "crlf.toml",
        "SECRET_KEY",
        GUIDE_VALUE,
        "crlf.root.expected.toml",
    ),
    (
        "crlf.toml",
        "auth.secret_key",
        GUIDE_VALUE,
        "crlf.auth.expected.toml",
    ),
    (
        "crlf.toml",
        "session.secret_key",
        GUIDE_VALUE,
        "crlf_new_table.expected.toml",
    ),
    (
        "escaped.toml",
        "auth.secret_key",
        "it's \"q\" \\ \n é",
        "escaped.expected.toml",
    ),
];

#[test]
fn set_matches_the_expected_bytes() {
    for &(input, key, value, expected) in SET_CASES {
        let file = TomlFile::parse(&fixture(input)).unwrap_or_else(|e| panic!("{input}: {e}"));
        let got = file
            .set(key, value)
            .unwrap_or_else(|e| panic!("{input} {key}: {e}"));
        assert_eq!(got, fixture(expected), "{input} set {key}");
        let back = TomlFile::parse(&got).unwrap();
        assert_eq!(
            back.get(key).unwrap().as_deref(),
            Some(value),
            "{input} {key}"
        );
        // Setting the same value again is a no-op, and remove undoes an insertion's key.
        assert_eq!(
            back.set(key, value).unwrap(),
            got,
            "{input} {key} idempotent"
        );
    }
}

#[test]
fn get_and_line_of() {
    let file = TomlFile::parse(&fixture("streamlit.toml")).unwrap();
    assert_eq!(
        file.get("SECRET_KEY").unwrap().as_deref(),
        Some("old-key-value")
    );
    assert_eq!(
        file.get("auth.secret_key").unwrap().as_deref(),
        Some("old-auth-secret")
    );
    assert_eq!(file.get("auth.missing").unwrap(), None);
    assert_eq!(file.get("nope.secret_key").unwrap(), None);
    assert_eq!(file.line_of("SECRET_KEY"), Some(5));
    assert_eq!(file.line_of("auth.secret_key"), Some(16));
    assert_eq!(file.line_of("auth.missing"), None);
    let err = file.get("DEBUG").unwrap_err();
    assert_eq!((err.line, err.column), (7, 1));
    assert!(
        err.message.contains("`DEBUG` is a boolean, not a string"),
        "{err}"
    );
    let err = file.get("database.host.x").unwrap_err();
    assert_eq!((err.line, err.column), (10, 1));
    assert!(
        err.message
            .contains("`database.host` is a string, not a table"),
        "{err}"
    );
    // tomllib rejects a byte-order mark: the file is refused, at line 1, for reading and
    // so for writing (issue 12, item 7).
    for bom in ["bom_existing.toml", "bom.toml"] {
        let err = err_of(TomlFile::parse(&fixture(bom)));
        assert_eq!(err.line, 1, "{bom}");
        assert!(err.message.contains("byte-order mark"), "{err}");
    }
}

fn err_of(r: Result<impl std::fmt::Debug, TomlTargetError>) -> TomlTargetError {
    r.expect_err("expected an error")
}

#[test]
fn malformed_and_refused_files() {
    let e = err_of(TomlFile::parse(&fixture("bad_unclosed.toml")));
    assert_eq!((e.line, e.column), (2, 18), "{e}");
    assert!(e.message.starts_with("invalid TOML"), "{e}");
    assert!(!e.to_string().contains("abc"), "never echo values: {e}");
    let e = err_of(TomlFile::parse(&fixture("bad_duplicate.toml")));
    assert_eq!((e.line, e.column), (2, 1), "{e}");
    assert!(e.message.contains("duplicate key"), "{e}");

    let f = TomlFile::parse(&fixture("bad_not_string.toml")).unwrap();
    let e = err_of(f.set("SECRET_KEY", "v"));
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("is an integer, not a string"), "{e}");
    assert!(!e.to_string().contains("42"));
    let f = TomlFile::parse(&fixture("bad_array_of_tables.toml")).unwrap();
    let e = err_of(f.set("auth.secret_key", "v"));
    assert_eq!((e.line, e.column), (2, 3));
    assert!(e.message.contains("array of tables"), "{e}");
    let f = TomlFile::parse(&fixture("bad_intermediate.toml")).unwrap();
    let e = err_of(f.set("auth.secret_key", "v"));
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("`auth` is a string, not a table"), "{e}");
    assert!(!e.to_string().contains("not a table\""));
    let e = err_of(f.set("auth..x", "v"));
    assert_eq!(e.line, 0);
    assert!(e.message.contains("not a valid TOML key path"), "{e}");
    assert_eq!(e.to_string().lines().count(), 2, "message then hint: {e}");
}

#[test]
fn remove_takes_the_line_and_keeps_the_rest() {
    let text = fixture("streamlit.toml");
    let f = TomlFile::parse(&text).unwrap();
    let out = f.remove("auth.secret_key").unwrap();
    assert_eq!(
        out,
        text.replace(
            "secret_key = 'old-auth-secret'   # app session signing\n",
            ""
        )
    );
    assert_eq!(f.remove("auth.absent").unwrap(), text);
    let f = TomlFile::parse("a = { x = 1, secret_key = 'v', y = 2 }\nb = { secret_key = 'v' }\n")
        .unwrap();
    let out = f.remove("a.secret_key").unwrap();
    assert_eq!(out, "a = { x = 1, y = 2 }\nb = { secret_key = 'v' }\n");
    let out = TomlFile::parse(&out)
        .unwrap()
        .remove("b.secret_key")
        .unwrap();
    assert_eq!(out, "a = { x = 1, y = 2 }\nb = {  }\n");
    let f = TomlFile::parse(&fixture("crlf.toml")).unwrap();
    assert_eq!(
        f.remove("SECRET_KEY").unwrap(),
        "# CRLF file\r\n\r\n[auth]\r\nclient_id = \"a\"\r\n"
    );
    // Insert then remove is the identity for a key added to an existing section.
    for (input, key) in [
        ("absent_in_auth.toml", "auth.secret_key"),
        ("dotted.toml", "auth.secret_key"),
    ] {
        let text = fixture(input);
        let set = TomlFile::parse(&text).unwrap().set(key, "v").unwrap();
        assert_eq!(TomlFile::parse(&set).unwrap().remove(key).unwrap(), text);
    }
}

#[test]
fn debug_never_prints_the_text() {
    let f = TomlFile::parse("SECRET_KEY = 'hunter2'\n").unwrap();
    assert!(!format!("{f:?}").contains("hunter2"));
}

// ---------------------------------------------------------------------------------------
// Property test: random documents, random values.

#[derive(Debug, Clone)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Arr(Vec<i64>),
    Inline(i64),
}

#[derive(Debug, Clone)]
struct Kv {
    key: &'static str,
    val: Val,
    above: Option<String>,
    trailing: Option<String>,
}

#[derive(Debug, Clone)]
struct Doc {
    header: Option<String>,
    root: Vec<Kv>,
    tables: Vec<(&'static str, Option<String>, Vec<Kv>)>,
    crlf: bool,
    final_newline: bool,
}

const KEYS: &[&str] = &[
    "SECRET_KEY",
    "secret_key",
    "client_id",
    "port",
    "DEBUG",
    "x-y",
];
const TABLES: &[&str] = &["auth", "database", "auth.google", "session", "\"my.table\""];

fn comment() -> impl Strategy<Value = String> {
    "[ -~é€]{0,20}".prop_map(|s| format!("# {s}"))
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        "[ -~é\n\"'\\\\]{0,12}".prop_map(Val::Str),
        any::<i64>().prop_map(Val::Int),
        any::<bool>().prop_map(Val::Bool),
        prop::collection::vec(any::<i64>(), 0..3).prop_map(Val::Arr),
        any::<i64>().prop_map(Val::Inline),
    ]
}

fn kvs() -> impl Strategy<Value = Vec<Kv>> {
    prop::collection::vec(
        (
            prop::sample::select(KEYS),
            val(),
            prop::option::of(comment()),
            prop::option::of(comment()),
        ),
        0..5,
    )
    .prop_map(|v| {
        let mut seen = std::collections::HashSet::new();
        v.into_iter()
            .filter(|(k, ..)| seen.insert(*k))
            .map(|(key, val, above, trailing)| Kv {
                key,
                val,
                above,
                trailing,
            })
            .collect()
    })
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        prop::option::of(comment()),
        kvs(),
        prop::collection::vec(
            (
                prop::sample::select(TABLES),
                prop::option::of(comment()),
                kvs(),
            ),
            0..4,
        ),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(header, root, tables, crlf, final_newline)| {
            let mut seen = std::collections::HashSet::new();
            let tables = tables
                .into_iter()
                .filter(|(t, ..)| seen.insert(*t))
                .collect();
            Doc {
                header,
                root,
                tables,
                crlf,
                final_newline,
            }
        })
}

fn render_val(v: &Val) -> String {
    match v {
        Val::Str(s) => toml_edit::Value::from(s.as_str()).to_string(),
        Val::Int(i) => i.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Arr(a) => format!("{a:?}"),
        Val::Inline(i) => format!("{{ p = {i}, q.r = \"s\" }}"),
    }
}

impl Doc {
    fn render(&self) -> String {
        let mut lines = Vec::new();
        let kv_lines = |lines: &mut Vec<String>, kvs: &[Kv]| {
            for kv in kvs {
                lines.extend(kv.above.clone());
                let mut l = format!("{} = {}", kv.key, render_val(&kv.val));
                if let Some(c) = &kv.trailing {
                    l.push_str(&format!("  {c}"));
                }
                lines.push(l);
            }
        };
        lines.extend(self.header.clone());
        kv_lines(&mut lines, &self.root);
        for (name, above, kvs) in &self.tables {
            lines.push(String::new());
            lines.extend(above.clone());
            lines.push(format!("[{name}]"));
            kv_lines(&mut lines, kvs);
        }
        let eol = if self.crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(eol);
        if self.final_newline && !text.is_empty() {
            text.push_str(eol);
        }
        text
    }

    /// Every key path in the document, as TOML key path text.
    fn paths(&self) -> Vec<String> {
        let mut out: Vec<String> = self.root.iter().map(|kv| kv.key.to_string()).collect();
        for (t, _, kvs) in &self.tables {
            out.extend(kvs.iter().map(|kv| format!("{t}.{}", kv.key)));
        }
        out
    }
}

fn canon(doc: &toml_edit::DocumentMut, path: &str) -> Option<String> {
    let mut item = doc.as_item();
    for seg in toml_edit::Key::parse(path).unwrap() {
        item = item.get(seg.get())?;
    }
    if let Some(s) = item.as_str() {
        return Some(format!("s:{s}"));
    }
    let mut v = item.as_value()?.clone();
    v.decor_mut().clear();
    Some(v.to_string())
}

fn value_chars() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            1 => prop::sample::select(vec!['\'', '"', '\\', '\n', '\r', '\t', ' ', '#', '=']),
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn set_changes_only_the_key(
        doc in doc(),
        table in prop::option::of(prop::sample::select(TABLES)),
        key in prop::sample::select(KEYS),
        value in value_chars(),
    ) {
        let text = doc.render();
        let path = match table { Some(t) => format!("{t}.{key}"), None => key.to_string() };
        let file = TomlFile::parse(&text).expect("generated documents are valid");
        let before: toml_edit::DocumentMut = text.parse().unwrap();
        let existing = canon(&before, &path);
        let new = match file.set(&path, &value) {
            Ok(new) => new,
            Err(e) => {
                // Only a non-string at the path is refused.
                prop_assert!(existing.is_some() && !existing.as_ref().unwrap().starts_with("s:"), "{e}");
                return Ok(());
            }
        };
        let after: toml_edit::DocumentMut = new.parse().expect("the edit parses");
        prop_assert_eq!(canon(&after, &path), Some(format!("s:{value}")));
        for other in doc.paths().iter().filter(|p| **p != path) {
            prop_assert_eq!(canon(&before, other), canon(&after, other), "{}", other);
        }
        // The text outside the changed line(s) is identical.
        let prefix = text.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
        let max_suffix = text.len().min(new.len()) - prefix;
        let suffix = text.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
        let changed_old = prefix..text.len() - suffix;
        if existing.is_some() {
            let line = file.line_of(&path).unwrap();
            let first_changed_line = text[..changed_old.start].matches('\n').count() + 1;
            prop_assert!(first_changed_line >= line);
            // Nothing after the key's (possibly multi-line) value changed.
            let old_value_lines = match &file.get(&path).unwrap() { Some(v) => v.matches('\n').count() + 2, None => 1 };
            let last_changed_line = text[..changed_old.end].matches('\n').count() + 1;
            prop_assert!(last_changed_line <= line + old_value_lines);
        } else {
            prop_assert!(changed_old.is_empty(), "an insertion only adds text");
        }
    }
}
