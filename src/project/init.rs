//! A first manifest for a project that has none: what discovery finds, written as
//! `keywarden.toml` (never over an existing one), and read back before it is kept.

use super::discovery;
use super::manifest::{self, Manifest};
use crate::context::Env;
use crate::error::{Error, Result};
use crate::fsio;
use std::path::{Path, PathBuf};

/// What [`write_manifest`] wrote.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// Writes `keywarden.toml` in `root` (a canonical folder) from what discovery finds there.
pub fn write_manifest(root: &Path, env: &Env) -> Result<Written> {
    let path = root.join(manifest::FILE_NAME);
    if path.exists() {
        return Err(Error::Usage(format!(
            "{} already exists; keywarden init never overwrites it (edit it, or remove it first)",
            path.display()
        )));
    }
    let found = discovery::discover(root, |n| env.var_os(n))?;
    if found.environments.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to write: no .env, .env.<name> or .streamlit/secrets.toml under {}. Write {} by hand instead, e.g.\n\n  version = 1\n  [[environments]]\n  name = \"development\"\n  targets = [{{ path = \".env\" }}]\n\nthen `keywarden set development --generate` creates the file with a key (or try `keywarden demo` to see a project first)",
            root.display(),
            path.display()
        )));
    }
    let text = found.to_toml();
    // Proof that what we write is what we read.
    Manifest::parse(&text, &path)?;
    // Created like any other file of ours, atomically; the manifest holds no secret, so
    // it gets the usual 0644 to be committed.
    fsio::atomic_write(&path, text.as_bytes(), 0o644)?;
    Ok(Written {
        path,
        manifest: found,
    })
}
