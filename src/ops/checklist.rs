//! The guide's eight-item security checklist, computed for one environment from its
//! status and manifest entry: never ticked by hand.
//!
//! Computed in the core so every face shows the same marks; each face draws them its own way.

use crate::finding::Code;
use crate::ops::status::EnvStatus;
use crate::project::manifest::{Environment, WatchSettings, is_production};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Done,
    Missing,
    /// Does not apply here (no key to judge, not production).
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub mark: Mark,
    /// The guide's item.
    pub label: &'static str,
    /// Why it has this mark.
    pub why: String,
}

/// The strength analysis's codes are `KW001` to `KW099` (see `strength`); the rest are
/// about files and environments.
fn is_strength(code: Code) -> bool {
    code.as_str().starts_with("KW0")
}

/// The checklist of `env` (its manifest entry `manifest`), with no `[watch] webhook`.
pub fn compute(env: &EnvStatus, manifest: &Environment) -> [Item; 8] {
    compute_in(env, manifest, &WatchSettings::default())
}

/// The checklist of `env` in a project whose `[watch]` table is `watch`: "monitoring" is
/// done where `keywarden watch` has something to follow (logs), someone to tell (the
/// environment's `notify` or `[watch] webhook`) and a rotation schedule to watch.
pub fn compute_in(env: &EnvStatus, manifest: &Environment, watch: &WatchSettings) -> [Item; 8] {
    let has = |codes: &[Code]| env.findings.iter().any(|f| codes.contains(&f.code));
    let weak = env.findings.iter().any(|f| is_strength(f.code));
    let has_key = env.targets.iter().any(|t| t.fingerprint.is_some());
    let keyed = |bad: bool, done: &str, missing: &str| {
        if !has_key {
            (Mark::NotApplicable, "no key yet".to_string())
        } else if bad {
            (Mark::Missing, missing.to_string())
        } else {
            (Mark::Done, done.to_string())
        }
    };
    let item = |label, (mark, why): (Mark, String)| Item { mark, label, why };

    let files: Vec<&String> = env.targets.iter().filter_map(|t| t.mode.as_ref()).collect();
    let permissions = if files.is_empty() {
        (Mark::NotApplicable, "no file holds the key".into())
    } else if has(&[Code::PermissiveRead, Code::PermissiveWrite]) {
        (Mark::Missing, "a file is open to others".into())
    } else {
        (Mark::Done, "owner-only files".into())
    };

    let env_vars = if !is_production(&env.name) {
        (Mark::NotApplicable, "production only".into())
    } else if env
        .targets
        .iter()
        .any(|t| t.env.is_some() && t.fingerprint.is_some())
    {
        (Mark::Done, "read from the environment".into())
    } else if env.targets.iter().any(|t| t.env.is_some()) {
        (Mark::Missing, "variable not set here".into())
    } else {
        (Mark::Missing, "no { env = … } target".into())
    };

    let rotation = match (env.rotate_every_days, env.rotation_due_days) {
        (_, Some(due)) if due < 0 => (Mark::Missing, format!("overdue by {} days", -due)),
        (0, _) if env.name == "development" => (Mark::Done, "on major changes".into()),
        (0, _) => (Mark::Missing, "no schedule (rotate_every_days = 0)".into()),
        (every, _) => (Mark::Done, format!("every {every} days")),
    };

    let notifier = manifest.notify.is_some() || watch.webhook.is_some();
    let monitoring = if manifest.logs.is_empty() {
        (Mark::Missing, "no logs in keywarden.toml".into())
    } else if !notifier {
        (Mark::Missing, "no notify command or [watch] webhook".into())
    } else if manifest.rotate_every_days == 0 {
        (Mark::Missing, "no rotation schedule to watch".into())
    } else {
        (
            Mark::Done,
            format!(
                "keywarden watch: logs {}, alerts sent",
                manifest.logs.join(", ")
            ),
        )
    };

    let procedures = match (&manifest.restart, &manifest.verify) {
        (Some(_), Some(_)) => (Mark::Done, "restart and verify commands".into()),
        (Some(_), None) => (Mark::Missing, "no verify command".into()),
        (None, Some(_)) => (Mark::Missing, "no restart command".into()),
        (None, None) => (Mark::Missing, "no restart or verify command".into()),
    };

    [
        item(
            "generated securely",
            keyed(weak, "no weakness found", "weak key, see findings"),
        ),
        item(
            "length ≥ 64",
            keyed(
                has(&[Code::TooShort, Code::BelowRecommended]),
                "64+ characters",
                "under 64 characters",
            ),
        ),
        item(
            "complexity",
            keyed(
                has(&[Code::FewClasses, Code::FewUnique]),
                "letters, digits, symbols",
                "too few kinds of characters",
            ),
        ),
        item("restrictive permissions", permissions),
        item("env vars in production", env_vars),
        item("rotation scheduled", rotation),
        item("monitoring", monitoring),
        item("procedures documented", procedures),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Severity};
    use crate::ops::status::TargetStatus;

    fn target(mode: Option<&str>, env: Option<&str>, keyed: bool) -> TargetStatus {
        TargetStatus {
            path: mode.map(|_| ".env".into()),
            env: env.map(Into::into),
            format: None,
            key: None,
            state: if keyed { "ok" } else { "unset" },
            mode: mode.map(Into::into),
            owner: None,
            fingerprint: keyed
                .then(|| crate::keys::fingerprint::Fingerprint::parse("kw:0000abcd").unwrap()),
            line: None,
            error: None,
            vault: None,
            version: None,
        }
    }

    fn status(name: &str, targets: Vec<TargetStatus>, codes: &[Code]) -> EnvStatus {
        EnvStatus {
            name: name.into(),
            fingerprint: None,
            created: None,
            age_days: Some(10),
            age_source: "recorded",
            rotate_every_days: crate::project::manifest::default_rotation_days(name),
            rotation_due_days: None,
            strength: None,
            targets,
            rotation: None,
            grace_until: None,
            fallbacks: Vec::new(),
            findings: codes
                .iter()
                .map(|&c| Finding::new(c, Severity::High, "x"))
                .collect(),
        }
    }

    /// The marks as the TUI draws them.
    fn marks(items: &[Item; 8]) -> String {
        items
            .iter()
            .map(|i| match i.mark {
                Mark::Done => '✓',
                Mark::Missing => '✗',
                Mark::NotApplicable => '–',
            })
            .collect()
    }

    #[test]
    fn a_clean_production_environment_ticks_everything() {
        let st = status(
            "production",
            vec![
                target(Some("0600"), None, true),
                target(None, Some("SECRET_KEY"), true),
            ],
            &[],
        );
        let mut m = Environment::new("production");
        m.logs = vec!["logs/*.log".into()];
        m.restart = Some("systemctl restart app".into());
        m.verify = Some("curl -fsS localhost/healthz".into());
        // Logs alone are not monitoring: `watch` needs someone to tell.
        assert_eq!(marks(&compute(&st, &m)), "✓✓✓✓✓✓✗✓");
        let webhook = WatchSettings {
            webhook: Some("http://127.0.0.1:9/hook".into()),
            ..WatchSettings::default()
        };
        assert_eq!(marks(&compute_in(&st, &m, &webhook)), "✓✓✓✓✓✓✓✓");
        m.notify = Some("mail -s alert security@example.com".into());
        assert_eq!(marks(&compute(&st, &m)), "✓✓✓✓✓✓✓✓");
        m.rotate_every_days = 0;
        assert_eq!(marks(&compute(&st, &m)), "✓✓✓✓✓✓✗✓", "no schedule to watch");
    }

    #[test]
    fn findings_and_missing_configuration_untick() {
        let mut st = status(
            "production",
            vec![
                target(Some("0644"), None, true),
                target(None, Some("SECRET_KEY"), false),
            ],
            &[Code::KnownKey, Code::PermissiveRead],
        );
        st.rotation_due_days = Some(-3);
        let items = compute(&st, &Environment::new("production"));
        assert_eq!(marks(&items), "✗✓✓✗✗✗✗✗");
        assert_eq!(items[5].why, "overdue by 3 days");
        assert_eq!(items[4].why, "variable not set here");
    }

    #[test]
    fn no_key_and_non_production_are_not_applicable() {
        let st = status("development", vec![target(Some("0600"), None, false)], &[]);
        let items = compute(&st, &Environment::new("development"));
        assert_eq!(marks(&items), "–––✓–✓✗✗");
        assert_eq!(items[5].why, "on major changes");
    }
}
