use super::*;
use std::collections::BTreeSet;

fn fp(s: &str) -> Fingerprint {
    Fingerprint::parse(s).unwrap()
}

fn setup() -> (tempfile::TempDir, AuditLog) {
    let tmp = tempfile::tempdir().unwrap();
    let log = AuditLog::new(&tmp.path().join("state"), Path::new("/srv/app"));
    (tmp, log)
}

fn fill(log: &AuditLog, n: usize) {
    for i in 0..n {
        let rec = Record::new("set", Outcome::Ok)
            .env("production")
            .new_fp(fp("kw:0123abcd"))
            .detail(format!("event number {i}"));
        log.append(rec).unwrap();
    }
}

fn raw_lines(log: &AuditLog) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(log.path()).unwrap();
    let (lines, tail) = split_lines(&bytes);
    assert!(tail.is_none());
    lines.into_iter().map(<[u8]>::to_vec).collect()
}

fn write_lines(log: &AuditLog, lines: &[Vec<u8>]) {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    std::fs::write(log.path(), out).unwrap();
}

fn problem_line(log: &AuditLog) -> Option<usize> {
    log.verify().unwrap().problem.map(|p| p.line)
}

#[test]
fn missing_file_is_empty_and_valid() {
    let (_t, log) = setup();
    let v = log.verify().unwrap();
    assert_eq!((v.lines, v.problem, v.head), (0, None, genesis("/srv/app")));
    assert!(log.read().unwrap().is_empty());
    assert!(!log.path().exists(), "reading must not create the log");
}

#[test]
fn chain_of_100_verifies_and_reads_back() {
    let (_t, log) = setup();
    fill(&log, 100);
    let v = log.verify().unwrap();
    assert_eq!(v.lines, 100);
    assert_eq!(v.problem, None);
    let lines = raw_lines(&log);
    assert_eq!(v.head, sha256_hex(lines.last().unwrap()));
    let events = log.read().unwrap();
    assert_eq!(events.len(), 100);
    // The chain starts from its project's own genesis, not from zeros.
    assert_eq!(events[0].prev, genesis("/srv/app"));
    assert_ne!(genesis("/srv/app"), genesis("/srv/other"));
    for i in 1..100 {
        assert_eq!(events[i].prev, sha256_hex(&lines[i - 1]));
        assert_eq!(
            events[i].detail.as_deref(),
            Some(&*format!("event number {i}"))
        );
    }
    // The returned event is exactly what was written.
    let ev = log.append(Record::new("reveal", Outcome::Ok)).unwrap();
    assert_eq!(ev.prev, v.head);
    assert_eq!(log.read().unwrap().last(), Some(&ev));
}

#[test]
fn single_byte_edits_are_detected_at_the_right_line() {
    let (_t, log) = setup();
    fill(&log, 10);
    let orig = raw_lines(&log);
    for k in 0..orig.len() {
        let line = &orig[k];
        let prev_at = line.windows(8).position(|w| w == b"\"prev\":\"").unwrap() + 8;
        let detail_at = line.windows(12).position(|w| w == b"event number").unwrap();
        // (position, expected problem line 1-based)
        let mut cases = vec![
            (0, k + 1), // '{' -> not JSON
            // Inside prev: the chain cannot tell this from an edit of the line before
            // (named first), except on line 1.
            (prev_at, k.max(1)),
            (prev_at + 63, k.max(1)),
            (line.len() - 1, k + 1), // closing '}'
            (2, k + 1),              // inside key "ts" -> missing field
        ];
        // An edit of content that stays a valid event is caught through the next line,
        // which names it: the edited line itself is reported.
        if k + 1 < orig.len() {
            cases.push((detail_at, k + 1));
            cases.push((detail_at + 3, k + 1));
        }
        for (pos, expect) in cases {
            let mut lines = orig.clone();
            let b = lines[k][pos];
            lines[k][pos] = if b == b'e' {
                b'f'
            } else if b == b'0' {
                b'1'
            } else {
                b'e'
            };
            write_lines(&log, &lines);
            let v = log.verify().unwrap();
            let p = v
                .problem
                .unwrap_or_else(|| panic!("line {} pos {pos} undetected", k + 1));
            assert_eq!(p.line, expect, "line {} pos {pos}: {}", k + 1, p.message);
        }
    }
    // Restored, the chain is valid again.
    write_lines(&log, &orig);
    assert_eq!(problem_line(&log), None);
}

#[test]
fn deletion_swap_and_insertion_are_detected() {
    let (_t, log) = setup();
    fill(&log, 10);
    let orig = raw_lines(&log);

    // Delete line 5: the old line 6, now line 5, no longer follows line 4.
    let mut l = orig.clone();
    l.remove(4);
    write_lines(&log, &l);
    let v = log.verify().unwrap();
    let p = v.problem.unwrap();
    assert_eq!(p.line, 4);
    assert_eq!(
        p.message,
        "line 4 was changed, or the `prev` of line 5, or lines between them were removed: line 5 records another line before it"
    );

    // Delete line 1.
    let mut l = orig.clone();
    l.remove(0);
    write_lines(&log, &l);
    assert_eq!(problem_line(&log), Some(1));

    // Swap lines 3 and 4.
    let mut l = orig.clone();
    l.swap(2, 3);
    write_lines(&log, &l);
    assert_eq!(problem_line(&log), Some(3));

    // Insert a naive forged line (copied from elsewhere) as line 4.
    let mut l = orig.clone();
    l.insert(3, orig[7].clone());
    write_lines(&log, &l);
    assert_eq!(problem_line(&log), Some(4));

    // Replay line 4 right after itself: the copy (line 5) does not follow line 4.
    let mut l = orig.clone();
    l.insert(4, orig[3].clone());
    write_lines(&log, &l);
    assert_eq!(problem_line(&log), Some(5));

    // Insert a careful forgery whose `prev` is right: the line after it catches it.
    let mut forged: Event = serde_json::from_slice(&orig[3]).unwrap();
    forged.prev = sha256_hex(&orig[2]);
    forged.action = "revoke".into();
    let mut l = orig.clone();
    l.insert(3, serde_json::to_vec(&forged).unwrap());
    write_lines(&log, &l);
    assert_eq!(problem_line(&log), Some(5));

    // An empty line in the middle.
    let mut l = orig.clone();
    l.insert(6, Vec::new());
    write_lines(&log, &l);
    let p = log.verify().unwrap().problem.unwrap();
    assert_eq!((p.line, p.message.as_str()), (7, "line 7 is empty"));
}

#[test]
fn tail_deletion_and_a_rewritten_last_line_are_found_through_the_head() {
    let (_t, log) = setup();
    fill(&log, 10);
    assert_eq!(log.verify().unwrap().problem, None);
    let full = raw_lines(&log);
    // The chain alone accepts the shorter prefix; the recorded head does not.
    let mut l = full.clone();
    l.pop();
    l.pop();
    write_lines(&log, &l);
    let p = log.verify().unwrap().problem.unwrap();
    assert_eq!(p.line, 9);
    assert!(p.message.contains("removed from the end"), "{}", p.message);
    // A last line edited without breaking its own `prev`.
    let mut l = full.clone();
    let last = String::from_utf8(l.pop().unwrap()).unwrap();
    l.push(
        last.replace("\"result\":\"ok\"", "\"result\":\"failed\"")
            .into_bytes(),
    );
    write_lines(&log, &l);
    let p = log.verify().unwrap().problem.unwrap();
    assert_eq!(p.line, 10);
    assert!(p.message.contains("rewritten"), "{}", p.message);
    // Put back as it was: intact again, and appends go on counting.
    write_lines(&log, &full);
    assert_eq!(log.verify().unwrap().problem, None);
    fill(&log, 1);
    let v = log.verify().unwrap();
    assert_eq!((v.lines, v.problem), (11, None));
}

#[test]
fn truncated_last_line_is_reported_and_append_refuses() {
    let (_t, log) = setup();
    fill(&log, 5);
    let mut bytes = std::fs::read(log.path()).unwrap();
    bytes.truncate(bytes.len() - 20);
    std::fs::write(log.path(), &bytes).unwrap();

    let v = log.verify().unwrap();
    assert_eq!(v.lines, 4);
    let p = v.problem.unwrap();
    assert_eq!(p.line, 5);
    assert!(
        p.message.contains("ends in the middle of a line"),
        "{}",
        p.message
    );

    let err = log
        .append(Record::new("set", Outcome::Started))
        .unwrap_err();
    assert!(matches!(err, AuditError::Unterminated { .. }), "{err}");
    assert!(err.to_string().contains("keywarden audit --verify"));
    assert_eq!(std::fs::read(log.path()).unwrap(), bytes, "nothing written");
    assert!(matches!(log.read(), Err(AuditError::Unterminated { .. })));
}

#[test]
fn append_refuses_after_a_garbage_last_line() {
    let (_t, log) = setup();
    fill(&log, 2);
    let mut bytes = std::fs::read(log.path()).unwrap();
    bytes.extend_from_slice(b"not json\n");
    std::fs::write(log.path(), &bytes).unwrap();
    let err = log.append(Record::new("set", Outcome::Ok)).unwrap_err();
    assert!(matches!(err, AuditError::BadLastLine { .. }), "{err}");
    assert_eq!(std::fs::read(log.path()).unwrap(), bytes);
    let p = log.verify().unwrap().problem.unwrap();
    assert_eq!(p.line, 3);
    assert!(p.message.contains("not valid JSON"), "{}", p.message);
    match log.read() {
        Err(AuditError::BadLine { line: 3, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn fails_closed_when_state_folder_cannot_exist() {
    let tmp = tempfile::tempdir().unwrap();
    // State folder is a regular file.
    let file = tmp.path().join("state");
    std::fs::write(&file, b"x").unwrap();
    let log = AuditLog::new(&file, Path::new("/srv/app"));
    let err = log.append(Record::new("set", Outcome::Ok)).unwrap_err();
    assert!(matches!(err, AuditError::Io { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("refuses to act without an audit record")
    );
    assert!(err.to_string().contains(&*file.display().to_string()));
    assert_eq!(std::fs::read(&file).unwrap(), b"x");

    // State folder's parent is a regular file.
    let log = AuditLog::new(&file.join("sub"), Path::new("/srv/app"));
    assert!(log.append(Record::new("set", Outcome::Ok)).is_err());
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

#[test]
fn fails_closed_on_symlink_or_directory() {
    let (tmp, log) = setup();
    std::fs::create_dir_all(log.path().parent().unwrap()).unwrap();
    let target = tmp.path().join("elsewhere");
    std::fs::write(&target, b"").unwrap();
    std::os::unix::fs::symlink(&target, log.path()).unwrap();
    assert!(log.append(Record::new("set", Outcome::Ok)).is_err());
    assert!(log.verify().is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"");

    std::fs::remove_file(log.path()).unwrap();
    std::fs::create_dir(log.path()).unwrap();
    assert!(log.append(Record::new("set", Outcome::Ok)).is_err());
    assert!(log.verify().is_err());
}

#[test]
fn modes_are_0700_and_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a").join("state");
    let log = AuditLog::new(&dir, Path::new("/srv/app"));
    log.append(Record::new("generate", Outcome::Ok)).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(log.path()), 0o600);

    // A too-open existing file is tightened.
    std::fs::set_permissions(log.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    log.append(Record::new("generate", Outcome::Ok)).unwrap();
    assert_eq!(mode(log.path()), 0o600);
}

#[test]
fn lines_hold_exactly_the_expected_keys() {
    let (_t, log) = setup();
    let tricky = "rotated after \"incident\"\nline two\u{2028}done\\";
    log.append(Record::new("copy", Outcome::Ok)).unwrap();
    log.append(
        Record::new("rotate.finish", Outcome::Ok)
            .env("staging")
            .old(fp("kw:00000001"))
            .new_fp(fp("kw:deadbeef"))
            .detail(tricky),
    )
    .unwrap();
    log.append(
        Record::new("revoke", Outcome::Refused)
            .old(fp("kw:0badf00d"))
            .detail("refused: key still in use"),
    )
    .unwrap();
    log.append(Record::new("fix", Outcome::Failed).detail("could not write .env"))
        .unwrap();

    let text = std::fs::read_to_string(log.path()).unwrap();
    assert_eq!(text.lines().count(), 4, "detail newlines must be escaped");
    assert!(text.ends_with('\n'));
    let base = ["ts", "user", "host", "project", "action", "result", "prev"];
    let expected: [&[&str]; 4] = [
        &[],
        &["environment", "fingerprints", "detail"],
        &["fingerprints", "detail"],
        &["detail"],
    ];
    for (line, extra) in text.lines().zip(expected) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let obj = v.as_object().unwrap();
        let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = base.iter().chain(extra).copied().collect();
        assert_eq!(keys, want, "{line}");
        if let Some(fps) = obj.get("fingerprints") {
            let fps = fps.as_object().unwrap();
            assert!(fps.keys().all(|k| k == "old" || k == "new"));
            assert!(
                fps.values()
                    .all(|v| Fingerprint::parse(v.as_str().unwrap()).is_some())
            );
        }
        assert_eq!(obj["project"], "/srv/app");
        let ts = obj["ts"].as_str().unwrap();
        assert!(ts.ends_with('Z'), "{ts}");
        assert!(ts.parse::<Timestamp>().is_ok());
        let prev = obj["prev"].as_str().unwrap();
        assert_eq!(prev.len(), 64);
        assert!(
            prev.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
    let events = log.read().unwrap();
    assert_eq!(events[1].detail.as_deref(), Some(tricky));
    assert_eq!(events[1].result, Outcome::Ok);
    assert_eq!(events[2].result, Outcome::Refused);
    assert_eq!(
        events[1].fingerprints,
        Some(Fingerprints {
            old: Some(fp("kw:00000001")),
            new: Some(fp("kw:deadbeef")),
        })
    );
    let v: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(v["result"], "ok");
    assert_eq!(v["action"], "rotate.finish");
    assert_eq!(log.verify().unwrap().problem, None);
}

#[test]
fn concurrent_appends_from_threads_form_one_chain() {
    let (_t, log) = setup();
    std::thread::scope(|s| {
        for t in 0..8 {
            let log = &log;
            s.spawn(move || {
                for i in 0..50 {
                    log.append(Record::new("copy", Outcome::Ok).detail(format!("t{t} #{i}")))
                        .unwrap();
                }
            });
        }
    });
    let v = log.verify().unwrap();
    assert_eq!(v.problem, None);
    assert_eq!(v.lines, 400);
    let details: BTreeSet<String> = log
        .read()
        .unwrap()
        .into_iter()
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(details.len(), 400);
}

#[test]
fn user_and_host_are_known() {
    let (_t, log) = setup();
    let ev = log.append(Record::new("reveal", Outcome::Ok)).unwrap();
    assert!(!ev.user.is_empty());
    assert!(!ev.host.is_empty());
    let uid = crate::sys::uid();
    assert!(crate::sys::passwd_name(uid).is_some_and(|n| !n.is_empty()));
}

#[test]
fn an_edited_line_is_named_itself() {
    let (_t, log) = setup();
    fill(&log, 6);
    let mut l = raw_lines(&log);
    let edited = String::from_utf8(l[2].clone())
        .unwrap()
        .replace("\"result\":\"ok\"", "\"result\":\"failed\"");
    l[2] = edited.into_bytes();
    write_lines(&log, &l);
    assert_eq!(problem_line(&log), Some(3));
}

#[test]
fn a_disagreeing_end_stops_every_append_until_accepted() {
    // Cut, forged append, head deleted: each refuses the next append, and stays found by
    // verify after it, until accepted.
    for case in ["cut", "forge", "no-head", "cut-and-no-head", "garbage-head"] {
        let (_t, log) = setup();
        fill(&log, 5);
        let orig = raw_lines(&log);
        match case {
            "cut" => write_lines(&log, &orig[..3]),
            "forge" => {
                let mut forged: Event = serde_json::from_slice(&orig[4]).unwrap();
                forged.prev = sha256_hex(&orig[4]);
                forged.action = "revoke".into();
                let mut l = orig.clone();
                l.push(serde_json::to_vec(&forged).unwrap());
                write_lines(&log, &l);
            }
            "no-head" => std::fs::remove_file(log.path().with_file_name(HEAD_FILE)).unwrap(),
            "cut-and-no-head" => {
                write_lines(&log, &orig[..2]);
                std::fs::remove_file(log.path().with_file_name(HEAD_FILE)).unwrap();
            }
            _ => std::fs::write(log.path().with_file_name(HEAD_FILE), "garbage\n").unwrap(),
        }
        let before = std::fs::read(log.path()).unwrap();
        let err = log.append(Record::new("set", Outcome::Ok)).unwrap_err();
        assert!(matches!(err, AuditError::Disagrees { .. }), "{case}: {err}");
        assert!(err.to_string().contains("audit --accept"), "{err}");
        assert_eq!(
            std::fs::read(log.path()).unwrap(),
            before,
            "{case}: nothing written"
        );
        // Verify and the refusal agree: what stops an append is a failed verification.
        let found = log.verify().unwrap().problem.expect(case).message;
        if case.contains("head") {
            assert!(found.contains(HEAD_FILE), "{case}: {found}");
        }
        let what = log.accept().unwrap();
        assert!(
            what.contains(&found),
            "{case}: accepted {what:?}, found {found:?}"
        );
        assert!(!what.contains("agreed"), "{case}: {what}");
        let events = log.read().unwrap();
        assert_eq!(events.last().unwrap().action, "audit.accept", "{case}");
        log.append(Record::new("set", Outcome::Ok)).unwrap();
        assert_eq!(
            log.verify().unwrap().problem,
            None,
            "{case}: intact after accept"
        );
    }
}

#[test]
fn a_crash_between_the_line_and_the_head_is_no_tampering() {
    let (_t, log) = setup();
    fill(&log, 3);
    // As a kill right after the line was synced leaves it: the head still announces it.
    let head_path = log.path().with_file_name(HEAD_FILE);
    let head: Head = serde_json::from_slice(&std::fs::read(&head_path).unwrap()).unwrap();
    let lines = raw_lines(&log);
    let announced = Head {
        lines: head.lines - 1,
        last: sha256_hex(&lines[1]),
        len: Some((lines[0].len() + lines[1].len() + 2) as u64),
        pending: Some(sha256_hex(&lines[2])),
    };
    std::fs::write(&head_path, serde_json::to_vec(&announced).unwrap()).unwrap();
    assert_eq!(log.verify().unwrap().problem, None);
    log.append(Record::new("set", Outcome::Ok)).unwrap();
    assert_eq!(log.verify().unwrap().lines, 4);
    assert_eq!(log.verify().unwrap().problem, None);
}

#[test]
fn a_trail_gone_while_the_project_has_a_history_is_found_until_accepted() {
    for case in ["deleted", "emptied"] {
        let (t, log) = setup();
        fill(&log, 3);
        let state = t.path().join("state");
        std::fs::write(state.join("state.json"), "{}").unwrap();
        match case {
            "deleted" => std::fs::remove_file(log.path()).unwrap(),
            _ => std::fs::write(log.path(), "").unwrap(),
        }
        std::fs::remove_file(state.join(HEAD_FILE)).unwrap();
        let found = log.verify().unwrap().problem.expect(case).message;
        assert!(
            found.contains("history") && found.contains("state.json"),
            "{case}: {found}"
        );
        let err = log.append(Record::new("set", Outcome::Ok)).unwrap_err();
        assert!(matches!(err, AuditError::Disagrees { .. }), "{case}: {err}");
        assert!(log.read().unwrap().is_empty(), "{case}: nothing written");
        let what = log.accept().unwrap();
        assert!(what.contains("every earlier record was lost"), "{what}");
        let events = log.read().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, "audit.accept");
        log.append(Record::new("set", Outcome::Ok)).unwrap();
        assert_eq!(log.verify().unwrap().problem, None, "{case}");
    }
    // A project with no history yet starts its trail.
    let (_t, log) = setup();
    log.append(Record::new("set", Outcome::Ok)).unwrap();
    assert_eq!(log.verify().unwrap().problem, None);
}

#[test]
fn another_projects_trail_does_not_verify_here_and_stops_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let mine = AuditLog::new(&tmp.path().join("mine"), Path::new("/srv/app"));
    let theirs = AuditLog::new(&tmp.path().join("theirs"), Path::new("/srv/other"));
    fill(&mine, 2);
    fill(&theirs, 4);
    for f in [AUDIT_FILE, HEAD_FILE] {
        std::fs::copy(
            tmp.path().join("theirs").join(f),
            tmp.path().join("mine").join(f),
        )
        .unwrap();
    }
    let p = mine.verify().unwrap().problem.unwrap();
    assert_eq!(p.line, 1);
    assert!(p.message.contains("/srv/other"), "{}", p.message);
    let err = mine.append(Record::new("set", Outcome::Ok)).unwrap_err();
    assert!(err.to_string().contains("another project"), "{err}");
    // Its lines with this project's name put back still do not start this chain.
    let l: Vec<Vec<u8>> = raw_lines(&mine)
        .iter()
        .map(|l| {
            let mut ev: Event = serde_json::from_slice(l).unwrap();
            ev.project = "/srv/app".into();
            serde_json::to_vec(&ev).unwrap()
        })
        .collect();
    write_lines(&mine, &l[..1]);
    assert_eq!(problem_line(&mine), Some(1));
}

#[test]
fn a_log_written_before_the_chain_named_its_project_still_verifies() {
    let (_t, log) = setup();
    fill(&log, 3);
    // Rechain it from zeros, as an older keywarden wrote it.
    let mut prev = GENESIS_PREV.to_string();
    let mut l = Vec::new();
    for line in raw_lines(&log) {
        let mut ev: Event = serde_json::from_slice(&line).unwrap();
        ev.prev = prev;
        let bytes = serde_json::to_vec(&ev).unwrap();
        prev = sha256_hex(&bytes);
        l.push(bytes);
    }
    write_lines(&log, &l);
    log.accept().unwrap();
    assert_eq!(log.verify().unwrap().problem, None);
}
