//! The kinds of target behind one interface: read what the target holds, plan a change
//! (nothing written), then commit the plan ([`super::PlannedWrite::commit`]). A file in a
//! text format ([`File`]) and an environment variable ([`EnvVar`], read-only) are the
//! implementations; a remote secret store with check-and-set writes is one more, not a
//! new branch in every operation.

use super::text::{self, TextFormat};
use super::{Edit, PlannedWrite, TargetRead, Value};
use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::secret::Secret;
use crate::project::manifest::Target;
use std::ffi::OsString;
use std::path::Path;
use zeroize::Zeroizing;

/// One place a key can live.
pub trait TargetKind {
    /// What the target holds now. Never fails as a whole: a problem is kept in the read.
    fn read(
        &self,
        root: &Path,
        env_var: &dyn Fn(&str) -> Option<OsString>,
        scope: Option<&fsio::ReadScope>,
    ) -> TargetRead;

    /// Prepares `edits`; `Ok(None)` for a kind keywarden does not write. Any problem is an
    /// error and nothing is written.
    fn plan(&self, root: &Path, edits: &[Edit]) -> Result<Option<PlannedWrite>>;

    /// Whether every reader of this target reads `key` back exactly; `Err` says why not.
    fn carries(&self, key: &Secret) -> std::result::Result<(), String>;

    /// The key this target would read from a saved copy of its content (a backup).
    fn key_in(&self, text: &str) -> Option<Secret>;
}

/// The implementation for `target`.
pub fn of(target: &Target) -> Box<dyn TargetKind + '_> {
    match target {
        Target::File { path, format, key } => Box::new(File {
            target,
            path,
            format: text::of(*format),
            key,
        }),
        Target::Env { var } => Box::new(EnvVar { target, var }),
        Target::Vault { .. } => Box::new(super::vault::of(target).expect("a store target")),
    }
}

/// A file inside the project, in a text format.
pub struct File<'t> {
    target: &'t Target,
    /// As the manifest names it (relative to the project root).
    path: &'t Path,
    format: &'static dyn TextFormat,
    key: &'t str,
}

impl TargetKind for File<'_> {
    fn read(
        &self,
        root: &Path,
        _env_var: &dyn Fn(&str) -> Option<OsString>,
        scope: Option<&fsio::ReadScope>,
    ) -> TargetRead {
        // Regular files only, never blocking on a FIFO, at most 1 MiB; a status pass reads
        // through its open folders when the path has no link on the way.
        let read = match scope.and_then(|s| s.read(self.path)) {
            Some((file, snap)) => Ok((file, snap)),
            None => fsio::resolve_inside_with(root, self.path, scope.map(|s| s.pass().folders()))
                .map(|file| {
                    let snap = fsio::read_capped(&file);
                    (file, snap)
                }),
        };
        let (file, meta, value, findings) = match read {
            Err(e) => (None, None, Err(e), Vec::new()),
            Ok((file, snap)) => match snap {
                Ok(Some(snap)) => {
                    let meta = fsio::FileMeta {
                        mode: snap.mode,
                        uid: snap.uid,
                        mtime: snap.mtime,
                    };
                    let (value, findings) = match fsio::text_from_bytes(&file, snap.bytes.to_vec())
                    {
                        Ok(text) => {
                            let text = Zeroizing::new(text);
                            self.format.read_value(&text, self.path, self.key)
                        }
                        Err(e) => (Err(e), Vec::new()),
                    };
                    (Some(file), Some(meta), value, findings)
                }
                Ok(None) => (Some(file), None, Ok(Value::FileMissing), Vec::new()),
                Err(e) => {
                    let meta = fsio::file_meta(&file).ok();
                    (Some(file), meta, Err(e), Vec::new())
                }
            },
        };
        TargetRead {
            target: self.target.clone(),
            path: file,
            meta,
            value,
            findings,
            remote: None,
        }
    }

    fn plan(&self, root: &Path, edits: &[Edit]) -> Result<Option<PlannedWrite>> {
        plan_file(root, self.path, self.format, edits).map(Some)
    }

    fn carries(&self, key: &Secret) -> std::result::Result<(), String> {
        self.format.carries(key)
    }

    fn key_in(&self, text: &str) -> Option<Secret> {
        match self.format.read_value(text, self.path, self.key).0 {
            Ok(Value::Present { key, .. }) => Some(key),
            _ => None,
        }
    }
}

/// Several edits of one file as one write (a key and its grace-period fallback often share
/// a `.env`). Removing a key that is absent changes nothing.
pub(super) fn plan_file(
    root: &Path,
    path: &Path,
    format: &dyn TextFormat,
    edits: &[Edit],
) -> Result<PlannedWrite> {
    let file = fsio::resolve_inside(root, path)?;
    super::refuse_non_secret(root, path, &file)?;
    let (dir, name, snapshot) = super::open_pinned(root, &file)?;
    let old = match snapshot {
        Some(s) => Some(Zeroizing::new(fsio::text_from_bytes(
            &file,
            s.bytes.to_vec(),
        )?)),
        None => None,
    };
    let mut text = Zeroizing::new(old.as_ref().map_or(String::new(), |o| o.to_string()));
    for edit in edits {
        if let Some(next) = format.apply(&text, path, edit)? {
            *text = next;
        }
    }
    Ok(PlannedWrite::new(
        path.display().to_string(),
        file,
        old.map(|o| Zeroizing::new(o.as_bytes().to_vec())),
        Zeroizing::new(text.as_bytes().to_vec()),
        dir,
        name,
    ))
}

/// A process environment variable: read where keywarden runs, never written (the
/// service's own environment is set where it runs).
pub struct EnvVar<'t> {
    target: &'t Target,
    var: &'t str,
}

impl TargetKind for EnvVar<'_> {
    fn read(
        &self,
        _root: &Path,
        env_var: &dyn Fn(&str) -> Option<OsString>,
        _scope: Option<&fsio::ReadScope>,
    ) -> TargetRead {
        let var = self.var;
        let value = match env_var(var) {
            None => Ok(Value::Unset),
            Some(v) if v.is_empty() => Ok(Value::Unset),
            Some(v) => match v.into_string() {
                Ok(s) => Ok(Value::Present {
                    key: Secret::new(s),
                    line: None,
                }),
                Err(_) => Err(Error::Usage(format!(
                    "the environment variable {var} is not valid UTF-8"
                ))),
            },
        };
        TargetRead {
            target: self.target.clone(),
            path: None,
            meta: None,
            value,
            findings: Vec::new(),
            remote: None,
        }
    }

    fn plan(&self, _root: &Path, _edits: &[Edit]) -> Result<Option<PlannedWrite>> {
        Ok(None)
    }

    fn carries(&self, _key: &Secret) -> std::result::Result<(), String> {
        Ok(())
    }

    fn key_in(&self, _text: &str) -> Option<Secret> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::manifest::Format;

    fn key(s: &str) -> Secret {
        Secret::new(s.to_string())
    }

    #[test]
    fn a_file_is_read_planned_and_committed_through_the_interface() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join(".env"), "# keep\nSECRET_KEY=old\n").unwrap();
        let target = Target::File {
            path: ".env".into(),
            format: Format::Dotenv,
            key: "SECRET_KEY".into(),
        };
        let kind = of(&target);
        let read = kind.read(&root, &|_| None, None);
        assert_eq!(read.key().map(Secret::expose_secret), Some("old"));
        let new = key("n3w-k3y-value");
        let plan = kind
            .plan(
                &root,
                &[Edit {
                    name: "SECRET_KEY",
                    value: Some(&new),
                }],
            )
            .unwrap()
            .expect("a file is written");
        // Planning writes nothing.
        assert_eq!(
            std::fs::read_to_string(root.join(".env")).unwrap(),
            "# keep\nSECRET_KEY=old\n"
        );
        plan.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join(".env")).unwrap(),
            "# keep\nSECRET_KEY='n3w-k3y-value'\n"
        );
        assert_eq!(
            kind.key_in("SECRET_KEY=x\n")
                .map(|k| k.expose_secret().to_string()),
            Some("x".into())
        );
        assert!(kind.carries(&key("a'b")).is_err());
    }

    #[test]
    fn an_environment_variable_is_read_and_never_planned() {
        let target = Target::Env {
            var: "SECRET_KEY".into(),
        };
        let kind = of(&target);
        let read = kind.read(
            Path::new("/"),
            &|n| (n == "SECRET_KEY").then(|| "v".into()),
            None,
        );
        assert_eq!(read.key().map(Secret::expose_secret), Some("v"));
        let k = key("k");
        let edits = [Edit {
            name: "SECRET_KEY",
            value: Some(&k),
        }];
        assert!(kind.plan(Path::new("/"), &edits).unwrap().is_none());
        assert!(kind.key_in("SECRET_KEY=x").is_none());
    }
}
