//! `keywarden scan`: keys in source files and git history.

use super::common;
use super::output::{self, Style};
use super::sarif;
use crate::error::{Result, exit};
use crate::finding::{Finding, Severity, worst};
use std::path::Path;

/// Look for keys where they do not belong: every key keywarden knows (held by a target, or
/// retired and revoked ones in its backups) in the project's other files, and keys given
/// as string literals in source code (`SECRET_KEY = "…"`, `getenv("SECRET_KEY", "…")`).
///
/// Searches the files git tracks or would add (or, without git, every file outside build
/// and dependency folders), never the targets themselves. Keys are named by fingerprint.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden scan\n  keywarden scan --history --fail-on high\n  keywarden scan --sarif > keywarden.sarif"
)]
pub struct Args {
    /// Also search every commit of the git history for the keys keywarden knows.
    #[arg(long)]
    history: bool,
    /// Print the findings as JSON.
    #[arg(long, conflicts_with = "sarif")]
    json: bool,
    /// Print the findings as SARIF 2.1.0.
    #[arg(long)]
    sarif: bool,
    /// Exit 1 when a finding is at least this severe (without it, scan is a view: exit 0).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let scanned = crate::scanning::scan::scan(&opened.project, &opened.pepper, args.history)?;
    let findings = scanned.findings;
    if let Some(n) = &scanned.not_searched {
        eprintln!("keywarden: warning: {}", n.message());
    }
    if args.sarif {
        let refs: Vec<&Finding> = findings.iter().collect();
        output::print_json(&sarif::report_findings(&refs))?;
    } else if args.json {
        output::print_json(&serde_json::json!({
            "findings": findings,
            "not_searched": scanned.not_searched,
        }))?;
    } else {
        let style = Style::detect();
        let mut text = String::new();
        for f in &findings {
            text.push_str(&output::finding_lines(f, style, ""));
        }
        text.push_str(&format!(
            "{}{}\n",
            output::summary(&findings),
            if args.history {
                " (files and git history)"
            } else {
                " (files; --history adds git history)"
            }
        ));
        output::emit(&text)?;
    }
    Ok(match (args.fail_on, worst(&findings)) {
        (Some(gate), Some(w)) if w >= gate => exit::FAILED,
        _ => exit::OK,
    })
}
