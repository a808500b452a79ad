//! The encodings a key is searched in: raw, URL-escaped, base64 (standard and URL-safe,
//! at each alignment) and JSON-escaped. Every needle is key material, held in buffers that
//! are wiped on drop.

use super::*;

/// A buffer for key material, allocated at its final capacity so that it never moves.
pub(super) fn secret_buf(capacity: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Vec::with_capacity(capacity))
}

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

pub(super) fn is_url_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// The base64 forms of `key` for the 3 alignments inside a longer run: for `a` in 0..3,
/// encode `a` zero bytes + key + zero padding to a multiple of 3, then keep characters
/// `ceil(8a/6) .. floor(8(a+n)/6)`, the ones whose 6 bits all come from the key.
pub(super) fn base64_needles(
    key: &[u8],
    engine: &base64::engine::GeneralPurpose,
) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out = Vec::with_capacity(3);
    if key.is_empty() {
        return out;
    }
    for a in 0..3 {
        let padded_len = (a + key.len()).div_ceil(3) * 3;
        let mut padded = secret_buf(padded_len);
        padded.resize(padded_len, 0);
        padded[a..a + key.len()].copy_from_slice(key);
        let encoded_len = padded_len / 3 * 4;
        let mut encoded = secret_buf(encoded_len);
        encoded.resize(encoded_len, 0);
        let written = engine
            .encode_slice(&padded[..], &mut encoded[..])
            .expect("buffer sized for the encoding");
        debug_assert_eq!(written, encoded_len);
        let start = (8 * a).div_ceil(6);
        let end = 8 * (a + key.len()) / 6;
        let mut needle = secret_buf(end - start);
        needle.extend_from_slice(&encoded[start..end]);
        out.push(needle);
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum JsonStyle {
    /// serde_json and `JSON.stringify`: non-ASCII as is.
    Serde,
    /// Python `json.dumps` (`ensure_ascii=True`): non-ASCII and DEL as `\uxxxx`.
    Python,
    /// Go `encoding/json`: also `<` `>` `&` U+2028 U+2029 as `\uxxxx`.
    Go,
}

pub(super) fn json_escape(s: &str, style: JsonStyle) -> Zeroizing<Vec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // The longest escape is 6 bytes per input byte (`\u001f` for one byte; a 4-byte
    // character becomes a 12-byte surrogate pair).
    let mut out = secret_buf(s.len() * 6);
    let u = |out: &mut Zeroizing<Vec<u8>>, v: u32| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[((v >> shift) & 0xf) as usize]);
        }
    };
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' if style != JsonStyle::Go => out.extend_from_slice(b"\\b"),
            '\u{c}' if style != JsonStyle::Go => out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => u(&mut out, c as u32),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style == JsonStyle::Go => {
                u(&mut out, c as u32)
            }
            c if style == JsonStyle::Python && (c as u32) >= 0x7f => {
                let v = c as u32;
                if v > 0xffff {
                    let v = v - 0x10000;
                    u(&mut out, 0xd800 + (v >> 10));
                    u(&mut out, 0xdc00 + (v & 0x3ff));
                } else {
                    u(&mut out, v);
                }
            }
            c => {
                let mut tmp = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                tmp.fill(0);
            }
        }
    }
    debug_assert!(out.len() <= s.len() * 6);
    out
}
