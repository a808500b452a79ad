use crate::support::{Sandbox, assert_no_key, set_mode, stderr, stdout};
use serde_json::Value;

fn fingerprint_of(sb: &Sandbox, env: &str) -> Value {
    let out = sb.kw().args(["status", env, "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["environments"][0]["fingerprint"].clone()
}

/// python-dotenv's interpolation pattern, `\$\{([^}:]*)(?::-([^}]*))?\}`, written out.
fn python_dotenv_expands(value: &str) -> bool {
    value.match_indices("${").any(|(i, _)| {
        let rest = &value[i + 2..];
        let Some(end) = rest.find('}') else {
            return false;
        };
        let inner = &rest[..end];
        match inner.find(':') {
            None => true,
            Some(c) => inner[c..].starts_with(":-"),
        }
    })
}

#[test]
fn python_dotenv_pattern_as_written() {
    assert!(
        python_dotenv_expands("a${HOME}b")
            && python_dotenv_expands("${X:-d}")
            && python_dotenv_expands("${}")
    );
    assert!(
        !python_dotenv_expands("a${b")
            && !python_dotenv_expands("${a:b}")
            && !python_dotenv_expands("$a}")
    );
}

#[test]
fn set_generate_writes_every_target_and_keeps_other_bytes() {
    let sb = Sandbox::new();
    // The key's own line ends in LF: bash would read a CRLF key with a trailing CR, and
    // such writes are refused (issue 12, item 6; tests/cli/writes.rs).
    let env_before = "\u{feff}# Baguette Metro\r\nexport DEBUG=1\r\nexport SECRET_KEY=\"old-value\" # rotated 2024\nDB_URL=postgres://x\r\n";
    sb.write(".env", env_before);
    sb.write(
        ".streamlit/secrets.toml",
        "# Secret Key\n[server]\nport = 8501\n",
    );
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("wrote      .env (mode 0600)"), "{text}");

    let env_after = sb.read(".env");
    let lines: Vec<&str> = env_after
        .split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        env_after.matches("\r\n").count(),
        3,
        "CRLF lines keep their CRLF"
    );
    assert_eq!(lines[0], "\u{feff}# Baguette Metro");
    assert_eq!(lines[1], "export DEBUG=1");
    assert!(
        lines[2].starts_with("export SECRET_KEY='") && lines[2].ends_with("' # rotated 2024"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "DB_URL=postgres://x");
    let key = lines[2]
        .trim_start_matches("export SECRET_KEY='")
        .trim_end_matches("' # rotated 2024");
    assert_eq!(key.chars().count(), 64);
    assert!(
        !python_dotenv_expands(key),
        "a key python-dotenv would expand is never written"
    );

    let toml_after = sb.read(".streamlit/secrets.toml");
    // A root key goes before the first table (after it, it would belong to the table).
    assert_eq!(
        toml_after,
        format!("SECRET_KEY = '{key}'\n\n# Secret Key\n[server]\nport = 8501\n")
    );
    assert_eq!(sb.mode(".env"), 0o600);
    assert_eq!(sb.mode(".streamlit/secrets.toml"), 0o600);

    assert_no_key("set stdout", &out.stdout, key);
    assert_no_key("set stderr", &out.stderr, key);
    let v = fingerprint_of(&sb, "development");
    assert!(
        text.contains(v.as_str().unwrap()),
        "set names the new fingerprint"
    );

    // The age is now recorded, and old contents are in the backups, outside the project.
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["environments"][0]["age_source"], "recorded");
    let files = sb.state_files();
    let backups: Vec<_> = files
        .iter()
        .filter(|(p, _)| p.ends_with("content.age"))
        .collect();
    assert_eq!(
        backups.len(),
        4,
        "both old files, the new key and the retired key"
    );
    assert!(
        sb.backup_contents()
            .iter()
            .any(|(_, b)| b == env_before.as_bytes())
    );
    for (p, bytes) in &files {
        if !p.ends_with("content") {
            assert_no_key(&p.display().to_string(), bytes, key);
        }
    }
}

#[test]
fn set_stdin_refuses_what_a_reader_would_change() {
    let sb = Sandbox::new();
    sb.write(".env", "SECRET_KEY=old\n");
    for (key, reader) in [
        (
            "abc${HOME}def-0123456789-abcdefghijklmnopqrstuvwxyz",
            "python-dotenv",
        ),
        (
            "it's-a-key-0123456789-abcdefghijklmnopqrstuvwxyzABC",
            "single quote",
        ),
        (
            "back\\slash-0123456789-abcdefghijklmnopqrstuvwxyzABC",
            "backslash",
        ),
    ] {
        let out = sb
            .kw()
            .args(["set", "development", "--stdin"])
            .write_stdin(key)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}");
        let err = stderr(&out);
        assert!(err.contains("cannot be written to .env"), "{err}");
        assert!(err.contains(reader), "{err}");
        assert_no_key("stderr", &out.stderr, key);
        assert_eq!(sb.read(".env"), "SECRET_KEY=old\n", "untouched");
    }
    let good = "Zq8#vN2!pL5@wR9$tY3^uI7&oP1*aS4(dF6)gH0_jK2+lM8-xC5=Bn7]vM3[cX9{z";
    let out = sb
        .kw()
        .args(["set", "development", "--stdin"])
        .write_stdin(format!("{good}\n"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.read(".env"), format!("SECRET_KEY='{good}'\n"));
}

#[test]
fn one_bad_target_stops_the_whole_environment() {
    let sb = Sandbox::new();
    sb.write(".env", "SECRET_KEY=old\n");
    let broken = "# app\n[server\nport = 8501\n";
    sb.write(".streamlit/secrets.toml", broken);
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(".streamlit/secrets.toml:2:"),
        "names file and line: {err}"
    );
    assert_eq!(sb.read(".env"), "SECRET_KEY=old\n", "no target changed");
    assert_eq!(sb.read(".streamlit/secrets.toml"), broken);
}

#[test]
fn missing_folder_and_unknown_environment() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"deploy/staging/.env\" }]\n",
    );
    let out = sb
        .kw()
        .args(["set", "staging", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("deploy/staging"), "{}", stderr(&out));
    let out = sb
        .kw()
        .args(["set", "prod", "--generate", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("this project has: staging"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_new_file_is_created_private_and_set_needs_a_source() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \".env.staging\" }, { path = \"conf/secrets.toml\", key = \"auth.secret_key\" }]\n",
    );
    std::fs::create_dir(sb.project.path().join("conf")).unwrap();
    sb.kw()
        .args(["set", "staging", "--generate"])
        .assert()
        .success();
    assert_eq!(sb.mode(".env.staging"), 0o600);
    let toml = sb.read("conf/secrets.toml");
    assert!(toml.starts_with("[auth]\nsecret_key = '"), "{toml}");
    let out = sb.kw().args(["set", "staging"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--generate or --stdin is required"
    );
}

#[test]
fn symlink_leading_outside_is_refused() {
    let sb = Sandbox::new();
    let outside = tempfile::tempdir().unwrap();
    let real = outside.path().join("real.env");
    std::fs::write(&real, "SECRET_KEY=old\n").unwrap();
    std::os::unix::fs::symlink(&real, sb.project.path().join(".env")).unwrap();
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("outside the project"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "SECRET_KEY=old\n");
    let out = sb.kw().args(["status", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v["environments"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"KW114"), "{codes:?}");
}

#[test]
fn fix_tightens_modes() {
    let sb = Sandbox::new();
    let p = sb.write(".env", "SECRET_KEY=x\n");
    set_mode(&p, 0o664);
    let q = sb.write(".streamlit/secrets.toml", "SECRET_KEY = 'x'\n");
    set_mode(&q, 0o600);
    let out = sb.kw().args(["fix", "development"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains(".env: 0664 -> 0600"), "{text}");
    assert!(text.contains("secrets.toml: already 0600"), "{text}");
    assert_eq!(sb.mode(".env"), 0o600);
}

#[test]
fn a_second_process_is_locked_out_with_exit_3() {
    let sb = Sandbox::new();
    sb.write(".env", "SECRET_KEY=x\n");
    // Hold the project's lock from this test process, as a running keywarden would.
    let home = keywarden::project::home::Home::at(sb.home.path().to_path_buf());
    let lock_dir = home.project_dir(&sb.root());
    std::fs::create_dir_all(&lock_dir).unwrap();
    let _held = keywarden::fsio::ProjectLock::acquire(&lock_dir.join("lock")).unwrap();
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains(&format!("pid {}", std::process::id())),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.read(".env"), "SECRET_KEY=x\n");
}

/// Production's key is replaced only when confirmed (`--yes` for scripts), and a file git
/// tracks is written only when asked for: the next commit would publish the key.
#[test]
fn production_and_git_tracked_files_need_a_confirmation() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ path = \"prod.env\" }]\n\
         [[environments]]\nname = \"development\"\ntargets = [{ path = \".streamlit/secrets.toml\" }]\n",
    );
    sb.write(
        "prod.env",
        "SECRET_KEY=old-production-key-0123456789abcdef\n",
    );
    sb.write(
        ".streamlit/secrets.toml",
        "SECRET_KEY = \"old-dev-key-0123456789abcdefghij\"\n",
    );
    let out = sb
        .kw()
        .args(["set", "production", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(
        sb.read("prod.env"),
        "SECRET_KEY=old-production-key-0123456789abcdef\n"
    );
    let out = sb
        .kw()
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(
        sb.read("prod.env"),
        "SECRET_KEY=old-production-key-0123456789abcdef\n"
    );

    if !crate::common::require("git", "set into a file git tracks") {
        return;
    }
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .current_dir(sb.project.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", ".streamlit/secrets.toml"]);
    let before = sb.read(".streamlit/secrets.toml");
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("git tracks .streamlit/secrets.toml") && err.contains("git rm --cached"),
        "{err}"
    );
    assert_eq!(
        sb.read(".streamlit/secrets.toml"),
        before,
        "nothing changed"
    );
    let out = sb
        .kw()
        .args(["set", "development", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(sb.read(".streamlit/secrets.toml"), before);
    // A git that cannot answer is no answer: the write is still confirmed.
    std::fs::write(sb.root().join(".git/index"), b"DIRC garbage").unwrap();
    let before = sb.read(".streamlit/secrets.toml");
    let out = sb
        .kw()
        .args(["set", "development", "--generate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("perhaps"), "{}", stderr(&out));
    assert_eq!(sb.read(".streamlit/secrets.toml"), before);
}
