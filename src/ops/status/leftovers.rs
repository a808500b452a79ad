//! Temporary files that an interrupted keywarden left beside its targets.
//!
//! A write puts the new content in `.keywarden-….tmp` in the target's folder before the
//! rename; a process killed in between leaves that file, which may hold the new key. The
//! next command that takes the project lock removes such files
//! ([`crate::project::Project::lock`]); until then `status` reports them (KW120).

use super::*;
use std::collections::HashSet;
use std::path::Path;

/// Leftover temporary files, by the folder they are in, and each environment's folders
/// (its file targets' and its fallback's) with the target named in a finding.
#[derive(Debug, Default)]
pub(super) struct Leftovers {
    found: HashMap<PathBuf, Vec<String>>,
    /// Folders whose listing failed, with why: what they hold is unknown.
    unlisted: HashMap<PathBuf, (String, bool)>,
    folders: Vec<Vec<(String, PathBuf)>>,
}

impl Leftovers {
    /// Looks once in each distinct folder holding a file target or a fallback: `listed`
    /// holds the folders the reads already listed, the others are listed here.
    pub(super) fn find(
        project: &Project,
        envs: &[Environment],
        reads: &[Vec<TargetRead>],
        listed: foldhash::HashMap<OsString, fsio::Listing>,
    ) -> Leftovers {
        let folders: Vec<Vec<(String, PathBuf)>> = envs
            .iter()
            .zip(reads)
            .map(|(env, reads)| {
                let mut out: Vec<(String, PathBuf)> = reads
                    .iter()
                    .filter_map(|r| {
                        Some((r.target.label(), r.path.as_deref()?.parent()?.to_path_buf()))
                    })
                    .collect();
                if let Some(t @ Target::File { path, .. }) = &env.fallback
                    && let Ok(real) = fsio::resolve_inside(&project.root, path)
                    && let Some(dir) = real.parent()
                {
                    out.push((t.label(), dir.to_path_buf()));
                }
                out
            })
            .collect();
        let mut distinct: Vec<&Path> = folders
            .iter()
            .flatten()
            .map(|(_, d)| d.as_path())
            .filter(|d| !listed.contains_key(d.as_os_str()))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        // One listing per folder, over every core (a folder per environment is common).
        let more = parallel_map(&distinct, |dir| fsio::pinned::list_temp_files(dir));
        let mut found = HashMap::new();
        let mut unlisted = HashMap::new();
        let listings = listed
            .into_iter()
            .map(|(dir, listing)| (PathBuf::from(dir), listing))
            .chain(distinct.into_iter().map(Path::to_path_buf).zip(more));
        for (dir, listing) in listings {
            if let Some(why) = listing.failed {
                unlisted.insert(dir.clone(), (why, listing.denied));
            }
            if !listing.names.is_empty() {
                let names = listing.names.iter();
                let names = names.map(|n| n.to_string_lossy().into_owned()).collect();
                found.insert(dir, names);
            }
        }
        Leftovers {
            found,
            unlisted,
            folders,
        }
    }

    /// One KW120 finding per leftover file beside the targets or fallback of environment
    /// number `index`.
    /// One more (medium) per such folder that could not be listed: a leftover there
    /// would not be seen.
    pub(super) fn findings(&self, index: usize, env: &Environment) -> Vec<Finding> {
        if self.found.is_empty() && self.unlisted.is_empty() {
            return Vec::new();
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (label, dir) in self.folders.get(index).into_iter().flatten() {
            if !seen.insert(dir) {
                continue;
            }
            for name in self.found.get(dir).into_iter().flatten() {
                out.push(
                    Finding::new(
                        Code::LeftoverTemp,
                        Severity::High,
                        format!(
                            "{} was left by an interrupted keywarden run and may hold a key",
                            dir.join(name).display()
                        ),
                    )
                    .at_target(label.clone())
                    .with_fix(format!(
                        "the next keywarden command that changes this project removes it, e.g. keywarden fix {}",
                        env.name
                    )),
                );
            }
            if let Some((why, denied)) = self.unlisted.get(dir) {
                let fix = if *denied {
                    format!(
                        "give this user read permission on the folder (its owner can run chmod u+r {}), then run keywarden status again",
                        dir.display()
                    )
                } else {
                    "check the folder and the disk it is on (the error above), then run keywarden status again".to_string()
                };
                out.push(
                    Finding::new(
                        Code::LeftoverTemp,
                        Severity::Medium,
                        format!(
                            "{}: cannot list the folder: {why}; a temporary file an interrupted keywarden run left there (it may hold a key) would not be seen",
                            dir.display()
                        ),
                    )
                    .at_target(label.clone())
                    .with_fix(fix),
                );
            }
        }
        out
    }
}
