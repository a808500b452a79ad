//! What git itself says about the project's secrets files: ignored, tracked.
//!
//! keywarden asks git (`git check-ignore`, `git ls-files`) instead of parsing `.gitignore`
//! files, so nested ignore files, global excludes and `info/exclude` all count exactly
//! as git counts them. Each question is one git process for all paths at once.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Git's view of a set of paths inside one work tree.
#[derive(Debug, Default)]
pub struct GitView {
    /// False when the project is not in a git work tree (or git is not installed).
    pub in_repo: bool,
    ignored: HashSet<PathBuf>,
    tracked: HashSet<PathBuf>,
}

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
        let ignored = git_list(
            root,
            &["check-ignore", "--no-index", "--stdin", "-z"],
            paths,
            true,
        );
        let tracked = git_list(root, &["ls-files", "-z", "--"], paths, false);
        GitView {
            in_repo,
            ignored,
            tracked,
        }
    }

    pub fn is_ignored(&self, path: &Path) -> bool {
        self.ignored.contains(path)
    }

    pub fn is_tracked(&self, path: &Path) -> bool {
        self.tracked.contains(path)
    }
}

/// Runs git with the paths on stdin (`via_stdin`) or as arguments; returns the NUL-separated
/// paths it prints. Errors count as "no paths": git's opinion is advice, not a gate.
fn git_list(root: &Path, args: &[&str], paths: &[PathBuf], via_stdin: bool) -> HashSet<PathBuf> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root).args(args);
    if !via_stdin {
        cmd.args(paths);
    }
    let child = cmd
        .stdin(if via_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return HashSet::new();
    };
    if via_stdin && let Some(mut stdin) = child.stdin.take() {
        let mut buf = Vec::new();
        for p in paths {
            buf.extend_from_slice(p.as_os_str().as_encoded_bytes());
            buf.push(0);
        }
        // Write from this thread: the lists are small (paths, not contents).
        let _ = stdin.write_all(&buf);
    }
    let Ok(out) = child.wait_with_output() else {
        return HashSet::new();
    };
    out.stdout
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
        .collect()
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
}
