//! Discovery: a manifest inferred from a project that has none.
//!
//! It looks where apps keep their key: `.env`, `.env.<name>`, `.streamlit/secrets.toml`,
//! and the per-environment layouts `<env>/…` and `<dir>/<env>/…` (for example
//! `deploy/production/.env`), plus `SECRET_KEY` in the process environment. Environment
//! names are normalised: dev → development, stage → staging, prod → production.
//! `keywarden init` writes the result as `keywarden.toml`.

use crate::error::Result;
use crate::project::manifest::{Defaults, Environment, Format, Manifest, Target};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `.env.<suffix>` files that are templates, not a real environment's configuration.
const TEMPLATE_SUFFIXES: &[&str] = &[
    "example", "sample", "template", "dist", "defaults", "default", "tpl", "bak", "orig", "swp",
];

/// Folder names recognised as environments in `<env>/` and `<dir>/<env>/` layouts.
const ENV_FOLDERS: &[&str] = &[
    "dev",
    "development",
    "stage",
    "staging",
    "prod",
    "production",
    "test",
    "testing",
    "preprod",
    "qa",
    "demo",
];

/// Maps common short names to the guide's environment names.
pub fn normalize_env_name(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "dev" | "develop" | "development" => "development".into(),
        "stage" | "stg" | "staging" => "staging".into(),
        "prod" | "prd" | "production" => "production".into(),
        other => other.to_string(),
    }
}

/// Infers a manifest for `root`. `env_var` reads the process environment (a parameter so
/// tests control it).
pub fn discover(root: &Path, env_var: impl Fn(&str) -> Option<OsString>) -> Result<Manifest> {
    let defaults = Defaults::default();
    let mut found: BTreeMap<String, Vec<Target>> = BTreeMap::new();
    let mut add = |env: String, path: PathBuf| {
        let format = if path.extension().is_some_and(|e| e == "toml") {
            Format::Toml
        } else {
            Format::Dotenv
        };
        // Streamlit's `[auth] cookie_secret` signs its login cookies: a signing key of its
        // own, so an environment of its own (`<env>-streamlit-auth`) beside the app's key.
        let (has_key, has_cookie) = match format {
            Format::Toml => toml_keys(&root.join(&path), &defaults.key),
            Format::Dotenv => (true, false),
        };
        if has_cookie {
            found
                .entry(format!("{env}-streamlit-auth"))
                .or_default()
                .push(Target::File {
                    path: path.clone(),
                    format,
                    key: STREAMLIT_COOKIE_SECRET.to_string(),
                });
        }
        if has_key || !has_cookie {
            found.entry(env).or_default().push(Target::File {
                path,
                format,
                key: defaults.key.clone(),
            });
        }
    };

    // Root: `.env` and `.streamlit/secrets.toml` are the development environment.
    if root.join(".env").is_file() {
        add("development".into(), PathBuf::from(".env"));
    }
    if root.join(".streamlit/secrets.toml").is_file() {
        add(
            "development".into(),
            PathBuf::from(".streamlit/secrets.toml"),
        );
    }
    for name in sorted_names(root) {
        // `.env.<env>`, and the local overrides `.env.<env>.local` and `.env.local`
        // (Next.js, Vite) as files of that environment (`.env.local`: development).
        if let Some(suffix) = name.strip_prefix(".env.")
            && !suffix.is_empty()
            && !suffix
                .split('.')
                .any(|part| TEMPLATE_SUFFIXES.contains(&part.to_ascii_lowercase().as_str()))
            && root.join(&name).is_file()
        {
            let env = match suffix.strip_suffix(".local") {
                _ if suffix.eq_ignore_ascii_case("local") => "development",
                Some(env) if !env.is_empty() => env,
                _ => suffix,
            };
            add(normalize_env_name(env), PathBuf::from(&name));
        }
    }

    // `<env>/…` and `<dir>/<env>/…`.
    let mut env_dirs: Vec<(String, PathBuf)> = Vec::new();
    for first in sorted_names(root) {
        if first.starts_with('.') || !root.join(&first).is_dir() {
            continue;
        }
        if ENV_FOLDERS.contains(&first.to_ascii_lowercase().as_str()) {
            env_dirs.push((normalize_env_name(&first), PathBuf::from(&first)));
            continue;
        }
        if matches!(
            first.as_str(),
            "node_modules" | "target" | "venv" | "__pycache__" | "dist" | "build"
        ) {
            continue;
        }
        for second in sorted_names(&root.join(&first)) {
            if ENV_FOLDERS.contains(&second.to_ascii_lowercase().as_str())
                && root.join(&first).join(&second).is_dir()
            {
                env_dirs.push((normalize_env_name(&second), Path::new(&first).join(&second)));
            }
        }
    }
    for (env, dir) in env_dirs {
        for file in [".env", ".streamlit/secrets.toml"] {
            if root.join(&dir).join(file).is_file() {
                add(env.clone(), dir.join(file));
            }
        }
    }

    // The process environment's key: which environment it belongs to cannot be told from
    // names alone, so it is an environment of its own, `shell`; `keywarden init` writes it
    // out and the user moves the target where it belongs.
    if env_var(&defaults.key).is_some_and(|v| !v.is_empty()) {
        found.entry("shell".into()).or_default().push(Target::Env {
            var: defaults.key.clone(),
        });
    }

    let mut environments: Vec<Environment> = found
        .into_iter()
        .map(|(name, targets)| Environment {
            targets,
            ..Environment::new(&name)
        })
        .collect();
    environments.sort_by_key(|e| env_order(&e.name));
    Ok(Manifest {
        version: 1,
        defaults,
        environments,
        playbooks: Default::default(),
        audit: Default::default(),
        watch: Default::default(),
    })
}

/// Where Streamlit's authentication keeps the secret that signs its cookies.
pub const STREAMLIT_COOKIE_SECRET: &str = "auth.cookie_secret";

/// Whether a `secrets.toml` sets `key` at its root, and `[auth] cookie_secret`. An
/// unreadable or malformed file counts as holding the key: status then says what is wrong.
fn toml_keys(path: &Path, key: &str) -> (bool, bool) {
    let Ok(Some(snap)) = crate::fsio::read_capped(path) else {
        return (true, false);
    };
    let Ok(text) = std::str::from_utf8(&snap.bytes) else {
        return (true, false);
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return (true, false);
    };
    let has_key = doc.get(key).is_some();
    let has_cookie = doc
        .get("auth")
        .and_then(|a| a.as_table_like())
        .is_some_and(|a| a.get("cookie_secret").is_some_and(|v| v.is_str()));
    (has_key, has_cookie)
}

/// development, staging, production first, then the rest by name.
fn env_order(name: &str) -> (u8, String) {
    let rank = match name {
        "development" => 0,
        "staging" => 1,
        "production" => 2,
        "shell" => 4,
        _ => 3,
    };
    (rank, name.to_string())
}

fn sorted_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "SECRET_KEY=x\n").unwrap();
    }

    fn layout(m: &Manifest) -> Vec<(String, Vec<String>)> {
        m.environments
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    e.targets.iter().map(Target::label).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn streamlit_cookie_secret_is_a_signing_key_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join(".streamlit")).unwrap();
        std::fs::write(
            r.join(".streamlit/secrets.toml"),
            "SECRET_KEY = 'a'\n[auth]\nredirect_uri = 'http://localhost:8501/oauth2callback'\ncookie_secret = 'b'\n",
        )
        .unwrap();
        std::fs::create_dir_all(r.join("deploy/production/.streamlit")).unwrap();
        std::fs::write(
            r.join("deploy/production/.streamlit/secrets.toml"),
            "[auth]\ncookie_secret = 'c'\n",
        )
        .unwrap();
        let m = discover(r, |_| None).unwrap();
        let find = |name: &str| m.environments.iter().find(|e| e.name == name);
        let dev = find("development").unwrap();
        assert!(matches!(&dev.targets[0], Target::File { key, .. } if key == "SECRET_KEY"));
        let auth = find("development-streamlit-auth").unwrap();
        assert!(
            matches!(&auth.targets[0], Target::File { key, .. } if key == STREAMLIT_COOKIE_SECRET)
        );
        // Only a cookie secret there: no SECRET_KEY target is invented for production.
        assert!(find("production").is_none());
        assert!(find("production-streamlit-auth").is_some());
        assert!(crate::project::manifest::is_production(
            "production-streamlit-auth"
        ));
    }

    #[test]
    fn local_overrides_belong_to_their_environment_and_templates_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for f in [
            ".env.local",
            ".env.development.local",
            ".env.production.local",
            ".env.production.example",
        ] {
            touch(r, f);
        }
        let m = discover(r, |_| None).unwrap();
        assert_eq!(
            layout(&m),
            vec![
                (
                    "development".into(),
                    vec![".env.development.local".into(), ".env.local".into()]
                ),
                ("production".into(), vec![".env.production.local".into()]),
            ]
        );
    }

    #[test]
    fn finds_the_usual_layouts_and_normalises_names() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for f in [
            ".env",
            ".streamlit/secrets.toml",
            ".env.prod",
            ".env.stage",
            ".env.example",
            ".env.qa",
            "deploy/production/.env",
            "deploy/production/.streamlit/secrets.toml",
            "staging/.env",
            "node_modules/prod/.env",
        ] {
            touch(r, f);
        }
        let m = discover(r, |_| None).unwrap();
        assert_eq!(
            layout(&m),
            vec![
                (
                    "development".into(),
                    vec![".env".into(), ".streamlit/secrets.toml".into()]
                ),
                (
                    "staging".into(),
                    vec![".env.stage".into(), "staging/.env".into()]
                ),
                (
                    "production".into(),
                    vec![
                        ".env.prod".into(),
                        "deploy/production/.env".into(),
                        "deploy/production/.streamlit/secrets.toml".into()
                    ]
                ),
                ("qa".into(), vec![".env.qa".into()]),
            ]
        );
        assert_eq!(m.environments[1].rotate_every_days, 90);
        assert_eq!(m.environments[2].rotate_every_days, 180);
        assert_eq!(m.environments[0].rotate_every_days, 0);
    }

    #[test]
    fn process_environment_key_is_its_own_environment() {
        let dir = tempfile::tempdir().unwrap();
        let m = discover(dir.path(), |n| (n == "SECRET_KEY").then(|| "v".into())).unwrap();
        assert_eq!(
            layout(&m),
            vec![("shell".into(), vec!["$SECRET_KEY".into()])]
        );
    }
}
