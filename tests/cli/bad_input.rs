//! The corpus in `tests/fixtures/bad-input/`: every malformed file is reported with its
//! path, line and column, exits 2, and is left exactly as it was.

use crate::support::{Sandbox, stderr};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/bad-input/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// (fixture, target path in the project, expected "path:line:col" or "path:line" prefix)
const CASES: &[(&str, &str, &str)] = &[
    ("unterminated-quote.env", ".env", ".env:3:"),
    ("garbage-line.env", ".env", ".env:2:"),
    ("latin1.env", ".env", ".env:2:"),
    ("binary.env", ".env", ".env:2:1"),
    (
        "unterminated.toml",
        ".streamlit/secrets.toml",
        ".streamlit/secrets.toml:2:",
    ),
    (
        "not-a-string.toml",
        ".streamlit/secrets.toml",
        ".streamlit/secrets.toml:1:",
    ),
    (
        "bad-table.toml",
        ".streamlit/secrets.toml",
        ".streamlit/secrets.toml:1:",
    ),
];

#[test]
fn malformed_targets_are_located_and_untouched() {
    for (name, target, located) in CASES {
        let sb = Sandbox::new();
        let bytes = fixture(name);
        let p = sb.project.path().join(target);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &bytes).unwrap();

        let out = sb
            .kw()
            .args(["set", "development", "--generate"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: set exits 2");
        let err = stderr(&out);
        assert!(err.contains(located), "{name}: expected {located} in {err}");
        assert!(err.contains("hint:"), "{name}: says what to do: {err}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name}: file untouched");

        // status still shows the project, with the error on the target.
        let out = sb.kw().args(["status", "--json"]).output().unwrap();
        assert!(out.status.success(), "{name}: status is a view");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let t = &v["environments"][0]["targets"][0];
        assert_eq!(t["state"], "error", "{name}");
        assert!(
            t["error"].as_str().unwrap().contains(located),
            "{name}: {}",
            t["error"]
        );
        let codes: Vec<&str> = v["environments"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"KW115"), "{name}: {codes:?}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name}: file untouched");
    }
}

#[test]
fn a_bad_manifest_names_the_field_line_and_column() {
    let sb = Sandbox::new();
    let bytes = fixture("unknown-field.keywarden.toml");
    std::fs::write(sb.project.path().join("keywarden.toml"), &bytes).unwrap();
    for args in [
        &["status"][..],
        &["check"],
        &["set", "production", "--generate", "--yes"],
    ] {
        let out = sb.kw().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("keywarden.toml:4:1"), "{err}");
        assert!(err.contains("rotate_every"), "{err}");
    }
    assert_eq!(
        std::fs::read(sb.project.path().join("keywarden.toml")).unwrap(),
        bytes
    );
}

#[test]
fn a_folder_where_a_file_should_be_is_reported() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.project.path().join(".env.staging")).unwrap();
    sb.write("keywarden.toml", "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \".env.staging\" }]\n");
    let out = sb
        .kw()
        .args(["set", "staging", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(".env.staging"), "{}", stderr(&out));
}
