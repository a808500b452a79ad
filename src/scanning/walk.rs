//! The tree scan's files: a parallel walk of the project (the `ignore` crate, as ripgrep
//! walks) that honours git's ignore rules (`.gitignore` files, `.git/info/exclude`, the
//! global excludes file) inside a git repository, and skips build and dependency folders
//! outside one. Unlike ripgrep's default it includes hidden files, where leaks hide
//! (`.env.production`, `.streamlit/secrets.toml`), and it always includes:
//! - every file git tracks, whatever `.gitignore` says (a `.env` committed before it was
//!   ignored is in every clone);
//! - every `.env*` and `*.env` file in a folder the walk visits, ignored or not (a stray
//!   copy of a key lying next to the code).
//!
//! `.git` itself is never walked.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// Folders never searched when there is no git to say what is ignored.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    "dist",
    "build",
    ".tox",
];

/// Whether a file name is an env file (`.env`, `.env.production`, `prod.env`): searched
/// even when git ignores it, and read as a `.env` file (its unquoted values are literals).
pub(super) fn is_env_file(name: &OsStr) -> bool {
    let b = name.as_bytes();
    b.starts_with(b".env") || b.ends_with(b".env")
}

/// What the walk found.
pub(super) struct Walked {
    /// The project's files, relative to the root, sorted and without duplicates.
    pub files: Vec<PathBuf>,
    /// What could not be listed, relative to the root, and why: a folder that could not
    /// be opened, git's list of tracked files when git failed. Sorted.
    pub errors: Vec<(String, String)>,
}

/// The project's files, and what could not be listed.
pub(super) fn project_files(root: &Path) -> Walked {
    let in_git = root.ancestors().any(|d| d.join(".git").exists());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(false)
        .ignore(false)
        .parents(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .require_git(true)
        .follow_links(false)
        .threads(threads)
        .filter_entry(move |e| {
            let name = e.file_name();
            let dir = e.file_type().is_some_and(|t| t.is_dir());
            !(dir && (name == ".git" || (!in_git && SKIP_DIRS.iter().any(|s| name == *s))))
        });
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let (etx, erx) = mpsc::channel::<(String, String)>();
    builder.build_parallel().run(|| {
        let tx = tx.clone();
        let etx = etx.clone();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    if let Some(unread) = unreadable(root, &e) {
                        let _ = etx.send(unread);
                    }
                    return ignore::WalkState::Continue;
                }
            };
            let Some(t) = entry.file_type() else {
                return ignore::WalkState::Continue;
            };
            if t.is_file() {
                if let Ok(rel) = entry.path().strip_prefix(root) {
                    let _ = tx.send(rel.to_path_buf());
                }
            } else if t.is_dir() && in_git {
                // Env files git ignores in this folder.
                if let Ok(list) = std::fs::read_dir(entry.path()) {
                    for e in list.flatten() {
                        if is_env_file(&e.file_name())
                            && e.file_type().is_ok_and(|t| t.is_file())
                            && let Ok(rel) = e.path().strip_prefix(root)
                        {
                            let _ = tx.send(rel.to_path_buf());
                        }
                    }
                }
            }
            ignore::WalkState::Continue
        })
    });
    drop(tx);
    drop(etx);
    let mut files: Vec<PathBuf> = rx.into_iter().collect();
    let mut errors: Vec<(String, String)> = erx.into_iter().collect();
    if in_git {
        match tracked(root) {
            Ok(list) => files.extend(list),
            Err(why) => errors.push((
                ".".to_string(),
                format!(
                    "git could not list the tracked files ({why}), so files git tracks but ignores were not searched; make git work in this repository (for another user's checkout: `git config --global --add safe.directory PATH`) and scan again"
                ),
            )),
        }
    }
    files.sort();
    files.dedup();
    errors.sort();
    errors.dedup();
    Walked { files, errors }
}

/// A walk error that hides files (a folder or file that could not be opened or read):
/// its path relative to `root` and the error. `None` for what hides nothing (an ignore
/// file's bad pattern, which the walk reports and goes on past).
fn unreadable(root: &Path, e: &ignore::Error) -> Option<(String, String)> {
    fn path_and_io(e: &ignore::Error) -> Option<(Option<&Path>, &std::io::Error)> {
        match e {
            ignore::Error::WithPath { path, err } => {
                path_and_io(err).map(|(inner, io)| (inner.or(Some(path.as_path())), io))
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_and_io(err)
            }
            ignore::Error::Io(io) => Some((None, io)),
            _ => None,
        }
    }
    let (path, io) = path_and_io(e)?;
    let path = path?;
    // An ignore file that cannot be read is reported with its own path: the folder is
    // still walked (with fewer files ignored, not more), which hides nothing.
    let ignore_file = path
        .file_name()
        .is_some_and(|n| n == ".gitignore" || n == ".ignore")
        || path.ends_with(".git/info/exclude");
    if ignore_file {
        return None;
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let shown = match rel.as_os_str().is_empty() {
        true => ".".to_string(),
        false => rel.display().to_string(),
    };
    Some((shown, io.to_string()))
}

/// The files git tracks under `root`, relative to it, or why git could not say.
fn tracked(root: &Path) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--cached"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("git could not start: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(why
            .lines()
            .next()
            .unwrap_or("git ls-files failed")
            .trim()
            .to_string());
    }
    Ok(out
        .stdout
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| PathBuf::from(OsStr::from_bytes(s)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_names() {
        for n in [
            ".env",
            ".env.local",
            ".env.production",
            ".envrc",
            "app.env",
            "prod.env",
        ] {
            assert!(is_env_file(OsStr::new(n)), "{n}");
        }
        for n in ["env.py", "environment.yml", "settings.py", "env"] {
            assert!(!is_env_file(OsStr::new(n)), "{n}");
        }
    }
}
