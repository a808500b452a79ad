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
