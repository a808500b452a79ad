//! The audit trail against what a user (or an intruder with the user's account) does to
//! the state folder between runs: both files deleted, the head deleted or damaged,
//! another project's trail copied in; and the debris a killed run leaves there.

use crate::common::require;
use crate::support::{Sandbox, stderr, stdout};
use crate::writes::{OLD, Proc, temp_files, traced};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn project(sb: &Sandbox) {
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\" }]\n",
    );
    sb.write(".env", &format!("A=1\nSECRET_KEY='{OLD}'\n"));
}

/// `set development --generate`, which must work.
fn set(sb: &Sandbox) {
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "set: {}", stderr(&out));
}

/// The project's state folder (`$KEYWARDEN_HOME/projects/<id>`).
fn state_dir(sb: &Sandbox) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(sb.home.path().join("projects"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

/// `audit --verify`: its exit code and output.
fn verify(sb: &Sandbox) -> (Option<i32>, String) {
    let out = sb.kw().args(["audit", "--verify"]).output().unwrap();
    (out.status.code(), stdout(&out) + &stderr(&out))
}

fn events(sb: &Sandbox) -> Vec<Value> {
    let out = sb.kw().args(["audit", "--json"]).output().unwrap();
    assert!(out.status.success(), "audit: {}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A changing command is refused, and changes nothing: not the target, not the trail.
fn set_is_refused(sb: &Sandbox, why: &str) {
    let before = sb.read(".env");
    // (A refused append may leave an empty log where there was none: no record.)
    let trail = std::fs::read(state_dir(sb).join("audit.jsonl")).unwrap_or_default();
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{why}: {}", stderr(&out));
    assert!(stderr(&out).contains("audit --accept"), "{}", stderr(&out));
    assert_eq!(sb.read(".env"), before, "{why}: the file changed");
    assert_eq!(
        std::fs::read(state_dir(sb).join("audit.jsonl")).unwrap_or_default(),
        trail,
        "{why}: the trail changed"
    );
}

/// `audit --accept`, then the trail's last event: what it recorded.
fn accept(sb: &Sandbox) -> String {
    let out = sb.kw().args(["audit", "--accept"]).output().unwrap();
    assert!(out.status.success(), "accept: {}", stderr(&out));
    let last = events(sb).pop().unwrap();
    assert_eq!(last["action"], "audit.accept");
    last["detail"].as_str().unwrap().to_string()
}

#[test]
fn a_trail_deleted_or_emptied_while_the_project_has_a_history_is_found_and_refused() {
    for case in ["both deleted", "log emptied, head deleted"] {
        let sb = Sandbox::new();
        project(&sb);
        set(&sb);
        set(&sb);
        let dir = state_dir(&sb);
        match case {
            "both deleted" => std::fs::remove_file(dir.join("audit.jsonl")).unwrap(),
            _ => std::fs::write(dir.join("audit.jsonl"), "").unwrap(),
        }
        std::fs::remove_file(dir.join("audit.head")).unwrap();

        let (code, text) = verify(&sb);
        assert_eq!(code, Some(1), "{case}: {text}");
        assert!(text.contains("TAMPERED"), "{case}: {text}");
        assert!(
            text.contains("history") && text.contains("state.json"),
            "{case}: {text}"
        );
        set_is_refused(&sb, case);
        // Still found by the next look, and the next refusal.
        assert_eq!(verify(&sb).0, Some(1), "{case}");
        set_is_refused(&sb, case);

        let what = accept(&sb);
        assert!(what.contains("every earlier record was lost"), "{what}");
        assert!(what.contains("backup(s)"), "{what}");
        // state.json, written with every change, counted them.
        assert!(what.contains("line(s), as state.json recorded"), "{what}");
        set(&sb);
        let (code, text) = verify(&sb);
        assert_eq!(code, Some(0), "{case}: {text}");
        assert!(text.contains("ok: 3 line(s)"), "{case}: {text}");
    }
}

#[test]
fn a_fresh_project_starts_its_trail() {
    let sb = Sandbox::new();
    project(&sb);
    set(&sb);
    let (code, text) = verify(&sb);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ok: 2 line(s)"), "{text}");
}

#[test]
fn a_missing_or_damaged_head_fails_verify_as_it_stops_set_and_accept_says_so() {
    for case in [
        "head deleted",
        "3 lines cut, head deleted",
        "head overwritten",
    ] {
        let sb = Sandbox::new();
        project(&sb);
        for _ in 0..4 {
            set(&sb);
        }
        let dir = state_dir(&sb);
        let log = dir.join("audit.jsonl");
        let head = dir.join("audit.head");
        let lines = std::fs::read_to_string(&log).unwrap();
        let total = lines.lines().count();
        match case {
            "head deleted" => std::fs::remove_file(&head).unwrap(),
            "3 lines cut, head deleted" => {
                let kept: String = lines
                    .lines()
                    .take(total - 3)
                    .map(|l| format!("{l}\n"))
                    .collect();
                std::fs::write(&log, kept).unwrap();
                std::fs::remove_file(&head).unwrap();
            }
            _ => std::fs::write(&head, "{\"lines\": \"many\"}").unwrap(),
        }
        let (code, text) = verify(&sb);
        assert_eq!(code, Some(1), "{case}: {text}");
        assert!(
            text.contains("TAMPERED") && text.contains("audit.head"),
            "{case}: {text}"
        );
        let damaged = if case == "head overwritten" {
            "damaged"
        } else {
            "missing"
        };
        assert!(text.contains(damaged), "{case}: {text}");
        set_is_refused(&sb, case);

        let what = accept(&sb);
        assert!(
            !what.contains("agreed"),
            "{case}: accepted as if nothing: {what}"
        );
        assert!(
            what.contains("audit.head") && what.contains(damaged),
            "{case}: {what}"
        );
        // state.json, written with every change, still vouches for the lines it saw: the
        // cut ones it knew of are counted.
        match case {
            "3 lines cut, head deleted" => {
                assert!(what.contains("are gone"), "{case}: {what}");
                let marked: u64 = state_mark(&sb);
                assert!(
                    what.contains(&format!("line(s) {}–{marked} are gone", total - 2)),
                    "{case}: {what}"
                );
            }
            "head deleted" => assert!(what.contains("vouches for lines 1–"), "{case}: {what}"),
            _ => {}
        }
        set(&sb);
        assert_eq!(verify(&sb).0, Some(0), "{case}");
    }
}

/// How many lines of the trail `state.json` recorded when it was last written.
fn state_mark(sb: &Sandbox) -> u64 {
    let state: Value =
        serde_json::from_slice(&std::fs::read(state_dir(sb).join("state.json")).unwrap()).unwrap();
    state["audit"]["lines"].as_u64().unwrap()
}

#[test]
fn another_projects_trail_copied_in_is_not_this_ones() {
    let (one, two) = (Sandbox::new(), Sandbox::new());
    project(&one);
    project(&two);
    set(&one);
    set(&two);
    set(&two);
    // Both projects' state in one home: the second's trail copied over the first's.
    let two_dir = state_dir(&two);
    let one_dir = state_dir(&one);
    for f in ["audit.jsonl", "audit.head"] {
        std::fs::copy(two_dir.join(f), one_dir.join(f)).unwrap();
    }
    let (code, text) = verify(&one);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("line 1") && text.contains(&two.root().display().to_string()),
        "{text}"
    );
    set_is_refused(&one, "another project's trail");
    assert!(
        accept(&one).contains(&two.root().display().to_string()),
        "the acceptance names what was found"
    );
    // Accepted, the first project acts again; the foreign lines stay reported.
    set(&one);
    assert_eq!(verify(&one).0, Some(1));
}

/// Every `.keywarden-*.tmp` in the state folder and its backups' folders.
fn state_temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = temp_files(dir);
    for b in std::fs::read_dir(dir.join("backups"))
        .into_iter()
        .flatten()
        .flatten()
    {
        found.extend(temp_files(&b.path()));
    }
    found
}

#[test]
fn temporary_files_left_in_the_state_folder_are_removed_and_recorded() {
    let sb = Sandbox::new();
    project(&sb);
    set(&sb);
    let dir = state_dir(&sb);
    let backup = std::fs::read_dir(dir.join("backups"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let left = [
        dir.join(".keywarden-0123456789ab.tmp"),
        backup.join(".keywarden-ba9876543210.tmp"),
    ];
    for f in &left {
        std::fs::write(f, "half of a state.json").unwrap();
    }
    // An incident record's folder has writers of its own: never swept.
    std::fs::create_dir_all(dir.join("incidents")).unwrap();
    let theirs = dir.join("incidents/.keywarden-aaaaaaaaaaaa.tmp");
    std::fs::write(&theirs, "an incident being saved").unwrap();
    // Reading takes no lock and leaves them.
    assert_eq!(verify(&sb).0, Some(0));
    assert_eq!(state_temp_files(&dir).len(), 2);

    set(&sb);
    assert!(
        state_temp_files(&dir).is_empty(),
        "{:?}",
        state_temp_files(&dir)
    );
    assert!(theirs.exists());
    let cleanup: Vec<Value> = events(&sb)
        .into_iter()
        .filter(|e| e["action"] == "cleanup")
        .collect();
    assert_eq!(cleanup.len(), 1, "{cleanup:?}");
    let detail = cleanup[0]["detail"].as_str().unwrap();
    for f in &left {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(detail.contains(&name), "{detail}");
    }
    assert_eq!(verify(&sb).0, Some(0));
}

#[test]
fn a_trail_that_refuses_keeps_the_debris_for_after_the_review() {
    let sb = Sandbox::new();
    project(&sb);
    set(&sb);
    let dir = state_dir(&sb);
    let debris = dir.join(".keywarden-0123456789ab.tmp");
    std::fs::write(&debris, "half of an audit.head").unwrap();
    std::fs::remove_file(dir.join("audit.head")).unwrap();
    set_is_refused(&sb, "no head");
    // Not removed without a record of it.
    assert!(debris.exists());
    accept(&sb);
    set(&sb);
    assert!(!debris.exists());
}

/// `set` SIGKILLed at the `n`-th `syscall` (exactly, through strace's signal injection):
/// the temporary files it left in the state folder.
fn killed_set(sb: &Sandbox, syscall: &str, n: usize) -> Vec<PathBuf> {
    let inject = format!("inject={syscall}:signal=KILL:when={n}");
    let args = ["set", "development", "--generate"];
    Proc::spawn(traced(sb, &inject, &args), &format!("{syscall} #{n}")).finish_within(60);
    state_temp_files(&state_dir(sb))
}

#[test]
fn a_run_killed_while_it_writes_the_state_folder_leaves_debris_the_next_lock_removes() {
    if !require("strace", "`set` killed while it writes its state folder") {
        return;
    }
    let (mut top, mut in_backups, mut failures) = (0, 0, Vec::new());
    // renameat: audit.head and state.json replaced; linkat: a backup's content.age and
    // meta.json put in place (a `set` makes 5 and 6 of them).
    for (syscall, max) in [("renameat", 6), ("linkat", 6)] {
        for n in 1..=max {
            let sb = Sandbox::new();
            project(&sb);
            set(&sb);
            let left = killed_set(&sb, syscall, n);
            if left.is_empty() {
                continue;
            }
            let dir = state_dir(&sb);
            top += left.iter().filter(|p| p.parent() == Some(&*dir)).count();
            in_backups += left.iter().filter(|p| p.parent() != Some(&*dir)).count();
            // The next command that takes the lock removes them, and says so.
            let out = sb
                .kw()
                .args(["set", "development", "--generate"])
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "{syscall} #{n}: the next set: {}",
                    stderr(&out).trim()
                ));
                continue;
            }
            let still = state_temp_files(&dir);
            if !still.is_empty() {
                failures.push(format!("{syscall} #{n}: still there: {still:?}"));
            }
            let recorded: String = events(&sb)
                .iter()
                .filter(|e| e["action"] == "cleanup")
                .filter_map(|e| e["detail"].as_str().map(str::to_string))
                .collect();
            for f in &left {
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                if !recorded.contains(&name) {
                    failures.push(format!("{syscall} #{n}: {name} removed unrecorded"));
                }
            }
            let (code, text) = verify(&sb);
            if code != Some(0) {
                failures.push(format!("{syscall} #{n}: {text}"));
            }
        }
    }
    assert!(
        top > 0 && in_backups > 0,
        "the kills left {top} temporary file(s) in the state folder and {in_backups} in backups: the kill points are wrong"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
