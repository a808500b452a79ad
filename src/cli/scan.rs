//! `keywarden scan`: keys in source files and git history.

use super::common;
use super::output::{self, Style};
use super::sarif;
use crate::error::{Error, Result, exit};
use crate::finding::{Finding, Severity, worst};
use crate::scanning::baseline;
use crate::scanning::scan::{Files, History};
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
    /// Also search the git history: every object of the repository (every ref, merges,
    /// unreachable objects, binary files) for the keys keywarden knows and for
    /// hard-coded literals, each reported at the commit that added it.
    #[arg(long)]
    history: bool,
    /// Search what is staged for the next commit instead of the work tree, targets
    /// included (the pre-commit hook): a key pasted into a file and `git add`ed is caught
    /// before it is committed.
    #[arg(long, conflicts_with = "history")]
    staged: bool,
    /// With --history: only what the refs reach and REV does not (incremental CI runs).
    #[arg(long, value_name = "REV", requires = "history")]
    since: Option<String>,
    /// Print the findings as JSON.
    #[arg(long, conflicts_with = "sarif")]
    json: bool,
    /// Print the findings as SARIF 2.1.0.
    #[arg(long)]
    sarif: bool,
    /// Exit 1 when a finding is at least this severe (without it, scan is a view: exit 0).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Write the baseline, `.keywarden-scan.toml`, to accept every hard-coded literal found
    /// now (KW201): reasons already given are kept, new entries say `accepted on DATE — say
    /// why`, entries that match nothing are dropped. Keys keywarden manages are never
    /// written to it.
    #[arg(long, conflicts_with = "no_baseline")]
    update_baseline: bool,
    /// Report every finding, ignoring `.keywarden-scan.toml`.
    #[arg(long)]
    no_baseline: bool,
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    let opened = common::open(project)?;
    let depth = match (&args.since, args.history) {
        (Some(rev), _) => History::Since(rev),
        (None, true) => History::All,
        (None, false) => History::No,
    };
    let files = if args.staged {
        Files::Staged
    } else {
        Files::Tree
    };
    let report = crate::scanning::scan::scan(&opened.project, &opened.pepper, files, depth)?;
    let root = &opened.project.root;
    let old = if args.no_baseline {
        None
    } else {
        baseline::load(root)?
    };
    if args.update_baseline {
        let today = opened
            .project
            .context
            .now()
            .strftime("%Y-%m-%d")
            .to_string();
        let entries = baseline::updated(old.as_ref(), &report.findings, &today);
        let path = baseline::write(root, &entries)?;
        eprintln!(
            "keywarden: wrote {} ({} accepted finding(s)); give each new entry its reason, then commit it",
            path.display(),
            entries.len()
        );
    }
    let applied = if args.update_baseline {
        let now = baseline::load(root)?;
        baseline::apply(now.as_ref(), report.findings)
    } else {
        baseline::apply(old.as_ref(), report.findings)
    };
    let findings = applied.reported;
    let accepted = applied.accepted;
    for e in &applied.stale {
        eprintln!(
            "keywarden: warning: {}:{}: the accepted {} in {} ({}) matches no finding now: delete the entry (`scan --update-baseline` drops it)",
            baseline::FILE,
            e.line,
            e.code,
            e.path,
            e.fingerprint
        );
    }
    if let Some(n) = &report.not_searched {
        eprintln!("keywarden: warning: {}", n.message());
    }
    let incomplete = report.history.as_ref().and_then(|c| c.incomplete.clone());
    if args.sarif {
        let refs: Vec<&Finding> = findings.iter().collect();
        let mut gaps: Vec<String> = incomplete
            .iter()
            .map(|why| format!("the git history was not fully searched: {why}"))
            .collect();
        if let Some(n) = &report.not_searched {
            gaps.push(n.message());
        }
        let suppressed: Vec<(&Finding, &str)> = accepted
            .iter()
            .map(|a| (&a.finding, a.reason.as_str()))
            .collect();
        output::print_json(&sarif::report_findings_suppressed(
            &refs,
            &suppressed,
            &gaps,
        ))?;
    } else if args.json {
        output::print_json(&serde_json::json!({
            "findings": findings,
            "not_searched": report.not_searched,
            "history": report.history,
            "accepted": { "count": accepted.len(), "findings": accepted },
            "stale_baseline_entries": applied.stale,
        }))?;
    } else {
        let style = Style::detect();
        let mut text = String::new();
        for f in &findings {
            text.push_str(&output::finding_lines(f, style, ""));
        }
        let scope = match &report.history {
            Some(c) => format!(
                " (files, and git history: {} blobs, {} MB, {} commits of {} refs)",
                c.blobs,
                c.bytes / 1_000_000,
                c.commits,
                c.refs
            ),
            None if args.staged => " (what is staged for the next commit)".to_string(),
            None => " (files; --history adds git history)".to_string(),
        };
        text.push_str(&format!("{}{scope}\n", output::summary(&findings)));
        if !accepted.is_empty() {
            text.push_str(&format!(
                "{} finding(s) accepted by {} (--no-baseline shows them)\n",
                accepted.len(),
                baseline::FILE
            ));
        }
        output::emit(&text)?;
    }
    if let Some(why) = incomplete {
        return Err(Error::Failed(format!(
            "the git history was not fully searched: {why}; the findings above cover only \
             what was read. Repair the repository (`git fsck`, or fetch the missing objects) \
             and scan again"
        )));
    }
    Ok(match (args.fail_on, worst(&findings)) {
        (Some(gate), Some(w)) if w >= gate => exit::FAILED,
        _ => exit::OK,
    })
}
