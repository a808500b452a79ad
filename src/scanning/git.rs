//! What git itself says about the project's secrets files: ignored, tracked.
//!
//! keywarden asks git (`git check-ignore`, `git ls-files`) instead of parsing `.gitignore`
//! files, so nested ignore files, global excludes and `info/exclude` all count exactly
//! as git counts them. Each question is one git process for all paths at once (`ls-files`
//! takes its paths as arguments, so a long list is split to stay under the system's
//! argument limit), with both pipes streamed: git answers while it is still being asked,
//! so neither side ever waits on a full pipe, whatever the number of paths.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Git's view of a set of paths inside one work tree.
#[derive(Debug, Default)]
pub struct GitView {
    /// False when the project is not in a git work tree (or git is not installed).
    pub in_repo: bool,
    /// Set when the project is in a work tree but git could not answer: which paths are
    /// ignored or tracked is then unknown, and said so rather than guessed.
    pub failure: Option<String>,
    ignored: HashSet<PathBuf>,
    tracked: HashSet<PathBuf>,
}

/// Bytes of paths per `ls-files` process: far below any system's argument limit.
const ARGS_PER_CALL: usize = 96 * 1024;

impl GitView {
    /// Asks git about `paths` (relative to `root`).
    pub fn query(root: &Path, paths: &[PathBuf]) -> GitView {
        // No `.git` at or above the root (and no GIT_DIR): not a work tree, and no process
        // to start for finding that out.
        // git inherits this process's environment, so it is this process's GIT_DIR.
        if crate::context::Env::process().var_os("GIT_DIR").is_none()
            && !root.ancestors().any(|d| d.join(".git").exists())
        {
            return GitView::default();
        }
        let inside = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "--is-inside-work-tree"])
            .stderr(Stdio::null())
            .output();
        let in_repo =
            matches!(inside, Ok(o) if o.status.success() && o.stdout.starts_with(b"true"));
        if !in_repo || paths.is_empty() {
            return GitView {
                in_repo,
                ..GitView::default()
            };
        }
        let answers = check_ignore(root, paths)
            .and_then(|ignored| ls_files(root, paths).map(|tracked| (ignored, tracked)));
        match answers {
            Ok((ignored, tracked)) => GitView {
                in_repo,
                failure: None,
                ignored,
                tracked,
            },
            Err(why) => GitView {
                in_repo,
                failure: Some(why),
                ..GitView::default()
            },
        }
    }

    /// Whether git answered: when false, `is_ignored` and `is_tracked` know nothing.
    pub fn answered(&self) -> bool {
        self.in_repo && self.failure.is_none()
    }

    pub fn is_ignored(&self, path: &Path) -> bool {
        self.ignored.contains(path)
    }

    pub fn is_tracked(&self, path: &Path) -> bool {
        self.tracked.contains(path)
    }
}

/// The files staged for the next commit under `root` (added, copied, modified, renamed,
/// type changed), each handed to `each` with its path relative to `root` and a reader of
/// its staged content (what the commit will hold, not the work tree's), streamed from git
/// whatever its size. Returns the files git could not hand over whole, each with why:
/// never a skip, the gate must not pass what it did not read; the others are still read
/// (their findings are reported with the failure). A list git cannot give is an error.
pub fn staged(
    root: &Path,
    each: &mut dyn FnMut(&str, &mut dyn std::io::Read) -> std::io::Result<()>,
) -> crate::error::Result<Vec<(String, String)>> {
    use crate::error::Error;
    use std::io::Read as _;
    use std::os::unix::ffi::OsStrExt;
    // Outside a repository git takes `diff` for `diff --no-index` and says only that
    // `--cached` is unknown: whether this is a repository git will read is asked first,
    // so the reason (none here, or another user's, refused until `safe.directory`) is said.
    let probe = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--git-dir"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Failed(format!("git could not start: {e}")))?;
    if !probe.status.success() {
        let why = String::from_utf8_lossy(&probe.stderr);
        let why = why
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("git exited with an error");
        let hint = if why.contains("dubious ownership") || why.contains("safe.directory") {
            format!(
                "the repository belongs to another user: if it is yours to scan, run `git config --global --add safe.directory {}`",
                root.display()
            )
        } else {
            "--staged needs a git repository".to_string()
        };
        return Err(Error::Failed(format!(
            "git cannot read the repository at {}: {why} ({hint})",
            root.display()
        )));
    }
    let listed = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "diff",
            "--cached",
            "--raw",
            "--no-renames",
            "-z",
            "--relative",
            "--diff-filter=ACMT",
        ])
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Failed(format!("git diff could not start: {e}")))?;
    if !listed.status.success() {
        let why = String::from_utf8_lossy(&listed.stderr);
        return Err(Error::Failed(format!(
            "git diff --cached failed: {} (--staged needs a git repository)",
            why.lines().next().unwrap_or("").trim()
        )));
    }
    let mut unread = Vec::new();
    // `:OLDMODE NEWMODE OLDOID NEWOID STATUS` NUL `PATH` NUL, one pair per file (renames
    // off: a renamed file is its new path, added). A submodule (mode 160000) is a commit
    // of another repository, not content of this one: it is not searched here.
    let fields: Vec<&[u8]> = listed.stdout.split(|&b| b == 0).collect();
    let entries = fields.chunks_exact(2).filter_map(|pair| {
        let new_mode = pair[0].split(|&b| b == b' ').nth(1)?;
        (new_mode != b"160000" && !pair[1].is_empty()).then_some(pair[1])
    });
    for name in entries {
        // `:./path`: the index entry of this path (a name like `1:x` is not a stage).
        let mut spec = std::ffi::OsString::from(":./");
        spec.push(std::ffi::OsStr::from_bytes(name));
        let shown = String::from_utf8_lossy(name).into_owned();
        // stderr goes to a file, not a pipe: git never blocks on it while its stdout
        // is read.
        let errors = tempfile::tempfile()
            .map_err(|e| Error::Failed(format!("no temporary file for git's errors: {e}")))?;
        let mut child =
            Command::new("git")
                .arg("-C")
                .arg(root)
                .args(["cat-file", "blob"])
                .arg(&spec)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(errors.try_clone().map_err(|e| {
                    Error::Failed(format!("no temporary file for git's errors: {e}"))
                })?)
                .spawn()
                .map_err(|e| Error::Failed(format!("git cat-file could not start: {e}")))?;
        let mut out = child.stdout.take().expect("piped");
        let read = each(&shown, &mut out);
        drop(out);
        if read.is_err() {
            let _ = child.kill();
        }
        let status = child
            .wait()
            .map_err(|e| Error::Failed(format!("git cat-file: {e}")))?;
        if !status.success() {
            let mut why = Vec::new();
            let mut errors = errors;
            use std::io::Seek as _;
            let _ = errors.seek(std::io::SeekFrom::Start(0));
            let _ = errors.take(4096).read_to_end(&mut why);
            let why = String::from_utf8_lossy(&why);
            let why = match read {
                Err(e) => e.to_string(),
                Ok(()) => why.lines().next().unwrap_or("").trim().to_string(),
            };
            unread.push((shown, format!("git could not read the staged file: {why}")));
        } else if let Err(e) = read {
            unread.push((shown, format!("git could not read the staged file: {e}")));
        }
    }
    Ok(unread)
}

fn check_ignore(root: &Path, paths: &[PathBuf]) -> Result<HashSet<PathBuf>, String> {
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.as_os_str().as_encoded_bytes());
        input.push(0);
    }
    // Exit 1 means "none of them is ignored": an answer, not a failure.
    let args = ["check-ignore", "--no-index", "--stdin", "-z"].map(OsString::from);
    git_list(root, "check-ignore", &args, Some(input), &[0, 1])
}

fn ls_files(root: &Path, paths: &[PathBuf]) -> Result<HashSet<PathBuf>, String> {
    let mut tracked = HashSet::new();
    let mut rest = paths;
    while !rest.is_empty() {
        let mut bytes = 0;
        let n = rest
            .iter()
            .take_while(|p| {
                bytes += p.as_os_str().len() + 1;
                bytes <= ARGS_PER_CALL
            })
            .count()
            .max(1);
        let (chunk, tail) = rest.split_at(n);
        // Paths, not patterns: a file named `*.env` must not match every `.env`.
        let mut args: Vec<OsString> = ["--literal-pathspecs", "ls-files", "-z", "--"]
            .map(OsString::from)
            .into();
        args.extend(chunk.iter().map(|p| p.as_os_str().to_owned()));
        tracked.extend(git_list(root, "ls-files", &args, None, &[0])?);
        rest = tail;
    }
    Ok(tracked)
}

/// Runs git, feeding `input` on stdin from a thread of its own while this one reads the
/// answer (so a long answer never blocks a long question), and returns the NUL-separated
/// paths it prints.
fn git_list(
    root: &Path,
    what: &str,
    args: &[OsString],
    input: Option<Vec<u8>>,
    ok_codes: &[i32],
) -> Result<HashSet<PathBuf>, String> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root).args(args);
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git {what} could not start: {e}"))?;
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(std::thread::spawn(move || {
            // A broken pipe means git stopped reading; its exit status says why.
            let _ = stdin.write_all(&bytes);
        })),
        _ => None,
    };
    let mut err = Vec::new();
    let err_reader = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.by_ref().take(64 * 1024).read_to_end(&mut buf);
            // Drain the rest so git never blocks on a full stderr pipe.
            let _ = std::io::copy(&mut s, &mut std::io::sink());
            buf
        })
    });
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_end(&mut out)
            .map_err(|e| format!("git {what}: reading its answer: {e}"))?;
    }
    let status = child
        .wait()
        .map_err(|e| format!("git {what}: waiting for it: {e}"))?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    if let Some(r) = err_reader {
        err = r.join().unwrap_or_default();
    }
    match status.code() {
        Some(c) if ok_codes.contains(&c) => Ok(out
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
            .collect()),
        _ => {
            let msg = String::from_utf8_lossy(&err);
            let first = msg.lines().next().unwrap_or("").trim();
            Err(format!(
                "git {what} failed ({status}){}",
                if first.is_empty() {
                    String::new()
                } else {
                    format!(": {first}")
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(root: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn reports_ignored_and_tracked_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        std::fs::write(root.join(".gitignore"), ".env\n").unwrap();
        std::fs::write(root.join(".env"), "A=1\n").unwrap();
        std::fs::create_dir(root.join(".streamlit")).unwrap();
        std::fs::write(root.join(".streamlit/secrets.toml"), "A = '1'\n").unwrap();
        std::fs::write(root.join(".env.prod"), "A=1\n").unwrap();
        git(root, &["add", ".streamlit/secrets.toml"]);
        let paths: Vec<PathBuf> = [".env", ".streamlit/secrets.toml", ".env.prod"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let view = GitView::query(root, &paths);
        assert!(view.in_repo);
        assert!(view.is_ignored(Path::new(".env")));
        assert!(!view.is_ignored(Path::new(".env.prod")));
        assert!(view.is_tracked(Path::new(".streamlit/secrets.toml")));
        assert!(!view.is_tracked(Path::new(".env")));
    }

    #[test]
    fn outside_a_repository_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let view = GitView::query(dir.path(), &[PathBuf::from(".env")]);
        assert!(!view.in_repo);
    }

    #[test]
    fn answers_for_more_paths_than_a_pipe_holds() {
        // 20,000 ignored paths: both the question and the answer are several times a
        // pipe's 64 KiB, which deadlocks a process that writes everything before reading.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        std::fs::write(root.join(".gitignore"), "deploy/\n").unwrap();
        let paths: Vec<PathBuf> = (0..20_000)
            .map(|i| PathBuf::from(format!("deploy/environment-number-{i:05}/.env")))
            .collect();
        let view = GitView::query(root, &paths);
        assert!(view.answered(), "{:?}", view.failure);
        assert!(paths.iter().all(|p| view.is_ignored(p)));
    }

    #[test]
    fn paths_are_not_patterns() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        std::fs::write(root.join(".env"), "A=1\n").unwrap();
        git(root, &["add", ".env"]);
        // `*env` as a pattern would match the tracked `.env`.
        let view = GitView::query(root, &[PathBuf::from("*env"), PathBuf::from(".env")]);
        assert!(view.answered());
        assert!(view.is_tracked(Path::new(".env")));
        assert!(!view.is_tracked(Path::new("*env")));
    }

    #[test]
    fn a_git_that_fails_is_reported_not_taken_for_an_answer() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        std::fs::write(root.join(".env"), "A=1\n").unwrap();
        git(root, &["add", ".env"]);
        std::fs::write(root.join(".git/index"), b"DIRC garbage").unwrap();
        let view = GitView::query(root, &[PathBuf::from(".env")]);
        assert!(view.in_repo);
        assert!(!view.answered());
        let why = view.failure.unwrap();
        assert!(why.contains("git "), "{why}");
    }
}
