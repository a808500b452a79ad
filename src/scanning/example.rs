//! `keywarden example ENV`: the environment's example files — `.env.example` beside
//! `.env`, `secrets.toml.example` beside `.streamlit/secrets.toml` (the target's path with
//! `.example` appended, as Django, Laravel and Streamlit projects name them) — holding each
//! key name with a placeholder, written line-preserving through the targets' own writers
//! (every other line kept), atomically. An example file is meant to be committed: one git
//! ignores is refused.

use crate::error::{Error, Result};
use crate::keys::secret::Secret;
use crate::project::Project;
use crate::project::manifest::Target;
use crate::targets::{self, PlannedWrite};
use std::path::PathBuf;

/// The placeholder an example file gives the key name.
pub const PLACEHOLDER: &str = "change-me";

/// One example file to write.
pub struct Planned {
    /// Relative to the project root.
    pub path: PathBuf,
    /// The key name it holds.
    pub key: String,
    /// `None` when the file already gives the name the placeholder.
    pub write: Option<PlannedWrite>,
    /// The file held the environment's current key: it is published wherever the file
    /// was committed, and the key must be rotated.
    pub held_key: bool,
}

/// Where `path` (relative to `root`) leads: symlinks resolved where it exists, `.` and
/// `..` folded lexically where it does not.
fn resolved(root: &std::path::Path, path: &std::path::Path) -> PathBuf {
    let full = root.join(path);
    if let Ok(c) = std::fs::canonicalize(&full) {
        return c;
    }
    let full = match full.parent().and_then(|d| std::fs::canonicalize(d).ok()) {
        Some(d) => d.join(full.file_name().unwrap_or_default()),
        None => full,
    };
    let mut norm = PathBuf::new();
    for c in full.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                norm.pop();
            }
            c => norm.push(c),
        }
    }
    norm
}

/// The example path of a target file: its path with `.example` appended.
pub fn example_path(target: &std::path::Path) -> PathBuf {
    let mut s = target.as_os_str().to_os_string();
    s.push(".example");
    PathBuf::from(s)
}

/// Plans the example files of environment `env`: one per file target (environment
/// variables and vault targets have none). Refuses an unknown environment and an example
/// path git ignores.
pub fn plan(project: &Project, env: &str) -> Result<Vec<Planned>> {
    let Some(e) = project.manifest.environment(env) else {
        return Err(Error::Usage(format!(
            "no environment `{env}` in {}; `keywarden status` lists them",
            crate::project::manifest::FILE_NAME
        )));
    };
    let placeholder = Secret::new(PLACEHOLDER.to_string());
    let mut out: Vec<Planned> = Vec::new();
    let files: Vec<(PathBuf, Target)> = e
        .targets
        .iter()
        .filter_map(|t| match t {
            Target::File { path, format, key } => Some((
                example_path(path),
                Target::File {
                    path: example_path(path),
                    format: *format,
                    key: key.clone(),
                },
            )),
            _ => None,
        })
        .collect();
    // Every file that holds a key, of every environment: an example path leading to one
    // (the same name, or a symlink to it) would have its key replaced by the placeholder.
    let mut key_files: Vec<(PathBuf, String)> = Vec::new();
    for other in &project.manifest.environments {
        for t in other.targets.iter().chain(other.fallback.iter()) {
            if let Target::File { path, .. } = t {
                key_files.push((resolved(&project.root, path), other.name.clone()));
            }
        }
    }
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let git = crate::scanning::git::GitView::query(&project.root, &paths);
    for (path, target) in files {
        if out.iter().any(|p| p.path == path) {
            continue;
        }
        if git.is_ignored(&path) {
            return Err(Error::input(
                project.root.join(&path),
                None,
                None,
                "is ignored by git, but an example file is meant to be committed (it shows which names the app needs)",
                Some(format!(
                    "add `!{}` to .gitignore, then run the command again",
                    path.display()
                )),
            ));
        }
        let at = resolved(&project.root, &path);
        if let Some((_, owner)) = key_files.iter().find(|(k, _)| *k == at) {
            return Err(Error::input(
                project.root.join(&path),
                None,
                None,
                format!(
                    "is a target of environment `{owner}` (or a symlink to one): it holds a real key, and writing the placeholder there would replace it"
                ),
                Some(format!(
                    "remove or rename {} so the example file is a file of its own, or change the target in {}",
                    path.display(),
                    crate::project::manifest::FILE_NAME
                )),
            ));
        }
        let key = match &target {
            Target::File { key, .. } => key.clone(),
            _ => unreachable!("only file targets are planned"),
        };
        let no_env = |_: &str| None;
        let held = targets::read(&project.root, &target, &no_env);
        let held_key = held.key().is_some_and(|k| {
            e.targets.iter().any(|t| {
                targets::read(&project.root, t, &no_env)
                    .key()
                    .is_some_and(|cur| cur == k)
            })
        });
        let write = targets::plan_set(&project.root, &target, &placeholder)?
            .filter(|w| w.changes_anything());
        out.push(Planned {
            path,
            key,
            write,
            held_key,
        });
    }
    Ok(out)
}
