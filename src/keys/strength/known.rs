//! Published keys (`assets/known-keys.txt`, SHA-256 digests) and framework placeholders.

use sha2::{Digest, Sha256};

#[cfg(test)]
const KNOWN_KEYS_TXT: &str = include_str!("../../../assets/known-keys.txt");

mod tables {
    include!(concat!(env!("OUT_DIR"), "/known_digests.rs"));
}

/// The published keys' digests, sorted at compile time (`build.rs`).
fn known_digests() -> &'static [[u8; 32]] {
    &tables::KNOWN_DIGESTS
}

fn contains(set: &[[u8; 32]], d: &[u8; 32]) -> bool {
    set.binary_search(d).is_ok()
}

#[cfg(test)]
fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Whether `key` (or `key` without surrounding whitespace) is a published key.
pub fn is_known(key: &str) -> bool {
    let set = known_digests();
    if contains(set, &digest(key)) {
        return true;
    }
    let trimmed = key.trim();
    trimmed.len() != key.len() && contains(set, &digest(trimmed))
}

/// Prefixes that frameworks put on keys they generate for development only.
pub const INSECURE_PREFIXES: &[&str] = &["django-insecure-"];

/// Markers of a placeholder left in place of a key, matched case-insensitively anywhere.
/// All are 7+ characters, so a random key contains one by chance with probability
/// below 1e-9 (61 windows × (2/88)^7).
pub const PLACEHOLDER_MARKERS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "change-this",
    "change_this",
    "replaceme",
    "replace-me",
    "replace_me",
    "your-secret",
    "your_secret",
    "yoursecret",
    "your-key",
    "your_key",
    "votre-cle",
    "votre_cle",
    "example",
    "placeholder",
    "xxxxxxxx",
    "notasecret",
    "not-a-secret",
    "not_a_secret",
    "insert-key",
    "insert_key",
];

/// The public marker that makes `key` a placeholder, if any.
pub fn placeholder(key: &str) -> Option<&'static str> {
    let lower = zeroize::Zeroizing::new(key.trim().to_ascii_lowercase());
    if let Some(p) = INSECURE_PREFIXES.iter().find(|p| lower.starts_with(**p)) {
        return Some(p);
    }
    if let Some(m) = PLACEHOLDER_MARKERS.iter().find(|m| lower.contains(**m)) {
        return Some(m);
    }
    // A template left unfilled: `<your key here>`, `{{ secret_key }}`.
    let wrapped = [("<", ">"), ("{{", "}}"), ("[", "]")]
        .into_iter()
        .find_map(|(open, close)| lower.strip_prefix(open)?.strip_suffix(close));
    if let Some(inner) = wrapped {
        let inner = inner.trim();
        if !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b' ' | b'-' | b'_' | b'.'))
        {
            return Some("<...>");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_and_docs_keys_are_known() {
        for k in [
            "}%V7%ot+5f9}FGbaJMeRh;Rh.vJy8=7ZQcyeI0q&,]u-$uCtz$QI}1_(7tV]T!>v",
            "password123",
            "abc123",
            "baguette-metro-2024",
            "dev-secret-key-for-testing-only",
            "staging-secret-key-2024",
            "votre-cle-secrete-ici",
            "dev",
            "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
            "keyboard cat",
            "your-secret-key-here",
            "changeme",
            "CHANGE_ME",
        ] {
            assert!(is_known(k), "{k}");
        }
        assert!(is_known("  password123\n"));
        assert!(!is_known("password1234"));
        assert!(!is_known(""));
    }

    #[test]
    fn every_line_is_a_comment_or_a_digest() {
        let n = KNOWN_KEYS_TXT
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .inspect(|l| assert!(parse_hex(l).is_some(), "{l}"))
            .count();
        assert_eq!(n, tables::KNOWN_DIGEST_LINES);
        assert_eq!(n, known_digests().len(), "duplicate digests");
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            placeholder("django-insecure-q8#x@v!m2z"),
            Some("django-insecure-")
        );
        assert_eq!(placeholder("MY-CHANGEME-KEY"), Some("changeme"));
        assert_eq!(placeholder("<your secret key>"), Some("<...>"));
        assert_eq!(placeholder("{{ secret_key }}"), Some("<...>"));
        assert_eq!(placeholder("<a8Zk2!>"), None);
        assert_eq!(placeholder("Xk9#mQ2$vL7@pR4&"), None);
    }
}
