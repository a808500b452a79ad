//! Temporary files that an interrupted keywarden left beside its targets.
//!
//! A write puts the new content in `.keywarden-….tmp` in the target's folder before the
//! rename; a process killed in between leaves that file, which may hold the new key. The
//! next command that takes the project lock removes such files
//! ([`crate::project::Project::lock`]); until then `status` reports them (KW120).

use super::*;
use std::collections::HashSet;
use std::path::Path;

/// Leftover temporary files, by the folder they are in.
#[derive(Debug, Default)]
pub(super) struct Leftovers(HashMap<PathBuf, Vec<String>>);

impl Leftovers {
    /// Looks once in each distinct folder holding a file target.
    pub(super) fn find(reads: &[Vec<TargetRead>]) -> Leftovers {
        let folders: HashSet<&Path> = reads
            .iter()
            .flatten()
            .filter_map(|r| r.path.as_deref()?.parent())
            .collect();
        let mut found = HashMap::new();
        for dir in folders {
            let names: Vec<String> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| fsio::pinned::is_temp_name(&e.file_name()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            if !names.is_empty() {
                found.insert(dir.to_path_buf(), names);
            }
        }
        Leftovers(found)
    }

    /// One KW120 finding per leftover file beside `env`'s targets.
    pub(super) fn findings(&self, env: &Environment, reads: &[TargetRead]) -> Vec<Finding> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for r in reads {
            let Some(dir) = r.path.as_deref().and_then(Path::parent) else {
                continue;
            };
            if !seen.insert(dir) {
                continue;
            }
            for name in self.0.get(dir).into_iter().flatten() {
                out.push(
                    Finding::new(
                        Code::LeftoverTemp,
                        Severity::High,
                        format!(
                            "{} was left by an interrupted keywarden run and may hold a key",
                            dir.join(name).display()
                        ),
                    )
                    .at_target(r.target.label())
                    .with_fix(format!(
                        "the next keywarden command that changes this project removes it, e.g. keywarden fix {}",
                        env.name
                    )),
                );
            }
        }
        out
    }
}
