//! Cost of `analyze`: `cargo bench --bench strength`.
//! Prints µs per key for 1,000 random 64-character keys (the guide's charset), for other
//! generators, and for each of the guide's examples, with its label, bits and findings.

use keywarden::keys::secret::Secret;
use keywarden::keys::strength::{Context, analyze};
use rand::RngExt;
use std::hint::black_box;
use std::time::Instant;

const GUIDE: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()_+-=[]{}|;:,.<>?";

fn random_keys(charset: &[u8], len: usize, n: usize) -> Vec<Secret> {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| {
            let key: String = (0..len)
                .map(|_| charset[rng.random_range(0..charset.len())] as char)
                .collect();
            Secret::new(key)
        })
        .collect()
}

fn per_key_us(keys: &[Secret], ctx: &Context) -> f64 {
    let start = Instant::now();
    for k in keys {
        black_box(analyze(black_box(k), ctx));
    }
    start.elapsed().as_secs_f64() * 1e6 / keys.len() as f64
}

fn main() {
    let envs = ["dev", "staging", "production"];
    let ctx = Context::new(Some("baguette-metro"), &envs);
    // First call builds the dictionary trie and the known-key set.
    let start = Instant::now();
    analyze(&Secret::new("warm-up".into()), &ctx);
    println!(
        "first call (builds word trie + known keys): {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );

    for (name, charset, len) in [
        ("guide charset, 64 chars", GUIDE, 64),
        ("guide charset, 32 chars", GUIDE, 32),
        ("hex, 64 chars", b"0123456789abcdef".as_slice(), 64),
        (
            "alnum, 128 chars",
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".as_slice(),
            128,
        ),
    ] {
        let keys = random_keys(charset, len, 1000);
        per_key_us(&keys, &ctx);
        let us = per_key_us(&keys, &ctx);
        println!(
            "1,000 random keys, {name}: {us:.1} µs/key, {:.1} ms total",
            us * 1000.0 / 1000.0
        );
    }

    let examples = [
        "password123",
        "abc123",
        "baguette-metro-2024",
        "dev-secret-key-for-testing-only",
        "staging-secret-key-2024",
        "}%V7%ot+5f9}FGbaJMeRh;Rh.vJy8=7ZQcyeI0q&,]u-$uCtz$QI}1_(7tV]T!>v",
        &"abc".repeat(22),
        "django-insecure-k8#m2x!q9v@z4w&p7r$t1y^b5n*c3f(h6j)d0g_s-a+l=e[o]u{i}",
        "correct-horse-battery-staple-monkey-dragon-sunshine-princess-2024",
    ];
    println!();
    for (i, ex) in examples.iter().enumerate() {
        let keys: Vec<Secret> = (0..1000).map(|_| Secret::new(ex.to_string())).collect();
        let us = per_key_us(&keys, &ctx);
        let s = analyze(&keys[0], &ctx);
        let codes: Vec<String> = s
            .findings
            .iter()
            .map(|f| format!("{}:{}", f.code, f.severity))
            .collect();
        println!(
            "example {i} ({} chars): {us:.1} µs  {} {:.1} bits  {}",
            ex.chars().count(),
            s.label,
            s.bits,
            codes.join(" ")
        );
    }
}
