use crate::support::{Sandbox, assert_no_key, stderr, stdout};
use serde_json::Value;

const KEY: &str = "Zq8vN2pL5wR9tY3uI7oP1aS4dF6gH0jK2lM8xC5Bn7vM3cX9z";

fn git(sb: &Sandbox, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .current_dir(sb.project.path())
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

fn project(sb: &Sandbox) {
    git(sb, &["init", "-q"]);
    sb.write(".gitignore", ".env\n.streamlit/secrets.toml\n");
    sb.write(".env", &format!("# app\nDEBUG=1\nSECRET_KEY={KEY}\n"));
    sb.write(
        ".streamlit/secrets.toml",
        &format!("[auth]\nother = 1\n\nSECRET_KEY = \"{KEY}x\"\n"),
    );
}

#[test]
fn example_writes_key_names_with_a_placeholder_keeping_other_lines() {
    let sb = Sandbox::new();
    project(&sb);
    sb.write(".env.example", "# copy to .env\nDEBUG=0\n");

    let out = sb
        .kw()
        .args(["example", "development", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("would write .env.example: SECRET_KEY = change-me"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        sb.read(".env.example"),
        "# copy to .env\nDEBUG=0\n",
        "a dry run writes nothing"
    );
    assert!(
        !sb.project
            .path()
            .join(".streamlit/secrets.toml.example")
            .exists()
    );

    let out = sb
        .kw()
        .args(["example", "development", "--json"])
        .output()
        .unwrap();
    assert_no_key("example stdout", &out.stdout, KEY);
    assert_no_key("example stderr", &out.stderr, KEY);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["placeholder"], "change-me");
    let env_example = sb.read(".env.example");
    assert_eq!(
        env_example,
        "# copy to .env\nDEBUG=0\nSECRET_KEY='change-me'\n"
    );
    let toml_example = sb.read(".streamlit/secrets.toml.example");
    assert!(toml_example.contains("change-me"), "{toml_example}");
    assert_no_key(
        "examples",
        format!("{env_example}{toml_example}").as_bytes(),
        KEY,
    );

    // Again: nothing to change.
    let out = sb.kw().args(["example", "development"]).output().unwrap();
    assert!(
        stdout(&out).contains(".env.example: already up to date"),
        "{}",
        stdout(&out)
    );

    // The example files are fine to commit: scan finds nothing in them.
    let out = sb.kw().args(["scan", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let in_examples: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"].as_str().is_some_and(|t| t.contains(".example")))
        .collect();
    assert!(in_examples.is_empty(), "{in_examples:?}");
}

#[test]
fn example_refuses_a_file_git_ignores_and_an_unknown_environment() {
    let sb = Sandbox::new();
    project(&sb);
    sb.write(".gitignore", ".env\n.streamlit/secrets.toml\n*.example\n");
    let out = sb.kw().args(["example", "development"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(".env.example: is ignored by git"), "{err}");
    assert!(err.contains("!.env.example"), "{err}");
    assert!(!sb.project.path().join(".env.example").exists());

    let out = sb.kw().args(["example", "nowhere"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("no environment `nowhere`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn scan_flags_a_real_or_published_key_in_an_example_file_as_critical() {
    let sb = Sandbox::new();
    project(&sb);
    // The environment's own key pasted into the example, and a published value in another.
    sb.write(".env.example", &format!("DEBUG=0\nSECRET_KEY={KEY}\n"));
    sb.write(
        "config/app.env.example",
        "SECRET_KEY=\"django-insecure-3x!q9v@w#e2r$t5y^u7i&o1p*a4s(d6f)g0h\"\n",
    );
    let out = sb
        .kw()
        .args(["scan", "--json", "--fail-on", "critical"])
        .output()
        .unwrap();
    assert_no_key("scan", &out.stdout, KEY);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let crit: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "critical")
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["target"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        crit.contains(&("KW202".into(), ".env.example".into())),
        "{crit:?}"
    );
    assert!(
        crit.contains(&("KW201".into(), "config/app.env.example".into())),
        "{crit:?}"
    );
}

/// The example path of one environment's target can be another environment's target, or
/// a symlink to a target: writing the placeholder there would destroy a real key. Refused,
/// the file untouched.
#[test]
fn example_refuses_to_write_over_a_target_of_any_environment() {
    let sb = Sandbox::new();
    git(&sb, &["init", "-q"]);
    sb.write(
        "keywarden.toml",
        "version = 1\n\n[[environments]]\nname = \"development\"\ntargets = [{ path = \".env\", format = \"dotenv\" }]\n\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \".env.example\", format = \"dotenv\" }]\n",
    );
    sb.write(".env", &format!("SECRET_KEY={KEY}\n"));
    let staging = format!("SECRET_KEY={KEY}s\n");
    sb.write(".env.example", &staging);
    let out = sb.kw().args(["example", "development"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(".env.example"), "{err}");
    assert!(err.contains("target of environment `staging`"), "{err}");
    assert_no_key("example stderr", &out.stderr, KEY);
    assert_eq!(sb.read(".env.example"), staging, "the staging key is kept");

    // A symlink from the example path to the environment's own target.
    let sb = Sandbox::new();
    project(&sb);
    std::os::unix::fs::symlink(".env", sb.project.path().join(".env.example")).unwrap();
    let before = sb.read(".env");
    let out = sb.kw().args(["example", "development"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("target of environment `development`"), "{err}");
    assert_eq!(sb.read(".env"), before, "the development key is kept");
}

/// An example file that held the environment's real key: `example` replaces it with the
/// placeholder and says the key is published (the file is committed) and must be rotated.
#[test]
fn example_says_when_the_example_file_held_the_real_key() {
    let sb = Sandbox::new();
    project(&sb);
    sb.write(".env.example", &format!("DEBUG=0\nSECRET_KEY={KEY}\n"));
    let out = sb.kw().args(["example", "development"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_key("example stdout", &out.stdout, KEY);
    assert_no_key("example stderr", &out.stderr, KEY);
    let err = stderr(&out);
    assert!(
        err.contains(".env.example held the key of development"),
        "{err}"
    );
    assert!(err.contains("keywarden rotate development"), "{err}");
    assert_eq!(sb.read(".env.example"), "DEBUG=0\nSECRET_KEY='change-me'\n");
}
