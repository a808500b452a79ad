//! Where keywarden keeps its per-user state, outside every project tree.
//!
//! `$KEYWARDEN_HOME`, else the platform data directory (`~/.local/share/keywarden` on
//! Linux). Each project gets a folder named after its directory plus a digest of its
//! canonical path, so two checkouts never share state. Folders are created `0700`.

use crate::context::Env;
use crate::error::{Error, Result};
use crate::fsio;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const HOME_ENV: &str = "KEYWARDEN_HOME";

/// The per-user state root.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// Resolves the state root from `$KEYWARDEN_HOME` or the platform data directory.
    pub fn locate(env: &Env) -> Result<Home> {
        if let Some(dir) = env.var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Home::at(PathBuf::from(dir)));
        }
        let dirs = directories::ProjectDirs::from("", "", "keywarden").ok_or_else(|| {
            Error::Usage(format!(
                "cannot find a home directory for keywarden's state; set {HOME_ENV} to a private folder"
            ))
        })?;
        Ok(Home::at(dirs.data_dir().to_path_buf()))
    }

    pub fn at(root: PathBuf) -> Home {
        Home { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the root (`0700`) if needed.
    pub fn ensure(&self) -> Result<&Path> {
        fsio::create_private_dir(&self.root)?;
        Ok(&self.root)
    }

    /// The state folder of the project at `canonical_root` (not created).
    pub fn project_dir(&self, canonical_root: &Path) -> PathBuf {
        let digest = Sha256::digest(canonical_root.as_os_str().as_encoded_bytes());
        let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let name: String = canonical_root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".into())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        self.root.join("projects").join(format!("{name}-{short}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_dirs_differ_by_path_and_are_stable() {
        let home = Home::at("/state".into());
        let a = home.project_dir(Path::new("/srv/app"));
        let b = home.project_dir(Path::new("/home/x/app"));
        assert_ne!(a, b);
        assert_eq!(a, home.project_dir(Path::new("/srv/app")));
        assert!(a.file_name().unwrap().to_str().unwrap().starts_with("app-"));
    }
}
