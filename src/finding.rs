//! Findings: what keywarden reports about a key, a file or an environment.
//!
//! Every finding has a stable code (`KW001`…), documented once in the README and never
//! reused for another meaning, so scripts and CI configurations can rely on it. A finding
//! message never contains key material: keys are named by fingerprint.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Ordered from least to most serious, so `>=` compares against `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity `{s}`: use one of info, low, medium, high, critical")
            })
    }
}

/// Stable finding codes. The README's table of codes is tested against [`Code::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    // --- the key itself (strength analysis) ---
    /// A key published in documentation (the guide, framework docs): compromised.
    KnownKey,
    /// A framework's insecure placeholder or prefix (`django-insecure-`, `changeme`).
    Placeholder,
    /// Shorter than the guide's minimum of 32 characters.
    TooShort,
    /// 32 to 63 characters: above the minimum, below the guide's recommended 64.
    BelowRecommended,
    /// Fewer character classes than the guide asks (letters, digits, symbols).
    FewClasses,
    /// Too few distinct characters.
    FewUnique,
    /// Dictionary words, keyboard runs, sequences: guessable structure.
    Predictable,
    /// Words that mark a non-secret: secret, key, password, dev, test, ...
    TellingWord,
    /// Contains the project's or an environment's name.
    ContainsName,
    /// Contains a year or a date.
    ContainsDate,
    /// The same chunk repeated.
    Repeated,
    /// Much less entropy than its length suggests.
    LowEntropy,
    // --- targets and environments ---
    KeyMissing,
    Drift,
    SharedKey,
    PermissiveRead,
    PermissiveWrite,
    ForeignOwner,
    NotIgnored,
    TrackedByGit,
    RotationOverdue,
    AgeUnknown,
    EnvVarUnset,
    DuplicateEntry,
    ReadersDisagree,
    SymlinkOutside,
    Unreadable,
    FileInProduction,
    /// A temporary file an interrupted run left beside a target.
    LeftoverTemp,
    // --- lifecycle ---
    /// A revoked key found in a target.
    RevokedKey,
    /// A rotation that has not finished.
    UnfinishedRotation,
    /// The old key is still accepted through the fallback.
    GracePeriod,
    // --- scan ---
    /// A key given as a literal in source code.
    HardCoded,
    /// A key keywarden knows, in a file that is not a target.
    KeyInFile,
    /// A key keywarden knows, added by a commit.
    KeyInHistory,
}

impl Code {
    pub const ALL: [Code; 35] = [
        Code::KnownKey,
        Code::Placeholder,
        Code::TooShort,
        Code::BelowRecommended,
        Code::FewClasses,
        Code::FewUnique,
        Code::Predictable,
        Code::TellingWord,
        Code::ContainsName,
        Code::ContainsDate,
        Code::Repeated,
        Code::LowEntropy,
        Code::KeyMissing,
        Code::Drift,
        Code::SharedKey,
        Code::PermissiveRead,
        Code::PermissiveWrite,
        Code::ForeignOwner,
        Code::NotIgnored,
        Code::TrackedByGit,
        Code::RotationOverdue,
        Code::AgeUnknown,
        Code::EnvVarUnset,
        Code::DuplicateEntry,
        Code::ReadersDisagree,
        Code::SymlinkOutside,
        Code::Unreadable,
        Code::FileInProduction,
        Code::RevokedKey,
        Code::UnfinishedRotation,
        Code::GracePeriod,
        Code::LeftoverTemp,
        Code::HardCoded,
        Code::KeyInFile,
        Code::KeyInHistory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::KnownKey => "KW001",
            Code::Placeholder => "KW002",
            Code::TooShort => "KW003",
            Code::BelowRecommended => "KW004",
            Code::FewClasses => "KW005",
            Code::FewUnique => "KW006",
            Code::Predictable => "KW007",
            Code::TellingWord => "KW008",
            Code::ContainsName => "KW009",
            Code::ContainsDate => "KW010",
            Code::Repeated => "KW011",
            Code::LowEntropy => "KW012",
            Code::KeyMissing => "KW101",
            Code::Drift => "KW102",
            Code::SharedKey => "KW103",
            Code::PermissiveRead => "KW104",
            Code::PermissiveWrite => "KW105",
            Code::ForeignOwner => "KW106",
            Code::NotIgnored => "KW107",
            Code::TrackedByGit => "KW108",
            Code::RotationOverdue => "KW109",
            Code::AgeUnknown => "KW110",
            Code::EnvVarUnset => "KW111",
            Code::DuplicateEntry => "KW112",
            Code::ReadersDisagree => "KW113",
            Code::SymlinkOutside => "KW114",
            Code::Unreadable => "KW115",
            Code::FileInProduction => "KW116",
            Code::RevokedKey => "KW117",
            Code::UnfinishedRotation => "KW118",
            Code::GracePeriod => "KW119",
            Code::LeftoverTemp => "KW120",
            Code::HardCoded => "KW201",
            Code::KeyInFile => "KW202",
            Code::KeyInHistory => "KW203",
        }
    }

    /// A short name for tables and SARIF rule names.
    pub fn title(self) -> &'static str {
        match self {
            Code::KnownKey => "published key",
            Code::Placeholder => "placeholder key",
            Code::TooShort => "too short",
            Code::BelowRecommended => "below recommended length",
            Code::FewClasses => "few character classes",
            Code::FewUnique => "few distinct characters",
            Code::Predictable => "predictable content",
            Code::TellingWord => "telling word",
            Code::ContainsName => "contains a name",
            Code::ContainsDate => "contains a date",
            Code::Repeated => "repeated chunk",
            Code::LowEntropy => "low entropy",
            Code::KeyMissing => "key missing",
            Code::Drift => "drift between targets",
            Code::SharedKey => "key shared between environments",
            Code::PermissiveRead => "readable by others",
            Code::PermissiveWrite => "writable by others",
            Code::ForeignOwner => "owned by another user",
            Code::NotIgnored => "not ignored by git",
            Code::TrackedByGit => "committed to git",
            Code::RotationOverdue => "rotation overdue",
            Code::AgeUnknown => "key age unknown",
            Code::EnvVarUnset => "environment variable not set",
            Code::DuplicateEntry => "duplicate entry",
            Code::ReadersDisagree => "readers disagree",
            Code::SymlinkOutside => "symlink leaves the project",
            Code::Unreadable => "target unreadable",
            Code::FileInProduction => "production key in a file",
            Code::RevokedKey => "revoked key in use",
            Code::UnfinishedRotation => "unfinished rotation",
            Code::GracePeriod => "old key in grace period",
            Code::LeftoverTemp => "temporary file left by an interrupted run",
            Code::HardCoded => "hard-coded key",
            Code::KeyInFile => "key in a file",
            Code::KeyInHistory => "key in git history",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// A target's path (relative to the project) or `$NAME` for an environment variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// For a finding in the git history: the commit that brought it in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// For a literal found by `scan`: what a baseline (`.keywarden-scan.toml`) names it by
    /// — a digest of the value, the same on every machine, never the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_fingerprint: Option<String>,
}

impl Finding {
    pub fn new(code: Code, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity,
            message: message.into(),
            environment: None,
            target: None,
            line: None,
            fix: None,
            commit: None,
            baseline_fingerprint: None,
        }
    }

    pub fn with_baseline_fingerprint(mut self, fp: impl Into<String>) -> Self {
        self.baseline_fingerprint = Some(fp.into());
        self
    }

    pub fn at_commit(mut self, commit: impl Into<String>) -> Self {
        self.commit = Some(commit.into());
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn in_environment(mut self, env: impl Into<String>) -> Self {
        self.environment = Some(env.into());
        self
    }

    pub fn at_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

/// The most serious severity among `findings`, if any.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} used twice");
            assert!(
                s.len() == 5 && s.starts_with("KW") && s[2..].chars().all(|c| c.is_ascii_digit())
            );
        }
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!(
            "severe"
                .parse::<Severity>()
                .unwrap_err()
                .contains("info, low")
        );
    }

    #[test]
    fn serializes_with_stable_names() {
        let f = Finding::new(Code::TooShort, Severity::High, "short").in_environment("dev");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["code"], "KW003");
        assert_eq!(json["severity"], "high");
        assert_eq!(json["environment"], "dev");
        assert!(json.get("target").is_none());
    }
}
