use super::*;

#[test]
fn encoding_decision() {
    assert_eq!(encode_string("abc!@#$%^&*()"), "'abc!@#$%^&*()'");
    assert_eq!(encode_string(""), "''");
    assert_eq!(encode_string("it's"), "\"it's\"");
    assert_eq!(encode_string("a\"b\\c"), "'a\"b\\c'");
    assert_eq!(encode_string("a'\"\\"), "\"a'\\\"\\\\\"");
    assert_eq!(encode_string("l1\nl2\tx"), "\"l1\\nl2\\tx\"");
    assert_eq!(
        encode_string("\u{0}\u{7f}\u{1b}"),
        "\"\\u0000\\u007F\\u001B\""
    );
    assert_eq!(encode_string("é€😀"), "'é€😀'");
}

#[test]
fn line_col_counts_characters_and_skips_bom() {
    assert_eq!(line_col("ab\ncé d", 7), (2, 4));
    assert_eq!(line_col("\u{feff}a = 1", 3), (1, 1));
    assert_eq!(line_col("x", 99), (1, 2));
}

#[test]
fn key_paths() {
    assert_eq!(
        parse_key_path("auth.secret_key").unwrap(),
        ["auth", "secret_key"]
    );
    assert_eq!(parse_key_path("\"a.b\".c").unwrap(), ["a.b", "c"]);
    assert!(parse_key_path("a..b").is_err());
    assert!(parse_key_path("").is_err());
    assert!(parse_key_path(".a").is_err());
    assert_eq!(key_path_repr(&["a.b".into(), "c".into()]), "\"a.b\".c");
}

/// The bare-key shortcut gives what the parse gives, for every bare key and nothing else.
#[test]
fn a_bare_key_path_is_the_parse_of_it() {
    let parsed = |k: &str| -> Vec<String> {
        toml_edit::Key::parse(k)
            .unwrap()
            .iter()
            .map(|k| k.get().to_string())
            .collect()
    };
    for k in [
        "SECRET_KEY",
        "a",
        "1",
        "-",
        "_",
        "a-b_C9",
        "0x1F",
        "1e5",
        "true",
        "inf",
    ] {
        assert_eq!(parse_key_path(k).unwrap(), parsed(k), "{k}");
    }
    for k in ["a.b", " a", "a ", "\"a\"", "'a'", "\"é\""] {
        assert_eq!(parse_key_path(k).unwrap(), parsed(k), "{k}");
    }
    for bad in ["a b", "a=", "#", "a\u{0}", "é"] {
        assert!(parse_key_path(bad).is_err(), "{bad:?}");
    }
}

/// Issue 12, item 7: what toml_edit (TOML 1.1) accepts and tomllib (TOML 1.0) rejects.
#[test]
fn toml_1_1_only_syntax_is_refused_with_its_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("\u{feff}secret_key = 'x'\n", 1, "byte-order mark"),
        (
            "a = 1\nt = 1979-05-27T07:32\nsecret_key = 'x'\n",
            2,
            "seconds",
        ),
        ("t = 1979-05-27 07:32\n", 1, "seconds"),
        ("t = 07:32\n", 1, "seconds"),
        ("t = 1979-05-27T07:32Z\n", 1, "seconds"),
        ("e = \"\\e\"\nsecret_key = 'x'\n", 1, "`\\e`"),
        ("e = \"\"\"a\n\\x41\"\"\"\n", 2, "`\\e`"),
        (
            "x = {\n  a = 1,\n}\nsecret_key = 'x'\n",
            1,
            "spans more than one line",
        ),
        ("x = { a = 1, }\n", 1, "trailing comma"),
        (
            "[t]\nx = { a = { b = 1 }, c = [\n1,\n] }\ny = {\n}\n",
            5,
            "spans",
        ),
    ];
    for &(text, line, what) in cases {
        let err = TomlFile::parse(text).expect_err(text);
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(err.message.contains(what), "{text:?}: {err}");
        assert!(!err.to_string().contains("'x'"));
    }
    // TOML 1.0 that looks alike is read.
    for text in [
        "t = 1979-05-27T07:32:00\nu = 07:32:00.5\nd = 1979-05-27\n",
        "e = \"\\u001B \\\\e \\\\x\"\nl = '\\e'\nm = '''\\x'''\n",
        "x = { a = 1, b = [\n1,\n2,\n] }\n# x = {\n[a]\n\"k:1\" = '12:30'\n",
        "s = \"\"\"\n{ a,\n}\"\"\"\n",
    ] {
        assert!(TomlFile::parse(text).is_ok(), "{text:?}");
    }
}
