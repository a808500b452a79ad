//! `keywarden demo`: writes the Baguette Metro demo project (a Streamlit front end and a
//! FastAPI back end) whose files show what the SECRET_KEY guide warns about.
//!
//! The template lives in `assets/demo/` and is embedded in the binary, one `include_str!`
//! per file. Template files are stored without their leading dot (`dot-env` is written as
//! `.env`), so keywarden's own repository holds no `.env` or `.gitignore` that tools would
//! take for real ones. Files are written verbatim, not through the target editors: the
//! production `.env` must hold the guide's published key unquoted, exactly as the guide
//! shows it.
//!
//! Keys are backdated (file times) so that rotation is overdue, and a git repository is
//! made with a fixed author and date, in which the development `secrets.toml` is committed.

use crate::error::{Error, Result};
use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

struct DemoFile {
    /// Where it goes in the project.
    path: &'static str,
    text: &'static str,
    mode: u32,
    /// How old the file claims to be (its modification time), in days.
    age_days: u64,
}

const fn file(path: &'static str, text: &'static str, mode: u32, age_days: u64) -> DemoFile {
    DemoFile {
        path,
        text,
        mode,
        age_days,
    }
}

macro_rules! asset {
    ($p:literal) => {
        include_str!(concat!("../../assets/demo/", $p))
    };
}

const FILES: &[DemoFile] = &[
    file("keywarden.toml", asset!("keywarden.toml"), 0o644, 200),
    file("README.md", asset!("README.md"), 0o644, 200),
    file(".gitignore", asset!("dot-gitignore"), 0o644, 200),
    file("requirements.txt", asset!("requirements.txt"), 0o644, 200),
    file("frontend/app.py", asset!("frontend/app.py"), 0o644, 200),
    file(
        "backend/app/__init__.py",
        asset!("backend/app/__init__.py"),
        0o644,
        200,
    ),
    file(
        "backend/app/config.py",
        asset!("backend/app/config.py"),
        0o644,
        200,
    ),
    file(
        "backend/app/main.py",
        asset!("backend/app/main.py"),
        0o644,
        200,
    ),
    file(
        "scripts/restart.sh",
        asset!("scripts/restart.sh"),
        0o755,
        200,
    ),
    file("scripts/verify.sh", asset!("scripts/verify.sh"), 0o755, 200),
    // development: the guide's dev key in both files; secrets.toml is committed to git.
    file(".env", asset!("dot-env"), 0o600, 30),
    file(
        ".streamlit/secrets.toml",
        asset!("dot-streamlit/secrets.toml"),
        0o600,
        30,
    ),
    // staging: the guide's staging key in .env, development's key in secrets.toml (drift,
    // and a key shared with development); older than its 90-day schedule.
    file(
        "deploy/staging/.env",
        asset!("deploy/staging/dot-env"),
        0o600,
        120,
    ),
    file(
        "deploy/staging/.streamlit/secrets.toml",
        asset!("deploy/staging/dot-streamlit/secrets.toml"),
        0o600,
        120,
    ),
    // production: the key the guide published, world-readable, 400 days old.
    file(
        "deploy/production/.env",
        asset!("deploy/production/dot-env"),
        0o644,
        400,
    ),
    file(
        "deploy/production/.streamlit/secrets.toml",
        asset!("deploy/production/dot-streamlit/secrets.toml"),
        0o600,
        400,
    ),
    file(
        "deploy/production/logs/app.log",
        asset!("deploy/production/logs/app.log"),
        0o640,
        170,
    ),
];

/// The fixed identity and date of the demo's one commit, so every demo is the same.
const GIT_IDENTITY: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "Baguette Metro Dev"),
    ("GIT_AUTHOR_EMAIL", "dev@baguette-metro.example"),
    ("GIT_AUTHOR_DATE", "2025-01-15T10:00:00Z"),
    ("GIT_COMMITTER_NAME", "Baguette Metro Dev"),
    ("GIT_COMMITTER_EMAIL", "dev@baguette-metro.example"),
    ("GIT_COMMITTER_DATE", "2025-01-15T10:00:00Z"),
];

/// The folder name of a demo made in a new temporary folder (and the project's name).
pub const PROJECT_NAME: &str = "baguette-metro";

#[derive(Debug)]
pub struct Demo {
    pub root: PathBuf,
    /// Why there is no git repository (git missing or failing); `None` when there is one.
    pub git_problem: Option<String>,
}

/// Writes the demo into `dir`, which must be absent or empty. File times count back from
/// `now`.
pub fn create(dir: &Path, now: SystemTime) -> Result<Demo> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::Usage(format!(
                    "{} is not empty; the demo needs a new or empty folder (or none: `keywarden demo` makes a temporary one)",
                    dir.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| Error::writing(dir, "create the folder", e))?;
        }
        Err(e) => return Err(Error::reading(dir, "read the folder", e)),
    }
    let root = fs::canonicalize(dir).map_err(|e| Error::reading(dir, "open the folder", e))?;
    for f in FILES {
        write_file(&root, f)?;
    }
    let git_problem = make_repository(&root).err();
    // After git, which never looks at modification times of committed content.
    for f in FILES {
        backdate(&root.join(f.path), now, f.age_days)?;
    }
    Ok(Demo { root, git_problem })
}

/// Writes the demo into a new folder under the system's temporary folder (left in place
/// after keywarden exits, so the user can look at it).
pub fn create_temporary(now: SystemTime) -> Result<Demo> {
    let parent = tempfile::Builder::new()
        .prefix("keywarden-demo-")
        .tempdir()
        .map_err(|e| Error::writing(std::env::temp_dir(), "create a folder in", e))?
        .keep();
    create(&parent.join(PROJECT_NAME), now)
}

fn write_file(root: &Path, f: &DemoFile) -> Result<()> {
    let path = root.join(f.path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::writing(parent, "create the folder", e))?;
    }
    fs::write(&path, f.text).map_err(|e| Error::writing(&path, "write", e))?;
    // Set explicitly: the umask must not decide which file is world-readable.
    fs::set_permissions(&path, fs::Permissions::from_mode(f.mode))
        .map_err(|e| Error::writing(&path, "set the mode of", e))
}

fn backdate(path: &Path, now: SystemTime, days: u64) -> Result<()> {
    let when = now
        .checked_sub(Duration::from_secs(days * 86_400))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(when))
        .map_err(|e| Error::writing(path, "set the modification time of", e))
}

/// `git init`, then one commit of everything `.gitignore` lets through.
fn make_repository(root: &Path) -> std::result::Result<(), String> {
    let git = |args: &[&str]| -> std::result::Result<(), String> {
        let out = Command::new("git")
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .current_dir(root)
            .envs(GIT_IDENTITY)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    git(&["init", "--quiet"])?;
    git(&["add", "--all"])?;
    git(&[
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "Baguette Metro: Streamlit front end, FastAPI back end",
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_non_empty_folder() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let err = create(dir.path(), SystemTime::now()).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        assert_eq!(
            fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn writes_every_file_with_its_mode_and_age() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let demo = create(&dir.path().join("app"), now).unwrap();
        for f in FILES {
            let path = demo.root.join(f.path);
            assert_eq!(fs::read_to_string(&path).unwrap(), f.text, "{}", f.path);
            let meta = fs::metadata(&path).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, f.mode, "{}", f.path);
            let age = now.duration_since(meta.modified().unwrap()).unwrap();
            assert_eq!(age.as_secs() / 86_400, f.age_days, "{}", f.path);
        }
        let prod = fs::read_to_string(demo.root.join("deploy/production/.env")).unwrap();
        assert!(prod.contains(
            "\nSECRET_KEY=}%V7%ot+5f9}FGbaJMeRh;Rh.vJy8=7ZQcyeI0q&,]u-$uCtz$QI}1_(7tV]T!>v\n"
        ));
    }

    #[test]
    fn every_template_file_is_written() {
        fn count(dir: &Path) -> usize {
            fs::read_dir(dir)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    if e.file_type().unwrap().is_dir() {
                        count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        assert_eq!(
            count(&root),
            FILES.len(),
            "a file in assets/demo is not in FILES"
        );
    }

    #[test]
    fn the_template_holds_no_dotfiles() {
        // A real `.gitignore` or `.env` under assets/ would change how keywarden's own
        // repository is read by git and by scanners.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().to_string_lossy().into_owned();
                assert!(!name.starts_with('.'), "{}", entry.path().display());
                if entry.file_type().unwrap().is_dir() {
                    stack.push(entry.path());
                }
            }
        }
    }
}
