//! What `keywarden watch` raises: an [`Alert`] names its kind, severity, environment,
//! what happened, where (`file:line` of a log, or a target) and the fix — never a key,
//! never text from a log line.

use crate::finding::Severity;
use jiff::Timestamp;
use serde::Serialize;

/// The kinds of alert (`kind` in JSON, the `kind` label of `keywarden_alerts_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Signature errors in an environment's logs reached `[watch] signature_errors`.
    SignatureErrors,
    /// A key keywarden knows appeared in a log (any encoding), or a revoked key in a target.
    KeyExposed,
    /// The environment's rotation became due or overdue.
    RotationDue,
    /// A target's content, mode or owner changed outside keywarden.
    TargetChanged,
    /// A target was opened or read by a process other than this watch.
    TargetOpened,
    /// A notify command or the webhook failed, after its retries.
    NotifierFailed,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::SignatureErrors,
        AlertKind::KeyExposed,
        AlertKind::RotationDue,
        AlertKind::TargetChanged,
        AlertKind::TargetOpened,
        AlertKind::NotifierFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::SignatureErrors => "signature_errors",
            AlertKind::KeyExposed => "key_exposed",
            AlertKind::RotationDue => "rotation_due",
            AlertKind::TargetChanged => "target_changed",
            AlertKind::TargetOpened => "target_opened",
            AlertKind::NotifierFailed => "notifier_failed",
        }
    }
}

/// One alert. Every field is keywarden's own words, paths, numbers and fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub environment: String,
    pub message: String,
    /// A log file (as the glob found it), for log alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// A target (its path, or `$VAR`), for target alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub fix: String,
    pub ts: Timestamp,
}

impl Alert {
    pub fn new(
        kind: AlertKind,
        severity: Severity,
        environment: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
        ts: Timestamp,
    ) -> Alert {
        Alert {
            kind,
            severity,
            environment: environment.to_string(),
            message: message.into(),
            file: None,
            line: None,
            target: None,
            fix: fix.into(),
            ts,
        }
    }

    pub fn at_line(mut self, file: &str, line: u64) -> Alert {
        self.file = Some(file.to_string());
        self.line = Some(line);
        self
    }

    pub fn at_target(mut self, target: &str) -> Alert {
        self.target = Some(target.to_string());
        self
    }

    /// Where: `file:line`, the target, or the environment.
    pub fn place(&self) -> String {
        match (&self.file, self.line, &self.target) {
            (Some(f), Some(l), _) => format!("{f}:{l}"),
            (Some(f), None, _) => f.clone(),
            (None, _, Some(t)) => t.clone(),
            _ => format!("environment {}", self.environment),
        }
    }

    /// What the quiet period compares: the same kind, environment and file or target.
    pub fn dedup_key(&self) -> (AlertKind, String, String) {
        let place = self
            .file
            .clone()
            .or_else(|| self.target.clone())
            .unwrap_or_default();
        (self.kind, self.environment.clone(), place)
    }

    /// The alert as text, one line then the fix (what stdout shows and a notify command
    /// reads on stdin).
    pub fn text(&self) -> String {
        format!(
            "{} {} [{}] {}: {} ({})\n  fix: {}\n",
            self.ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            self.severity,
            self.kind.as_str(),
            self.environment,
            self.message,
            self.place(),
            self.fix
        )
    }

    /// One line of JSON.
    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("an alert serialises")
    }
}
