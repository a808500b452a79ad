use super::*;

fn est(s: &str) -> Estimate {
    let chars: Vec<char> = s.chars().collect();
    estimate(&chars, &NameIndex::default())
}

fn kinds(s: &str) -> Vec<Kind> {
    est(s).path.iter().map(|t| t.kind).collect()
}

#[test]
fn pools() {
    let p = |s: &str| pool(&s.chars().collect::<Vec<_>>());
    assert_eq!(p("abc"), 26.0);
    assert_eq!(p("aB3!"), 95.0);
    assert_eq!(p("deadbeef0123"), 16.0);
    assert_eq!(p("DEADBEEF0123"), 16.0);
    assert_eq!(p("deadBEEF0123"), 62.0);
    assert_eq!(p("aZ09+/=="), 64.0);
    assert_eq!(p("aZ09-_"), 64.0);
    assert_eq!(p("aZ09-+"), 95.0);
    assert_eq!(p("é"), 100.0);
}

#[test]
fn finds_structure() {
    assert_eq!(kinds("qwerty"), [Kind::Word]);
    assert_eq!(kinds("Xq7!zxcvbnm"), [Kind::Word]);
    assert!(kinds("p@ssw0rd").contains(&Kind::Telling(4)));
    assert_eq!(kinds("13579"), [Kind::Sequence]);
    assert_eq!(kinds("xyzw"), [Kind::Sequence]);
    assert!(kinds("!k;/lkjhgf").contains(&Kind::Keyboard));
    assert_eq!(kinds("%1987"), [Kind::Year]);
    assert_eq!(kinds("%15/03/1987"), [Kind::Date]);
    assert_eq!(kinds("%1987-3-15"), [Kind::Date]);
    assert_eq!(kinds("%19870315"), [Kind::Date]);
    assert!(matches!(
        kinds("xK9xK9xK9xK9")[..],
        [Kind::Repeat { reps: 4 }]
    ));
    let dev = kinds("dev-secret-key");
    assert_eq!(
        dev,
        [
            Kind::Telling(9),
            Kind::Separator,
            Kind::Telling(0),
            Kind::Separator,
            Kind::Telling(2)
        ]
    );
}

#[test]
fn names_match_case_insensitively() {
    let names = NameIndex::new(vec![Name {
        pattern: b"baguette-metro".to_vec(),
        index: 0,
    }]);
    let chars: Vec<char> = "BAGUETTE-METRO-2024".chars().collect();
    let e = estimate(&chars, &names);
    assert_eq!(e.path[0].kind, Kind::Name(0));
    assert!(e.bits < 20.0, "{}", e.bits);
}

#[test]
fn the_name_index_finds_every_name_at_every_place_and_nothing_else() {
    let names = NameIndex::new(
        [
            "e0042",
            "9lives",
            "prod",
            "staging",
            "_x_y",
            "~tilde",
            "\u{7f}del",
        ]
        .iter()
        .enumerate()
        .map(|(index, p)| Name {
            pattern: p.as_bytes().to_vec(),
            index,
        })
        .collect(),
    );
    let find = |text: &str| {
        let mut got = Vec::new();
        names.find(text.as_bytes(), |i, len, index| got.push((i, len, index)));
        got.sort_unstable();
        got
    };
    assert_eq!(find("prod"), [(0, 4, 2)]);
    assert_eq!(
        find("e0042xx9livesstaging_x_y~tilde"),
        [(0, 5, 0), (7, 6, 1), (13, 7, 3), (20, 4, 4), (24, 6, 5)]
    );
    assert_eq!(find("xxprodxxprod"), [(2, 4, 2), (8, 4, 2)]);
    assert_eq!(find("\u{7f}del"), [(0, 4, 6)]);
    assert!(find("e0043 9live stagin pro").is_empty());
    assert!(find("").is_empty());
    assert!(NameIndex::new(Vec::new()).by_len.is_empty());
}

#[test]
fn estimates_are_sane() {
    let b = |s: &str| est(s).bits;
    assert!(b("password") < 5.0);
    assert!(b("abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc") < 16.0);
    assert!(b("dev-secret-key-for-testing-only") < 64.0);
    assert!(b("correct-horse-battery-staple") < 80.0);
    // Random-looking: close to len·log2(pool).
    let k = "Xk9#mQ2$vL7@pR4&";
    assert!(b(k) > 0.85 * est(k).random_bits(), "{}", b(k));
    // Long keys: structure searched in the first MAX_ANALYZED chars, the rest is random.
    let long = "a".repeat(1000);
    assert!(b(&long) > 700.0 * 26f64.log2());
}

#[test]
fn case_variations() {
    let cb = |s: &str| case_bits(&s.chars().collect::<Vec<_>>());
    assert_eq!(cb("password"), 0.0);
    assert_eq!(cb("Password"), 1.0);
    assert_eq!(cb("PASSWORD"), 1.0);
    assert!(cb("PaSsWoRd") > 6.0);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
    /// The pair-table shortcut never hides a keyboard run: a text it lets pass without a
    /// walk has none. Texts drawn from rows' neighbours so runs are common.
    #[test]
    fn the_keyboard_shortcut_hides_no_run(s in "[qwertyuiopasdfghjkl1234567890!@#$%zxcvbnm,./;'\\[\\]=-]{0,24}") {
        let chars: Vec<char> = s.chars().collect();
        let low: Vec<u8> = chars.iter().map(|&c| lower_byte(c)).collect();
        let names = NameIndex::default();
        let text = Text { chars: &chars, low: &low, per_char: 6.0, names: &names };
        let mut walked = Vec::new();
        text.keyboard_walk(&mut walked);
        let mut kept = Vec::new();
        text.keyboard(&mut kept);
        proptest::prop_assert_eq!(kept, walked);
    }
}

#[test]
fn the_keyboard_shortcut_passes_what_it_must() {
    // Three neighbour pairs on one row, forwards and backwards, and the column zigzag.
    for s in ["qwer", "rewq", "1qaz", "zaq1", "!@#$", "asdf", "xqwerx"] {
        let low: Vec<u8> = s.bytes().collect();
        assert!(may_hold_keyboard_run(&low), "{s}");
    }
    // Pairs on different rows, or runs one short.
    for s in ["qwe", "qwXer", "qwas", ""] {
        let low: Vec<u8> = s.bytes().collect();
        assert!(!may_hold_keyboard_run(&low), "{s}");
    }
}
