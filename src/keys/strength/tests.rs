use super::estimate::NameIndex;
use super::*;
use rand::RngExt;

/// The guide's charset for generated keys.
pub(crate) const GUIDE: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()_+-=[]{}|;:,.<>?";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const GUIDE_PUBLISHED: &str = "}%V7%ot+5f9}FGbaJMeRh;Rh.vJy8=7ZQcyeI0q&,]u-$uCtz$QI}1_(7tV]T!>v";

fn random_key(rng: &mut impl rand::Rng, charset: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| charset[rng.random_range(0..charset.len())] as char)
        .collect()
}

fn random_bytes(rng: &mut impl rand::Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.random_range(0..=255u8)).collect()
}

fn base64(bytes: &[u8], url: bool) -> String {
    let alphabet: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        if !url {
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    out
}

fn run(key: &str) -> Strength {
    analyze(&Secret::new(key.to_string()), &Context::default())
}

fn run_ctx(key: &str, project: Option<&str>, envs: &[&str]) -> Strength {
    let ctx = Context::new(project, envs);
    analyze(&Secret::new(key.to_string()), &ctx)
}

fn codes(s: &Strength) -> Vec<Code> {
    s.findings.iter().map(|f| f.code).collect()
}

fn severity(s: &Strength, code: Code) -> Option<Severity> {
    s.findings
        .iter()
        .find(|f| f.code == code)
        .map(|f| f.severity)
}

fn message(s: &Strength, code: Code) -> &str {
    &s.findings.iter().find(|f| f.code == code).unwrap().message
}

#[test]
fn guide_password123() {
    let s = run("password123");
    let c = codes(&s);
    assert!(c.contains(&Code::KnownKey), "{s:#?}");
    assert_eq!(severity(&s, Code::TooShort), Some(Severity::Critical));
    assert!(
        c.contains(&Code::TellingWord) && c.contains(&Code::Predictable),
        "{s:#?}"
    );
    assert!(message(&s, Code::TellingWord).contains("`password`"));
    assert_eq!(s.label, Label::Critical);
    assert_eq!(s.bits, 0.0, "a published key counts 0 bits");
}

#[test]
fn guide_abc123() {
    let s = run("abc123");
    assert_eq!(severity(&s, Code::TooShort), Some(Severity::Critical));
    assert!(codes(&s).contains(&Code::KnownKey));
    assert_eq!(s.label, Label::Critical);
}

#[test]
fn guide_baguette_metro() {
    let s = run("baguette-metro-2024");
    let c = codes(&s);
    assert!(
        c.contains(&Code::KnownKey) && c.contains(&Code::TooShort),
        "{s:#?}"
    );
    assert_eq!(severity(&s, Code::ContainsDate), Some(Severity::High));
    assert!(!c.contains(&Code::ContainsName));
    let s = run_ctx(
        "baguette-metro-2024",
        Some("baguette-metro"),
        &["production"],
    );
    assert!(message(&s, Code::ContainsName).contains("project name `baguette-metro`"));
    assert!(codes(&s).contains(&Code::ContainsDate));
    // Other spellings of the name, unknown key.
    for k in [
        "BaguetteMetro!2019x",
        "baguette_metro.Kx9",
        "xx-BAGUETTE.METRO-yy",
    ] {
        let s = run_ctx(k, Some("Baguette Metro"), &[]);
        assert!(codes(&s).contains(&Code::ContainsName), "{k}: {s:#?}");
    }
}

#[test]
fn guide_dev_secret_key() {
    let s = run("dev-secret-key-for-testing-only");
    let c = codes(&s);
    assert!(
        c.contains(&Code::TooShort) && c.contains(&Code::KnownKey),
        "{s:#?}"
    );
    // Published: its strength reads 0 bits, and no second estimate contradicts that.
    assert!(!c.contains(&Code::LowEntropy), "{s:#?}");
    let m = message(&s, Code::TellingWord);
    for w in ["`dev`", "`secret`", "`key`", "`testing`"] {
        assert!(m.contains(w), "{m}");
    }
    assert!(matches!(s.label, Label::Critical | Label::Weak));
    assert!(s.bits == 0.0, "published in the guide");
    // Same structure, unpublished: the estimate itself is low.
    let s = run("dev-secret-key-for-testing-only!");
    assert!(s.bits < 64.0, "{}", s.bits);
    assert!(codes(&s).contains(&Code::LowEntropy));
}

#[test]
fn guide_staging_secret_key() {
    let s = run_ctx(
        "staging-secret-key-2024",
        None,
        &["dev", "staging", "production"],
    );
    let c = codes(&s);
    for code in [
        Code::KnownKey,
        Code::TellingWord,
        Code::ContainsDate,
        Code::TooShort,
        Code::ContainsName,
    ] {
        assert!(c.contains(&code), "{code:?}: {s:#?}");
    }
    assert!(message(&s, Code::ContainsName).contains("environment name `staging`"));
    assert_eq!(s.label, Label::Critical);
    // Without the context, `staging` is still a telling word.
    let s = run("staging-secret-key-2024");
    assert!(message(&s, Code::TellingWord).contains("`staging`"));
}

#[test]
fn guide_published_good_key_is_compromised() {
    let s = run(GUIDE_PUBLISHED);
    assert_eq!(codes(&s), [Code::KnownKey], "{s:#?}");
    assert_eq!(s.label, Label::Critical);
    assert!(codes(&run(&format!(" {GUIDE_PUBLISHED}\n"))).contains(&Code::KnownKey));
}

#[test]
fn repeated_chunk_is_not_fooled_by_length() {
    let s = run(&"abc".repeat(22));
    let c = codes(&s);
    for code in [Code::Repeated, Code::LowEntropy, Code::FewUnique] {
        assert!(c.contains(&code), "{code:?}: {s:#?}");
    }
    assert_eq!(severity(&s, Code::Repeated), Some(Severity::High));
    assert_eq!(s.label, Label::Critical);
    assert!(s.bits < 20.0, "{}", s.bits);
    // Repeated random chunk: 4 × 16 random characters = 16 characters of entropy.
    let mut rng = rand::rng();
    let chunk = random_key(&mut rng, GUIDE, 16);
    let s = run(&chunk.repeat(4));
    assert!(codes(&s).contains(&Code::Repeated), "{s:#?}");
    assert!(s.bits < 110.0 && s.label <= Label::Weak, "{s:#?}");
    let s = run(&"a".repeat(64));
    assert!(
        codes(&s).contains(&Code::Repeated) && s.bits < 16.0,
        "{s:#?}"
    );
}

#[test]
fn django_insecure_prefix() {
    let mut rng = rand::rng();
    let key = format!("django-insecure-{}", random_key(&mut rng, GUIDE, 50));
    let s = run(&key);
    assert_eq!(
        severity(&s, Code::Placeholder),
        Some(Severity::Critical),
        "{s:#?}"
    );
    assert_eq!(s.label, Label::Critical);
}

#[test]
fn placeholder_markers() {
    for k in [
        "please-changeme-before-deploy-0000000000000000",
        "your-secret-key-goes-here",
        "EXAMPLE_KEY_Xk9mQ2vL7pR4zW8nT5yB3cF6hJ1",
        "<your secret key>",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ] {
        let s = run(k);
        assert_eq!(
            severity(&s, Code::Placeholder),
            Some(Severity::Critical),
            "{k}"
        );
    }
}

/// The hard requirement: fresh random guide keys raise nothing at all.
#[test]
fn random_guide_keys_are_strong_and_silent() {
    let mut rng = rand::rng();
    for _ in 0..1000 {
        let key = random_key(&mut rng, GUIDE, 64);
        let s = run(&key);
        assert!(s.findings.is_empty(), "{:#?}", s.findings);
        assert_eq!(s.label, Label::Strong);
        assert!(s.bits > 350.0, "{}", s.bits);
    }
}

#[test]
fn random_keys_of_other_generators_are_strong() {
    let mut rng = rand::rng();
    for _ in 0..200 {
        let alnum = random_key(&mut rng, ALNUM, 64);
        let hex = random_key(&mut rng, HEX, 64);
        let b64 = base64(&random_bytes(&mut rng, 64), false);
        let b64url = base64(&random_bytes(&mut rng, 32), true);
        for (key, allowed) in [
            (&alnum, &[][..]),
            (&hex, &[Code::FewClasses][..]),
            (&b64, &[][..]),
            (&b64url, &[Code::FewClasses, Code::BelowRecommended][..]),
        ] {
            let s = run(key);
            assert_eq!(s.label, Label::Strong, "{key}: {s:#?}");
            for f in &s.findings {
                assert!(allowed.contains(&f.code), "{f:#?}");
                assert!(f.severity <= Severity::Low, "{f:#?}");
                if f.code == Code::FewClasses {
                    assert_eq!(f.severity, Severity::Info);
                }
            }
        }
        let s = run(&hex);
        assert!(
            (s.bits - 256.0).abs() < 30.0,
            "hex counts 4 bits a character: {}",
            s.bits
        );
        assert_eq!(codes(&s), [Code::FewClasses]);
    }
}

#[test]
fn random_40_char_key_has_one_low_finding() {
    let mut rng = rand::rng();
    for _ in 0..200 {
        let s = run(&random_key(&mut rng, GUIDE, 40));
        assert_eq!(codes(&s), [Code::BelowRecommended], "{s:#?}");
        assert_eq!(s.findings[0].severity, Severity::Low);
        assert_eq!(s.label, Label::Strong);
    }
}

#[test]
fn short_random_keys_are_only_too_short() {
    let mut rng = rand::rng();
    for _ in 0..200 {
        // A draw of 24 characters now and then holds no digit and no capital; the class
        // check rightly names that too, which is not what this test is about.
        let key = loop {
            let k = random_key(&mut rng, GUIDE, 24);
            let classes = [
                k.chars().any(|c| c.is_ascii_lowercase()),
                k.chars().any(|c| c.is_ascii_uppercase()),
                k.chars().any(|c| c.is_ascii_digit()),
                k.chars().any(|c| !c.is_ascii_alphanumeric()),
            ];
            if classes.iter().all(|&c| c) {
                break k;
            }
        };
        let s = run(&key);
        assert_eq!(codes(&s), [Code::TooShort], "{s:#?}");
        assert_eq!(s.label, Label::Weak);
    }
}

#[test]
fn lengths_and_classes() {
    let s = run("");
    assert_eq!(severity(&s, Code::TooShort), Some(Severity::Critical));
    assert_eq!(s.label, Label::Critical);
    assert_eq!(s.bits, 0.0);
    let s = run("Xk9#mQ2$vL7@pR4&zW8!nT5^");
    assert_eq!(severity(&s, Code::TooShort), Some(Severity::High));
    let s = run("qmxzkvbwtrnpyhgd");
    assert_eq!(
        severity(&s, Code::FewClasses),
        Some(Severity::Medium),
        "{s:#?}"
    );
}

#[test]
fn structure_inside_long_keys() {
    let mut rng = rand::rng();
    let tail = random_key(&mut rng, ALNUM, 64);
    // A name long enough to be no accident.
    let s = run_ctx(&format!("production-{tail}"), None, &["production"]);
    assert_eq!(codes(&s), [Code::ContainsName], "{s:#?}");
    // The key keeps 380 random bits: fix at the next rotation, not a weak key.
    assert_eq!(s.findings[0].severity, Severity::Medium);
    assert_eq!(s.label, Label::Fair);
    let s = run(&format!("{}qwertyuiop", random_key(&mut rng, GUIDE, 54)));
    assert_eq!(
        severity(&s, Code::Predictable),
        Some(Severity::Medium),
        "{s:#?}"
    );
    // A passphrase: long, all words.
    let s = run("correct-horse-battery-staple-monkey-dragon-sunshine-princess-2024");
    assert!(codes(&s).contains(&Code::Predictable), "{s:#?}");
    assert!(s.bits < 160.0 && s.label <= Label::Weak, "{s:#?}");
    let s = run("correct-horse-battery-staple");
    assert!(codes(&s).contains(&Code::LowEntropy), "{s:#?}");
    // Keyboard run and sequence.
    let s = run("1qaz2wsx3edc4rfv5tgb6yhn");
    assert!(
        message(&s, Code::Predictable).contains("keyboard run"),
        "{s:#?}"
    );
    let s = run("abcdefghijklmnopqrstuvwxyz0123456789");
    assert!(
        message(&s, Code::Predictable).contains("sequence"),
        "{s:#?}"
    );
    assert_eq!(s.label, Label::Critical);
    // L33t.
    let s = run("P@ssw0rd!P@ssw0rd!2023");
    assert!(codes(&s).contains(&Code::TellingWord), "{s:#?}");
}

#[test]
fn few_unique() {
    let s = run("0101010110101010010101101010100101011010101001010110101010010101");
    assert!(codes(&s).contains(&Code::FewUnique), "{s:#?}");
    // All 10 digits, random: fine (digits only have 10 symbols).
    let mut rng = rand::rng();
    let s = run(&random_key(&mut rng, b"0123456789", 64));
    assert!(!codes(&s).contains(&Code::FewUnique), "{s:#?}");
}

#[test]
fn labels() {
    assert_eq!(label(300.0, &[]), Label::Strong);
    assert_eq!(label(100.0, &[]), Label::Fair);
    assert_eq!(label(60.0, &[]), Label::Weak);
    assert_eq!(label(30.0, &[]), Label::Critical);
    let f = |sev| vec![Finding::new(Code::Predictable, sev, "x")];
    assert_eq!(label(300.0, &f(Severity::Info)), Label::Strong);
    assert_eq!(label(300.0, &f(Severity::Low)), Label::Strong);
    assert_eq!(label(300.0, &f(Severity::Medium)), Label::Fair);
    assert_eq!(label(300.0, &f(Severity::High)), Label::Weak);
    assert_eq!(label(300.0, &f(Severity::Critical)), Label::Critical);
    assert!(Label::Critical < Label::Strong);
}

#[test]
fn every_finding_has_a_fix_and_serializes() {
    let s = run_ctx("staging-secret-key-2024", Some("shop"), &["staging"]);
    assert!(s.findings.iter().all(|f| f.fix.is_some()));
    assert!(
        s.findings
            .windows(2)
            .all(|w| w[0].severity >= w[1].severity)
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["label"], "critical");
    assert_eq!(json["findings"][0]["code"], "KW001");
    assert!(!json.to_string().contains("staging-secret"));
}

/// Messages never quote the key: no 4+ character piece of the key appears in a message or
/// fix, except inside a backquoted public term (telling word, context name, marker) or a
/// word of keywarden's own message text (the words of the string literals in `mod.rs`).
#[test]
fn messages_never_quote_the_key() {
    let vocabulary = own_vocabulary();
    let mut rng = rand::rng();
    let mut keys: Vec<String> = [
        "password123",
        "abc123",
        "baguette-metro-2024",
        "dev-secret-key-for-testing-only",
        "staging-secret-key-2024",
        GUIDE_PUBLISHED,
        "votre-cle-secrete-ici",
        "correct-horse-battery-staple",
        "Summer2024!Summer2024!",
        "qwertyuiop1234567890",
        "dragon-monkey-sunshine-football-1987",
        "15/03/1987-birthday-of-michael",
        "zxcvbnmasdfghjklqwertyuiop",
        "iloveyouiloveyouiloveyou",
        "TrustNo1TrustNo1TrustNo1TrustNo1",
        "P@ssw0rdP@ssw0rd",
        "my-shop-api-production-20240115",
        "django-insecure-abcdefghijklmnop",
        "hunter2hunter2hunter2hunter2hunter2",
        "letmein-letmein-letmein",
        "generate-a-new-random-key-and-rotate-it",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for _ in 0..300 {
        let len = rng.random_range(4..80);
        keys.push(random_key(&mut rng, GUIDE, len));
        let word = [
            "monkey",
            "dragon",
            "shop",
            "production",
            "2024",
            "qwerty",
            "abcdef",
        ][rng.random_range(0..7)];
        let (a, b) = (
            random_key(&mut rng, ALNUM, 8),
            random_key(&mut rng, GUIDE, 8),
        );
        keys.push(format!("{a}{word}{b}"));
    }
    let envs = ["dev", "staging", "production"];
    let public = |term: &str| {
        TELLING_WORDS.contains(&term)
            || ["my-shop", "dev", "staging", "production", "<...>", "<env>"].contains(&term)
            || known::PLACEHOLDER_MARKERS.contains(&term)
            || known::INSECURE_PREFIXES.contains(&term)
    };
    let mut checked = 0;
    for key in &keys {
        let s = run_ctx(key, Some("my-shop"), &envs);
        let chars: Vec<char> = key.to_lowercase().chars().collect();
        for f in &s.findings {
            let text = format!("{} | {}", f.message, f.fix.as_deref().unwrap_or(""));
            let mut rest = String::new();
            for (i, part) in text.to_lowercase().split('`').enumerate() {
                if i % 2 == 1 && public(part) {
                    rest.push_str(" _ ");
                    continue;
                }
                // Blank out keywarden's own words.
                let mut word = String::new();
                for c in part.chars().chain([' ']) {
                    if c.is_ascii_alphabetic() {
                        word.push(c);
                        continue;
                    }
                    if !word.is_empty() {
                        if vocabulary.contains(&word) {
                            rest.push('_');
                        } else {
                            rest.push_str(&word);
                        }
                        word.clear();
                    }
                    rest.push(c);
                }
            }
            for w in chars.windows(4) {
                let piece: String = w.iter().collect();
                assert!(
                    !rest.contains(&piece),
                    "message quotes `{piece}` of key {key:?}: {text}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

/// The words of the string literals in `mod.rs`: keywarden's own message text.
fn own_vocabulary() -> std::collections::HashSet<String> {
    let src = include_str!("mod.rs");
    let code: String = src
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // The string literals, a literal continued over lines (`\` at a line's end) whole.
    let mut literals = Vec::new();
    let (mut inside, mut escaped, mut literal) = (false, false, String::new());
    for c in code.chars() {
        match (inside, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => {
                inside = false;
                literals.push(std::mem::take(&mut literal));
            }
            (true, false, c) => literal.push(c),
            (false, _, '"') => inside = true,
            _ => {}
        }
    }
    let mut words = std::collections::HashSet::new();
    for literal in &literals {
        for w in literal.split(|c: char| !c.is_ascii_alphabetic()) {
            if !w.is_empty() {
                words.insert(w.to_lowercase());
            }
        }
    }
    assert!(
        words.contains("wanted"),
        "a literal over two lines is read whole"
    );
    assert!(words.contains("shorter") && words.len() > 50);
    words
}

/// zxcvbn as a reference: on short human-made keys our estimate is never much more
/// optimistic than zxcvbn's (which is exact on these, below its 64-bit ceiling).
#[test]
fn agrees_with_zxcvbn_on_human_keys() {
    let keys = [
        "password123",
        "correcthorsebatterystaple",
        "letmein2024",
        "Summer2024!",
        "qwerty123456",
        "iloveyou1987",
        "monkey-dragon",
        "P@ssw0rd!",
        "michael15031987",
        "asdfghjkl;'",
        "abcabcabcabc",
        "11111111111111",
        "Baseball!Football",
    ];
    for k in keys {
        let ours = estimate::estimate(&k.chars().collect::<Vec<_>>(), &NameIndex::default()).bits;
        let z = zxcvbn::zxcvbn(k, &[]).guesses_log10() * std::f64::consts::LOG2_10;
        assert!(
            ours <= z * 1.35 + 8.0,
            "{k}: ours {ours:.1} bits, zxcvbn {z:.1}"
        );
    }
}

/// Calibration, run by hand: `cargo test --release -- --ignored calibration --nocapture`.
/// Random keys stay clear of every pattern threshold: no pattern finding, and the largest
/// saving found by chance stays below STRUCTURED_FRACTION and SIGNIFICANT_BITS. Prints the
/// margins. 3,000 keys per charset here; `KW_CAL_N=1000000` for the full calibration.
#[test]
fn calibration() {
    let mut rng = rand::rng();
    let n: usize = std::env::var("KW_CAL_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    for (name, charset, len) in [
        ("guide64", GUIDE, 64),
        ("guide40", GUIDE, 40),
        ("guide32", GUIDE, 32),
        ("alnum64", ALNUM, 64),
        ("alnum32", ALNUM, 32),
        ("hex64", HEX, 64),
        ("hex32", HEX, 32),
        ("lower32", b"abcdefghijklmnopqrstuvwxyz".as_slice(), 32),
    ] {
        let mut min_bits = f64::MAX;
        let (mut max_frac, mut max_sig, mut fp, mut min_ratio_distinct) =
            (0f64, f64::MIN, 0, f64::MAX);
        for _ in 0..n {
            let key = random_key(&mut rng, charset, len);
            let chars: Vec<char> = key.chars().collect();
            let e = estimate::estimate(&chars, &NameIndex::default());
            let r = e.random_bits();
            max_frac = max_frac.max(reportable(&e).0);
            min_bits = min_bits.min(e.bits / r);
            for t in e.path.iter().filter(|t| t.kind != Kind::Separator) {
                max_sig = max_sig.max(e.excess(t));
            }
            let d = distinct_count(&chars) as f64 / expected_distinct(e.per_char.exp2(), len);
            min_ratio_distinct = min_ratio_distinct.min(d);
            let s = run(&key);
            let pattern = s.findings.iter().any(|f| {
                !matches!(
                    f.code,
                    Code::FewClasses | Code::BelowRecommended | Code::TooShort
                )
            });
            fp += usize::from(pattern);
        }
        println!(
            "{name}: {n} keys, max counted saving {max_frac:.3} (threshold {STRUCTURED_FRACTION}), \
             max token significance {max_sig:.1} bits (threshold {SIGNIFICANT_BITS}), \
             min distinct/expected {min_ratio_distinct:.2} (threshold {FEW_UNIQUE_RATIO}), pattern findings {fp}, min bits/(len·log2 pool) {min_bits:.3}"
        );
        assert_eq!(fp, 0, "{name}: random keys must raise no pattern finding");
        assert!(max_frac < STRUCTURED_FRACTION, "{name}: {max_frac}");
        assert!(max_sig < SIGNIFICANT_BITS, "{name}: {max_sig}");
        assert!(
            min_ratio_distinct > FEW_UNIQUE_RATIO,
            "{name}: {min_ratio_distinct}"
        );
    }
}

/// Human-made keys are *structured*: their patterns get reported.
#[test]
fn human_keys_are_structured() {
    for k in [
        "password123",
        "abc123",
        "baguette-metro-2024",
        "dev-secret-key-for-testing-only",
        "staging-secret-key-2024",
        "correct-horse-battery-staple",
        "Summer2024!",
        "MyCompany2019!",
        "qwerty-prod-key",
        "iloveyou1987",
        "correct-horse-battery-staple-monkey-dragon-sunshine-princess-2024",
    ] {
        let e = estimate::estimate(&k.chars().collect::<Vec<_>>(), &NameIndex::default());
        let (share, reported) = reportable(&e);
        assert!(
            share >= STRUCTURED_FRACTION && !reported.is_empty(),
            "{k}: {share:.2}"
        );
    }
}
