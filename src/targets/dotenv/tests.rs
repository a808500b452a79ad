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
    let f = parse("# c\r\n  export  SECRET_KEY=abc # rotated 2024\nX=1");
    assert_eq!(
        f.set("SECRET_KEY", "n3w").unwrap(),
        "# c\r\n  export SECRET_KEY='n3w' # rotated 2024\nX=1"
    );
    // One space after `export`: node 20 reads `export  NAME` as the name ` NAME`.
    let got: Vec<String> = readers::node::bindings("export  A=1\nexport\tB=2\n")
        .into_iter()
        .map(|b| b.key)
        .collect();
    assert_eq!(got, [" A", "export\tB"]);
    // With a byte-order mark before the comment, node reads `\u{feff}# c` as the start of
    // the next name, the key's (checked against node 20 by tests/dotenv/corpus.rs).
    assert_eq!(
        refused_at(
            "\u{feff}# c\r\n  export  SECRET_KEY=abc # rotated 2024\nX=1",
            "node"
        ),
        1
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
    let f = parse("J = 1\nK\n");
    assert_eq!(f.set("K", "z").unwrap(), "J = 1\nK='z'\n");
    assert_eq!(f.set("J", "z").unwrap(), "J='z'\nK\n");
    // A bare name first: node 20 reads `K\nJ` as one name, so it never reads `J`, and
    // giving `K` a value would make `J` appear for node.
    let f = parse("K\nJ = 1\n");
    for k in ["J", "K"] {
        let err = f.set(k, "z").unwrap_err();
        assert!(err.to_string().contains("node"), "{k}: {err}");
    }
}

#[test]
fn set_appends() {
    assert_eq!(parse("").set("K", "v").unwrap(), "K='v'\n");
    assert_eq!(
        parse("\u{feff}A=1\n").set("K", "v").unwrap(),
        "\u{feff}A=1\nK='v'\n"
    );
    assert_eq!(parse("A=1").set("K", "v").unwrap(), "A=1\nK='v'\n");
    // A key appended to a CRLF file would end in CR for bash: refused (see
    // `set_refuses_what_a_reader_would_misread`).
    assert!(parse("A=1\r\nB=2").set("K", "v").is_err());
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
    let agree =
        "A=plain-value_1.2:3@x\nB='a b $X ${ \"q\" #h'\nexport C='multi\nline' # c\nD=\nE=x # c\n";
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

/// The line `set` names when it refuses `text` for `SECRET_KEY`, and whether the message
/// names `reader`; checks that no value of the file shows in the message.
fn refused_at(text: &str, reader: &str) -> usize {
    let f = parse(text);
    let err = f
        .set("SECRET_KEY", "n3w-value")
        .expect_err(&format!("{text:?} should be refused"));
    let msg = err.to_string();
    assert!(
        msg.contains(reader),
        "{text:?}: {msg} does not name {reader}"
    );
    for secret in ["k1", "n3w-value", "b'c"] {
        assert!(!msg.contains(secret), "{msg} shows a value");
    }
    assert!(err.fix().is_some());
    // check/status report the same line (KW113) when the key is there.
    if f.get("SECRET_KEY").is_none() {
        return err.line().unwrap();
    }
    let lines: Vec<usize> = f
        .disagreements("SECRET_KEY")
        .iter()
        .map(|d| d.line)
        .collect();
    let line = err.line().unwrap();
    assert!(
        lines.contains(&line),
        "{text:?}: disagreements at {lines:?}, set at {line}"
    );
    line
}

#[test]
fn set_refuses_what_a_reader_would_misread() {
    // CRLF and lone CR: bash reads the key with a trailing CR.
    assert_eq!(refused_at("SECRET_KEY='k1'\r\nA=1\r\n", "bash"), 1);
    assert_eq!(refused_at("A=1\r\nSECRET_KEY='k1'\r\n", "bash"), 2);
    assert_eq!(refused_at("SECRET_KEY='k1'\r", "bash"), 1);
    assert_eq!(refused_at("A=1\rSECRET_KEY='k1'\n", "node"), 1);
    // A CRLF file the key is appended to.
    assert_eq!(refused_at("A=1\r\n", "bash"), 2);
    // A byte-order mark before the key on line 1.
    assert_eq!(refused_at("\u{feff}SECRET_KEY='k1'\nA=1\n", "bash"), 1);
    // `\'` ends the shell's single quote.
    assert_eq!(refused_at("A='b\\'c'\nSECRET_KEY='k1'\n", "bash"), 1);
    // A trailing backslash joins the key's line to the one before.
    assert_eq!(refused_at("A=b\\\nSECRET_KEY='k1'\n", "bash"), 1);
    // ... also when the key is appended.
    assert_eq!(refused_at("A=b\\", "bash"), 1);
    // Other shell carry-overs.
    assert_eq!(refused_at("A=x|\nSECRET_KEY='k1'\n", "bash"), 1);
    assert_eq!(refused_at("A=x <<E\nSECRET_KEY='k1'\nE\n", "bash"), 1);
    assert_eq!(refused_at("A=x'y\"\nSECRET_KEY='k1'\n", "bash"), 1);
    assert_eq!(refused_at("A=$(x\nSECRET_KEY='k1'\n)\n", "bash"), 1);
    // dash stops at any syntax error, even after the key.
    assert_eq!(refused_at("SECRET_KEY='k1'\nA=x)\n", "dash"), 2);
    assert_eq!(refused_at("A=(x)\nSECRET_KEY='k1'\n", "dash"), 1);
    // Docker Compose rejects the whole file.
    assert_eq!(refused_at("SECRET_KEY='k1'\n'A'=1\n", "Docker Compose"), 2);
    assert_eq!(refused_at("SECRET_KEY='k1'\nA # c\n", "Docker Compose"), 2);
    // python-dotenv 1.0-1.2.2: an escaped backslash before a closing quote.
    assert_eq!(
        refused_at(
            "A=\"x\\\\\"\nSECRET_KEY='k1'\nB=\"y\"\n",
            "python-dotenv 1.0-1.2.2"
        ),
        1
    );
    assert_eq!(
        refused_at("A='x\\\\'\nSECRET_KEY='k1'\n", "python-dotenv 1.0-1.2.2"),
        1
    );
    // node: a quote runs to the next same quote of the file.
    assert_eq!(refused_at("A=`x\nSECRET_KEY='k1'\n`\n", "node"), 1);
}

#[test]
fn files_every_reader_reads_alike_are_written() {
    for text in [
        "A=x&y\nB=hello world\nC=\"a $b\"\nSECRET_KEY='k1'\n",
        "# it's a comment\nSECRET_KEY='k1'\n",
        "A=x #it's\nSECRET_KEY='k1'\n",
        "A=\"x\\\\\"\nSECRET_KEY='k1'\n",
        "A=1\r\nSECRET_KEY='k1'\n",
        "\u{feff}A=1\nSECRET_KEY='k1'\n",
        "A='multi\nline'\nSECRET_KEY='k1'\n",
        "export A=1\n  SECRET_KEY=\"old$x\" # c\n",
        "SECRET_KEY='k1'\nSECRET_KEY='k2'\n",
        "",
    ] {
        let f = parse(text);
        assert!(f.set("SECRET_KEY", "n3w").is_ok(), "{text:?}");
    }
    // Rewriting a key whose own line bash misread fixes it: allowed.
    let f = parse("SECRET_KEY='a\\'b'\nA=1\n");
    assert!(!f.disagreements("SECRET_KEY").is_empty());
    assert!(f.set("SECRET_KEY", "n3w").is_ok());
}

#[test]
fn line_endings_to_lf() {
    let f = parse("\u{feff}A=1\r\nB='x\r\ny'\rSECRET_KEY='k1'\r\n");
    let lf = f.with_lf_line_endings().unwrap();
    assert_eq!(lf, "\u{feff}A=1\nB='x\ny'\nSECRET_KEY='k1'\n");
    let g = parse(&lf);
    assert!(g.disagreements("SECRET_KEY").is_empty());
    assert!(g.set("SECRET_KEY", "n3w").is_ok());
}

// Found by the interop corpus (tests/dotenv/corpus.rs), each checked against the real
// reader there.

#[test]
fn node_reads_a_name_without_equals_into_the_next_name() {
    // node's name runs to the next `=` of the file, across lines: a bare name, an indented
    // comment or a line of spaces before the key swallows the key's name.
    assert_eq!(refused_at("DEBUG\nSECRET_KEY='k1'\n", "node"), 1);
    assert_eq!(refused_at("A=1\n  # c\nSECRET_KEY='k1'\n", "node"), 2);
    assert_eq!(refused_at("A=1\n   \nSECRET_KEY='k1'\n", "node"), 2);
    let got: Vec<(String, Option<String>)> = readers::node::bindings("A=1\n  # c\nB=x#y\rz\n")
        .into_iter()
        .map(|b| (b.key, b.value))
        .collect();
    assert_eq!(got, kv(&[("A", Some("1")), ("# c\nB", Some("x"))]));
    // A comment in column 1 and blank lines are skipped.
    assert!(
        parse("# c\n\nA=1\nSECRET_KEY='k1'\n")
            .set("SECRET_KEY", "n3w")
            .is_ok()
    );
}

#[test]
fn appending_after_a_last_line_without_line_break_that_a_reader_reads_as_a_variable() {
    // node reads a comment on the last line, with no line break, as a name and a value;
    // appending the key ends that line, and the variable vanishes for node.
    let err = parse("A=1\n# a=b").set("SECRET_KEY", "n3w").unwrap_err();
    assert!(err.to_string().contains("node"), "{err}");
    assert_eq!(err.line(), Some(2));
    // Docker Compose reads a bare name there as a variable named "".
    let err = parse("A=1\nno_value").set("SECRET_KEY", "n3w").unwrap_err();
    assert!(err.to_string().contains("node") || err.to_string().contains("Compose"));
    assert_eq!(err.line(), Some(2));
    // With the line break, or with the key already there, every reader agrees.
    assert!(parse("A=1\n# a=b\n").set("SECRET_KEY", "n3w").is_ok());
    assert!(
        parse("A=1\nSECRET_KEY='k1'\n# a=b")
            .set("SECRET_KEY", "n3w")
            .is_ok()
    );
}

#[test]
fn a_required_variable_form_stops_compose_and_the_shells() {
    for text in [
        "RESULT=${UNSET_VAR:?Test error}\nSECRET_KEY='k1'\n",
        "SECRET_KEY='k1'\nRESULT=\"${UNSET_VAR?Test error}\"\n",
    ] {
        let line = refused_at(text, "Docker Compose");
        assert_eq!(
            line,
            1 + usize::from(text.starts_with("SECRET")),
            "{text:?}"
        );
        assert!(refused_at(text, "bash") > 0 && refused_at(text, "dash") > 0);
    }
    // Single-quoted it is text for every reader; `${A:-x}` and `${A:+x}` are no errors.
    assert!(
        parse("R='${U:?e}'\nD=${A:-x}\nSECRET_KEY='k1'\n")
            .set("SECRET_KEY", "n3w")
            .is_ok()
    );
    assert!(readers::requires_variable("${A?}") && readers::requires_variable("x${A_1:?m}"));
    assert!(
        !readers::requires_variable("${A:-x}")
            && !readers::requires_variable("${?}")
            && !readers::requires_variable("$A?")
    );
}

#[test]
fn an_export_dash_cannot_run_stops_dash() {
    for text in [
        "export A =x\nSECRET_KEY='k1'\n",
        "export a.b=x\nSECRET_KEY='k1'\n",
        "export A=a b-c\nSECRET_KEY='k1'\n",
        "SECRET_KEY='k1'\nexport   A  =x\n",
    ] {
        refused_at(text, "dash");
    }
    assert!(
        parse("export A=x\nexport B='a b' # c d\nSECRET_KEY='k1'\n")
            .set("SECRET_KEY", "n3w")
            .is_ok()
    );
}

#[test]
fn a_pipe_continues_past_comments_and_blank_lines() {
    // `A=x|`, then a comment: the shells still read the key's line as the pipe's next
    // command, in a subshell, and never set the key.
    assert_eq!(
        refused_at("A=x|\n# it's a comment\nSECRET_KEY='k1'\n", "bash"),
        1
    );
    assert_eq!(refused_at("A=x&&\n\n  \nSECRET_KEY='k1'\n", "dash"), 1);
    assert_eq!(refused_at("A=x|\n# c\n", "bash"), 1);
}
