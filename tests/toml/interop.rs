//! Files written by `TomlFile::set` must read back identically with Python's `tomllib`
//! (TOML 1.0), the parser Streamlit's secrets loader uses.

use keywarden::keys::generate::{Charset, KeySpec, generate};
use keywarden::targets::toml::TomlFile;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use std::process::Command;

/// The test venv's Python (3.11+, so `tomllib`); `None` after a loud skip outside CI.
fn python_with_tomllib() -> Option<&'static std::path::Path> {
    crate::common::python("the interop with Python's tomllib")
}

/// Writes each text to a file and reads them all back with one python process (paths as
/// arguments, one JSON document per line): returns one JSON document per file.
fn read_with_tomllib(texts: &[String]) -> Vec<serde_json_lite::Json> {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let p = dir.path().join(format!("{i}.toml"));
        std::fs::write(&p, t).unwrap();
        paths.push(p);
    }
    let script = "import tomllib, sys, json\n\
                  for p in sys.argv[1:]:\n    \
                  with open(p, 'rb') as f:\n        data = tomllib.load(f)\n    \
                  print(json.dumps(data, ensure_ascii=True, default=str))";
    let python = python_with_tomllib().expect("checked by the caller");
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tomllib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json_lite::parse(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Just enough JSON to read tomllib's output (no serde_json in this crate's dev-deps).
mod serde_json_lite {
    #[derive(Debug, Clone, PartialEq)]
    pub enum Json {
        Null,
        Bool(bool),
        Num(String),
        Str(String),
        Arr(Vec<Json>),
        Obj(Vec<(String, Json)>),
    }

    impl Json {
        pub fn get(&self, key: &str) -> Option<&Json> {
            match self {
                Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }
        pub fn path(&self, path: &[&str]) -> Option<&Json> {
            path.iter().try_fold(self, |j, k| j.get(k))
        }
    }

    pub fn parse(s: &str) -> Result<Json, String> {
        let mut p = P {
            s: s.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err("trailing characters".into());
        }
        Ok(v)
    }

    struct P<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl P<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected `{}` at {}", c as char, self.i))
            }
        }
        fn value(&mut self) -> Result<Json, String> {
            self.ws();
            match self.s.get(self.i).copied() {
                Some(b'{') => {
                    self.i += 1;
                    let mut m = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Json::Obj(m));
                    }
                    loop {
                        self.ws();
                        let Json::Str(k) = self.value()? else {
                            return Err("key".into());
                        };
                        self.eat(b':')?;
                        m.push((k, self.value()?));
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Json::Obj(m));
                            }
                            _ => return Err("object".into()),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Json::Arr(a));
                    }
                    loop {
                        a.push(self.value()?);
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Json::Arr(a));
                            }
                            _ => return Err("array".into()),
                        }
                    }
                }
                Some(b'"') => {
                    self.i += 1;
                    let mut units: Vec<u16> = Vec::new();
                    loop {
                        let c = *self.s.get(self.i).ok_or("unterminated string")?;
                        self.i += 1;
                        match c {
                            b'"' => break,
                            b'\\' => {
                                let e = self.s[self.i];
                                self.i += 1;
                                match e {
                                    b'u' => {
                                        let h = std::str::from_utf8(&self.s[self.i..self.i + 4])
                                            .unwrap();
                                        units.push(
                                            u16::from_str_radix(h, 16)
                                                .map_err(|e| e.to_string())?,
                                        );
                                        self.i += 4;
                                    }
                                    b'n' => units.push(10),
                                    b't' => units.push(9),
                                    b'r' => units.push(13),
                                    b'b' => units.push(8),
                                    b'f' => units.push(12),
                                    c => units.push(c as u16),
                                }
                            }
                            c => units.push(c as u16), // ensure_ascii: ASCII only
                        }
                    }
                    String::from_utf16(&units)
                        .map(Json::Str)
                        .map_err(|e| e.to_string())
                }
                Some(_) => {
                    let start = self.i;
                    while self.i < self.s.len() && !b",]} ".contains(&self.s[self.i]) {
                        self.i += 1;
                    }
                    Ok(match &self.s[start..self.i] {
                        b"null" => Json::Null,
                        b"true" => Json::Bool(true),
                        b"false" => Json::Bool(false),
                        n => Json::Num(String::from_utf8_lossy(n).into_owned()),
                    })
                }
                None => Err("unexpected end".into()),
            }
        }
    }
}

use serde_json_lite::Json;

const BASE: &str = "# Streamlit secrets\n\
DEBUG = true # dev\n\
NAME = \"baguette \\\"metro\\\"\"\n\
\n\
[database]\n\
host = 'localhost'\n\
port = 5432\n\
\n\
[auth]\n\
client_id = \"abc\" # oauth\n";

/// Several hundred values: guide-charset keys, then arbitrary strings weighted towards
/// quotes, backslashes, newlines, control characters and non-ASCII.
fn values() -> Vec<String> {
    let mut out = Vec::new();
    for charset in Charset::ALL {
        for _ in 0..60 {
            let spec = KeySpec::new(charset, Some(64), None).unwrap();
            out.push(generate(&spec).unwrap().expose_secret().to_string());
        }
    }
    out.extend(
        [
            "",
            "'",
            "\"",
            "\\",
            "'''",
            "\"\"\"",
            "a'b\"c\\d",
            "\n",
            "\r\n",
            "line1\nline2",
            "\t",
            "\u{0}",
            "\u{7f}",
            "\u{1b}[31m",
            "é€😀",
            "\u{feff}",
            "\u{2028}",
            "# not a comment",
            "x = 1",
            "[auth]",
            "\\u0041",
            "\\n",
            " spaced ",
            "${HOME}",
        ]
        .map(String::from),
    );
    let strategy = proptest::collection::vec(
        proptest::prop_oneof![
            3 => proptest::char::any(),
            1 => proptest::sample::select(vec!['\'', '"', '\\', '\n', '\r', '\t', '\u{0}', '\u{7f}', 'é', '😀']),
        ],
        0..48,
    )
    .prop_map(|v| v.into_iter().collect::<String>());
    let mut runner = TestRunner::new(Config::default());
    for _ in 0..200 {
        out.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    out
}

#[test]
fn tomllib_reads_back_what_set_wrote() {
    if python_with_tomllib().is_none() {
        return;
    }
    let values = values();
    assert!(values.len() >= 400);
    // Each value in three places: an existing root key, a new key in [auth], a new table.
    let base = TomlFile::parse(BASE).unwrap();
    let mut texts = Vec::new();
    for v in &values {
        let t = base.set("NAME", v).unwrap();
        let t = TomlFile::parse(&t)
            .unwrap()
            .set("auth.secret_key", v)
            .unwrap();
        let t = TomlFile::parse(&t)
            .unwrap()
            .set("session.\"key.with.dots\"", v)
            .unwrap();
        texts.push(t);
    }
    let read = read_with_tomllib(&texts);
    assert_eq!(read.len(), values.len());
    let s = |x: &str| Json::Str(x.to_string());
    for (v, j) in values.iter().zip(&read) {
        assert_eq!(j.path(&["NAME"]), Some(&s(v)), "NAME: {v:?}");
        assert_eq!(
            j.path(&["auth", "secret_key"]),
            Some(&s(v)),
            "auth.secret_key: {v:?}"
        );
        assert_eq!(
            j.path(&["session", "key.with.dots"]),
            Some(&s(v)),
            "session: {v:?}"
        );
        // The other keys are untouched.
        assert_eq!(j.path(&["DEBUG"]), Some(&Json::Bool(true)));
        assert_eq!(j.path(&["database", "host"]), Some(&s("localhost")));
        assert_eq!(
            j.path(&["database", "port"]),
            Some(&Json::Num("5432".into()))
        );
        assert_eq!(j.path(&["auth", "client_id"]), Some(&s("abc")));
        let Some(Json::Obj(root)) = Some(j) else {
            panic!()
        };
        let keys: Vec<_> = root.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["DEBUG", "NAME", "database", "auth", "session"]);
    }
}

#[test]
fn tomllib_reads_crlf_and_insertions_in_every_layout() {
    if python_with_tomllib().is_none() {
        return;
    }
    let v = "k'\"\\\n😀";
    let cases = [
        ("a = 1\r\n[auth]\r\nx = 'y'\r\n", "auth.secret_key"),
        ("[auth.google]\nid = 'g'\n", "auth.secret_key"),
        ("auth = { id = 'g' }\n", "auth.secret_key"),
        ("auth = { id = 'g' }\n", "auth.sub.secret_key"),
        ("auth.id = 'g'\n[db]\nh = 1\n", "auth.secret_key"),
        ("auth.id = 'g'\n[db]\nh = 1\n", "auth.sub.secret_key"),
        ("# only a comment\n[db]\nh = 1\n", "SECRET_KEY"),
        ("[db]\nh = 1", "SECRET_KEY"),
        ("[db]\nh = 1", "db.SECRET_KEY"),
    ];
    let texts: Vec<String> = cases
        .iter()
        .map(|(t, k)| TomlFile::parse(t).unwrap().set(k, v).unwrap())
        .collect();
    let read = read_with_tomllib(&texts);
    for ((_, key), j) in cases.iter().zip(&read) {
        let path: Vec<&str> = key.split('.').collect();
        assert_eq!(j.path(&path), Some(&Json::Str(v.into())), "{key}");
    }
}

/// Issue 12, item 7: files that TOML 1.0 (and so Python's `tomllib`) rejects but toml_edit,
/// which reads TOML 1.1, accepted. `tests/fixtures/toml/invalid/` holds toml-test's
/// (github.com/toml-lang/toml-test, `tests/invalid/`): every file its `files-toml-1.0.0`
/// lists, named `dir--file.toml` (see `tests/fixtures/toml/toml-test.md`), and keywarden's
/// own (`keywarden--*.toml`). tomllib must reject each, and keywarden must accept
/// none of them.
#[test]
fn no_file_tomllib_rejects_is_accepted() {
    let Some(python) = python_with_tomllib() else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/toml/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 500, "the corpus is missing");
    let script = "import tomllib, sys\n\
                  for p in sys.argv[1:]:\n    \
                  try:\n        tomllib.load(open(p, 'rb')); print('accepted', p)\n    \
                  except Exception:\n        pass";
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success());
    let tomllib_accepts = String::from_utf8(out.stdout).unwrap();
    assert_eq!(tomllib_accepts, "", "the corpus holds files tomllib reads");
    let mut accepted = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        // keywarden reads text only: non-UTF-8 is refused before TOML parsing.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        match TomlFile::parse(&text) {
            Ok(_) => accepted.push(f.file_name().unwrap().to_string_lossy().into_owned()),
            Err(e) => assert!(e.line > 0, "{}: no line in {e}", f.display()),
        }
    }
    eprintln!(
        "toml invalid corpus: {} files, {} accepted",
        files.len(),
        accepted.len()
    );
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
}
