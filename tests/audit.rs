//! Multi-process appends: the test binary re-runs itself as child appenders.

use keywarden::records::audit::{AuditLog, Outcome, Record};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const CHILD_ENV: &str = "KW_AUDIT_CHILD_STATE_DIR";
const CHILDREN: usize = 4;
const PER_CHILD: usize = 50;

/// Does nothing in a normal run; appends `PER_CHILD` events when started as a child.
#[test]
fn child_appender() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let id = std::env::var("KW_AUDIT_CHILD_ID").unwrap();
    let log = AuditLog::new(Path::new(&dir), Path::new("/srv/app"));
    for i in 0..PER_CHILD {
        log.append(Record::new("copy", Outcome::Ok).detail(format!("p{id} #{i}")))
            .unwrap();
    }
}

#[test]
fn concurrent_appends_from_processes_form_one_chain() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..CHILDREN)
        .map(|id| {
            Command::new(&exe)
                .args(["child_appender", "--exact", "--test-threads=1", "--quiet"])
                .env(CHILD_ENV, &state)
                .env("KW_AUDIT_CHILD_ID", id.to_string())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let log = AuditLog::new(&state, Path::new("/srv/app"));
    let v = log.verify().unwrap();
    assert_eq!(v.problem, None);
    assert_eq!(v.lines, CHILDREN * PER_CHILD);
    let details: BTreeSet<String> = log
        .read()
        .unwrap()
        .into_iter()
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(details.len(), CHILDREN * PER_CHILD);
}
