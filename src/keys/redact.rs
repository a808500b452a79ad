//! Redaction of keys from the output of the commands keywarden runs (restart, verify,
//! notify): every key it knows, in every form a program prints one
//! ([`super::encodings`]), replaced by its fingerprint before the output reaches the
//! terminal, the TUI, the journal or an incident record.
//!
//! Output arrives in chunks, and a key may be cut between two reads. A [`Redactor`] is a
//! stream: it releases only the bytes that no needle can still reach, and holds back the
//! last `longest needle - 1` bytes until more arrive or the stream ends.

use super::encodings::{
    JsonStyle, base64_needles, hex_forms, json_escape, percent_forms, secret_buf,
};
use super::secret::Secret;
use aho_corasick::{AhoCorasick, MatchKind};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Needles shorter than this are not searched: they would match ordinary text. A key is
/// at least 32 characters; the edge-trimmed base64 forms of a short key are the shortest.
const MIN_NEEDLE: usize = 12;

/// The compiled search for a set of keys; cheap to share between streams.
#[derive(Clone)]
pub struct Needles {
    automaton: Option<Arc<AhoCorasick>>,
    /// For each needle, the text that replaces it.
    replacement: Arc<Vec<String>>,
    longest: usize,
}

impl std::fmt::Debug for Needles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Needles")
            .field("count", &self.replacement.len())
            .finish_non_exhaustive()
    }
}

impl Needles {
    /// Every form of each key, each replaced by its text (the key's fingerprint).
    pub fn new(keys: &[(Secret, String)]) -> Needles {
        let mut needles: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut replacement = Vec::new();
        for (key, shown) in keys {
            let s = key.expose_secret();
            let b = s.as_bytes();
            if b.is_empty() {
                continue;
            }
            let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::new();
            let mut plain = secret_buf(b.len());
            plain.extend_from_slice(b);
            forms.push(plain);
            for style in [JsonStyle::Serde, JsonStyle::Python, JsonStyle::Go] {
                forms.push(json_escape(s, style));
            }
            forms.extend(base64_needles(b, &STANDARD_NO_PAD));
            forms.extend(base64_needles(b, &URL_SAFE_NO_PAD));
            forms.extend(percent_forms(b));
            forms.extend(hex_forms(b));
            for form in forms {
                // The key itself is always searched, however short; its encodings only
                // when long enough not to match ordinary text.
                let is_plain = *form == *b;
                if (is_plain || form.len() >= MIN_NEEDLE) && !needles.iter().any(|n| **n == *form) {
                    needles.push(form);
                    replacement.push(shown.clone());
                }
            }
        }
        let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
        let automaton = (!needles.is_empty()).then(|| {
            Arc::new(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(needles.iter().map(|n| &n[..]))
                    .expect("needles of bounded length always build"),
            )
        });
        Needles {
            automaton,
            replacement: Arc::new(replacement),
            longest,
        }
    }

    /// `bytes` with every needle replaced (a whole text, not a stream).
    pub fn redact(&self, bytes: &[u8]) -> Vec<u8> {
        let mut r = self.stream();
        let mut out = r.feed(bytes);
        out.extend(r.finish());
        out
    }

    /// The texts (fingerprints) of the keys found anywhere in `bytes`, in any form, each
    /// once.
    pub fn found_in(&self, bytes: &[u8]) -> Vec<&str> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        let mut found: Vec<&str> = ac
            .find_iter(bytes)
            .map(|m| self.replacement[m.pattern().as_usize()].as_str())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Where a key starts in `bytes`, in any form, with its text (fingerprint).
    pub fn positions<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        self.automaton.iter().flat_map(move |ac| {
            ac.find_iter(bytes)
                .map(|m| (m.start(), self.replacement[m.pattern().as_usize()].as_str()))
        })
    }

    /// A stream over these needles.
    pub fn stream(&self) -> Redactor {
        Redactor {
            needles: self.clone(),
            pending: Zeroizing::new(Vec::new()),
        }
    }
}

/// One output stream being redacted.
pub struct Redactor {
    needles: Needles,
    /// Bytes received but not released: a needle may still be completed by the next
    /// chunk. Key material until redacted: wiped on drop.
    pending: Zeroizing<Vec<u8>>,
}

impl Redactor {
    /// Takes `chunk`; returns the redacted bytes that are safe to release now.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(chunk);
        let hold = self.needles.longest.saturating_sub(1);
        let safe = self.pending.len().saturating_sub(hold);
        self.release(safe)
    }

    /// The end of the stream: everything left, redacted.
    pub fn finish(&mut self) -> Vec<u8> {
        let all = self.pending.len();
        self.release(all)
    }

    /// Releases `pending[..upto]`, extended past `upto` through any needle that starts
    /// before it (a needle starting before `upto` lies wholly in `pending`: no needle is
    /// longer than what is held back).
    fn release(&mut self, upto: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(upto);
        let mut at = 0;
        if let Some(ac) = &self.needles.automaton {
            for m in ac.find_iter(&self.pending[..]) {
                if m.start() >= upto {
                    break;
                }
                out.extend_from_slice(&self.pending[at..m.start()]);
                out.extend_from_slice(self.needles.replacement[m.pattern().as_usize()].as_bytes());
                at = m.end();
            }
        }
        let end = upto.max(at);
        out.extend_from_slice(&self.pending[at..end]);
        // Shift the rest to the front in place: the buffer never reallocates a copy.
        let rest = self.pending.len() - end;
        self.pending.copy_within(end.., 0);
        let len = self.pending.len();
        self.pending[rest..len].iter_mut().for_each(|b| *b = 0);
        self.pending.truncate(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const KEY: &str = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";

    fn needles() -> Needles {
        Needles::new(&[(Secret::new(KEY.to_string()), "kw:00000000".to_string())])
    }

    fn leaks(text: &[u8]) -> bool {
        let s = String::from_utf8_lossy(text);
        s.contains(KEY) || s.contains(&KEY[..20]) || s.contains(&KEY[40..])
    }

    #[test]
    fn every_form_is_replaced() {
        let b = KEY.as_bytes();
        let mut forms: Vec<String> = vec![
            KEY.to_string(),
            serde_json::to_string(KEY).unwrap(),
            base64::engine::general_purpose::STANDARD.encode(b),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
            b.iter().map(|c| format!("{c:02x}")).collect(),
            b.iter().map(|c| format!("{c:02X}")).collect(),
        ];
        // base64 of the key inside a longer run, at each alignment.
        for pre in ["", "a", "ab"] {
            forms.push(base64::engine::general_purpose::STANDARD.encode(format!("{pre}{KEY}tail")));
        }
        forms.push(
            b.iter()
                .map(|&c| {
                    if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                        (c as char).to_string()
                    } else {
                        format!("%{c:02X}")
                    }
                })
                .collect(),
        );
        let n = needles();
        for form in forms {
            let text = format!("SECRET_KEY={form} and more\n");
            let out = n.redact(text.as_bytes());
            let out = String::from_utf8_lossy(&out);
            assert!(!out.contains(&form), "{form} survived: {out}");
            assert!(out.contains("kw:00000000"), "{out}");
        }
    }

    #[test]
    fn a_key_split_across_chunks_is_still_replaced() {
        let text = format!("before {KEY} after {KEY}\n");
        let n = needles();
        for cut in 0..text.len() {
            for second in cut..text.len() {
                let mut r = n.stream();
                let mut out = r.feed(&text.as_bytes()[..cut]);
                out.extend(r.feed(&text.as_bytes()[cut..second]));
                out.extend(r.feed(&text.as_bytes()[second..]));
                out.extend(r.finish());
                assert!(!leaks(&out), "cut at {cut},{second}");
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    "before kw:00000000 after kw:00000000\n"
                );
            }
        }
    }

    #[test]
    fn byte_by_byte_releases_everything_in_order() {
        let text = format!(
            "a{KEY}b{}c",
            base64::engine::general_purpose::STANDARD.encode(KEY)
        );
        let n = needles();
        let mut r = n.stream();
        let mut out = Vec::new();
        for b in text.as_bytes() {
            out.extend(r.feed(std::slice::from_ref(b)));
        }
        out.extend(r.finish());
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("akw:00000000b"), "{out}");
        assert!(out.ends_with('c'), "{out}");
        assert!(!leaks(out.as_bytes()));
    }

    #[test]
    fn no_keys_passes_everything() {
        let n = Needles::new(&[]);
        assert_eq!(n.redact(b"hello"), b"hello");
        let mut r = n.stream();
        assert_eq!(r.feed(b"abc"), b"abc");
        assert!(r.finish().is_empty());
    }
}
