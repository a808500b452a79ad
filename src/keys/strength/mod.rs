//! Strength analysis of a key: one analysis for `status`, `check`, the TUI and `analyze`.
//!
//! [`analyze`] returns an entropy estimate in bits, a [`Label`] and findings (`KW001` to
//! `KW012`). Findings carry code, severity, message and fix; the caller adds environment
//! and target.
//!
//! # Messages never quote the key
//! A message names only generic categories ("a keyboard run", "common words") and public
//! strings: keywarden's telling words, the project and environment names given in
//! [`Context`], the placeholder markers. A dictionary word, year or date found in a key is
//! a piece of the key and is never named.
//!
//! # The estimate
//! A zxcvbn-style minimal decomposition ([`estimate`]): dictionary words (common
//! passwords, English words and names from zxcvbn's lists, `assets/words.txt`, with l33t
//! substitutions), telling words, names, years and dates, sequences, keyboard runs,
//! repeated chunks and separators each cost log2 of their guess space; any other character
//! costs log2 of the key's pool (sum of its classes: 26 lower, 26 upper, 10 digits,
//! 33 symbols; 16 for hex, 64 for base64/base64url). The result is capped at
//! [`BITS_CAP`] bits (beyond what HMAC-SHA-512 can use) and a published key counts 0 bits.
//!
//! # Why not zxcvbn at run time
//! Measured here (zxcvbn 3.1.1 built with opt-level 3, release): 16 µs for `abc123`,
//! 50 µs for a 14-character key, 90 to 240 µs for 19 to 31 characters, 5.2 ms for a
//! 64-character key; and it saturates at 10^19.27 guesses (64 bits) and 100 characters,
//! scoring `staging-secret-key-2024` like a random 64-character key. `status` analyses
//! 1,000 keys in ≈ 30 ms, so even short keys alone would blow the budget. This estimator
//! reuses zxcvbn's ideas and word lists: 11 µs per random 64-character key in release,
//! 64 µs in debug; 3 to 8 µs for the guide's examples (`examples/strength_bench.rs`).
//! zxcvbn stays a dev-dependency: a test checks that our estimate never rates a short
//! human-made key much stronger than zxcvbn does.
//!
//! # Random keys must stay silent
//! A random key contains words, years or runs by chance (a 64-character key holds a
//! `2024` with probability ~1.5e-4, some 3-letter word almost always). So a token counts
//! as structure only when it *beats chance* by [`CHANCE_MARGIN`] bits (its saving minus
//! log2 of the places it could sit); tokens that do not are priced back as random
//! characters, so a random hex key reads ~256 bits. Pattern findings (KW007 to KW011) are
//! reported for *structured* keys, whose counted tokens save [`STRUCTURED_FRACTION`] of
//! `len · log2(pool)`, or for a token beating chance by [`SIGNIFICANT_BITS`]. Measured
//! over 1,000,000 random keys each (`calibration` test): largest counted saving 0.115
//! (guide charset, 64 chars), 0.17 (guide 32/40, alnum 32), 0.22 (hex 32); largest token
//! excess 23 bits (guide 64), 27 bits (alnum 32); no pattern finding.
//!
//! # Label
//! `critical`: a critical finding or < 40 bits; `weak`: a high finding or < 80 bits;
//! `fair`: a medium finding or < 128 bits; else `strong`. `low` and `info` findings
//! (below the recommended 64 characters; two classes in a random hex or base64 key) do not
//! lower the label: a random 40-character key is `strong`, with one `low` finding.

mod estimate;
mod known;
mod words;

use crate::finding::{Code, Finding, Severity};
use crate::keys::secret::Secret;
pub use estimate::CHANCE_MARGIN;
use estimate::{Estimate, Kind, Name, Token};
use serde::Serialize;
use std::fmt;
use zeroize::Zeroizing;

pub use known::{INSECURE_PREFIXES, placeholder};
pub use words::TELLING_WORDS;

/// The guide's minimum length, in characters.
pub const MIN_LEN: usize = 32;
/// The guide's recommended length, in characters.
pub const RECOMMENDED_LEN: usize = 64;
/// Below this length a short key is `critical`, not just `high`.
pub const CRITICAL_LEN: usize = 16;
/// The estimate is capped here: HMAC-SHA-512 cannot use more.
pub const BITS_CAP: f64 = 512.0;
/// A key whose structure saves this fraction of `len · log2(pool)` is *structured*: all
/// its patterns are reported.
pub const STRUCTURED_FRACTION: f64 = 0.25;
/// A single pattern saving this many bits beyond chance is reported in any key.
pub const SIGNIFICANT_BITS: f64 = 36.0;
/// FewUnique: fewer distinct characters than this share of a random draw's expectation.
pub const FEW_UNIQUE_RATIO: f64 = 0.4;

const FIX_ROTATE: &str = "generate a new random key and rotate it: keywarden rotate <env>";

/// Names to look for inside keys (the project's, the environments'), compiled once and
/// shared by every analysis of a run. `Default` looks for none.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// Display names: the project first (if any), then the environments.
    display: Vec<(&'a str, &'static str)>,
    index: estimate::NameIndex,
}

impl<'a> Context<'a> {
    /// The spellings looked for: lowercase, and with `-`, `_`, `.` and spaces removed or
    /// swapped for one another. Names shorter than 3 characters are skipped.
    pub fn new(project: Option<&'a str>, environments: &[&'a str]) -> Context<'a> {
        let mut display = Vec::with_capacity(environments.len() + 1);
        if let Some(p) = project {
            display.push((p, "project"));
        }
        display.extend(environments.iter().map(|e| (*e, "environment")));
        let mut patterns: Vec<Name> = Vec::new();
        for (index, (name, _)) in display.iter().enumerate() {
            let lower = name.trim().to_ascii_lowercase();
            let is_sep = |c: char| matches!(c, '-' | '_' | '.' | ' ');
            let mut variants = vec![lower.clone(), lower.replace(is_sep, "")];
            for sep in ["-", "_", "."] {
                variants.push(lower.replace(is_sep, sep));
            }
            for v in variants {
                if v.len() >= 3 && v.is_ascii() {
                    patterns.push(Name {
                        pattern: v.into_bytes(),
                        index,
                    });
                }
            }
        }
        Context {
            display,
            index: estimate::NameIndex::new(patterns),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Critical,
    Weak,
    Fair,
    Strong,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Critical => "critical",
            Label::Weak => "weak",
            Label::Fair => "fair",
            Label::Strong => "strong",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Strength {
    pub label: Label,
    /// Estimated entropy in bits, rounded to 0.1.
    pub bits: f64,
    /// Most serious first.
    pub findings: Vec<Finding>,
}

/// Analyses `key`. Pure and cheap (a few µs for a 64-character key): call it freely.
pub fn analyze(key: &Secret, ctx: &Context) -> Strength {
    let value = key.expose_secret();
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(value.chars().collect());
    let est = estimate::estimate(&chars, &ctx.index);
    let known = known::is_known(value);
    let mut findings = Vec::new();

    if known {
        findings.push(
            Finding::new(
                Code::KnownKey,
                Severity::Critical,
                "published key: it appears in documentation or examples, so anyone can sign \
                 with it",
            )
            .with_fix(
                "replace it now with a generated key (keywarden rotate <env>) and invalidate \
                 sessions and tokens signed with it",
            ),
        );
    }
    if let Some(marker) = known::placeholder(value) {
        let message = match marker {
            "django-insecure-" => "starts with `django-insecure-`, the prefix Django puts on \
                                   keys meant for development only"
                .to_string(),
            "<...>" => "an unfilled template (`<...>`), not a key".to_string(),
            m => format!("contains the placeholder marker `{m}`: a value left in place of a key"),
        };
        findings.push(
            Finding::new(Code::Placeholder, Severity::Critical, message).with_fix(FIX_ROTATE),
        );
    }
    length_findings(est.len, &mut findings);
    classes_finding(&chars, est.bits, &mut findings);
    unique_finding(&chars, &est, &mut findings);
    pattern_findings(&est, ctx, &mut findings);
    // A published key has no entropy left to speak of (its strength reads 0 bits): a
    // second number for it would contradict the first.
    if !known {
        low_entropy_finding(&est, &mut findings);
    }

    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)));
    let bits = if known { 0.0 } else { est.bits.min(BITS_CAP) };
    let bits = (bits * 10.0).round() / 10.0;
    Strength {
        label: label(bits, &findings),
        bits,
        findings,
    }
}

fn label(bits: f64, findings: &[Finding]) -> Label {
    let worst = crate::finding::worst(findings);
    if worst == Some(Severity::Critical) || bits < 40.0 {
        Label::Critical
    } else if worst == Some(Severity::High) || bits < 80.0 {
        Label::Weak
    } else if worst == Some(Severity::Medium) || bits < 128.0 {
        Label::Fair
    } else {
        Label::Strong
    }
}

fn length_findings(len: usize, findings: &mut Vec<Finding>) {
    if len < MIN_LEN {
        let severity = if len < CRITICAL_LEN {
            Severity::Critical
        } else {
            Severity::High
        };
        let what = if len == 0 {
            "the key is empty".to_string()
        } else {
            format!("{len} characters")
        };
        findings.push(
            Finding::new(
                Code::TooShort,
                severity,
                format!("{what}: shorter than 32 characters, the guide's minimum (64 recommended)"),
            )
            .with_fix("generate a 64-character random key: keywarden rotate <env>"),
        );
    } else if len < RECOMMENDED_LEN {
        findings.push(
            Finding::new(
                Code::BelowRecommended,
                Severity::Low,
                format!(
                    "{len} characters: above the guide's minimum of 32, below the 64 recommended"
                ),
            )
            .with_fix("use 64 characters at the next rotation: keywarden rotate <env>"),
        );
    }
}

fn classes_finding(chars: &[char], bits: f64, findings: &mut Vec<Finding>) {
    if chars.is_empty() {
        return;
    }
    let classes = [
        ("lowercase", chars.iter().any(char::is_ascii_lowercase)),
        ("uppercase", chars.iter().any(char::is_ascii_uppercase)),
        ("digits", chars.iter().any(char::is_ascii_digit)),
        ("symbols", chars.iter().any(|c| !c.is_ascii_alphanumeric())),
    ];
    let used: Vec<&str> = classes.iter().filter(|c| c.1).map(|c| c.0).collect();
    if used.len() >= 3 {
        return;
    }
    let list = used.join(" and ");
    let finding = if bits >= 128.0 {
        Finding::new(
            Code::FewClasses,
            Severity::Info,
            format!(
                "{list} alone: fewer classes than the guide asks (letters, digits, symbols), \
                 acceptable for a random hex or base64 key of this size"
            ),
        )
        .with_fix(
            "nothing to do if a random generator made it (openssl rand -hex 32); otherwise: \
             keywarden rotate <env>",
        )
    } else {
        Finding::new(
            Code::FewClasses,
            Severity::Medium,
            format!(
                "{list} alone: the guide asks for letters, digits and symbols, and the key is \
                 too small to make up for it"
            ),
        )
        .with_fix(FIX_ROTATE)
    };
    findings.push(finding);
}

/// Expected number of distinct characters in `len` independent draws from `pool`.
fn expected_distinct(pool: f64, len: usize) -> f64 {
    pool * (1.0 - (1.0 - 1.0 / pool).powi(len as i32))
}

fn distinct_count(chars: &[char]) -> usize {
    let mut ascii = 0u128;
    let mut other: Zeroizing<Vec<char>> = Zeroizing::new(Vec::new());
    for &c in chars {
        if c.is_ascii() {
            ascii |= 1 << (c as u32);
        } else {
            other.push(c);
        }
    }
    other.sort_unstable();
    other.dedup();
    ascii.count_ones() as usize + other.len()
}

/// Flags keys with less than 40% of the distinct characters a random draw of the same length
/// from the same pool gives (a random 64-character hex key has ~15.7 of 16; the guide's
/// charset ~45 of 88): random keys sit many standard deviations above that line.
fn unique_finding(chars: &[char], est: &Estimate, findings: &mut Vec<Finding>) {
    if chars.len() < 4 {
        return;
    }
    let expected = expected_distinct(est.per_char.exp2(), chars.len());
    let d = distinct_count(chars);
    if (d as f64) < FEW_UNIQUE_RATIO * expected {
        findings.push(
            Finding::new(
                Code::FewUnique,
                Severity::High,
                format!(
                    "{d} distinct character{} in {}: a random key of this length and alphabet \
                     has about {expected:.0}",
                    if d == 1 { "" } else { "s" },
                    chars.len()
                ),
            )
            .with_fix(FIX_ROTATE),
        );
    }
}

fn low_entropy_finding(est: &Estimate, findings: &mut Vec<Finding>) {
    let (bits, random) = (est.bits, est.random_bits());
    if bits < 128.0 && bits <= random * (2.0 / 3.0) {
        let severity = if bits < 64.0 {
            Severity::Critical
        } else {
            Severity::High
        };
        findings.push(
            Finding::new(
                Code::LowEntropy,
                severity,
                format!(
                    "about {bits:.0} bits of entropy, far below the {random:.0} bits its {} \
                     characters would carry if random (128 wanted)",
                    est.len
                ),
            )
            .with_fix(FIX_ROTATE),
        );
    }
}

/// The share of `len · log2(pool)` that structure saves, and the tokens worth reporting.
///
/// Only tokens that beat chance count ([`estimate::Estimate::beats_chance`]). The key is
/// *structured* when they save [`STRUCTURED_FRACTION`] of `len · log2(pool)`; then each
/// of them is reported. In any key, a token beating chance by [`SIGNIFICANT_BITS`] is
/// reported.
fn reportable(est: &Estimate) -> (f64, Vec<Token>) {
    let counted: f64 = est
        .path
        .iter()
        .zip(&est.counts)
        .filter(|(_, c)| **c)
        .map(|(t, _)| est.saved(t))
        .sum();
    let random = est.random_bits();
    let share = if random > 0.0 { counted / random } else { 0.0 };
    let structured = share >= STRUCTURED_FRACTION;
    let mut reported = Vec::new();
    for t in &est.path {
        if !(est.beats_chance(t) && (structured || est.excess(t) >= SIGNIFICANT_BITS)) {
            continue;
        }
        reported.push(*t);
        if matches!(t.kind, Kind::Repeat { .. }) {
            reported.extend(
                est.inner
                    .iter()
                    .filter(|i| i.start >= t.start && i.end <= t.end),
            );
        }
    }
    (share, reported)
}

/// KW007 to KW011, from the reportable tokens.
fn pattern_findings(est: &Estimate, ctx: &Context, findings: &mut Vec<Finding>) {
    let (share, reported) = reportable(est);
    let weak_otherwise = est.len < MIN_LEN || est.bits < 80.0;
    // A lone pattern in a key that keeps 128 bits without it (a keyboard run appended to
    // a random key) is worth fixing at the next rotation, not a weak key: `medium`.
    let severity = if share >= STRUCTURED_FRACTION || est.bits < 128.0 {
        Severity::High
    } else {
        Severity::Medium
    };

    // KW007: words, keyboard runs, sequences, named by category and count only.
    let count = |k: Kind| reported.iter().filter(|t| t.kind == k).count();
    let mut parts = Vec::new();
    for (kind, one, many) in [
        (
            Kind::Word,
            "a common word or password",
            "common words or passwords",
        ),
        (Kind::Keyboard, "a keyboard run", "keyboard runs"),
        (Kind::Sequence, "a sequence", "sequences"),
    ] {
        match count(kind) {
            0 => {}
            1 => parts.push(one.to_string()),
            n => parts.push(format!("{n} {many}")),
        }
    }
    if !parts.is_empty() {
        findings.push(
            Finding::new(
                Code::Predictable,
                severity,
                format!("guessable content: {}", parts.join(", ")),
            )
            .with_fix(FIX_ROTATE),
        );
    }

    // KW008: telling words, named (public list).
    let mut telling: Vec<&str> = Vec::new();
    for t in &reported {
        if let Kind::Telling(i) = t.kind {
            let w = TELLING_WORDS[usize::from(i)];
            if !telling.contains(&w) {
                telling.push(w);
            }
        }
    }
    if !telling.is_empty() {
        let list: Vec<String> = telling.iter().map(|w| format!("`{w}`")).collect();
        let (noun, verb) = if telling.len() == 1 {
            ("a term", "marks")
        } else {
            ("terms", "mark")
        };
        findings.push(
            Finding::new(
                Code::TellingWord,
                severity,
                format!(
                    "contains {}: {noun} that {verb} a made-up, non-random value",
                    list.join(", ")
                ),
            )
            .with_fix(FIX_ROTATE),
        );
    }

    // KW009: names from the context, named (public).
    let mut seen: Vec<usize> = Vec::new();
    for t in &reported {
        if let Kind::Name(i) = t.kind
            && !seen.contains(&i)
        {
            seen.push(i);
            let (name, what) = ctx.display[i];
            findings.push(
                Finding::new(
                    Code::ContainsName,
                    severity,
                    format!("contains the {what} name `{name}`: the first thing an attacker tries"),
                )
                .with_fix(FIX_ROTATE),
            );
        }
    }

    // KW010: years and dates, never echoed.
    let dates = reported
        .iter()
        .filter(|t| matches!(t.kind, Kind::Year | Kind::Date))
        .count();
    if dates > 0 {
        let severity = if weak_otherwise {
            Severity::High
        } else {
            Severity::Medium
        };
        let what = if dates == 1 {
            "a year or a date".to_string()
        } else {
            format!("{dates} years or dates")
        };
        findings.push(
            Finding::new(
                Code::ContainsDate,
                severity,
                format!("contains {what}: among the first guesses"),
            )
            .with_fix(FIX_ROTATE),
        );
    }

    // KW011: repeated chunks.
    let repeats: Vec<&Token> = reported
        .iter()
        .filter(|t| matches!(t.kind, Kind::Repeat { .. }))
        .collect();
    if !repeats.is_empty() {
        let covered: usize = repeats.iter().map(|t| t.len()).sum();
        let share = covered as f64 / est.len as f64;
        let severity = if share >= 0.5 || weak_otherwise || est.bits < 128.0 {
            Severity::High
        } else {
            Severity::Medium
        };
        let reps: usize = repeats
            .iter()
            .map(|t| match t.kind {
                Kind::Repeat { reps } => reps,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        findings.push(
            Finding::new(
                Code::Repeated,
                severity,
                format!(
                    "repeated chunks cover {:.0}% of the key (up to {reps} copies back to back)",
                    share * 100.0
                ),
            )
            .with_fix(FIX_ROTATE),
        );
    }
}

#[cfg(test)]
mod tests;
