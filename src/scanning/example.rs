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
        let key = match &target {
            Target::File { key, .. } => key.clone(),
            _ => unreachable!("only file targets are planned"),
        };
        let write = targets::plan_set(&project.root, &target, &placeholder)?
            .filter(|w| w.changes_anything());
        out.push(Planned { path, key, write });
    }
    Ok(out)
}
