//! The findings of one target (missing, unreadable, loose permissions, a revoked or weak
//! key, readers that disagree) and of the project (one key shared by several environments).

use super::*;

pub(super) fn target_findings(
    env: &Environment,
    read: &TargetRead,
    label: &str,
    git: &GitView,
    me: u32,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let at = |f: Finding| f.at_target(label.to_string());
    let key_name = match &read.target {
        Target::File { key, .. } => key.as_str(),
        Target::Env { var } => var.as_str(),
        Target::Vault { field, .. } => field.as_str(),
    };
    match &read.value {
        Ok(Value::FileMissing) if read.remote.is_some() => out.push(at(Finding::new(
            Code::KeyMissing,
            Severity::High,
            "the secret store path has no live version".to_string(),
        )
        .with_fix(format!("keywarden set {} --generate", env.name)))),
        Ok(Value::FileMissing) => out.push(at(Finding::new(
            Code::KeyMissing,
            Severity::High,
            "the file does not exist".to_string(),
        )
        .with_fix(format!("keywarden set {} --generate", env.name)))),
        Ok(Value::KeyAbsent) => out.push(at(Finding::new(
            Code::KeyMissing,
            Severity::High,
            if read.remote.is_some() {
                format!("the secret has no field {key_name}")
            } else {
                format!("the file does not set {key_name}")
            },
        )
        .with_fix(format!("keywarden set {} --generate", env.name)))),
        Ok(Value::Unset) => out.push(at(Finding::new(
            Code::EnvVarUnset,
            Severity::Info,
            format!(
                "the environment variable {key_name} is not set in this shell (read-only target)"
            ),
        )
        .with_fix(format!(
            "export {key_name} where the service runs; keywarden does not write variables"
        )))),
        Err(e) => {
            let outside = matches!(&read.target, Target::File { .. })
                && e.to_string().contains("outside the project");
            let (code, fix) = if outside {
                (
                    Code::SymlinkOutside,
                    "point the manifest at a file inside the project",
                )
            } else if matches!(&read.target, Target::Vault { .. }) {
                (
                    Code::Unreadable,
                    "fix what the error names (BAO_ADDR, the token, the mount, a sealed server); keywarden writes nothing until the store answers",
                )
            } else {
                (
                    Code::Unreadable,
                    "fix the file; keywarden leaves it untouched until then",
                )
            };
            out.push(at(
                Finding::new(code, Severity::High, e.to_string()).with_fix(fix)
            ));
        }
        Ok(Value::Present { .. }) => {}
    }

    let Target::File { path, .. } = &read.target else {
        return out;
    };
    if let Some(meta) = read.meta {
        let mode = meta.mode_string();
        if meta.mode & 0o044 != 0 {
            let who = if meta.mode & 0o004 != 0 {
                "every user"
            } else {
                "the file's group"
            };
            out.push(at(Finding::new(
                Code::PermissiveRead,
                if meta.mode & 0o004 != 0 {
                    Severity::High
                } else {
                    Severity::Medium
                },
                format!("readable by {who} (mode {mode}); the guide asks chmod 600"),
            )
            .with_fix(format!("keywarden fix {}", env.name))));
        }
        if meta.mode & 0o022 != 0 {
            out.push(at(Finding::new(
                Code::PermissiveWrite,
                Severity::High,
                format!(
                    "writable by others (mode {mode}): anyone who can write it can replace the key"
                ),
            )
            .with_fix(format!("keywarden fix {}", env.name))));
        }
        if meta.uid != me {
            out.push(at(Finding::new(
                Code::ForeignOwner,
                Severity::Medium,
                format!("owned by uid {}, not by you (uid {me})", meta.uid),
            )
            .with_fix(format!(
                "chown it to the service's user, then keywarden fix {}",
                env.name
            ))));
        }
        let rel = fsio::normalize(path);
        if git.answered() {
            if git.is_tracked(&rel) {
                out.push(at(Finding::new(
                    Code::TrackedByGit,
                    Severity::Critical,
                    "committed to git: its key is in the repository's history".to_string(),
                )
                .with_fix(format!(
                    "git rm --cached {label}, add it to .gitignore, and replace the key: {} (the old key stays in history)",
                    renew(env)
                ))));
            } else if !git.is_ignored(&rel) {
                out.push(at(Finding::new(
                    Code::NotIgnored,
                    Severity::High,
                    "not ignored by git: one `git add .` commits the key".to_string(),
                )
                .with_fix(format!("echo '/{}' >> .gitignore", rel.display()))));
            }
        }
    }
    out
}

/// The same key in two environments: critical when production shares it. Returns the
/// environments that got such a finding (in order, each once).
pub(super) fn flag_shared_keys(envs: &mut [EnvStatus]) -> Vec<usize> {
    let mut by_fp: BTreeMap<&Fingerprint, Vec<usize>> = BTreeMap::new();
    for (i, e) in envs.iter().enumerate() {
        let mut fps: Vec<&Fingerprint> = e
            .targets
            .iter()
            .filter_map(|t| t.fingerprint.as_ref())
            .collect();
        fps.sort();
        fps.dedup();
        for fp in fps {
            by_fp.entry(fp).or_default().push(i);
        }
    }
    let mut found: Vec<(usize, Finding)> = Vec::new();
    for (fp, idx) in by_fp {
        if idx.len() < 2 {
            continue;
        }
        let names: Vec<&str> = idx.iter().map(|&i| envs[i].name.as_str()).collect();
        let severity = if names.iter().any(|n| is_production(n)) {
            Severity::Critical
        } else {
            Severity::High
        };
        for &i in &idx {
            let others: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| *n != envs[i].name)
                .collect();
            let f = Finding::new(
                Code::SharedKey,
                severity,
                format!(
                    "key {fp} is also used by {}; the guide asks a different key per environment",
                    others.join(", ")
                ),
            )
            .with_fix(format!(
                "give this environment its own key: keywarden set {} --generate",
                envs[i].name
            ))
            .in_environment(envs[i].name.clone());
            found.push((i, f));
        }
    }
    let mut flagged: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
    for (i, f) in found {
        envs[i].findings.push(f);
    }
    flagged.sort_unstable();
    flagged.dedup();
    flagged
}
