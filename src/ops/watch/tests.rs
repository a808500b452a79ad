use super::*;

fn snap(mode: u32, uid: u32, digest: &str) -> Snapshot {
    Snapshot {
        exists: true,
        dev: 1,
        ino: 2,
        mode,
        uid,
        len: 10,
        mtime_ns: 0,
        digest: digest.into(),
    }
}

#[test]
fn a_weaker_mode_is_a_high_alert_naming_both_modes() {
    let a = describe_change(
        "production",
        ".env",
        &snap(0o600, 1, "a"),
        &snap(0o644, 1, "a"),
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(a.kind, AlertKind::TargetChanged);
    assert_eq!(a.severity, Severity::High);
    assert!(a.message.contains("0600 to 0644"), "{}", a.message);
    assert!(a.fix.contains("keywarden fix production"));
    assert_eq!(a.target.as_deref(), Some(".env"));
    assert!(
        describe_change(
            "p",
            ".env",
            &snap(0o600, 1, "a"),
            &snap(0o600, 1, "a"),
            Timestamp::UNIX_EPOCH
        )
        .is_none()
    );
    let c = describe_change(
        "p",
        ".env",
        &snap(0o600, 1, "a"),
        &snap(0o600, 1, "b"),
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    assert!(c.message.contains("content changed"));
}

#[test]
fn the_metrics_text_has_every_family_and_escapes_labels() {
    let mut m = metrics::Metrics::default();
    m.key_age_days.insert("pro\"d".into(), 12);
    m.alerts_total.insert(AlertKind::KeyExposed, 2);
    let text = m.render();
    for name in [
        "keywarden_key_age_days",
        "keywarden_rotation_due_days",
        "keywarden_signature_errors_total",
        "keywarden_findings",
        "keywarden_alerts_total",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}\n{text}");
    }
    assert!(text.contains("keywarden_key_age_days{environment=\"pro\\\"d\"} 12"));
    assert!(text.contains("keywarden_alerts_total{kind=\"key_exposed\"} 2"));
    assert!(text.contains("keywarden_findings{severity=\"critical\"} 0"));
}

#[test]
fn a_webhook_url_is_shown_without_its_credentials() {
    assert_eq!(
        http::shown("https://user:pw@hooks.example.com/x"),
        "https://hooks.example.com/x"
    );
    // Nothing listens on port 1: the error names the receiver, never its password.
    let e = http::post_json(
        "http://user:pw@127.0.0.1:1/hook",
        "{}",
        Duration::from_secs(2),
    )
    .unwrap_err();
    assert!(e.contains("http://127.0.0.1:1/hook"), "{e}");
    assert!(!e.contains("pw"), "{e}");
    let e = http::post_json("ftp://127.0.0.1/", "{}", Duration::from_secs(1)).unwrap_err();
    assert!(e.contains("not an http"), "{e}");
}

#[test]
fn the_deepest_literal_folder_of_a_glob() {
    let root = Path::new("/p");
    assert_eq!(literal_dir(root, "logs/*.log"), PathBuf::from("/p/logs"));
    assert_eq!(literal_dir(root, "a/b/**/x.log"), PathBuf::from("/p/a/b"));
    assert_eq!(
        literal_dir(root, "/var/log/app*/x"),
        PathBuf::from("/var/log")
    );
}

/// A long line is searched in overlapping windows: a key straddling two windows is found,
/// once, and so is a signature error beyond the first window.
#[test]
fn a_line_longer_than_a_window_is_searched_whole() {
    let key = crate::keys::secret::Secret::new("k".repeat(10) + "-0123456789abcdef-XYZ");
    let needles = Needles::new(&[&key]);
    let mut s = Searcher::new(&needles, follow::WINDOW);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let mut f = Followed::open(log.clone(), "app.log".into(), From::Start).unwrap();
    let mut line = vec![b'x'; follow::WINDOW - 10];
    line.extend_from_slice(key.expose_secret().as_bytes());
    line.extend(std::iter::repeat_n(b'y', 3 * follow::WINDOW));
    line.extend_from_slice(b" BadSignature ");
    line.extend_from_slice(key.expose_secret().as_bytes());
    line.push(b'\n');
    line.extend_from_slice(b"short line\n");
    use std::io::Write;
    let mut w = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    // Written in two pieces: the line spans reads too.
    w.write_all(&line[..follow::WINDOW + 7]).unwrap();
    let mut read = vec![0u8; follow::READ_CHUNK];
    let mut out = Vec::new();
    f.poll(&mut s, &mut read, &mut out).unwrap();
    w.write_all(&line[follow::WINDOW + 7..]).unwrap();
    f.poll(&mut s, &mut read, &mut out).unwrap();
    let hits: Vec<(u64, LineHit)> = out.into_iter().map(|(_, l, h)| (l, h)).collect();
    assert_eq!(
        hits,
        vec![
            (
                1,
                LineHit::Key {
                    index: 0,
                    encoding: crate::scanning::logscan::Encoding::Plain
                }
            ),
            (
                1,
                LineHit::Signature("BadSignature (itsdangerous or Django)")
            ),
        ]
    );
    assert_eq!(f.lines, 2);
}

#[test]
fn a_rotated_log_is_read_to_its_end_then_the_new_file_from_its_start() {
    let key = crate::keys::secret::Secret::new("a-key-long-enough-to-search-0123".into());
    let needles = Needles::new(&[&key]);
    let mut s = Searcher::new(&needles, follow::WINDOW);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "old line\n").unwrap();
    let mut f = Followed::open(log.clone(), "app.log".into(), From::End).unwrap();
    assert_eq!(f.lines, 1);
    let mut read = vec![0u8; follow::READ_CHUNK];
    let mut out = Vec::new();
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(b"invalid signature, no newline")
        .unwrap();
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&log, format!("{}\n", key.expose_secret())).unwrap();
    f.poll(&mut s, &mut read, &mut out).unwrap();
    let hits: Vec<(u64, LineHit)> = out.into_iter().map(|(_, l, h)| (l, h)).collect();
    assert_eq!(
        hits,
        vec![
            (2, LineHit::Signature("invalid signature")),
            (
                1,
                LineHit::Key {
                    index: 0,
                    encoding: crate::scanning::logscan::Encoding::Plain
                }
            ),
        ]
    );
    // Truncated in place: from the top again.
    std::fs::write(&log, "").unwrap();
    let mut out = Vec::new();
    f.poll(&mut s, &mut read, &mut out).unwrap();
    std::fs::write(&log, "signature mismatch\n").unwrap();
    f.poll(&mut s, &mut read, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1, 1);
}

/// A log replaced by a FIFO (an open that would block until a writer comes) or by a
/// symlink to `/dev/zero` (a read that never ends) is refused as "not a regular file":
/// the poll returns, the monitor keeps watching everything else.
#[test]
fn a_log_replaced_by_a_fifo_or_a_device_is_refused_not_followed_forever() {
    let key = crate::keys::secret::Secret::new("a-key-long-enough-to-search-0123".into());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    for replace in ["fifo", "dev-zero"] {
        std::fs::write(&log, "old line\n").unwrap();
        let mut f = Followed::open(log.clone(), "app.log".into(), From::End).unwrap();
        std::fs::remove_file(&log).unwrap();
        if replace == "fifo" {
            let ok = std::process::Command::new("mkfifo")
                .arg(&log)
                .status()
                .unwrap()
                .success();
            assert!(ok, "mkfifo (coreutils) is needed");
        } else {
            std::os::unix::fs::symlink("/dev/zero", &log).unwrap();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let key2 = crate::keys::secret::Secret::new(key.expose_secret().to_string());
        std::thread::spawn(move || {
            let needles = Needles::new(&[&key2]);
            let mut s = Searcher::new(&needles, follow::WINDOW);
            let mut read = vec![0u8; follow::READ_CHUNK];
            let mut out = Vec::new();
            let r = f.poll(&mut s, &mut read, &mut out);
            let _ = tx.send(r.map_err(|e| e.to_string()));
        });
        // A hang guard, not a speed claim: a blocked open or an endless read never answers.
        let r = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("poll of a log replaced by {replace} never returned"));
        let err = r.expect_err(replace);
        assert!(err.contains("not a regular file"), "{replace}: {err}");
        std::fs::remove_file(&log).unwrap();
    }
}

/// A client that sends its request a byte at a time does not hold `/metrics` from the
/// scrapes after it: each request has one 5 s deadline, not 5 s per byte.
#[test]
fn a_trickling_client_does_not_block_metrics_scrapes() {
    use std::io::{Read, Write};
    let shared: metrics::Shared = Default::default();
    let addr = metrics::serve("127.0.0.1:0", shared).unwrap();
    let slow = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        for _ in 0..40 {
            if s.write_all(b"G").is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut body = String::new();
        let _ = s.read_to_string(&mut body);
        let _ = tx.send(body);
    });
    // A hang guard, not a speed claim: the slow client trickles for 20 s.
    let body = rx
        .recv_timeout(std::time::Duration::from_secs(15))
        .expect("a scrape waited behind a trickling client");
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    slow.join().unwrap();
}
