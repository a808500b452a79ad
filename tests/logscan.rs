//! The log audit scanner against a generated corpus with keys planted at known lines.

mod common;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use keywarden::keys::secret::Secret;
use keywarden::scanning::logscan::{COMPRESSED, Encoding, HitKind, LogScan, LogScanError, scan};

/// A key of the guide's charset. The `???` run makes its base64 contain `/` (URL-safe
/// `_`) at every alignment, so Base64 and Base64Url are told apart.
const GUIDE_KEY: &str = "k7R!mQ2@xZ9#???pL4$wN8%tY1^vB6&hJ3*(cF5)_+-=[]{}|;:,.<>?";
/// A generic key with a quote and a backslash, for the JSON case.
const GENERIC_KEY: &str = "gen\"eric\\key with \"quotes\" and \\slashes/2024";

const PLAIN: HitKind = HitKind::Key(Encoding::Plain);
const URL: HitKind = HitKind::Key(Encoding::UrlEncoded);
const B64: HitKind = HitKind::Key(Encoding::Base64);
const B64URL: HitKind = HitKind::Key(Encoding::Base64Url);
const JSON: HitKind = HitKind::Key(Encoding::JsonEscaped);
const SIG: HitKind = HitKind::SignatureError;

/// Python's `quote_plus` with upper or lower hex.
fn quote_plus(s: &str, lower: bool) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(c as char);
        } else if c == b' ' {
            out.push('+');
        } else if lower {
            out.push_str(&format!("%{c:02x}"));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// JavaScript's `encodeURIComponent`.
fn encode_uri_component(s: &str) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-._~!*'()".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

fn nginx(n: usize, path_query: &str) -> String {
    format!(
        "203.0.113.{} - - [12/May/2026:10:{:02}:11 +0000] \"GET {path_query} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
        n % 250,
        n % 60,
        500 + n
    )
}

fn write_lines(path: &Path, lines: &[String], eol: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push_str(eol);
    }
    fs::write(path, s).unwrap();
}

/// Everything planted, to check that none of it leaks into the result.
struct Corpus {
    dir: tempfile::TempDir,
    planted: Vec<String>,
    expected: HashSet<(PathBuf, usize, HitKind)>,
    expected_patterns: Vec<(PathBuf, usize, &'static str)>,
}

fn build_corpus() -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut expected = HashSet::new();
    let mut planted: Vec<String> = vec![GUIDE_KEY.into(), GENERIC_KEY.into()];
    let mut exp = |p: &str, line: usize, kind: HitKind| {
        expected.insert((PathBuf::from(p), line, kind));
    };

    // nginx access log: the key in query strings, URL-encoded three ways.
    let upper = quote_plus(GUIDE_KEY, false);
    let lower = quote_plus(GUIDE_KEY, true);
    let js = encode_uri_component(GUIDE_KEY);
    let generic = quote_plus(GENERIC_KEY, false);
    planted.extend([upper.clone(), lower.clone(), js.clone(), generic.clone()]);
    write_lines(
        &root.join("nginx/access.log"),
        &[
            nginx(1, "/"),
            nginx(2, "/static/app.css?v=3"),
            nginx(3, &format!("/debug?secret={upper}&x=1")),
            nginx(4, "/search?q=a+b%20c"),
            nginx(5, &format!("/reset?token={lower}")),
            nginx(6, &format!("/api/v1/items?key={js}&page=2")),
            nginx(7, &format!("/login?next=%2F&k={generic}")),
            nginx(8, "/favicon.ico"),
        ],
        "\n",
    );
    exp("nginx/access.log", 3, URL);
    exp("nginx/access.log", 5, URL);
    exp("nginx/access.log", 6, URL);
    exp("nginx/access.log", 7, URL);

    // gunicorn/uvicorn app log printing settings with the plain key, and tracebacks.
    write_lines(
        &root.join("app/gunicorn.log"),
        &[
            "[2026-05-12 10:00:00 +0000] [1] [INFO] Starting gunicorn 23.0.0".into(),
            "[2026-05-12 10:00:00 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)".into(),
            "[2026-05-12 10:00:01 +0000] [7] [INFO] Booting worker with pid: 7".into(),
            format!("DEBUG settings: {{'DEBUG': True, 'SECRET_KEY': '{GUIDE_KEY}', 'ALLOWED_HOSTS': ['*']}}"),
            "INFO:     127.0.0.1:51234 - \"GET / HTTP/1.1\" 200 OK".into(),
            "Traceback (most recent call last):".into(),
            "itsdangerous.exc.BadSignature: Signature b'Yt5xQ' does not match".into(),
            "itsdangerous.exc.SignatureExpired: Signature age 4000 > 3600 seconds".into(),
            "django.core.signing.BadSignature: Signature \"abc\" does not match".into(),
            "WARNING 2026-05-12 django.security.SuspiciousSession Session data corrupted".into(),
            "WARNING 2026-05-12 django.security.csrf Forbidden (CSRF token missing.): /accounts/login/".into(),
            "WARNING 2026-05-12 django.security.csrf Forbidden (CSRF token incorrect.): /accounts/login/".into(),
            "<h1>Forbidden <span>(403)</span></h1><p>CSRF verification failed. Request aborted.</p>".into(),
            "INFO flask_wtf.csrf The CSRF token is invalid.".into(),
            "INFO:     Shutting down".into(),
        ],
        "\n",
    );
    exp("app/gunicorn.log", 4, PLAIN);
    for line in 7..=14 {
        exp("app/gunicorn.log", line, SIG);
    }

    // A JSON log with the generic key json-escaped.
    let escaped = serde_json::to_string(GENERIC_KEY).unwrap();
    planted.push(escaped[1..escaped.len() - 1].to_string());
    write_lines(
        &root.join("app/json.log"),
        &[
            r#"{"ts":"2026-05-12T10:00:00Z","level":"info","msg":"startup"}"#.into(),
            format!(r#"{{"ts":"2026-05-12T10:00:01Z","level":"debug","config":{{"SECRET_KEY":{escaped},"DEBUG":false}}}}"#),
            r#"{"ts":"2026-05-12T10:00:02Z","level":"error","exc":"jwt.exceptions.InvalidSignatureError: Signature verification failed"}"#.into(),
            r#"{"ts":"2026-05-12T10:00:03Z","level":"warn","exc":"jwt.exceptions.DecodeError: Not enough segments"}"#.into(),
            r#"{"ts":"2026-05-12T10:00:04Z","level":"warn","exc":"json.decoder.JSONDecodeError: Expecting value"}"#.into(),
        ],
        "\n",
    );
    exp("app/json.log", 2, JSON);
    exp("app/json.log", 3, SIG);
    exp("app/json.log", 4, SIG);

    // Basic auth headers: user:KEY at offsets 5, 4, 6 → alignments 2, 1, 0.
    let mut headers = vec!["GET /admin HTTP/1.1".to_string()];
    for user in ["user", "abc", "admin"] {
        let blob = STANDARD.encode(format!("{user}:{GUIDE_KEY}"));
        planted.push(blob.clone());
        headers.push(format!("Authorization: Basic {blob}"));
    }
    headers.push("User-Agent: curl/8.5.0".into());
    write_lines(&root.join("app/headers.log"), &headers, "\n");
    exp("app/headers.log", 2, B64);
    exp("app/headers.log", 3, B64);
    exp("app/headers.log", 4, B64);

    // A base64url JWT-ish blob with the key in its payload.
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"42","k":"{GUIDE_KEY}"}}"#));
    planted.push(payload.clone());
    write_lines(
        &root.join("api/jwt.log"),
        &[
            "POST /api/token 200".into(),
            format!("issued token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.c2lnbmF0dXJl"),
        ],
        "\n",
    );
    exp("api/jwt.log", 2, B64URL);

    // Node, Rails, Laravel messages.
    write_lines(
        &root.join("node/app.log"),
        &[
            "Server listening on :3000".into(),
            "JsonWebTokenError: invalid signature".into(),
            "    at /app/node_modules/jsonwebtoken/verify.js:171:19".into(),
            "express-session cookie signature invalid +2ms".into(),
            "ActiveSupport::MessageVerifier::InvalidSignature (ActiveSupport::MessageVerifier::InvalidSignature)".into(),
            "[2026-05-12 10:00:00] production.ERROR: The MAC is invalid. {\"exception\":\"[object] (Illuminate\\\\Contracts\\\\Encryption\\\\DecryptException(code: 0)\"}".into(),
            "jwt expired".into(),
        ],
        "\n",
    );
    for line in [2, 4, 5, 6] {
        exp("node/app.log", line, SIG);
    }

    // A CRLF file.
    write_lines(
        &root.join("win/crlf.log"),
        &[
            "2026-05-12 10:00:00 IIS start".into(),
            format!("2026-05-12 10:00:01 key={GUIDE_KEY}"),
            "2026-05-12 10:00:02 Signature mismatch for webhook".into(),
            "2026-05-12 10:00:03 ok".into(),
        ],
        "\r\n",
    );
    exp("win/crlf.log", 2, PLAIN);
    exp("win/crlf.log", 3, SIG);

    // Invalid UTF-8 around the key.
    let mut bin = Vec::new();
    bin.extend_from_slice(b"\xff\xfe\x00binary\x80\n");
    bin.extend_from_slice(b"\xc3\x28 noise \xa0\xa1\n");
    bin.extend_from_slice(b"\xe2\x82");
    bin.extend_from_slice(GUIDE_KEY.as_bytes());
    bin.extend_from_slice(b"\xf0\x28\x8c\x28\n\x00\x01\x02 INVALID SIGNATURE \xff\n");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::write(root.join("bin/binary.log"), bin).unwrap();
    exp("bin/binary.log", 3, PLAIN);
    exp("bin/binary.log", 4, SIG);

    // Long lines: a 2 MiB line with the key in its first MiB (found), one with the key
    // past 1 MiB (not searched), then a normal line (numbering still right).
    let mut long = String::from("start\n");
    long.push_str(&"x".repeat(1000));
    long.push_str(GUIDE_KEY);
    long.push_str(&"y".repeat(2 * 1024 * 1024));
    long.push('\n');
    long.push_str(&"z".repeat(1024 * 1024 + 500 * 1024));
    long.push_str(GUIDE_KEY);
    long.push_str(&"z".repeat(1000));
    long.push('\n');
    long.push_str(&format!("tail {GUIDE_KEY}\n"));
    fs::create_dir_all(root.join("big")).unwrap();
    fs::write(root.join("big/long.log"), long).unwrap();
    exp("big/long.log", 2, PLAIN);
    exp("big/long.log", 4, PLAIN);

    // Nested folders for `**`.
    write_lines(
        &root.join("deep/a/b/c/nested.log"),
        &[format!("nested {GUIDE_KEY}")],
        "\n",
    );
    write_lines(&root.join("deep/top.log"), &["nothing here".into()], "\n");
    exp("deep/a/b/c/nested.log", 1, PLAIN);

    // Out of scope or not files: a gzip, a folder named like a log, a symlink to a file
    // already scanned, a dangling symlink.
    fs::create_dir_all(root.join("old")).unwrap();
    fs::write(root.join("old/access.log.1.gz"), b"\x1f\x8b\x08\x00rest").unwrap();
    fs::write(
        root.join("old/rotated.log"),
        b"\x1f\x8b\x08\x00gzip without .gz",
    )
    .unwrap();
    fs::create_dir_all(root.join("dir.log")).unwrap();
    std::os::unix::fs::symlink(root.join("app/gunicorn.log"), root.join("link.log")).unwrap();
    std::os::unix::fs::symlink(root.join("nowhere.txt"), root.join("dangling.log")).unwrap();

    Corpus {
        dir,
        planted,
        expected,
        expected_patterns: vec![
            (
                PathBuf::from("app/gunicorn.log"),
                7,
                "itsdangerous BadSignature",
            ),
            (
                PathBuf::from("app/gunicorn.log"),
                8,
                "itsdangerous SignatureExpired",
            ),
            (PathBuf::from("app/gunicorn.log"), 9, "Django BadSignature"),
            (
                PathBuf::from("app/gunicorn.log"),
                10,
                "Django session data corrupted",
            ),
            (
                PathBuf::from("app/gunicorn.log"),
                11,
                "Django CSRF token missing",
            ),
            (
                PathBuf::from("app/gunicorn.log"),
                12,
                "Django CSRF token incorrect",
            ),
            (
                PathBuf::from("app/gunicorn.log"),
                13,
                "Django CSRF verification failed",
            ),
            (
                PathBuf::from("app/gunicorn.log"),
                14,
                "Flask-WTF CSRF token invalid",
            ),
            (
                PathBuf::from("app/json.log"),
                3,
                "PyJWT InvalidSignatureError",
            ),
            (PathBuf::from("app/json.log"), 4, "PyJWT DecodeError"),
            (
                PathBuf::from("node/app.log"),
                2,
                "jsonwebtoken invalid signature",
            ),
            (
                PathBuf::from("node/app.log"),
                4,
                "express-session cookie signature invalid",
            ),
            (
                PathBuf::from("node/app.log"),
                5,
                "Rails MessageVerifier InvalidSignature",
            ),
            (PathBuf::from("node/app.log"), 6, "Laravel MAC is invalid"),
            (PathBuf::from("win/crlf.log"), 3, "signature mismatch"),
            (PathBuf::from("bin/binary.log"), 4, "invalid signature"),
        ],
    }
}

fn globs(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn corpus_globs() -> Vec<String> {
    globs(&[
        "nginx/*.log",
        "app/*.log",
        "api/*.log",
        "node/*.log",
        "win/*.log",
        "bin/*.log",
        "big/*.log",
        "deep/**/*.log",
        "old/*",
        "*.log",
        "missing/**/*.log",
    ])
}

fn scan_corpus(c: &Corpus) -> LogScan {
    let k1 = Secret::new(GUIDE_KEY.to_string());
    let k2 = Secret::new(GENERIC_KEY.to_string());
    scan(c.dir.path(), &corpus_globs(), &[&k1, &k2]).unwrap()
}

#[test]
fn finds_every_planted_occurrence_and_nothing_else() {
    let c = build_corpus();
    let r = scan_corpus(&c);

    let got: HashSet<(PathBuf, usize, HitKind)> = r
        .hits
        .iter()
        .map(|h| (h.path.clone(), h.line, h.kind))
        .collect();
    assert_eq!(
        got.len(),
        r.hits.len(),
        "a (path, line, kind) reported twice"
    );
    let missing: Vec<_> = c.expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&c.expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );

    let mut patterns: Vec<(PathBuf, usize, &str)> = r
        .hits
        .iter()
        .filter(|h| h.kind == SIG)
        .map(|h| (h.path.clone(), h.line, h.pattern.unwrap()))
        .collect();
    let mut want = c.expected_patterns.clone();
    patterns.sort();
    want.sort();
    assert_eq!(patterns, want);
    assert!(
        r.hits
            .iter()
            .all(|h| (h.kind == SIG) == h.pattern.is_some())
    );

    // 11 files scanned: the symlink to gunicorn.log is the same file, the folder is
    // skipped, the gzips and the dangling link are unreadable.
    assert_eq!(r.files, 11);
    assert_eq!(r.key_hits(), 15);
    assert_eq!(r.signature_errors(), 16);
    let unreadable: HashSet<(PathBuf, String)> = r.unreadable.iter().cloned().collect();
    assert_eq!(unreadable.len(), 3, "{unreadable:?}");
    assert!(unreadable.contains(&(PathBuf::from("old/access.log.1.gz"), COMPRESSED.into())));
    assert!(unreadable.contains(&(PathBuf::from("old/rotated.log"), COMPRESSED.into())));
    assert!(
        r.unreadable
            .iter()
            .any(|(p, e)| p == Path::new("dangling.log") && e.contains("No such file"))
    );
    assert_eq!(r.unmatched_globs, ["missing/**/*.log"]);

    let by_file = r.by_file();
    assert!(by_file.contains(&(PathBuf::from("app/gunicorn.log"), 1, 8)));
    assert!(by_file.contains(&(PathBuf::from("nginx/access.log"), 4, 0)));
    assert_eq!(
        by_file.iter().map(|(_, k, _)| k).sum::<usize>(),
        r.key_hits()
    );

    // Lines and bytes: the long file has 4 lines and over 3.5 MiB.
    assert!(r.bytes > 3 * 1024 * 1024);
    assert!(r.lines >= 50);
}

#[test]
fn result_never_holds_a_key_or_log_text() {
    let c = build_corpus();
    let r = scan_corpus(&c);
    let debug = format!("{r:?} {r:#?}");
    let json = serde_json::to_string(&r).unwrap();
    for text in [&debug, &json] {
        for p in &c.planted {
            assert!(!text.contains(p.as_str()), "planted text leaked");
        }
        // Any 16-byte window of a key, in case a partial copy slipped in.
        for key in [GUIDE_KEY, GENERIC_KEY] {
            for w in key.as_bytes().windows(16) {
                assert!(
                    !text.contains(std::str::from_utf8(w).unwrap()),
                    "key part leaked"
                );
            }
        }
        // Nor text from the log lines.
        for line_text in [
            "does not match",
            "Not enough segments",
            "curl/8.5.0",
            "Booting worker",
        ] {
            assert!(!text.contains(line_text), "log text leaked: {line_text}");
        }
    }
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["unmatched_globs"][0], "missing/**/*.log");
    assert!(
        json["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"]["key"] == "base64-url")
    );
    assert!(
        json["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "signature-error")
    );
}

#[test]
fn absolute_globs_keep_absolute_paths() {
    let c = build_corpus();
    let k1 = Secret::new(GUIDE_KEY.to_string());
    let abs = format!("{}/deep/**/*.log", c.dir.path().display());
    let r = scan(Path::new("/nonexistent-root"), &[abs], &[&k1]).unwrap();
    assert_eq!(r.files, 2);
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].path, c.dir.path().join("deep/a/b/c/nested.log"));
}

#[test]
fn same_file_through_two_globs_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = Secret::new(GUIDE_KEY.to_string());
    write_lines(&dir.path().join("a.log"), &[format!("k={GUIDE_KEY}")], "\n");
    let r = scan(dir.path(), &globs(&["a.log", "*.log", "./a.log"]), &[&key]).unwrap();
    assert_eq!(r.files, 1);
    assert_eq!(r.lines, 1);
    assert_eq!(r.key_hits(), 1);
    assert_eq!(r.hits[0].path, Path::new("a.log"));
    assert!(r.unmatched_globs.is_empty());
}

#[test]
fn invalid_glob_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = scan(dir.path(), &globs(&["*.log", "logs/[abc"]), &[]).unwrap_err();
    assert!(matches!(&e, LogScanError::InvalidGlob { pattern, .. } if pattern == "logs/[abc"));
    let text = e.to_string();
    assert!(
        text.contains("logs/[abc") && text.contains("invalid glob"),
        "{text}"
    );
    let e = scan(dir.path(), &globs(&["a/***/b"]), &[]).unwrap_err();
    assert!(e.to_string().contains("a/***/b"));
}

#[test]
fn unmatched_globs_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("only-a-dir.log")).unwrap();
    let r = scan(dir.path(), &globs(&["nope/*.log", "*.log"]), &[]).unwrap();
    assert_eq!(r.unmatched_globs, ["nope/*.log", "*.log"]);
    assert_eq!(r.files, 0);
}

#[test]
fn fifo_is_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.log");
    if !common::require("mkfifo", "a FIFO among the logs") {
        return;
    }
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", fifo.display());
    let r = scan(dir.path(), &globs(&["*.log"]), &[]).unwrap();
    assert_eq!(r.files, 0);
    assert_eq!(r.unreadable.len(), 1);
    assert!(r.unreadable[0].1.contains("not a regular file"));
}

/// xorshift64*, so the noise is the same on every run without a rand dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn no_false_positives_on_random_noise() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut s = String::new();
    for i in 0..50_000 {
        let len = 8 + (rng.next() % 120) as usize;
        let blob = rng.bytes(len);
        let line = match i % 5 {
            0 => format!("Authorization: Basic {}", STANDARD.encode(&blob)),
            1 => format!("token={}", URL_SAFE_NO_PAD.encode(&blob)),
            2 => nginx(
                i,
                &format!("/q?d={}", quote_plus(&STANDARD.encode(&blob), i % 2 == 0)),
            ),
            3 => format!(
                r#"{{"level":"info","payload":"{}","n":{i}}}"#,
                STANDARD.encode(&blob)
            ),
            _ => format!(
                "INFO worker {i} handled request in {} ms",
                rng.next() % 1000
            ),
        };
        s.push_str(&line);
        s.push('\n');
    }
    fs::write(dir.path().join("noise.log"), s).unwrap();
    let k1 = Secret::new(GUIDE_KEY.to_string());
    let k2 = Secret::new(GENERIC_KEY.to_string());
    let k3 = Secret::new("A".repeat(50));
    let r = scan(dir.path(), &globs(&["*.log"]), &[&k1, &k2, &k3]).unwrap();
    assert_eq!(r.lines, 50_000);
    assert!(
        r.hits.is_empty(),
        "{:?}",
        r.hits.iter().take(5).collect::<Vec<_>>()
    );
}
