//! SARIF 2.1.0 output for `check --sarif`, the format code-scanning dashboards read.

use crate::finding::{Code, Finding, Severity};
use crate::ops::status::ProjectStatus;
use serde_json::{Value, json};

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

pub fn report(st: &ProjectStatus) -> Value {
    let findings: Vec<&Finding> = st.environments.iter().flat_map(|e| &e.findings).collect();
    report_findings(&findings)
}

/// SARIF for any list of findings (`check`, `scan`).
pub fn report_findings(findings: &[&Finding]) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| json!({ "id": c.as_str(), "name": c.title(), "shortDescription": { "text": c.title() } }))
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.code.as_str(),
                "level": level(f.severity),
                "message": { "text": match &f.fix {
                    Some(fix) => format!("{} ({}) Fix: {fix}", f.message, f.environment.as_deref().unwrap_or("-")),
                    None => format!("{} ({})", f.message, f.environment.as_deref().unwrap_or("-")),
                }},
                "properties": { "severity": f.severity.as_str(), "environment": f.environment },
            });
            let uri = f
                .target
                .as_deref()
                .filter(|t| !t.starts_with('$'))
                .unwrap_or("keywarden.toml");
            let mut loc = json!({ "physicalLocation": { "artifactLocation": { "uri": uri } } });
            if let Some(line) = f.line {
                loc["physicalLocation"]["region"] = json!({ "startLine": line });
            }
            r["locations"] = json!([loc]);
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
                "rules": rules,
            }},
            "results": results,
        }]
    })
}
