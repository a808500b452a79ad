//! Issue 12's interop proof for TOML: toml-test's TOML 1.0.0 corpus
//! (`tests/fixtures/toml/valid/` and `invalid/`, see `tests/fixtures/toml/toml-test.md`)
//! through the real binary.
//!
//! Every valid file gets a key written by `keywarden set ENV --stdin` as two targets of one
//! file, as a `.streamlit/secrets.toml` holds them: `SECRET_KEY` at the root and
//! `auth.secret_key` in a table. Then Python's `tomllib` (TOML 1.0, Streamlit's reader)
//! must read both exactly and every other value unchanged: *written*. Or `set` exits 2
//! naming the file and a line: *refused*. Every invalid file must be refused. Anything
//! else is *disagreeing* and fails the test. Counts go to stderr, never a value.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = common::repo().join("tests/fixtures/toml").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// For each `(original, written, key)`: `ok`, or what tomllib read wrong (never a value).
const PY_CHECK: &str = r#"
import json, math, sys, tomllib
def canon(x):
    if isinstance(x, dict):
        return ("table", sorted((k, canon(v)) for k, v in x.items()))
    if isinstance(x, list):
        return ("array", [canon(v) for v in x])
    if isinstance(x, float) and math.isnan(x):
        return ("nan", math.copysign(1.0, x))
    return (type(x).__name__, repr(x))
def load(p):
    with open(p, "rb") as f:
        return tomllib.load(f)
for line in open(sys.argv[1], encoding="utf-8"):
    o_path, w_path, key = json.loads(line)
    try:
        o = load(o_path)
    except Exception:
        print("tomllib rejects the original"); continue
    try:
        w = load(w_path)
    except Exception:
        print("tomllib rejects the written file"); continue
    bad = []
    if w.pop("SECRET_KEY", None) != key:
        bad.append("SECRET_KEY")
    a = w.get("auth")
    if not (isinstance(a, dict) and a.pop("secret_key", None) == key):
        bad.append("auth.secret_key")
    if "auth" not in o and a == {}:
        del w["auth"]
    o.pop("SECRET_KEY", None)
    if isinstance(o.get("auth"), dict):
        o["auth"].pop("secret_key", None)
    if canon(o) != canon(w):
        bad.append("another value")
    print("ok" if not bad else "reads " + ", ".join(bad) + " differently")
"#;

#[derive(Default)]
struct Tally {
    files: usize,
    written: usize,
    refused: usize,
    disagreeing: usize,
}

#[test]
fn tomllib_reads_what_set_wrote_into_toml_test_and_every_invalid_file_is_refused() {
    let Some(python) = common::python("the TOML corpus test with Python's tomllib") else {
        return;
    };
    let started = std::time::Instant::now();
    let valid = corpus("valid");
    let invalid = corpus("invalid");
    assert!(
        valid.len() >= 200 && invalid.len() >= 490,
        "toml-test's corpus is missing"
    );
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let mut jobs = Vec::new();
    for (kind, files) in [("valid", &valid), ("invalid", &invalid)] {
        for (i, f) in files.iter().enumerate() {
            jobs.push(common::SetJob {
                name: format!("{kind}-{i}.toml"),
                format: "toml",
                content: std::fs::read(f).unwrap(),
                names: vec!["SECRET_KEY".into(), "auth.secret_key".into()],
            });
        }
    }
    let outcomes = common::set_each(&jobs, 3, &|| common::strong_key(|_| true));
    let set_secs = started.elapsed().as_secs_f64();

    // tomllib reads every original and written valid file, in one process.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pairs = String::new();
    let mut checked = Vec::new();
    for (i, (job, out)) in jobs.iter().zip(&outcomes).enumerate().take(valid.len()) {
        if out.code != Some(0) {
            continue;
        }
        let (o, w) = (
            dir.path().join(format!("o{i}")),
            dir.path().join(format!("w{i}")),
        );
        std::fs::write(&o, &job.content).unwrap();
        std::fs::write(&w, &out.after).unwrap();
        pairs.push_str(&format!(
            "[{:?}, {:?}, {:?}]\n",
            o.display().to_string(),
            w.display().to_string(),
            out.key
        ));
        checked.push(i);
    }
    std::fs::write(dir.path().join("pairs"), pairs).unwrap();
    let read = Command::new(python)
        .args(["-c", PY_CHECK])
        .arg(dir.path().join("pairs"))
        .output()
        .expect("python");
    assert!(
        read.status.success(),
        "tomllib check failed: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let verdicts: Vec<String> = String::from_utf8(read.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(verdicts.len(), checked.len());
    let verdict = |i: usize| checked.iter().position(|&c| c == i).map(|j| &verdicts[j]);

    let mut tallies = [Tally::default(), Tally::default()];
    let mut disagreeing = Vec::new();
    for (i, out) in outcomes.iter().enumerate() {
        let is_valid = i < valid.len();
        let file = if is_valid {
            format!("valid/{}", name(&valid[i]))
        } else {
            format!("invalid/{}", name(&invalid[i - valid.len()]))
        };
        assert!(
            !out.stderr.contains(&out.key),
            "{file}: keywarden printed the key"
        );
        let t = &mut tallies[usize::from(!is_valid)];
        t.files += 1;
        match out.code {
            Some(0) if is_valid => match verdict(i) {
                Some(v) if v == "ok" => t.written += 1,
                v => {
                    t.disagreeing += 1;
                    disagreeing.push(format!("{file}: written, but {}", v.unwrap()));
                }
            },
            Some(0) => {
                t.disagreeing += 1;
                disagreeing.push(format!("{file}: invalid TOML, yet written"));
            }
            Some(2) if common::names_file_and_line(&out.stderr, &out.shown) => {
                assert_eq!(out.after, jobs[i].content, "{file}: refused, yet changed");
                t.refused += 1;
            }
            code => {
                t.disagreeing += 1;
                let first = out
                    .stderr
                    .lines()
                    .next()
                    .unwrap_or("")
                    .replace(&out.shown, "FILE");
                disagreeing.push(format!("{file}: exit {code:?} without a line: {first}"));
            }
        }
    }
    let [v, inv] = &tallies;
    let mut report = format!(
        "\ntoml-test corpus (TOML 1.0.0): {} files, {:.1} s ({set_secs:.1} s of set)\n\
         \x20 valid    {:>4} files  {:>4} written (tomllib reads the key at the root and in \
         [auth], every other value unchanged)  {:>4} refused  {:>3} disagreeing\n\
         \x20 invalid  {:>4} files  {:>4} written  {:>4} refused  {:>3} disagreeing\n",
        v.files + inv.files,
        started.elapsed().as_secs_f64(),
        v.files,
        v.written,
        v.refused,
        v.disagreeing,
        inv.files,
        inv.written,
        inv.refused,
        inv.disagreeing,
    );
    for d in &disagreeing {
        report.push_str(&format!("  DISAGREEING {d}\n"));
    }
    // Straight to the process's stderr: libtest captures `eprint!`, and the counts are
    // the proof, to be seen on a passing run too.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), report.as_bytes());
    assert!(disagreeing.is_empty(), "{}", disagreeing.join("\n"));
    assert_eq!(inv.refused, invalid.len());
    // Not a pass by refusing: nearly every valid file takes the key.
    assert!(
        v.written * 10 >= v.files * 8,
        "only {} of {} valid files written",
        v.written,
        v.files
    );
}
