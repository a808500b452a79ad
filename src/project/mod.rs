//! A project: its root, its manifest (or what discovery found), and its state folder.
//!
//! The root is found the way git finds a repository: `--project DIR`, else the nearest
//! folder at or above the current one that holds `keywarden.toml`, else the current folder.
//!
//! Beside it: the manifest that describes the environments ([`manifest`]), what discovery
//! finds without one ([`discovery`]), the per-user state folder ([`home`]) and what it
//! remembers ([`state`]), a first manifest for `keywarden init` ([`init`]), and the demo
//! project ([`demo`]).

pub mod demo;
pub mod discovery;
pub mod home;
pub mod init;
pub mod manifest;
pub mod state;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::fsio::{self, ProjectLock};
use home::Home;
use manifest::Manifest;
use state::State;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Project {
    /// Canonical root folder.
    pub root: PathBuf,
    /// Path of `keywarden.toml`, if the project has one.
    pub manifest_path: Option<PathBuf>,
    pub manifest: Manifest,
    pub home: Home,
    /// The outside world this project is seen from (environment, clock, user).
    pub context: Context,
}

impl Project {
    /// Finds and loads the project from `--project` or the current folder, as seen from
    /// `context`.
    pub fn open(explicit: Option<&Path>, home: Home, context: Context) -> Result<Project> {
        let start = match explicit {
            Some(dir) => dir.to_path_buf(),
            None => std::env::current_dir()
                .map_err(|e| Error::reading(".", "read the current folder", e))?,
        };
        let start = std::fs::canonicalize(&start)
            .map_err(|e| Error::reading(&start, "open the project folder", e))?;
        if !start.is_dir() {
            return Err(Error::Usage(format!("{} is not a folder", start.display())));
        }
        let found = if explicit.is_some() {
            Some(start.clone()).filter(|d| d.join(manifest::FILE_NAME).is_file())
        } else {
            start
                .ancestors()
                .find(|d| d.join(manifest::FILE_NAME).is_file())
                .map(Path::to_path_buf)
        };
        match found {
            Some(root) => {
                let path = root.join(manifest::FILE_NAME);
                let manifest = Manifest::load(&path)?;
                Ok(Project {
                    root,
                    manifest_path: Some(path),
                    manifest,
                    home,
                    context,
                })
            }
            None => {
                let manifest = discovery::discover(&start, |name| context.env.var_os(name))?;
                Ok(Project {
                    root: start,
                    manifest_path: None,
                    manifest,
                    home,
                    context,
                })
            }
        }
    }

    /// The project's name: its folder's name.
    pub fn name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The project's state folder (not created).
    pub fn state_dir(&self) -> PathBuf {
        self.home.project_dir(&self.root)
    }

    pub fn load_state(&self) -> Result<State> {
        State::load(&self.state_dir(), &self.root)
    }

    /// Whether a target of `env` holds one of `fps` now.
    pub fn environment_holds(
        &self,
        pepper: &crate::keys::fingerprint::Pepper,
        env: &crate::project::manifest::Environment,
        fps: &[crate::keys::fingerprint::Fingerprint],
    ) -> bool {
        env.targets.iter().any(|t| {
            crate::targets::read(&self.root, t, self.context.env.reader())
                .key()
                .is_some_and(|k| fps.contains(&pepper.fingerprint(k)))
        })
    }

    /// The environments, other than `except`, whose targets hold one of `fps` now.
    pub fn environments_holding(
        &self,
        pepper: &crate::keys::fingerprint::Pepper,
        fps: &[crate::keys::fingerprint::Fingerprint],
        except: &str,
    ) -> Vec<String> {
        self.manifest
            .environments
            .iter()
            .filter(|e| e.name != except && self.environment_holds(pepper, e, fps))
            .map(|e| e.name.clone())
            .collect()
    }

    /// The project's audit trail (also sent to the system log with `[audit] syslog`).
    pub fn audit(&self) -> crate::records::audit::AuditLog {
        crate::records::audit::AuditLog::by(&self.state_dir(), &self.root, self.context.actor())
            .with_syslog(
                self.manifest
                    .audit
                    .syslog
                    .then(|| self.context.syslog_socket()),
            )
    }

    /// Takes the project's lock; held until the returned guard drops. Holding it, no
    /// other keywarden writes here, so temporary files beside the targets are debris of
    /// an interrupted run: they are removed (they may hold a key), and so are backup
    /// folders left without their record; each removal is recorded in the audit trail.
    /// So are the temporary files in the state folder and its backups (see
    /// [`Project::remove_leftover_state_temp_files`]). Backups still in plaintext are
    /// encrypted.
    pub fn lock(&self) -> Result<ProjectLock> {
        let dir = self.state_dir();
        fsio::create_private_dir(&dir)?;
        let lock = ProjectLock::acquire(&dir.join("lock"))?;
        self.remove_leftover_state_temp_files();
        crate::records::backup::BackupStore::of(self).migrate()?;
        self.remove_leftover_temp_files();
        self.remove_unfinished_backups();
        Ok(lock)
    }

    /// Backup folders a killed run left without their record: removed, and recorded.
    fn remove_unfinished_backups(&self) {
        for id in crate::records::backup::BackupStore::of(self).remove_unfinished() {
            let _ = self.audit().append(
                crate::records::audit::Record::new("cleanup", crate::records::audit::Outcome::Ok)
                    .detail(format!(
                        "removed backup folder {id}, left without its record by an interrupted run"
                    )),
            );
        }
    }

    /// The temporary files (`.keywarden-*.tmp`) a killed keywarden left in the project's
    /// state folder and in `backups/<id>/`: copies of `state.json` and `audit.head`,
    /// half-made `content.age`s. Their writers hold the project's lock (which this one
    /// holds now), or, for `audit.head`, the audit log's own lock (taken while they are
    /// listed), so every one present is debris. The cleanup is recorded in the audit
    /// trail first, and only then done: when the trail refuses (it is damaged, or says
    /// something else is wrong), the files stay for the next command after
    /// `audit --accept`. The incidents' folder has writers of its own and is left alone.
    fn remove_leftover_state_temp_files(&self) {
        let dir = self.state_dir();
        let temp = |folder: &Path| -> Vec<PathBuf> {
            std::fs::read_dir(folder)
                .map(|r| {
                    r.filter_map(|e| e.ok())
                        .filter(|e| {
                            fsio::pinned::is_temp_name(&e.file_name())
                                && e.file_type().is_ok_and(|t| t.is_file())
                        })
                        .map(|e| e.path())
                        .collect()
                })
                .unwrap_or_default()
        };
        let audit = self.audit();
        let found = audit.without_appends(|| {
            let backups = dir.join(crate::records::backup::BACKUPS_DIR);
            let mut found = temp(&dir);
            found.extend(temp(&backups));
            for entry in std::fs::read_dir(&backups).into_iter().flatten().flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    found.extend(temp(&entry.path()));
                }
            }
            found
        });
        let Ok(mut found) = found else { return };
        if found.is_empty() {
            return;
        }
        found.sort();
        let shown: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap_or(p).display().to_string())
            .collect();
        let list = if shown.len() > 10 {
            format!("{}, and {} more", shown[..10].join(", "), shown.len() - 10)
        } else {
            shown.join(", ")
        };
        let recorded = audit.append(
            crate::records::audit::Record::new("cleanup", crate::records::audit::Outcome::Ok)
                .detail(format!(
                    "removing {} temporary file(s) an interrupted run left in the state folder {}: {list}",
                    found.len(),
                    dir.display()
                )),
        );
        if recorded.is_err() {
            return;
        }
        let mut folders: Vec<&Path> = Vec::new();
        for path in &found {
            if std::fs::remove_file(path).is_ok()
                && let Some(parent) = path.parent()
                && !folders.contains(&parent)
            {
                folders.push(parent);
            }
        }
        for folder in folders {
            let _ = std::fs::File::open(folder).and_then(|d| d.sync_all());
        }
    }

    fn remove_leftover_temp_files(&self) {
        let mut folders: Vec<PathBuf> = Vec::new();
        for env in &self.manifest.environments {
            for t in env.targets.iter().chain(env.fallback.iter()) {
                let crate::project::manifest::Target::File { path, .. } = t else {
                    continue;
                };
                if let Ok(real) = fsio::resolve_inside(&self.root, path)
                    && let Some(parent) = real.parent()
                    && !folders.iter().any(|f| f == parent)
                {
                    folders.push(parent.to_path_buf());
                }
            }
        }
        for folder in folders {
            let Ok(dir) = fsio::PinnedDir::open(&self.root, &folder) else {
                continue;
            };
            for name in dir.leftover_temp_files() {
                if dir.remove_temp(&name).is_ok() {
                    let _ = self.audit().append(
                        crate::records::audit::Record::new(
                            "cleanup",
                            crate::records::audit::Outcome::Ok,
                        )
                        .detail(format!(
                            "removed {}, left by an interrupted run",
                            folder.join(&name).display()
                        )),
                    );
                }
            }
        }
    }
}
