//! SARIF 2.1.0 output for `check --sarif` and `scan --sarif`, in the shape code-scanning
//! services read: a rule per finding code with its descriptions, a `security-severity`
//! score, stable `partialFingerprints`, and locations in files the repository holds.

use crate::finding::{Code, Finding, Severity};
use crate::ops::status::ProjectStatus;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The score code-scanning services map to their severities (GitHub: 9.0+ critical,
/// 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low).
fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `check`: environment findings. Their targets are secrets files that are (and should
/// be) outside the repository, so each is located at the manifest line that declares the
/// target, where a code-scanning view can show it; the target itself is a property.
pub fn report(st: &ProjectStatus, manifest_text: Option<&str>) -> Value {
    let findings: Vec<&Finding> = st.environments.iter().flat_map(|e| &e.findings).collect();
    let manifest = st.manifest.as_ref().and_then(|m| {
        let rel = m.strip_prefix(&st.root).unwrap_or(m);
        Some((rel.display().to_string(), manifest_text?))
    });
    build(&findings, manifest.as_ref().map(|(p, t)| (p.as_str(), *t)))
}

/// `scan`: findings in the repository's own files. `incomplete` says what was not
/// searched: the run is then marked unsuccessful, so a service does not close alerts for
/// findings it never reached.
pub fn report_findings(findings: &[&Finding], incomplete: &[String]) -> Value {
    let mut v = build(findings, None);
    let notes: Vec<Value> = incomplete
        .iter()
        .map(|m| json!({ "level": "error", "message": { "text": m } }))
        .collect();
    v["runs"][0]["invocations"] = json!([{
        "executionSuccessful": incomplete.is_empty(),
        "toolExecutionNotifications": notes,
    }]);
    v
}

/// [`report_findings`], with the findings a baseline accepted as results carrying an
/// external suppression and its justification.
pub fn report_findings_suppressed(
    findings: &[&Finding],
    suppressed: &[(&Finding, &str)],
    incomplete: &[String],
) -> Value {
    let mut all: Vec<&Finding> = findings.to_vec();
    all.extend(suppressed.iter().map(|(f, _)| *f));
    let mut v = report_findings(&all, incomplete);
    if let Some(results) = v["runs"][0]["results"].as_array_mut() {
        for (r, (_, why)) in results[findings.len()..].iter_mut().zip(suppressed) {
            r["suppressions"] =
                json!([{ "kind": "external", "status": "accepted", "justification": why }]);
        }
    }
    v
}

fn help_uri() -> String {
    format!("{}#finding-codes", env!("CARGO_PKG_REPOSITORY"))
}

fn build(findings: &[&Finding], manifest: Option<(&str, &str)>) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.title(),
                "shortDescription": { "text": c.title() },
                "fullDescription": { "text": format!("keywarden {}: {}", c.as_str(), c.title()) },
                "helpUri": help_uri(),
                "help": { "text": format!("{} — see the finding codes in keywarden's README: {}", c.title(), help_uri()) },
                "properties": { "tags": ["security", "secrets"] },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let env = f.environment.as_deref().unwrap_or("-");
            let mut r = json!({
                "ruleId": f.code.as_str(),
                "level": level(f.severity),
                "message": { "text": match &f.fix {
                    Some(fix) => format!("{} ({env}) Fix: {fix}", f.message),
                    None => format!("{} ({env})", f.message),
                }},
                "partialFingerprints": { "keywarden/v1": partial_fingerprint(f) },
                "properties": {
                    "severity": f.severity.as_str(),
                    "security-severity": security_severity(f.severity),
                    "environment": f.environment,
                    "target": f.target,
                },
            });
            if let Some(c) = &f.commit {
                r["properties"]["commit"] = json!(c);
                r["logicalLocations"] = json!([{ "name": c, "kind": "commit" }]);
            }
            r["locations"] = json!([location(f, manifest)]);
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keywarden",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "results": results,
        }]
    })
}

fn location(f: &Finding, manifest: Option<(&str, &str)>) -> Value {
    let target = f.target.as_deref();
    if let Some((path, text)) = manifest {
        // The manifest line that declares this target (`path = "…"` or `env = "…"`), or
        // for a finding about the environment's key, the environment (`name = "…"`).
        let line_holding = |quoted: [String; 2]| {
            text.lines()
                .position(|l| quoted.iter().any(|q| l.contains(q.as_str())))
                .map(|i| i + 1)
        };
        let declared = match (target, f.environment.as_deref()) {
            (Some(t), _) => {
                let t = t.trim_start_matches('$');
                line_holding([format!("\"{t}\""), format!("'{t}'")])
            }
            (None, Some(e)) => line_holding([format!("name = \"{e}\""), format!("name = '{e}'")]),
            (None, None) => None,
        };
        let mut loc = json!({ "physicalLocation": { "artifactLocation": { "uri": path } } });
        if let Some(line) = declared {
            loc["physicalLocation"]["region"] = json!({ "startLine": line });
        }
        return loc;
    }
    let uri = target
        .filter(|t| !t.starts_with('$'))
        .unwrap_or("keywarden.toml");
    let mut loc = json!({ "physicalLocation": { "artifactLocation": { "uri": uri } } });
    if let Some(line) = f.line {
        loc["physicalLocation"]["region"] = json!({ "startLine": line });
    }
    loc
}

/// Stable across runs and machines: the code, environment, target and message with the
/// installation-specific parts (fingerprints `kw:…`, counts of days) taken out, so a
/// service matches a finding to the one it saw before.
fn partial_fingerprint(f: &Finding) -> String {
    let mut words: Vec<&str> = f
        .message
        .split_whitespace()
        .filter(|w| !w.contains("kw:") && !w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    words.dedup();
    // Findings in the repository's files: two in one file differ by line (and commit).
    let place = match f.code {
        Code::HardCoded | Code::KeyInFile | Code::KeyInHistory => format!(
            "{}:{}",
            f.line.unwrap_or(0),
            f.commit.as_deref().unwrap_or("")
        ),
        _ => String::new(),
    };
    let mut h = Sha256::new();
    for part in [
        f.code.as_str(),
        f.environment.as_deref().unwrap_or(""),
        f.target.as_deref().unwrap_or(""),
        &words.join(" "),
        &place,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}
