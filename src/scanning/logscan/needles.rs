//! The encodings a key is searched in: raw, URL-escaped, base64 (standard and URL-safe,
//! at each alignment) and JSON-escaped. Every needle is key material, held in buffers that
//! are wiped on drop.

use super::*;
use crate::keys::encodings::{
    JsonStyle, base64_needles, is_url_unreserved, json_escape, secret_buf,
};

/// The byte strings searched for, owned here and wiped on drop.
pub(super) struct Needles {
    /// Searched in the raw line.
    pub(super) direct: Vec<(Encoding, Zeroizing<Vec<u8>>)>,
    /// Keys searched in the percent-decoded line.
    pub(super) url: Vec<Zeroizing<Vec<u8>>>,
}

impl Needles {
    pub(super) fn new(keys: &[&Secret]) -> Self {
        let mut direct: Vec<(Encoding, Zeroizing<Vec<u8>>)> = Vec::new();
        let mut url: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut add = |enc: Encoding, n: Zeroizing<Vec<u8>>| {
            if n.len() >= MIN_NEEDLE && !direct.iter().any(|(_, d)| **d == *n) {
                direct.push((enc, n));
            }
        };
        for key in keys {
            let s = key.expose_secret();
            let b = s.as_bytes();
            let mut plain = secret_buf(b.len());
            plain.extend_from_slice(b);
            add(Encoding::Plain, plain);
            for style in [JsonStyle::Serde, JsonStyle::Python, JsonStyle::Go] {
                add(Encoding::JsonEscaped, json_escape(s, style));
            }
            for needle in base64_needles(b, &STANDARD_NO_PAD) {
                add(Encoding::Base64, needle);
            }
            for needle in base64_needles(b, &URL_SAFE_NO_PAD) {
                add(Encoding::Base64Url, needle);
            }
            if b.len() >= MIN_NEEDLE
                && b.iter().any(|&c| !is_url_unreserved(c))
                && !url.iter().any(|u| **u == *b)
            {
                let mut k = secret_buf(b.len());
                k.extend_from_slice(b);
                url.push(k);
            }
        }
        Needles { direct, url }
    }
}
