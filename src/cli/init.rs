//! `keywarden init`: write what discovery found as `keywarden.toml`.

use super::output;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::project::init;
use std::path::Path;

/// Write keywarden.toml from what discovery finds (.env, .env.<name>,
/// .streamlit/secrets.toml, <dir>/<env>/ layouts, SECRET_KEY in the environment).
///
/// Refuses to overwrite an existing keywarden.toml. Review the file, then commit it: it
/// never holds a key.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print what was written as JSON: the manifest's path and each environment's targets.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let dir = match project {
        Some(p) => p.to_path_buf(),
        None => std::env::current_dir()
            .map_err(|e| Error::reading(".", "read the current folder", e))?,
    };
    let root = std::fs::canonicalize(&dir)
        .map_err(|e| Error::reading(&dir, "open the project folder", e))?;
    let written = init::write_manifest(&root, &Context::process().env)?;
    let (path, found) = (written.path, written.manifest);
    if args.json {
        let envs: Vec<serde_json::Value> = found
            .environments
            .iter()
            .map(|e| {
                let targets: Vec<String> = e.targets.iter().map(|t| t.label()).collect();
                serde_json::json!({ "name": e.name, "targets": targets })
            })
            .collect();
        output::print_json(&serde_json::json!({ "manifest": path, "environments": envs }))?;
        return Ok(exit::OK);
    }
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
