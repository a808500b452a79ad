//! The forms a key takes when a program prints it: as is, JSON-escaped (serde, Python,
//! Go), base64 and base64url at each of the three alignments inside a longer run,
//! percent-encoded as the common encoders do it, and hex. Output that wraps or spaces an
//! encoding (`base64`'s 76 columns, `xxd -p`, `od -An -tx1`) is matched by the redactor
//! with the whitespace taken out ([`super::redact`]). The log audit searches for them and command output is
//! redacted of them. Every form is key material, held in buffers wiped on drop.

use base64::Engine as _;
use zeroize::Zeroizing;

/// A buffer for key material, allocated at its final capacity so that it never moves.
pub fn secret_buf(capacity: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Vec::with_capacity(capacity))
}

pub fn is_url_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// The base64 forms of `key` for the 3 alignments inside a longer run: for `a` in 0..3,
/// encode `a` zero bytes + key + zero padding to a multiple of 3, then keep characters
/// `ceil(8a/6) .. floor(8(a+n)/6)`, the ones whose 6 bits all come from the key.
pub fn base64_needles(
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
pub enum JsonStyle {
    /// serde_json and `JSON.stringify`: non-ASCII as is.
    Serde,
    /// Python `json.dumps` (`ensure_ascii=True`): non-ASCII and DEL as `\uxxxx`.
    Python,
    /// Go `encoding/json`: also `<` `>` `&` U+2028 U+2029 as `\uxxxx`.
    Go,
}

pub fn json_escape(s: &str, style: JsonStyle) -> Zeroizing<Vec<u8>> {
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

/// How one common encoder percent-encodes: which characters besides ASCII letters and
/// digits it leaves as they are, the case of its hex digits, and whether a space becomes
/// `+` (form encoding) rather than `%20`.
struct PercentStyle {
    literal: &'static [u8],
    upper: bool,
    space_plus: bool,
}

/// The encoders whose output is searched: RFC 3986 (Python's `quote(safe='')`,
/// `rawurlencode`, .NET's `EscapeDataString`, in both hex cases), JavaScript's
/// `encodeURIComponent` and `encodeURI`, Java's `URLEncoder` (leaves `*`, space as `+`),
/// PHP's `urlencode`, Python's `quote_plus` and Go's `QueryEscape` (form encoding),
/// Python's `quote` (leaves `/`), Go's `PathEscape`, and .NET's `HttpUtility.UrlEncode`
/// (lowercase hex, leaves `!()*`).
const PERCENT_STYLES: &[PercentStyle] = &[
    PercentStyle {
        literal: b"-._~",
        upper: true,
        space_plus: false,
    },
    PercentStyle {
        literal: b"-._~",
        upper: false,
        space_plus: false,
    },
    PercentStyle {
        literal: b"-._~!*'()",
        upper: true,
        space_plus: false,
    },
    PercentStyle {
        literal: b"-._~!*'();,/?:@&=+$#",
        upper: true,
        space_plus: false,
    },
    PercentStyle {
        literal: b".-*_",
        upper: true,
        space_plus: true,
    },
    PercentStyle {
        literal: b"-._",
        upper: true,
        space_plus: true,
    },
    PercentStyle {
        literal: b"-._~",
        upper: true,
        space_plus: true,
    },
    PercentStyle {
        literal: b"-._~/",
        upper: true,
        space_plus: false,
    },
    PercentStyle {
        literal: b"-._~$&+:=@",
        upper: true,
        space_plus: false,
    },
    PercentStyle {
        literal: b"-._!*()",
        upper: false,
        space_plus: true,
    },
];

/// `key` percent-encoded as the common encoders write it ([`PERCENT_STYLES`]), each
/// distinct form once. Empty when nothing needs escaping (the key itself is then its
/// only form).
pub fn percent_forms(key: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    if key.iter().all(|&c| is_url_unreserved(c)) {
        return Vec::new();
    }
    let mut out: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    for style in PERCENT_STYLES {
        let hex: &[u8; 16] = if style.upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut form = secret_buf(key.len() * 3);
        for &c in key {
            if c.is_ascii_alphanumeric() || style.literal.contains(&c) {
                form.push(c);
            } else if c == b' ' && style.space_plus {
                form.push(b'+');
            } else {
                form.extend_from_slice(&[b'%', hex[(c >> 4) as usize], hex[(c & 0xf) as usize]]);
            }
        }
        if *form != *key && !out.iter().any(|o| **o == *form) {
            out.push(form);
        }
    }
    out
}

/// `key` as lowercase and uppercase hex.
pub fn hex_forms(key: &[u8]) -> [Zeroizing<Vec<u8>>; 2] {
    [b"0123456789abcdef", b"0123456789ABCDEF"].map(|hex| {
        let mut form = secret_buf(key.len() * 2);
        for &c in key {
            form.extend_from_slice(&[hex[(c >> 4) as usize], hex[(c & 0xf) as usize]]);
        }
        form
    })
}
