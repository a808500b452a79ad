use super::*;
use crate::keys::encodings::{JsonStyle, base64_needles, is_url_unreserved, json_escape};
use base64::Engine as _;

const KEY: &str = "Zq8#vN2!pL@4wX9$mR6^tY1&kB7*hD3(jF5)";

fn secret(s: &str) -> Secret {
    Secret::new(s.to_string())
}

fn hits_of(line: &[u8], keys: &[&Secret]) -> Vec<(HitKind, Option<&'static str>)> {
    let needles = Needles::new(keys);
    let m = Matcher::new(&needles);
    let mut b = Buffers::new();
    let mut out = Vec::new();
    scan_line(
        line,
        &m,
        &mut b.lower,
        &mut b.decoded,
        &mut b.escapes,
        |k, p| out.push((k, p)),
    );
    out
}

fn kinds(line: &[u8], key: &str) -> Vec<HitKind> {
    let s = secret(key);
    hits_of(line, &[&s]).into_iter().map(|(k, _)| k).collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Python's `quote_plus`: escape all but `A-Za-z0-9_.-~`, space as `+`.
fn quote_plus(s: &str, lower_hex: bool) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if is_url_unreserved(c) {
            out.push(c as char);
        } else if c == b' ' {
            out.push('+');
        } else if lower_hex {
            out.push_str(&format!("%{c:02x}"));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// JavaScript's `encodeURIComponent`: also leaves `!*'()` as they are.
fn encode_uri_component(s: &str) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if is_url_unreserved(c) || b"!*'()".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

#[test]
fn plain_key_is_found_once() {
    let line = format!("SECRET_KEY = '{KEY}' loaded");
    assert_eq!(kinds(line.as_bytes(), KEY), [HitKind::Key(Encoding::Plain)]);
}

#[test]
fn base64_every_alignment_and_surrounding() {
    let key = KEY.as_bytes();
    for prefix_len in 0..7 {
        for suffix_len in 0..4 {
            let mut blob = vec![b'u'; prefix_len];
            blob.extend_from_slice(key);
            blob.extend(std::iter::repeat_n(b'z', suffix_len));
            let line = format!("Authorization: Basic {}", b64(&blob));
            assert_eq!(
                kinds(line.as_bytes(), KEY),
                [HitKind::Key(Encoding::Base64)],
                "prefix {prefix_len}, suffix {suffix_len}"
            );
        }
    }
}

#[test]
fn base64_needles_drop_only_partial_characters() {
    let n = base64_needles(&[0xff; 16], &STANDARD_NO_PAD);
    // 16 bytes = 128 bits. Offset 0: chars 0..21; offset 1 (8 bits before): chars
    // 2..22; offset 2: chars 3..24.
    let lens: Vec<usize> = n.iter().map(|v| v.len()).collect();
    assert_eq!(lens, [21, 20, 21]);
    assert!(n.iter().all(|v| v.iter().all(|&c| c == b'/')));
}

#[test]
fn base64url_is_told_apart_when_it_differs() {
    // A run of `~` encodes to the cycle "fn5+" (URL-safe "fn5-") at every alignment.
    let key = "tilde~~~~~~~~~~~~~~~~~~~~~~~~~~~end";
    let blob: Vec<u8> = [b"{\"k\":\"".as_slice(), key.as_bytes(), b"\"}"].concat();
    let std = b64(&blob);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&blob);
    assert_ne!(std.trim_end_matches('='), url);
    assert_eq!(kinds(std.as_bytes(), key), [HitKind::Key(Encoding::Base64)]);
    let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{url}.c2ln");
    assert_eq!(
        kinds(jwt.as_bytes(), key),
        [HitKind::Key(Encoding::Base64Url)]
    );
}

#[test]
fn url_encoded_by_several_encoders() {
    let key = "Zq8#vN2!pL@4 wX9$mR6^tY1&kB7*hD3(jF5)+/";
    for enc in [
        quote_plus(key, false),
        quote_plus(key, true),
        encode_uri_component(key),
    ] {
        let line = format!("GET /login?next=%2F&token={enc}&x=1 HTTP/1.1");
        assert_eq!(
            kinds(line.as_bytes(), key),
            [HitKind::Key(Encoding::UrlEncoded)],
            "{enc}"
        );
    }
}

#[test]
fn plain_key_in_a_line_with_escapes_is_not_also_url_encoded() {
    let line = format!("GET /a%20b?x=1+2 key={KEY}");
    assert_eq!(kinds(line.as_bytes(), KEY), [HitKind::Key(Encoding::Plain)]);
    // ... and both when both are there.
    let line = format!("key={KEY} q={}", quote_plus(KEY, false));
    assert_eq!(
        kinds(line.as_bytes(), KEY),
        [
            HitKind::Key(Encoding::Plain),
            HitKind::Key(Encoding::UrlEncoded)
        ]
    );
}

#[test]
fn key_with_a_percent_sign_decodes_without_false_plain() {
    let key = "abcd%41efghijklmnopqrstu";
    let line = "x=abcd%2541efghijklmnopqrstu".to_string();
    assert_eq!(
        kinds(line.as_bytes(), key),
        [HitKind::Key(Encoding::UrlEncoded)]
    );
    let line = format!("x={key}");
    assert_eq!(kinds(line.as_bytes(), key), [HitKind::Key(Encoding::Plain)]);
}

#[test]
fn json_escape_matches_serde_json() {
    for key in [
        "quote\"back\\slash\u{1}\u{8}\u{c}\n\r\t\u{7f}é€😀<&>",
        "plain-ascii-only-key-0123456789",
    ] {
        let serde = serde_json::to_string(key).unwrap();
        let ours = json_escape(key, JsonStyle::Serde);
        assert_eq!(&serde.as_bytes()[1..serde.len() - 1], &ours[..]);
    }
    let py = json_escape("a\"é😀\u{7f}", JsonStyle::Python);
    assert_eq!(&py[..], b"a\\\"\\u00e9\\ud83d\\ude00\\u007f");
    let go = json_escape("<&>\u{8}\u{2028}", JsonStyle::Go);
    assert_eq!(&go[..], b"\\u003c\\u0026\\u003e\\u0008\\u2028");
}

#[test]
fn json_escaped_key_is_found() {
    let key = "json\"quoted\\key-with-specials-0123";
    let esc = serde_json::to_string(key).unwrap();
    let line = format!("{{\"level\":\"info\",\"settings\":{{\"SECRET_KEY\":{esc}}}}}");
    assert_eq!(
        kinds(line.as_bytes(), key),
        [HitKind::Key(Encoding::JsonEscaped)]
    );
    // A guide-charset key is identical in serde_json, escaped only by Go.
    let go = String::from_utf8(json_escape(KEY, JsonStyle::Go).to_vec()).unwrap();
    let line = format!("{{\"key\":\"{go}\"}}");
    assert_eq!(
        kinds(line.as_bytes(), KEY),
        [HitKind::Key(Encoding::JsonEscaped)]
    );
}

#[test]
fn short_needles_are_skipped() {
    let key = "short-key-15chr";
    assert_eq!(key.len(), 15);
    assert!(kinds(format!("k={key}").as_bytes(), key).is_empty());
    let n = Needles::new(&[&secret(key)]);
    assert!(n.direct.iter().all(|(e, _)| *e != Encoding::Plain));
    assert!(n.url.is_empty());
    assert!(n.direct.iter().all(|(_, v)| v.len() >= MIN_NEEDLE));
}

#[test]
fn signature_patterns_are_case_insensitive_and_counted_once() {
    let line =
        b"ERROR itsdangerous.exc.BADSIGNATURE: Signature b'x' does not match; invalid signature";
    assert_eq!(
        hits_of(line, &[]),
        [(HitKind::SignatureError, Some("itsdangerous BadSignature"))]
    );
    for (line, name) in [
        (
            "WARNING django.security.SuspiciousSession Session data corrupted",
            "Django session data corrupted",
        ),
        (
            "Forbidden (CSRF token missing.): /login/",
            "Django CSRF token missing",
        ),
        (
            "Forbidden (CSRF token incorrect.): /login/",
            "Django CSRF token incorrect",
        ),
        (
            "jwt.exceptions.InvalidSignatureError: Signature verification failed",
            "PyJWT InvalidSignatureError",
        ),
        (
            "jwt.exceptions.DecodeError: Not enough segments",
            "PyJWT DecodeError",
        ),
        (
            "JsonWebTokenError: invalid signature",
            "jsonwebtoken invalid signature",
        ),
        (
            "ActiveSupport::MessageVerifier::InvalidSignature",
            "Rails MessageVerifier InvalidSignature",
        ),
        (
            "Illuminate\\Contracts\\Encryption\\DecryptException: The MAC is invalid.",
            "Laravel MAC is invalid",
        ),
        (
            "express-session cookie signature invalid +0ms",
            "express-session cookie signature invalid",
        ),
        ("webhook: Signature Mismatch", "signature mismatch"),
    ] {
        assert_eq!(
            hits_of(line.as_bytes(), &[]),
            [(HitKind::SignatureError, Some(name))],
            "{line}"
        );
    }
    for benign in [
        "UnicodeDecodeError: 'utf-8' codec can't decode byte",
        "json.decoder.JSONDecodeError: Expecting value",
        "jwt expired",
        "jwt.exceptions.ExpiredSignatureError: Signature has expired",
        "GET /signature/verify 200",
    ] {
        assert!(hits_of(benign.as_bytes(), &[]).is_empty(), "{benign}");
    }
}

fn lines_of(data: &[u8], chunk: usize) -> (Vec<(u64, Vec<u8>)>, u64, u64) {
    let mut read = vec![0u8; chunk];
    let mut carry = Vec::with_capacity(LINE_CAP);
    let mut out = Vec::new();
    let (mut lines, mut bytes) = (0, 0);
    for_each_line(
        data,
        &mut read,
        &mut carry,
        |_| true,
        |n, l| out.push((n, l.to_vec())),
        &mut lines,
        &mut bytes,
    )
    .unwrap();
    (out, lines, bytes)
}

#[test]
fn lines_across_chunks_and_without_final_newline() {
    let data = b"alpha\nbeta\r\n\ngamma-is-long\ndelta";
    for chunk in [1, 2, 3, 5, 7, 64] {
        let (out, lines, bytes) = lines_of(data, chunk);
        let got: Vec<&[u8]> = out.iter().map(|(_, l)| l.as_slice()).collect();
        assert_eq!(
            got,
            [&b"alpha"[..], b"beta\r", b"", b"gamma-is-long", b"delta"],
            "chunk {chunk}"
        );
        assert_eq!(
            out.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!((lines, bytes), (5, data.len() as u64));
    }
    let (out, lines, _) = lines_of(b"one\n", 2);
    assert_eq!((out.len(), lines), (1, 1));
}

#[test]
fn long_lines_are_capped_but_counted() {
    let mut data = vec![b'a'; LINE_CAP + 10];
    data.extend_from_slice(b"\nnext\n");
    for chunk in [4096, LINE_CAP * 2] {
        let (out, lines, bytes) = lines_of(&data, chunk);
        assert_eq!(lines, 2);
        assert_eq!(bytes, data.len() as u64);
        assert_eq!(out[0].1.len(), LINE_CAP);
        assert_eq!(out[1].1, b"next");
    }
}

#[test]
fn needles_are_deduplicated_across_keys() {
    let a = secret(KEY);
    let b = secret(KEY);
    let n = Needles::new(&[&a, &b]);
    let single = Needles::new(&[&a]);
    assert_eq!(n.direct.len(), single.direct.len());
    assert_eq!(n.url.len(), 1);
}

#[test]
fn errors_name_the_glob() {
    let e = scan(Path::new("/nonexistent"), &["logs/[a".to_string()], &[]).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("logs/[a"), "{text}");
    assert!(matches!(e, LogScanError::InvalidGlob { .. }));
}

#[test]
fn a_key_with_spaces_form_encoded_with_only_plus_signs_is_found() {
    // No `%` in the line: only `+` for the spaces. Lines are decoded only when they hold
    // an escape a key could be in; a key with a space makes `+` one.
    let key = "correct horse battery staple 7Hq2Zx9Lm4";
    let line = format!(
        "POST /login body=user=ann&secret={}",
        quote_plus(key, false)
    );
    assert!(!line.contains('%'), "{line}");
    assert_eq!(
        kinds(line.as_bytes(), key),
        vec![HitKind::Key(Encoding::UrlEncoded)]
    );
    // And a key without a space is not found in a `+`-only line that decodes to it with
    // spaces (no false hit), while its `%`-escaped form is.
    let plain_key = "Zq8#vN2!pL@4wX9$mR6^tY1&kB7*hD3(jF5)";
    let escaped = quote_plus(plain_key, true);
    let line = format!("GET /cb?state={escaped}&x=1+2 HTTP/1.1");
    assert_eq!(
        kinds(line.as_bytes(), plain_key),
        vec![HitKind::Key(Encoding::UrlEncoded)]
    );
}

#[test]
fn decoding_copies_runs_between_escapes_exactly() {
    let needles = Needles::new(&[&secret(KEY)]);
    let m = Matcher::new(&needles);
    let mut decoded = Vec::with_capacity(256);
    let mut escapes = Vec::new();
    // Escapes at the start, the end, side by side, a `%` without hex and a bare `%` last.
    let line = b"%41bc+%2b%2Bd%zz%4";
    let _ = url_decoded_hit(line, &m.url, &mut decoded, &mut escapes);
    assert_eq!(decoded, b"Abc ++d%zz%4");
    assert_eq!(escapes, vec![0, 3, 4, 5]);
}
