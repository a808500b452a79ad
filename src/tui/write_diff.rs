//! What a write will change, shown in its confirmation: per file, the lines removed and
//! added, from the write planned exactly as the job plans it ([`targets::plan_edits`],
//! [`targets::plan_content`]) — with every value masked. A changed line is shown as its
//! name and `=`, then `••••` and the fingerprint of each key it holds
//! (`- SECRET_KEY=•••• (kw:3f2a91bc)`); the value itself never.

use crate::error::Result;
use crate::fsio;
use crate::keys::fingerprint::Pepper;
use crate::keys::secret::Secret;
use crate::project::Project;
use crate::project::manifest::{Environment, Format, Target};
use crate::targets::{self, Edit, PlannedWrite};
use std::path::PathBuf;

/// The mask drawn in place of a value.
pub const MASK: &str = "••••";
/// Lines shown per file at most; the rest is counted.
const LINES_PER_FILE: usize = 6;

/// A key the diff may meet in a line, and how it is named there.
pub struct Known {
    pub key: Secret,
    pub name: String,
}

impl Known {
    pub fn by_fingerprint(pepper: &Pepper, key: &Secret) -> Known {
        Known {
            name: pepper.fingerprint(key).to_string(),
            key: key.duplicate(),
        }
    }
}

/// What the fallback target gets in the write.
pub enum Fallback<'a> {
    /// Left as it is (`set`, restore).
    Untouched,
    /// Set to this value (rotation with a grace period: the old keys).
    Set(&'a Secret),
    /// Its key removed (revocation: no grace).
    Removed,
}

/// Plans writing `new` to every file target of `env` (and the fallback edit), one plan
/// per file, as `set` and the rotation do. Nothing is written.
pub fn plan_env(
    project: &Project,
    env: &Environment,
    new: &Secret,
    fallback: Fallback<'_>,
) -> Result<Vec<PlannedWrite>> {
    // (real path, path as the manifest names it, format, edits)
    type Group = (PathBuf, PathBuf, Format, Vec<(String, Option<Secret>)>);
    let mut groups: Vec<Group> = Vec::new();
    let mut add = |path: &PathBuf, format: Format, name: &str, value: Option<Secret>| {
        let real = fsio::resolve_inside(&project.root, path).unwrap_or_else(|_| path.clone());
        match groups.iter_mut().find(|(r, ..)| *r == real) {
            Some((.., edits)) => edits.push((name.to_string(), value)),
            None => groups.push((real, path.clone(), format, vec![(name.to_string(), value)])),
        }
    };
    for t in &env.targets {
        if let Target::File { path, format, key } = t {
            add(path, *format, key, Some(new.duplicate()));
        }
    }
    if let Some(Target::File { path, format, key }) = &env.fallback {
        match fallback {
            Fallback::Untouched => {}
            Fallback::Set(v) => add(path, *format, key, Some(v.duplicate())),
            Fallback::Removed => add(path, *format, key, None),
        }
    }
    let mut plans = Vec::new();
    for (_, path, format, edits) in &groups {
        let edits: Vec<Edit> = edits
            .iter()
            .map(|(name, value)| Edit {
                name,
                value: value.as_ref(),
            })
            .collect();
        plans.push(targets::plan_edits(&project.root, path, *format, &edits)?);
    }
    Ok(plans)
}

/// The masked diff of `plans`: a heading per file, then its removed (`-`) and added
/// (`+`) lines.
pub fn masked(plans: &[PlannedWrite], known: &[Known]) -> Vec<String> {
    let mut out = Vec::new();
    for plan in plans {
        let old = plan
            .old
            .as_ref()
            .map(|o| String::from_utf8_lossy(o).into_owned())
            .unwrap_or_default();
        let new = String::from_utf8_lossy(&plan.new).into_owned();
        let old = zeroize::Zeroizing::new(old);
        let new = zeroize::Zeroizing::new(new);
        if !plan.changes_anything() {
            out.push(format!("  {}: no change", plan.label));
            continue;
        }
        out.push(format!(
            "  {}{}:",
            plan.label,
            if plan.old.is_none() {
                " (a new file)"
            } else {
                ""
            }
        ));
        let mut shown = 0;
        let mut more = 0;
        for (sign, line) in changed_lines(&old, &new) {
            if shown < LINES_PER_FILE {
                out.push(format!("    {sign} {}", mask_line(line, known)));
                shown += 1;
            } else {
                more += 1;
            }
        }
        if more > 0 {
            out.push(format!("    … and {more} more changed line(s)"));
        }
    }
    out
}

/// The lines only in `old` (`-`) and only in `new` (`+`), in file order: a longest common
/// subsequence of the lines (secrets files are small).
fn changed_lines<'a>(old: &'a str, new: &'a str) -> Vec<(char, &'a str)> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(('+', b[j]));
            j += 1;
        } else {
            out.push(('-', a[i]));
            i += 1;
        }
    }
    // Removed lines first, then added ones, as a reader expects of one change.
    out.sort_by_key(|(sign, _)| *sign != '-');
    out
}

/// `line` with its value masked: the name and `=` stay, then [`MASK`] and the names of
/// the known keys it holds. A line with no `=` is shown only if it holds no known key
/// and looks like a heading or a comment.
fn mask_line(line: &str, known: &[Known]) -> String {
    let holds: Vec<&str> = known
        .iter()
        .filter(|k| !k.key.is_empty() && line.contains(k.key.expose_secret()))
        .map(|k| k.name.as_str())
        .fold(Vec::new(), |mut v, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        });
    let named = if holds.is_empty() {
        String::new()
    } else {
        format!(" ({})", holds.join(", "))
    };
    match line.find('=') {
        Some(at) => {
            let space = if line[at + 1..].starts_with(' ') {
                " "
            } else {
                ""
            };
            format!("{}={space}{MASK}{named}", &line[..at])
        }
        None => {
            let t = line.trim_start();
            if holds.is_empty() && (t.is_empty() || t.starts_with('[') || t.starts_with('#')) {
                line.to_string()
            } else {
                format!("{MASK}{named}")
            }
        }
    }
}

/// Which write a confirmation asks for.
pub enum Planned<'a> {
    /// `g`: a new key, the fallback untouched.
    Set,
    /// `R`: a new key; with a grace period the old one joins the fallback.
    Rotate,
    /// `X`: a new key, the fallback's key removed.
    Revoke,
    /// A key backup put back through the rotation (the fallback's key removed).
    RestoreKey(&'a Secret),
}

impl super::App {
    /// The lines a confirmation shows under "What changes": the masked diff of the write
    /// as it is planned now, or why it cannot be shown.
    pub(crate) fn diff_lines(&self, env: &Environment, planned: Planned<'_>) -> Vec<String> {
        let project = &self.session.project;
        let pepper = &self.session.pepper;
        let mut known: Vec<Known> = Vec::new();
        let mut current: Vec<Secret> = Vec::new();
        for t in &env.targets {
            if let Some(k) = targets::read(&project.root, t, &|_| None).key() {
                if !current
                    .iter()
                    .any(|c| c.expose_secret() == k.expose_secret())
                {
                    current.push(k.duplicate());
                }
                known.push(Known::by_fingerprint(pepper, k));
            }
        }
        let held: Vec<Secret> = env
            .fallback
            .iter()
            .filter_map(|t| {
                targets::read(&project.root, t, &|_| None)
                    .key()
                    .map(Secret::duplicate)
            })
            .flat_map(|v| crate::ops::rotation::split_fallbacks(&v))
            .collect();
        known.extend(held.iter().map(|k| Known::by_fingerprint(pepper, k)));
        let fresh;
        let new = match planned {
            Planned::RestoreKey(k) => {
                known.push(Known::by_fingerprint(pepper, k));
                k
            }
            _ => {
                // A stand-in of the same kind, never written: the job draws the real key.
                let spec = match crate::ops::apply::default_spec(project) {
                    Ok(s) => s,
                    Err(e) => {
                        return vec![format!(
                            "  (cannot plan the write: {})",
                            super::words::error(&e)
                        )];
                    }
                };
                fresh = match crate::keys::generate::generate_where(&spec, |k| {
                    env.targets.iter().all(|t| targets::carries(t, k).is_ok())
                }) {
                    Ok(k) => k,
                    Err(e) => return vec![format!("  (cannot plan the write: {e})")],
                };
                known.push(Known {
                    key: fresh.duplicate(),
                    name: "the new key".into(),
                });
                &fresh
            }
        };
        let mut list = Vec::new();
        let fallback_value;
        let fallback = match planned {
            Planned::Set => Fallback::Untouched,
            Planned::Rotate if env.grace_days > 0 && current.len() == 1 => {
                list.push(current[0].duplicate());
                list.extend(held.iter().map(Secret::duplicate));
                fallback_value = crate::ops::rotation::join_fallbacks(&list);
                Fallback::Set(&fallback_value)
            }
            _ => Fallback::Removed,
        };
        let mut lines = match plan_env(project, env, new, fallback) {
            Ok(plans) => masked(&plans, &known),
            Err(e) => vec![format!(
                "  (cannot plan the write: {})",
                super::words::error(&e)
            )],
        };
        // A secret store has no lines: its change is one new version of the secret, the
        // other fields kept.
        let new_name = known
            .iter()
            .find(|k| k.key.expose_secret() == new.expose_secret())
            .map_or_else(|| "the new key".to_string(), |k| k.name.clone());
        for t in &env.targets {
            if let Target::Vault { .. } = t {
                let destroyed = if matches!(planned, Planned::Revoke) {
                    "; the versions holding the revoked key are destroyed when the revocation finishes"
                } else {
                    ""
                };
                lines.push(format!(
                    "  {}: one new version holding {new_name}, its other fields kept{destroyed}",
                    t.label()
                ));
            }
        }
        lines
    }
}

impl super::App {
    /// The lines of a restore's confirmation: the masked diff of putting the backup back,
    /// or that it cannot be shown while the backups are locked.
    pub(crate) fn restore_diff(
        &self,
        env: &Environment,
        meta: &crate::records::backup::BackupMeta,
    ) -> Vec<String> {
        use crate::records::backup::{BackupStore, Kind};
        let project = &self.session.project;
        let store = BackupStore::of(project);
        if store.would_ask([&meta.id]) {
            return vec![
                "  (not shown: the backups are locked; the passphrase is asked when you confirm, and the restore writes only what the backup holds)".into(),
            ];
        }
        match meta.kind {
            Kind::Key => match store.key(&meta.id) {
                Ok(k) => self.diff_lines(env, Planned::RestoreKey(&k)),
                Err(e) => vec![format!(
                    "  (cannot read the backup: {})",
                    super::words::error(&e)
                )],
            },
            Kind::File => {
                let pepper = &self.session.pepper;
                let content = match store.content(&meta.id) {
                    Ok(c) => c,
                    Err(e) => {
                        return vec![format!(
                            "  (cannot read the backup: {})",
                            super::words::error(&e)
                        )];
                    }
                };
                let mut known: Vec<Known> = Vec::new();
                let text = String::from_utf8_lossy(&content).into_owned();
                let text = zeroize::Zeroizing::new(text);
                for t in env.targets.iter().chain(env.fallback.iter()) {
                    if let Some(k) = targets::read(&project.root, t, &|_| None).key() {
                        known.push(Known::by_fingerprint(pepper, k));
                    }
                    if let Some(k) = targets::key_in_text(t, &text) {
                        for part in crate::ops::rotation::split_fallbacks(&k) {
                            known.push(Known::by_fingerprint(pepper, &part));
                        }
                        known.push(Known::by_fingerprint(pepper, &k));
                    }
                }
                let path = std::path::Path::new(&meta.target);
                let real = fsio::resolve_inside(&project.root, path)
                    .unwrap_or_else(|_| path.to_path_buf());
                match targets::plan_content(&project.root, &real, &meta.target, &content) {
                    Ok(plan) => masked(&[plan], &known),
                    Err(e) => vec![format!(
                        "  (cannot plan the write: {})",
                        super::words::error(&e)
                    )],
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_keeps_its_name_and_hides_its_value() {
        let old_key = Secret::new("old-key-value-0123456789".into());
        let new_key = Secret::new("new-key-value-9876543210".into());
        let known = [
            Known {
                key: old_key.duplicate(),
                name: "kw:0ld".into(),
            },
            Known {
                key: new_key.duplicate(),
                name: "new key".into(),
            },
        ];
        let old = "DEBUG=1\nSECRET_KEY='old-key-value-0123456789'\n";
        let new = "DEBUG=1\nSECRET_KEY='new-key-value-9876543210'\n";
        let lines: Vec<String> = changed_lines(old, new)
            .into_iter()
            .map(|(s, l)| format!("{s} {}", mask_line(l, &known)))
            .collect();
        assert_eq!(
            lines,
            ["- SECRET_KEY=•••• (kw:0ld)", "+ SECRET_KEY=•••• (new key)"]
        );
        assert_eq!(mask_line("secret_key = \"x\"", &known), "secret_key = ••••");
        assert_eq!(mask_line("[auth]", &known), "[auth]");
        assert_eq!(mask_line("  continued-value", &known), "••••");
    }
}
