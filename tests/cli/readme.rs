//! The README documents every finding code and exit code exactly once.

use keywarden::finding::Code;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

#[test]
fn every_finding_code_is_documented_once_and_no_other() {
    let text = readme();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| KW")).collect();
    let documented: Vec<&str> = rows.iter().map(|r| r[2..7].trim()).collect();
    let known: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    for code in &known {
        assert_eq!(
            documented.iter().filter(|d| *d == code).count(),
            1,
            "{code} documented once"
        );
    }
    for d in &documented {
        assert!(
            known.contains(d),
            "README documents {d}, which the code does not have"
        );
    }
}

#[test]
fn exit_codes_are_documented() {
    let text = readme();
    for (code, word) in [
        ("| 0 |", "success"),
        ("| 1 |", "--fail-on"),
        ("| 2 |", "bad usage"),
        ("| 3 |", "lock"),
    ] {
        let row = text
            .lines()
            .find(|l| l.starts_with(code))
            .unwrap_or_else(|| panic!("{code} row"));
        assert!(row.contains(word), "{row}");
    }
}

#[test]
fn the_manifest_example_parses() {
    let text = readme();
    let start = text.find("### `keywarden.toml`").unwrap();
    let block = &text[start..];
    let toml = &block[block.find("```toml\n").unwrap() + 8..];
    let toml = &toml[..toml.find("```").unwrap()];
    let m = keywarden::project::manifest::Manifest::parse(toml, std::path::Path::new("README.md"))
        .unwrap();
    let prod = m.environment("production").unwrap();
    assert_eq!(prod.grace_days, 7);
    assert!(prod.notify.is_some() && prod.fallback.is_some());
    assert_eq!(m.defaults.keep_backups_days, Some(365));
    assert!(m.playbooks.contains_key("compromised"));
}
