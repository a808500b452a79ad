//! Property tests: random dotenv files built from segments whose text and
//! python-dotenv reading are known, so every expectation (parsed values, the
//! full edited text, the text after removal) is computed independently of the
//! code under test.

use keywarden::targets::dotenv::{DotenvError, DotenvFile, check_portable};
use proptest::prelude::*;

const KEY: &str = "SECRET_KEY";
const OTHER_KEYS: [&str; 3] = ["DEBUG", "DATABASE_URL", "API_TOKEN"];

#[derive(Debug, Clone)]
enum Form {
    /// `KEY`, no `=`.
    Bare,
    /// `KEY=value`
    Unquoted(String),
    /// `KEY = value`
    Spaced(String),
    /// `KEY= # comment`: empty value then a comment (the comment is part of
    /// the form, so it is not repeated in `Line::comment`).
    EmptyComment,
    /// raw text between quotes (with `\n` standing for the line ending),
    /// decoded value.
    Single(String, String),
    Double(String, String),
}

#[derive(Debug, Clone)]
enum Line {
    Blank(&'static str),
    Comment(String),
    Entry {
        indent: &'static str,
        export: bool,
        key: String,
        form: Form,
        comment: Option<&'static str>,
    },
}

#[derive(Debug, Clone)]
struct Spec {
    bom: bool,
    /// Each line with its line ending.
    lines: Vec<(Line, &'static str)>,
    final_newline: bool,
}

impl Line {
    fn key(&self) -> Option<&str> {
        match self {
            Line::Entry { key, .. } => Some(key),
            _ => None,
        }
    }

    fn value(&self) -> Option<Option<String>> {
        match self {
            Line::Entry { form, .. } => Some(match form {
                Form::Bare => None,
                Form::Unquoted(v) | Form::Spaced(v) => Some(v.clone()),
                Form::EmptyComment => Some(String::new()),
                Form::Single(_, v) | Form::Double(_, v) => Some(v.clone()),
            }),
            _ => None,
        }
    }

    fn text(&self, eol: &str) -> String {
        match self {
            Line::Blank(b) => (*b).to_owned(),
            Line::Comment(c) => format!("# {c}"),
            Line::Entry {
                indent,
                export,
                key,
                form,
                comment,
            } => {
                let mut s = format!("{indent}{}{key}", if *export { "export " } else { "" });
                match form {
                    Form::Bare => {}
                    Form::Unquoted(v) => s.push_str(&format!("={v}")),
                    Form::Spaced(v) => s.push_str(&format!(" = {v}")),
                    Form::EmptyComment => s.push_str("= # empty"),
                    Form::Single(raw, _) => s.push_str(&format!("='{}'", raw.replace('\n', eol))),
                    Form::Double(raw, _) => s.push_str(&format!("=\"{}\"", raw.replace('\n', eol))),
                }
                if let Some(c) = comment {
                    s.push_str(c);
                }
                s
            }
        }
    }

    /// The line `set` must produce for this (winning) entry.
    fn after_set(&self, value: &str) -> String {
        match self {
            Line::Entry {
                indent,
                export,
                form,
                comment,
                ..
            } => {
                let comment = match form {
                    Form::EmptyComment => " # empty",
                    _ => comment.unwrap_or(""),
                };
                format!(
                    "{indent}{}{KEY}='{value}'{comment}",
                    if *export { "export " } else { "" }
                )
            }
            _ => unreachable!(),
        }
    }
}

impl Spec {
    /// The text of each line including its ending (the last one may lack it).
    fn segments(&self) -> Vec<String> {
        let n = self.lines.len();
        self.lines
            .iter()
            .enumerate()
            .map(|(i, (line, eol))| {
                let mut s = line.text(eol);
                if i + 1 < n || self.final_newline {
                    s.push_str(eol);
                }
                s
            })
            .collect()
    }

    fn text(&self) -> String {
        let bom = if self.bom { "\u{feff}" } else { "" };
        format!("{bom}{}", self.segments().concat())
    }

    fn expected_entries(&self) -> Vec<(String, Option<String>)> {
        self.lines
            .iter()
            .filter_map(|(l, _)| Some((l.key()?.to_owned(), l.value()?)))
            .collect()
    }
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_./:-]{1,12}"
}

fn unquoted() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        word(),
        (word(), word()).prop_map(|(a, b)| format!("{a} {b}")),
    ]
}

/// (raw, decoded) pieces of a single-quoted value.
fn single_piece() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        4 => "[A-Za-z0-9 #$\"{}=-]{1,6}".prop_map(|s| (s.clone(), s)),
        1 => Just(("\\\\".to_owned(), "\\".to_owned())),
        1 => Just(("\\'".to_owned(), "'".to_owned())),
        1 => Just(("\\n".to_owned(), "\\n".to_owned())),
        1 => Just(("${X}".to_owned(), "${X}".to_owned())),
        1 => Just(("\n".to_owned(), "\n".to_owned())),
    ]
}

fn double_piece() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        4 => "[A-Za-z0-9 #$'{}=-]{1,6}".prop_map(|s| (s.clone(), s)),
        1 => Just(("\\n".to_owned(), "\n".to_owned())),
        1 => Just(("\\t".to_owned(), "\t".to_owned())),
        1 => Just(("\\\"".to_owned(), "\"".to_owned())),
        1 => Just(("\\\\".to_owned(), "\\".to_owned())),
        1 => Just(("\\x".to_owned(), "\\x".to_owned())),
        1 => Just(("\n".to_owned(), "\n".to_owned())),
    ]
}

fn pieces(p: impl Strategy<Value = (String, String)>) -> impl Strategy<Value = (String, String)> {
    prop::collection::vec(p, 0..5).prop_map(|v| {
        v.into_iter().fold(
            (String::new(), String::new()),
            |(mut r, mut d), (pr, pd)| {
                r.push_str(&pr);
                d.push_str(&pd);
                (r, d)
            },
        )
    })
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        1 => Just(Form::Bare),
        3 => unquoted().prop_map(Form::Unquoted),
        1 => word().prop_map(Form::Spaced),
        1 => Just(Form::EmptyComment),
        3 => pieces(single_piece()).prop_map(|(r, d)| Form::Single(r, d)),
        3 => pieces(double_piece()).prop_map(|(r, d)| Form::Double(r, d)),
    ]
}

fn line() -> impl Strategy<Value = Line> {
    let key = prop_oneof![
        3 => Just(KEY.to_owned()),
        4 => prop::sample::select(OTHER_KEYS.to_vec()).prop_map(str::to_owned),
    ];
    let entry = (
        prop::sample::select(vec!["", "  ", "\t"]),
        any::<bool>(),
        key,
        form(),
        prop::option::of(prop::sample::select(vec![
            " # note",
            "  # rotated 2024",
            "\t# tab",
        ])),
    )
        .prop_map(|(indent, export, key, form, comment)| {
            // An unquoted value ends at the comment, a bare empty `KEY=` with a
            // comment is `EmptyComment`: keep the generated text unambiguous.
            let comment = match &form {
                Form::EmptyComment => None,
                Form::Unquoted(v) if v.is_empty() => None,
                _ => comment,
            };
            Line::Entry {
                indent,
                export,
                key,
                form,
                comment,
            }
        });
    prop_oneof![
        1 => prop::sample::select(vec!["", "   ", "\t"]).prop_map(Line::Blank),
        1 => "[a-z =#'\"]{0,12}".prop_map(Line::Comment),
        5 => entry,
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        prop::collection::vec((line(), prop::sample::select(vec!["\n", "\r\n"])), 0..12),
        any::<bool>(),
    )
        .prop_map(|(bom, lines, final_newline)| Spec {
            bom,
            lines,
            final_newline,
        })
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!@#$%^&*()_+=\\[\\]{}|;:,.<>?-]{32,80}"
        .prop_filter("portable", |s| check_portable(s).is_ok())
}

/// LF unless CRLF is strictly more common (independent of the crate's code).
fn dominant(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf { "\r\n" } else { "\n" }
}

fn entries(f: &DotenvFile) -> Vec<(String, Option<String>)> {
    f.entries()
        .iter()
        .map(|e| (e.key().to_owned(), e.value().map(str::to_owned)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_matches_generator(spec in spec()) {
        let text = spec.text();
        let f = DotenvFile::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(entries(&f), spec.expected_entries());
        prop_assert_eq!(f.text(), text.as_str());
    }

    #[test]
    fn set_changes_only_the_winning_line(spec in spec(), value in secret()) {
        let old = spec.text();
        let f = DotenvFile::parse(&old).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let new = match f.set(KEY, &value) {
            // A file some reader would misread after the write (CRLF, a BOM before the
            // key, a quote python-dotenv 1.2.2 would run past into the new line): refused
            // with a line (tests/dotenv/interop.rs checks refusals against the real readers).
            Err(DotenvError::ReadersDisagree { line, .. }) => {
                prop_assert!(line >= 1 && line <= old.len() + 1);
                return Ok(());
            }
            r => r.map_err(|e| TestCaseError::fail(e.to_string()))?,
        };

        // The whole expected text, built from the generator's segments.
        let segments = spec.segments();
        let bom = if spec.bom { "\u{feff}" } else { "" };
        let winner = spec.lines.iter().rposition(|(l, _)| l.key() == Some(KEY));
        let expected = match winner {
            Some(i) => {
                let (line, eol) = &spec.lines[i];
                let ending = if i + 1 < spec.lines.len() || spec.final_newline { *eol } else { "" };
                let mut segs = segments.clone();
                segs[i] = format!("{}{ending}", line.after_set(&value));
                format!("{bom}{}", segs.concat())
            }
            None => {
                let body = segments.concat();
                let eol = dominant(&body);
                let sep = if body.is_empty() || body.ends_with('\n') { "" } else { eol };
                format!("{bom}{body}{sep}{KEY}='{value}'{eol}")
            }
        };
        prop_assert_eq!(&new, &expected);

        // Reading back: the key has the new value, every other entry is unchanged.
        let g = DotenvFile::parse(&new).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(g.get(KEY).and_then(|e| e.value()), Some(value.as_str()));
        let mut want = spec.expected_entries();
        let mut got = entries(&g);
        match winner {
            Some(i) => {
                let idx = spec.lines[..i].iter().filter(|(l, _)| l.key().is_some()).count();
                want.remove(idx);
                got.remove(idx);
            }
            None => {
                got.pop();
            }
        }
        prop_assert_eq!(got, want);

        // Removing the winning line from both texts leaves identical bytes.
        let cut = |text: &str, file: &DotenvFile| -> String {
            match file.get(KEY) {
                Some(e) => format!("{}{}", &text[..e.span().start], &text[e.span().end..]),
                None => text.to_owned(),
            }
        };
        let old_cut = cut(&old, &f);
        let new_cut = cut(&new, &g);
        match winner {
            Some(_) => prop_assert_eq!(old_cut, new_cut),
            None => {
                // Only a line break may have been added before the new line.
                let with_break = format!("{}{}", old_cut, dominant(&old));
                prop_assert!(new_cut == old_cut || new_cut == with_break);
            }
        }
    }

    #[test]
    fn remove_drops_every_occurrence(spec in spec()) {
        let old = spec.text();
        let f = DotenvFile::parse(&old).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let new = f.remove(KEY).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let bom = if spec.bom { "\u{feff}" } else { "" };
        let kept: String = spec
            .segments()
            .into_iter()
            .zip(&spec.lines)
            .filter(|(_, (l, _))| l.key() != Some(KEY))
            .map(|(s, _)| s)
            .collect();
        prop_assert_eq!(&new, &format!("{bom}{kept}"));
        let g = DotenvFile::parse(&new).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(g.get(KEY).is_none());
        let want: Vec<_> = spec.expected_entries().into_iter().filter(|(k, _)| k != KEY).collect();
        prop_assert_eq!(entries(&g), want);
    }

    #[test]
    fn unportable_values_are_refused(spec in spec(), pre in "[a-z]{0,4}", bad in prop::sample::select(vec!["'", "\\", "\n", "\r", "\t", "\0", "${X}", "${X:-d}", "${}"]), post in "[a-z]{0,4}") {
        let f = DotenvFile::parse(&spec.text()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let value = format!("{pre}{bad}{post}");
        prop_assert!(check_portable(&value).is_err());
        prop_assert!(f.set(KEY, &value).is_err());
    }
}
