//! The manifest corpus: every bad manifest fails with the expected position and message,
//! every good one parses, and `to_toml` round-trips.

use keywarden::keys::generate::Charset;
use keywarden::project::manifest::{
    Defaults, Environment, ErrorKind, FILE_NAME, Format, Manifest, Target, default_rotation_days,
};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifest")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// Each bad fixture starts with `# expect: LINE:COLUMN: message fragment`.
#[test]
fn bad_manifests_fail_precisely() {
    let mut failures = Vec::new();
    let files = fixtures("bad");
    assert!(files.len() >= 30);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let first =
            String::from_utf8_lossy(bytes.split(|b| *b == b'\n').next().unwrap()).into_owned();
        let expect = first
            .strip_prefix("# expect: ")
            .unwrap_or_else(|| panic!("{}: no expect line", path.display()));
        let (loc, fragment) = expect.split_once(": ").unwrap();
        let (line, column) = loc.split_once(':').unwrap();
        let (line, column): (usize, usize) = (line.parse().unwrap(), column.parse().unwrap());
        match Manifest::load(&path) {
            Ok(_) => failures.push(format!("{}: parsed, expected an error", path.display())),
            Err(e) => {
                if (e.line, e.column) != (line, column)
                    || !e.message.contains(fragment)
                    || e.hint.is_empty()
                    || e.path != path
                {
                    failures.push(format!(
                        "{}:\n  expected {line}:{column}: {fragment}\n  got      {e}",
                        path.display()
                    ));
                }
                let shown = e.to_string();
                assert!(
                    shown.starts_with(&format!("{}:{}:{}: ", path.display(), e.line, e.column)),
                    "{shown}"
                );
                assert!(shown.contains("\n  hint: "), "{shown}");
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn good_manifests_parse() {
    for path in fixtures("good") {
        let m = Manifest::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let again = Manifest::parse(&m.to_toml(), Path::new(FILE_NAME))
            .unwrap_or_else(|e| panic!("{}: to_toml: {e}", path.display()));
        assert_eq!(again, m, "{}", path.display());
    }
}

#[test]
fn the_documented_example() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest/good/example.toml");
    let m = Manifest::load(&path).unwrap();
    assert_eq!(m.version, 1);
    assert_eq!(
        m.defaults,
        Defaults {
            key: "SECRET_KEY".into(),
            length: 64,
            charset: Charset::Guide,
            keep_backups_days: None,
            backup_recipients: vec![],
        }
    );
    let dev = m.environment("development").unwrap();
    assert_eq!(dev.rotate_every_days, 0);
    assert_eq!(dev.timeout_secs, 120);
    assert_eq!(
        dev.targets,
        [
            Target::File {
                path: ".env".into(),
                format: Format::Dotenv,
                key: "SECRET_KEY".into()
            },
            Target::File {
                path: ".streamlit/secrets.toml".into(),
                format: Format::Toml,
                key: "SECRET_KEY".into()
            },
        ]
    );
    let prod = m.environment("production").unwrap();
    assert_eq!(prod.rotate_every_days, 180);
    assert_eq!(
        prod.restart.as_deref(),
        Some("systemctl --user restart baguette-metro")
    );
    assert_eq!(
        prod.verify.as_deref(),
        Some("curl -fsS http://127.0.0.1:8501/healthz")
    );
    assert_eq!(prod.grace_days, 7);
    assert_eq!(
        prod.fallback,
        Some(Target::File {
            path: "deploy/production/.env".into(),
            format: Format::Dotenv,
            key: "SECRET_KEY_FALLBACKS".into()
        })
    );
    assert_eq!(prod.logs, ["deploy/production/logs/*.log"]);
    assert_eq!(
        prod.notify.as_deref(),
        Some("mail -s 'keywarden incident' security@example.com")
    );
    assert_eq!(prod.targets.len(), 3);
    assert_eq!(
        prod.targets[1],
        Target::File {
            path: "deploy/production/.streamlit/secrets.toml".into(),
            format: Format::Toml,
            key: "auth.secret_key".into(),
        }
    );
    assert_eq!(
        prod.targets[2],
        Target::Env {
            var: "SECRET_KEY".into()
        }
    );
    assert_eq!(prod.targets[2].label(), "$SECRET_KEY");
    assert_eq!(prod.targets[0].label(), "deploy/production/.env");
    assert!(m.environment("staging").is_none());
}

#[test]
fn defaults_fill_in() {
    let m = Manifest::parse(
        "version = 1\n[[environments]]\nname = \"staging\"\ntargets = [{ path = \"s/secrets.toml\" }]\n\
         [[environments]]\nname = \"qa\"\nfallback = { path = \"qa/.env\" }\ntargets = [{ path = \"qa/.env\" }]\n",
        Path::new(FILE_NAME),
    )
    .unwrap();
    assert_eq!(m.defaults, Defaults::default());
    let s = &m.environments[0];
    assert_eq!(
        (s.rotate_every_days, s.grace_days, s.timeout_secs),
        (90, 0, 120)
    );
    assert_eq!(
        s.targets[0],
        Target::File {
            path: "s/secrets.toml".into(),
            format: Format::Toml,
            key: "SECRET_KEY".into()
        }
    );
    let qa = &m.environments[1];
    assert_eq!(qa.rotate_every_days, 180);
    assert_eq!(
        qa.fallback,
        Some(Target::File {
            path: "qa/.env".into(),
            format: Format::Dotenv,
            key: "SECRET_KEY_FALLBACKS".into()
        })
    );
}

#[test]
fn io_errors_name_the_path_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join(FILE_NAME);
    let e = Manifest::load(&missing).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.line, 0);
    assert!(
        e.to_string()
            .starts_with(&format!("{}: no keywarden.toml here", missing.display())),
        "{e}"
    );
    assert!(e.hint.contains("keywarden init"));
    let e = Manifest::load(dir.path()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn secrets_in_unknown_fields_are_not_echoed() {
    let e = Manifest::parse(
        "version = 1\nsecret = \"do-not-print-me\"\n",
        Path::new(FILE_NAME),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("do-not-print-me"), "{e}");
}

#[test]
fn to_toml_is_commented_and_round_trips() {
    let mut prod = Environment::new("production");
    prod.restart = Some("systemctl --user restart app".into());
    prod.grace_days = 7;
    prod.timeout_secs = 30;
    prod.fallback = Some(Target::File {
        path: "deploy/.env".into(),
        format: Format::Dotenv,
        key: "SECRET_KEY_FALLBACKS".into(),
    });
    prod.logs = vec!["logs/*.log".into(), "/var/log/app/*.log".into()];
    prod.notify = Some("mail -s 'it''s \"bad\"' me@example.com".into());
    prod.targets = vec![
        Target::File {
            path: "deploy/.env".into(),
            format: Format::Dotenv,
            key: "SECRET_KEY".into(),
        },
        Target::File {
            path: "deploy/secrets.toml".into(),
            format: Format::Toml,
            key: "\"a.b\".c".into(),
        },
        Target::Env {
            var: "SECRET_KEY".into(),
        },
    ];
    let mut dev = Environment::new("development");
    dev.targets = vec![Target::File {
        path: ".env".into(),
        format: Format::Dotenv,
        key: "SECRET_KEY".into(),
    }];
    let m = Manifest {
        version: 1,
        defaults: Defaults {
            key: "SECRET_KEY".into(),
            length: 48,
            charset: Charset::Base64url,
            keep_backups_days: Some(90),
            backup_recipients: vec![],
        },
        environments: vec![dev, prod],
        playbooks: Default::default(),
        audit: Default::default(),
        watch: Default::default(),
    };
    let text = m.to_toml();
    assert!(text.starts_with("# keywarden.toml"));
    assert!(text.contains("# restart = ") || text.contains("restart = "));
    assert_eq!(
        Manifest::parse(&text, Path::new(FILE_NAME)).unwrap(),
        m,
        "\n{text}"
    );
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("development".to_string()),
        Just("staging".to_string()),
        Just("production".to_string()),
        "[A-Za-z0-9_-][A-Za-z0-9._-]{0,10}",
    ]
}

fn command() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[ -~é\"'\\\\]{1,30}".prop_filter("non-blank", |s| !s.trim().is_empty()))
}

proptest! {
    #[test]
    fn to_toml_round_trips(
        names in prop::collection::btree_set(name(), 1..4),
        length in 32usize..200,
        charset in prop::sample::select(Charset::ALL.to_vec()),
        restart in command(),
        verify in command(),
        notify in command(),
        rotate in prop::option::of(0u32..3650),
        grace in 0u32..30,
        timeout in 1u64..86_400,
        files in prop::collection::vec("[a-z][a-z0-9 é'\"._-]{0,8}(\\.toml|\\.env)?", 1..3),
    ) {
        let environments = names.iter().enumerate().map(|(i, n)| {
            let mut e = Environment::new(n);
            e.rotate_every_days = rotate.unwrap_or(default_rotation_days(n));
            e.restart = restart.clone();
            e.verify = verify.clone();
            e.notify = notify.clone();
            e.timeout_secs = timeout;
            e.grace_days = grace;
            e.fallback = Some(Target::File { path: format!("env{i}/fallback.env").into(), format: Format::Dotenv, key: "OLD_KEYS".into() });
            e.targets = files.iter().enumerate().map(|(j, f)| {
                let path = PathBuf::from(format!("env{i}/{j}/{f}"));
                let format = Format::infer(&path);
                let key = if format == Format::Toml { "auth.secret_key".to_string() } else { "SECRET_KEY".to_string() };
                Target::File { path, format, key }
            }).chain([Target::Env { var: "SECRET_KEY".into() }]).collect();
            e
        }).collect();
        let m = Manifest { version: 1, defaults: Defaults { key: "SECRET_KEY".into(), length, charset, keep_backups_days: None, backup_recipients: vec![] }, environments, playbooks: Default::default(), audit: Default::default(), watch: Default::default() };
        let text = m.to_toml();
        let back = Manifest::parse(&text, Path::new(FILE_NAME));
        prop_assert_eq!(back.as_ref().ok(), Some(&m), "{:?}\n{}", back.as_ref().err(), text);
    }
}

#[test]
fn a_key_pasted_into_the_manifest_is_never_echoed() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest/bad/pasted_key.toml");
    let e = Manifest::load(&path).unwrap_err();
    assert!(!e.to_string().contains("q8#Lm2"), "{e}");
    assert!(e.hint.contains("rotate"), "{e}");
    let e = Manifest::parse(
        "version = 1\n[defaults]\nkey = \"q8#Lm2!vR9@xT4$kW7%zN1^bC6&hJ3*p\"\n[[environments]]\nname = \"dev\"\ntargets = [{ env = \"SECRET_KEY\" }, { path = \".env\" }]\n",
        Path::new(FILE_NAME),
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (3, 7));
    assert!(
        e.message.contains("`defaults.key` looks like a key value")
            && !e.to_string().contains("q8#"),
        "{e}"
    );
}
