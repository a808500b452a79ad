//! Playbooks: the incident checklists as data.
//!
//! The shipped playbooks (`assets/playbooks/*.toml`) are embedded in the binary. A project
//! overrides one with a file named in the manifest's `[playbooks]` table or placed at
//! `.keywarden/playbooks/<name>.toml` beside the manifest. Each step has an id, a title,
//! what to do, an optional action keywarden runs, and the steps it requires before it.

use crate::error::{Error, Result};
use crate::fsio;
use crate::project::Project;
use serde::Deserialize;
use std::path::{Path, PathBuf};

const SHIPPED: &[(&str, &str)] = &[
    (
        "compromised",
        include_str!("../../assets/playbooks/compromised.toml"),
    ),
    ("lost", include_str!("../../assets/playbooks/lost.toml")),
];

/// What keywarden does for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Revoke the environment's key (rotation without grace, fingerprint revoked).
    Revoke,
    /// Check that the environment now holds a fresh, strong, unrevoked key.
    CheckNewKey,
    /// Rotate every other environment that still holds the incident's key.
    RotateSharing,
    /// Run the restart command of every affected environment.
    RestartAll,
    /// Search the environments' logs for the key and for signature errors.
    AuditLogs,
    /// Draft (and, with the manifest's `notify`, send) the message to the security team.
    Notify,
    /// List the backups of the environment's keys and say whether the lost key is there.
    CheckBackups,
    /// Rotate the environment to a new key.
    Rotate,
    /// Check that every target holds one key with mode 0600.
    CheckTargets,
}

impl Action {
    /// Whether the action changes keys (so a face asks first, as for a rotation).
    pub fn changes_keys(self) -> bool {
        matches!(
            self,
            Action::Revoke | Action::Rotate | Action::RotateSharing
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Revoke => "revoke",
            Action::CheckNewKey => "check-new-key",
            Action::RotateSharing => "rotate-sharing",
            Action::RestartAll => "restart-all",
            Action::AuditLogs => "audit-logs",
            Action::Notify => "notify",
            Action::CheckBackups => "check-backups",
            Action::Rotate => "rotate",
            Action::CheckTargets => "check-targets",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    pub id: String,
    pub title: String,
    pub what: String,
    #[serde(default)]
    pub action: Option<Action>,
    #[serde(default)]
    pub requires: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub name: String,
    pub title: String,
    pub summary: String,
    pub steps: Vec<StepDef>,
}

impl Playbook {
    /// Parses and checks a playbook: unique step ids, `requires` naming earlier steps.
    pub fn parse(text: &str, origin: &Path) -> Result<Playbook> {
        let pb: Playbook = toml_edit::de::from_str(text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|s| fsio::line_col(text.as_bytes(), s.start))
                .map_or((None, None), |(l, c)| (Some(l), Some(c)));
            Error::input(
                origin,
                line,
                col,
                format!("invalid playbook: {}", e.message()),
                Some("a playbook has name, title, summary and [[steps]] with id, title, what, and optional action and requires".into()),
            )
        })?;
        let bad = |msg: String| Error::input(origin, None, None, msg, None);
        if pb.steps.is_empty() {
            return Err(bad("the playbook has no steps".into()));
        }
        for (i, s) in pb.steps.iter().enumerate() {
            if pb.steps[..i].iter().any(|o| o.id == s.id) {
                return Err(bad(format!("step id `{}` is used twice", s.id)));
            }
            for r in &s.requires {
                if !pb.steps[..i].iter().any(|o| &o.id == r) {
                    return Err(bad(format!(
                        "step `{}` requires `{r}`, which is not an earlier step",
                        s.id
                    )));
                }
            }
        }
        Ok(pb)
    }

    pub fn step(&self, id: &str) -> Option<&StepDef> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// The names of the shipped playbooks.
pub fn names() -> Vec<&'static str> {
    SHIPPED.iter().map(|(n, _)| *n).collect()
}

/// Where a project's override of playbook `name` would be, if it has one.
fn override_path(project: &Project, name: &str) -> Option<PathBuf> {
    if let Some(p) = project.manifest.playbooks.get(name) {
        return Some(project.root.join(p));
    }
    let beside = project
        .root
        .join(".keywarden/playbooks")
        .join(format!("{name}.toml"));
    beside.is_file().then_some(beside)
}

/// Loads playbook `name`: the project's override, else the shipped one.
pub fn load(project: &Project, name: &str) -> Result<Playbook> {
    if let Some(path) = override_path(project, name) {
        let text = fsio::read_text(&path)?;
        return Playbook::parse(&text, &path);
    }
    let (_, text) = SHIPPED.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        Error::Usage(format!(
            "no playbook `{name}`; the playbooks are: {}",
            names().join(", ")
        ))
    })?;
    Playbook::parse(text, Path::new(&format!("assets/playbooks/{name}.toml")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_playbooks_parse_and_follow_the_guide() {
        let c = Playbook::parse(SHIPPED[0].1, Path::new("c")).unwrap();
        let ids: Vec<&str> = c.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "revoke",
                "generate",
                "update-all",
                "restart-all",
                "audit-logs",
                "notify",
                "sessions"
            ]
        );
        let l = Playbook::parse(SHIPPED[1].1, Path::new("l")).unwrap();
        let ids: Vec<&str> = l.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "check-backups",
                "generate",
                "update-config",
                "reset-sessions"
            ]
        );
        assert_eq!(l.step("generate").unwrap().action, Some(Action::Rotate));
    }

    #[test]
    fn bad_playbooks_are_located() {
        let err = Playbook::parse("name = \"x\"\ntitle = \"t\"\nsummary = \"s\"\n[[steps]]\nid = \"a\"\ntitle = \"t\"\nwhat = \"w\"\nactoin = \"revoke\"\n", Path::new("p.toml")).unwrap_err();
        assert!(err.to_string().starts_with("p.toml:8:"), "{err}");
        assert!(err.to_string().contains("actoin"), "{err}");
        let err = Playbook::parse("name = \"x\"\ntitle = \"t\"\nsummary = \"s\"\n[[steps]]\nid = \"a\"\ntitle = \"t\"\nwhat = \"w\"\nrequires = [\"b\"]\n", Path::new("p.toml")).unwrap_err();
        assert!(err.to_string().contains("not an earlier step"), "{err}");
        let err = Playbook::parse("name = \"x\"\ntitle = \"t\"\nsummary = \"s\"\n[[steps]]\nid = \"a\"\ntitle = \"t\"\nwhat = \"w\"\naction = \"explode\"\n", Path::new("p.toml")).unwrap_err();
        assert!(err.to_string().contains("p.toml:8:"), "{err}");
    }
}
