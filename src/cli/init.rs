//! `keywarden init`: write what discovery found as `keywarden.toml`.

use super::output;
use crate::error::{Error, Result, exit};
use crate::fsio;
use crate::project::discovery;
use crate::project::manifest::{self, Manifest};
use std::path::Path;

/// Write keywarden.toml from what discovery finds (.env, .env.<name>,
/// .streamlit/secrets.toml, <dir>/<env>/ layouts, SECRET_KEY in the environment).
///
/// Refuses to overwrite an existing keywarden.toml. Review the file, then commit it: it
/// never holds a key.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, project: Option<&Path>) -> Result<u8> {
    let dir = match project {
        Some(p) => p.to_path_buf(),
        None => {
            std::env::current_dir().map_err(|e| Error::io(".", "read the current folder", e))?
        }
    };
    let root =
        std::fs::canonicalize(&dir).map_err(|e| Error::io(&dir, "open the project folder", e))?;
    let path = root.join(manifest::FILE_NAME);
    if path.exists() {
        return Err(Error::Usage(format!(
            "{} already exists; keywarden init never overwrites it (edit it, or remove it first)",
            path.display()
        )));
    }
    let found = discovery::discover(&root, |n| std::env::var_os(n))?;
    if found.environments.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to write: no .env, .env.<name> or .streamlit/secrets.toml under {}",
            root.display()
        )));
    }
    let text = found.to_toml();
    // Proof that what we write is what we read.
    Manifest::parse(&text, &path)?;
    // Created like any other file of ours, atomically; the manifest holds no secret, so
    // it gets the usual 0644 to be committed.
    fsio::atomic_write(&path, text.as_bytes(), 0o644)?;
    let mut msg = format!(
        "wrote {} with {} environment(s):\n",
        path.display(),
        found.environments.len()
    );
    for e in &found.environments {
        let targets: Vec<String> = e.targets.iter().map(|t| t.label()).collect();
        msg.push_str(&format!("  {:<14} {}\n", e.name, targets.join(", ")));
    }
    msg.push_str("Review it, then commit it (it holds no key).\n");
    output::emit(&msg)?;
    Ok(exit::OK)
}
